import ChildProcessSupport
import Foundation
import Testing

@testable import Eddy
@testable import EddyKafka

/// The Debezium change events the sink writes, from Debezium's documented envelope (`before`, `after`, `op`
/// c/u/d/r, `source` with `ts_ms` the commit time and `snapshot` "true"/"last"/"false", top-level `ts_ms`
/// the time of writing) and the plain-JSON rule for DynamoDB's values: checked on records read from a
/// stream (images transcoded from the stored bytes) and on records holding decoded values.
@Suite(.timeLimit(.minutes(5))) struct DebeziumChangeEventTests {
    static let awkward = "quote \" backslash \\ newline \n tab \t nul \u{00} é ✓ 🙂"

    /// Every attribute type: exact numbers bare, others as strings of their text, sets as arrays, binaries in
    /// Base64, NULL as null, maps and lists nested.
    static let item: Item = [
        "pk": .s(awkward), "text": .s(""), "small": .n(DecimalNumber(36)), "fraction": .n(try! DecimalNumber("-12.5e-3")),
        "big": .n(try! DecimalNumber("12345678901234567890")), "fine": .n(try! DecimalNumber("0.1234567890123456789")),
        "binary": .b([0, 1, 254, 255]), "yes": .bool(true), "nothing": .null,
        "map": .m(["inner": .l([.s("a\"b"), .n(DecimalNumber(7)), .m([:]), .l([])]), "flag": .bool(false)]),
        "strings": .ss(["x", awkward]), "numbers": .ns([DecimalNumber(1), try! DecimalNumber("98765432109876543210")]), "binaries": .bs([[1], [2, 3]]),
        awkward: .s("a name that needs escaping"),
    ]

    /// `item` as the event's plain JSON must read, sets aside (their order is the item's).
    static func expectedPlain(changedText: String) -> [String: Any] {
        [
            "pk": awkward, "text": changedText, "small": 36, "fraction": -0.0125, "big": "12345678901234567890",
            "fine": "0.1234567890123456789", "binary": "AAH+/w==", "yes": true, "nothing": NSNull(),
            "map": ["inner": ["a\"b", 7, [String: Any](), [Any]()], "flag": false],
            awkward: "a name that needs escaping",
        ]
    }

    /// Whether two JSON objects are equal: compared as their JSON with sorted keys (Foundation's `NSDictionary`
    /// equality on Linux does not match a parsed number with a Swift literal).
    static func sameJSON(_ one: Any, _ other: Any) throws -> Bool {
        try JSONSerialization.data(withJSONObject: one, options: .sortedKeys) == JSONSerialization.data(withJSONObject: other, options: .sortedKeys)
    }

    static func object(_ json: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
    }

    /// `image` (an object of the event) equals `expected` and carries `item`'s sets as arrays.
    static func checkImage(_ image: Any?, _ expected: [String: Any]) throws {
        let image = try #require(image as? [String: Any])
        var plain = image
        for name in ["strings", "numbers", "binaries"] { plain[name] = nil }
        #expect(try sameJSON(plain, expected))
        #expect(Set(try #require(image["strings"] as? [String])) == ["x", awkward])
        // The 20-digit number is not exact as a JSON number: it is its text.
        let numbers = try #require(image["numbers"] as? [Any])
        #expect(numbers.count == 2 && numbers.contains { ($0 as? NSNumber)?.intValue == 1 })
        #expect(numbers.contains { $0 as? String == "98765432109876543210" })
        #expect(Set(try #require(image["binaries"] as? [String])) == ["AQ==", "AgM="])
    }

    @Test func anInsertAnUpdateAndADeleteReadFromTheStreamAreCUAndD() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("eddy-debezium-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let clock = ManualWallClock(milliseconds: 1_750_000_000_123)
        let db = try Database(path: directory, configuration: Database.Configuration(clock: clock))
        let table = try await db.createTable(CreateTableInput(
            tableName: "Things", keySchema: [KeySchemaElement(attributeName: "pk", keyType: .hash)],
            attributeDefinitions: [AttributeDefinition(attributeName: "pk", attributeType: .s)], billingMode: .payPerRequest,
            streamSpecification: StreamSpecification(streamEnabled: true, streamViewType: .newAndOldImages)))
        let arn = try #require(table.latestStreamArn)
        try await db.putItem(PutItemInput(tableName: "Things", item: Self.item))
        clock.advance(bySeconds: 0.25)
        try await db.updateItem(UpdateItemInput(
            tableName: "Things", key: ["pk": .s(Self.awkward)], updateExpression: "SET #t = :t",
            expressionAttributeNames: ["#t": "text"], expressionAttributeValues: [":t": .s("changed")]))
        clock.advance(bySeconds: 0.25)
        try await db.deleteItem(DeleteItemInput(tableName: "Things", key: ["pk": .s(Self.awkward)]))
        let read = try await readStream(db, arn)
        var kinesisForm = read.map { TriggerEventRecord($0.record, streamArn: arn) }
        // The sink reads records in Kinesis Data Streams for DynamoDB's form: commit milliseconds.
        for index in kinesisForm.indices {
            kinesisForm[index].dynamodb.approximateCreationDateTimeMilliseconds = 1_750_000_000_123 + Int64(index) * 250
        }
        #expect(kinesisForm.allSatisfy { $0.dynamodb.encodedImages != nil })
        let events = try kinesisForm.enumerated().map { index, record in
            try Self.object(DebeziumChangeEvent.json(
                record, tableName: "Things", mappingName: "things-cdc", shardId: read[index].shard, writtenMilliseconds: 1_750_000_009_000))
        }
        #expect(events.map { $0["op"] as? String } == ["c", "u", "d"])
        #expect(events[0]["before"] is NSNull && events[2]["after"] is NSNull)
        try Self.checkImage(events[0]["after"], Self.expectedPlain(changedText: ""))
        try Self.checkImage(events[1]["before"], Self.expectedPlain(changedText: ""))
        try Self.checkImage(events[1]["after"], Self.expectedPlain(changedText: "changed"))
        try Self.checkImage(events[2]["before"], Self.expectedPlain(changedText: "changed"))
        for (index, event) in events.enumerated() {
            #expect(Set(event.keys) == ["before", "after", "source", "op", "ts_ms"])
            #expect(event["ts_ms"] as? Int64 == 1_750_000_009_000)
            let source = try #require(event["source"] as? [String: Any])
            #expect(Set(source.keys) == ["connector", "name", "ts_ms", "snapshot", "db", "table", "shard", "sequence", "user_identity"])
            #expect(source["connector"] as? String == "eddy" && source["name"] as? String == "things-cdc")
            #expect(source["ts_ms"] as? Int64 == 1_750_000_000_123 + Int64(index) * 250)
            #expect(source["snapshot"] as? String == "false")
            #expect(source["db"] as? String == "us-east-1" && source["table"] as? String == "Things")
            #expect(source["shard"] as? String == read[index].shard)
            #expect(source["sequence"] as? String == read[index].record.dynamodb.sequenceNumber)
            #expect(source["user_identity"] is NSNull)
        }
        // The same records holding decoded values give the same events.
        for (index, record) in kinesisForm.enumerated() {
            var decoded = record
            decoded.dynamodb = StreamRecordData(
                approximateCreationDateTime: record.dynamodb.approximateCreationDateTime, keys: record.dynamodb.keys,
                newImage: record.dynamodb.newImage, oldImage: record.dynamodb.oldImage, sequenceNumber: record.dynamodb.sequenceNumber,
                sizeBytes: record.dynamodb.sizeBytes, streamViewType: record.dynamodb.streamViewType,
                approximateCreationDateTimeMilliseconds: record.dynamodb.approximateCreationDateTimeMilliseconds)
            #expect(decoded.dynamodb.encodedImages == nil)
            let event = try Self.object(DebeziumChangeEvent.json(
                decoded, tableName: "Things", mappingName: "things-cdc", shardId: read[index].shard, writtenMilliseconds: 1_750_000_009_000))
            #expect(try Self.sameJSON(event, events[index]))
        }
    }

    /// A snapshot's reads are `op` r with `source.snapshot` "true", the last one "last"; an expiry names the
    /// TTL service in `source.user_identity`.
    @Test func snapshotReadsAreRAndAnExpiryNamesTheTTLService() throws {
        var record = TriggerEventRecord(
            StreamRecord(
                eventID: "e1", eventName: .insert, eventVersion: "1.1", eventSource: "aws:dynamodb", awsRegion: "eu-west-1",
                dynamodb: StreamRecordData(
                    approximateCreationDateTime: 1_750_000_000, keys: ["pk": "a"], newImage: ["pk": "a", "n": 1],
                    sequenceNumber: "000000000000000000042", sizeBytes: 9, streamViewType: .newAndOldImages,
                    approximateCreationDateTimeMilliseconds: 1_750_000_000_987),
                userIdentity: nil),
            streamArn: "arn:aws:dynamodb:eu-west-1:000000000000:table/T/stream/2025-06-15T00:00:00.000")
        for (snapshot, text) in [(DebeziumChangeEvent.Snapshot.reading, "true"), (.lastReading, "last")] {
            let event = try Self.object(DebeziumChangeEvent.json(
                record, tableName: "T", mappingName: "m", shardId: "s", snapshot: snapshot, writtenMilliseconds: 1_750_000_001_000))
            #expect(event["op"] as? String == "r")
            #expect(event["before"] is NSNull)
            #expect(try Self.sameJSON(try #require(event["after"]), ["pk": "a", "n": 1]))
            let source = try #require(event["source"] as? [String: Any])
            #expect(source["snapshot"] as? String == text && source["db"] as? String == "eu-west-1")
            #expect(source["ts_ms"] as? Int64 == 1_750_000_000_987)
        }
        record.eventName = .remove
        record.dynamodb = StreamRecordData(
            approximateCreationDateTime: 1_750_000_000, keys: ["pk": "a"], oldImage: ["pk": "a", "n": 1],
            sequenceNumber: "000000000000000000043", sizeBytes: 9, streamViewType: .newAndOldImages)
        record.userIdentity = try JSONDecoder().decode(
            StreamIdentity.self, from: Data(#"{"Type":"Service","PrincipalId":"dynamodb.amazonaws.com"}"#.utf8))
        let expiry = try Self.object(DebeziumChangeEvent.json(record, tableName: "T", mappingName: "m", shardId: "s", writtenMilliseconds: 0))
        #expect(expiry["op"] as? String == "d" && expiry["after"] is NSNull)
        let source = try #require(expiry["source"] as? [String: Any])
        // Without the commit milliseconds, the record's seconds.
        #expect(source["ts_ms"] as? Int64 == 1_750_000_000_000)
        let identity = try #require(source["user_identity"] as? [String: String])
        #expect(identity == ["type": "Service", "principalId": "dynamodb.amazonaws.com"])
    }
}
