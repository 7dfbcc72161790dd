import EddyStorage
import Foundation
import Testing

@testable import Eddy

/// `Database(inMemory:)`: the same engine on RocksDB's in-memory environment, writing nothing to disk.
@Suite(.timeLimit(.minutes(5))) struct InMemoryTests {
    @Test func itemsIndexesStreamsAndTransactionsWorkInMemory() async throws {
        let db = try Database(inMemory: .init(streamShardCount: 1))
        _ = try await db.createTable(
            CreateTableInput(
                tableName: "Orders",
                keySchema: [KeySchemaElement(attributeName: "pk", keyType: .hash)],
                attributeDefinitions: [
                    AttributeDefinition(attributeName: "pk", attributeType: .s),
                    AttributeDefinition(attributeName: "status", attributeType: .s),
                ],
                billingMode: .payPerRequest,
                streamSpecification: StreamSpecification(streamEnabled: true, streamViewType: .newImage),
                globalSecondaryIndexes: [
                    GlobalSecondaryIndex(
                        indexName: "byStatus", keySchema: [KeySchemaElement(attributeName: "status", keyType: .hash)],
                        projection: Projection(projectionType: .all))
                ]))
        try await db.putItem(PutItemInput(tableName: "Orders", item: ["pk": "o1", "status": "open"]))
        try await db.transactWriteItems(TransactWriteItemsInput(transactItems: [
            TransactWriteItem(put: TransactPut(tableName: "Orders", item: ["pk": "o2", "status": "open"])),
            TransactWriteItem(put: TransactPut(tableName: "Orders", item: ["pk": "o3", "status": "shipped"])),
        ]))
        // A transaction whose condition fails changes nothing.
        await expectEddyError("TransactionCanceledException") {
            try await db.transactWriteItems(TransactWriteItemsInput(transactItems: [
                TransactWriteItem(put: TransactPut(tableName: "Orders", item: ["pk": "o4", "status": "open"])),
                TransactWriteItem(put: TransactPut(
                    tableName: "Orders", item: ["pk": "o1", "status": "lost"], conditionExpression: "attribute_not_exists(pk)")),
            ]))
        }
        #expect(try await db.getItem(GetItemInput(tableName: "Orders", key: ["pk": "o1"])).item == ["pk": "o1", "status": "open"])
        let open = try await db.query(QueryInput(
            tableName: "Orders", indexName: "byStatus", keyConditionExpression: "#s = :open",
            expressionAttributeNames: ["#s": "status"], expressionAttributeValues: [":open": "open"]))
        #expect(Set((open.items ?? []).compactMap { $0["pk"] }) == ["o1", "o2"])
        #expect(try await db.scan(ScanInput(tableName: "Orders")).items?.count == 3)
        let arn = try #require(try await db.describeTable(tableName: "Orders").latestStreamArn)
        let shard = try #require(try await allShards(db, arn).first).shardId
        let iterator = try #require(try await db.getShardIterator(
            GetShardIteratorInput(streamArn: arn, shardId: shard, shardIteratorType: .trimHorizon)).shardIterator)
        let records = try await db.getRecords(GetRecordsInput(shardIterator: iterator)).records
        #expect(records.compactMap { $0.dynamodb.keys["pk"] } == ["o1", "o2", "o3"])
        await db.close()
    }

    @Test func inMemoryDatabasesAreSeparateAndGoneOnceClosed() async throws {
        let first = try Database(inMemory: .init())
        let second = try Database(inMemory: .init())
        try await createTable(first, "Users")
        #expect(try await second.listTables().tableNames == [])
        await first.close()
        let third = try Database(inMemory: .init())
        #expect(try await third.listTables().tableNames == [])
        await expectEddyError("InternalServerError", "The database is closed") { _ = try await first.listTables() }
        await second.close()
        await third.close()
    }

    /// The working directory gains no file from an in-memory database, its
    /// write-ahead log, table files and RocksDB's info log included.
    @Test func anInMemoryDatabaseWritesNothingToDisk() async throws {
        // Not the temporary directory: tests running alongside create theirs there.
        let watched = [FileManager.default.currentDirectoryPath, "/eddy-in-memory"]
        let before = watched.map(Self.entries)
        let store = try RocksDBStore(inMemory: .init())
        let db = try Database(store: store, configuration: .init())
        try await createTable(db, "Users")
        for index in 0..<200 {
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": .s("u\(index)"), "v": .s(ascii(1_000))]))
        }
        // Table files too, not only the log.
        try store.flush()
        #expect(watched.map(Self.entries) == before)
        #expect(try await db.scan(ScanInput(tableName: "Users")).items?.count == 200)
        await db.close()
        #expect(watched.map(Self.entries) == before)
    }

    private static func entries(of path: String) -> Set<String> {
        Set((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [])
    }
}
