/// Where a new trigger mapping starts reading its stream (Lambda's `StartingPosition` for DynamoDB streams).
public enum TriggerStartingPosition: String, Codable, Sendable, CaseIterable {
    /// At the oldest record the stream still keeps.
    case trimHorizon = "TRIM_HORIZON"
    /// At the records committed after the mapping is created.
    case latest = "LATEST"
}

/// What a handler may report back besides success or failure (Lambda's `FunctionResponseTypes`).
public enum FunctionResponseType: String, Codable, Sendable, CaseIterable {
    /// The handler returns the sequence numbers of the records that failed; the runtime retries from the
    /// first of them.
    case reportBatchItemFailures = "ReportBatchItemFailures"
}

/// The settings of a trigger mapping: how a table's stream is read, batched, filtered and retried, with the
/// names, ranges and defaults of AWS Lambda's event source mappings for DynamoDB streams
/// (CreateEventSourceMapping).
///
/// ```swift
/// var settings = TriggerMappingConfiguration(eventSourceArn: streamArn, startingPosition: .trimHorizon)
/// settings.batchSize = 10
/// settings.maximumRetryAttempts = 3
/// try settings.validate()
/// ```
public struct TriggerMappingConfiguration: Codable, Sendable, Equatable {
    /// The ARN of the stream the mapping reads.
    public var eventSourceArn: String
    public var startingPosition: TriggerStartingPosition
    /// Records per handler call: 1 to 10000, 100 when absent.
    public var batchSize: Int?
    /// How long to gather records before calling the handler with fewer than `batchSize`: 0 to 300 seconds, 0
    /// when absent.
    public var maximumBatchingWindowInSeconds: Int?
    /// Concurrent batches per shard, split by partition key: 1 to 10, 1 when absent.
    public var parallelizationFactor: Int?
    /// Retries of a failing batch: -1 (until the records expire) or 0 to 10000; -1 when absent.
    public var maximumRetryAttempts: Int?
    /// Records older than this are not sent but go to the on-failure destination: -1 (no limit) or 60 to
    /// 604800 seconds; -1 when absent.
    public var maximumRecordAgeInSeconds: Int?
    /// Split a failing batch in two and retry each half.
    public var bisectBatchOnFunctionError: Bool?
    public var functionResponseTypes: [FunctionResponseType]?
    /// Windows of this many seconds whose state carries from batch to batch: 0 to 900, 0 (none) when absent.
    public var tumblingWindowInSeconds: Int?
    /// Which records reach the handler (Lambda's event filtering); the others are skipped and checkpointed.
    public var filterCriteria: FilterCriteria?
    /// Whether the mapping reads as soon as it is created; true when absent.
    public var enabled: Bool?
    /// Whether the mapping begins with a snapshot of its table (an Eddy setting; Lambda has none): every item
    /// the table holds, as INSERT records in key order (``TriggerEvent/snapshot`` set), then the stream from
    /// exactly where the snapshot was read, so the sink gets each change once. `StartingPosition` is then
    /// unused. The snapshot is read while the table takes writes, resumes after a restart where it stopped,
    /// and reports its progress (``TriggerMapping/snapshotProgress``, `eddy_trigger_snapshot_items`). False when
    /// absent; cannot be combined with a tumbling window.
    public var snapshot: Bool?

    public init(eventSourceArn: String, startingPosition: TriggerStartingPosition) {
        self.eventSourceArn = eventSourceArn
        self.startingPosition = startingPosition
    }

    enum CodingKeys: String, CodingKey {
        case eventSourceArn = "EventSourceArn", startingPosition = "StartingPosition", batchSize = "BatchSize"
        case maximumBatchingWindowInSeconds = "MaximumBatchingWindowInSeconds"
        case parallelizationFactor = "ParallelizationFactor", maximumRetryAttempts = "MaximumRetryAttempts"
        case maximumRecordAgeInSeconds = "MaximumRecordAgeInSeconds"
        case bisectBatchOnFunctionError = "BisectBatchOnFunctionError"
        case functionResponseTypes = "FunctionResponseTypes", tumblingWindowInSeconds = "TumblingWindowInSeconds"
        case filterCriteria = "FilterCriteria", enabled = "Enabled", snapshot = "Snapshot"
    }

    /// Throws Lambda's `ValidationException` for a value outside its range and
    /// `InvalidParameterValueException` for a record age between 0 and 59 seconds.
    public func validate() throws(EddyError) {
        try Self.check(batchSize, "batchSize", 1...10_000)
        try Self.check(maximumBatchingWindowInSeconds, "maximumBatchingWindowInSeconds", 0...300)
        try Self.check(parallelizationFactor, "parallelizationFactor", 1...10)
        try Self.check(maximumRetryAttempts, "maximumRetryAttempts", -1...10_000)
        try Self.check(maximumRecordAgeInSeconds, "maximumRecordAgeInSeconds", -1...604_800)
        try Self.check(tumblingWindowInSeconds, "tumblingWindowInSeconds", 0...900)
        if let age = maximumRecordAgeInSeconds, (0..<60).contains(age) {
            throw .invalidParameterValue("MaximumRecordAgeInSeconds must be -1 or between 60 and 604800 seconds")
        }
        if snapshot == true, (tumblingWindowInSeconds ?? 0) > 0 {
            throw .validation("Snapshot cannot be combined with TumblingWindowInSeconds: a snapshot's items belong to no window")
        }
    }

    /// The settings with Lambda's defaults filled in.
    var resolved: Resolved {
        Resolved(
            batchSize: batchSize ?? 100, maximumBatchingWindowInSeconds: maximumBatchingWindowInSeconds ?? 0,
            parallelizationFactor: parallelizationFactor ?? 1, maximumRetryAttempts: maximumRetryAttempts ?? -1,
            maximumRecordAgeInSeconds: maximumRecordAgeInSeconds ?? -1,
            bisectBatchOnFunctionError: bisectBatchOnFunctionError ?? false,
            reportsBatchItemFailures: functionResponseTypes?.contains(.reportBatchItemFailures) ?? false,
            tumblingWindowInSeconds: tumblingWindowInSeconds ?? 0, enabled: enabled ?? true)
    }

    /// A mapping's settings after defaults.
    struct Resolved: Equatable {
        var batchSize: Int
        var maximumBatchingWindowInSeconds: Int
        var parallelizationFactor: Int
        var maximumRetryAttempts: Int
        var maximumRecordAgeInSeconds: Int
        var bisectBatchOnFunctionError: Bool
        var reportsBatchItemFailures: Bool
        var tumblingWindowInSeconds: Int
        var enabled: Bool
    }

    private static func check(_ value: Int?, _ field: String, _ range: ClosedRange<Int>) throws(EddyError) {
        guard let value else { return }
        if value < range.lowerBound {
            throw TableValidation.constraint(
                value: "\(value)", field: field, "Member must have value greater than or equal to \(range.lowerBound)")
        }
        if value > range.upperBound {
            throw TableValidation.constraint(
                value: "\(value)", field: field, "Member must have value less than or equal to \(range.upperBound)")
        }
    }
}
