import Testing

@testable import Eddy

/// The legacy `Expected`, `QueryFilter`, `ScanFilter` and `ConditionalOperator` parameters (AWS Developer
/// Guide, "Legacy conditional parameters"), which compile into the same tree as the expressions.
@Suite(.timeLimit(.minutes(5))) struct LegacyConditionsTests {
    private static let stored: Item = [
        "id": "k", "n": 5, "s": "hello", "tags": .ss(["red", "blue"]), "list": .l(["x", 1]),
    ]

    private func withItem(_ body: (Database) async throws -> Void) async throws {
        try await withDatabase { db in
            try await db.createTable(CreateTableInput(
                tableName: "Legacy",
                keySchema: [KeySchemaElement(attributeName: "id", keyType: .hash)],
                attributeDefinitions: [AttributeDefinition(attributeName: "id", attributeType: .s)],
                billingMode: .payPerRequest))
            try await db.putItem(PutItemInput(tableName: "Legacy", item: Self.stored))
            try await body(db)
        }
    }

    static let expectedCases: [(String, [String: ExpectedAttributeValue], ConditionalOperator?, Bool)] = [
        ("Value alone is EQ", ["n": .init(value: 5)], nil, true),
        ("Value alone, different", ["n": .init(value: 6)], nil, false),
        ("Exists true with Value", ["s": .init(value: "hello", exists: true)], nil, true),
        ("Exists false on an absent attribute", ["absent": .init(exists: false)], nil, true),
        ("Exists false on a present attribute", ["n": .init(exists: false)], nil, false),
        ("EQ", ["n": .init(comparisonOperator: .eq, attributeValueList: [5])], nil, true),
        ("NE", ["n": .init(comparisonOperator: .ne, attributeValueList: [5])], nil, false),
        ("LT", ["n": .init(comparisonOperator: .lt, attributeValueList: [6])], nil, true),
        ("LE", ["n": .init(comparisonOperator: .le, attributeValueList: [5])], nil, true),
        ("GT", ["n": .init(comparisonOperator: .gt, attributeValueList: [5])], nil, false),
        ("GE", ["n": .init(comparisonOperator: .ge, attributeValueList: [5])], nil, true),
        ("NOT_NULL", ["s": .init(comparisonOperator: .notNull)], nil, true),
        ("NULL", ["absent": .init(comparisonOperator: .null)], nil, true),
        ("CONTAINS on a string", ["s": .init(comparisonOperator: .contains, attributeValueList: ["ell"])], nil, true),
        ("CONTAINS on a set", ["tags": .init(comparisonOperator: .contains, attributeValueList: ["red"])], nil, true),
        ("NOT_CONTAINS on a set", ["tags": .init(comparisonOperator: .notContains, attributeValueList: ["red"])], nil, false),
        ("NOT_CONTAINS on a list", ["list": .init(comparisonOperator: .notContains, attributeValueList: ["y"])], nil, true),
        ("BEGINS_WITH", ["s": .init(comparisonOperator: .beginsWith, attributeValueList: ["he"])], nil, true),
        ("IN", ["n": .init(comparisonOperator: .in, attributeValueList: [1, 5, 9])], nil, true),
        ("IN, no match", ["n": .init(comparisonOperator: .in, attributeValueList: [1, 9])], nil, false),
        ("BETWEEN", ["n": .init(comparisonOperator: .between, attributeValueList: [1, 5])], nil, true),
        ("type mismatch is false", ["n": .init(comparisonOperator: .eq, attributeValueList: ["5"])], nil, false),
        ("AND of a true and a false", ["n": .init(value: 5), "s": .init(value: "bye")], .and, false),
        ("AND by default", ["n": .init(value: 5), "s": .init(value: "bye")], nil, false),
        ("OR of a true and a false", ["n": .init(value: 5), "s": .init(value: "bye")], .or, true),
    ]

    @Test(arguments: expectedCases)
    func expectedGuardsAPut(name: String, expected: [String: ExpectedAttributeValue], conditionalOperator: ConditionalOperator?, holds: Bool) async throws {
        try await withItem { db in
            let replacement: Item = ["id": "k", "replaced": true]
            let put = PutItemInput(tableName: "Legacy", item: replacement, expected: expected, conditionalOperator: conditionalOperator)
            if holds {
                try await db.putItem(put)
                let item = try await db.getItem(GetItemInput(tableName: "Legacy", key: ["id": "k"])).item
                #expect(item == replacement, "\(name)")
            } else {
                await expectEddyError("ConditionalCheckFailedException", "The conditional request failed") {
                    try await db.putItem(put)
                }
                let item = try await db.getItem(GetItemInput(tableName: "Legacy", key: ["id": "k"])).item
                #expect(item == Self.stored, "\(name)")
            }
        }
    }

    static let invalidExpected: [(ExpectedAttributeValue, String)] = [
        (.init(exists: true), "One or more parameter values were invalid: Value must be provided when Exists is true for Attribute: n"),
        (.init(value: 1, exists: false), "One or more parameter values were invalid: Value cannot be used when Exists is false for Attribute: n"),
        (.init(value: 1, comparisonOperator: .eq, attributeValueList: [1]),
         "One or more parameter values were invalid: Exists and Value cannot be used with ComparisonOperator for Attribute: n"),
        (.init(comparisonOperator: .eq, attributeValueList: [1, 2]),
         "One or more parameter values were invalid: Invalid number of argument(s) for the EQ ComparisonOperator"),
        (.init(comparisonOperator: .null, attributeValueList: [1]),
         "One or more parameter values were invalid: Invalid number of argument(s) for the NULL ComparisonOperator"),
    ]

    @Test(arguments: invalidExpected)
    func invalidExpectedIsRefused(entry: ExpectedAttributeValue, message: String) async throws {
        try await withItem { db in
            await expectValidation(message) {
                try await db.deleteItem(DeleteItemInput(tableName: "Legacy", key: ["id": "k"], expected: ["n": entry]))
            }
            let item = try await db.getItem(GetItemInput(tableName: "Legacy", key: ["id": "k"])).item
            #expect(item == Self.stored)
        }
    }

    @Test func expectedDoesNotMixWithConditionExpression() async throws {
        try await withItem { db in
            await expectValidation(
                "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {Expected} Expression parameters: {ConditionExpression, UpdateExpression}"
            ) {
                try await db.updateItem(UpdateItemInput(
                    tableName: "Legacy", key: ["id": "k"], updateExpression: "SET a = :a",
                    conditionExpression: "attribute_exists(id)", expressionAttributeValues: [":a": 1],
                    expected: ["n": .init(value: 5)]))
            }
        }
    }

    @Test func scanFilterCountsMatchesAndReads() async throws {
        try await withDatabase { db in
            try await db.createTable(CreateTableInput(
                tableName: "Legacy",
                keySchema: [KeySchemaElement(attributeName: "id", keyType: .hash)],
                attributeDefinitions: [AttributeDefinition(attributeName: "id", attributeType: .n)],
                billingMode: .payPerRequest))
            for id in 0..<20 {
                try await db.putItem(PutItemInput(tableName: "Legacy", item: ["id": .n(DecimalNumber(id)), "even": .bool(id % 2 == 0), "v": .n(DecimalNumber(id))]))
            }
            let evens = try await db.scan(ScanInput(tableName: "Legacy", scanFilter: ["even": Condition(.eq, [true])]))
            #expect(evens.count == 10)
            #expect(evens.scannedCount == 20)
            let either = try await db.scan(ScanInput(
                tableName: "Legacy",
                scanFilter: ["v": Condition(.lt, [3]), "even": Condition(.eq, [false])],
                conditionalOperator: .or))
            #expect(either.count == 12)  // 0 and 2, and the ten odd ids
            let both = try await db.scan(ScanInput(
                tableName: "Legacy", scanFilter: ["v": Condition(.lt, [3]), "even": Condition(.eq, [false])]))
            #expect(both.count == 1)
        }
    }

    @Test func queryFilterAppliesAfterTheKeyCondition() async throws {
        try await withDatabase { db in
            try await db.createTable(CreateTableInput(
                tableName: "Legacy",
                keySchema: [KeySchemaElement(attributeName: "pk", keyType: .hash), KeySchemaElement(attributeName: "sk", keyType: .range)],
                attributeDefinitions: [AttributeDefinition(attributeName: "pk", attributeType: .s), AttributeDefinition(attributeName: "sk", attributeType: .n)],
                billingMode: .payPerRequest))
            for sk in 0..<10 {
                try await db.putItem(PutItemInput(tableName: "Legacy", item: ["pk": "p", "sk": .n(DecimalNumber(sk)), "color": sk < 4 ? "red" : "blue"]))
            }
            let page = try await db.query(QueryInput(
                tableName: "Legacy", keyConditions: ["pk": Condition(.eq, ["p"])], limit: 6,
                queryFilter: ["color": Condition(.eq, ["red"])]))
            #expect(page.count == 4)
            #expect(page.scannedCount == 6)
            #expect(page.lastEvaluatedKey == ["pk": "p", "sk": 5])
            await expectValidation("QueryFilter can only contain non-primary key attributes: Primary key attribute: sk") {
                _ = try await db.query(QueryInput(
                    tableName: "Legacy", keyConditions: ["pk": Condition(.eq, ["p"])], queryFilter: ["sk": Condition(.gt, [1])]))
            }
        }
    }
}
