import Eddy
import EddyFunctions
import EddyKafka
import EddySearch
import Foundation
import ServiceLifecycle
import Yams

/// What `eddy serve --config FILE` sets up: tables to create if missing (CreateTable requests) and the trigger
/// mappings to run without Swift code, in YAML or JSON (member names as DynamoDB's CreateTable and Lambda's
/// CreateEventSourceMapping):
///
/// ```yaml
/// Tables:
///   - TableName: Orders
///     KeySchema: [{ AttributeName: id, KeyType: HASH }]
///     AttributeDefinitions: [{ AttributeName: id, AttributeType: S }]
///     BillingMode: PAY_PER_REQUEST
///     StreamSpecification: { StreamEnabled: true, StreamViewType: NEW_AND_OLD_IMAGES }
/// Triggers:
///   - Name: orders-to-kafka
///     TableName: Orders              # its latest stream
///     StartingPosition: TRIM_HORIZON # or LATEST (the default is TRIM_HORIZON)
///     BatchSize: 100
///     Kafka: { Topic: orders, BootstrapServers: "127.0.0.1:9092", Properties: { linger.ms: "1" } }
///   - Name: orders-to-analytics
///     TableName: Orders
///     Snapshot: true                 # first every item of the table (Debezium reads), then its changes
///     Kafka:                         # Debezium change events, one key per item, tombstones after deletes
///       { Topic: orders-cdc, BootstrapServers: "127.0.0.1:9092", Format: Debezium, Key: PrimaryKey, Tombstones: true }
///   - Name: orders-to-search
///     TableName: Orders
///     Elasticsearch: { Endpoint: "http://127.0.0.1:9200", Index: orders }
///   - Name: customer-totals
///     TableName: Orders
///     Derivative:
///       TargetTable: CustomerTotals
///       Sum: { GroupBy: { customer: customer }, Of: total, Into: spent }
///   - Name: order-mails
///     TableName: Orders
///     Function: mailer                 # a function of Functions below, or one created through Lambda's API
///     FunctionResponseTypes: [ReportBatchItemFailures]
///     DestinationConfig: { OnFailure: { Destination: "arn:aws:dynamodb:us-east-1:000000000000:table/Failed" } }
/// Functions:
///   - FunctionName: mailer
///     Runtime: python3.12
///     Handler: app.handler
///     CodeDirectory: functions/mailer  # relative to this file; zipped when the server starts
///     Timeout: 10
/// ```
///
/// A declared function is created when the server starts, or updated to its declaration if it exists; a
/// trigger with `Function` is an event source mapping to it (Lambda's API lists it).
///
/// A derivative mapping does one of `Copy` (the target holds each item's latest image), `Project` (the
/// listed attributes of it), `Count` (per group, the number of items: `Into` goes up by one when an item
/// enters the group, down by one when it leaves) or `Sum` (per group, the total of the number `Of` across
/// its items). `GroupBy` maps each key attribute of the target table to the source attribute it takes its
/// value from. The runtime applies each change exactly once.
public struct ServeConfiguration: Decodable, Sendable {
    public var tables: [CreateTableInput]
    public var triggers: [DeclaredTrigger]
    public var functions: [DeclaredFunction]
    /// The directory of the file, which code directories are relative to.
    public var baseDirectory = "."

    enum CodingKeys: String, CodingKey { case tables = "Tables", triggers = "Triggers", functions = "Functions" }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        tables = try container.decodeIfPresent([CreateTableInput].self, forKey: .tables) ?? []
        triggers = try container.decodeIfPresent([DeclaredTrigger].self, forKey: .triggers) ?? []
        functions = try container.decodeIfPresent([DeclaredFunction].self, forKey: .functions) ?? []
    }

    /// The declarations of the YAML or JSON file at `path`.
    ///
    /// - Throws: `ValidationException` naming the file and what is wrong with it.
    public static func read(_ path: String) throws(EddyError) -> ServeConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .validation("The configuration file \(path) cannot be read: \(error.localizedDescription)")
        }
        do {
            var configuration = try YAMLDecoder().decode(ServeConfiguration.self, from: text)
            configuration.baseDirectory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            return configuration
        } catch let error as EddyError {
            throw error
        } catch {
            throw .validation("The configuration file \(path) is not a valid trigger declaration: \(error)")
        }
    }

    /// Creates the declared tables that `database` does not have yet (an existing table is left as it is).
    public func createTables(in database: Database) async throws(EddyError) {
        for table in tables {
            do {
                try await database.createTable(table)
            } catch {
                guard case .resourceInUse = error else { throw error }
            }
        }
    }

    /// Creates the declared functions, or updates those that exist to their declaration (code and settings).
    public func declareFunctions(in functions: Functions) async throws {
        for function in self.functions {
            try await function.declare(in: functions, baseDirectory: baseDirectory)
        }
    }

    /// Registers every declared mapping: Kafka sinks and derivative tables with `declared` (creating Kafka
    /// topics where asked), mappings to functions with `mappings`.
    public func register(with declared: DeclaredTriggers, mappings: EventSourceMappings? = nil) async throws {
        for trigger in triggers {
            if let function = trigger.function {
                guard let mappings else {
                    throw EddyError.validation("Trigger \(trigger.name) names function \(function), but no functions are served")
                }
                try await mappings.declare(
                    name: trigger.name, configuration: try await trigger.mappingConfiguration(in: declared.runtime.database),
                    function: function, onFailure: trigger.destinationConfig?.onFailure?.destination)
            } else {
                try await declared.register(trigger, origin: .configurationFile)
            }
        }
    }
}

/// One declared mapping: its name, source table, Lambda's batching settings, and where the changes go. Its JSON
/// is an entry of the configuration file's `Triggers`, and the body of the admin API's `POST
/// /eddy/2026-12-01/triggers` (see ``DeclaredTriggers``).
public struct DeclaredTrigger: Codable, Sendable, Equatable {
    public var name: String
    public var tableName: String
    public var startingPosition: TriggerStartingPosition?
    public var batchSize: Int?
    public var maximumBatchingWindowInSeconds: Int?
    public var parallelizationFactor: Int?
    public var maximumRetryAttempts: Int?
    public var maximumRecordAgeInSeconds: Int?
    public var bisectBatchOnFunctionError: Bool?
    public var filterCriteria: FilterCriteria?
    public var functionResponseTypes: [FunctionResponseType]?
    public var tumblingWindowInSeconds: Int?
    /// Whether the mapping begins with a snapshot of the table (``TriggerMappingConfiguration/snapshot``).
    public var snapshot: Bool?
    public var kafka: KafkaTarget?
    /// The search index the changes go to (see ``ElasticsearchTarget``).
    public var elasticsearch: ElasticsearchTarget?
    public var derivative: DerivativeMapping?
    /// The function the changes go to (an event source mapping).
    public var function: String?
    /// Where a function mapping sends the records it drops: a table or function ARN of this server.
    public var destinationConfig: DestinationConfig?

    enum CodingKeys: String, CodingKey {
        case name = "Name", tableName = "TableName", startingPosition = "StartingPosition", batchSize = "BatchSize"
        case maximumBatchingWindowInSeconds = "MaximumBatchingWindowInSeconds"
        case parallelizationFactor = "ParallelizationFactor", maximumRetryAttempts = "MaximumRetryAttempts"
        case maximumRecordAgeInSeconds = "MaximumRecordAgeInSeconds", bisectBatchOnFunctionError = "BisectBatchOnFunctionError"
        case filterCriteria = "FilterCriteria", kafka = "Kafka", derivative = "Derivative", function = "Function"
        case elasticsearch = "Elasticsearch"
        case functionResponseTypes = "FunctionResponseTypes", tumblingWindowInSeconds = "TumblingWindowInSeconds"
        case destinationConfig = "DestinationConfig", snapshot = "Snapshot"
    }

    /// A mapping from table `tableName`'s latest stream to a Kafka topic, with Lambda's default settings.
    public init(name: String, tableName: String, kafka: KafkaTarget) {
        self.name = name
        self.tableName = tableName
        self.kafka = kafka
    }

    /// A mapping from table `tableName`'s latest stream to a search index, with Lambda's default settings.
    public init(name: String, tableName: String, elasticsearch: ElasticsearchTarget) {
        self.name = name
        self.tableName = tableName
        self.elasticsearch = elasticsearch
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        tableName = try container.decode(String.self, forKey: .tableName)
        startingPosition = try container.decodeIfPresent(TriggerStartingPosition.self, forKey: .startingPosition)
        batchSize = try container.decodeIfPresent(Int.self, forKey: .batchSize)
        maximumBatchingWindowInSeconds = try container.decodeIfPresent(Int.self, forKey: .maximumBatchingWindowInSeconds)
        parallelizationFactor = try container.decodeIfPresent(Int.self, forKey: .parallelizationFactor)
        maximumRetryAttempts = try container.decodeIfPresent(Int.self, forKey: .maximumRetryAttempts)
        maximumRecordAgeInSeconds = try container.decodeIfPresent(Int.self, forKey: .maximumRecordAgeInSeconds)
        bisectBatchOnFunctionError = try container.decodeIfPresent(Bool.self, forKey: .bisectBatchOnFunctionError)
        filterCriteria = try container.decodeIfPresent(FilterCriteria.self, forKey: .filterCriteria)
        do {
            kafka = try container.decodeIfPresent(KafkaTarget.self, forKey: .kafka)
        } catch let error as EddyError {
            throw EddyError.validation("Trigger \(name): \(error.message)")
        }
        elasticsearch = try container.decodeIfPresent(ElasticsearchTarget.self, forKey: .elasticsearch)
        derivative = try container.decodeIfPresent(DerivativeMapping.self, forKey: .derivative)
        function = try container.decodeIfPresent(String.self, forKey: .function)
        functionResponseTypes = try container.decodeIfPresent([FunctionResponseType].self, forKey: .functionResponseTypes)
        tumblingWindowInSeconds = try container.decodeIfPresent(Int.self, forKey: .tumblingWindowInSeconds)
        snapshot = try container.decodeIfPresent(Bool.self, forKey: .snapshot)
        destinationConfig = try container.decodeIfPresent(DestinationConfig.self, forKey: .destinationConfig)
        guard [kafka != nil, elasticsearch != nil, derivative != nil, function != nil].filter({ $0 }).count == 1 else {
            throw EddyError.validation("Trigger \(name) must have exactly one of Kafka, Elasticsearch, Derivative and Function")
        }
        guard function != nil || (functionResponseTypes == nil && tumblingWindowInSeconds == nil && destinationConfig == nil) else {
            throw EddyError.validation(
                "Trigger \(name): FunctionResponseTypes, TumblingWindowInSeconds and DestinationConfig are for function triggers")
        }
    }

    /// The mapping's settings, reading from the source table's latest stream.
    func mappingConfiguration(in database: Database) async throws(EddyError) -> TriggerMappingConfiguration {
        guard let arn = try await database.describeTable(tableName: tableName).latestStreamArn else {
            throw .validation("Trigger \(name): table \(tableName) has no stream")
        }
        var configuration = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: startingPosition ?? .trimHorizon)
        configuration.batchSize = batchSize
        configuration.maximumBatchingWindowInSeconds = maximumBatchingWindowInSeconds
        configuration.parallelizationFactor = parallelizationFactor
        configuration.maximumRetryAttempts = maximumRetryAttempts
        configuration.maximumRecordAgeInSeconds = maximumRecordAgeInSeconds
        configuration.bisectBatchOnFunctionError = bisectBatchOnFunctionError
        configuration.filterCriteria = filterCriteria
        configuration.functionResponseTypes = functionResponseTypes
        configuration.tumblingWindowInSeconds = tumblingWindowInSeconds
        configuration.snapshot = snapshot
        return configuration
    }
}

/// A declared function: CreateFunction's settings, with its code as a directory (relative to the
/// configuration file) instead of a zip.
public struct DeclaredFunction: Decodable, Sendable {
    public var functionName: String
    public var runtime: String
    public var handler: String
    public var codeDirectory: String
    public var timeout: Int?
    public var memorySize: Int?
    public var description: String?
    public var environment: FunctionEnvironment?
    public var reservedConcurrentExecutions: Int?

    enum CodingKeys: String, CodingKey {
        case functionName = "FunctionName", runtime = "Runtime", handler = "Handler", codeDirectory = "CodeDirectory"
        case timeout = "Timeout", memorySize = "MemorySize", description = "Description", environment = "Environment"
        case reservedConcurrentExecutions = "ReservedConcurrentExecutions"
    }

    /// Creates the function in `functions`, or brings the existing one to this declaration.
    func declare(in functions: Functions, baseDirectory: String) async throws {
        let directory = codeDirectory.hasPrefix("/") ? codeDirectory : "\(baseDirectory)/\(codeDirectory)"
        let zip = try FunctionCode.zip(directory: directory)
        if (try? functions.configuration(of: functionName)) == nil {
            var request = CreateFunctionRequest(
                functionName: functionName, runtime: runtime, handler: handler, zipFile: zip, timeout: timeout,
                environment: environment?.variables)
            request.memorySize = memorySize
            request.description = description
            _ = try await functions.create(request)
        } else {
            _ = try await functions.updateCode(functionName, UpdateFunctionCodeRequest(zipFile: zip))
            var update = UpdateFunctionConfigurationRequest(timeout: timeout ?? 3, environment: environment?.variables ?? [:])
            update.runtime = runtime
            update.handler = handler
            update.memorySize = memorySize ?? 128
            update.description = description ?? ""
            _ = try await functions.updateConfiguration(functionName, update)
        }
        if let reserved = reservedConcurrentExecutions {
            _ = try functions.putConcurrency(functionName, reserved)
        } else {
            try functions.deleteConcurrency(functionName)
        }
    }
}

/// A Kafka sink: the topic, the brokers, librdkafka producer properties, whether to create the topic, and the
/// messages' format (``KafkaMessageFormat``: `Format: Kinesis | Debezium`, `Key: PartitionKey | PrimaryKey`,
/// `Tombstones: true | false`; Kinesis, PartitionKey and false when absent).
public struct KafkaTarget: Codable, Sendable, Equatable {
    public var topic: String
    public var bootstrapServers: String
    public var properties: [String: String]?
    /// Creates the topic with this many partitions if the cluster does not have it.
    public var createTopicPartitions: Int?
    /// What each message's value holds.
    public var format: KafkaMessageFormat.Value?
    /// What each message's key holds.
    public var key: KafkaMessageFormat.Key?
    /// Whether each delete's message is followed by a tombstone.
    public var tombstones: Bool?

    public init(
        topic: String, bootstrapServers: String, properties: [String: String]? = nil, createTopicPartitions: Int? = nil,
        format: KafkaMessageFormat.Value? = nil, key: KafkaMessageFormat.Key? = nil, tombstones: Bool? = nil
    ) {
        self.topic = topic
        self.bootstrapServers = bootstrapServers
        self.properties = properties
        self.createTopicPartitions = createTopicPartitions
        self.format = format
        self.key = key
        self.tombstones = tombstones
    }

    enum CodingKeys: String, CodingKey {
        case topic = "Topic", bootstrapServers = "BootstrapServers", properties = "Properties"
        case createTopicPartitions = "CreateTopicPartitions", format = "Format", key = "Key", tombstones = "Tombstones"
    }

    /// Decodes the declaration; a `Format` or `Key` that is not one of the allowed values is a
    /// `ValidationException` naming the member and the allowed values.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        topic = try container.decode(String.self, forKey: .topic)
        bootstrapServers = try container.decode(String.self, forKey: .bootstrapServers)
        properties = try container.decodeIfPresent([String: String].self, forKey: .properties)
        createTopicPartitions = try container.decodeIfPresent(Int.self, forKey: .createTopicPartitions)
        format = try Self.decodeChoice(KafkaMessageFormat.Value.self, in: container, forKey: .format)
        key = try Self.decodeChoice(KafkaMessageFormat.Key.self, in: container, forKey: .key)
        tombstones = try container.decodeIfPresent(Bool.self, forKey: .tombstones)
    }

    /// The member `key` as one of `Choice`'s values, if present.
    private static func decodeChoice<Choice: RawRepresentable & CaseIterable>(
        _ type: Choice.Type, in container: KeyedDecodingContainer<CodingKeys>, forKey key: CodingKeys
    ) throws -> Choice? where Choice.RawValue == String {
        guard let text = try container.decodeIfPresent(String.self, forKey: key) else { return nil }
        guard let choice = Choice(rawValue: text) else {
            let allowed = Choice.allCases.map(\.rawValue).joined(separator: ", ")
            throw EddyError.validation(
                "1 validation error detected: Value '\(text)' at 'Kafka.\(key.rawValue)' failed to satisfy constraint: Member must satisfy enum value set: [\(allowed)]")
        }
        return choice
    }

    /// The messages' format the declaration asks for.
    var messageFormat: KafkaMessageFormat {
        KafkaMessageFormat(value: format ?? .kinesis, key: key ?? .partitionKey, tombstones: tombstones ?? false)
    }

    func sink(timeout: Duration) async throws(KafkaError) -> KafkaSink {
        let settings = (properties ?? [:]).merging(["bootstrap.servers": bootstrapServers]) { _, given in given }
        guard let partitions = createTopicPartitions else {
            return try await KafkaSink(configuration: settings, topic: topic, timeout: timeout)
        }
        return try await KafkaSink.creatingTopic(configuration: settings, topic: topic, partitions: partitions, timeout: timeout)
    }
}

/// A search-index sink: the Elasticsearch or OpenSearch cluster (`Endpoint`, `http://host:port`) and the index
/// the table's items go to, one document each (see `TriggerRuntime.registerSearch`).
public struct ElasticsearchTarget: Codable, Sendable, Equatable {
    public var endpoint: String
    public var index: String

    public init(endpoint: String, index: String) {
        self.endpoint = endpoint
        self.index = index
    }

    enum CodingKeys: String, CodingKey { case endpoint = "Endpoint", index = "Index" }

    /// The sink, its endpoint and index checked.
    func sink() throws(SearchSinkError) -> SearchSink {
        try SearchSink(endpoint: endpoint, index: index)
    }
}
