@testable import Eddy
import Foundation
import Testing

@testable import EddyServer

/// The outputs written without `JSONEncoder` decode, with the engine's `Codable` shapes, to the very values
/// written, and the server answers GetItem with them.
@Suite("Outputs written directly", .timeLimit(.minutes(5)))
struct JSONWritableTests {
    /// An item with every attribute type, and strings that need escaping.
    private static func item() throws -> Item {
        [
            "pk": .s("a \"quoted\" \\ key/with\nnewline\u{01}é"),
            "n": .n(try DecimalNumber("-12.500e3")),
            "b": .b([0, 1, 254, 255]),
            "flag": .bool(false),
            "nothing": .null,
            "list": .l([.s(""), .n(try DecimalNumber("7")), .bool(true)]),
            "map": .m(["inner": .m(["deep": .ss(["x", "y"])]), "nums": .ns([try DecimalNumber("1"), try DecimalNumber("2.5")])]),
            "bins": .bs([[1], [2, 3]]),
        ]
    }

    private static func roundTrip<Output: JSONWritable & Decodable & Equatable>(_ output: Output) throws {
        let decoded = try JSONDecoder().decode(Output.self, from: Data(output.jsonBytes))
        #expect(decoded == output, "\(String(decoding: output.jsonBytes, as: UTF8.self))")
    }

    @Test("GetItem's output, with and without an item")
    func getItemOutput() throws {
        try Self.roundTrip(GetItemOutput(item: try Self.item()))
        try Self.roundTrip(GetItemOutput(item: nil))
        #expect(GetItemOutput(item: nil).jsonBytes == Array("{}".utf8))
    }

    @Test("PutItem's, UpdateItem's and DeleteItem's output, with and without attributes")
    func writeItemOutput() throws {
        try Self.roundTrip(WriteItemOutput(attributes: try Self.item()))
        try Self.roundTrip(WriteItemOutput(attributes: [:]))
        try Self.roundTrip(WriteItemOutput(attributes: nil))
    }

    @Test("Query's and Scan's output: items, counts and the key to go on from")
    func queryOutput() throws {
        let item = try Self.item()
        try Self.roundTrip(QueryOutput(items: [item, ["pk": .s("2")]], count: 2, scannedCount: 5, lastEvaluatedKey: ["pk": .s("2")]))
        try Self.roundTrip(QueryOutput(items: [], count: 0, scannedCount: 0, lastEvaluatedKey: nil))
        try Self.roundTrip(QueryOutput(items: nil, count: 3, scannedCount: 9, lastEvaluatedKey: nil))
    }

    @Test("ConsumedCapacity, as TOTAL and as INDEXES fill it, in every directly written output")
    func consumedCapacity() throws {
        let capacities = [
            ConsumedCapacity(tableName: "Things", capacityUnits: 0.5),
            ConsumedCapacity(
                tableName: "Things", capacityUnits: 5, writeCapacityUnits: 5, table: Capacity(capacityUnits: 2, writeCapacityUnits: 2),
                localSecondaryIndexes: ["byL": Capacity(capacityUnits: 2, writeCapacityUnits: 2)],
                globalSecondaryIndexes: [
                    "byG": Capacity(capacityUnits: 0.5, readCapacityUnits: 0.5), "other": Capacity(capacityUnits: 0.5, readCapacityUnits: 0.5),
                ]),
        ]
        for capacity in capacities {
            try Self.roundTrip(GetItemOutput(item: try Self.item(), consumedCapacity: capacity))
            try Self.roundTrip(GetItemOutput(item: nil, consumedCapacity: capacity))
            try Self.roundTrip(WriteItemOutput(attributes: nil, consumedCapacity: capacity))
            try Self.roundTrip(
                WriteItemOutput(
                    attributes: try Self.item(), itemCollectionMetrics: ItemCollectionMetrics(itemCollectionKey: ["pk": .s("a")], sizeEstimateRangeGB: [0, 1]),
                    consumedCapacity: capacity))
            try Self.roundTrip(QueryOutput(items: nil, count: 0, scannedCount: 0, lastEvaluatedKey: nil, consumedCapacity: capacity))
        }
        #expect(
            String(decoding: GetItemOutput(item: nil, consumedCapacity: capacities[0]).jsonBytes, as: UTF8.self)
                == #"{"ConsumedCapacity":{"TableName":"Things","CapacityUnits":0.5}}"#)
    }

    @Test("The server answers GetItem with the directly written output")
    func serverUsesDirectWriting() async throws {
        try await withServer { server in
            let create = #"{"TableName":"Things","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}"#
            let created = await server.handle(target: "DynamoDB_20120810.CreateTable", body: Array(create.utf8))
            #expect(created.failure == nil)
            let put = #"{"TableName":"Things","Item":{"pk":{"S":"a/b"},"n":{"N":"1.50"}}}"#
            _ = try #require(await server.handle(target: "DynamoDB_20120810.PutItem", body: Array(put.utf8)).success)
            let answer = try #require(
                await server.handle(target: "DynamoDB_20120810.GetItem", body: Array(#"{"TableName":"Things","Key":{"pk":{"S":"a/b"}}}"#.utf8)).success)
            let expected = GetItemOutput(item: ["pk": .s("a/b"), "n": .n(try DecimalNumber("1.5"))])
            #expect(try JSONDecoder().decode(GetItemOutput.self, from: Data(answer)) == expected)
            // JSONEncoder writes a slash as "\/"; JSONWriter writes it as it is. (The bytes are not compared
            // whole: two dictionaries with the same entries may list them in different orders.)
            #expect(String(decoding: answer, as: UTF8.self).contains(#""pk":{"S":"a/b"}"#))
        }
    }

    @Test("The server answers GetRecords with records transcoded from their stored bytes, as JSONEncoder writes them decoded")
    func getRecordsOutput() async throws {
        try await withServer { server in
            let database = server.database
            let table = try await database.createTable(CreateTableInput(
                tableName: "Things", keySchema: [KeySchemaElement(attributeName: "pk", keyType: .hash)],
                attributeDefinitions: [AttributeDefinition(attributeName: "pk", attributeType: .s)], billingMode: .payPerRequest,
                streamSpecification: StreamSpecification(streamEnabled: true, streamViewType: .newAndOldImages)))
            let item = try Self.item()
            try await database.putItem(PutItemInput(tableName: "Things", item: item))
            try await database.putItem(PutItemInput(tableName: "Things", item: item.merging(["flag": .bool(true)]) { _, new in new }))
            try await database.putItem(PutItemInput(tableName: "Things", item: ["pk": .s("second")]))
            try await database.deleteItem(DeleteItemInput(tableName: "Things", key: ["pk": item["pk"]!]))
            let arn = try #require(table.latestStreamArn)
            var recordCount = 0
            for shard in try await database.describeStream(DescribeStreamInput(streamArn: arn)).streamDescription.shards {
                let iterator = try #require(try await database.getShardIterator(
                    GetShardIteratorInput(streamArn: arn, shardId: shard.shardId, shardIteratorType: .trimHorizon)).shardIterator)
                let request = try JSONEncoder().encode(GetRecordsInput(shardIterator: iterator))
                let answer = try #require(await server.handle(target: "DynamoDBStreams_20120810.GetRecords", body: Array(request)).success)
                // The same records as values: a setter makes each record hold decoded items.
                let records = try await database.getRecords(GetRecordsInput(shardIterator: iterator)).records.map { record in
                    var decoded = record
                    decoded.dynamodb.keys = record.dynamodb.keys
                    #expect(decoded.dynamodb.encodedImages == nil && record.dynamodb.encodedImages != nil)
                    return decoded
                }
                recordCount += records.count
                let written = try #require(try JSONSerialization.jsonObject(with: Data(answer)) as? NSDictionary)
                let encoded = try JSONSerialization.jsonObject(with: JSONEncoder().encode(GetRecordsOutput(records: records))) as? NSDictionary
                #expect(written["Records"] as? NSArray == encoded?["Records"] as? NSArray, "\(String(decoding: answer, as: UTF8.self))")
                #expect(written["NextShardIterator"] is String)
            }
            #expect(recordCount == 4)
        }
    }
}
