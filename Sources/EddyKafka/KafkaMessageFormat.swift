/// How the Kafka trigger sink makes a message of each change: the value's format, the key, and whether a
/// delete is followed by a tombstone. `eddy serve --config` declares it in a trigger's `Kafka` (`Format`, `Key`,
/// `Tombstones`), `eddy triggers add-kafka` with `--format`, `--key` and `--tombstones`.
///
/// ```swift
/// // One message per item in a compacted topic, in the change-event envelope Debezium's consumers read.
/// let format = KafkaMessageFormat(value: .debezium, key: .primaryKey, tombstones: true)
/// try await triggers.registerKafka(name: "users-to-kafka", configuration: settings, sink: sink, format: format)
/// ```
public struct KafkaMessageFormat: Sendable, Equatable {
    /// What a message's value holds.
    public enum Value: String, Codable, Sendable, CaseIterable {
        /// The record as Kinesis Data Streams for DynamoDB delivers it (``KinesisChangeRecord``): typed JSON.
        case kinesis = "Kinesis"
        /// A Debezium change event (``DebeziumChangeEvent``): `before`, `after`, `op`, `source`, `ts_ms`, the
        /// images in plain JSON.
        case debezium = "Debezium"
    }

    /// What a message's key holds. Kafka sends the messages of one key to one partition, in order, and a
    /// compacted topic keeps the latest message of each key.
    public enum Key: String, Codable, Sendable, CaseIterable {
        /// The item's partition key: in the Kinesis format its bytes (a string's UTF-8, a number's text, a
        /// binary's bytes); in the Debezium format a JSON object of that attribute in plain JSON
        /// (`{"pk":"u1"}`), as Debezium's keys are objects of the key columns.
        case partitionKey = "PartitionKey"
        /// The item's whole primary key as a JSON object in plain JSON, the partition key first, then the sort
        /// key if the table has one (`{"pk":"u1","sk":3}`): one key per item, the same bytes for every change
        /// of it, so a compacted topic keeps one message per item.
        case primaryKey = "PrimaryKey"
    }

    /// What each message's value holds (`Format`).
    public var value: Value
    /// What each message's key holds (`Key`).
    public var key: Key
    /// Whether each REMOVE's message is followed by a tombstone: a message with the same key and headers and a
    /// null value, which makes a compacted topic forget the item.
    public var tombstones: Bool

    /// The format of the sink's messages; by default, Kinesis records keyed by partition key, no tombstones.
    public init(value: Value = .kinesis, key: Key = .partitionKey, tombstones: Bool = false) {
        self.value = value
        self.key = key
        self.tombstones = tombstones
    }

    /// Whether keys are JSON objects rather than the partition key's bytes.
    var jsonKeys: Bool {
        value == .debezium || key == .primaryKey
    }
}
