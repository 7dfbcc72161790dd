/// Where a trigger mapping sends a record of what it dropped, as Lambda sends an invocation record to an
/// on-failure destination. The record is sent before the mapping moves past the dropped records, and sent
/// again until it is taken, so it is delivered at least once.
public enum TriggerFailureDestination: Sendable {
    /// A Swift function; throwing makes the runtime send the record again.
    case handler(@Sendable (TriggerFailureRecord) async throws -> Void)
    /// A table of the same database whose partition key (and sort key, if it has one) is a string. Each
    /// record becomes one item: the partition key is `<mapping UUID>/<shard id>/<first sequence number>`
    /// (the sort key, the time of the failure), with the record's fields as attributes (`condition`,
    /// `approximateInvokeCount`, `shardId`, `startSequenceNumber`, `endSequenceNumber`, `batchSize`,
    /// `streamArn`, `timestamp`, …) and the whole record as JSON in `record`.
    case table(String)
}

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

extension Database {
    /// Checks that table `name` can take failure records: it exists and its key attributes are strings.
    func validateFailureTable(_ name: String) throws(EddyError) {
        guard try resolveTable(name).keyAttributes.allSatisfy({ $0.1 == .s }) else {
            throw .validation("The on-failure table \(name) must have string key attributes")
        }
    }

    /// Writes `failure` as one item of table `name` (see ``TriggerFailureDestination/table(_:)``).
    func putFailureRecord(_ failure: TriggerFailureRecord, in name: String) async throws(EddyError) {
        let table = try resolveTable(name)
        let info = failure.batchInfo
        var item: Item = [
            "condition": .s(failure.requestContext.condition.rawValue),
            "approximateInvokeCount": .n(DecimalNumber(failure.requestContext.approximateInvokeCount)),
            "mappingUUID": .s(failure.requestContext.mappingUUID),
            "timestamp": .s(failure.timestamp),
            "shardId": .s(info.shardId),
            "startSequenceNumber": .s(info.startSequenceNumber),
            "endSequenceNumber": .s(info.endSequenceNumber),
            "approximateArrivalOfFirstRecord": .s(info.approximateArrivalOfFirstRecord),
            "approximateArrivalOfLastRecord": .s(info.approximateArrivalOfLastRecord),
            "batchSize": .n(DecimalNumber(info.batchSize)),
            "streamArn": .s(info.streamArn),
            "record": .s(String(decoding: TriggerStore.encode(failure), as: UTF8.self)),
        ]
        item[table.key.partitionKeyName] = .s("\(failure.requestContext.mappingUUID)/\(info.shardId)/\(info.startSequenceNumber)")
        if let sortKeyName = table.key.sortKeyName { item[sortKeyName] = .s(failure.timestamp) }
        _ = try await putItem(PutItemInput(tableName: name, item: item))
    }
}
