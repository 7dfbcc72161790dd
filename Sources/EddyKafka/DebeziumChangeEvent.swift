import Eddy

/// A table change as a Debezium change event: the value of each message of a Kafka trigger sink whose format
/// is ``KafkaMessageFormat/Value/debezium``, for the consumers that read Debezium's envelope (Flink's and
/// Spark's `debezium-json`, Kafka Connect sinks, ksqlDB…).
///
/// ```json
/// {"before":{"pk":"u1","v":1},"after":{"pk":"u1","v":2,"tags":["a","b"]},
///  "source":{"connector":"eddy","name":"users-to-kafka","ts_ms":1750000000250,"snapshot":"false",
///            "db":"us-east-1","table":"Users","shard":"shardId-00000001750000000000-0001",
///            "sequence":"000000000000000000042","user_identity":null},
///  "op":"u","ts_ms":1750000000262}
/// ```
///
/// As Debezium's JSON converter writes it with `schemas.enable=false`: the envelope alone, without the
/// `{"schema":…,"payload":…}` wrapper. `before` and `after` are the images before and after the change in
/// plain JSON (numbers as JSON numbers where that is exact, else as strings of their text; sets as arrays;
/// binaries in Base64; see ``JSONWriter``), `null` where the item did not exist. `op` is `c` (INSERT), `u`
/// (MODIFY), `d` (REMOVE) or `r` (a read of an initial snapshot). `source` says where the change comes from,
/// with Debezium's field names where Debezium has one: `connector` (`eddy`), `name` (the mapping), `ts_ms` (the
/// commit time, in milliseconds since 1970), `snapshot` (`"false"`, or `"true"` and `"last"` in a
/// snapshot), `db` (the Region), `table`, `sequence` (the stream sequence number, as text), and Eddy's own
/// `shard` (the stream shard) and `user_identity`: `null` for a change a request made, the TTL service
/// (`{"type":"Service","principalId":"dynamodb.amazonaws.com"}`, as in Kinesis Data Streams for DynamoDB)
/// for an expiry. The top-level `ts_ms` is when Eddy wrote the event. There is no `version`: Eddy has no
/// release version to give.
public enum DebeziumChangeEvent {
    /// Whether an event is part of an initial snapshot of the table (Debezium's `source.snapshot`).
    public enum Snapshot: String, Sendable {
        /// A change read from the stream: `"false"`, and `op` from the record's event name.
        case streaming = "false"
        /// An item read by a snapshot: `"true"`, and `op` `r`.
        case reading = "true"
        /// The last item of a snapshot: `"last"`, and `op` `r`.
        case lastReading = "last"
    }

    /// The event's JSON for `record` of table `tableName`'s stream, read from shard `shardId` by mapping
    /// `mappingName`, written at `writtenMilliseconds` (since 1970), straight into bytes: a record read from
    /// the stream has its images transcoded from the stored bytes, never decoded.
    public static func json(
        _ record: TriggerEventRecord, tableName: String, mappingName: String, shardId: String,
        snapshot: Snapshot = .streaming, writtenMilliseconds: Int64
    ) -> [UInt8] {
        let change = record.dynamodb
        var json = JSONWriter(capacity: 320 + 2 * change.sizeBytes)
        json.literal("{\"before\":")
        write(.oldImage, of: change, to: &json)
        json.literal(",\"after\":")
        write(.newImage, of: change, to: &json)
        json.literal(",\"source\":{\"connector\":\"eddy\",\"name\":")
        json.string(mappingName)
        json.literal(",\"ts_ms\":")
        json.integer(KinesisChangeRecord.milliseconds(change))
        json.literal(",\"snapshot\":")
        json.string(snapshot.rawValue)
        json.literal(",\"db\":")
        json.string(record.awsRegion)
        json.literal(",\"table\":")
        json.string(tableName)
        json.literal(",\"shard\":")
        json.string(shardId)
        json.literal(",\"sequence\":")
        json.string(change.sequenceNumber)
        json.literal(",\"user_identity\":")
        KinesisChangeRecord.writeIdentity(record.userIdentity, to: &json)
        json.literal("}")
        switch (snapshot, record.eventName) {
        case (.reading, _), (.lastReading, _): json.literal(",\"op\":\"r\"")
        case (.streaming, .insert): json.literal(",\"op\":\"c\"")
        case (.streaming, .modify): json.literal(",\"op\":\"u\"")
        case (.streaming, .remove): json.literal(",\"op\":\"d\"")
        }
        json.literal(",\"ts_ms\":")
        json.integer(writtenMilliseconds)
        json.literal("}")
        return json.bytes
    }

    /// Appends `image` of `change` as plain JSON, or `null` if the record does not carry it.
    private static func write(_ image: StreamImage, of change: StreamRecordData, to json: inout JSONWriter) {
        if change.carries(image) {
            change.write(image, style: .plain, to: &json)
        } else {
            json.literal("null")
        }
    }
}
