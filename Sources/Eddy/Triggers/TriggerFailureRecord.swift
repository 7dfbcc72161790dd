/// Where a trigger mapping sends a record of what it dropped: a Swift function, as Lambda sends an
/// invocation record to an on-failure destination. Throwing makes the runtime send the record again.
public typealias TriggerFailureDestination = @Sendable (TriggerFailureRecord) async throws -> Void

/// What an on-failure destination receives when a mapping drops records: why, after how many calls, and which
/// records (shard and sequence range), in the shape of Lambda's invocation record for stream event sources.
public struct TriggerFailureRecord: Codable, Sendable, Equatable {
    /// Why the records were dropped.
    public enum Condition: String, Codable, Sendable {
        /// The handler failed on every attempt `MaximumRetryAttempts` allows.
        case retryAttemptsExhausted = "RetryAttemptsExhausted"
        /// The records were older than `MaximumRecordAgeInSeconds` before the handler got them.
        case recordAgeExceeded = "RecordAgeExceeded"
    }

    public struct RequestContext: Codable, Sendable, Equatable {
        public var condition: Condition
        /// How many times the handler was called with the records.
        public var approximateInvokeCount: Int
        /// The mapping's UUID.
        public var mappingUUID: String
    }

    /// The dropped records: one shard's sequence range.
    public struct BatchInfo: Codable, Sendable, Equatable {
        public var shardId: String
        public var startSequenceNumber: String
        public var endSequenceNumber: String
        /// ISO 8601 times of the first and last record's commit.
        public var approximateArrivalOfFirstRecord: String
        public var approximateArrivalOfLastRecord: String
        public var batchSize: Int
        public var streamArn: String
    }

    public var requestContext: RequestContext
    public var version: String
    /// When the records were dropped, ISO 8601.
    public var timestamp: String
    public var batchInfo: BatchInfo

    enum CodingKeys: String, CodingKey {
        case requestContext, version, timestamp
        case batchInfo = "DDBStreamBatchInfo"
    }

    /// The record of dropping `records` (in sequence order, not empty) from shard `shardId` of `streamArn`.
    init(
        _ condition: Condition, invokeCount: Int, mapping: String, records: [StreamRecord], shardId: String,
        streamArn: String, now: Int64
    ) {
        func time(_ seconds: Double) -> String { StreamNames.label(milliseconds: Int64(seconds * 1000)) + "Z" }
        requestContext = RequestContext(condition: condition, approximateInvokeCount: invokeCount, mappingUUID: mapping)
        version = "1.0"
        timestamp = StreamNames.label(milliseconds: now) + "Z"
        batchInfo = BatchInfo(
            shardId: shardId, startSequenceNumber: records.first!.dynamodb.sequenceNumber,
            endSequenceNumber: records.last!.dynamodb.sequenceNumber,
            approximateArrivalOfFirstRecord: time(records.first!.dynamodb.approximateCreationDateTime),
            approximateArrivalOfLastRecord: time(records.last!.dynamodb.approximateCreationDateTime),
            batchSize: records.count, streamArn: streamArn)
    }
}
