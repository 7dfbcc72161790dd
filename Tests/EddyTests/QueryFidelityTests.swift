import Testing

@testable import Eddy

// Query's refusals worded as DynamoDB words them (issue 21, point 5), from the Query API reference
// (ExclusiveStartKey, KeyConditionExpression, QueryFilter) and DynamoDB's own error messages: a start key
// outside the queried partition or sort-key condition, or of another size than the key schema; a QueryFilter
// on a key attribute; an IN list or BETWEEN bounds of mixed types; and key conditions DynamoDB cannot read.

/// A table `Qry` keyed by `pk` (S) and `sk` (N), and a table `Hsh` keyed by `pk` (S) alone, each with items.
private func withQueryTables(_ body: (Database) async throws -> Void) async throws {
    try await withDatabase { db in
        try await createTable(db, "Qry", range: "sk", .n)
        try await createTable(db, "Hsh")
        for sk in 1...5 {
            try await db.putItem(PutItemInput(tableName: "Qry", item: ["pk": "p", "sk": .n(DecimalNumber(sk)), "n": .n(DecimalNumber(sk))]))
        }
        try await db.putItem(PutItemInput(tableName: "Hsh", item: ["pk": "p", "n": 1]))
        try await body(db)
    }
}

struct StartKeyCase: CustomTestStringConvertible, Sendable {
    let label: String
    let table: String
    let keyConditionExpression: String
    let values: [String: AttributeValue]
    let start: Item
    let message: String
    var testDescription: String { label }
}

private let startKeyCases: [StartKeyCase] = [
    StartKeyCase(
        label: "another partition", table: "Qry", keyConditionExpression: "pk = :p", values: [":p": "p"],
        start: ["pk": "q", "sk": 1], message: "The provided starting key is outside query boundaries based on provided conditions"),
    StartKeyCase(
        label: "a sort key below the condition", table: "Qry", keyConditionExpression: "pk = :p AND sk > :s",
        values: [":p": "p", ":s": 2], start: ["pk": "p", "sk": 2],
        message: "The provided starting key does not match the range key predicate"),
    StartKeyCase(
        label: "a sort key above BETWEEN", table: "Qry", keyConditionExpression: "pk = :p AND sk BETWEEN :a AND :b",
        values: [":p": "p", ":a": 1, ":b": 3], start: ["pk": "p", "sk": 4],
        message: "The provided starting key does not match the range key predicate"),
    StartKeyCase(
        label: "a sort key on a table without one", table: "Hsh", keyConditionExpression: "pk = :p", values: [":p": "p"],
        start: ["pk": "p", "sk": 1], message: "Exclusive Start Key must have same size as table's key schema"),
    StartKeyCase(
        label: "no sort key on a table with one", table: "Qry", keyConditionExpression: "pk = :p", values: [":p": "p"],
        start: ["pk": "p"], message: "Exclusive Start Key must have same size as table's key schema"),
    StartKeyCase(
        label: "another attribute in place of the sort key", table: "Qry", keyConditionExpression: "pk = :p",
        values: [":p": "p"], start: ["pk": "p", "other": 1], message: "The provided starting key is invalid"),
    StartKeyCase(
        label: "a sort key of the wrong type", table: "Qry", keyConditionExpression: "pk = :p", values: [":p": "p"],
        start: ["pk": "p", "sk": "1"], message: "The provided starting key is invalid: The provided key element does not match the schema"),
]

struct KeyConditionCase: CustomTestStringConvertible, Sendable {
    let expression: String
    let values: [String: AttributeValue]
    let message: String
    var testDescription: String { expression }
}

private let keyConditionCases: [KeyConditionCase] = [
    KeyConditionCase(
        expression: "pk = :p AND begins_with(sk, :s)", values: [":p": "p", ":s": 1],
        message: "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"),
    KeyConditionCase(
        expression: "pk = :p AND begins_with(sk, :s)", values: [":p": "p", ":s": .bool(true)],
        message: "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: BOOL"),
    KeyConditionCase(
        expression: "pk = :p AND n = :n", values: [":p": "p", ":n": 1], message: "Query condition missed key schema element: sk"),
    KeyConditionCase(expression: "n = :n", values: [":n": 1], message: "Query condition missed key schema element: pk"),
    KeyConditionCase(
        expression: "pk.a = :p", values: [":p": "p"], message: "KeyConditionExpressions cannot have conditions on nested attributes"),
    KeyConditionCase(
        expression: "pk = :p AND sk[0] = :s", values: [":p": "p", ":s": 1],
        message: "KeyConditionExpressions cannot have conditions on nested attributes"),
    KeyConditionCase(
        expression: "pk = :p AND size(sk) = :s", values: [":p": "p", ":s": 1],
        message: "KeyConditionExpressions cannot contain nested operations"),
    KeyConditionCase(
        expression: "pk = :p AND sk = n", values: [":p": "p"],
        message: "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition"),
    KeyConditionCase(
        expression: "pk = :p AND :a = :b", values: [":p": "p", ":a": 1, ":b": 1],
        message: "Invalid condition in KeyConditionExpression: No key attribute specified"),
    KeyConditionCase(
        expression: "pk = :p AND :a BETWEEN sk AND :b", values: [":p": "p", ":a": 1, ":b": 2],
        message: "Invalid condition in KeyConditionExpression: BETWEEN operator must have the key attribute as its first operand"),
    KeyConditionCase(
        expression: "pk = :p AND begins_with(:a, sk)", values: [":p": "p", ":a": "1"],
        message: "Invalid condition in KeyConditionExpression: begins_with operator must have the key attribute as its first operand"),
    KeyConditionCase(
        expression: "pk = :p AND sk BETWEEN :a AND :b", values: [":p": "p", ":a": 1, ":b": "2"],
        message: "Invalid KeyConditionExpression: The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {S:2}"),
    KeyConditionCase(
        expression: "pk = :p AND sk > :a AND sk < :b", values: [":p": "p", ":a": 1, ":b": 2],
        message: "KeyConditionExpressions must only contain one condition per key"),
]

@Suite struct QueryFidelityTests {
    @Test(arguments: startKeyCases) func startKeysOutsideTheQueryAreRefused(_ testCase: StartKeyCase) async throws {
        try await withQueryTables { db in
            await expectValidation(testCase.message) {
                _ = try await db.query(QueryInput(
                    tableName: testCase.table, keyConditionExpression: testCase.keyConditionExpression,
                    exclusiveStartKey: testCase.start, expressionAttributeValues: testCase.values))
            }
        }
    }

    @Test func startKeysWithinTheQueryResumeWhereTheyName() async throws {
        try await withQueryTables { db in
            // A start key names a position, whether or not an item is there.
            let after = try await db.query(QueryInput(
                tableName: "Qry", keyConditionExpression: "pk = :p AND sk >= :s", exclusiveStartKey: ["pk": "p", "sk": .n(try DecimalNumber("2.5"))],
                expressionAttributeValues: [":p": "p", ":s": 2]))
            #expect(after.items?.map { $0["sk"] } == [3, 4, 5])
            let backward = try await db.query(QueryInput(
                tableName: "Qry", keyConditionExpression: "pk = :p", scanIndexForward: false, exclusiveStartKey: ["pk": "p", "sk": 3],
                expressionAttributeValues: [":p": "p"]))
            #expect(backward.items?.map { $0["sk"] } == [2, 1])
            let legacy = try await db.query(QueryInput(
                tableName: "Qry", keyConditions: ["pk": Condition(.eq, ["p"]), "sk": Condition(.le, [4])],
                exclusiveStartKey: ["pk": "p", "sk": 2]))
            #expect(legacy.items?.map { $0["sk"] } == [3, 4])
        }
    }

    @Test func legacyKeyConditionsOutsideTheStartKeyAreRefused() async throws {
        try await withQueryTables { db in
            await expectValidation("The provided starting key is outside query boundaries based on provided conditions") {
                _ = try await db.query(QueryInput(
                    tableName: "Qry", keyConditions: ["pk": Condition(.eq, ["q"])], exclusiveStartKey: ["pk": "p", "sk": 1]))
            }
            await expectValidation("The provided starting key does not match the range key predicate") {
                _ = try await db.query(QueryInput(
                    tableName: "Qry", keyConditions: ["pk": Condition(.eq, ["p"]), "sk": Condition(.lt, [3])],
                    exclusiveStartKey: ["pk": "p", "sk": 3]))
            }
        }
    }

    @Test(arguments: keyConditionCases) func keyConditionsAreRefusedInDynamoDBsWords(_ testCase: KeyConditionCase) async throws {
        try await withQueryTables { db in
            await expectValidation(testCase.message) {
                _ = try await db.query(QueryInput(
                    tableName: "Qry", keyConditionExpression: testCase.expression, expressionAttributeValues: testCase.values))
            }
        }
    }

    @Test func twoConditionsOnAKeyOfOneAttributeAreNotSupported() async throws {
        try await withQueryTables { db in
            await expectValidation("Query key condition not supported") {
                _ = try await db.query(QueryInput(
                    tableName: "Hsh", keyConditionExpression: "pk = :p AND n = :n", expressionAttributeValues: [":p": "p", ":n": 1]))
            }
            await expectValidation("Query key condition not supported") {
                _ = try await db.query(QueryInput(
                    tableName: "Hsh", keyConditions: ["pk": Condition(.eq, ["p"]), "n": Condition(.eq, [1])]))
            }
        }
    }

    @Test(arguments: ["pk", "sk"]) func queryFilterOnAKeyAttributeIsRefused(_ name: String) async throws {
        try await withQueryTables { db in
            await expectValidation("QueryFilter can only contain non-primary key attributes: Primary key attribute: \(name)") {
                _ = try await db.query(QueryInput(
                    tableName: "Qry", keyConditions: ["pk": Condition(.eq, ["p"])],
                    queryFilter: ["n": Condition(.gt, [1]), name: Condition(.eq, [1])]))
            }
        }
    }

    @Test(arguments: [
        (ComparisonOperator.in, [1, "1"] as [AttributeValue]),
        (ComparisonOperator.between, [1, "2"] as [AttributeValue]),
    ])
    func legacyListsOfMixedTypesAreRefused(_ op: ComparisonOperator, _ operands: [AttributeValue]) async throws {
        try await withQueryTables { db in
            let message = "One or more parameter values were invalid: AttributeValues inside AttributeValueList must be of same type"
            await expectValidation(message) {
                _ = try await db.query(QueryInput(
                    tableName: "Qry", keyConditions: ["pk": Condition(.eq, ["p"])], queryFilter: ["n": Condition(op, operands)]))
            }
            await expectValidation(message) {
                _ = try await db.scan(ScanInput(tableName: "Qry", scanFilter: ["n": Condition(op, operands)]))
            }
            // The same list of one type is a filter.
            let sameType = operands.map { value -> AttributeValue in if case .s(let text) = value { .n(DecimalNumber(Int(text)!)) } else { value } }
            let page = try await db.scan(ScanInput(tableName: "Qry", scanFilter: ["n": Condition(op, sameType)]))
            #expect(page.count == (op == .in ? 1 : 2))
        }
    }
}
