import ChildProcessSupport
import EddyStorage
import Foundation
import Testing

@testable import Eddy

// Secondary indexes, from the DynamoDB Developer Guide ("Improving data access with secondary indexes",
// "Global secondary indexes", "Local secondary indexes") and the CreateTable, UpdateTable, Query and Scan API
// references: index entries follow every write, projections, sparse indexes, reads of an index, index
// creation with backfill and deletion. Every workload ends with the consistency check.

private func key(_ name: String, _ type: KeyType) -> KeySchemaElement {
    KeySchemaElement(attributeName: name, keyType: type)
}

private func definition(_ name: String, _ type: ScalarAttributeType = .s) -> AttributeDefinition {
    AttributeDefinition(attributeName: name, attributeType: type)
}

/// `Orders`: key (customer, orderId); GSI `byStatus` (status, amount) ALL; GSI `byEmail` (email) KEYS_ONLY;
/// GSI `byRegion` (region) INCLUDE [amount]; LSI `byDate` (customer, placedAt) KEYS_ONLY.
private func createOrders(_ db: Database, stream: Bool = false) async throws -> TableDescription {
    try await db.createTable(
        CreateTableInput(
            tableName: "Orders", keySchema: [key("customer", .hash), key("orderId", .range)],
            attributeDefinitions: [
                definition("customer"), definition("orderId"), definition("status"),
                definition("amount", .n), definition("email"),
                definition("region"), definition("placedAt", .n),
            ],
            billingMode: .payPerRequest,
            streamSpecification: stream
                ? StreamSpecification(streamEnabled: true, streamViewType: .newAndOldImages) : nil,
            globalSecondaryIndexes: [
                GlobalSecondaryIndex(
                    indexName: "byStatus", keySchema: [key("status", .hash), key("amount", .range)],
                    projection: Projection(projectionType: .all)),
                GlobalSecondaryIndex(
                    indexName: "byEmail", keySchema: [key("email", .hash)],
                    projection: Projection(projectionType: .keysOnly)),
                GlobalSecondaryIndex(
                    indexName: "byRegion", keySchema: [key("region", .hash)],
                    projection: Projection(projectionType: .include, nonKeyAttributes: ["amount"])),
            ],
            localSecondaryIndexes: [
                LocalSecondaryIndex(
                    indexName: "byDate", keySchema: [key("customer", .hash), key("placedAt", .range)],
                    projection: Projection(projectionType: .keysOnly))
            ]))
}

/// Expects every index of `table` to equal what its items imply.
func expectConsistentIndexes(
    _ db: Database, _ table: String, sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    let report = try await db.checkIndexes(tableName: table)
    #expect(report.isConsistent, "\(report)", sourceLocation: sourceLocation)
}

private func order(
    _ customer: String, _ id: String, status: String? = nil, amount: Int? = nil, email: String? = nil,
    region: String? = nil, placedAt: Int? = nil, note: String = "n"
)
    -> Item
{
    var item: Item = ["customer": .s(customer), "orderId": .s(id), "note": .s(note)]
    if let status { item["status"] = .s(status) }
    if let amount { item["amount"] = num("\(amount)") }
    if let email { item["email"] = .s(email) }
    if let region { item["region"] = .s(region) }
    if let placedAt { item["placedAt"] = num("\(placedAt)") }
    return item
}

private func queryIndex(
    _ db: Database, _ index: String, _ condition: String, _ values: [String: AttributeValue],
    forward: Bool? = nil, limit: Int? = nil, start: Item? = nil, select: Select? = nil,
    consistent: Bool? = nil, projection: String? = nil
) async throws -> QueryOutput {
    try await db.query(
        QueryInput(
            tableName: "Orders", indexName: index, keyConditionExpression: condition,
            scanIndexForward: forward, limit: limit,
            exclusiveStartKey: start, select: select, consistentRead: consistent,
            projectionExpression: projection,
            expressionAttributeNames: names(in: condition), expressionAttributeValues: values))
}

/// The name placeholders `condition` uses: `#s` for `status`, `#r` for `region` (reserved words).
private func names(in condition: String) -> [String: String]? {
    let names = ["#s": "status", "#r": "region"].filter { condition.contains($0.key) }
    return names.isEmpty ? nil : names
}

@Suite(.timeLimit(.minutes(5))) struct SecondaryIndexTests {
    @Test func describeTableReportsEachIndexWithStatusSizeAndCount() async throws {
        try await withDatabase { db in
            let created = try await createOrders(db)
            #expect(
                created.globalSecondaryIndexes?.map(\.indexName) == ["byStatus", "byEmail", "byRegion"])
            #expect(
                created.globalSecondaryIndexes?.allSatisfy {
                    $0.indexStatus == .active && $0.backfilling == nil
                } == true)
            #expect(created.localSecondaryIndexes?.map(\.indexName) == ["byDate"])
            try await db.putItem(
                PutItemInput(
                    tableName: "Orders",
                    item: order("c1", "o1", status: "open", amount: 5, email: "a@x", placedAt: 1)))
            try await db.putItem(
                PutItemInput(tableName: "Orders", item: order("c1", "o2", status: "open", amount: 7)))
            try await db.putItem(PutItemInput(tableName: "Orders", item: order("c2", "o3")))
            let table = try await db.describeTable(tableName: "Orders")
            let globals = Dictionary(
                uniqueKeysWithValues: (table.globalSecondaryIndexes ?? []).map { ($0.indexName, $0) })
            #expect(table.tableStatus == .active)
            #expect(table.itemCount == 3)
            #expect(globals["byStatus"]?.itemCount == 2)
            #expect(globals["byEmail"]?.itemCount == 1)
            #expect(globals["byRegion"]?.itemCount == 0)
            #expect(table.localSecondaryIndexes?.first?.itemCount == 1)
            // An ALL entry is the whole item; a KEYS_ONLY entry holds the table's and the index's keys.
            let full =
                ItemSize.of(order("c1", "o1", status: "open", amount: 5, email: "a@x", placedAt: 1))
                + ItemSize.of(order("c1", "o2", status: "open", amount: 7))
            #expect(globals["byStatus"]?.indexSizeBytes == Int64(full))
            #expect(
                globals["byEmail"]?.indexSizeBytes
                    == Int64(ItemSize.of(["customer": "c1", "orderId": "o1", "email": "a@x"])))
            #expect(
                globals["byStatus"]?.indexArn
                    == "arn:aws:dynamodb:us-east-1:000000000000:table/Orders/index/byStatus")
            #expect(globals["byStatus"]?.projection == Projection(projectionType: .all))
            #expect(
                globals["byRegion"]?.projection
                    == Projection(projectionType: .include, nonKeyAttributes: ["amount"]))
            try await expectConsistentIndexes(db, "Orders")
        }
    }

    @Test func createTableRefusesBadIndexesAsDynamoDBDoes() async throws {
        try await withDatabase { db in
            func input(
                keySchema: [KeySchemaElement] = [key("pk", .hash), key("sk", .range)],
                definitions: [AttributeDefinition] = [definition("pk"), definition("sk"), definition("g")],
                billing: BillingMode = .payPerRequest, globals: [GlobalSecondaryIndex]? = nil,
                locals: [LocalSecondaryIndex]? = nil
            ) -> CreateTableInput {
                CreateTableInput(
                    tableName: "Tab", keySchema: keySchema, attributeDefinitions: definitions,
                    billingMode: billing,
                    provisionedThroughput: billing == .provisioned
                        ? ProvisionedThroughput(readCapacityUnits: 1, writeCapacityUnits: 1) : nil,
                    globalSecondaryIndexes: globals, localSecondaryIndexes: locals)
            }
            let all = Projection(projectionType: .all)
            let gsi = GlobalSecondaryIndex(
                indexName: "gs1", keySchema: [key("g", .hash)], projection: all)
            await expectValidation(
                "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [g], AttributeDefinitions: [pk, sk]"
            ) {
                try await db.createTable(
                    input(definitions: [definition("pk"), definition("sk")], globals: [gsi]))
            }
            await expectValidation(
                "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions"
            ) { try await db.createTable(input()) }
            await expectValidation("One or more parameter values were invalid: Duplicate index name: gs1") {
                try await db.createTable(input(globals: [gsi, gsi]))
            }
            await expectValidation(
                "One or more parameter values were invalid: ProvisionedThroughput must be specified for index: gs1"
            ) {
                try await db.createTable(input(billing: .provisioned, globals: [gsi]))
            }
            var priced = gsi
            priced.provisionedThroughput = ProvisionedThroughput(
                readCapacityUnits: 1, writeCapacityUnits: 1)
            await expectValidation(
                "One or more parameter values were invalid: ProvisionedThroughput should not be specified for index: gs1 when BillingMode is PAY_PER_REQUEST"
            ) { try await db.createTable(input(globals: [priced])) }
            let many = (0..<21).map {
                GlobalSecondaryIndex(indexName: "g\($0)x", keySchema: [key("g", .hash)], projection: all)
            }
            await expectValidation(
                "One or more parameter values were invalid: GlobalSecondaryIndex count exceeds the per-table limit of 20"
            ) {
                try await db.createTable(input(globals: many))
            }
            let lsi = LocalSecondaryIndex(
                indexName: "ls1", keySchema: [key("pk", .hash), key("g", .range)], projection: all)
            let sixLocals = (0..<6).map {
                LocalSecondaryIndex(indexName: "l\($0)x", keySchema: lsi.keySchema, projection: all)
            }
            await expectValidation(
                "One or more parameter values were invalid: Number of LocalSecondaryIndexes exceeds per-table limit of 5"
            ) {
                try await db.createTable(input(locals: sixLocals))
            }
            await expectValidation(
                "One or more parameter values were invalid: Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex"
            ) {
                try await db.createTable(
                    input(
                        keySchema: [key("pk", .hash)], definitions: [definition("pk"), definition("g")],
                        locals: [lsi]))
            }
            await expectValidation(
                "One or more parameter values were invalid: Index KeySchema does not have the same leading hash key as table KeySchema for index: ls1. index hash key: g, table hash key: pk"
            ) {
                try await db.createTable(
                    input(locals: [
                        LocalSecondaryIndex(
                            indexName: "ls1", keySchema: [key("g", .hash), key("sk", .range)], projection: all)
                    ]))
            }
            await expectValidation(
                "One or more parameter values were invalid: ProjectionType is INCLUDE, but NonKeyAttributes is not specified"
            ) {
                try await db.createTable(
                    input(globals: [
                        GlobalSecondaryIndex(
                            indexName: "gs1", keySchema: [key("g", .hash)],
                            projection: Projection(projectionType: .include))
                    ]))
            }
            await expectValidation(
                "One or more parameter values were invalid: ProjectionType is KEYS_ONLY, but NonKeyAttributes is specified"
            ) {
                try await db.createTable(
                    input(globals: [
                        GlobalSecondaryIndex(
                            indexName: "gs1", keySchema: [key("g", .hash)],
                            projection: Projection(projectionType: .keysOnly, nonKeyAttributes: ["a"]))
                    ]))
            }
            let wide = (0..<2).map { position in
                GlobalSecondaryIndex(
                    indexName: "g\(position)x", keySchema: [key("g", .hash)],
                    projection: Projection(
                        projectionType: .include, nonKeyAttributes: (0..<51).map { "a\($0)" }))
            }
            await expectValidation(
                "One or more parameter values were invalid: Number of projected attributes in all indexes exceeds limit of 100, number of projected attributes: 102"
            ) { try await db.createTable(input(globals: wide)) }
            await expectValidation {
                try await db.createTable(
                    input(globals: [
                        GlobalSecondaryIndex(indexName: "g", keySchema: [key("g", .hash)], projection: all)
                    ]))
            }
            let tables = try await db.listTables().tableNames
            #expect(tables.isEmpty)
        }
    }

    @Test func writesMoveEntriesAndSparseIndexesHoldOnlyItemsWithTheKey() async throws {
        try await withDatabase { db in
            try await createOrders(db)
            for number in 0..<10 {
                try await db.putItem(
                    PutItemInput(
                        tableName: "Orders",
                        item: order(
                            "c\(number % 3)", "o\(number)", status: number % 2 == 0 ? "open" : "shipped",
                            amount: number)))
            }
            try await db.putItem(PutItemInput(tableName: "Orders", item: order("c9", "no-status")))
            var open = try await queryIndex(
                db, "byStatus", "#s = :s", [":s": "open"].mapValues { $0 }, forward: false)
            #expect(
                open.items?.compactMap { $0["orderId"] }
                    == ["o8", "o6", "o4", "o2", "o0"].map(AttributeValue.s))
            // An update that changes the index key moves the entry; one that removes it drops the entry.
            try await db.updateItem(
                UpdateItemInput(
                    tableName: "Orders", key: ["customer": "c2", "orderId": "o2"],
                    updateExpression: "SET #s = :s",
                    expressionAttributeNames: ["#s": "status"], expressionAttributeValues: [":s": "shipped"]))
            try await db.updateItem(
                UpdateItemInput(
                    tableName: "Orders", key: ["customer": "c1", "orderId": "o4"],
                    updateExpression: "REMOVE #s",
                    expressionAttributeNames: ["#s": "status"]))
            try await db.deleteItem(
                DeleteItemInput(tableName: "Orders", key: ["customer": "c0", "orderId": "o6"]))
            open = try await queryIndex(
                db, "byStatus", "#s = :s AND amount BETWEEN :a AND :b", [":s": "open", ":a": 0, ":b": 100])
            #expect(open.items?.compactMap { $0["orderId"] } == ["o0", "o8"].map(AttributeValue.s))
            #expect(open.items?.last == order("c2", "o8", status: "open", amount: 8))
            let shipped = try await queryIndex(
                db, "byStatus", "#s = :s AND amount > :t", [":s": "shipped", ":t": 2])
            #expect(
                shipped.items?.compactMap { $0["orderId"] }
                    == ["o3", "o5", "o7", "o9"].map(AttributeValue.s))
            let scanned = try await db.scan(ScanInput(tableName: "Orders", indexName: "byStatus"))
            #expect(scanned.count == 8)
            try await expectConsistentIndexes(db, "Orders")
        }
    }

    @Test func queryPagesThroughAnIndexWithTheTableKeyInLastEvaluatedKey() async throws {
        try await withDatabase { db in
            try await createOrders(db)
            // Equal index keys: entries are told apart, and ordered, by the table's key.
            for number in 0..<25 {
                try await db.putItem(
                    PutItemInput(
                        tableName: "Orders",
                        item: order(
                            "c\(number % 4)", String(format: "o%02d", number), status: "open", amount: number % 5)
                    ))
            }
            var seen: [Item] = []
            var start: Item?
            repeat {
                let page = try await queryIndex(
                    db, "byStatus", "#s = :s", [":s": "open"], limit: 4, start: start)
                seen += page.items ?? []
                start = page.lastEvaluatedKey
                if let start {
                    #expect(Set(start.keys) == ["status", "amount", "customer", "orderId"])
                }
            } while start != nil
            #expect(seen.count == 25)
            let amounts = seen.map { $0["amount"]! }
            #expect(
                amounts
                    == amounts.sorted { lhs, rhs in
                        guard case .n(let l) = lhs, case .n(let r) = rhs else { return false }
                        return l < r
                    })
            #expect(Set(seen.map { $0["orderId"]! }).count == 25)
            // Scan of an index in segments covers every entry once.
            var scanned: [Item] = []
            for segment in 0..<3 {
                var start: Item?
                repeat {
                    let page = try await db.scan(
                        ScanInput(
                            tableName: "Orders", indexName: "byStatus", limit: 3, exclusiveStartKey: start,
                            segment: segment, totalSegments: 3))
                    scanned += page.items ?? []
                    start = page.lastEvaluatedKey
                } while start != nil
            }
            #expect(scanned.count == 25)
            await expectValidation("Exclusive Start Key must have same size as table's key schema") {
                _ = try await queryIndex(
                    db, "byStatus", "#s = :s", [":s": "open"], start: ["customer": "c1", "orderId": "o1"])
            }
        }
    }

    @Test func projectionsDecideWhatAnIndexReturns() async throws {
        try await withDatabase { db in
            try await createOrders(db)
            let full = order(
                "c1", "o1", status: "open", amount: 3, email: "a@x", region: "eu", placedAt: 100,
                note: "fragile")
            try await db.putItem(PutItemInput(tableName: "Orders", item: full))
            #expect(
                try await queryIndex(db, "byEmail", "email = :e", [":e": "a@x"]).items == [
                    ["customer": "c1", "orderId": "o1", "email": "a@x"]
                ])
            #expect(
                try await queryIndex(db, "byRegion", "#r = :r", [":r": "eu"]).items == [
                    ["customer": "c1", "orderId": "o1", "region": "eu", "amount": 3]
                ])
            #expect(try await queryIndex(db, "byStatus", "#s = :s", [":s": "open"]).items == [full])
            #expect(
                try await queryIndex(db, "byRegion", "#r = :r", [":r": "eu"], select: .count).count == 1)
            await expectValidation(
                "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index byEmail because its projection type is not ALL"
            ) {
                _ = try await queryIndex(db, "byEmail", "email = :e", [":e": "a@x"], select: .allAttributes)
            }
            // A local index fetches what it does not project from the table.
            let local = try await queryIndex(
                db, "byDate", "customer = :c AND placedAt > :p", [":c": "c1", ":p": 10])
            #expect(local.items == [["customer": "c1", "orderId": "o1", "placedAt": 100]])
            #expect(
                try await queryIndex(
                    db, "byDate", "customer = :c", [":c": "c1"], select: .allAttributes, consistent: true
                ).items == [full])
            #expect(
                try await queryIndex(db, "byDate", "customer = :c", [":c": "c1"], projection: "note").items
                    == [["note": "fragile"]])
            await expectValidation("Consistent reads are not supported on global secondary indexes") {
                _ = try await queryIndex(db, "byStatus", "#s = :s", [":s": "open"], consistent: true)
            }
            await expectValidation("The table does not have the specified index: nope") {
                _ = try await queryIndex(db, "nope", "#s = :s", [":s": "open"])
            }
            await expectValidation(
                "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName"
            ) {
                _ = try await db.scan(ScanInput(tableName: "Orders", select: .allProjectedAttributes))
            }
            await expectValidation("Query condition missed key schema element: status") {
                _ = try await queryIndex(db, "byStatus", "customer = :c", [":c": "c1"])
            }
            await expectValidation(
                "Filter Expression can only contain non-primary key attributes: Primary key attribute: amount"
            ) {
                _ = try await db.query(
                    QueryInput(
                        tableName: "Orders", indexName: "byStatus", keyConditionExpression: "#s = :s",
                        filterExpression: "amount > :t",
                        expressionAttributeNames: ["#s": "status"],
                        expressionAttributeValues: [":s": "open", ":t": 1]))
            }
        }
    }

    @Test func aWrongTypedIndexKeyIsRefusedAndWritesNothing() async throws {
        try await withStreamDatabase { db, _ in
            let arn = try #require(try await createOrders(db, stream: true).latestStreamArn)
            try await db.putItem(
                PutItemInput(tableName: "Orders", item: order("c1", "o1", status: "open", amount: 1)))
            let before = try await readStream(db, arn).count
            let message =
                "One or more parameter values were invalid: Type mismatch for Index Key amount Expected: N Actual: S IndexName: byStatus"
            await expectValidation(message) {
                try await db.putItem(
                    PutItemInput(
                        tableName: "Orders",
                        item: ["customer": "c1", "orderId": "o2", "status": "open", "amount": "ten"]))
            }
            await expectValidation(message) {
                try await db.updateItem(
                    UpdateItemInput(
                        tableName: "Orders", key: ["customer": "c1", "orderId": "o1"],
                        updateExpression: "SET amount = :t",
                        expressionAttributeValues: [":t": "ten"]))
            }
            await expectValidation(message) {
                try await db.batchWriteItem(
                    BatchWriteItemInput(requestItems: [
                        "Orders": [
                            WriteRequest(putRequest: PutRequest(item: order("c1", "o3"))),
                            WriteRequest(
                                putRequest: PutRequest(item: ["customer": "c1", "orderId": "o4", "amount": "ten"])),
                        ]
                    ]))
            }
            await expectValidation(message) {
                try await db.transactWriteItems(
                    TransactWriteItemsInput(transactItems: [
                        TransactWriteItem(
                            put: TransactPut(
                                tableName: "Orders", item: ["customer": "c1", "orderId": "o5", "amount": "ten"]))
                    ]))
            }
            await expectValidation(
                "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: byEmail, IndexKey: email"
            ) {
                try await db.putItem(
                    PutItemInput(tableName: "Orders", item: ["customer": "c1", "orderId": "o6", "email": ""]))
            }
            #expect(
                try await db.getItem(
                    GetItemInput(tableName: "Orders", key: ["customer": "c1", "orderId": "o1"])
                ).item?["amount"] == 1)
            #expect(try await db.scan(ScanInput(tableName: "Orders")).count == 1)
            #expect(try await readStream(db, arn).count == before)
            try await expectConsistentIndexes(db, "Orders")
        }
    }

    @Test func transactionsAndTimeToLiveMoveIndexEntriesToo() async throws {
        try await withStreamDatabase { db, clock in
            try await createOrders(db)
            try await db.putItem(
                PutItemInput(
                    tableName: "Orders", item: order("c1", "o1", status: "open", amount: 1, email: "e1")))
            try await db.transactWriteItems(
                TransactWriteItemsInput(transactItems: [
                    TransactWriteItem(
                        put: TransactPut(
                            tableName: "Orders", item: order("c1", "o2", status: "open", amount: 2))),
                    TransactWriteItem(
                        update: TransactUpdate(
                            tableName: "Orders", key: ["customer": "c1", "orderId": "o1"],
                            updateExpression: "SET #s = :s, email = :e",
                            expressionAttributeNames: ["#s": "status"],
                            expressionAttributeValues: [":s": "closed", ":e": "e2"])),
                ]))
            #expect(
                try await queryIndex(db, "byStatus", "#s = :s", [":s": "open"]).items?.map { $0["orderId"] }
                    == [.s("o2")])
            #expect(try await queryIndex(db, "byEmail", "email = :e", [":e": "e2"]).count == 1)
            #expect(try await queryIndex(db, "byEmail", "email = :e", [":e": "e1"]).count == 0)
            let expired = Int(clock.nowMilliseconds() / 1000) - 10
            try await db.updateTimeToLive(
                UpdateTimeToLiveInput(
                    tableName: "Orders",
                    timeToLiveSpecification: TimeToLiveSpecification(
                        enabled: true, attributeName: "expiresAt")))
            try await db.putItem(
                PutItemInput(
                    tableName: "Orders",
                    item: order("c1", "o3", status: "open", amount: 3).merging([
                        "expiresAt": num("\(expired)")
                    ]) { $1 }))
            #expect(try await queryIndex(db, "byStatus", "#s = :s", [":s": "open"]).count == 2)
            #expect(try await db.deleteExpiredItems() == 1)
            #expect(try await queryIndex(db, "byStatus", "#s = :s", [":s": "open"]).count == 1)
            try await expectConsistentIndexes(db, "Orders")
        }
    }

    @Test func randomWritesKeepEveryIndexExact() async throws {
        for seed: UInt64 in [1, 2, 3] {
            try await withDatabase { db in
                try await createOrders(db)
                var random = SplitMix64(seed: seed)
                let transactions = try await withThrowingTaskGroup(of: Int.self) { group in
                    for writer in 0..<4 {
                        var local = SplitMix64(seed: random.next() &+ UInt64(writer))
                        group.addTask {
                            var committed = 0
                            for _ in 0..<150 {
                                // A single write to an item a transaction holds fails with TransactionConflictException.
                                do {
                                    let customer = "c\(local.next() % 3)"
                                    let id = "o\(local.next() % 12)"
                                    let status: AttributeValue? = [nil, "open", "shipped"].randomElement(
                                        using: &local)!.map(AttributeValue.s)
                                    switch local.next() % 4 {
                                    case 0:
                                        try await db.deleteItem(
                                            DeleteItemInput(
                                                tableName: "Orders", key: ["customer": .s(customer), "orderId": .s(id)]))
                                    case 1:
                                        var item = order(
                                            customer, id, amount: Int(local.next() % 5),
                                            region: local.next() % 2 == 0 ? "eu" : nil, placedAt: Int(local.next() % 7))
                                        item["status"] = status
                                        try await db.putItem(PutItemInput(tableName: "Orders", item: item))
                                    case 2:
                                        try await db.updateItem(
                                            UpdateItemInput(
                                                tableName: "Orders", key: ["customer": .s(customer), "orderId": .s(id)],
                                                updateExpression: status == nil
                                                    ? "REMOVE #s ADD amount :one" : "SET #s = :s ADD amount :one",
                                                expressionAttributeNames: ["#s": "status"],
                                                expressionAttributeValues: status == nil
                                                    ? [":one": 1] : [":s": status!, ":one": 1]))
                                    default:
                                        try await db.transactWriteItems(
                                            TransactWriteItemsInput(transactItems: [
                                                TransactWriteItem(
                                                    put: TransactPut(
                                                        tableName: "Orders",
                                                        item: order(
                                                            customer, id, status: "open", amount: 1, email: "e\(local.next() % 3)"
                                                        ))),
                                                TransactWriteItem(
                                                    delete: TransactDelete(
                                                        tableName: "Orders",
                                                        key: ["customer": .s(customer), "orderId": .s("x\(id)")])),
                                            ]))
                                        committed += 1
                                    }
                                } catch let error as EddyError {
                                    // Another writer held the item: a single write is refused, a transaction
                                    // cancelled with TransactionConflict for that item; nothing was written.
                                    switch error {
                                    case .transactionConflict:
                                        continue
                                    case .transactionCanceled(_, let reasons):
                                        #expect(reasons.contains { $0.code == "TransactionConflict" }, "\(reasons)")
                                        #expect(reasons.allSatisfy { ["None", "TransactionConflict"].contains($0.code) }, "\(reasons)")
                                    default:
                                        throw error
                                    }
                                }
                            }
                            return committed
                        }
                    }
                    return try await group.reduce(0, +)
                }
                #expect(transactions > 0, "seed \(seed): no transaction committed")
                try await expectConsistentIndexes(db, "Orders")
                let report = try await db.checkIndexes(tableName: "Orders")
                #expect(report.indexes.count == 4)
                #expect(report.indexes.allSatisfy { $0.actualEntries == $0.expectedEntries })
            }
        }
    }

    @Test func theCheckFindsMissingWrongAndExtraEntries() async throws {
        try await withDatabase { db in
            try await createOrders(db)
            try await db.putItem(
                PutItemInput(tableName: "Orders", item: order("c1", "o1", status: "open", amount: 1)))
            try await db.putItem(
                PutItemInput(tableName: "Orders", item: order("c1", "o2", status: "open", amount: 2)))
            let table = try #require(db.catalog.table(named: "Orders"))
            let index = try #require(table.index(named: "byStatus"))
            let first = order("c1", "o1", status: "open", amount: 1)
            var batch = StorageBatch()
            batch.delete(try #require(index.entryKey(of: first)).bytes, in: .indexes)
            let second = order("c1", "o2", status: "open", amount: 2)
            batch.put(
                try #require(index.entryKey(of: second)).bytes,
                ItemEncoding.encode(order("c1", "o2", status: "open", amount: 2, note: "stale")),
                in: .indexes)
            let stray = order("c1", "o9", status: "open", amount: 9)
            batch.put(
                try #require(index.entryKey(of: stray)).bytes, ItemEncoding.encode(stray), in: .indexes)
            try db.store.write(batch, durability: .processCrashSafe)
            let report = try await db.checkIndexes(tableName: "Orders")
            let result = try #require(report.indexes.first { $0.indexName == "byStatus" })
            #expect(!report.isConsistent)
            #expect(
                (result.missingEntries, result.mismatchedEntries, result.unexpectedEntries) == (1, 1, 1))
            #expect(report.indexes.filter { $0.indexName != "byStatus" }.allSatisfy { $0.isConsistent })
        }
    }
}

@Suite(.timeLimit(.minutes(5))) struct IndexUpdateTests {
    private func createEvents(_ db: Database, count: Int) async throws {
        try await createTable(db, "Events", hash: "id")
        for start in stride(from: 0, to: count, by: 25) {
            let requests = (start..<min(start + 25, count)).map { number -> WriteRequest in
                var item: Item = ["id": .s("e\(number)"), "n": num("\(number)")]
                // Most items have a string kind; some a number (the index skips them), some none (sparse).
                switch number % 10 {
                case 0: break
                case 1: item["kind"] = num("\(number)")
                default: item["kind"] = .s("k\(number % 3)")
                }
                return WriteRequest(putRequest: PutRequest(item: item))
            }
            try await db.batchWriteItem(BatchWriteItemInput(requestItems: ["Events": requests]))
        }
    }

    private func addByKind(_ db: Database) async throws -> TableDescription {
        try await db.updateTable(UpdateTableInput(
            tableName: "Events", attributeDefinitions: [definition("id"), definition("kind")],
            globalSecondaryIndexUpdates: [GlobalSecondaryIndexUpdate(create: GlobalSecondaryIndex(
                indexName: "byKind", keySchema: [key("kind", .hash), key("n", .range)], projection: Projection(projectionType: .keysOnly)))]))
    }

    @Test func anAddedIndexBackfillsWhileWritesGoOnAndIsExactWhenActive() async throws {
        try await withDatabase { db in
            try await createEvents(db, count: 6000)
            await expectValidation(
                "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [kind, n], AttributeDefinitions: [id, kind]"
            ) { _ = try await addByKind(db) }
            let added = try await db.updateTable(UpdateTableInput(
                tableName: "Events", attributeDefinitions: [definition("kind"), definition("n", .n)],
                globalSecondaryIndexUpdates: [GlobalSecondaryIndexUpdate(create: GlobalSecondaryIndex(
                    indexName: "byKind", keySchema: [key("kind", .hash), key("n", .range)], projection: Projection(projectionType: .keysOnly)))]))
            let index = try #require(added.globalSecondaryIndexes?.first)
            #expect(index.indexStatus == .creating && index.backfilling == true)
            #expect(added.tableStatus == .updating)
            #expect(Set(added.attributeDefinitions.map(\.attributeName)) == ["id", "kind", "n"])
            // Writes go on during the backfill: kinds change, items come and go.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<3 {
                    group.addTask {
                        for step in 0..<300 {
                            let number = (step * 7 + writer * 1000) % 6000
                            switch step % 3 {
                            case 0:
                                try await db.updateItem(UpdateItemInput(
                                    tableName: "Events", key: ["id": .s("e\(number)")], updateExpression: "SET kind = :k",
                                    expressionAttributeValues: [":k": .s("moved\(writer)")]))
                            case 1:
                                try await db.deleteItem(DeleteItemInput(tableName: "Events", key: ["id": .s("e\(number)")]))
                            default:
                                try await db.putItem(PutItemInput(tableName: "Events", item: ["id": .s("new\(writer)-\(step)"), "n": num("\(step)"), "kind": "fresh"]))
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let active = try await waitUntil {
                try await db.describeTable(tableName: "Events").globalSecondaryIndexes?.first?.indexStatus == .active
            }
            #expect(active)
            let table = try await db.describeTable(tableName: "Events")
            #expect(table.tableStatus == .active)
            #expect(table.globalSecondaryIndexes?.first?.backfilling == nil)
            try await expectConsistentIndexes(db, "Events")
            let fresh = try await db.query(QueryInput(
                tableName: "Events", indexName: "byKind", keyConditionExpression: "kind = :k", expressionAttributeValues: [":k": "fresh"]))
            #expect(fresh.count == 300)
            #expect(fresh.items?.first.map { Set($0.keys) } == ["id", "kind", "n"])
        }
    }

    @Test func updateTableCreatesOrDeletesOneIndexAtATime() async throws {
        try await withDatabase { db in
            try await createEvents(db, count: 50)
            let create = GlobalSecondaryIndexUpdate(create: GlobalSecondaryIndex(
                indexName: "byKind", keySchema: [key("kind", .hash)], projection: Projection(projectionType: .all)))
            let other = GlobalSecondaryIndexUpdate(create: GlobalSecondaryIndex(
                indexName: "byN", keySchema: [key("n", .hash)], projection: Projection(projectionType: .all)))
            await expectEddyError("LimitExceededException", "Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table") {
                try await db.updateTable(UpdateTableInput(
                    tableName: "Events", attributeDefinitions: [definition("kind"), definition("n", .n)], globalSecondaryIndexUpdates: [create, other]))
            }
            try await db.updateTable(UpdateTableInput(tableName: "Events", attributeDefinitions: [definition("kind")], globalSecondaryIndexUpdates: [create]))
            #expect(try await waitUntil { try await db.describeTable(tableName: "Events").tableStatus == .active })
            await expectValidation("One or more parameter values were invalid: Index with name: byKind already exists") {
                try await db.updateTable(UpdateTableInput(tableName: "Events", attributeDefinitions: [definition("kind")], globalSecondaryIndexUpdates: [create]))
            }
            await expectValidation("One or more parameter values were invalid: Attribute kind is already defined with type S") {
                try await db.updateTable(UpdateTableInput(
                    tableName: "Events", attributeDefinitions: [definition("kind", .n)],
                    globalSecondaryIndexUpdates: [GlobalSecondaryIndexUpdate(create: GlobalSecondaryIndex(
                        indexName: "byKindAgain", keySchema: [key("kind", .hash)], projection: Projection(projectionType: .all)))]))
            }
            await expectEddyError("ResourceNotFoundException", "Requested resource not found: Index: nope not found") {
                try await db.updateTable(UpdateTableInput(
                    tableName: "Events", globalSecondaryIndexUpdates: [GlobalSecondaryIndexUpdate(delete: DeleteGlobalSecondaryIndexAction(indexName: "nope"))]))
            }
            await expectValidation(
                "One or more parameter values were invalid: ProvisionedThroughput should not be specified for index: byKind when BillingMode is PAY_PER_REQUEST"
            ) {
                try await db.updateTable(UpdateTableInput(
                    tableName: "Events",
                    globalSecondaryIndexUpdates: [GlobalSecondaryIndexUpdate(update: UpdateGlobalSecondaryIndexAction(
                        indexName: "byKind", provisionedThroughput: ProvisionedThroughput(readCapacityUnits: 1, writeCapacityUnits: 1)))]))
            }
            #expect(try await db.scan(ScanInput(tableName: "Events", indexName: "byKind")).count == 40)
            let deleted = try await db.updateTable(UpdateTableInput(
                tableName: "Events", globalSecondaryIndexUpdates: [GlobalSecondaryIndexUpdate(delete: DeleteGlobalSecondaryIndexAction(indexName: "byKind"))]))
            #expect(deleted.globalSecondaryIndexes?.map(\.indexStatus) == [.deleting])
            #expect(deleted.attributeDefinitions.map(\.attributeName) == ["id"])
            await expectValidation("The table does not have the specified index: byKind") {
                _ = try await db.scan(ScanInput(tableName: "Events", indexName: "byKind"))
            }
            // The entries went with the index, and writes no longer touch it.
            let cursor = try db.store.scan(in: .indexes, from: nil, to: nil, direction: .forward, snapshot: nil)
            #expect(try cursor.next() == nil)
            try await db.putItem(PutItemInput(tableName: "Events", item: ["id": "late", "kind": 5]))
            #expect(try await db.describeTable(tableName: "Events").globalSecondaryIndexes == nil)
        }
    }

    @Test func indexesSurviveReopening() async throws {
        try await withTemporaryDirectory { path in
            do {
                let db = try Database(path: path + "/db")
                try await createOrders(db)
                try await db.putItem(PutItemInput(tableName: "Orders", item: order("c1", "o1", status: "open", amount: 1, email: "e")))
            }
            let db = try Database(path: path + "/db")
            let reopened = try await db.describeTable(tableName: "Orders")
            #expect(reopened.globalSecondaryIndexes?.map(\.itemCount) == [1, 1, 0])
            #expect(try await queryIndex(db, "byEmail", "email = :e", [":e": "e"]).count == 1)
            try await db.putItem(PutItemInput(tableName: "Orders", item: order("c1", "o1", status: "shut", amount: 1)))
            #expect(try await queryIndex(db, "byEmail", "email = :e", [":e": "e"]).count == 0)
            try await expectConsistentIndexes(db, "Orders")
        }
    }
}

@Suite(.timeLimit(.minutes(5))) struct ItemCollectionTests {
    @Test func aWritePastTheCollectionLimitIsRefusedAndWritesNothing() async throws {
        try await withTemporaryDirectory { path in
            let db = try Database(path: path + "/db", configuration: Database.Configuration(itemCollectionSizeLimitBytes: 2000))
            try await createOrders(db)
            let note = String(repeating: "n", count: 100)
            var written = 0
            var refusal: EddyError?
            for number in 0..<100 where refusal == nil {
                do {
                    try await db.putItem(PutItemInput(tableName: "Orders", item: order("c1", "o\(number)", placedAt: number, note: note)))
                    written += 1
                } catch let error as EddyError {
                    refusal = error
                }
            }
            #expect(refusal?.errorType == "ItemCollectionSizeLimitExceededException")
            #expect(refusal?.message == "Collection size exceeded.")
            #expect(written > 5 && written < 20)
            let collection = try await db.query(QueryInput(
                tableName: "Orders", keyConditionExpression: "customer = :c", expressionAttributeValues: [":c": "c1"]))
            #expect(collection.count == written)
            #expect(try await queryIndex(db, "byDate", "customer = :c", [":c": "c1"]).count == written)
            // An update that grows the collection is refused too; one that shrinks it, or a delete, is not.
            await expectEddyError("ItemCollectionSizeLimitExceededException") {
                try await db.updateItem(UpdateItemInput(
                    tableName: "Orders", key: ["customer": "c1", "orderId": "o0"], updateExpression: "SET extra = :e",
                    expressionAttributeValues: [":e": .s(note + note)]))
            }
            try await db.updateItem(UpdateItemInput(
                tableName: "Orders", key: ["customer": "c1", "orderId": "o0"], updateExpression: "REMOVE note"))
            try await db.deleteItem(DeleteItemInput(tableName: "Orders", key: ["customer": "c1", "orderId": "o1"]))
            try await db.putItem(PutItemInput(tableName: "Orders", item: order("c1", "again", placedAt: 1, note: note)))
            // Other collections are independent.
            let other = try await db.putItem(PutItemInput(
                tableName: "Orders", item: order("c2", "o1", placedAt: 1, note: note), returnItemCollectionMetrics: .size))
            #expect(other.itemCollectionMetrics == ItemCollectionMetrics(itemCollectionKey: ["customer": "c2"], sizeEstimateRangeGB: [0, 1]))
            let batch = try await db.batchWriteItem(BatchWriteItemInput(
                requestItems: ["Orders": [
                    WriteRequest(putRequest: PutRequest(item: order("c3", "o1"))), WriteRequest(putRequest: PutRequest(item: order("c3", "o2"))),
                    WriteRequest(putRequest: PutRequest(item: order("c4", "o1"))),
                ]],
                returnItemCollectionMetrics: .size))
            #expect(Set(batch.itemCollectionMetrics?["Orders"]?.map(\.itemCollectionKey) ?? []) == [["customer": "c3"], ["customer": "c4"]])
            let transaction = try await db.transactWriteItems(TransactWriteItemsInput(
                transactItems: [
                    TransactWriteItem(put: TransactPut(tableName: "Orders", item: order("c5", "o1"))),
                    TransactWriteItem(delete: TransactDelete(tableName: "Orders", key: ["customer": "c3", "orderId": "o2"])),
                    TransactWriteItem(conditionCheck: TransactConditionCheck(
                        tableName: "Orders", key: ["customer": "c4", "orderId": "o1"], conditionExpression: "attribute_exists(orderId)")),
                ],
                returnItemCollectionMetrics: .size))
            #expect(Set(transaction.itemCollectionMetrics?["Orders"]?.map(\.itemCollectionKey) ?? []) == [["customer": "c5"], ["customer": "c3"]])
            let report = try await db.checkIndexes(tableName: "Orders")
            #expect(report.isConsistent, "\(report)")
            #expect(report.itemCollections == 5)
        }
    }

    @Test func onlyTablesWithLocalIndexesReportCollections() async throws {
        try await withDatabase { db in
            try await createTable(db, "Plain", hash: "pk", range: "sk")
            let output = try await db.putItem(PutItemInput(tableName: "Plain", item: ["pk": "a", "sk": "b"], returnItemCollectionMetrics: .size))
            #expect(output.itemCollectionMetrics == nil)
            let report = try await db.checkIndexes(tableName: "Plain")
            #expect(report.indexes.isEmpty && report.itemCollections == 0 && report.isConsistent)
        }
    }
}
