import ArgumentParser
import Eddy
import EddyServer
import Foundation
import Logging
import ServiceLifecycle

/// `eddy triggers …`: list, add and remove trigger mappings that need no Swift code (Kafka sinks, derivative
/// tables), in a data directory or in a running server (its admin API).
struct Triggers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, add and remove trigger mappings that need no Swift code: Kafka sinks, search indexes and derivative tables.",
        discussion: """
            With --endpoint-url the requests go to a running eddy serve (its admin API, /eddy/2026-12-01/triggers), \
            which runs what is added at once, and again after each restart until it is removed. With --data-dir \
            they change the data directory, and eddy serve runs what was added when it next opens it.
            """,
        subcommands: [
            List.self, Describe.self, Progress.self, Add.self, Remove.self, Enable.self, Disable.self, AddKafka.self, AddSearch.self,
        ]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List every trigger mapping: Kafka, Elasticsearch, Derivative, Function (Lambda's event source mappings) and Handler (Swift) ones.")
        @OptionGroup var target: TargetOptions

        func run() async throws {
            let connection = try target.connect()
            try await runOperation("ListTriggers") {
                try printJSON(try await connection.admin("GET", ["triggers"]) { db in
                    try await withDeclaredTriggers(db) { TriggerList(triggers: try $0.list()) }
                })
            }
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Describe one trigger mapping.")
        @OptionGroup var target: TargetOptions
        @Argument(help: "The mapping's name or UUID.") var name: String

        func run() async throws {
            let connection = try target.connect()
            try await runOperation("GetTrigger") {
                try printJSON(try await connection.admin("GET", ["triggers", name]) { db in
                    try await withDeclaredTriggers(db) { try $0.describe(name) }
                })
            }
        }
    }

    struct Progress: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Follow a mapping's initial snapshot (Snapshot: true) with a progress bar until it is complete.")
        @OptionGroup var target: TargetOptions
        @Argument(help: "The mapping's name or UUID.") var name: String
        @Option(help: "Milliseconds between two looks.") var intervalMs: Int = 500

        func run() async throws {
            let connection = try target.connect()
            try await runOperation("GetTrigger") {
                while true {
                    let mapping: TriggerDescription = try await connection.admin("GET", ["triggers", name]) { db in
                        try await withDeclaredTriggers(db) { try $0.describe(name) }
                    }
                    guard let progress = mapping.snapshotProgress else {
                        throw EddyError.validation("Trigger mapping \(name) has no snapshot (its Snapshot setting is off)")
                    }
                    FileHandle.standardError.write(Data(("\r" + Self.bar(progress)).utf8))
                    if progress.complete {
                        FileHandle.standardError.write(Data("\n".utf8))
                        return
                    }
                    try await Task.sleep(for: .milliseconds(max(10, intervalMs)))
                }
            }
        }

        /// `[##########----------]  50% 500/1000 items`, or `... complete`.
        static func bar(_ progress: TriggerSnapshotProgress) -> String {
            let width = 30
            let fraction = progress.complete ? 1 : progress.itemsTotal == 0 ? 0 : min(1, Double(progress.itemsDone) / Double(progress.itemsTotal))
            let filled = Int((fraction * Double(width)).rounded(.down))
            let digits = String(Int((fraction * 100).rounded(.down)))
            let percent = String(repeating: " ", count: max(0, 3 - digits.count)) + digits
            let state = progress.complete ? ", complete: following the stream" : ""
            return "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] "
                + "\(percent)% \(progress.itemsDone)/\(progress.itemsTotal) items\(state)"
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a Kafka sink, a search index or a derivative table.",
            discussion: """
                The declaration is one entry of eddy serve's configuration file's Triggers, as JSON, e.g.
                {"Name":"copies","TableName":"Orders","Derivative":{"TargetTable":"OrderCopies","Copy":{}}}
                {"Name":"orders-to-kafka","TableName":"Orders","BatchSize":100,
                 "Kafka":{"Topic":"orders","BootstrapServers":"127.0.0.1:9092","CreateTopicPartitions":3}}
                {"Name":"orders-to-search","TableName":"Orders",
                 "Elasticsearch":{"Endpoint":"http://127.0.0.1:9200","Index":"orders"}}
                A mapping to a function is made with Lambda's CreateEventSourceMapping \
                (aws lambda create-event-source-mapping).
                """)
        @OptionGroup var target: TargetOptions
        @Option(help: "The declaration JSON, or file://PATH; standard input when absent.") var cliInputJson: String?

        func run() async throws {
            let connection = try target.connect()
            try await runOperation("AddTrigger") {
                try printJSON(try await Triggers.add(try readRequest(cliInputJson, as: DeclaredTrigger.self), with: connection))
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a trigger mapping: it stops, its checkpoints are deleted, its Kafka sink closes.",
            discussion: """
                Refused for a mapping to a function (Lambda's DeleteEventSourceMapping removes those) and, on a \
                server, for one of its configuration file (take it out of the file instead).
                """)
        @OptionGroup var target: TargetOptions
        @Argument(help: "The mapping's name or UUID.") var name: String

        func run() async throws {
            let connection = try target.connect()
            try await runOperation("RemoveTrigger") {
                try printJSON(try await connection.admin("DELETE", ["triggers", name]) { db in
                    try await withDeclaredTriggers(db) { try await $0.remove(name) }
                })
            }
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start a disabled trigger mapping again from its checkpoints.")
        @OptionGroup var target: TargetOptions
        @Argument(help: "The mapping's name or UUID.") var name: String

        func run() async throws {
            let connection = try target.connect()
            try await runOperation("EnableTrigger") {
                try printJSON(try await connection.admin("POST", ["triggers", name, "enable"]) { db in
                    try await withDeclaredTriggers(db) { try await $0.enable(name) }
                })
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop a trigger mapping, keeping its checkpoints.")
        @OptionGroup var target: TargetOptions
        @Argument(help: "The mapping's name or UUID.") var name: String

        func run() async throws {
            let connection = try target.connect()
            try await runOperation("DisableTrigger") {
                try printJSON(try await connection.admin("POST", ["triggers", name, "disable"]) { db in
                    try await withDeclaredTriggers(db) { try await $0.disable(name) }
                })
            }
        }
    }

    struct AddKafka: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-kafka",
            abstract: "Stream a table's changes to a Kafka topic: here until SIGINT or SIGTERM, or in a running server.",
            discussion: """
                Registers (or takes up again, with its checkpoints) the trigger mapping NAME from the table's \
                stream to TOPIC, then runs it: each change becomes one message whose value is the JSON Kinesis \
                Data Streams for DynamoDB delivers (or, with --format debezium, a Debezium change event), keyed \
                by the item's partition key (or, with --key primary-key, its whole primary key), with headers \
                eddy-table, eddy-shard-id and eddy-sequence-number; with --tombstones a delete's message is \
                followed by a tombstone. The checkpoint advances once the broker has \
                acknowledged a batch, so a restart resends at most the batches in flight (at least once). A \
                data directory is open in one process at a time: run the sink while nothing else has it open, \
                or add it to the server that has it open with --endpoint-url, which runs it from then on (also \
                after a restart, until eddy triggers remove) and prints the new mapping.
                """)
        @OptionGroup var target: TargetOptions
        @Argument(help: "The table whose stream is read (its latest stream).") var tableName: String
        @Option(help: "The Kafka topic the changes go to.") var topic: String
        @Option(help: "The Kafka brokers to connect to first (librdkafka's bootstrap.servers).")
        var bootstrapServers: String
        @Option(help: "The mapping's name (default: <table>-to-<topic>).") var name: String?
        @Option(name: .customLong("property"), help: "A librdkafka producer property, NAME=VALUE (repeatable).")
        var properties: [String] = []
        @Option(help: "Create the topic with this many partitions if the cluster does not have it.")
        var createTopicPartitions: Int?
        @OptionGroup var mapping: MappingOptions
        @Option(help: "Seconds to wait for the brokers at start.") var connectTimeout: Int = 10
        @Option(help: "Each message's value: kinesis (Kinesis Data Streams for DynamoDB's record) or debezium (a Debezium change event).")
        var format: Format = .kinesis
        @Option(help: "Each message's key: partition-key, or primary-key (partition and sort key as JSON: one key per item).")
        var key: Key = .partitionKey
        @Flag(help: "Follow each delete's message with a tombstone (same key, null value), for compacted topics.")
        var tombstones = false

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case kinesis, debezium
        }

        enum Key: String, ExpressibleByArgument, CaseIterable {
            case partitionKey = "partition-key"
            case primaryKey = "primary-key"
        }

        func run() async throws {
            var producerSettings: [String: String] = [:]
            for property in properties {
                guard let equals = property.firstIndex(of: "="), equals != property.startIndex else {
                    throw ValidationError("--property takes NAME=VALUE, not \(property)")
                }
                producerSettings[String(property[..<equals])] = String(property[property.index(after: equals)...])
            }
            try await Triggers.addOrRun(
                origin: .addKafkaCommand, connection: try target.connect(), connectTimeout: connectTimeout,
                declaration: { () throws(EddyError) in try declaration(producerSettings) }
            ) { mapping in
                "Sending the changes of table \(tableName) to Kafka topic \(topic) at \(bootstrapServers) (mapping \(mapping.name), \(mapping.uuid)); SIGINT or SIGTERM stops."
            }
        }

        /// The mapping the options declare.
        private func declaration(_ producerSettings: [String: String]) throws(EddyError) -> DeclaredTrigger {
            var trigger = DeclaredTrigger(
                name: name ?? "\(tableName)-to-\(topic)", tableName: tableName,
                kafka: KafkaTarget(
                    topic: topic, bootstrapServers: bootstrapServers, properties: producerSettings.isEmpty ? nil : producerSettings,
                    createTopicPartitions: createTopicPartitions, format: format == .debezium ? .debezium : nil,
                    key: key == .primaryKey ? .primaryKey : nil, tombstones: tombstones ? true : nil))
            try mapping.apply(to: &trigger)
            return trigger
        }
    }

    struct AddSearch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-search",
            abstract: "Stream a table into an Elasticsearch or OpenSearch index: here until SIGINT or SIGTERM, or in a running server.",
            discussion: """
                Registers (or takes up again, with its checkpoints) the trigger mapping NAME from the table's \
                stream to INDEX of the cluster at ENDPOINT (created with a mapping if missing), then runs it: \
                each item is one document, its _id made from the primary key and its source the item as plain \
                JSON; a REMOVE deletes it. Every write carries the change's sequence number as an external \
                version, so a change sent again or out of order never brings back an older image. The \
                checkpoint advances once Elasticsearch has answered for a batch. A data directory is open in \
                one process at a time: run the sink while nothing else has it open, or add it to the server \
                that has it open with --endpoint-url, which runs it from then on (also after a restart, until \
                eddy triggers remove) and prints the new mapping.
                """)
        @OptionGroup var target: TargetOptions
        @Argument(help: "The table whose stream is read (its latest stream).") var tableName: String
        @Option(help: "The cluster's URL, http://host:port.") var elasticsearchEndpoint: String
        @Option(help: "The index the documents go to.") var index: String
        @Option(help: "The mapping's name (default: <table>-to-<index>).") var name: String?
        @OptionGroup var mapping: MappingOptions

        func run() async throws {
            try await Triggers.addOrRun(
                origin: .addSearchCommand, connection: try target.connect(), connectTimeout: 10,
                declaration: { () throws(EddyError) in
                    var trigger = DeclaredTrigger(
                        name: name ?? "\(tableName)-to-\(index)", tableName: tableName,
                        elasticsearch: ElasticsearchTarget(endpoint: elasticsearchEndpoint, index: index))
                    try mapping.apply(to: &trigger)
                    return trigger
                }
            ) { mapping in
                "Indexing the items of table \(tableName) into index \(index) at \(elasticsearchEndpoint) (mapping \(mapping.name), \(mapping.uuid)); SIGINT or SIGTERM stops."
            }
        }
    }

    /// The settings of a mapping that `add-kafka` and `add-search` take.
    struct MappingOptions: ParsableArguments {
        @Option(help: "Where a new mapping starts: trim-horizon or latest.") var startingPosition: StartingPosition = .trimHorizon
        @Option(help: "Records per batch (1 to 10000).") var batchSize: Int?
        @Option(help: "Seconds to gather a batch (0 to 300).") var maximumBatchingWindowInSeconds: Int?
        @Option(help: "Concurrent batches per shard (1 to 10).") var parallelizationFactor: Int?
        @Option(help: "Retries of a failing batch (-1: until its records expire).") var maximumRetryAttempts: Int?
        @Option(help: "Records older than this are dropped (-1: no limit, or 60 to 604800).") var maximumRecordAgeInSeconds: Int?
        @Option(name: .customLong("filter"), help: "A Lambda event filter pattern (repeatable, at most 5).")
        var filters: [String] = []
        @Flag(help: "Begin with a snapshot of the table: every item (an INSERT; a Debezium read, op r), then the changes from where it was read.")
        var snapshot = false

        enum StartingPosition: String, ExpressibleByArgument {
            case trimHorizon = "trim-horizon"
            case latest
        }

        /// Sets these settings on `trigger`.
        func apply(to trigger: inout DeclaredTrigger) throws(EddyError) {
            trigger.startingPosition = startingPosition == .latest ? .latest : .trimHorizon
            trigger.batchSize = batchSize
            trigger.snapshot = snapshot ? true : nil
            trigger.maximumBatchingWindowInSeconds = maximumBatchingWindowInSeconds
            trigger.parallelizationFactor = parallelizationFactor
            trigger.maximumRetryAttempts = maximumRetryAttempts
            trigger.maximumRecordAgeInSeconds = maximumRecordAgeInSeconds
            if !filters.isEmpty { trigger.filterCriteria = try FilterCriteria(patterns: filters) }
        }
    }

    /// Adds the mapping `declaration` makes to the server of `connection` and prints it; or, on a data
    /// directory, registers it from `origin` and runs it here (its sinks waiting at most `connectTimeout`
    /// seconds at start), after printing `announcement`, until SIGINT or SIGTERM.
    static func addOrRun(
        origin: TriggerOrigin, connection: Connection, connectTimeout: Int, declaration: () throws(EddyError) -> DeclaredTrigger,
        announcement: (TriggerDescription) -> String
    ) async throws {
        var runningHere: (runtime: TriggerRuntime, declared: DeclaredTriggers, mapping: TriggerDescription)?
        try await runOperation("AddTrigger") {
            let trigger = try declaration()
            guard case .database(let db) = connection else {
                try printJSON(try await Triggers.add(trigger, with: connection))
                return
            }
            let runtime = TriggerRuntime(database: db)
            let declared = DeclaredTriggers(runtime: runtime, connectTimeout: .seconds(connectTimeout))
            runningHere = (runtime, declared, try await declared.register(trigger, origin: origin))
        }
        guard let (runtime, declared, mapping) = runningHere else { return }
        FileHandle.standardOutput.write(Data((announcement(mapping) + "\n").utf8))
        let group = ServiceGroup(
            services: [declared, runtime], gracefulShutdownSignals: [.sigterm, .sigint],
            logger: Logger(label: "eddy.triggers"))
        try await group.run()
        print("Stopped: every acknowledged batch is checkpointed.")
    }

    /// Adds `trigger` through `connection`: to the server, or to the data directory.
    static func add(_ trigger: DeclaredTrigger, with connection: Connection) async throws -> TriggerDescription {
        try await connection.admin("POST", ["triggers"], body: trigger) { db in
            try await withDeclaredTriggers(db) { try await $0.add(trigger) }
        }
    }
}

/// Runs `body` with the declared trigger mappings of the data directory `db`, whose runtime does not run
/// here: what is added runs when `eddy serve` next opens the directory. A Kafka sink made for an addition
/// (which checks its brokers and topic) is closed before it returns.
private func withDeclaredTriggers<Output: Sendable>(
    _ db: Database, _ body: (DeclaredTriggers) async throws -> Output
) async throws -> Output {
    let declared = DeclaredTriggers(runtime: TriggerRuntime(database: db))
    let sinks = Task { await declared.run() }
    let result: Result<Output, any Error>
    do {
        result = .success(try await body(declared))
    } catch {
        result = .failure(error)
    }
    sinks.cancel()
    await sinks.value
    return try result.get()
}
