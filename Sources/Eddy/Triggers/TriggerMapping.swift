/// Where a registered trigger mapping is in its life, with the names of Lambda's event source mapping states.
/// The transitional states (Creating, Enabling, Disabling, Updating, Deleting) last while the runtime
/// starts the mapping or lets its batch in flight finish.
public enum TriggerMappingState: String, Codable, Sendable, CaseIterable {
    case creating = "Creating"
    case enabling = "Enabling"
    case enabled = "Enabled"
    case disabling = "Disabling"
    case disabled = "Disabled"
    case updating = "Updating"
    case deleting = "Deleting"
}

/// A trigger mapping: its identity, settings and state.
public struct TriggerMapping: Sendable, Equatable {
    /// Identifies the mapping, as Lambda's event source mapping UUID does; kept across restarts.
    public let uuid: String
    public let name: String
    public let configuration: TriggerMappingConfiguration
    public let state: TriggerMappingState
    /// What happened to the mapping's last batch, as Lambda's `LastProcessingResult` says it: `No records
    /// processed`, `OK`, or a `PROBLEM: ...` — a handler call that failed, or records dropped or lost (see
    /// ``TriggerProcessingResult``). Kept by the runtime that runs the mapping, since it registered it.
    public let lastProcessingResult: String
    /// When the settings last changed, in milliseconds since 1970.
    public let lastModifiedMilliseconds: Int64
    /// What the mapping's handler stands for, as it was registered; nil if it was registered without one.
    public let target: TriggerMappingTarget?
    /// The ARN of the function the mapping calls, as its on-failure records name it: the target's, or
    /// `arn:aws:lambda:<region>:<account>:function:<mapping name>` for a mapping without a target.
    public let functionArn: String
    /// How far the mapping's initial snapshot has come, for a mapping with `Snapshot`; nil otherwise.
    public var snapshotProgress: TriggerSnapshotProgress? = nil

    /// The table whose stream the mapping reads, as its stream ARN names it.
    public var tableName: String {
        StreamNames.parseArn(configuration.eventSourceArn)?.table ?? ""
    }
}

/// How far a mapping's initial snapshot has come: the table's items delivered, of the items to deliver, and
/// whether the mapping has gone on to the stream.
public struct TriggerSnapshotProgress: Codable, Sendable, Equatable {
    /// Items delivered (a restart may deliver the last batch again: delivery is at least once).
    public var itemsDone = 0
    /// Items to deliver: those delivered plus those the table held after them when the snapshot (or its
    /// resumption after a restart) began.
    public var itemsTotal = 0
    /// Every item has been delivered.
    public var complete = false

    public init(itemsDone: Int = 0, itemsTotal: Int = 0, complete: Bool = false) {
        self.itemsDone = itemsDone
        self.itemsTotal = itemsTotal
        self.complete = complete
    }

    enum CodingKeys: String, CodingKey {
        case itemsDone = "ItemsDone", itemsTotal = "ItemsTotal", complete = "Complete"
    }

    init(_ progress: SnapshotProgress) {
        self.init(itemsDone: progress.done, itemsTotal: progress.total, complete: progress.complete)
    }
}

/// What a mapping's handler stands for, kept with the mapping across restarts, so that the application that
/// registered the handler can register it again: a server keeps here the function a mapping invokes and its
/// on-failure destination, and registers its mappings again when it starts.
public struct TriggerMappingTarget: Codable, Sendable, Equatable {
    /// The ARN of the function the handler calls, which on-failure records name.
    public var functionArn: String
    /// The application's own description of the handler (JSON text, say); the runtime only keeps it.
    public var declaration: String?

    public init(functionArn: String, declaration: String? = nil) {
        self.functionArn = functionArn
        self.declaration = declaration
    }
}

/// The values of ``TriggerMapping/lastProcessingResult``.
public enum TriggerProcessingResult {
    /// Nothing delivered since the runtime started the mapping.
    public static let noRecordsProcessed = "No records processed"
    /// The last batch was delivered.
    public static let ok = "OK"
    /// The last call of the handler (or derivative commit) failed.
    public static let functionCallFailed = "PROBLEM: Function call failed"

    /// Records that stream retention removed before the mapping handled them.
    static func lost(_ count: Int, shardId: String, from first: UInt64, to last: UInt64) -> String {
        "PROBLEM: \(count) records of shard \(shardId) (sequence numbers \(StreamNames.sequenceNumber(first)) to "
            + "\(StreamNames.sequenceNumber(last))) expired before the mapping handled them"
    }

    /// Records dropped after their retries or age ran out.
    static func dropped(_ count: Int, shardId: String, condition: TriggerFailureRecord.Condition) -> String {
        "PROBLEM: \(count) records of shard \(shardId) dropped: \(condition.rawValue)"
    }
}
