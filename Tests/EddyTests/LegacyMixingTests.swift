import Eddy
import Testing

/// Legacy parameters beside expression parameters, from the developer guide's "Legacy conditional parameters":
/// DynamoDB refuses any mix, naming every parameter of each kind the request gives, except a Query's
/// `KeyConditions` with a ProjectionExpression or FilterExpression when there is no KeyConditionExpression.
@Suite("Legacy and expression parameters", .timeLimit(.minutes(5)))
struct LegacyMixingTests {
    private static func mixing(_ legacy: [String], _ expressions: [String]) -> String {
        "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {"
            + legacy.joined(separator: ", ") + "} Expression parameters: {" + expressions.joined(separator: ", ") + "}"
    }

    private static let items: [Item] = [
        ["pk": "p", "sk": "1", "n": 1, "tag": "x"], ["pk": "p", "sk": "2", "n": 2, "tag": "y"], ["pk": "p", "sk": "3", "n": 3, "tag": "x"],
        ["pk": "q", "sk": "1", "n": 4, "tag": "x"],
    ]

    private static func seed(_ db: Database) async throws {
        try await createTable(db, "Mix", hash: "pk", .s, range: "sk", .s)
        for item in items { try await db.putItem(PutItemInput(tableName: "Mix", item: item)) }
    }

    private static let partition = ["pk": Condition(.eq, ["p"])]

    @Test("KeyConditions with a FilterExpression and a ProjectionExpression reads the partition, filtered and projected")
    func keyConditionsWithExpressions() async throws {
        try await withDatabase { db in
            try await Self.seed(db)
            let filtered = try await db.query(
                QueryInput(
                    tableName: "Mix", keyConditions: Self.partition, filterExpression: "#t = :x", projectionExpression: "sk, n",
                    expressionAttributeNames: ["#t": "tag"], expressionAttributeValues: [":x": "x"]))
            #expect(filtered.items == [["sk": "1", "n": 1], ["sk": "3", "n": 3]])
            #expect(filtered.count == 2)
            #expect(filtered.scannedCount == 3)
            let projected = try await db.query(
                QueryInput(tableName: "Mix", keyConditions: ["pk": Condition(.eq, ["q"])], projectionExpression: "n"))
            #expect(projected.items == [["n": 4]])
        }
    }

    struct Refusal: Sendable, CustomTestStringConvertible {
        var name: String
        var legacy: [String]
        var expressions: [String]
        var run: @Sendable (Database) async throws -> Void
        var testDescription: String { name }
    }

    static let refusals: [Refusal] = [
        Refusal(name: "KeyConditions and KeyConditionExpression", legacy: ["KeyConditions"], expressions: ["KeyConditionExpression"]) { db in
            _ = try await db.query(
                QueryInput(tableName: "Mix", keyConditions: partition, keyConditionExpression: "pk = :p", expressionAttributeValues: [":p": "p"]))
        },
        Refusal(
            name: "KeyConditions and QueryFilter with a FilterExpression", legacy: ["KeyConditions", "QueryFilter"],
            expressions: ["FilterExpression"]
        ) { db in
            _ = try await db.query(
                QueryInput(
                    tableName: "Mix", keyConditions: partition, filterExpression: "n > :n", expressionAttributeValues: [":n": 1],
                    queryFilter: ["tag": Condition(.eq, ["x"])]))
        },
        Refusal(
            name: "KeyConditions, AttributesToGet and ConditionalOperator with expressions",
            legacy: ["KeyConditions", "AttributesToGet", "ConditionalOperator"], expressions: ["ProjectionExpression", "KeyConditionExpression"]
        ) { db in
            _ = try await db.query(
                QueryInput(
                    tableName: "Mix", keyConditions: partition, keyConditionExpression: "pk = :p", attributesToGet: ["n"],
                    projectionExpression: "n", expressionAttributeValues: [":p": "p"], conditionalOperator: .and))
        },
        Refusal(name: "ScanFilter with a ProjectionExpression", legacy: ["ScanFilter"], expressions: ["ProjectionExpression"]) { db in
            _ = try await db.scan(ScanInput(tableName: "Mix", projectionExpression: "n", scanFilter: ["n": Condition(.gt, [1])]))
        },
        Refusal(
            name: "Expected and ConditionalOperator with a ConditionExpression", legacy: ["Expected", "ConditionalOperator"],
            expressions: ["ConditionExpression"]
        ) { db in
            _ = try await db.putItem(
                PutItemInput(
                    tableName: "Mix", item: ["pk": "r", "sk": "1"], conditionExpression: "attribute_not_exists(pk)",
                    expected: ["a": ExpectedAttributeValue(exists: false), "b": ExpectedAttributeValue(exists: false)],
                    conditionalOperator: .or))
        },
        Refusal(
            name: "AttributeUpdates and Expected with both update expressions", legacy: ["AttributeUpdates", "Expected"],
            expressions: ["ConditionExpression", "UpdateExpression"]
        ) { db in
            _ = try await db.updateItem(
                UpdateItemInput(
                    tableName: "Mix", key: ["pk": "p", "sk": "1"], attributeUpdates: ["n": AttributeValueUpdate(value: 9)],
                    updateExpression: "SET n = :n", conditionExpression: "attribute_exists(pk)", expressionAttributeValues: [":n": 9],
                    expected: ["n": ExpectedAttributeValue(value: 1)]))
        },
    ]

    @Test("Any other mix is refused, naming every legacy and every expression parameter given", arguments: refusals)
    func refusedMixes(_ refusal: Refusal) async throws {
        try await withDatabase { db in
            try await Self.seed(db)
            await expectValidation(Self.mixing(refusal.legacy, refusal.expressions)) { try await refusal.run(db) }
            #expect(try await db.scan(ScanInput(tableName: "Mix")).items?.count == Self.items.count)
            #expect(try await db.getItem(GetItemInput(tableName: "Mix", key: ["pk": "p", "sk": "1"])).item == Self.items[0])
        }
    }
}
