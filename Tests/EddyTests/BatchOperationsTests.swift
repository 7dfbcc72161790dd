import Foundation
import Testing

@testable import Eddy

// BatchWriteItem and BatchGetItem, written from the DynamoDB API Reference: at most 25 write requests and
// 100 keys per call, no two requests on one item, and (in Eddy) a batch with any invalid request writes
// nothing.

private let duplicates = "Provided list of item keys contains duplicates"

private func put(_ item: Item) -> WriteRequest { WriteRequest(putRequest: PutRequest(item: item)) }
private func delete(_ key: Item) -> WriteRequest { WriteRequest(deleteRequest: DeleteRequest(key: key)) }

/// Tables `TabA` (keyed by `id`, S) and `TabB` (keyed by `pk` S and `sk` N).
private func createTables(_ db: Database) async throws {
    try await createTable(db, "TabA", hash: "id")
    try await createTable(db, "TabB", hash: "pk", .s, range: "sk", .n)
}

/// Every item of `table`, keyed by the rendering of its key for order-free comparison.
private func contents(_ db: Database, _ table: String) async throws -> [String: Item] {
    var result: [String: Item] = [:]
    var start: Item? = nil
    repeat {
        let page = try await db.scan(ScanInput(tableName: table, exclusiveStartKey: start))
        for item in page.items ?? [] { result[render(item, table: table)] = item }
        start = page.lastEvaluatedKey
    } while start != nil
    return result
}

private func render(_ item: Item, table: String) -> String {
    table == "TabA" ? "\(item["id"].map { "\($0)" } ?? "?")" : "\(item["pk"].map { "\($0)" } ?? "?")|\(item["sk"].map { "\($0)" } ?? "?")"
}

private func sortedByKey(_ items: [Item]?, table: String) -> [Item] {
    (items ?? []).sorted { render($0, table: table) < render($1, table: table) }
}

/// A batch with one bad request among good ones in two tables, and DynamoDB's answer.
struct BadWriteCase: CustomTestStringConvertible, Sendable {
    let label: String
    let bad: WriteRequest
    let table: String
    let errorType: String
    let message: String?
    var testDescription: String { label }
}

private let badWriteCases: [BadWriteCase] = {
    var neither = put(["id": "n"])
    neither.putRequest = nil
    var both = put(["id": "n"])
    both.deleteRequest = DeleteRequest(key: ["id": "n"])
    return [
        BadWriteCase(label: "missing key", bad: put(["v": 1]), table: "TabA", errorType: "ValidationException",
                     message: "One or more parameter values were invalid: Missing the key id in the item"),
        BadWriteCase(label: "mistyped sort key", bad: put(["pk": "p", "sk": "1"]), table: "TabB", errorType: "ValidationException",
                     message: "One or more parameter values were invalid: Type mismatch for key sk expected: N actual: S"),
        BadWriteCase(label: "delete with extra attribute", bad: delete(["pk": "p", "sk": 1, "v": 1]), table: "TabB",
                     errorType: "ValidationException", message: "The provided key element does not match the schema"),
        BadWriteCase(label: "empty set", bad: put(["id": "e", "s": .ss([])]), table: "TabA", errorType: "ValidationException",
                     message: "One or more parameter values were invalid: An string set  may not be empty"),
        BadWriteCase(label: "item too large", bad: put(["id": "big", "d": .s(ascii(409_600))]), table: "TabA",
                     errorType: "ValidationException", message: "Item size has exceeded the maximum allowed size"),
        BadWriteCase(label: "empty string key", bad: delete(["id": ""]), table: "TabA", errorType: "ValidationException",
                     message: "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: id"),
        BadWriteCase(label: "neither put nor delete", bad: neither, table: "TabA", errorType: "ValidationException",
                     message: "Supplied WriteRequest must contain exactly one of PutRequest or DeleteRequest"),
        BadWriteCase(label: "both put and delete", bad: both, table: "TabA", errorType: "ValidationException",
                     message: "Supplied WriteRequest must contain exactly one of PutRequest or DeleteRequest"),
        BadWriteCase(label: "unknown table", bad: put(["id": "n"]), table: "Nope", errorType: "ResourceNotFoundException",
                     message: "Requested resource not found"),
    ]
}()

@Suite(.timeLimit(.minutes(5))) struct BatchOperationsTests {
    // MARK: BatchWriteItem

    @Test func putsAndDeletesOverTwoTables() async throws {
        try await withDatabase { db in
            try await createTables(db)
            try await db.putItem(PutItemInput(tableName: "TabA", item: ["id": "old", "v": 1]))
            try await db.putItem(PutItemInput(tableName: "TabA", item: ["id": "replaced", "v": 1]))
            try await db.putItem(PutItemInput(tableName: "TabB", item: ["pk": "p", "sk": 1, "v": 1]))
            try await db.putItem(PutItemInput(tableName: "TabB", item: ["pk": "p", "sk": 2, "v": 2]))

            let output = try await db.batchWriteItem(BatchWriteItemInput(requestItems: [
                "TabA": [
                    put(["id": "new", "v": .ss(["x"])]),
                    put(["id": "replaced", "w": 2]),
                    delete(["id": "old"]),
                    delete(["id": "never-existed"]),
                ],
                "TabB": [
                    delete(["pk": "p", "sk": 1]),
                    put(["pk": "p", "sk": 3, "v": 3]),
                    put(["pk": "new", "sk": 0]),
                ],
            ]))
            #expect(output.unprocessedItems.isEmpty)

            #expect(try await contents(db, "TabA") == [
                render(["id": "new"], table: "TabA"): ["id": "new", "v": .ss(["x"])],
                render(["id": "replaced"], table: "TabA"): ["id": "replaced", "w": 2],
            ])
            #expect(try await contents(db, "TabB") == [
                render(["pk": "p", "sk": 2], table: "TabB"): ["pk": "p", "sk": 2, "v": 2],
                render(["pk": "p", "sk": 3], table: "TabB"): ["pk": "p", "sk": 3, "v": 3],
                render(["pk": "new", "sk": 0], table: "TabB"): ["pk": "new", "sk": 0],
            ])
        }
    }

    @Test(arguments: [[25, 0], [20, 5], [1, 24], [0, 25]])
    func twentyFiveRequestsAccepted(split: [Int]) async throws {
        try await withDatabase { db in
            try await createTables(db)
            var requestItems: [String: [WriteRequest]] = [:]
            if split[0] > 0 { requestItems["TabA"] = (0..<split[0]).map { put(["id": .s("a\($0)")]) } }
            if split[1] > 0 { requestItems["TabB"] = (0..<split[1]).map { put(["pk": "b", "sk": .n(DecimalNumber($0))]) } }
            try await db.batchWriteItem(BatchWriteItemInput(requestItems: requestItems))
            #expect(try await db.describeTable(tableName: "TabA").itemCount == Int64(split[0]))
            #expect(try await db.describeTable(tableName: "TabB").itemCount == Int64(split[1]))
        }
    }

    @Test(arguments: [[26, 0], [13, 13], [25, 1]])
    func twentySixRequestsRefused(split: [Int]) async throws {
        try await withDatabase { db in
            try await createTables(db)
            var requestItems: [String: [WriteRequest]] = [:]
            if split[0] > 0 { requestItems["TabA"] = (0..<split[0]).map { put(["id": .s("a\($0)")]) } }
            if split[1] > 0 { requestItems["TabB"] = (0..<split[1]).map { put(["pk": "b", "sk": .n(DecimalNumber($0))]) } }
            let error = await expectValidation { try await db.batchWriteItem(BatchWriteItemInput(requestItems: requestItems)) }
            if split[1] == 0 {
                // One table's list of 26: the request-field constraint.
                #expect(error?.message.hasPrefix("1 validation error detected: Value ") == true)
                #expect(error?.message.hasSuffix(
                    "at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]") == true)
            }
            #expect(try await db.scan(ScanInput(tableName: "TabA")).count == 0)
            #expect(try await db.scan(ScanInput(tableName: "TabB")).count == 0)
        }
    }

    @Test(arguments: [
        [put(["id": "x"]), put(["id": "x", "v": 1])],
        [put(["id": "x"]), delete(["id": "x"])],
        [delete(["id": "x"]), delete(["id": "x"])],
        [put(["id": "y"]), delete(["id": "x"]), put(["id": "z"]), put(["id": "x", "v": 2])],
    ])
    func duplicateKeysRefused(requests: [WriteRequest]) async throws {
        try await withDatabase { db in
            try await createTables(db)
            try await db.putItem(PutItemInput(tableName: "TabA", item: ["id": "x", "v": 0]))
            await expectValidation(duplicates) {
                try await db.batchWriteItem(BatchWriteItemInput(requestItems: ["TabA": requests, "TabB": [put(["pk": "p", "sk": 1])]]))
            }
            #expect(try await contents(db, "TabA") == [render(["id": "x"], table: "TabA"): ["id": "x", "v": 0]])
            #expect(try await contents(db, "TabB").isEmpty)
        }
    }

    @Test func numericallyEqualKeysAreDuplicates() async throws {
        try await withDatabase { db in
            try await createTables(db)
            await expectValidation(duplicates) {
                try await db.batchWriteItem(BatchWriteItemInput(requestItems: [
                    "TabB": [put(["pk": "p", "sk": num("1.0")]), put(["pk": "p", "sk": num("10E-1")])],
                ]))
            }
            // Keys that differ in the sort key only are distinct.
            try await db.batchWriteItem(BatchWriteItemInput(requestItems: [
                "TabB": [put(["pk": "p", "sk": num("1")]), put(["pk": "p", "sk": num("1.5")]), delete(["pk": "q", "sk": num("1")])],
            ]))
            #expect(try await db.describeTable(tableName: "TabB").itemCount == 2)
        }
    }

    @Test(arguments: badWriteCases)
    func anyInvalidRequestWritesNothing(_ testCase: BadWriteCase) async throws {
        try await withDatabase { db in
            try await createTables(db)
            try await db.putItem(PutItemInput(tableName: "TabA", item: ["id": "gone?", "v": 0]))
            try await db.putItem(PutItemInput(tableName: "TabB", item: ["pk": "p", "sk": 9, "v": 0]))
            let before = (try await contents(db, "TabA"), try await contents(db, "TabB"))
            // The bad request first, last, or in the middle of its table's list.
            for position in 0..<3 {
                var requestItems: [String: [WriteRequest]] = [
                    "TabA": [put(["id": "a1"]), delete(["id": "gone?"]), put(["id": "a2", "v": 1])],
                    "TabB": [put(["pk": "p", "sk": 1]), delete(["pk": "p", "sk": 9])],
                ]
                var list = requestItems[testCase.table] ?? []
                list.insert(testCase.bad, at: position == 0 ? 0 : position == 1 ? list.count / 2 : list.count)
                requestItems[testCase.table] = list
                await expectEddyError(testCase.errorType, testCase.message) {
                    try await db.batchWriteItem(BatchWriteItemInput(requestItems: requestItems))
                }
                #expect(try await contents(db, "TabA") == before.0)
                #expect(try await contents(db, "TabB") == before.1)
            }
        }
    }

    @Test func emptyRequestsRefused() async throws {
        try await withDatabase { db in
            try await createTables(db)
            await expectValidation("1 validation error detected: Value '{}' at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1") {
                try await db.batchWriteItem(BatchWriteItemInput(requestItems: [:]))
            }
            await expectValidation {
                try await db.batchWriteItem(BatchWriteItemInput(requestItems: ["TabA": [], "TabB": [put(["pk": "p", "sk": 1])]]))
            }
            #expect(try await db.scan(ScanInput(tableName: "TabB")).count == 0)
        }
    }

    // MARK: BatchGetItem

    @Test func getOverTwoTables() async throws {
        try await withDatabase { db in
            try await createTables(db)
            for index in 0..<5 {
                try await db.putItem(PutItemInput(tableName: "TabA", item: ["id": .s("a\(index)"), "v": .n(DecimalNumber(index))]))
                try await db.putItem(PutItemInput(tableName: "TabB", item: ["pk": "p", "sk": .n(DecimalNumber(index)), "w": .s("b\(index)")]))
            }
            let output = try await db.batchGetItem(BatchGetItemInput(requestItems: [
                "TabA": KeysAndAttributes(keys: [["id": "a3"], ["id": "missing"], ["id": "a0"]]),
                "TabB": KeysAndAttributes(keys: [["pk": "p", "sk": 4], ["pk": "q", "sk": 4], ["pk": "p", "sk": num("1.00")]], consistentRead: true),
            ]))
            #expect(sortedByKey(output.responses["TabA"], table: "TabA") == [["id": "a0", "v": 0], ["id": "a3", "v": 3]])
            #expect(sortedByKey(output.responses["TabB"], table: "TabB") == [["pk": "p", "sk": 1, "w": "b1"], ["pk": "p", "sk": 4, "w": "b4"]])
            #expect(output.unprocessedKeys.isEmpty)

            // Nothing found: no items for the table.
            let none = try await db.batchGetItem(BatchGetItemInput(requestItems: ["TabA": KeysAndAttributes(keys: [["id": "zz"]])]))
            #expect((none.responses["TabA"] ?? []).isEmpty)
            #expect(none.responses["TabB"] == nil)
        }
    }

    /// One BatchGetItem returns at most 16 MB of items; the keys left over come back in UnprocessedKeys.
    @Test func getStopsAtSixteenMegabytes() async throws {
        try await withDatabase { db in
            try await createTables(db)
            // 45 items of exactly 409,600 bytes ("id"(2) + "kNN"(3) + "d"(1) + 409,594): 18.4 MB in all.
            for index in 0..<45 {
                let id = String(format: "k%02d", index)
                try await db.putItem(PutItemInput(tableName: "TabA", item: ["id": .s(id), "d": .s(ascii(409_594))]))
            }
            var keys: [Item] = (0..<45).map { ["id": .s(String(format: "k%02d", $0))] } + [["id": "absent1"], ["id": "absent2"]]
            keys.shuffle()
            var request: [String: KeysAndAttributes] = ["TabA": KeysAndAttributes(keys: keys), "TabB": KeysAndAttributes(keys: [["pk": "p", "sk": 1]])]
            var seen: [String] = []
            var calls = 0
            while !request.isEmpty && calls < 10 {
                let output = try await db.batchGetItem(BatchGetItemInput(requestItems: request))
                let items = output.responses.values.flatMap { $0 }
                #expect(items.reduce(0) { $0 + ItemSize.of($1) } <= 16 * 1_048_576)
                for item in output.responses["TabA"] ?? [] {
                    if case .s(let id)? = item["id"] { seen.append(id) }
                }
                if calls == 0 {
                    #expect(!output.unprocessedKeys.isEmpty)
                    #expect(items.count >= 40)
                }
                // Every unprocessed key is one that was asked for.
                for (table, rest) in output.unprocessedKeys {
                    #expect(rest.keys.allSatisfy { key in request[table]?.keys.contains(key) == true })
                }
                request = output.unprocessedKeys
                calls += 1
            }
            #expect(request.isEmpty)
            #expect(seen.sorted() == (0..<45).map { String(format: "k%02d", $0) })
        }
    }

    @Test func getAttributesToGet() async throws {
        try await withDatabase { db in
            try await createTables(db)
            try await db.putItem(PutItemInput(tableName: "TabA", item: ["id": "a", "x": 1, "y": 2, "z": 3]))
            try await db.putItem(PutItemInput(tableName: "TabB", item: ["pk": "p", "sk": 1, "x": 1, "y": 2]))
            let output = try await db.batchGetItem(BatchGetItemInput(requestItems: [
                "TabA": KeysAndAttributes(keys: [["id": "a"]], attributesToGet: ["id", "y", "absent"]),
                "TabB": KeysAndAttributes(keys: [["pk": "p", "sk": 1]], attributesToGet: ["x"]),
            ]))
            #expect(output.responses["TabA"] == [["id": "a", "y": 2]])
            #expect(output.responses["TabB"] == [["x": 1]])
            await expectValidation("One or more parameter values were invalid: Duplicate value in attribute name: x") {
                _ = try await db.batchGetItem(BatchGetItemInput(requestItems: ["TabB": KeysAndAttributes(keys: [["pk": "p", "sk": 1]], attributesToGet: ["x", "x"])]))
            }
        }
    }

    @Test(arguments: [[100, 0], [60, 40], [0, 100]])
    func hundredKeysAccepted(split: [Int]) async throws {
        try await withDatabase { db in
            try await createTables(db)
            var requests: [WriteRequest] = []
            for index in 0..<100 where index.isMultiple(of: 2) {
                requests.append(put(["id": .s("a\(index)")]))
                if requests.count == 25 {
                    try await db.batchWriteItem(BatchWriteItemInput(requestItems: ["TabA": requests]))
                    requests = []
                }
            }
            if !requests.isEmpty { try await db.batchWriteItem(BatchWriteItemInput(requestItems: ["TabA": requests])) }
            for index in 0..<100 where index.isMultiple(of: 5) {
                try await db.putItem(PutItemInput(tableName: "TabB", item: ["pk": "b", "sk": .n(DecimalNumber(index))]))
            }
            var requestItems: [String: KeysAndAttributes] = [:]
            if split[0] > 0 { requestItems["TabA"] = KeysAndAttributes(keys: (0..<split[0]).map { ["id": .s("a\($0)")] }) }
            if split[1] > 0 { requestItems["TabB"] = KeysAndAttributes(keys: (0..<split[1]).map { ["pk": "b", "sk": .n(DecimalNumber($0))] }) }
            let output = try await db.batchGetItem(BatchGetItemInput(requestItems: requestItems))
            #expect((output.responses["TabA"] ?? []).count == (0..<split[0]).filter { $0.isMultiple(of: 2) }.count)
            #expect((output.responses["TabB"] ?? []).count == (0..<split[1]).filter { $0.isMultiple(of: 5) }.count)
        }
    }

    @Test(arguments: [[101, 0], [51, 50], [0, 101]])
    func hundredAndOneKeysRefused(split: [Int]) async throws {
        try await withDatabase { db in
            try await createTables(db)
            var requestItems: [String: KeysAndAttributes] = [:]
            if split[0] > 0 { requestItems["TabA"] = KeysAndAttributes(keys: (0..<split[0]).map { ["id": .s("a\($0)")] }) }
            if split[1] > 0 { requestItems["TabB"] = KeysAndAttributes(keys: (0..<split[1]).map { ["pk": "b", "sk": .n(DecimalNumber($0))] }) }
            // Over 100 keys in all; DynamoDB's wording for one table's own list past 100 is not pinned here.
            await expectValidation(split.contains(0) ? nil : "Too many items requested for the BatchGetItem call") {
                _ = try await db.batchGetItem(BatchGetItemInput(requestItems: requestItems))
            }
        }
    }

    @Test func getDuplicateKeysRefused() async throws {
        try await withDatabase { db in
            try await createTables(db)
            await expectValidation(duplicates) {
                _ = try await db.batchGetItem(BatchGetItemInput(requestItems: ["TabA": KeysAndAttributes(keys: [["id": "x"], ["id": "y"], ["id": "x"]])]))
            }
            await expectValidation(duplicates) {
                _ = try await db.batchGetItem(BatchGetItemInput(requestItems: ["TabB": KeysAndAttributes(keys: [["pk": "p", "sk": num("2")], ["pk": "p", "sk": num("2.0")]])]))
            }
            // The same key values in two tables are not duplicates.
            try await createTable(db, "TabC", hash: "id")
            let output = try await db.batchGetItem(BatchGetItemInput(requestItems: [
                "TabA": KeysAndAttributes(keys: [["id": "x"]]), "TabC": KeysAndAttributes(keys: [["id": "x"]]),
            ]))
            #expect((output.responses["TabA"] ?? []).isEmpty && (output.responses["TabC"] ?? []).isEmpty)
        }
    }

    @Test func getInvalidRequestsRefused() async throws {
        try await withDatabase { db in
            try await createTables(db)
            await expectValidation("The provided key element does not match the schema") {
                _ = try await db.batchGetItem(BatchGetItemInput(requestItems: ["TabB": KeysAndAttributes(keys: [["pk": "p"]])]))
            }
            await expectValidation("The provided key element does not match the schema") {
                _ = try await db.batchGetItem(BatchGetItemInput(requestItems: [
                    "TabA": KeysAndAttributes(keys: [["id": "ok"]]), "TabB": KeysAndAttributes(keys: [["pk": "p", "sk": "1"]]),
                ]))
            }
            await expectEddyError("ResourceNotFoundException", "Requested resource not found") {
                _ = try await db.batchGetItem(BatchGetItemInput(requestItems: [
                    "TabA": KeysAndAttributes(keys: [["id": "ok"]]), "Nope": KeysAndAttributes(keys: [["id": "ok"]]),
                ]))
            }
            await expectValidation("1 validation error detected: Value '{}' at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1") {
                _ = try await db.batchGetItem(BatchGetItemInput(requestItems: [:]))
            }
            await expectValidation {
                _ = try await db.batchGetItem(BatchGetItemInput(requestItems: ["TabA": KeysAndAttributes(keys: [])]))
            }
        }
    }
}
