import Foundation
import Testing

@testable import Eddy

// Query (legacy KeyConditions) and Scan (with Segment/TotalSegments), written from the DynamoDB API
// Reference: sort keys in DynamoDB's order (numbers numerically, strings by UTF-8 bytes, binaries as
// unsigned bytes), paging through LastEvaluatedKey, the 1 MB page, and parallel scans.

/// Sort-key values in ascending DynamoDB order, per key type.
private let ascendingNumbers: [String] = [
    "-1E+125", "-12345678901234567890", "-100", "-10.5", "-10", "-9.5", "-2",
    "-1.000000000000000000000000000000000001", "-1.0000000000000000000000000000000000001", "-1",
    "-0.99999999999999999999999999999999999999", "-0.5", "-0.001", "-1E-130",
    "0", "1E-130", "0.001", "0.5", "0.99999999999999999999999999999999999999", "1",
    "1.0000000000000000000000000000000000001", "1.000000000000000000000000000000000001", "2", "9.5", "10", "10.5",
    "11", "100", "1E+20", "1.5E+20", "99999999999999999999999999999999999999", "1E+38",
    "1.2345678901234567890123456789012345678E+87", "9.9999999999999999999999999999999999999E+125",
]
private let ascendingStrings: [String] = [
    "A", "B", "Z", "a", "a\u{0}", "a\u{0}b", "aa", "ab", "abc", "b", "~", "é", "中", "😀",
]
private let ascendingBinaries: [[UInt8]] = [
    [0x00], [0x00, 0x00], [0x00, 0x01], [0x01], [0x01, 0xFF], [0x7F], [0x80], [0xFE, 0xFF], [0xFF], [0xFF, 0x00],
    [0xFF, 0xFF],
]

private func ascending(_ type: ScalarAttributeType) -> [AttributeValue] {
    switch type {
    case .n: ascendingNumbers.map(num)
    case .s: ascendingStrings.map(AttributeValue.s)
    case .b: ascendingBinaries.map(AttributeValue.b)
    }
}

/// The bytes a begins_with compares: UTF-8 for strings, raw for binaries.
private func prefixBytes(_ value: AttributeValue) -> [UInt8] {
    switch value {
    case .s(let string): Array(string.utf8)
    case .b(let bytes): bytes
    default: []
    }
}

private let partitions: [AttributeValue] = ["p", "pp", "p\u{0}", "q"]

/// Creates table `Tbl` keyed by `pk` (S) and `sk` (`type`), with every sort-key value in partitions `p`,
/// `pp`, `p\0` and `q`.
private func seedSorted(_ db: Database, _ type: ScalarAttributeType) async throws {
    try await createTable(db, "Tbl", hash: "pk", .s, range: "sk", type)
    var requests: [WriteRequest] = []
    for partition in partitions {
        for (index, value) in ascending(type).shuffled().enumerated() {
            requests.append(WriteRequest(putRequest: PutRequest(item: ["pk": partition, "sk": value, "i": .n(DecimalNumber(index))])))
            if requests.count == 25 {
                try await db.batchWriteItem(BatchWriteItemInput(requestItems: ["Tbl": requests]))
                requests = []
            }
        }
    }
    if !requests.isEmpty { try await db.batchWriteItem(BatchWriteItemInput(requestItems: ["Tbl": requests])) }
}

/// All items of one Query, following LastEvaluatedKey; checks that no page passes `limit`.
private func queryAll(_ db: Database, _ input: QueryInput) async throws -> [Item] {
    var input = input
    var items: [Item] = []
    var pages = 0
    repeat {
        let page = try await db.query(input)
        if let limit = input.limit { #expect(page.count <= limit) }
        #expect(page.count == page.items?.count)
        items += page.items ?? []
        input.exclusiveStartKey = page.lastEvaluatedKey
        pages += 1
    } while input.exclusiveStartKey != nil && pages < 10_000
    return items
}

private func scanAll(_ db: Database, _ input: ScanInput) async throws -> (items: [Item], pages: Int) {
    var input = input
    var items: [Item] = []
    var pages = 0
    repeat {
        let page = try await db.scan(input)
        if let limit = input.limit { #expect(page.count <= limit) }
        #expect(page.count == page.items?.count)
        if let last = page.lastEvaluatedKey, let lastItem = page.items?.last {
            // LastEvaluatedKey is the key of the last item read.
            #expect(last == lastItem.filter { $0.key == "pk" || $0.key == "sk" })
        }
        items += page.items ?? []
        input.exclusiveStartKey = page.lastEvaluatedKey
        pages += 1
    } while input.exclusiveStartKey != nil && pages < 10_000
    return (items, pages)
}

private func keyConditions(_ partition: AttributeValue, _ sort: Condition? = nil) -> [String: Condition] {
    var conditions = ["pk": Condition(.eq, [partition])]
    if let sort { conditions["sk"] = sort }
    return conditions
}

@Suite(.timeLimit(.minutes(5))) struct QueryScanTests {
    // MARK: Sort-key operators

    @Test(arguments: [ScalarAttributeType.n, .s, .b])
    func everyOperatorOnEveryOperand(type: ScalarAttributeType) async throws {
        try await withDatabase { db in
            try await seedSorted(db, type)
            let values = ascending(type)
            func check(_ condition: Condition?, _ expected: [AttributeValue], sourceLocation: SourceLocation = #_sourceLocation) async throws {
                for partition in partitions {
                    for forward in [true, false] {
                        let page = try await db.query(QueryInput(
                            tableName: "Tbl", keyConditions: keyConditions(partition, condition), scanIndexForward: forward))
                        let sortKeys = (page.items ?? []).map { $0["sk"] }
                        #expect(sortKeys == (forward ? expected : expected.reversed()), "\(String(describing: condition)) forward \(forward)",
                                sourceLocation: sourceLocation)
                        #expect((page.items ?? []).allSatisfy { $0["pk"] == partition }, sourceLocation: sourceLocation)
                        #expect(page.count == expected.count && page.scannedCount == expected.count, sourceLocation: sourceLocation)
                        #expect(page.lastEvaluatedKey == nil, sourceLocation: sourceLocation)
                    }
                }
            }
            try await check(nil, values)
            for (index, value) in values.enumerated() {
                try await check(Condition(.eq, [value]), [value])
                try await check(Condition(.lt, [value]), Array(values[..<index]))
                try await check(Condition(.le, [value]), Array(values[...index]))
                try await check(Condition(.gt, [value]), Array(values[(index + 1)...]))
                try await check(Condition(.ge, [value]), Array(values[index...]))
                for upper in index..<values.count where (upper - index) % 3 == 0 || upper == values.count - 1 {
                    try await check(Condition(.between, [value, values[upper]]), Array(values[index...upper]))
                }
                if type != .n {
                    let prefix = prefixBytes(value)
                    try await check(Condition(.beginsWith, [value]), values.filter { prefixBytes($0).starts(with: prefix) })
                }
            }
        }
    }

    @Test func numericOperandsBetweenStoredValues() async throws {
        try await withDatabase { db in
            try await seedSorted(db, .n)
            func sortKeys(_ condition: Condition) async throws -> [String] {
                let page = try await db.query(QueryInput(tableName: "Tbl", keyConditions: keyConditions("p", condition)))
                return (page.items ?? []).map { item in
                    guard case .n(let number)? = item["sk"] else { return "?" }
                    return number.description
                }
            }
            // Numeric order, not string order: 9.5 < 10 < 10.5 < 11 < 100.
            #expect(try await sortKeys(Condition(.between, [num("9"), num("100")])) == ["9.5", "10", "10.5", "11", "100"])
            #expect(try await sortKeys(Condition(.lt, [num("-9.9")])).count == 5)
            #expect(try await sortKeys(Condition(.gt, [num("-0.0001")])).first == "-0." + String(repeating: "0", count: 129) + "1")
            #expect(try await sortKeys(Condition(.between, [num("-0.5"), num("0.5")])) == [
                "-0.5", "-0.001", "-0." + String(repeating: "0", count: 129) + "1", "0",
                "0." + String(repeating: "0", count: 129) + "1", "0.001", "0.5",
            ])
            #expect(try await sortKeys(Condition(.ge, [num("1E+20")])) == [
                "100000000000000000000", "150000000000000000000", "99999999999999999999999999999999999999",
                "1" + String(repeating: "0", count: 38), "12345678901234567890123456789012345678" + String(repeating: "0", count: 50),
                "99999999999999999999999999999999999999" + String(repeating: "0", count: 88),
            ])
            // 38 significant digits tell apart numbers that differ in their last digit only.
            #expect(try await sortKeys(Condition(.between, [num("0.9"), num("1.1")])) == [
                "0.99999999999999999999999999999999999999", "1", "1.0000000000000000000000000000000000001",
                "1.000000000000000000000000000000000001",
            ])
            #expect(try await sortKeys(Condition(.lt, [num("-1")])).suffix(2) == [
                "-1.000000000000000000000000000000000001", "-1.0000000000000000000000000000000000001",
            ])
            #expect(try await sortKeys(Condition(.eq, [num("10.50")])) == ["10.5"])
            #expect(try await sortKeys(Condition(.eq, [num("3")])) == [])
            #expect(try await sortKeys(Condition(.between, [num("3"), num("4")])) == [])
            #expect(try await sortKeys(Condition(.between, [num("2"), num("2")])) == ["2"])
        }
    }

    @Test func stringAndBinaryOperandsBetweenStoredValues() async throws {
        try await withDatabase { db in
            try await seedSorted(db, .s)
            func sortKeys(_ condition: Condition) async throws -> [AttributeValue?] {
                (try await db.query(QueryInput(tableName: "Tbl", keyConditions: keyConditions("pp", condition))).items ?? []).map { $0["sk"] }
            }
            #expect(try await sortKeys(Condition(.between, ["a\u{0}", "aaa"])) == ["a\u{0}", "a\u{0}b", "aa"])
            #expect(try await sortKeys(Condition(.gt, ["zzz"])) == ["~", "é", "中", "😀"])
            #expect(try await sortKeys(Condition(.lt, ["a"])) == ["A", "B", "Z"])
            #expect(try await sortKeys(Condition(.beginsWith, ["a\u{0}"])) == ["a\u{0}", "a\u{0}b"])
            #expect(try await sortKeys(Condition(.beginsWith, ["x"])) == [])
            #expect(try await sortKeys(Condition(.beginsWith, ["ab"])) == ["ab", "abc"])
        }
        try await withDatabase { db in
            try await seedSorted(db, .b)
            func sortKeys(_ condition: Condition) async throws -> [AttributeValue?] {
                (try await db.query(QueryInput(tableName: "Tbl", keyConditions: keyConditions("q", condition))).items ?? []).map { $0["sk"] }
            }
            #expect(try await sortKeys(Condition(.beginsWith, [.b([0xFF])])) == [.b([0xFF]), .b([0xFF, 0x00]), .b([0xFF, 0xFF])])
            #expect(try await sortKeys(Condition(.beginsWith, [.b([0x00])])) == [.b([0x00]), .b([0x00, 0x00]), .b([0x00, 0x01])])
            #expect(try await sortKeys(Condition(.gt, [.b([0x7F, 0xFF])])) == [.b([0x80]), .b([0xFE, 0xFF]), .b([0xFF]), .b([0xFF, 0x00]), .b([0xFF, 0xFF])])
            #expect(try await sortKeys(Condition(.le, [.b([0x00, 0x00, 0x00])])) == [.b([0x00]), .b([0x00, 0x00])])
        }
    }

    @Test func hashOnlyTableQuery() async throws {
        try await withDatabase { db in
            try await createTable(db, "Hash", hash: "id", .n)
            for index in -5...5 {
                try await db.putItem(PutItemInput(tableName: "Hash", item: ["id": .n(DecimalNumber(index)), "v": .n(DecimalNumber(index * index))]))
            }
            let page = try await db.query(QueryInput(tableName: "Hash", keyConditions: ["id": Condition(.eq, [num("-3")])]))
            #expect(page.items == [["id": num("-3"), "v": 9]])
            // Numbers are keys by value, however they are written.
            let spelled = try await db.query(QueryInput(tableName: "Hash", keyConditions: ["id": Condition(.eq, [num("-30.00E-1")])]))
            #expect(spelled.items == [["id": num("-3"), "v": 9]])
            let none = try await db.query(QueryInput(tableName: "Hash", keyConditions: ["id": Condition(.eq, [num("6")])]))
            #expect(none.items == [])
            #expect(none.count == 0)
            // Two conditions on a key of one attribute: DynamoDB does not support the query (it names no missing key).
            await expectValidation("Query key condition not supported") {
                _ = try await db.query(QueryInput(tableName: "Hash", keyConditions: ["id": Condition(.eq, [1]), "v": Condition(.eq, [1])]))
            }
        }
    }

    // MARK: Paging

    @Test(arguments: [1, 2, 5, 13, 24, 25, 26, 100])
    func queryPagingVisitsEveryItemOnce(limit: Int) async throws {
        try await withDatabase { db in
            try await seedSorted(db, .n)
            let values = ascending(.n)
            for forward in [true, false] {
                let all = try await queryAll(db, QueryInput(
                    tableName: "Tbl", keyConditions: keyConditions("p"), scanIndexForward: forward, limit: limit))
                #expect(all.map { $0["sk"] } == (forward ? values : values.reversed()))

                // With a sort-key condition, paging stays inside its range.
                let some = try await queryAll(db, QueryInput(
                    tableName: "Tbl", keyConditions: keyConditions("p", Condition(.between, [num("-2"), num("11")])),
                    scanIndexForward: forward, limit: limit))
                let expected = Array(values[values.firstIndex(of: num("-2"))!...values.firstIndex(of: num("11"))!])
                #expect(expected.count > 10)
                #expect(some.map { $0["sk"] } == (forward ? expected : expected.reversed()))
            }
        }
    }

    @Test func queryLastEvaluatedKeyIsTheLastItemsKey() async throws {
        try await withDatabase { db in
            try await seedSorted(db, .s)
            let page = try await db.query(QueryInput(tableName: "Tbl", keyConditions: keyConditions("p"), scanIndexForward: false, limit: 3))
            #expect(page.items?.map { $0["sk"] } == ["😀", "中", "é"])
            #expect(page.lastEvaluatedKey == ["pk": "p", "sk": "é"])
            // Resuming from a key that has no item (deleted since) continues after it.
            try await db.deleteItem(DeleteItemInput(tableName: "Tbl", key: ["pk": "p", "sk": "é"]))
            let next = try await db.query(QueryInput(
                tableName: "Tbl", keyConditions: keyConditions("p"), scanIndexForward: false, limit: 2, exclusiveStartKey: page.lastEvaluatedKey))
            #expect(next.items?.map { $0["sk"] } == ["~", "b"])
            // A start key outside any item also works forward.
            let fromGap = try await db.query(QueryInput(
                tableName: "Tbl", keyConditions: keyConditions("p"), limit: 2, exclusiveStartKey: ["pk": "p", "sk": "aab"]))
            #expect(fromGap.items?.map { $0["sk"] } == ["ab", "abc"])
        }
    }

    @Test func queryPageStopsAtOneMegabyte() async throws {
        // 1,465 write units into one partition key value within a second: more than DynamoDB's partitions take.
        try await withDatabase(throttling: false) { db in
            try await createTable(db, "Big", hash: "pk", .s, range: "sk", .n)
            // Five items of 300,011 bytes each: "pk"(2) + "p"(1) + "sk"(2) + a one-digit number (2) + "d"(1) + 300,003.
            for index in 0..<5 {
                try await db.putItem(PutItemInput(tableName: "Big", item: ["pk": "p", "sk": .n(DecimalNumber(index + 1)), "d": .s(ascii(300_003))]))
            }
            for forward in [true, false] {
                var start: Item? = nil
                var seen: [AttributeValue?] = []
                var pageCounts: [Int] = []
                repeat {
                    let page = try await db.query(QueryInput(tableName: "Big", keyConditions: keyConditions("p"), scanIndexForward: forward, exclusiveStartKey: start))
                    let items = page.items ?? []
                    #expect(items.reduce(0) { $0 + ItemSize.of($1) } <= 1_048_576)
                    #expect(items.allSatisfy { ItemSize.of($0) == 300_011 })
                    seen += items.map { $0["sk"] }
                    pageCounts.append(items.count)
                    start = page.lastEvaluatedKey
                } while start != nil && pageCounts.count < 10
                let expected: [AttributeValue?] = (1...5).map { .n(DecimalNumber($0)) }
                #expect(seen == (forward ? expected : expected.reversed()))
                #expect(pageCounts.first == 3)
            }
            // The same through Scan.
            let (items, pages) = try await scanAll(db, ScanInput(tableName: "Big"))
            #expect(items.count == 5)
            #expect(Set(items.compactMap { $0["sk"] }.map { "\($0)" }).count == 5)
            #expect(pages >= 2)
            let first = try await db.scan(ScanInput(tableName: "Big"))
            #expect((first.items ?? []).reduce(0) { $0 + ItemSize.of($1) } <= 1_048_576)
            #expect(first.count == 3)
            #expect(first.lastEvaluatedKey != nil)
        }
    }

    // MARK: Select and AttributesToGet

    @Test func selectCount() async throws {
        try await withDatabase { db in
            try await seedSorted(db, .n)
            let all = try await db.query(QueryInput(tableName: "Tbl", keyConditions: keyConditions("p"), select: .count))
            #expect(all.items == nil)
            #expect(all.count == ascendingNumbers.count)
            #expect(all.scannedCount == ascendingNumbers.count)
            let some = try await db.query(QueryInput(tableName: "Tbl", keyConditions: keyConditions("pp", Condition(.lt, [0])), select: .count))
            #expect(some.items == nil)
            #expect(some.count == ascendingNumbers.firstIndex(of: "0"))
            let limited = try await db.query(QueryInput(tableName: "Tbl", keyConditions: keyConditions("pp"), limit: 4, select: .count))
            #expect(limited.count == 4)
            #expect(limited.items == nil)
            #expect(limited.lastEvaluatedKey != nil)
            let scanned = try await db.scan(ScanInput(tableName: "Tbl", select: .count))
            #expect(scanned.items == nil)
            #expect(scanned.count == 4 * ascendingNumbers.count)
        }
    }

    @Test func attributesToGetAndSelect() async throws {
        try await withDatabase { db in
            try await seedSorted(db, .s)
            let projected = try await db.query(QueryInput(
                tableName: "Tbl", keyConditions: keyConditions("q", Condition(.eq, ["b"])), attributesToGet: ["sk", "missing"]))
            #expect(projected.items == [["sk": "b"]])
            let specific = try await db.scan(ScanInput(tableName: "Tbl", limit: 3, select: .specificAttributes, attributesToGet: ["pk"]))
            #expect(specific.items?.allSatisfy { $0.keys.sorted() == ["pk"] } == true)
            #expect(specific.count == 3)
            let allAttributes = try await db.query(QueryInput(tableName: "Tbl", keyConditions: keyConditions("q"), limit: 1, select: .allAttributes))
            #expect(allAttributes.items?.first?.keys.sorted() == ["i", "pk", "sk"])

            await expectValidation("Cannot specify the AttributesToGet when choosing to get only the Count") {
                _ = try await db.query(QueryInput(tableName: "Tbl", keyConditions: keyConditions("q"), select: .count, attributesToGet: ["pk"]))
            }
            await expectValidation("Must specify the AttributesToGet when choosing to get SPECIFIC_ATTRIBUTES") {
                _ = try await db.scan(ScanInput(tableName: "Tbl", select: .specificAttributes))
            }
            await expectValidation("ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName") {
                _ = try await db.query(QueryInput(tableName: "Tbl", keyConditions: keyConditions("q"), select: .allProjectedAttributes))
            }
        }
    }

    // MARK: Refused Query requests

    @Test(arguments: [
        (["sk": Condition(.eq, [1])], "Query condition missed key schema element: pk"),
        (["pk": Condition(.eq, ["p"]), "other": Condition(.eq, [1])], "Query condition missed key schema element: sk"),
        (["pk": Condition(.eq, ["p"]), "sk": Condition(.eq, [1]), "other": Condition(.eq, [1])], "Conditions can be of length 1 or 2 only"),
        (["pk": Condition(.beginsWith, ["p"])], "Query key condition not supported"),
        (["pk": Condition(.gt, ["p"])], "Query key condition not supported"),
        (["pk": Condition(.ne, ["p"])], "Query key condition not supported"),
        (["pk": Condition(.eq, ["p"]), "sk": Condition(.ne, [1])], "Attempted conditional constraint is not an indexable operation"),
        (["pk": Condition(.eq, ["p"]), "sk": Condition(.in, [1, 2])], "Attempted conditional constraint is not an indexable operation"),
        (["pk": Condition(.eq, ["p"]), "sk": Condition(.contains, [1])], "Attempted conditional constraint is not an indexable operation"),
        (["pk": Condition(.eq, ["p"]), "sk": Condition(.notContains, [1])], "Attempted conditional constraint is not an indexable operation"),
        (["pk": Condition(.eq, ["p"]), "sk": Condition(.null, [])], "Attempted conditional constraint is not an indexable operation"),
        (["pk": Condition(.eq, ["p"]), "sk": Condition(.notNull, [])], "Attempted conditional constraint is not an indexable operation"),
        (["pk": Condition(.eq, [])], "One or more parameter values were invalid: Invalid number of argument(s) for the EQ ComparisonOperator"),
        (["pk": Condition(.eq, ["p", "q"])], "One or more parameter values were invalid: Invalid number of argument(s) for the EQ ComparisonOperator"),
        (["pk": Condition(.eq, ["p"]), "sk": Condition(.between, [1])], "One or more parameter values were invalid: Invalid number of argument(s) for the BETWEEN ComparisonOperator"),
        (["pk": Condition(.eq, ["p"]), "sk": Condition(.between, [1, 2, 3])], "One or more parameter values were invalid: Invalid number of argument(s) for the BETWEEN ComparisonOperator"),
        (["pk": Condition(.eq, ["p"]), "sk": Condition(.lt, [1, 2])], "One or more parameter values were invalid: Invalid number of argument(s) for the LT ComparisonOperator"),
        (["pk": Condition(.eq, ["p"]), "sk": Condition(.ge, [])], "One or more parameter values were invalid: Invalid number of argument(s) for the GE ComparisonOperator"),
        (["pk": Condition(.eq, [1])], "One or more parameter values were invalid: Condition parameter type does not match schema type"),
        (["pk": Condition(.eq, [.ss(["p"])])], "One or more parameter values were invalid: Condition parameter type does not match schema type"),
        (["pk": Condition(.eq, ["p"]), "sk": Condition(.eq, ["1"])], "One or more parameter values were invalid: Condition parameter type does not match schema type"),
        (["pk": Condition(.eq, ["p"]), "sk": Condition(.between, [1, "2"])], "One or more parameter values were invalid: Condition parameter type does not match schema type"),
        (["pk": Condition(.eq, ["p"]), "sk": Condition(.beginsWith, [1])], "One or more parameter values were invalid: ComparisonOperator BEGINS_WITH is not valid for N AttributeValue type"),
        (["pk": Condition(.eq, ["p"]), "sk": Condition(.between, [5, 1])], "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {N:5}, upper bound operand: AttributeValue: {N:1}"),
        (["pk": Condition(.eq, ["p"]), "sk": Condition(.between, [1, -1])], "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {N:-1}"),
    ] as [([String: Condition], String)])
    func invalidKeyConditionsRefused(conditions: [String: Condition], message: String) async throws {
        try await withDatabase { db in
            try await seedSorted(db, .n)
            await expectValidation(message) { _ = try await db.query(QueryInput(tableName: "Tbl", keyConditions: conditions)) }
        }
    }

    @Test func emptyKeyConditionsRefused() async throws {
        try await withDatabase { db in
            try await createTable(db, "Tbl", range: "sk", .n)
            await expectValidation { _ = try await db.query(QueryInput(tableName: "Tbl", keyConditions: [:])) }
        }
    }

    @Test func invalidQueryParametersRefused() async throws {
        try await withDatabase { db in
            try await seedSorted(db, .n)
            await expectValidation("1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1") {
                _ = try await db.query(QueryInput(tableName: "Tbl", keyConditions: keyConditions("p"), limit: 0))
            }
            await expectValidation("1 validation error detected: Value '-1' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1") {
                _ = try await db.scan(ScanInput(tableName: "Tbl", limit: -1))
            }
            // Start keys must match the key schema.
            await expectValidation("Exclusive Start Key must have same size as table's key schema") {
                _ = try await db.query(QueryInput(tableName: "Tbl", keyConditions: keyConditions("p"), exclusiveStartKey: ["pk": "p"]))
            }
            await expectValidation("The provided starting key is invalid: The provided key element does not match the schema") {
                _ = try await db.query(QueryInput(tableName: "Tbl", keyConditions: keyConditions("p"), exclusiveStartKey: ["pk": "p", "sk": "1"]))
            }
            await expectValidation("The provided starting key is invalid: The provided key element does not match the schema") {
                _ = try await db.scan(ScanInput(tableName: "Tbl", exclusiveStartKey: ["pk": "p", "sk": 1, "x": 1]))
            }
            // A start key from another partition.
            await expectValidation {
                _ = try await db.query(QueryInput(tableName: "Tbl", keyConditions: keyConditions("p"), exclusiveStartKey: ["pk": "q", "sk": 1]))
            }
            await expectEddyError("ResourceNotFoundException", "Requested resource not found") {
                _ = try await db.query(QueryInput(tableName: "Nope", keyConditions: keyConditions("p")))
            }
            await expectEddyError("ResourceNotFoundException", "Requested resource not found") {
                _ = try await db.scan(ScanInput(tableName: "Nope"))
            }
        }
    }

    // MARK: Scan

    @Test(arguments: [1, 3, 7, 99, 100, 101, 1000])
    func scanPagingVisitsEveryItemOnce(limit: Int) async throws {
        try await withDatabase { db in
            try await seedSorted(db, .n)
            let (items, pages) = try await scanAll(db, ScanInput(tableName: "Tbl", limit: limit))
            #expect(items.count == 4 * ascendingNumbers.count)
            let keys = items.map { "\($0["pk"]!)|\($0["sk"]!)" }
            #expect(Set(keys).count == keys.count)
            #expect(pages >= (items.count + limit - 1) / limit)
            // Items of one partition come out together and in sort-key order.
            for partition in partitions {
                let inPartition = items.filter { $0["pk"] == partition }.map { $0["sk"] }
                #expect(inPartition == ascending(.n).map { Optional($0) })
            }
        }
    }

    @Test func scanHashOnlyTableAfterDeletes() async throws {
        try await withDatabase { db in
            try await createTable(db, "Hash", hash: "id", .b)
            var remaining = Set<[UInt8]>()
            for index in 0..<120 {
                let id: [UInt8] = [UInt8(index), 0, UInt8(index % 7)]
                remaining.insert(id)
                try await db.putItem(PutItemInput(tableName: "Hash", item: ["id": .b(id)]))
            }
            // Delete each page's last item before asking for the next page: paging still continues after it.
            var start: Item? = nil
            var seen: [[UInt8]] = []
            var deleted = 0
            repeat {
                let page = try await db.scan(ScanInput(tableName: "Hash", limit: 11, exclusiveStartKey: start))
                for item in page.items ?? [] {
                    if case .b(let id)? = item["id"] { seen.append(id) }
                }
                start = page.lastEvaluatedKey
                if let start {
                    try await db.deleteItem(DeleteItemInput(tableName: "Hash", key: start))
                    deleted += 1
                }
            } while start != nil
            #expect(seen.count == 120)
            #expect(Set(seen) == remaining)
            #expect(try await db.describeTable(tableName: "Hash").itemCount == Int64(120 - deleted))
        }
    }

    @Test(arguments: [1, 2, 3, 7, 16])
    func parallelScanSegmentsPartitionTheTable(totalSegments: Int) async throws {
        try await withDatabase { db in
            try await createTable(db, "Tbl", hash: "pk", .s, range: "sk", .n)
            var expected = Set<String>()
            var requests: [WriteRequest] = []
            // 240 items: 60 partitions of 4 items each.
            for partition in 0..<60 {
                for sort in 0..<4 {
                    expected.insert("u\(partition)|\(sort)")
                    requests.append(WriteRequest(putRequest: PutRequest(item: ["pk": .s("u\(partition)"), "sk": .n(DecimalNumber(sort))])))
                    if requests.count == 25 {
                        try await db.batchWriteItem(BatchWriteItemInput(requestItems: ["Tbl": requests]))
                        requests = []
                    }
                }
            }
            if !requests.isEmpty { try await db.batchWriteItem(BatchWriteItemInput(requestItems: ["Tbl": requests])) }

            var segments: [Set<String>] = []
            var total = 0
            for segment in 0..<totalSegments {
                let (items, _) = try await scanAll(db, ScanInput(tableName: "Tbl", limit: 9, segment: segment, totalSegments: totalSegments))
                let keys = items.map { item -> String in
                    guard case .s(let pk)? = item["pk"], case .n(let sk)? = item["sk"] else { return "?" }
                    return "\(pk)|\(sk)"
                }
                #expect(Set(keys).count == keys.count, "segment \(segment) returned an item twice")
                segments.append(Set(keys))
                total += keys.count
            }
            #expect(total == expected.count)
            #expect(segments.reduce(into: Set<String>()) { $0.formUnion($1) } == expected)
            for first in 0..<totalSegments {
                for second in (first + 1)..<max(first + 1, totalSegments) {
                    #expect(segments[first].isDisjoint(with: segments[second]))
                }
            }
            // An item's partition lies in one segment: all four sort keys of a partition are together.
            for segment in segments {
                let partitionsHere = Set(segment.map { $0.split(separator: "|")[0] })
                #expect(segment.count == partitionsHere.count * 4)
            }
            if totalSegments > 1 {
                // 60 hashed partitions do not all land in one segment.
                #expect(segments.filter { !$0.isEmpty }.count > 1)
            }
            // A count-only parallel scan agrees.
            var counted = 0
            for segment in 0..<totalSegments {
                counted += try await db.scan(ScanInput(tableName: "Tbl", segment: segment, totalSegments: totalSegments, select: .count)).count
            }
            #expect(counted == expected.count)
        }
    }

    @Test(arguments: [
        (0, nil, "The TotalSegments parameter is required but was not present in the request when Segment parameter is present"),
        (nil, 4, "The Segment parameter is required but was not present in the request when parameter TotalSegments is present"),
        (0, 0, "1 validation error detected: Value '0' at 'totalSegments' failed to satisfy constraint: Member must have value greater than or equal to 1"),
        (0, 1_000_001, "1 validation error detected: Value '1000001' at 'totalSegments' failed to satisfy constraint: Member must have value less than or equal to 1000000"),
        (-1, 4, "1 validation error detected: Value '-1' at 'segment' failed to satisfy constraint: Member must have value greater than or equal to 0"),
        (4, 4, "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: 4 is out of bounds for TotalSegments: 4"),
        (1, 1, "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: 1 is out of bounds for TotalSegments: 1"),
    ] as [(Int?, Int?, String)])
    func invalidSegmentsRefused(segment: Int?, totalSegments: Int?, message: String) async throws {
        try await withDatabase { db in
            try await createTable(db, "Tbl")
            await expectValidation(message) { _ = try await db.scan(ScanInput(tableName: "Tbl", segment: segment, totalSegments: totalSegments)) }
        }
    }

    @Test func segmentBoundsAccepted() async throws {
        try await withDatabase { db in
            try await createTable(db, "Tbl")
            try await db.putItem(PutItemInput(tableName: "Tbl", item: ["pk": "x"]))
            var found = 0
            for segment in [0, 999_999] {
                found += try await db.scan(ScanInput(tableName: "Tbl", segment: segment, totalSegments: 1_000_000)).count
            }
            #expect(found <= 1)
            #expect(try await db.scan(ScanInput(tableName: "Tbl", segment: 0, totalSegments: 1)).count == 1)
        }
    }

    @Test func startKeyOutsideSegmentRefused() async throws {
        try await withDatabase { db in
            try await createTable(db, "Tbl")
            for index in 0..<64 {
                try await db.putItem(PutItemInput(tableName: "Tbl", item: ["pk": .s("k\(index)")]))
            }
            // Find an item of segment 0 of 2, then use its key as the start of segment 1.
            let page = try await db.scan(ScanInput(tableName: "Tbl", limit: 1, segment: 0, totalSegments: 2))
            let key = try #require(page.lastEvaluatedKey)
            await expectValidation("The provided Exclusive start key does not map to the provided segment") {
                _ = try await db.scan(ScanInput(tableName: "Tbl", exclusiveStartKey: key, segment: 1, totalSegments: 2))
            }
            // In its own segment it is fine.
            _ = try await db.scan(ScanInput(tableName: "Tbl", exclusiveStartKey: key, segment: 0, totalSegments: 2))
        }
    }
}
