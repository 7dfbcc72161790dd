import Foundation

/// Where a trigger mapping sends a record of what it dropped, as Lambda sends an invocation record to an
/// on-failure destination. The record is sent before the mapping moves past the dropped records, and sent
/// again until it is taken, so it is delivered at least once.
public enum TriggerFailureDestination: Sendable {
    /// A Swift function; throwing makes the runtime send the record again.
    case handler(@Sendable (TriggerFailureRecord) async throws -> Void)
    /// A table of the same database whose partition key (and sort key, if it has one) is a string. Each
    /// record becomes one item: the partition key is `<mapping UUID>/<shard id>/<first sequence number>`
    /// (the sort key, the time of the failure), with `mappingUUID` and the record's fields as attributes
    /// (`requestId`, `functionArn`, `condition`, `approximateInvokeCount`, `statusCode`, `executedVersion`,
    /// `functionError`, `version`, `timestamp`, `shardId`, `startSequenceNumber`, `endSequenceNumber`,
    /// `approximateArrivalOfFirstRecord`, `approximateArrivalOfLastRecord`, `batchSize`, `streamArn`) and
    /// the whole record as JSON in `record`. A record of initial-snapshot items (shard `snapshot`) also has
    /// `snapshotFirstKey` and `snapshotLastKey` (maps), and its request id appended to the partition key.
    case table(String)
}

/// What an on-failure destination receives when a mapping drops records: why, after how many calls, and which
/// records (shard and sequence range), in the shape of Lambda's invocation record for stream event sources
/// (Lambda developer guide, "Retaining discarded records for a DynamoDB event source"), so that the libraries
/// Lambda users parse those records with (such as aws-lambda-powertools'
/// `DynamoDBStreamLambdaOnFailureDestinationModel`) read it as well:
///
/// ```json
/// {
///   "requestContext": {
///     "requestId": "0b3a0b8e-5c1f-4a7e-9d63-2f1c1e6b9a40",
///     "functionArn": "arn:aws:lambda:us-east-1:000000000000:function:welcome",
///     "condition": "RetryAttemptsExhausted",
///     "approximateInvokeCount": 3
///   },
///   "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
///   "version": "1.0",
///   "timestamp": "2026-03-02T10:15:04.512Z",
///   "DDBStreamBatchInfo": {
///     "shardId": "shardId-00000001772445300000-00000000",
///     "startSequenceNumber": "000000000000000000042",
///     "endSequenceNumber": "000000000000000000042",
///     "approximateArrivalOfFirstRecord": "2026-03-02T10:15:03.250Z",
///     "approximateArrivalOfLastRecord": "2026-03-02T10:15:03.250Z",
///     "batchSize": 1,
///     "streamArn": "arn:aws:dynamodb:us-east-1:000000000000:table/Users/stream/2026-03-02T10:00:00.000"
///   }
/// }
/// ```
///
/// An in-process mapping stands for a Lambda function named after the mapping: its `functionArn` is
/// `arn:aws:lambda:<region>:<account>:function:<mapping name>`, with the region and account of the
/// database's ``Database/Configuration``, and its only version is `$LATEST`. `requestId` is a lowercase
/// UUID: the id of the last call that carried the records, or a fresh one when they were never handed to
/// the handler.
///
/// `responseContext` is always present, as those libraries require. After calls that failed it says what
/// Lambda says of a function error: status code 200, `executedVersion` `$LATEST`, `functionError`
/// `Unhandled` (a thrown Swift error, a partial batch response that leaves records failed, or a derivative
/// transform or commit that failed). For records never handed to the handler (`approximateInvokeCount` 0),
/// it carries status code 0 (no call was made, so there is no HTTP status), `executedVersion` `$LATEST`
/// and an empty `functionError`.
///
/// `condition` is `RetryAttemptsExhausted` (the only condition AWS documents for DynamoDB sources) when the
/// handler failed on every attempt `MaximumRetryAttempts` allows, and `RecordAgeExceeded` (as LocalStack
/// sends) when the records were older than `MaximumRecordAgeInSeconds`, and also when they were lost to the
/// stream's 24-hour retention before the mapping delivered them: such a record describes a sequence range
/// whose records can no longer be read, and tells the two cases apart by its range and arrival times.
public struct TriggerFailureRecord: Codable, Sendable, Equatable {
    /// Why the records were dropped.
    public enum Condition: String, Codable, Sendable {
        /// The handler failed on every attempt `MaximumRetryAttempts` allows.
        case retryAttemptsExhausted = "RetryAttemptsExhausted"
        /// The records were older than `MaximumRecordAgeInSeconds` before the handler took them, or were
        /// trimmed by the stream's retention before the mapping delivered them.
        case recordAgeExceeded = "RecordAgeExceeded"
    }

    /// The call that gave up on the records.
    public struct RequestContext: Codable, Sendable, Equatable {
        /// The id (a lowercase UUID) of the last call with the records; a fresh one if there was none.
        public var requestId: String
        /// `arn:aws:lambda:<region>:<account>:function:<mapping name>`.
        public var functionArn: String
        public var condition: Condition
        /// How many times the handler was called with the records (0: never).
        public var approximateInvokeCount: Int
    }

    /// What the last call answered.
    public struct ResponseContext: Codable, Sendable, Equatable {
        /// 200 after a call, 0 if the records were never handed to the handler.
        public var statusCode: Int
        /// Always `$LATEST`: an in-process handler has no other version.
        public var executedVersion: String
        /// `Unhandled` after a failed call, empty if there was no call.
        public var functionError: String
    }

    /// The dropped records: one shard's sequence range.
    public struct BatchInfo: Codable, Sendable, Equatable {
        public var shardId: String
        public var startSequenceNumber: String
        public var endSequenceNumber: String
        /// ISO 8601 times (UTC, milliseconds) of the first and last record's commit.
        public var approximateArrivalOfFirstRecord: String
        public var approximateArrivalOfLastRecord: String
        public var batchSize: Int
        public var streamArn: String
    }

    public var requestContext: RequestContext
    public var responseContext: ResponseContext
    /// The version of the record's format: `1.0`.
    public var version: String
    /// When the records were dropped, ISO 8601 (UTC, milliseconds).
    public var timestamp: String
    public var batchInfo: BatchInfo
    /// For records of a mapping's initial snapshot (shard ``snapshotShardId``), which no stream holds: the
    /// first and last of their items' keys. A snapshot delivers items in key order, so the dropped items are
    /// those of the table between the two keys (both included) when it was read; nil for a stream's records.
    public var snapshotBatchInfo: SnapshotBatchInfo?

    /// The key range of dropped snapshot records (``snapshotBatchInfo``).
    public struct SnapshotBatchInfo: Codable, Sendable, Equatable {
        /// The first dropped item's primary key.
        public var firstKey: Item
        /// The last dropped item's primary key.
        public var lastKey: Item
    }

    /// The shard id a failure record gives records of a mapping's initial snapshot (`Snapshot`): they come
    /// from the table, not from a shard, and all carry the sequence number one below where the snapshot was
    /// read, so ``snapshotBatchInfo`` says which items they were.
    public static let snapshotShardId = "snapshot"

    enum CodingKeys: String, CodingKey {
        case requestContext, responseContext, version, timestamp
        case batchInfo = "DDBStreamBatchInfo"
        case snapshotBatchInfo = "SnapshotBatchInfo"
    }

    /// The record of dropping the `count` records of shard `shardId` of `streamArn` from sequence number
    /// `startSequenceNumber` to `endSequenceNumber`, committed at `firstArrivalMilliseconds` and
    /// `lastArrivalMilliseconds` (milliseconds since 1970), at `nowMilliseconds`. The range need not be
    /// readable any more: this describes records lost to retention as well as records at hand.
    ///
    /// - Parameters:
    ///   - invokeCount: how many calls carried the records; 0 gives the response context of a range that was
    ///     never handed to the handler.
    ///   - requestId: the last call's id; nil for a fresh one.
    ///   - functionArn: the mapping's function ARN (`Database.functionArn(ofMapping:)`).
    init(
        _ condition: Condition, invokeCount: Int, requestId: String? = nil, functionArn: String, shardId: String,
        startSequenceNumber: String, endSequenceNumber: String, firstArrivalMilliseconds: Int64,
        lastArrivalMilliseconds: Int64, count: Int, streamArn: String, nowMilliseconds: Int64
    ) {
        precondition(count > 0, "a failure record describes at least one record")
        precondition(invokeCount >= 0, "a negative number of calls")
        func time(_ milliseconds: Int64) -> String { StreamNames.label(milliseconds: milliseconds) + "Z" }
        requestContext = RequestContext(
            requestId: requestId ?? Self.newRequestId(), functionArn: functionArn, condition: condition,
            approximateInvokeCount: invokeCount)
        responseContext =
            invokeCount > 0
            ? ResponseContext(statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled")
            : ResponseContext(statusCode: 0, executedVersion: "$LATEST", functionError: "")
        version = "1.0"
        timestamp = time(nowMilliseconds)
        batchInfo = BatchInfo(
            shardId: shardId, startSequenceNumber: startSequenceNumber, endSequenceNumber: endSequenceNumber,
            approximateArrivalOfFirstRecord: time(firstArrivalMilliseconds),
            approximateArrivalOfLastRecord: time(lastArrivalMilliseconds), batchSize: count, streamArn: streamArn)
    }

    /// The record of dropping `records` (in sequence order, not empty) from shard `shardId` of `streamArn`,
    /// at `nowMilliseconds`; the parameters are those of the initializer from an explicit range.
    init(
        _ condition: Condition, invokeCount: Int, requestId: String? = nil, functionArn: String,
        records: [StreamRecord], shardId: String, streamArn: String, nowMilliseconds: Int64
    ) {
        precondition(!records.isEmpty, "a failure record describes at least one record")
        func milliseconds(_ record: StreamRecord) -> Int64 {
            Int64((record.dynamodb.approximateCreationDateTime * 1000).rounded())
        }
        self.init(
            condition, invokeCount: invokeCount, requestId: requestId, functionArn: functionArn, shardId: shardId,
            startSequenceNumber: records.first!.dynamodb.sequenceNumber,
            endSequenceNumber: records.last!.dynamodb.sequenceNumber,
            firstArrivalMilliseconds: milliseconds(records.first!), lastArrivalMilliseconds: milliseconds(records.last!),
            count: records.count, streamArn: streamArn, nowMilliseconds: nowMilliseconds)
        if shardId == Self.snapshotShardId {
            snapshotBatchInfo = SnapshotBatchInfo(firstKey: records.first!.dynamodb.keys, lastKey: records.last!.dynamodb.keys)
        }
    }

    /// A request id as Lambda writes them: a lowercase UUID.
    static func newRequestId() -> String { UUID().uuidString.lowercased() }
}

extension Database {
    /// The ARN of the Lambda function an in-process mapping named `name` stands for, which its on-failure
    /// records name unless it was registered with a ``TriggerMappingTarget``:
    /// `arn:aws:lambda:<region>:<account>:function:<name>`.
    ///
    /// ```swift
    /// db.functionArn(ofMapping: "welcome")  // arn:aws:lambda:us-east-1:000000000000:function:welcome
    /// ```
    public func functionArn(ofMapping name: String) -> String {
        "arn:aws:lambda:\(configuration.region):\(configuration.accountId):function:\(name)"
    }

    /// Checks that table `name` can take failure records: it exists and its key attributes are strings.
    func validateFailureTable(_ name: String) throws(EddyError) {
        guard try resolveTable(name).keyAttributes.allSatisfy({ $0.1 == .s }) else {
            throw .validation("The on-failure table \(name) must have string key attributes")
        }
    }

    /// Writes `failure`, a record of mapping `mappingUUID`, as one item of table `name` (see
    /// ``TriggerFailureDestination/table(_:)``).
    func putFailureRecord(_ failure: TriggerFailureRecord, mapping mappingUUID: String, in name: String) async throws(EddyError) {
        let table = try resolveTable(name)
        let request = failure.requestContext
        let response = failure.responseContext
        let info = failure.batchInfo
        var item: Item = [
            "mappingUUID": .s(mappingUUID),
            "requestId": .s(request.requestId),
            "functionArn": .s(request.functionArn),
            "condition": .s(request.condition.rawValue),
            "approximateInvokeCount": .n(DecimalNumber(request.approximateInvokeCount)),
            "statusCode": .n(DecimalNumber(response.statusCode)),
            "executedVersion": .s(response.executedVersion),
            "functionError": .s(response.functionError),
            "version": .s(failure.version),
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
        var partitionKey = "\(mappingUUID)/\(info.shardId)/\(info.startSequenceNumber)"
        if let snapshot = failure.snapshotBatchInfo {
            // Every batch of a snapshot has the same sequence number: the request id tells them apart.
            partitionKey += "/\(request.requestId)"
            item["snapshotFirstKey"] = .m(snapshot.firstKey)
            item["snapshotLastKey"] = .m(snapshot.lastKey)
        }
        item[table.key.partitionKeyName] = .s(partitionKey)
        if let sortKeyName = table.key.sortKeyName { item[sortKeyName] = .s(failure.timestamp) }
        _ = try await putItem(PutItemInput(tableName: name, item: item))
    }
}
