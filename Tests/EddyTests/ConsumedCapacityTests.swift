import Testing

@testable import Eddy

// The capacity every operation consumes, written from the Developer Guide ("Read and write operations",
// "Item sizes and formats", the index "Provisioned throughput considerations", "Capacity management for
// transactions", "Working with items and attributes": "Capacity units consumed by conditional writes") and
// the API Reference's `ConsumedCapacity`.

/// An item of table `Tbl` (key `pk`) whose DynamoDB size is exactly `sizeBytes`: `pk` (2 bytes) with a
/// one-character value, and `d` (1 byte) with the rest.
private func item(_ key: String, sizeBytes: Int) -> Item {
    ["pk": .s(key), "d": .s(String(repeating: "x", count: sizeBytes - 4))]
}

private func withTable(_ body: (Database) async throws -> Void) async throws {
    try await withDatabase { db in
        try await createTable(db, "Tbl")
        try await body(db)
    }
}

/// The total a TOTAL charge reports.
private func total(_ capacity: ConsumedCapacity?) -> Double? {
    capacity?.capacityUnits
}

@Suite("Consumed capacity", .timeLimit(.minutes(5)))
struct ConsumedCapacityTests {
    @Test(
        "GetItem: 4 KB units of the whole item, half when eventually consistent, the minimum when missing",
        arguments: [
            (4096, true, 1.0), (4096, false, 0.5), (4097, true, 2.0), (4097, false, 1.0), (0, true, 1.0), (0, false, 0.5),
        ])
    func getItem(sizeBytes: Int, consistent: Bool, units: Double) async throws {
        try await withTable { db in
            if sizeBytes > 0 { try await db.putItem(PutItemInput(tableName: "Tbl", item: item("a", sizeBytes: sizeBytes))) }
            let output = try await db.getItem(
                GetItemInput(tableName: "Tbl", key: ["pk": "a"], consistentRead: consistent, returnConsumedCapacity: .total))
            #expect(output.consumedCapacity == ConsumedCapacity(tableName: "Tbl", capacityUnits: units))
            // A projection returns less but reads (and costs) the whole item.
            let projected = try await db.getItem(
                GetItemInput(
                    tableName: "Tbl", key: ["pk": "a"], consistentRead: consistent, projectionExpression: "pk",
                    returnConsumedCapacity: .total))
            #expect(total(projected.consumedCapacity) == units)
        }
    }

    @Test("ReturnConsumedCapacity NONE or absent returns nothing, but the charge is still worked out")
    func noneReturnsNothing() async throws {
        try await withTable { db in
            try await db.putItem(PutItemInput(tableName: "Tbl", item: item("a", sizeBytes: 100)))
            for mode in [nil, ReturnConsumedCapacity.none] {
                let charged = try db.chargedGetItem(GetItemInput(tableName: "Tbl", key: ["pk": "a"], returnConsumedCapacity: mode))
                #expect(try charged.get().consumedCapacity == nil)
                #expect(charged.charges.map(\.table) == [CapacityUnits(read: 0.5)])
            }
        }
    }

    @Test(
        "PutItem: 1 KB units of the larger of the old and the new item",
        arguments: [(0, 1024, 1.0), (0, 1025, 2.0), (3000, 100, 3.0), (100, 2049, 3.0)])
    func putItem(oldSizeBytes: Int, newSizeBytes: Int, units: Double) async throws {
        try await withTable { db in
            if oldSizeBytes > 0 { try await db.putItem(PutItemInput(tableName: "Tbl", item: item("a", sizeBytes: oldSizeBytes))) }
            let output = try await db.putItem(
                PutItemInput(tableName: "Tbl", item: item("a", sizeBytes: newSizeBytes), returnConsumedCapacity: .indexes))
            #expect(
                output.consumedCapacity
                    == ConsumedCapacity(
                        tableName: "Tbl", capacityUnits: units, writeCapacityUnits: units,
                        table: Capacity(capacityUnits: units, writeCapacityUnits: units)))
        }
    }

    @Test("UpdateItem: the larger of the item before and after; the minimum when it writes nothing")
    func updateItem() async throws {
        try await withTable { db in
            try await db.putItem(PutItemInput(tableName: "Tbl", item: item("a", sizeBytes: 1024)))
            let grown = try await db.updateItem(
                UpdateItemInput(
                    tableName: "Tbl", key: ["pk": "a"], updateExpression: "SET e = :e", expressionAttributeValues: [":e": "y"],
                    returnConsumedCapacity: .total))
            #expect(total(grown.consumedCapacity) == 2)  // 1024 + 2 bytes
            let shrunk = try await db.updateItem(
                UpdateItemInput(tableName: "Tbl", key: ["pk": "a"], updateExpression: "REMOVE d, e", returnConsumedCapacity: .total))
            #expect(total(shrunk.consumedCapacity) == 2)  // the item before
            let unchanged = try await db.updateItem(
                UpdateItemInput(
                    tableName: "Tbl", key: ["pk": "a"], updateExpression: "SET f = :f", expressionAttributeValues: [":f": "z"],
                    returnConsumedCapacity: .total))
            #expect(total(unchanged.consumedCapacity) == 1)
            let again = try await db.updateItem(
                UpdateItemInput(
                    tableName: "Tbl", key: ["pk": "a"], updateExpression: "SET f = :f", expressionAttributeValues: [":f": "z"],
                    returnConsumedCapacity: .total))
            #expect(total(again.consumedCapacity) == 1)
            let nothing = try await db.updateItem(
                UpdateItemInput(tableName: "Tbl", key: ["pk": "missing"], updateExpression: "REMOVE d", returnConsumedCapacity: .total))
            #expect(total(nothing.consumedCapacity) == 1)
            #expect(try await db.getItem(GetItemInput(tableName: "Tbl", key: ["pk": "missing"])).item == nil)
        }
    }

    @Test("DeleteItem: the deleted item's 1 KB units; one for a missing item", arguments: [(2049, 3.0), (1024, 1.0), (0, 1.0)])
    func deleteItem(sizeBytes: Int, units: Double) async throws {
        try await withTable { db in
            if sizeBytes > 0 { try await db.putItem(PutItemInput(tableName: "Tbl", item: item("a", sizeBytes: sizeBytes))) }
            let output = try await db.deleteItem(DeleteItemInput(tableName: "Tbl", key: ["pk": "a"], returnConsumedCapacity: .total))
            #expect(output.consumedCapacity == ConsumedCapacity(tableName: "Tbl", capacityUnits: units))
        }
    }

    @Test(
        "A failed conditional write consumes the existing item's 1 KB units (one if none); the exception carries none",
        arguments: [(2049, 3.0), (0, 1.0)])
    func failedCondition(existingSizeBytes: Int, units: Double) async throws {
        try await withTable { db in
            if existingSizeBytes > 0 {
                try await db.putItem(PutItemInput(tableName: "Tbl", item: item("a", sizeBytes: existingSizeBytes)))
            }
            let condition = existingSizeBytes > 0 ? "attribute_not_exists(pk)" : "attribute_exists(pk)"
            let put = PutItemInput(
                tableName: "Tbl", item: item("a", sizeBytes: 5000), conditionExpression: condition, returnConsumedCapacity: .total)
            let charged = try await db.chargedPutItem(put)
            #expect(charged.charges.map(\.table) == [CapacityUnits(write: units)])
            guard case .failure(.conditionalCheckFailed) = charged.result else {
                Issue.record("expected ConditionalCheckFailedException, got \(charged.result)")
                return
            }
            let delete = try await db.chargedDeleteItem(
                DeleteItemInput(tableName: "Tbl", key: ["pk": "a"], conditionExpression: condition, returnConsumedCapacity: .total))
            #expect(delete.charges.map(\.table) == [CapacityUnits(write: units)])
            let update = try await db.chargedUpdateItem(
                UpdateItemInput(
                    tableName: "Tbl", key: ["pk": "a"], updateExpression: "SET e = :e", conditionExpression: condition,
                    expressionAttributeValues: [":e": "y"], returnConsumedCapacity: .total))
            #expect(update.charges.map(\.table) == [CapacityUnits(write: units)])
            await expectEddyError("ConditionalCheckFailedException") { try await db.putItem(put) }
        }
    }
}

/// `Idx`: key (pk, sk); GSI `byG` on `gk`, KEYS_ONLY; LSI `byL` on (pk, lk), ALL.
func createIndexed(_ db: Database) async throws {
    func key(_ name: String, _ type: KeyType) -> KeySchemaElement { KeySchemaElement(attributeName: name, keyType: type) }
    try await db.createTable(
        CreateTableInput(
            tableName: "Idx", keySchema: [key("pk", .hash), key("sk", .range)],
            attributeDefinitions: ["pk", "sk", "gk", "lk"].map { AttributeDefinition(attributeName: $0, attributeType: .s) },
            billingMode: .payPerRequest,
            globalSecondaryIndexes: [
                GlobalSecondaryIndex(indexName: "byG", keySchema: [key("gk", .hash)], projection: Projection(projectionType: .keysOnly))
            ],
            localSecondaryIndexes: [
                LocalSecondaryIndex(
                    indexName: "byL", keySchema: [key("pk", .hash), key("lk", .range)], projection: Projection(projectionType: .all))
            ]))
}

/// What an INDEXES answer holds for writes of `table` units on the table and `global`/`local` on the indexes
/// (nil: the index was not written).
private func written(table: Double, global: Double?, local: Double?) -> ConsumedCapacity {
    let total = table + (global ?? 0) + (local ?? 0)
    return ConsumedCapacity(
        tableName: "Idx", capacityUnits: total, writeCapacityUnits: total, table: Capacity(capacityUnits: table, writeCapacityUnits: table),
        localSecondaryIndexes: local.map { ["byL": Capacity(capacityUnits: $0, writeCapacityUnits: $0)] },
        globalSecondaryIndexes: global.map { ["byG": Capacity(capacityUnits: $0, writeCapacityUnits: $0)] })
}

@Suite("Consumed capacity of indexes", .timeLimit(.minutes(5)))
struct IndexCapacityTests {
    @Test("Index writes: a put, a key move, a removal and an untouched entry, in the GSI and LSI maps")
    func indexWrites() async throws {
        try await withDatabase { db in
            try await createIndexed(db)
            // 3 + 3 + 3 + 3 + 1 + 1500 = 1513 bytes: 2 units on the table and the LSI (ALL); the GSI's
            // KEYS_ONLY entry (pk, sk, gk: 9 bytes) is 1 unit.
            let base: Item = ["pk": "p", "sk": "s", "gk": "g", "lk": "l", "d": .s(String(repeating: "x", count: 1500))]
            let put = try await db.putItem(PutItemInput(tableName: "Idx", item: base, returnConsumedCapacity: .indexes))
            #expect(put.consumedCapacity == written(table: 2, global: 1, local: 2))

            // The GSI key moves: its old entry deleted and the new one put; the LSI entry changes in place.
            let moved = try await db.updateItem(
                UpdateItemInput(
                    tableName: "Idx", key: ["pk": "p", "sk": "s"], updateExpression: "SET gk = :g", expressionAttributeValues: [":g": "h"],
                    returnConsumedCapacity: .indexes))
            #expect(moved.consumedCapacity == written(table: 2, global: 2, local: 2))

            // An attribute the GSI does not project: its entry is untouched and absent from the answer.
            let untouched = try await db.updateItem(
                UpdateItemInput(
                    tableName: "Idx", key: ["pk": "p", "sk": "s"], updateExpression: "SET d = :d", expressionAttributeValues: [":d": "short"],
                    returnConsumedCapacity: .indexes))
            #expect(untouched.consumedCapacity == written(table: 2, global: nil, local: 2))

            // Removing both index keys removes the item from both indexes: one write of each old entry.
            let removed = try await db.updateItem(
                UpdateItemInput(
                    tableName: "Idx", key: ["pk": "p", "sk": "s"], updateExpression: "REMOVE gk, lk", returnConsumedCapacity: .indexes))
            #expect(removed.consumedCapacity == written(table: 1, global: 1, local: 1))

            // TOTAL sums the table and the indexes.
            let again = try await db.putItem(PutItemInput(tableName: "Idx", item: base, returnConsumedCapacity: .total))
            #expect(again.consumedCapacity == ConsumedCapacity(tableName: "Idx", capacityUnits: 5))
        }
    }

    @Test("Index entry sizes in 1 KB units", arguments: [
        (nil, nil, false, 0.0), (nil, 1024, false, 1.0), (1025, nil, false, 2.0), (1000, 1000, false, 0.0),
        (1000, 3000, false, 3.0), (1000, 3000, true, 4.0),
    ] as [(Int?, Int?, Bool, Double)])
    func indexWriteUnits(oldSizeBytes: Int?, newSizeBytes: Int?, keyMoved: Bool, units: Double) {
        func entry(_ size: Int?) -> Item? { size.map { ["d": .s(String(repeating: "x", count: $0 - 1))] } }
        #expect(PreparedWrite.indexWriteUnits(old: entry(oldSizeBytes), new: entry(newSizeBytes), keyMoved: keyMoved) == units)
    }

    @Test("Query of a GSI and of an LSI that fetches table items")
    func indexQueries() async throws {
        try await withDatabase { db in
            try await createIndexed(db)
            for sk in ["1", "2", "3"] {
                try await db.putItem(
                    PutItemInput(
                        tableName: "Idx",
                        item: ["pk": "p", "sk": .s(sk), "gk": "g", "lk": .s(sk), "d": .s(String(repeating: "x", count: 2000))]))
            }
            // Three 9-byte entries: one 4 KB unit, halved (GSI reads are eventually consistent).
            let global = try await db.query(
                QueryInput(
                    tableName: "Idx", indexName: "byG", keyConditionExpression: "gk = :g", expressionAttributeValues: [":g": "g"],
                    returnConsumedCapacity: .indexes))
            #expect(
                global.consumedCapacity
                    == ConsumedCapacity(
                        tableName: "Idx", capacityUnits: 0.5, readCapacityUnits: 0.5, table: Capacity(capacityUnits: 0),
                        globalSecondaryIndexes: ["byG": Capacity(capacityUnits: 0.5, readCapacityUnits: 0.5)]))
            // Each LSI entry is the whole 2013-byte item (ALL): 6039 bytes, two units strongly consistent.
            let local = try await db.query(
                QueryInput(
                    tableName: "Idx", indexName: "byL", keyConditionExpression: "pk = :p", consistentRead: true,
                    expressionAttributeValues: [":p": "p"], returnConsumedCapacity: .indexes))
            #expect(local.consumedCapacity?.localSecondaryIndexes == ["byL": Capacity(capacityUnits: 2, readCapacityUnits: 2)])
            #expect(local.consumedCapacity?.table == Capacity(capacityUnits: 0))
        }
    }

    @Test("An LSI query for attributes it does not project reads each table item, rounded on its own")
    func localIndexFetches() async throws {
        try await withDatabase { db in
            func key(_ name: String, _ type: KeyType) -> KeySchemaElement { KeySchemaElement(attributeName: name, keyType: type) }
            try await db.createTable(
                CreateTableInput(
                    tableName: "Fch", keySchema: [key("pk", .hash), key("sk", .range)],
                    attributeDefinitions: ["pk", "sk", "lk"].map { AttributeDefinition(attributeName: $0, attributeType: .s) },
                    billingMode: .payPerRequest,
                    localSecondaryIndexes: [
                        LocalSecondaryIndex(
                            indexName: "byL", keySchema: [key("pk", .hash), key("lk", .range)],
                            projection: Projection(projectionType: .keysOnly))
                    ]))
            for sk in ["1", "2", "3", "4"] {
                try await db.putItem(
                    PutItemInput(tableName: "Fch", item: ["pk": "p", "sk": .s(sk), "lk": .s(sk), "d": .s(String(repeating: "x", count: 290))]))
            }
            let output = try await db.query(
                QueryInput(
                    tableName: "Fch", indexName: "byL", keyConditionExpression: "pk = :p", select: .allAttributes, consistentRead: true,
                    expressionAttributeValues: [":p": "p"], returnConsumedCapacity: .indexes))
            // The four entries round up to one unit on the index; each fetched item is one more on the table.
            #expect(output.consumedCapacity?.localSecondaryIndexes == ["byL": Capacity(capacityUnits: 1, readCapacityUnits: 1)])
            #expect(output.consumedCapacity?.table == Capacity(capacityUnits: 4, readCapacityUnits: 4))
            #expect(output.consumedCapacity?.capacityUnits == 5)
        }
    }
}

@Suite("Consumed capacity of Query, Scan and batches", .timeLimit(.minutes(5)))
struct PageCapacityTests {
    /// `Qry`: key (pk, sk); three 2000-byte items in partition `p` (3 + 3 + 1 + 1993).
    private func withItems(_ body: (Database) async throws -> Void) async throws {
        try await withDatabase { db in
            try await createTable(db, "Qry", range: "sk")
            for sk in ["1", "2", "3"] {
                try await db.putItem(
                    PutItemInput(tableName: "Qry", item: ["pk": "p", "sk": .s(sk), "d": .s(String(repeating: "x", count: 1993))]))
            }
            try await body(db)
        }
    }

    @Test(
        "Query: the items read, before the filter, summed and rounded once per page",
        arguments: [
            (nil, nil, "p", true, 2.0), (nil, nil, "p", false, 1.0), ("d = :none", nil, "p", true, 2.0), (nil, 1, "p", true, 1.0),
            (nil, nil, "empty", true, 1.0), (nil, nil, "empty", false, 0.5),
        ] as [(String?, Int?, String, Bool, Double)])
    func query(filter: String?, limit: Int?, partition: String, consistent: Bool, units: Double) async throws {
        try await withItems { db in
            var values: [String: AttributeValue] = [":p": .s(partition)]
            if filter != nil { values[":none"] = "nothing" }
            let output = try await db.query(
                QueryInput(
                    tableName: "Qry", keyConditionExpression: "pk = :p", limit: limit, consistentRead: consistent, filterExpression: filter,
                    expressionAttributeValues: values, returnConsumedCapacity: .total))
            #expect(output.consumedCapacity == ConsumedCapacity(tableName: "Qry", capacityUnits: units))
        }
    }

    @Test("Scan: the same rule, a filter lowers nothing, Select COUNT costs the same")
    func scan() async throws {
        try await withItems { db in
            let filtered = try await db.scan(
                ScanInput(
                    tableName: "Qry", consistentRead: true, filterExpression: "d = :none", expressionAttributeValues: [":none": "nothing"],
                    returnConsumedCapacity: .total))
            #expect(filtered.count == 0)
            #expect(total(filtered.consumedCapacity) == 2)
            let counted = try await db.scan(ScanInput(tableName: "Qry", select: .count, returnConsumedCapacity: .total))
            #expect(total(counted.consumedCapacity) == 1)
        }
    }

    @Test("BatchGetItem: each item rounded on its own, missing items the minimum, one answer per table")
    func batchGetItem() async throws {
        try await withDatabase { db in
            try await createTable(db, "Aaa")
            try await createTable(db, "Bbb")
            try await db.putItem(PutItemInput(tableName: "Aaa", item: item("1", sizeBytes: 1536)))
            try await db.putItem(PutItemInput(tableName: "Aaa", item: item("2", sizeBytes: 6656)))
            try await db.putItem(PutItemInput(tableName: "Bbb", item: item("1", sizeBytes: 100)))
            let output = try await db.batchGetItem(
                BatchGetItemInput(
                    requestItems: [
                        "Aaa": KeysAndAttributes(keys: [["pk": "1"], ["pk": "2"], ["pk": "3"]], consistentRead: true),
                        "Bbb": KeysAndAttributes(keys: [["pk": "1"]]),
                    ], returnConsumedCapacity: .total))
            // 4 KB + 8 KB + the minimum for the missing item (not 8 KB for 1.5 + 6.5 KB); B: half a unit.
            #expect(
                output.consumedCapacity
                    == [ConsumedCapacity(tableName: "Aaa", capacityUnits: 4), ConsumedCapacity(tableName: "Bbb", capacityUnits: 0.5)])
        }
    }

    @Test("BatchWriteItem: each put and delete rounded on its own")
    func batchWriteItem() async throws {
        try await withTable { db in
            let output = try await db.batchWriteItem(
                BatchWriteItemInput(
                    requestItems: [
                        "Tbl": [
                            WriteRequest(putRequest: PutRequest(item: item("1", sizeBytes: 500))),
                            WriteRequest(putRequest: PutRequest(item: item("2", sizeBytes: 1500))),
                            WriteRequest(deleteRequest: DeleteRequest(key: ["pk": "missing"])),
                        ]
                    ], returnConsumedCapacity: .indexes))
            #expect(
                output.consumedCapacity == [
                    ConsumedCapacity(
                        tableName: "Tbl", capacityUnits: 4, writeCapacityUnits: 4, table: Capacity(capacityUnits: 4, writeCapacityUnits: 4))
                ])
        }
    }
}

@Suite("Consumed capacity of transactions", .timeLimit(.minutes(5)))
struct TransactionCapacityTests {
    @Test("TransactWriteItems: every action twice, a ConditionCheck on its item's size")
    func transactWrite() async throws {
        try await withTable { db in
            try await db.putItem(PutItemInput(tableName: "Tbl", item: item("c", sizeBytes: 2000)))
            let output = try await db.transactWriteItems(
                TransactWriteItemsInput(
                    transactItems: [
                        TransactWriteItem(put: TransactPut(tableName: "Tbl", item: item("1", sizeBytes: 500))),
                        TransactWriteItem(put: TransactPut(tableName: "Tbl", item: item("2", sizeBytes: 500))),
                        TransactWriteItem(conditionCheck: TransactConditionCheck(tableName: "Tbl", key: ["pk": "c"], conditionExpression: "attribute_exists(pk)")),
                    ], returnConsumedCapacity: .total))
            #expect(output.consumedCapacity == [ConsumedCapacity(tableName: "Tbl", capacityUnits: 2 + 2 + 4)])
        }
    }

    @Test("A cancelled transaction consumes what its actions prepared")
    func cancelled() async throws {
        try await withTable { db in
            try await db.putItem(PutItemInput(tableName: "Tbl", item: item("c", sizeBytes: 2000)))
            let input = TransactWriteItemsInput(
                transactItems: [
                    TransactWriteItem(put: TransactPut(tableName: "Tbl", item: item("1", sizeBytes: 500))),
                    TransactWriteItem(
                        put: TransactPut(tableName: "Tbl", item: item("c", sizeBytes: 100), conditionExpression: "attribute_not_exists(pk)")),
                ], returnConsumedCapacity: .total)
            let charged = try await db.chargedTransactWriteItems(input)
            guard case .failure(.transactionCanceled) = charged.result else {
                Issue.record("expected TransactionCanceledException, got \(charged.result)")
                return
            }
            // The put: 2 × 1; the failed condition: 2 × the existing 2000-byte item.
            #expect(charged.charges.map(\.table) == [CapacityUnits(write: 6)])
            #expect(try await db.getItem(GetItemInput(tableName: "Tbl", key: ["pk": "1"])).item == nil)
        }
    }

    @Test("Replaying a ClientRequestToken consumes the reads of the items, not the writes")
    func replay() async throws {
        try await withTable { db in
            let input = TransactWriteItemsInput(
                transactItems: [TransactWriteItem(put: TransactPut(tableName: "Tbl", item: item("1", sizeBytes: 5000)))],
                clientRequestToken: "token-1", returnConsumedCapacity: .total)
            let first = try await db.transactWriteItems(input)
            #expect(first.consumedCapacity == [ConsumedCapacity(tableName: "Tbl", capacityUnits: 10)])
            let replayed = try await db.transactWriteItems(input)
            #expect(replayed.consumedCapacity == [ConsumedCapacity(tableName: "Tbl", capacityUnits: 2)])
        }
    }

    @Test("TransactGetItems: each item twice, strongly consistent, the minimum for a missing one")
    func transactGet() async throws {
        try await withTable { db in
            try await db.putItem(PutItemInput(tableName: "Tbl", item: item("1", sizeBytes: 4096)))
            try await db.putItem(PutItemInput(tableName: "Tbl", item: item("2", sizeBytes: 4097)))
            let output = try await db.transactGetItems(
                TransactGetItemsInput(
                    transactItems: ["1", "2", "3"].map { TransactGetItem(get: TransactGet(tableName: "Tbl", key: ["pk": .s($0)])) },
                    returnConsumedCapacity: .indexes))
            #expect(
                output.consumedCapacity == [
                    ConsumedCapacity(
                        tableName: "Tbl", capacityUnits: 8, readCapacityUnits: 8, table: Capacity(capacityUnits: 8, readCapacityUnits: 8))
                ])
        }
    }
}
