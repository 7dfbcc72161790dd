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

    /// Who made a change other than a request: the TTL service.
    public struct Identity: Codable, Sendable, Equatable {
        public var type: String
        public var principalId: String
    }

    public var awsRegion: String
    public var eventID: String
    public var eventName: StreamEventName
    public var userIdentity: Identity?
    public var recordFormat: String
    public var tableName: String
    public var dynamodb: Change
    public var eventSource: String

    /// `record` of table `tableName`'s stream.
    public init(_ record: TriggerEventRecord, tableName: String) {
        awsRegion = record.awsRegion
        eventID = record.eventID
        eventName = record.eventName
        userIdentity = record.userIdentity.map { Identity(type: $0.type, principalId: $0.principalId) }
        recordFormat = "application/json"
        self.tableName = tableName
        dynamodb = Change(
            approximateCreationDateTime: Int64((record.dynamodb.approximateCreationDateTime * 1000).rounded()),
            keys: record.dynamodb.keys, newImage: record.dynamodb.newImage, oldImage: record.dynamodb.oldImage,
            sizeBytes: record.dynamodb.sizeBytes)
        eventSource = "aws:dynamodb"
    }
}

/// The headers the Kafka trigger sink puts on each message.
public enum KafkaSinkHeader {
    /// The source table's name.
    public static let table = "eddy-table"
    /// The record's stream sequence number: with the table, what identifies a change, so a consumer can drop
    /// a message it has seen (delivery is at least once).
    public static let sequenceNumber = "eddy-sequence-number"
}

extension TriggerRuntime {
    /// Registers a mapping whose sink is Kafka topic `topic`: each record becomes one message whose value is
    /// a ``KinesisChangeRecord`` (JSON), whose key is the item's partition key (so each item's changes stay in
    /// order in one partition), with ``KafkaSinkHeader`` headers. A batch's messages are sent in order and
    /// the mapping's checkpoint advances only once the broker has acknowledged all of them; a batch with a
    /// failed message fails and is retried with backoff as `MaximumRetryAttempts` and
    /// `MaximumRecordAgeInSeconds` say (by default until it succeeds), so nothing is lost while the broker is
    /// down, and after a retry or a crash a message may come twice. Give it a producer made with
    /// ``KafkaProducer/sink(configuration:)`` (idempotent unless told otherwise).
    ///
    /// - Throws: as ``TriggerRuntime/register(name:configuration:onFailure:handler:)``.
    @discardableResult
    public func registerKafka(
        name: String, configuration: TriggerMappingConfiguration, producer: KafkaProducer, topic: String,
        onFailure: TriggerFailureDestination? = nil
    ) async throws(EddyError) -> TriggerMapping {
        let stream = try await database.describeStream(DescribeStreamInput(streamArn: configuration.eventSourceArn, limit: 1))
        let tableName = stream.streamDescription.tableName
        let partitionKey = stream.streamDescription.keySchema.first { $0.keyType == .hash }!.attributeName
        return try await register(name: name, configuration: configuration, onFailure: onFailure) { event in
            let messages = event.records.map { record in
                KafkaMessage(
                    topic: topic, key: record.dynamodb.keys[partitionKey].map(Self.keyBytes),
                    value: Array(try! JSONEncoder().encode(KinesisChangeRecord(record, tableName: tableName))),
                    headers: [
                        .init(KafkaSinkHeader.table, Array(tableName.utf8)),
                        .init(KafkaSinkHeader.sequenceNumber, Array(record.dynamodb.sequenceNumber.utf8)),
                    ])
            }
            for result in await producer.send(messages) {
                _ = try result.get()
            }
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
}
