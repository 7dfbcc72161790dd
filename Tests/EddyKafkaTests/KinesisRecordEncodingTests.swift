import ChildProcessSupport
import Foundation
import Testing

@testable import Eddy
@testable import EddyKafka

/// The sink's hand-written JSON of a change: decoded with Foundation's JSONDecoder it equals the
/// `KinesisChangeRecord` of the same stream record, for every attribute type and for strings that need
/// escaping.
@Suite(.timeLimit(.minutes(5))) struct KinesisRecordEncodingTests {
    @Test func theWrittenJSONDecodesToTheKinesisRecord() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("eddy-kinesis-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let db = try Database(path: directory)
        let table = try await db.createTable(CreateTableInput(
            tableName: "Things", keySchema: [KeySchemaElement(attributeName: "pk", keyType: .hash)],
            attributeDefinitions: [AttributeDefinition(attributeName: "pk", attributeType: .s)], billingMode: .payPerRequest,
            streamSpecification: StreamSpecification(streamEnabled: true, streamViewType: .newAndOldImages)))
        let arn = try #require(table.latestStreamArn)
        let awkward = "quote \" backslash \\ slash / newline \n tab \t return \r bell \u{07} nul \u{00} unit \u{1F} é ✓ 🙂"
        let item: Item = [
            "pk": .s(awkward), "text": .s(""), "number": .n(try DecimalNumber("-12.5e-3")), "binary": .b([0, 1, 254, 255]),
            "yes": .bool(true), "no": .bool(false), "nothing": .null,
            "map": .m(["inner": .l([.s("a\"b"), .n(DecimalNumber(7)), .m([:]), .l([])]), "flag": .bool(false)]),
            "strings": .ss(["x", awkward]), "numbers": .ns([DecimalNumber(1), try DecimalNumber("3.25")]), "binaries": .bs([[1], [2, 3]]),
            awkward: .s("a name that needs escaping"),
        ]
        try await db.putItem(PutItemInput(tableName: "Things", item: item))
        try await db.updateItem(UpdateItemInput(
            tableName: "Things", key: ["pk": .s(awkward)], updateExpression: "SET #t = :t",
            expressionAttributeNames: ["#t": "text"], expressionAttributeValues: [":t": .s("changed")]))
        try await db.deleteItem(DeleteItemInput(tableName: "Things", key: ["pk": .s(awkward)]))
        var records = try await readStream(db, arn).map { TriggerEventRecord($0.record, streamArn: arn) }
        #expect(records.map(\.eventName) == [.insert, .modify, .remove])
        // A change made by the TTL service carries its identity.
        var expiry = records[2]
        expiry.userIdentity = try JSONDecoder().decode(StreamIdentity.self, from: Data(#"{"Type":"Service","PrincipalId":"dynamodb.amazonaws.com"}"#.utf8))
        records.append(expiry)
        for record in records {
            let json = KinesisChangeRecord.json(record, tableName: "Things")
            let decoded = try JSONDecoder().decode(KinesisChangeRecord.self, from: Data(json))
            #expect(decoded == KinesisChangeRecord(record, tableName: "Things"))
            // Foundation's own parser accepts it as well-formed JSON with the documented top-level fields.
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
            #expect(Set(object.keys).isSuperset(of: ["awsRegion", "eventID", "eventName", "recordFormat", "tableName", "dynamodb", "eventSource"]))
        }
        #expect(KinesisChangeRecord(records[3], tableName: "Things").userIdentity?.principalId == "dynamodb.amazonaws.com")
    }

    /// The time is the commit time in milliseconds when the record carries it (the sink reads records so),
    /// else DynamoDB Streams' seconds times 1000; a change a request made has a null `userIdentity`; and
    /// DynamoDB Streams' own fields stay out.
    @Test func theRecordHasKinesisFieldsAndMilliseconds() throws {
        var record = TriggerEventRecord(
            StreamRecord(
                eventID: "e1", eventName: .insert, eventVersion: "1.1", eventSource: "aws:dynamodb", awsRegion: "eu-west-1",
                dynamodb: StreamRecordData(
                    approximateCreationDateTime: 1_750_000_000, keys: ["pk": "a"], newImage: ["pk": "a", "n": 1],
                    sequenceNumber: "000000000000000000042", sizeBytes: 9, streamViewType: .keysOnly),
                userIdentity: nil),
            streamArn: "arn:aws:dynamodb:eu-west-1:000000000000:table/T/stream/2025-06-15T00:00:00.000")
        #expect(KinesisChangeRecord(record, tableName: "T").dynamodb.approximateCreationDateTime == 1_750_000_000_000)
        record.dynamodb.approximateCreationDateTimeMilliseconds = 1_750_000_000_987
        #expect(KinesisChangeRecord(record, tableName: "T").dynamodb.approximateCreationDateTime == 1_750_000_000_987)
        let json = KinesisChangeRecord.json(record, tableName: "T")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
        #expect(Set(object.keys) == ["awsRegion", "eventID", "eventName", "userIdentity", "recordFormat", "tableName", "dynamodb", "eventSource"])
        #expect(object["userIdentity"] is NSNull)
        let dynamodb = try #require(object["dynamodb"] as? [String: Any])
        #expect(Set(dynamodb.keys) == ["ApproximateCreationDateTime", "Keys", "NewImage", "SizeBytes"])
        #expect(dynamodb["ApproximateCreationDateTime"] as? Int64 == 1_750_000_000_987)
        #expect(try JSONDecoder().decode(KinesisChangeRecord.self, from: Data(json)) == KinesisChangeRecord(record, tableName: "T"))
    }
}
