import ChildProcessSupport
import Foundation
import Testing

@testable import Eddy
@testable import EddyKafka

// The Kafka sink's message formats, from Debezium's documented envelope and Kafka's log compaction (the latest
// message of each key is kept; a null value, a tombstone, deletes the key): table changes reach a real broker
// and are read back with kcat, an independent client.

/// One message as `kcat -J` prints it.
struct KcatMessage: Decodable {
    var partition: Int
    var key: String?
    var payload: String?
    /// Names and values, alternating.
    var headers: [String]?

    func header(_ name: String) -> String? {
        guard let headers, let index = stride(from: 0, to: headers.count - 1, by: 2).first(where: { headers[$0] == name }) else { return nil }
        return headers[index + 1]
    }

    /// The payload as a JSON object.
    func event() throws -> [String: Any] {
        let text = try #require(payload)
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }
}

@Suite(.serialized, .timeLimit(.minutes(5))) struct KafkaMessageFormatTests {
    /// A database on `clock` with table Events (partition key `pk`, sort key `sk` if `sortKey`; a KEYS_ONLY
    /// stream: the sink's records carry both images anyway) and a runtime; `body` registers and writes.
    private func withEvents(
        _ broker: KafkaBroker, clock: any WallClock, sortKey: Bool, _ body: (Database, TriggerRuntime, String) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("eddy-formats-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let db = try Database(path: directory, configuration: Database.Configuration(clock: clock))
        let table = try await db.createTable(CreateTableInput(
            tableName: "Events",
            keySchema: [KeySchemaElement(attributeName: "pk", keyType: .hash)] + (sortKey ? [KeySchemaElement(attributeName: "sk", keyType: .range)] : []),
            attributeDefinitions: [AttributeDefinition(attributeName: "pk", attributeType: .s)]
                + (sortKey ? [AttributeDefinition(attributeName: "sk", attributeType: .n)] : []),
            billingMode: .payPerRequest, streamSpecification: StreamSpecification(streamEnabled: true, streamViewType: .keysOnly)))
        let runtime = TriggerRuntime(database: db)
        let running = Task { await runtime.run() }
        var failure: (any Error)?
        do {
            try await body(db, runtime, try #require(table.latestStreamArn))
        } catch {
            failure = error
        }
        running.cancel()
        await running.value
        if let failure { throw failure }
    }

    /// A sink to a new topic `topic` of 3 partitions.
    private func makeSink(_ broker: KafkaBroker, topic: String) async throws -> KafkaSink {
        try await broker.createTopic(topic, partitions: 3)
        return try await KafkaSink(configuration: ["bootstrap.servers": broker.bootstrapServers], topic: topic)
    }

    /// Waits until mapping `name` has sent every change committed so far and the broker acknowledged it.
    private func waitUntilSent(_ runtime: TriggerRuntime, _ name: String) async throws {
        try #require(try await waitUntil { try runtime.isCaughtUp(name) }, "mapping \(name) did not catch up with the stream")
    }

    /// Every message of `topic`, read to its end with kcat, in partition order.
    private func consume(_ broker: KafkaBroker, _ topic: String) async throws -> [KcatMessage] {
        let output = try await offThePool { try broker.kcat(["-C", "-t", topic, "-e", "-q", "-J"]) }
        return try output.split(separator: "\n").map { try JSONDecoder().decode(KcatMessage.self, from: Data($0.utf8)) }
    }

    /// Debezium events keyed by the whole primary key, with tombstones, on a table with a sort key: one key per
    /// item (two items share partition key u1), each item's events in commit order in one partition, a
    /// tombstone (same key, null value, the delete's headers) right after each delete, the TTL service named
    /// on an expiry, every field of the envelope checked. Tombstones keyed by partition key are refused there.
    @Test func debeziumEventsKeyedByPrimaryKeyWithTombstones() async throws {
        let start: Int64 = 1_750_000_000_123
        let clock = ManualWallClock(milliseconds: start)
        try await KafkaBroker.with { broker in
            try await withEvents(broker, clock: clock, sortKey: true) { db, runtime, arn in
                let sink = try await makeSink(broker, topic: "events-cdc")
                defer { sink.close() }
                let settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
                await #expect(throws: EddyError.self) {
                    try await runtime.registerKafka(
                        name: "wrong", configuration: settings, sink: sink, format: KafkaMessageFormat(value: .debezium, tombstones: true))
                }
                try await runtime.registerKafka(
                    name: "cdc", configuration: settings, sink: sink,
                    format: KafkaMessageFormat(value: .debezium, key: .primaryKey, tombstones: true))
                try await db.updateTimeToLive(UpdateTimeToLiveInput(
                    tableName: "Events", timeToLiveSpecification: TimeToLiveSpecification(enabled: true, attributeName: "expiresAt")))
                var everyType = DebeziumChangeEventTests.item
                everyType["pk"] = "u1"
                everyType["sk"] = 1
                try await db.putItem(PutItemInput(tableName: "Events", item: everyType))
                clock.advance(bySeconds: 0.25)
                try await db.putItem(PutItemInput(tableName: "Events", item: ["pk": "u1", "sk": 2, "v": 1]))
                clock.advance(bySeconds: 0.25)
                try await db.updateItem(UpdateItemInput(
                    tableName: "Events", key: ["pk": "u1", "sk": 1], updateExpression: "SET #t = :t",
                    expressionAttributeNames: ["#t": "text"], expressionAttributeValues: [":t": "changed"]))
                clock.advance(bySeconds: 0.25)
                try await db.deleteItem(DeleteItemInput(tableName: "Events", key: ["pk": "u1", "sk": 1]))
                clock.advance(bySeconds: 0.25)
                try await db.putItem(PutItemInput(tableName: "Events", item: ["pk": "u1", "sk": 2, "v": 2]))
                let expiring: Item = ["pk": "u2", "sk": 1, "expiresAt": .n(DecimalNumber(Int(start / 1000 + 2)))]
                try await db.putItem(PutItemInput(tableName: "Events", item: expiring))
                clock.advance(bySeconds: 2)
                try await db.deleteExpiredItems()
                try await waitUntilSent(runtime, "cdc")
                let end = clock.nowMilliseconds()
                let messages = try await consume(broker, "events-cdc")
                #expect(messages.count == 9)

                // Each item's messages, in the order they were stored: every key in one partition.
                var byKey: [String: [KcatMessage]] = [:]
                for message in messages { byKey[try #require(message.key), default: []].append(message) }
                let first = #"{"pk":"u1","sk":1}"#, second = #"{"pk":"u1","sk":2}"#, expired = #"{"pk":"u2","sk":1}"#
                #expect(Set(byKey.keys) == [first, second, expired])
                for keyed in byKey.values { #expect(Set(keyed.map(\.partition)).count == 1) }
                func ops(_ key: String) throws -> [String] {
                    try (byKey[key] ?? []).map { $0.payload == nil ? "tombstone" : try $0.event()["op"] as? String ?? "?" }
                }
                #expect(try ops(first) == ["c", "u", "d", "tombstone"])
                #expect(try ops(second) == ["c", "u"])
                #expect(try ops(expired) == ["c", "d", "tombstone"])

                for keyed in byKey.values {
                    for (index, message) in keyed.enumerated() {
                        #expect(message.header(KafkaSinkHeader.table) == "Events")
                        guard message.payload != nil else {
                            // A tombstone carries its delete's headers.
                            #expect(message.header(KafkaSinkHeader.sequenceNumber) == keyed[index - 1].header(KafkaSinkHeader.sequenceNumber))
                            #expect(message.header(KafkaSinkHeader.shardId) == keyed[index - 1].header(KafkaSinkHeader.shardId))
                            continue
                        }
                        let event = try message.event()
                        #expect(Set(event.keys) == ["before", "after", "source", "op", "ts_ms"])
                        let source = try #require(event["source"] as? [String: Any])
                        #expect(source["connector"] as? String == "eddy" && source["name"] as? String == "cdc")
                        #expect(source["snapshot"] as? String == "false" && source["db"] as? String == "us-east-1")
                        #expect(source["table"] as? String == "Events")
                        #expect(source["shard"] as? String == message.header(KafkaSinkHeader.shardId))
                        #expect(source["sequence"] as? String == message.header(KafkaSinkHeader.sequenceNumber))
                        let committed = try #require(source["ts_ms"] as? Int64)
                        let written = try #require(event["ts_ms"] as? Int64)
                        #expect(committed >= start && committed <= written && written <= end)
                        let expiry = message.key == expired && event["op"] as? String == "d"
                        if expiry {
                            let identity = try #require(source["user_identity"] as? [String: String])
                            #expect(identity == ["type": "Service", "principalId": "dynamodb.amazonaws.com"])
                        } else {
                            #expect(source["user_identity"] is NSNull)
                        }
                    }
                }
                // Commit times, in milliseconds, in the order of the writes.
                let committed = try messages.filter { $0.payload != nil }.map { message -> Int64 in
                    let source = try #require(try message.event()["source"] as? [String: Any])
                    return try #require(source["ts_ms"] as? Int64)
                }
                #expect(committed.sorted() == [0, 250, 500, 750, 1000, 1000, 3000].map { start + $0 })

                // The images, in plain JSON.
                let events = try byKey[first]!.dropLast().map { try $0.event() }
                var original = DebeziumChangeEventTests.expectedPlain(changedText: "")
                original["pk"] = "u1"
                original["sk"] = 1
                var changed = original
                changed["text"] = "changed"
                #expect(events[0]["before"] is NSNull)
                try DebeziumChangeEventTests.checkImage(events[0]["after"], original)
                try DebeziumChangeEventTests.checkImage(events[1]["before"], original)
                try DebeziumChangeEventTests.checkImage(events[1]["after"], changed)
                try DebeziumChangeEventTests.checkImage(events[2]["before"], changed)
                #expect(events[2]["after"] is NSNull)
                let versions = try byKey[second]!.map { try $0.event() }
                #expect(try DebeziumChangeEventTests.sameJSON(try #require(versions[1]["before"]), ["pk": "u1", "sk": 2, "v": 1]))
                #expect(try DebeziumChangeEventTests.sameJSON(try #require(versions[1]["after"]), ["pk": "u1", "sk": 2, "v": 2]))
            }
        }
    }

    /// The Debezium format keys by partition key as a JSON object by default, without tombstones; the Kinesis
    /// format keeps its partition-key bytes, and takes tombstones too.
    @Test func partitionKeyKeysAndKinesisTombstones() async throws {
        try await KafkaBroker.with { broker in
            try await withEvents(broker, clock: SystemWallClock(), sortKey: false) { db, runtime, arn in
                let debezium = try await makeSink(broker, topic: "events-cdc")
                defer { debezium.close() }
                let kinesis = try await makeSink(broker, topic: "events-kinesis")
                defer { kinesis.close() }
                let settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
                try await runtime.registerKafka(name: "cdc", configuration: settings, sink: debezium, format: KafkaMessageFormat(value: .debezium))
                try await runtime.registerKafka(name: "kinesis", configuration: settings, sink: kinesis, format: KafkaMessageFormat(tombstones: true))
                try await db.putItem(PutItemInput(tableName: "Events", item: ["pk": "u1", "v": 1]))
                try await db.putItem(PutItemInput(tableName: "Events", item: ["pk": "u2", "v": 1]))
                try await db.deleteItem(DeleteItemInput(tableName: "Events", key: ["pk": "u1"]))
                try await waitUntilSent(runtime, "cdc")
                try await waitUntilSent(runtime, "kinesis")

                let events = try await consume(broker, "events-cdc")
                #expect(events.count == 3 && events.allSatisfy { $0.payload != nil })
                #expect(events.filter { $0.key == #"{"pk":"u1"}"# }.map { try? $0.event()["op"] as? String } == ["c", "d"])
                #expect(events.filter { $0.key == #"{"pk":"u2"}"# }.count == 1)

                let records = try await consume(broker, "events-kinesis")
                #expect(records.count == 4)
                let u1 = records.filter { $0.key == "u1" }
                try #require(u1.count == 3)
                #expect(try u1.dropLast().map { try $0.event()["eventName"] as? String } == ["INSERT", "REMOVE"])
                #expect(u1[2].payload == nil)
                #expect(records.filter { $0.key == "u2" }.count == 1)
            }
        }
    }
}
