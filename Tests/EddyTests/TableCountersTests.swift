import ChildProcessSupport
import EddyStorage
import Foundation
import Testing

@testable import Eddy

// DescribeTable's ItemCount, TableSizeBytes, and each index's ItemCount and IndexSizeBytes (DescribeTable API
// reference; sizes as the Developer Guide's "Item sizes and formats" counts them) are kept as counters by
// every write kind. Each test keeps a model of what the table should hold and compares the description with
// the model's count and size, then runs the consistency check, which compares the counters with a fresh
// count.

/// `Shop`: key `pk`; GSI `byColor` (color) KEYS_ONLY, sparse: only items with a `color` have an entry.
private func createShop(_ db: Database, name: String = "Shop") async throws {
    try await db.createTable(
        CreateTableInput(
            tableName: name, keySchema: [KeySchemaElement(attributeName: "pk", keyType: .hash)],
            attributeDefinitions: [
                AttributeDefinition(attributeName: "pk", attributeType: .s),
                AttributeDefinition(attributeName: "color", attributeType: .s),
            ],
            billingMode: .payPerRequest,
            globalSecondaryIndexes: [
                GlobalSecondaryIndex(
                    indexName: "byColor", keySchema: [KeySchemaElement(attributeName: "color", keyType: .hash)],
                    projection: Projection(projectionType: .keysOnly))
            ]))
}

/// What a table holds, as the test expects it.
private struct Model {
    var items: [String: Item] = [:]

    /// DescribeTable's ItemCount and TableSizeBytes for these items.
    var table: (count: Int64, bytes: Int64) {
        (Int64(items.count), Int64(items.values.reduce(0) { $0 + ItemSize.of($1) }))
    }

    /// `byColor`'s ItemCount and IndexSizeBytes: an entry (pk and color) per item with a color.
    var byColor: (count: Int64, bytes: Int64) {
        let entries = items.values.filter { $0["color"] != nil }.map { $0.filter { ["pk", "color"].contains($0.key) } }
        return (Int64(entries.count), Int64(entries.reduce(0) { $0 + ItemSize.of($1) }))
    }

    mutating func put(_ item: Item) {
        guard case .s(let key)? = item["pk"] else { return }
        items[key] = item
    }
}

/// Expects DescribeTable of `table` to report `model`'s counts and sizes (with `byColor` when the table has
/// it) and the consistency check to find the counters exact.
private func expectCounts(
    _ db: Database, _ table: String, _ model: Model, sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    let description = try await db.describeTable(tableName: table)
    #expect(description.itemCount == model.table.count, "ItemCount", sourceLocation: sourceLocation)
    #expect(description.tableSizeBytes == model.table.bytes, "TableSizeBytes", sourceLocation: sourceLocation)
    if let index = description.globalSecondaryIndexes?.first(where: { $0.indexName == "byColor" }) {
        #expect(index.itemCount == model.byColor.count, "index ItemCount", sourceLocation: sourceLocation)
        #expect(index.indexSizeBytes == model.byColor.bytes, "IndexSizeBytes", sourceLocation: sourceLocation)
    }
    let report = try await db.checkIndexes(tableName: table)
    #expect(report.isConsistent, "\(report)", sourceLocation: sourceLocation)
    #expect(report.keptItemCount == model.table.count && report.keptTableSizeBytes == model.table.bytes, sourceLocation: sourceLocation)
}

@Suite(.timeLimit(.minutes(5))) struct TableCountersTests {
    @Test func sizesFollowDynamoDBsItemSizeRules() async throws {
        try await withDatabase { db in
            try await createShop(db)
            // "pk" 2 + "a" 1; "color" 5 + "red" 3; "n" 1 + 12345 (5 significant digits: 3 + 1 = 4); "ok" 2 + 1.
            try await db.putItem(PutItemInput(tableName: "Shop", item: ["pk": "a", "color": "red", "n": num("12345"), "ok": .bool(true)]))
            let description = try await db.describeTable(tableName: "Shop")
            #expect(description.itemCount == 1)
            #expect(description.tableSizeBytes == 3 + 8 + 5 + 3)
            // The KEYS_ONLY entry holds pk and color: 3 + 8.
            #expect(description.globalSecondaryIndexes?.first?.itemCount == 1)
            #expect(description.globalSecondaryIndexes?.first?.indexSizeBytes == 11)
        }
    }

    @Test func putsUpdatesAndDeletesKeepExactCounts() async throws {
        try await withDatabase { db in
            try await createShop(db)
            var model = Model()
            try await expectCounts(db, "Shop", model)
            let steps: [(String, (Database, inout Model) async throws -> Void)] = [
                ("put a new item", { db, model in
                    let item: Item = ["pk": "a", "color": "red", "note": "first"]
                    try await db.putItem(PutItemInput(tableName: "Shop", item: item))
                    model.put(item)
                }),
                ("put an item without an index key", { db, model in
                    let item: Item = ["pk": "b", "note": "plain"]
                    try await db.putItem(PutItemInput(tableName: "Shop", item: item))
                    model.put(item)
                }),
                ("replace an item by a larger one", { db, model in
                    let item: Item = ["pk": "a", "color": "crimson", "note": "second and longer"]
                    try await db.putItem(PutItemInput(tableName: "Shop", item: item))
                    model.put(item)
                }),
                ("put an identical item", { db, model in
                    try await db.putItem(PutItemInput(tableName: "Shop", item: model.items["a"]!))
                }),
                ("update that adds an index key", { db, model in
                    try await db.updateItem(UpdateItemInput(
                        tableName: "Shop", key: ["pk": "b"], updateExpression: "SET color = :c, tags = :t",
                        expressionAttributeValues: [":c": "blue", ":t": .ss(["x", "yz"])]))
                    model.items["b"]!["color"] = "blue"
                    model.items["b"]!["tags"] = .ss(["x", "yz"])
                }),
                ("update that creates an item", { db, model in
                    try await db.updateItem(UpdateItemInput(
                        tableName: "Shop", key: ["pk": "c"], updateExpression: "SET nested = :m",
                        expressionAttributeValues: [":m": .m(["l": .l([num("1.5"), .null])])]))
                    model.put(["pk": "c", "nested": .m(["l": .l([num("1.5"), .null])])])
                }),
                ("update that removes attributes", { db, model in
                    try await db.updateItem(UpdateItemInput(
                        tableName: "Shop", key: ["pk": "a"], updateExpression: "REMOVE color, note"))
                    model.items["a"] = ["pk": "a"]
                }),
                ("delete an item", { db, model in
                    try await db.deleteItem(DeleteItemInput(tableName: "Shop", key: ["pk": "b"]))
                    model.items["b"] = nil
                }),
                ("delete an absent item", { db, _ in
                    try await db.deleteItem(DeleteItemInput(tableName: "Shop", key: ["pk": "nothing"]))
                }),
                ("legacy update with ADD", { db, model in
                    try await db.updateItem(UpdateItemInput(
                        tableName: "Shop", key: ["pk": "c"],
                        attributeUpdates: ["count": AttributeValueUpdate(value: num("7"), action: .add)]))
                    model.items["c"]!["count"] = num("7")
                }),
            ]
            for (name, step) in steps {
                try await step(db, &model)
                try await expectCounts(db, "Shop", model)
                #expect(try await db.describeTable(tableName: "Shop").itemCount == model.table.count, "after: \(name)")
            }
        }
    }

    @Test func failedAndConditionalWritesChangeNothing() async throws {
        try await withDatabase { db in
            try await createShop(db)
            var model = Model()
            let existing: Item = ["pk": "a", "color": "red"]
            try await db.putItem(PutItemInput(tableName: "Shop", item: existing))
            model.put(existing)
            await expectEddyError("ConditionalCheckFailedException") {
                try await db.putItem(PutItemInput(
                    tableName: "Shop", item: ["pk": "a", "color": "green", "more": "x"], conditionExpression: "attribute_not_exists(pk)"))
            }
            await expectEddyError("ConditionalCheckFailedException") {
                try await db.putItem(PutItemInput(
                    tableName: "Shop", item: ["pk": "new"], conditionExpression: "attribute_exists(pk)"))
            }
            await expectEddyError("ConditionalCheckFailedException") {
                try await db.updateItem(UpdateItemInput(
                    tableName: "Shop", key: ["pk": "a"], updateExpression: "SET more = :m", conditionExpression: "color = :c",
                    expressionAttributeValues: [":m": "x", ":c": "blue"]))
            }
            await expectEddyError("ConditionalCheckFailedException") {
                try await db.deleteItem(DeleteItemInput(tableName: "Shop", key: ["pk": "a"], conditionExpression: "attribute_not_exists(pk)"))
            }
            // An index key of the wrong type is refused and writes nothing.
            await expectValidation {
                try await db.putItem(PutItemInput(tableName: "Shop", item: ["pk": "n", "color": num("1")]))
            }
            // An item over 400 KB is refused.
            await expectValidation {
                try await db.putItem(PutItemInput(tableName: "Shop", item: ["pk": "big", "blob": .s(String(repeating: "x", count: 410_000))]))
            }
            try await expectCounts(db, "Shop", model)
            // A condition that holds writes, and counts.
            try await db.putItem(PutItemInput(
                tableName: "Shop", item: ["pk": "b", "color": "teal"], conditionExpression: "attribute_not_exists(pk)"))
            model.put(["pk": "b", "color": "teal"])
            try await expectCounts(db, "Shop", model)
        }
    }

    @Test func batchWritesCountEveryTable() async throws {
        try await withDatabase { db in
            try await createShop(db)
            try await createShop(db, name: "Other")
            var shop = Model()
            var other = Model()
            try await db.putItem(PutItemInput(tableName: "Shop", item: ["pk": "gone", "color": "red"]))
            try await db.batchWriteItem(BatchWriteItemInput(requestItems: [
                "Shop": (0..<10).map { WriteRequest(putRequest: PutRequest(item: ["pk": .s("s\($0)"), "color": .s("c\($0 % 3)")])) }
                    + [WriteRequest(deleteRequest: DeleteRequest(key: ["pk": "gone"])),
                       WriteRequest(deleteRequest: DeleteRequest(key: ["pk": "absent"]))],
                "Other": (0..<5).map { WriteRequest(putRequest: PutRequest(item: ["pk": .s("o\($0)"), "v": num("\($0 * 11)")])) },
            ]))
            for n in 0..<10 { shop.put(["pk": .s("s\(n)"), "color": .s("c\(n % 3)")]) }
            for n in 0..<5 { other.put(["pk": .s("o\(n)"), "v": num("\(n * 11)")]) }
            try await expectCounts(db, "Shop", shop)
            try await expectCounts(db, "Other", other)
            // A second batch overwrites some and deletes others.
            try await db.batchWriteItem(BatchWriteItemInput(requestItems: [
                "Shop": [WriteRequest(putRequest: PutRequest(item: ["pk": "s1", "note": "no color now"])),
                         WriteRequest(deleteRequest: DeleteRequest(key: ["pk": "s2"]))],
            ]))
            shop.put(["pk": "s1", "note": "no color now"])
            shop.items["s2"] = nil
            try await expectCounts(db, "Shop", shop)
        }
    }

    @Test func transactionsCountAllOrNothing() async throws {
        try await withDatabase { db in
            try await createShop(db)
            try await createShop(db, name: "Other")
            var shop = Model()
            var other = Model()
            try await db.putItem(PutItemInput(tableName: "Shop", item: ["pk": "old", "color": "red"]))
            shop.put(["pk": "old", "color": "red"])
            try await db.transactWriteItems(TransactWriteItemsInput(transactItems: [
                TransactWriteItem(put: TransactPut(tableName: "Shop", item: ["pk": "t1", "color": "green"])),
                TransactWriteItem(update: TransactUpdate(
                    tableName: "Other", key: ["pk": "u"], updateExpression: "SET v = :v", expressionAttributeValues: [":v": "value"])),
                TransactWriteItem(delete: TransactDelete(tableName: "Shop", key: ["pk": "old"])),
                TransactWriteItem(conditionCheck: TransactConditionCheck(
                    tableName: "Other", key: ["pk": "none"], conditionExpression: "attribute_not_exists(pk)")),
            ]))
            shop.put(["pk": "t1", "color": "green"])
            shop.items["old"] = nil
            other.put(["pk": "u", "v": "value"])
            try await expectCounts(db, "Shop", shop)
            try await expectCounts(db, "Other", other)
            // A cancelled transaction writes nothing.
            await expectEddyError("TransactionCanceledException") {
                try await db.transactWriteItems(TransactWriteItemsInput(transactItems: [
                    TransactWriteItem(put: TransactPut(tableName: "Shop", item: ["pk": "t2", "color": "blue"])),
                    TransactWriteItem(delete: TransactDelete(tableName: "Shop", key: ["pk": "t1"])) ,
                    TransactWriteItem(put: TransactPut(
                        tableName: "Other", item: ["pk": "u"], conditionExpression: "attribute_not_exists(pk)")),
                ]))
            }
            try await expectCounts(db, "Shop", shop)
            try await expectCounts(db, "Other", other)
        }
    }

    @Test func timeToLiveDeletionsCount() async throws {
        try await withTemporaryDirectory { path in
            let clock = ManualWallClock(milliseconds: 1_750_000_000_000)
            let db = try Database(path: path + "/db", configuration: .init(clock: clock))
            try await createShop(db)
            try await db.updateTimeToLive(UpdateTimeToLiveInput(
                tableName: "Shop", timeToLiveSpecification: TimeToLiveSpecification(enabled: true, attributeName: "expiresAt")))
            var model = Model()
            for n in 0..<6 {
                let item: Item = ["pk": .s("i\(n)"), "color": "c", "expiresAt": num(n < 4 ? "1749999000" : "1750009000")]
                try await db.putItem(PutItemInput(tableName: "Shop", item: item))
                model.put(item)
            }
            #expect(try await db.deleteExpiredItems() == 4)
            for n in 0..<4 { model.items["i\(n)"] = nil }
            try await expectCounts(db, "Shop", model)
        }
    }

    @Test func derivativeWritesCountInTheTargetTable() async throws {
        try await withDatabase { db in
            let arn = try #require(try await createStreamTable(db, "Orders").latestStreamArn)
            try await createStreamTable(db, "Copies")
            let runtime = TriggerRuntime(database: db)
            try await runtime.registerDerivative(
                name: "copy", configuration: TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon),
                targetTables: ["Copies"]
            ) { record in
                guard let key = record.dynamodb.keys["pk"] else { return [] }
                if let image = record.dynamodb.newImage { return [.put(tableName: "Copies", item: image)] }
                return [.delete(tableName: "Copies", key: ["pk": key])]
            }
            let running = Task { await runtime.run() }
            var model = Model()
            for n in 0..<8 {
                let item: Item = ["pk": .s("o\(n)"), "amount": num("\(n * 3)")]
                try await db.putItem(PutItemInput(tableName: "Orders", item: item))
                model.put(item)
            }
            for n in 0..<3 {
                try await db.deleteItem(DeleteItemInput(tableName: "Orders", key: ["pk": .s("o\(n)")]))
                model.items["o\(n)"] = nil
            }
            try await runtime.waitUntilCaughtUp("copy")
            running.cancel()
            await running.value
            try await expectCounts(db, "Copies", model)
            try await expectCounts(db, "Orders", model)
        }
    }

    @Test func anIndexCreatedOnAPopulatedTableIsCountedAndItsDeletionForgetsIt() async throws {
        try await withDatabase { db in
            try await createTable(db, "Shop")
            var model = Model()
            for n in 0..<1200 {
                var item: Item = ["pk": .s("p\(n)"), "w": num("\(n)")]
                if n % 3 != 0 { item["color"] = .s("c\(n % 7)") }
                try await db.putItem(PutItemInput(tableName: "Shop", item: item))
                model.put(item)
            }
            try await db.updateTable(UpdateTableInput(
                tableName: "Shop", attributeDefinitions: [AttributeDefinition(attributeName: "color", attributeType: .s)],
                globalSecondaryIndexUpdates: [GlobalSecondaryIndexUpdate(create: GlobalSecondaryIndex(
                    indexName: "byColor", keySchema: [KeySchemaElement(attributeName: "color", keyType: .hash)],
                    projection: Projection(projectionType: .keysOnly)))]))
            // Writes during the backfill: the entries they write are counted once, by them or by the backfill.
            for n in stride(from: 0, to: 1200, by: 50) {
                let item: Item = ["pk": .s("p\(n)"), "color": "during"]
                try await db.putItem(PutItemInput(tableName: "Shop", item: item))
                model.put(item)
            }
            let active = try await waitUntil {
                try await db.describeTable(tableName: "Shop").globalSecondaryIndexes?.first?.indexStatus == .active
            }
            #expect(active)
            try await expectCounts(db, "Shop", model)
            let index = try #require(try await db.describeTable(tableName: "Shop").globalSecondaryIndexes?.first)
            #expect(index.itemCount == model.byColor.count && model.byColor.count > 0)
            let indexId = try #require(db.catalog.table(named: "Shop")?.indexes.first?.id)

            try await db.updateTable(UpdateTableInput(
                tableName: "Shop", globalSecondaryIndexUpdates: [GlobalSecondaryIndexUpdate(delete: DeleteGlobalSecondaryIndexAction(indexName: "byColor"))]))
            #expect(try db.store.get(TableCounter.key(of: indexId), in: .catalog, snapshot: nil) == nil)
            try await expectCounts(db, "Shop", model)
        }
    }

    @Test func deleteTableRemovesTheCountersAndANewTableStartsAtZero() async throws {
        try await withDatabase { db in
            try await createShop(db)
            try await db.putItem(PutItemInput(tableName: "Shop", item: ["pk": "a", "color": "red"]))
            let table = try #require(db.catalog.table(named: "Shop"))
            try await db.deleteTable(tableName: "Shop")
            for id in [table.id] + table.indexes.map(\.id) {
                #expect(try db.store.get(TableCounter.key(of: id), in: .catalog, snapshot: nil) == nil)
            }
            try await createShop(db)
            try await expectCounts(db, "Shop", Model())
        }
    }

    @Test func concurrentWritersKeepExactCounts() async throws {
        try await withDatabase { db in
            try await createShop(db)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<4 {
                    group.addTask {
                        var random = SplitMix64(seed: UInt64(writer))
                        for _ in 0..<300 {
                            let key = AttributeValue.s("k\(Int.random(in: 0..<40, using: &random))")
                            switch Int.random(in: 0..<3, using: &random) {
                            case 0:
                                try await db.deleteItem(DeleteItemInput(tableName: "Shop", key: ["pk": key]))
                            case 1:
                                try await db.updateItem(UpdateItemInput(
                                    tableName: "Shop", key: ["pk": key], updateExpression: "SET color = :c",
                                    expressionAttributeValues: [":c": .s(String(repeating: "c", count: writer + 1))]))
                            default:
                                try await db.putItem(PutItemInput(
                                    tableName: "Shop", item: ["pk": key, "by": .s("writer\(writer)")]))
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            var model = Model()
            for item in try await db.scan(ScanInput(tableName: "Shop")).items ?? [] { model.put(item) }
            try await expectCounts(db, "Shop", model)
        }
    }

    @Test func countersSurviveARestartAndAreCountedForAnOldDirectory() async throws {
        try await withTemporaryDirectory { path in
            var model = Model()
            var ids: [UInt64] = []
            do {
                let db = try Database(path: path + "/db")
                try await createShop(db)
                for n in 0..<50 {
                    let item: Item = ["pk": .s("r\(n)"), "color": n % 2 == 0 ? "even" : "odd", "n": num("\(n)")]
                    try await db.putItem(PutItemInput(tableName: "Shop", item: item))
                    model.put(item)
                }
                let table = try #require(db.catalog.table(named: "Shop"))
                ids = [table.id] + table.indexes.map(\.id)
            }
            do {
                let db = try Database(path: path + "/db")
                try await expectCounts(db, "Shop", model)
                // A data directory written before Eddy kept counters has none.
                var batch = StorageBatch()
                for id in ids { batch.delete(TableCounter.key(of: id), in: .catalog) }
                try db.store.write(batch, durability: .machineCrashSafe)
            }
            let db = try Database(path: path + "/db")
            try await expectCounts(db, "Shop", model)
            try await db.deleteItem(DeleteItemInput(tableName: "Shop", key: ["pk": "r0"]))
            model.items["r0"] = nil
            try await expectCounts(db, "Shop", model)
        }
    }

    @Test func theCheckFindsACounterThatIsWrong() async throws {
        try await withDatabase { db in
            try await createShop(db)
            try await db.putItem(PutItemInput(tableName: "Shop", item: ["pk": "a", "color": "red"]))
            let table = try #require(db.catalog.table(named: "Shop"))
            var batch = StorageBatch()
            batch.put(TableCounter.key(of: table.id), TableCounter(itemCount: 2, sizeBytes: 11).encoded(), in: .catalog)
            try db.store.write(batch, durability: .machineCrashSafe)
            let report = try await db.checkIndexes(tableName: "Shop")
            #expect(!report.isConsistent)
            #expect(report.itemCount == 1 && report.keptItemCount == 2 && report.tableSizeBytes == 11)
            #expect(report.indexes.allSatisfy { $0.isConsistent })
        }
    }
}
