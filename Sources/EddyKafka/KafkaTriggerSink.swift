import Eddy
import Foundation

/// A table change as Kinesis Data Streams for DynamoDB delivers it: the value of each message the Kafka
/// trigger sink sends.
public struct KinesisChangeRecord: Codable, Sendable, Equatable {
    /// The `dynamodb` part: the change's keys and images.
    public struct Change: Codable, Sendable, Equatable {
        /// When the change was committed, in milliseconds since 1970.
        public var approximateCreationDateTime: Int64
        public var keys: Item
        public var newImage: Item?
        public var oldImage: Item?
        public var sizeBytes: Int

        enum CodingKeys: String, CodingKey {
            case approximateCreationDateTime = "ApproximateCreationDateTime", keys = "Keys", newImage = "NewImage"
            case oldImage = "OldImage", sizeBytes = "SizeBytes"
        }
    }

    /// Who made a change other than a request: the TTL service (`{"type":"Service","principalId":
    /// "dynamodb.amazonaws.com"}`).
    public struct Identity: Codable, Sendable, Equatable {
        public var type: String
        public var principalId: String
    }

    public var awsRegion: String
    public var eventID: String
    public var eventName: StreamEventName
    /// The TTL service for an expiry; nil (`null` in the JSON) for a change a request made.
    public var userIdentity: Identity?
    public var recordFormat: String
    public var tableName: String
    public var dynamodb: Change
    public var eventSource: String

    /// `record` of table `tableName`'s stream. The sink reads its records with both images that exist and
    /// the commit time in milliseconds; a record read otherwise (a handler's, GetRecords') has only the
    /// images its stream's view type keeps and the time in whole seconds.
    public init(_ record: TriggerEventRecord, tableName: String) {
        awsRegion = record.awsRegion
        eventID = record.eventID
        eventName = record.eventName
        userIdentity = record.userIdentity.map { Identity(type: $0.type, principalId: $0.principalId) }
        recordFormat = "application/json"
        self.tableName = tableName
        dynamodb = Change(
            approximateCreationDateTime: Self.milliseconds(record.dynamodb), keys: record.dynamodb.keys,
            newImage: record.dynamodb.newImage, oldImage: record.dynamodb.oldImage, sizeBytes: record.dynamodb.sizeBytes)
        eventSource = "aws:dynamodb"
    }

    /// The commit time of `record` in milliseconds since 1970.
    static func milliseconds(_ record: StreamRecordData) -> Int64 {
        record.approximateCreationDateTimeMilliseconds ?? Int64((record.approximateCreationDateTime * 1000).rounded())
    }
}

extension KinesisChangeRecord {
    /// The JSON of `record` of table `tableName`'s stream as a ``KinesisChangeRecord``, written straight into
    /// bytes (what the sink sends: decoded, it equals `KinesisChangeRecord(record, tableName:)`, at a small
    /// part of `JSONEncoder`'s cost). A record read from the stream has its keys and images transcoded from
    /// the stored bytes, never decoded.
    public static func json(_ record: TriggerEventRecord, tableName: String) -> [UInt8] {
        var json = JSONWriter(capacity: 256 + 2 * record.dynamodb.sizeBytes)
        json.literal("{\"awsRegion\":")
        json.string(record.awsRegion)
        json.literal(",\"eventID\":")
        json.string(record.eventID)
        json.literal(",\"eventName\":")
        json.string(record.eventName.rawValue)
        json.literal(",\"userIdentity\":")
        writeIdentity(record.userIdentity, to: &json)
        json.literal(",\"recordFormat\":\"application/json\",\"tableName\":")
        json.string(tableName)
        json.literal(",\"dynamodb\":{\"ApproximateCreationDateTime\":")
        json.integer(milliseconds(record.dynamodb))
        json.literal(",\"Keys\":")
        record.dynamodb.write(.keys, to: &json)
        if record.dynamodb.carries(.newImage) {
            json.literal(",\"NewImage\":")
            record.dynamodb.write(.newImage, to: &json)
        }
        if record.dynamodb.carries(.oldImage) {
            json.literal(",\"OldImage\":")
            record.dynamodb.write(.oldImage, to: &json)
        }
        json.literal(",\"SizeBytes\":")
        json.integer(Int64(record.dynamodb.sizeBytes))
        json.literal("},\"eventSource\":\"aws:dynamodb\"}")
        return json.bytes
    }

    /// Appends who made a change as Kinesis Data Streams for DynamoDB writes it: `{"type":…,"principalId":…}`
    /// for the TTL service, `null` for a request.
    static func writeIdentity(_ identity: StreamIdentity?, to json: inout JSONWriter) {
        guard let identity else {
            json.literal("null")
            return
        }
        json.literal("{\"type\":")
        json.string(identity.type)
        json.literal(",\"principalId\":")
        json.string(identity.principalId)
        json.literal("}")
    }
}

/// The headers the Kafka trigger sink puts on each message: with them a consumer can drop a message it has
/// already seen (delivery is at least once).
public enum KafkaSinkHeader {
    /// The source table's name.
    public static let table = "eddy-table"
    /// The stream shard the record was read from.
    public static let shardId = "eddy-shard-id"
    /// The record's stream sequence number: with the table, what identifies a change.
    public static let sequenceNumber = "eddy-sequence-number"
}

extension TriggerRuntime {
    /// Registers a mapping whose sink is `sink`'s Kafka topic: each record becomes one message, in `format`
    /// (by default a ``KinesisChangeRecord`` (JSON) keyed by the item's partition key; or a
    /// ``DebeziumChangeEvent``, keyed by the whole primary key, with a tombstone after each delete: see
    /// ``KafkaMessageFormat``), with ``KafkaSinkHeader`` headers. Every change of an item has the same key, so
    /// its messages stay in order in one partition. As in Kinesis Data Streams for DynamoDB,
    /// every message carries both images that exist, whatever the stream's view type, and the commit time
    /// in milliseconds. A batch's messages are sent in order and
    /// the mapping's checkpoint advances only once the broker has acknowledged all of them. While the brokers
    /// are away the batch waits; a batch that fails, or whose oldest record reaches `MaximumRecordAgeInSeconds`
    /// before it is acknowledged, is retried with backoff as `MaximumRetryAttempts` and
    /// `MaximumRecordAgeInSeconds` say (by default until it succeeds). So nothing is lost, each item's order
    /// is kept, and after a failure or a crash a message may come twice (see ``KafkaSinkHeader``).
    ///
    /// With `target`, the mapping keeps what the sink stands for (``TriggerMapping/target``), so that the
    /// application can make the sink again and register it after a restart.
    ///
    /// - Throws: as ``TriggerRuntime/register(name:configuration:onFailure:handler:)``; `ValidationException`
    ///   for a tumbling window (windows are for handlers), or for tombstones keyed by partition key on a
    ///   table with a sort key (in a compacted topic, a tombstone would delete the messages of the other items
    ///   sharing the partition key).
    @discardableResult
    public func registerKafka(
        name: String, configuration: TriggerMappingConfiguration, sink: KafkaSink, format: KafkaMessageFormat = KafkaMessageFormat(),
        onFailure: TriggerFailureDestination? = nil, target: TriggerMappingTarget? = nil
    ) async throws(EddyError) -> TriggerMapping {
        if (configuration.tumblingWindowInSeconds ?? 0) > 0 {
            throw .validation("A Kafka mapping cannot have a tumbling window")
        }
        let stream = try await database.describeStream(DescribeStreamInput(streamArn: configuration.eventSourceArn, limit: 1))
        let tableName = stream.streamDescription.tableName
        let keySchema = stream.streamDescription.keySchema
        let partitionKey = keySchema.first { $0.keyType == .hash }!.attributeName
        let sortKey = keySchema.first { $0.keyType == .range }?.attributeName
        if format.tombstones, format.key == .partitionKey, let sortKey {
            throw .validation(
                "Tombstones need Key PrimaryKey on table \(tableName), whose items share partition keys (sort key \(sortKey)): in a compacted topic, a tombstone keyed by the partition key would delete the other items' messages")
        }
        let keyAttributes = format.key == .primaryKey ? [partitionKey] + (sortKey.map { [$0] } ?? []) : [partitionKey]
        let clock = database.configuration.clock
        let tableHeader = KafkaMessage.Header(KafkaSinkHeader.table, Array(tableName.utf8))
        return try await registerReportingFailures(
            name: name, configuration: configuration, onFailure: onFailure, recordForm: .kinesis, target: target
        ) { [weak self] event in
            let shardId = event.sourceShardId ?? ""
            let shardHeader = KafkaMessage.Header(KafkaSinkHeader.shardId, Array(shardId.utf8))
            // When the Debezium events of the batch are written (their top-level ts_ms).
            let written = clock.nowMilliseconds()
            var messages: [KafkaMessage] = []
            messages.reserveCapacity(event.records.count)
            for (index, record) in event.records.enumerated() {
                // The items of an initial snapshot are Debezium's reads: `r`, the very last one marked "last".
                let snapshot: DebeziumChangeEvent.Snapshot =
                    switch event.snapshot {
                    case nil: .streaming
                    case .some(let batch): batch.isLast && index == event.records.count - 1 ? .lastReading : .reading
                    }
                let key =
                    format.jsonKeys
                    ? Self.jsonKey(of: record, attributes: keyAttributes)
                    : record.dynamodb.attribute(partitionKey, of: .keys).map(Self.keyBytes)
                let value =
                    switch format.value {
                    case .kinesis: KinesisChangeRecord.json(record, tableName: tableName)
                    case .debezium:
                        DebeziumChangeEvent.json(
                            record, tableName: tableName, mappingName: name, shardId: shardId, snapshot: snapshot,
                            writtenMilliseconds: written)
                    }
                let headers = [
                    tableHeader, shardHeader, .init(KafkaSinkHeader.sequenceNumber, Array(record.dynamodb.sequenceNumber.utf8)),
                ]
                messages.append(KafkaMessage(topic: sink.topic, key: key, value: value, headers: headers))
                if format.tombstones, record.eventName == .remove {
                    messages.append(KafkaMessage(topic: sink.topic, key: key, value: nil, headers: headers))
                }
            }
            // The mapping's current limit (it may have been updated since registration).
            let maximumAge = (try? self?.mapping(name).configuration.maximumRecordAgeInSeconds) ?? configuration.maximumRecordAgeInSeconds
            let deadline = maximumAge.flatMap { age -> Int64? in
                guard age >= 0, let oldest = event.records.map({ KinesisChangeRecord.milliseconds($0.dynamodb) }).min() else { return nil }
                return oldest + Int64(age) * 1000
            }
            try await sink.send(messages, deadline: deadline, clock: clock)
            return .success
        }
    }

    /// A partition key's bytes as a message key: a string's UTF-8, a number's text, a binary's bytes.
    private static func keyBytes(_ value: AttributeValue) -> [UInt8] {
        switch value {
        case .s(let text): Array(text.utf8)
        case .n(let number): Array(number.description.utf8)
        case .b(let bytes): bytes
        default: Array(String(describing: value).utf8)
        }
    }

    /// The key attributes `attributes` of `record`, in that order, as a JSON object in plain JSON: the same
    /// bytes for every change of an item (numbers and strings have one text each).
    private static func jsonKey(of record: TriggerEventRecord, attributes: [String]) -> [UInt8] {
        var json = JSONWriter(capacity: 64)
        json.literal("{")
        for (index, name) in attributes.enumerated() {
            if index > 0 { json.literal(",") }
            json.string(name)
            json.literal(":")
            json.plainValue(record.dynamodb.attribute(name, of: .keys) ?? .null)
        }
        json.literal("}")
        return json.bytes
    }
}
