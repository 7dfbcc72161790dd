import ArgumentParser
import Eddy
import EddyKafka
import Foundation
import Logging
import ServiceLifecycle

/// `eddy triggers …`: run trigger mappings that need no Swift code.
struct Triggers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run trigger mappings that need no Swift code.",
        subcommands: [AddKafka.self]
    )

    struct AddKafka: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-kafka",
            abstract: "Stream a table's changes to a Kafka topic, until SIGINT or SIGTERM.",
            discussion: """
                Registers (or takes up again, with its checkpoints) the trigger mapping NAME from the table's \
                stream to TOPIC, then runs it: each change becomes one message whose value is the JSON Kinesis \
                Data Streams for DynamoDB delivers, keyed by the item's partition key, with headers eddy-table, \
                eddy-shard-id and eddy-sequence-number. The checkpoint advances once the broker has \
                acknowledged a batch, so a restart resends at most the batches in flight (at least once). A \
                data directory is open in one process at a time: run the sink while nothing else has it open, \
                or use the embedded API (TriggerRuntime.registerKafka) in the process that writes.
                """)
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The table whose stream is read (its latest stream).") var tableName: String
        @Option(help: "The Kafka topic the changes go to.") var topic: String
        @Option(help: "The Kafka brokers to connect to first (librdkafka's bootstrap.servers).")
        var bootstrapServers: String
        @Option(help: "The mapping's name (default: <table>-to-<topic>).") var name: String?
        @Option(name: .customLong("property"), help: "A librdkafka producer property, NAME=VALUE (repeatable).")
        var properties: [String] = []
        @Option(help: "Create the topic with this many partitions if the cluster does not have it.")
        var createTopicPartitions: Int?
        @Option(help: "Where a new mapping starts: trim-horizon or latest.") var startingPosition: StartingPosition = .trimHorizon
        @Option(help: "Records per batch (1 to 10000).") var batchSize: Int?
        @Option(help: "Seconds to gather a batch (0 to 300).") var maximumBatchingWindowInSeconds: Int?
        @Option(help: "Concurrent batches per shard (1 to 10).") var parallelizationFactor: Int?
        @Option(help: "Retries of a failing batch (-1: until its records expire).") var maximumRetryAttempts: Int?
        @Option(help: "Records older than this are dropped (-1: no limit, or 60 to 604800).") var maximumRecordAgeInSeconds: Int?
        @Option(name: .customLong("filter"), help: "A Lambda event filter pattern (repeatable, at most 5).")
        var filters: [String] = []
        @Option(help: "Seconds to wait for the brokers at start.") var connectTimeout: Int = 10

        enum StartingPosition: String, ExpressibleByArgument {
            case trimHorizon = "trim-horizon"
            case latest
        }

        func run() async throws {
            var producerSettings = ["bootstrap.servers": bootstrapServers]
            for property in properties {
                guard let equals = property.firstIndex(of: "="), equals != property.startIndex else {
                    throw ValidationError("--property takes NAME=VALUE, not \(property)")
                }
                producerSettings[String(property[..<equals])] = String(property[property.index(after: equals)...])
            }
            let db = try database.open()
            let (runtime, sink, mapping) = try await start(db, producerSettings)
            FileHandle.standardOutput.write(Data(
                "Sending the changes of table \(tableName) to Kafka topic \(topic) at \(bootstrapServers) (mapping \(mapping.name), \(mapping.uuid)); SIGINT or SIGTERM stops.\n".utf8))
            let group = ServiceGroup(
                services: [sink, runtime], gracefulShutdownSignals: [.sigterm, .sigint],
                logger: Logger(label: "eddy.triggers.add-kafka"))
            try await group.run()
            print("Stopped: every acknowledged batch is checkpointed.")
        }

        /// Checks the brokers and the topic (creating it if asked), then registers the mapping.
        private func start(_ db: Database, _ producerSettings: [String: String]) async throws -> (TriggerRuntime, KafkaSink, TriggerMapping) {
            let timeout = Duration.seconds(connectTimeout)
            let sink: KafkaSink
            do throws(KafkaError) {
                if let partitions = createTopicPartitions {
                    sink = try await KafkaSink.creatingTopic(
                        configuration: producerSettings, topic: topic, partitions: partitions, timeout: timeout)
                } else {
                    sink = try await KafkaSink(configuration: producerSettings, topic: topic, timeout: timeout)
                }
            } catch {
                FileHandle.standardError.write(Data("Kafka: \(error.message)\n".utf8))
                throw ExitCode(1)
            }
            let runtime = TriggerRuntime(database: db)
            var mapping: TriggerMapping?
            try await runOperation("CreateEventSourceMapping") {
                guard let arn = try await db.describeTable(tableName: tableName).latestStreamArn else {
                    throw EddyError.validation("Table \(tableName) has no stream: enable one with UpdateTable first")
                }
                var settings = TriggerMappingConfiguration(
                    eventSourceArn: arn, startingPosition: startingPosition == .latest ? .latest : .trimHorizon)
                settings.batchSize = batchSize
                settings.maximumBatchingWindowInSeconds = maximumBatchingWindowInSeconds
                settings.parallelizationFactor = parallelizationFactor
                settings.maximumRetryAttempts = maximumRetryAttempts
                settings.maximumRecordAgeInSeconds = maximumRecordAgeInSeconds
                if !filters.isEmpty { settings.filterCriteria = try FilterCriteria(patterns: filters) }
                mapping = try await runtime.registerKafka(name: name ?? "\(tableName)-to-\(topic)", configuration: settings, sink: sink)
            }
            return (runtime, sink, mapping!)
        }
    }
}
