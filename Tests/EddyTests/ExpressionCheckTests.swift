import Foundation
import Testing

@testable import Eddy

// Issue 21, point 4: the checks DynamoDB makes on expressions, from the Developer Guide ("Condition and filter
// expressions, operators, and functions": function syntax, `attribute_type (path, type)`, `size (path)`;
// "Update expressions"; "Service, account, and table quotas": attribute names, nested attribute depth) and
// DynamoDB's own messages.

/// Expects `body` to throw a ValidationException with exactly `message`.
private func expectRefusal(
    _ message: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws(EddyError) -> Void
) {
    do throws(EddyError) {
        try body()
        Issue.record("expected a ValidationException: \(message)", sourceLocation: sourceLocation)
    } catch {
        #expect(error == .validation(message), sourceLocation: sourceLocation)
    }
}

private func deepPath(_ steps: Int) -> String {
    (["a"] + (1..<steps).map { $0.isMultiple(of: 2) ? "[0]" : ".b" }).joined()
}

@Suite struct RedundantParenthesesTests {
    static let refused: [(String, ConditionKind)] = [
        ("((a = :v))", .condition), ("((a = :v) )", .filter), ("(( a = :v AND b = :w ))", .condition),
        ("a = :v AND ((b = :w))", .condition), ("NOT ((a = :v))", .filter), ("((pk = :v))", .keyCondition),
        ("(((attribute_exists(a))))", .condition), ("((a = :v OR b = :w)) AND c = :x", .filter),
        ("pk = :v AND ((sk = :w))", .keyCondition),
    ]

    @Test(arguments: refused)
    func refusedInConditions(text: String, kind: ConditionKind) {
        expectRefusal("Invalid \(kind.rawValue): The expression has redundant parentheses;") { () throws(EddyError) in
            _ = try ExpressionParser.parseCondition(text, kind: kind)
        }
    }

    static let accepted: [(String, ConditionKind)] = [
        ("(a = :v)", .condition), ("(a = :v) AND (b = :w)", .filter), ("((a = :v AND b = :w) AND c = :x)", .condition),
        ("((a = :v) OR (b = :w))", .filter), ("(attribute_exists(a)) AND (((b <> :v) AND (b <> :w)) AND (c = :x))", .condition),
        ("((a = :v) OR (b = :w) AND (c = :x))", .condition), ("a = :v OR (b = :w AND c = :x)", .filter),
        ("(pk = :v) AND (sk = :w)", .keyCondition), ("NOT (a = :v)", .condition),
    ]

    @Test(arguments: accepted)
    func otherParenthesesAreAccepted(text: String, kind: ConditionKind) throws {
        _ = try ExpressionParser.parseCondition(text, kind: kind)
    }

    @Test(arguments: ["SET a = ((:v))", "SET a = ((b + :v))", "SET a = list_append(((b)), :v)", "SET a = ((if_not_exists(a, :v)))"])
    func refusedInUpdates(text: String) {
        expectRefusal("Invalid UpdateExpression: The expression has redundant parentheses;") { () throws(EddyError) in
            _ = try ExpressionParser.parseUpdate(text)
        }
    }

    @Test(arguments: [
        ("SET a = (b + :v)", UpdateNode(set: [(DocumentPath(elements: [.name(.literal("a"))]), .plus(.operand(.path(DocumentPath(elements: [.name(.literal("b"))]))), .operand(.placeholder(":v"))))])),
        ("SET a = (:v)", UpdateNode(set: [(DocumentPath(elements: [.name(.literal("a"))]), .operand(.placeholder(":v")))])),
        ("SET a = (b) - (:v)", UpdateNode(set: [(DocumentPath(elements: [.name(.literal("a"))]), .minus(.operand(.path(DocumentPath(elements: [.name(.literal("b"))]))), .operand(.placeholder(":v"))))])),
    ])
    func parenthesesInUpdatesGroupValues(text: String, expected: UpdateNode) throws {
        #expect(try ExpressionParser.parseUpdate(text) == expected)
    }

    /// A syntax error anywhere wins over redundant parentheses.
    @Test func aSyntaxErrorWins() {
        expectRefusal("Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"AND\"") { () throws(EddyError) in
            _ = try ExpressionParser.parseCondition("((a = :v)) AND", kind: .condition)
        }
    }
}

@Suite struct ExpressionFunctionTests {
    /// Unknown functions are named; a name that does not start with a letter is a syntax error.
    static let updates: [(String, String)] = [
        ("SET a = f(b)", "Invalid UpdateExpression: Invalid function name; function: f"),
        ("SET a = Upper(b, :v)", "Invalid UpdateExpression: Invalid function name; function: Upper"),
        ("SET a = list_append(a, f(:v))", "Invalid UpdateExpression: Invalid function name; function: f"),
        ("SET a = _f(b)", "Invalid UpdateExpression: Syntax error; token: \"_f\", near: \"= _f(\""),
        ("SET a = if_not_exists(a, _g(:v))", "Invalid UpdateExpression: Syntax error; token: \"_g\", near: \", _g(\""),
        ("SET a = attribute_exists(b)", "Invalid UpdateExpression: The function is not allowed in an update expression; function: attribute_exists"),
        ("SET a = list_append(size(b), :v)", "Invalid UpdateExpression: The function is not allowed in an update expression; function: size"),
    ]

    @Test(arguments: updates)
    func functionsOfUpdates(text: String, message: String) {
        expectRefusal(message) { () throws(EddyError) in _ = try ExpressionParser.parseUpdate(text) }
    }

    /// if_not_exists and list_append nest in each other and under `+`/`-`.
    @Test(arguments: [
        "SET a = list_append(if_not_exists(a, :e), :v)", "SET a = if_not_exists(a, list_append(:e, :v))",
        "SET a = if_not_exists(a, :zero) + :one", "SET a = :one - if_not_exists(a, :zero)",
        "SET a = list_append(list_append(a, :v), if_not_exists(b, :e))",
    ])
    func updateFunctionsNest(text: String) throws {
        _ = try ExpressionParser.parseUpdate(text)
    }

    @Test(arguments: [
        ("_f(a)", "Invalid ConditionExpression: Syntax error; token: \"_f\", near: \"_f(\""),
        ("f(a)", "Invalid ConditionExpression: Invalid function name; function: f"),
    ])
    func functionsOfConditions(text: String, message: String) {
        expectRefusal(message) { () throws(EddyError) in _ = try ExpressionParser.parseCondition(text, kind: .condition) }
    }
}

@Suite struct DocumentPathDepthTests {
    @Test(arguments: [1, 2, 31, 32])
    func pathsOfThirtyTwoStepsAreAccepted(steps: Int) throws {
        _ = try ExpressionParser.parseProjection(deepPath(steps))
        _ = try ExpressionParser.parseCondition("attribute_exists(\(deepPath(steps)))", kind: .condition)
        _ = try ExpressionParser.parseUpdate("REMOVE \(deepPath(steps))")
    }

    @Test(arguments: [33, 40])
    func deeperPathsAreRefusedInEveryExpression(steps: Int) {
        let path = deepPath(steps)
        let suffix = "The document path has too many nesting levels; nesting levels: \(steps)"
        expectRefusal("Invalid ProjectionExpression: \(suffix)") { () throws(EddyError) in
            _ = try ExpressionParser.parseProjection("pk, \(path)")
        }
        expectRefusal("Invalid FilterExpression: \(suffix)") { () throws(EddyError) in
            _ = try ExpressionParser.parseCondition("\(path) = :v", kind: .filter)
        }
        expectRefusal("Invalid ConditionExpression: \(suffix)") { () throws(EddyError) in
            _ = try ExpressionParser.parseCondition("size(\(path)) > :v", kind: .condition)
        }
        expectRefusal("Invalid UpdateExpression: \(suffix)") { () throws(EddyError) in
            _ = try ExpressionParser.parseUpdate("SET \(path) = :v")
        }
    }
}

/// Checks made once the placeholders are known, through the operations.
@Suite(.timeLimit(.minutes(5))) struct BoundExpressionCheckTests {
    private static let distinct = "The first operand must be distinct from the remaining operands for this operator or function"

    static let sameOperands: [(String, [String: String]?, String)] = [
        ("contains(a, a)", nil, "operator: contains, first operand: [a]"),
        ("contains(#x, a)", ["#x": "a"], "operator: contains, first operand: [a]"),
        ("contains(m.l[1], #m.l[1])", ["#m": "m"], "operator: contains, first operand: [m, l, [1]]"),
        ("begins_with(a, a)", nil, "operator: begins_with, first operand: [a]"),
        ("a = a", nil, "operator: =, first operand: [a]"),
        ("a < #a", ["#a": "a"], "operator: <, first operand: [a]"),
        ("a BETWEEN :v AND a", nil, "operator: BETWEEN, first operand: [a]"),
        ("a IN (:v, a)", nil, "operator: IN, first operand: [a]"),
    ]

    @Test(arguments: sameOperands)
    func theFirstOperandMustBeDistinct(condition: String, names: [String: String]?, detail: String) async throws {
        try await withDatabase { db in
            try await createTable(db, "Tbl")
            let values: [String: AttributeValue]? = condition.contains(":v") ? [":v": "x"] : nil
            await expectValidation("Invalid ConditionExpression: \(Self.distinct); \(detail)") {
                try await db.putItem(
                    PutItemInput(
                        tableName: "Tbl", item: ["pk": "k"], conditionExpression: condition, expressionAttributeNames: names,
                        expressionAttributeValues: values))
            }
            await expectValidation("Invalid FilterExpression: \(Self.distinct); \(detail)") {
                _ = try await db.scan(
                    ScanInput(tableName: "Tbl", filterExpression: condition, expressionAttributeNames: names, expressionAttributeValues: values))
            }
        }
    }

    @Test(arguments: ["contains(a, b)", "contains(a.b, a)", "contains(a[0], a[1])", "a = b"])
    func differentPathsAreFine(condition: String) async throws {
        try await withDatabase { db in
            try await createTable(db, "Tbl")
            _ = try await db.scan(ScanInput(tableName: "Tbl", filterExpression: condition))
        }
    }

    static let typeOperands: [(String, [String: AttributeValue]?, String)] = [
        ("attribute_type(a, b)", nil, "Incorrect operand type for operator or function; operator or function: attribute_type, operand type: {NS,SS,L,BS,N,M,B,BOOL,NULL,S}"),
        ("attribute_type(a, size(b))", nil, "Incorrect operand type for operator or function; operator or function: attribute_type, operand type: N"),
        ("attribute_type(a, :t)", [":t": 1], "Incorrect operand type for operator or function; operator or function: attribute_type, operand type: N"),
        ("attribute_type(a, :t)", [":t": .bool(true)], "Incorrect operand type for operator or function; operator or function: attribute_type, operand type: BOOL"),
        ("attribute_type(a, :t)", [":t": "STRING"], "Invalid attribute type name found; type: STRING, valid types: { B,BOOL,BS,L,M,N,NS,NULL,S,SS }"),
    ]

    /// Refused before any item is read: even a Scan of an empty table and a short-circuited OR refuse it.
    @Test(arguments: typeOperands)
    func attributeTypesSecondOperandNamesAType(condition: String, values: [String: AttributeValue]?, message: String) async throws {
        try await withDatabase { db in
            try await createTable(db, "Tbl")
            await expectValidation("Invalid FilterExpression: \(message)") {
                _ = try await db.scan(ScanInput(tableName: "Tbl", filterExpression: condition, expressionAttributeValues: values))
            }
            await expectValidation("Invalid ConditionExpression: \(message)") {
                try await db.putItem(
                    PutItemInput(
                        tableName: "Tbl", item: ["pk": "k"], conditionExpression: "attribute_not_exists(pk) OR \(condition)",
                        expressionAttributeValues: values))
            }
        }
    }

    /// `size` of an attribute that has no size is refused, not false; of a missing one it is false.
    @Test(arguments: [("n", "N"), ("b", "BOOL"), ("z", "NULL")])
    func sizeOfANumberBooleanOrNullIsRefused(attribute: String, type: String) async throws {
        try await withDatabase { db in
            try await createTable(db, "Tbl")
            try await db.putItem(PutItemInput(tableName: "Tbl", item: ["pk": "k", "n": 5, "b": .bool(true), "z": .null]))
            await expectValidation("Invalid FilterExpression: Incorrect operand type for operator or function; operator or function: size, operand type: \(type)") {
                _ = try await db.scan(ScanInput(tableName: "Tbl", filterExpression: "size(\(attribute)) > :zero", expressionAttributeValues: [":zero": 0]))
            }
            let missing = try await db.scan(ScanInput(tableName: "Tbl", filterExpression: "size(absent) > :zero", expressionAttributeValues: [":zero": 0]))
            #expect(missing.count == 0)
        }
    }

    @Test func anEmptyAttributeNameIsRefused() async throws {
        try await withDatabase { db in
            try await createTable(db, "Tbl")
            await expectValidation("ExpressionAttributeNames contains invalid value: Empty attribute name for key #e") {
                _ = try await db.getItem(
                    GetItemInput(tableName: "Tbl", key: ["pk": "k"], projectionExpression: "#a, #e", expressionAttributeNames: ["#a": "a", "#e": ""]))
            }
            await expectValidation("ExpressionAttributeNames contains invalid value: Empty attribute name for key #e") {
                try await db.updateItem(
                    UpdateItemInput(tableName: "Tbl", key: ["pk": "k"], updateExpression: "REMOVE #e", expressionAttributeNames: ["#e": ""]))
            }
        }
    }

    /// Attribute names of up to 65,535 bytes work everywhere; one more byte is refused.
    @Test func attributeNamesOfSixtyFourKilobytes() async throws {
        try await withDatabase { db in
            try await createTable(db, "Tbl")
            let longest = String(repeating: "n", count: Limits.attributeNameLengthMax)
            try await db.putItem(PutItemInput(tableName: "Tbl", item: ["pk": "k", longest: 1]))
            #expect(try await db.getItem(GetItemInput(tableName: "Tbl", key: ["pk": "k"])).item?[longest] == 1)
            let projected = try await db.getItem(
                GetItemInput(tableName: "Tbl", key: ["pk": "k"], projectionExpression: "#n", expressionAttributeNames: ["#n": longest]))
            #expect(projected.item == [longest: 1])
            let updated = try await db.updateItem(
                UpdateItemInput(
                    tableName: "Tbl", key: ["pk": "k"], returnValues: .updatedNew, updateExpression: "SET #n = #n + :one",
                    conditionExpression: "attribute_exists(#n)", expressionAttributeNames: ["#n": longest],
                    expressionAttributeValues: [":one": 1]))
            #expect(updated.attributes == [longest: 2])
            let tooLong = longest + "n"
            let tooLarge = "One or more parameter values were invalid: Attribute name is too large, must be less than 65536 bytes"
            await expectValidation(tooLarge) {
                try await db.putItem(PutItemInput(tableName: "Tbl", item: ["pk": "k", tooLong: 1]))
            }
            await expectValidation(tooLarge) {
                try await db.updateItem(
                    UpdateItemInput(
                        tableName: "Tbl", key: ["pk": "k"], updateExpression: "SET #n = :one", expressionAttributeNames: ["#n": tooLong],
                        expressionAttributeValues: [":one": 1]))
            }
            #expect(try await db.getItem(GetItemInput(tableName: "Tbl", key: ["pk": "k"])).item == ["pk": "k", longest: 2])
        }
    }

    @Test(arguments: ["0E-200", "0.0e-1000", "-0e-131", "0.000e-9223372036854775808"])
    func aZeroWithALargeNegativeExponentIsStored(number: String) async throws {
        try await withDatabase { db in
            try await createTable(db, "Tbl")
            let zero = AttributeValue.n(try DecimalNumber(number))
            try await db.putItem(PutItemInput(tableName: "Tbl", item: ["pk": "k", "z": zero]))
            #expect(try await db.getItem(GetItemInput(tableName: "Tbl", key: ["pk": "k"])).item?["z"] == .n(DecimalNumber(0)))
        }
    }
}
