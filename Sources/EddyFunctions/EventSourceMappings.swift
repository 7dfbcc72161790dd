import Eddy
import Foundation

/// CreateEventSourceMapping's and UpdateEventSourceMapping's request body (the members a DynamoDB stream
/// source has).
public struct EventSourceMappingRequest: Decodable, Sendable {
    public var functionName: String?
    public var eventSourceArn: String?
    public var startingPosition: String?
    public var batchSize: Int?
    public var maximumBatchingWindowInSeconds: Int?
    public var parallelizationFactor: Int?
    public var maximumRetryAttempts: Int?
    public var maximumRecordAgeInSeconds: Int?
    public var bisectBatchOnFunctionError: Bool?
    public var functionResponseTypes: [String]?
    public var tumblingWindowInSeconds: Int?
    public var filterCriteria: FilterCriteria?
    public var enabled: Bool?
    public var destinationConfig: DestinationConfig?

    public init(functionName: String? = nil, eventSourceArn: String? = nil, startingPosition: String? = nil) {
        self.functionName = functionName
        self.eventSourceArn = eventSourceArn
        self.startingPosition = startingPosition
    }

    enum CodingKeys: String, CodingKey {
        case functionName = "FunctionName", eventSourceArn = "EventSourceArn", startingPosition = "StartingPosition"
        case batchSize = "BatchSize", maximumBatchingWindowInSeconds = "MaximumBatchingWindowInSeconds"
        case parallelizationFactor = "ParallelizationFactor", maximumRetryAttempts = "MaximumRetryAttempts"
        case maximumRecordAgeInSeconds = "MaximumRecordAgeInSeconds", bisectBatchOnFunctionError = "BisectBatchOnFunctionError"
        case functionResponseTypes = "FunctionResponseTypes", tumblingWindowInSeconds = "TumblingWindowInSeconds"
        case filterCriteria = "FilterCriteria", enabled = "Enabled", destinationConfig = "DestinationConfig"
    }
}

/// Where a mapping sends the records it drops (`DestinationConfig.OnFailure.Destination`). Lambda allows an
/// SNS topic, an SQS queue, an S3 bucket or a Kafka topic for stream sources, none of which Eddy serves; Eddy's
/// destinations are its own extensions: a table ARN of this server (one item per record, see
/// `TriggerFailureDestination.table`) or a function ARN (invoked asynchronously with Lambda's invocation record).
public struct DestinationConfig: Codable, Sendable, Equatable {
    public var onFailure: Destination?

    public struct Destination: Codable, Sendable, Equatable {
        public var destination: String?

        enum CodingKeys: String, CodingKey { case destination = "Destination" }
    }

    enum CodingKeys: String, CodingKey { case onFailure = "OnFailure" }
}

/// An event source mapping as Lambda's API shows it (`EventSourceMappingConfiguration`).
public struct EventSourceMappingConfiguration: Encodable, Sendable {
    public var uuid: String
    public var eventSourceMappingArn: String
    public var functionArn: String
    public var eventSourceArn: String
    public var startingPosition: String
    public var batchSize: Int
    public var maximumBatchingWindowInSeconds: Int
    public var parallelizationFactor: Int
    public var maximumRetryAttempts: Int
    public var maximumRecordAgeInSeconds: Int
    public var bisectBatchOnFunctionError: Bool
    public var functionResponseTypes: [String]
    public var tumblingWindowInSeconds: Int
    public var filterCriteria: FilterCriteria?
    public var destinationConfig: DestinationConfig
    public var state: String
    public var stateTransitionReason: String
    public var lastModified: Double
    public var lastProcessingResult: String

    enum CodingKeys: String, CodingKey {
        case uuid = "UUID", eventSourceMappingArn = "EventSourceMappingArn", functionArn = "FunctionArn"
        case eventSourceArn = "EventSourceArn", startingPosition = "StartingPosition", batchSize = "BatchSize"
        case maximumBatchingWindowInSeconds = "MaximumBatchingWindowInSeconds", parallelizationFactor = "ParallelizationFactor"
        case maximumRetryAttempts = "MaximumRetryAttempts", maximumRecordAgeInSeconds = "MaximumRecordAgeInSeconds"
        case bisectBatchOnFunctionError = "BisectBatchOnFunctionError", functionResponseTypes = "FunctionResponseTypes"
        case tumblingWindowInSeconds = "TumblingWindowInSeconds", filterCriteria = "FilterCriteria"
        case destinationConfig = "DestinationConfig", state = "State", stateTransitionReason = "StateTransitionReason"
        case lastModified = "LastModified", lastProcessingResult = "LastProcessingResult"
    }
}

/// What a function mapping keeps with itself (its ``TriggerMappingTarget/declaration``), so that the server
/// registers it again when it starts.
struct FunctionMappingDeclaration: Codable, Equatable {
    var function: String
    var onFailure: String?
}

/// Lambda's event source mappings from DynamoDB streams to functions, run by a `TriggerRuntime`: each
/// batch is one synchronous invocation of the function (one at a time per shard, per lane with a
/// ParallelizationFactor), and a function error, timeout or crash fails the batch — retried, bisected or
/// reported to the on-failure destination as the mapping's settings say. Mappings persist in the database
/// with their checkpoints; ``restore()`` registers them again when the server starts.
public final class EventSourceMappings: Sendable {
    public let runtime: TriggerRuntime
    public let functions: Functions

    public init(runtime: TriggerRuntime, functions: Functions) {
        self.runtime = runtime
        self.functions = functions
    }

    /// Registers again every function mapping the database keeps (at server start).
    public func restore() async throws(LambdaError) {
        for mapping in try wrap({ () throws(EddyError) in try runtime.mappings() }) {
            guard let declaration = Self.declaration(of: mapping) else { continue }
            try await register(name: mapping.name, configuration: mapping.configuration, declaration: declaration)
        }
    }

    /// CreateEventSourceMapping.
    public func create(_ request: EventSourceMappingRequest) async throws(LambdaError) -> EventSourceMappingConfiguration {
        guard let functionName = request.functionName else {
            throw .invalidParameterValue("FunctionName is required")
        }
        let function = try functions.resolve(functionName)
        guard let source = request.eventSourceArn else {
            throw .invalidParameterValue("EventSourceArn is required: Eddy's event sources are DynamoDB streams")
        }
        guard source.hasPrefix("arn:aws:dynamodb:"), source.contains("/stream/") else {
            throw .invalidParameterValue("Unrecognized event source, must be a DynamoDB stream ARN: \(source)")
        }
        guard let position = request.startingPosition else {
            throw .invalidParameterValue("StartingPosition is required for DynamoDB stream event sources")
        }
        guard let startingPosition = TriggerStartingPosition(rawValue: position) else {
            if position == "AT_TIMESTAMP" {
                throw .invalidParameterValue("Unsupported starting position for arn type: \(source)")
            }
            throw .constraint(
                value: position, field: "startingPosition", "Member must satisfy enum value set: [AT_TIMESTAMP, LATEST, TRIM_HORIZON]")
        }
        if let existing = try list(eventSourceArn: source, functionName: function).first {
            throw .resourceConflict(
                "The event source arn (\" \(source) \") and function (\" \(function) \") provided mapping already exists. Please update or delete the existing mapping with UUID \(existing.uuid)")
        }
        var configuration = TriggerMappingConfiguration(eventSourceArn: source, startingPosition: startingPosition)
        try apply(request, to: &configuration)
        let declaration = FunctionMappingDeclaration(function: function, onFailure: request.destinationConfig?.onFailure?.destination)
        let mapping = try await register(name: UUID().uuidString.lowercased(), configuration: configuration, declaration: declaration)
        return present(mapping, declaration: declaration)
    }

    /// Registers (or updates) the mapping named `name` from its stream to `function`, as a configuration
    /// file declares it: a mapping with a name of its own, which Lambda's API lists with the others.
    public func declare(
        name: String, configuration: TriggerMappingConfiguration, function: String, onFailure: String?
    ) async throws(LambdaError) {
        let declaration = FunctionMappingDeclaration(function: try functions.resolve(function), onFailure: onFailure)
        _ = try await register(name: name, configuration: configuration, declaration: declaration)
    }

    /// GetEventSourceMapping.
    public func get(_ uuid: String) throws(LambdaError) -> EventSourceMappingConfiguration {
        let (mapping, declaration) = try find(uuid)
        return present(mapping, declaration: declaration)
    }

    /// ListEventSourceMappings: the mappings of stream `eventSourceArn` and of function `functionName`, if
    /// given, in UUID order.
    public func list(eventSourceArn: String? = nil, functionName: String? = nil) throws(LambdaError) -> [EventSourceMappingConfiguration] {
        let function = try functionName.map { name throws(LambdaError) in try functions.resolve(name) }
        return try wrap { () throws(EddyError) in try runtime.mappings(eventSourceArn: eventSourceArn) }
            .compactMap { mapping in Self.declaration(of: mapping).map { (mapping, $0) } }
            .filter { function == nil || $0.1.function == function }
            .map { present($0.0, declaration: $0.1) }
            .sorted { $0.uuid < $1.uuid }
    }

    /// UpdateEventSourceMapping: the members given change; a mapping's stream and starting position cannot.
    public func update(_ uuid: String, _ request: EventSourceMappingRequest) async throws(LambdaError) -> EventSourceMappingConfiguration {
        let (mapping, current) = try find(uuid)
        var configuration = mapping.configuration
        try apply(request, to: &configuration)
        var declaration = current
        if let name = request.functionName { declaration.function = try functions.resolve(name) }
        if let destination = request.destinationConfig { declaration.onFailure = destination.onFailure?.destination }
        let onlyEnabling = declaration == current && configuration.enabled != mapping.configuration.enabled && {
            var same = configuration
            same.enabled = mapping.configuration.enabled
            return same == mapping.configuration
        }()
        let updated: TriggerMapping
        if onlyEnabling {
            updated = try await wrap { () async throws(EddyError) in
                configuration.enabled ?? true ? try await runtime.enable(uuid) : try await runtime.disable(uuid)
            }
        } else {
            updated = try await register(name: mapping.name, configuration: configuration, declaration: declaration)
        }
        return present(updated, declaration: declaration)
    }

    /// DeleteEventSourceMapping: the mapping stops (its batch in flight finishes) and is forgotten.
    public func delete(_ uuid: String) async throws(LambdaError) -> EventSourceMappingConfiguration {
        let (mapping, declaration) = try find(uuid)
        let deleted = try await wrap { () async throws(EddyError) in try await runtime.delete(mapping.uuid) }
        return present(deleted, declaration: declaration)
    }

    // MARK: Internals

    private func find(_ uuid: String) throws(LambdaError) -> (TriggerMapping, FunctionMappingDeclaration) {
        guard let mapping = try? runtime.mapping(uuid), mapping.uuid == uuid, let declaration = Self.declaration(of: mapping) else {
            throw .resourceNotFound("The resource you requested does not exist. (Service: Lambda, Status Code: 404)")
        }
        return (mapping, declaration)
    }

    /// The function `mapping` invokes, if it is one of these event source mappings (created through Lambda's
    /// API or declared with a function).
    public static func functionName(of mapping: TriggerMapping) -> String? {
        declaration(of: mapping)?.function
    }

    private static func declaration(of mapping: TriggerMapping) -> FunctionMappingDeclaration? {
        guard let text = mapping.target?.declaration else { return nil }
        return try? JSONDecoder().decode(FunctionMappingDeclaration.self, from: Data(text.utf8))
    }

    /// Registers mapping `name` with a handler that invokes `declaration.function`.
    private func register(
        name: String, configuration: TriggerMappingConfiguration, declaration: FunctionMappingDeclaration
    ) async throws(LambdaError) -> TriggerMapping {
        let onFailure = try destination(declaration.onFailure)
        let functions = self.functions
        let function = declaration.function
        let reportsFailures = configuration.functionResponseTypes?.contains(.reportBatchItemFailures) ?? false
        let target = TriggerMappingTarget(
            functionArn: functions.functionArn(function),
            declaration: String(decoding: try! JSONEncoder().encode(declaration), as: UTF8.self))
        return try await wrap { () async throws(EddyError) in
            try await runtime.registerReportingFailures(name: name, configuration: configuration, onFailure: onFailure, target: target) { event in
                try await Self.call(function, with: event, functions: functions, reportsFailures: reportsFailures)
            }
        }
    }

    /// One synchronous invocation of `function` with a batch; a function error, timeout or crash throws.
    private static func call(
        _ function: String, with event: TriggerEvent, functions: Functions, reportsFailures: Bool
    ) async throws -> TriggerBatchResponse {
        let result = try await functions.invoke(function, payload: Array(event.json), waitForCapacity: true)
        if result.functionError != nil {
            throw FunctionInvocationError(function: function, requestId: result.requestId, document: result.payload)
        }
        guard reportsFailures || event.window != nil else { return .success }
        // Lambda's partial batch response: an empty or null response, or a null list, is a complete success;
        // a response that is not a JSON object fails the whole batch.
        if result.payload.isEmpty || result.payload == Array("null".utf8) { return .success }
        do {
            let response = try JSONDecoder().decode(PartialBatchResponse.self, from: Data(result.payload))
            return TriggerBatchResponse(batchItemFailures: response.batchItemFailures ?? [], state: response.state)
        } catch {
            throw FunctionInvocationError(function: function, requestId: result.requestId, document: result.payload)
        }
    }

    /// A function's partial batch response as Lambda reads it: `batchItemFailures` may be missing or null.
    private struct PartialBatchResponse: Decodable {
        var batchItemFailures: [TriggerBatchResponse.BatchItemFailure]?
        var state: [String: String]?
    }

    private func destination(_ arn: String?) throws(LambdaError) -> TriggerFailureDestination? {
        guard let arn else { return nil }
        if let range = arn.range(of: ":table/"), arn.hasPrefix("arn:aws:dynamodb:") {
            return .table(String(arn[range.upperBound...]))
        }
        if arn.hasPrefix("arn:aws:lambda:") {
            let function = try functions.resolve(arn)
            let functions = self.functions
            return .handler { record in
                _ = try functions.invokeAsynchronously(function, payload: Array(try JSONEncoder().encode(record)))
            }
        }
        throw .invalidParameterValue(
            "The destination ARN \(arn) is not supported by Eddy: an on-failure destination is a table ARN or a function ARN of this server (it serves no SNS, SQS, S3 or Kafka destination)")
    }

    private func apply(_ request: EventSourceMappingRequest, to configuration: inout TriggerMappingConfiguration) throws(LambdaError) {
        if let value = request.batchSize { configuration.batchSize = value }
        if let value = request.maximumBatchingWindowInSeconds { configuration.maximumBatchingWindowInSeconds = value }
        if let value = request.parallelizationFactor { configuration.parallelizationFactor = value }
        if let value = request.maximumRetryAttempts { configuration.maximumRetryAttempts = value }
        if let value = request.maximumRecordAgeInSeconds { configuration.maximumRecordAgeInSeconds = value }
        if let value = request.bisectBatchOnFunctionError { configuration.bisectBatchOnFunctionError = value }
        if let value = request.tumblingWindowInSeconds { configuration.tumblingWindowInSeconds = value }
        if let value = request.filterCriteria { configuration.filterCriteria = value }
        if let value = request.enabled { configuration.enabled = value }
        if let types = request.functionResponseTypes {
            configuration.functionResponseTypes = try types.map { type throws(LambdaError) in
                guard let known = FunctionResponseType(rawValue: type) else {
                    throw .constraint(
                        value: "[\(types.joined(separator: ", "))]", field: "functionResponseTypes",
                        "Member must satisfy constraint: [Member must satisfy enum value set: [ReportBatchItemFailures]]")
                }
                return known
            }
        }
        try wrap { () throws(EddyError) in try configuration.validate() }
    }

    private func present(_ mapping: TriggerMapping, declaration: FunctionMappingDeclaration) -> EventSourceMappingConfiguration {
        let configuration = mapping.configuration
        return EventSourceMappingConfiguration(
            uuid: mapping.uuid,
            eventSourceMappingArn: "arn:aws:lambda:\(functions.configuration.region):\(functions.configuration.accountId):event-source-mapping:\(mapping.uuid)",
            functionArn: functions.functionArn(declaration.function), eventSourceArn: configuration.eventSourceArn,
            startingPosition: configuration.startingPosition.rawValue, batchSize: configuration.batchSize ?? 100,
            maximumBatchingWindowInSeconds: configuration.maximumBatchingWindowInSeconds ?? 0,
            parallelizationFactor: configuration.parallelizationFactor ?? 1, maximumRetryAttempts: configuration.maximumRetryAttempts ?? -1,
            maximumRecordAgeInSeconds: configuration.maximumRecordAgeInSeconds ?? -1,
            bisectBatchOnFunctionError: configuration.bisectBatchOnFunctionError ?? false,
            functionResponseTypes: (configuration.functionResponseTypes ?? []).map(\.rawValue),
            tumblingWindowInSeconds: configuration.tumblingWindowInSeconds ?? 0, filterCriteria: configuration.filterCriteria,
            destinationConfig: DestinationConfig(onFailure: declaration.onFailure.map { DestinationConfig.Destination(destination: $0) }),
            state: mapping.state.rawValue, stateTransitionReason: "USER_INITIATED",
            lastModified: Double(mapping.lastModifiedMilliseconds) / 1000, lastProcessingResult: mapping.lastProcessingResult)
    }

    private func wrap<Value>(_ body: () throws(EddyError) -> Value) throws(LambdaError) -> Value {
        do {
            return try body()
        } catch {
            throw LambdaError(error)
        }
    }

    private func wrap<Value>(_ body: () async throws(EddyError) -> Value) async throws(LambdaError) -> Value {
        do {
            return try await body()
        } catch {
            throw LambdaError(error)
        }
    }
}

/// A function invocation that failed (the function threw, timed out, crashed or could not start): the
/// batch it carried failed.
public struct FunctionInvocationError: Error, CustomStringConvertible {
    public var function: String
    public var requestId: String
    /// The error document: `{"errorMessage","errorType","stackTrace"}`.
    public var document: [UInt8]

    public var description: String {
        "Function \(function) failed (request \(requestId)): \(String(decoding: document, as: UTF8.self))"
    }
}
