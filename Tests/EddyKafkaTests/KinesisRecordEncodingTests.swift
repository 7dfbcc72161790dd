import ChildProcessSupport
import Eddy
import EddyKafka
import Foundation
import Testing

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
}
