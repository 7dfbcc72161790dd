import PropertyBased
import Testing

@testable import Eddy

// The expression parser, printer, cache, bindings and update path checks: valid texts against the trees
// they must give, invalid ones against DynamoDB's exact messages, and a round trip of random trees.

// MARK: Tree shorthands

private func name(_ text: String) -> PathElement {
    text.hasPrefix("#") ? .name(.placeholder(text)) : .name(.literal(text))
}

private func path(_ elements: PathElement...) -> DocumentPath {
    DocumentPath(elements: elements)
}

private func path(_ names: String...) -> DocumentPath {
    DocumentPath(elements: names.map(name))
}

private func attr(_ names: String...) -> Operand {
    .path(DocumentPath(elements: names.map(name)))
}

private func value(_ placeholder: String) -> Operand {
    .placeholder(placeholder)
}

private func eq(_ left: Operand, _ right: Operand) -> ConditionNode {
    .compare(left, .equal, right)
}

private func expectValidation(
    _ message: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws(EddyError) -> Void
) {
    do throws(EddyError) {
        try body()
        Issue.record("expected a ValidationException: \(message)", sourceLocation: sourceLocation)
    } catch {
        #expect(error == .validation(message), sourceLocation: sourceLocation)
    }
}

@Suite(.timeLimit(.minutes(3))) struct ExpressionParserTests {
    // MARK: Conditions

    static let conditions: [(String, ConditionNode)] = [
        ("a = :v", eq(attr("a"), value(":v"))),
        ("Price <> :p", .compare(attr("Price"), .notEqual, value(":p"))),
        ("a<:v", .compare(attr("a"), .less, value(":v"))),
        ("a <= :v", .compare(attr("a"), .lessOrEqual, value(":v"))),
        ("a>:v", .compare(attr("a"), .greater, value(":v"))),
        ("a >= b", .compare(attr("a"), .greaterOrEqual, attr("b"))),
        (":v = a", eq(value(":v"), attr("a"))),
        ("#n = :v", eq(attr("#n"), value(":v"))),
        ("ProductReviews.FiveStar[0].Remark = :c",
         eq(.path(path(name("ProductReviews"), name("FiveStar"), .index(0), name("Remark"))), value(":c"))),
        ("#pr.#5star[1][12] = :c",
         eq(.path(path(name("#pr"), name("#5star"), .index(1), .index(12))), value(":c"))),
        ("a . b [ 2 ] = :v", eq(.path(path(name("a"), name("b"), .index(2))), value(":v"))),
        ("_private = :v", eq(attr("_private"), value(":v"))),
        ("Price BETWEEN :lo AND :hi", .between(attr("Price"), value(":lo"), value(":hi"))),
        ("Color IN (:red, :green, :blue)", .in(attr("Color"), [value(":red"), value(":green"), value(":blue")])),
        ("Color IN (:one)", .in(attr("Color"), [value(":one")])),
        ("attribute_exists(Pictures.SideView)", .attributeExists(path("Pictures", "SideView"))),
        ("attribute_not_exists(Manufacturer)", .attributeNotExists(path("Manufacturer"))),
        ("attribute_type(ProductReviews.FiveStar, :type)",
         .attributeType(path("ProductReviews", "FiveStar"), value(":type"))),
        ("begins_with(Pictures.FrontView, :prefix)", .beginsWith(attr("Pictures", "FrontView"), value(":prefix"))),
        ("contains(Colors, :c)", .contains(attr("Colors"), value(":c"))),
        ("size(Brand) <= :sz", .compare(.size(path("Brand")), .lessOrEqual, value(":sz"))),
        ("size(a) BETWEEN :x AND size(b)", .between(.size(path("a")), value(":x"), .size(path("b")))),
        ("NOT a = :v", .not(eq(attr("a"), value(":v")))),
        ("NOT NOT attribute_exists(a)", .not(.not(.attributeExists(path("a"))))),
        ("(a = :v)", eq(attr("a"), value(":v"))),
        // Doubled parentheses around one group are refused (RedundantParenthesesTests); nested groups are not.
        ("((a = :v) AND (b = :w))", .and(eq(attr("a"), value(":v")), eq(attr("b"), value(":w")))),
        // Precedence: AND binds tighter than OR, NOT tighter than AND.
        ("a = :x OR b = :y AND c = :z",
         .or(eq(attr("a"), value(":x")), .and(eq(attr("b"), value(":y")), eq(attr("c"), value(":z"))))),
        ("a = :x AND b = :y OR c = :z",
         .or(.and(eq(attr("a"), value(":x")), eq(attr("b"), value(":y"))), eq(attr("c"), value(":z")))),
        ("NOT a = :x AND b = :y", .and(.not(eq(attr("a"), value(":x"))), eq(attr("b"), value(":y")))),
        ("NOT (a = :x AND b = :y)", .not(.and(eq(attr("a"), value(":x")), eq(attr("b"), value(":y"))))),
        ("(a = :x OR b = :y) AND c = :z",
         .and(.or(eq(attr("a"), value(":x")), eq(attr("b"), value(":y"))), eq(attr("c"), value(":z")))),
        ("a = :x OR b = :y OR c = :z",
         .or(.or(eq(attr("a"), value(":x")), eq(attr("b"), value(":y"))), eq(attr("c"), value(":z")))),
        ("a BETWEEN :x AND :y AND b = :z",
         .and(.between(attr("a"), value(":x"), value(":y")), eq(attr("b"), value(":z")))),
        // Keywords and function names in any case.
        ("a between :x and :y or not b in (:z)",
         .or(.between(attr("a"), value(":x"), value(":y")), .not(.in(attr("b"), [value(":z")])))),
        ("ATTRIBUTE_EXISTS(a) aNd Begins_With(b, :p)",
         .and(.attributeExists(path("a")), .beginsWith(attr("b"), value(":p")))),
        ("SIZE(a) > :n", .compare(.size(path("a")), .greater, value(":n"))),
        ("\n\ta\t=\r\n:v  ", eq(attr("a"), value(":v"))),
    ]

    @Test(arguments: conditions)
    func parsesCondition(text: String, expected: ConditionNode) throws {
        #expect(try ExpressionParser.parseCondition(text, kind: .condition) == expected)
        #expect(try ExpressionParser.parseCondition(text, kind: .filter) == expected)
    }

    @Test(arguments: conditions)
    func printedConditionParsesBack(text: String, expected: ConditionNode) throws {
        let printed = ExpressionPrinter.condition(expected)
        #expect(try ExpressionParser.parseCondition(printed, kind: .condition) == expected)
    }

    static let invalidConditions: [(String, ConditionKind, String)] = [
        ("", .condition, "Invalid ConditionExpression: The expression can not be empty;"),
        ("", .keyCondition, "Invalid KeyConditionExpression: The expression can not be empty;"),
        (" \n\t ", .filter, "Invalid FilterExpression: The expression can not be empty;"),
        ("a = ", .filter, "Invalid FilterExpression: Syntax error; token: \"<EOF>\", near: \"= \""),
        ("a", .condition, "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"a\""),
        ("a x :v", .condition, "Invalid ConditionExpression: Syntax error; token: \"x\", near: \"a x :v\""),
        ("a = :v b", .condition, "Invalid ConditionExpression: Syntax error; token: \"b\", near: \":v b\""),
        ("a == :v", .condition, "Invalid ConditionExpression: Syntax error; token: \"=\", near: \"== :v\""),
        ("a != :v", .condition, "Invalid ConditionExpression: Syntax error; token: \"!\", near: \"a !=\""),
        ("a = : v", .condition, "Invalid ConditionExpression: Syntax error; token: \":\", near: \"= : v\""),
        ("# = :v", .condition, "Invalid ConditionExpression: Syntax error; token: \"#\", near: \"# =\""),
        ("a = :v AND", .condition, "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"AND\""),
        ("(a = :v", .condition, "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \":v\""),
        ("a = :v)", .condition, "Invalid ConditionExpression: Syntax error; token: \")\", near: \":v)\""),
        ("a IN ()", .condition, "Invalid ConditionExpression: Syntax error; token: \")\", near: \"()\""),
        ("a BETWEEN :x OR :y", .condition, "Invalid ConditionExpression: Syntax error; token: \"OR\", near: \":x OR :y\""),
        ("a[x] = :v", .condition, "Invalid ConditionExpression: Syntax error; token: \"x\", near: \"[x]\""),
        ("1a = :v", .condition, "Invalid ConditionExpression: Syntax error; token: \"1\", near: \"1a\""),
        ("a.é = :v", .condition, "Invalid ConditionExpression: Syntax error; token: \"é\", near: \".é =\""),
        ("status = :v", .condition, "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status"),
        ("a.Size = :v", .filter, "Invalid FilterExpression: Attribute name is a reserved keyword; reserved keyword: Size"),
        ("#a = :v AND name = :w", .keyCondition,
         "Invalid KeyConditionExpression: Attribute name is a reserved keyword; reserved keyword: name"),
        ("foo(a)", .condition, "Invalid ConditionExpression: Invalid function name; function: foo"),
        ("a = bar(:v)", .condition, "Invalid ConditionExpression: Invalid function name; function: bar"),
        ("attribute_exists(a, b)", .condition,
         "Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or function: attribute_exists, number of operands: 2"),
        ("begins_with(a)", .filter,
         "Invalid FilterExpression: Incorrect number of operands for operator or function; operator or function: begins_with, number of operands: 1"),
        ("size(a, b) = :v", .condition,
         "Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or function: size, number of operands: 2"),
        ("attribute_exists(:v)", .condition,
         "Invalid ConditionExpression: Operator or function requires a document path; operator or function: attribute_exists"),
        ("size(:v) = :w", .condition,
         "Invalid ConditionExpression: Operator or function requires a document path; operator or function: size"),
        ("a = if_not_exists(a, :v)", .condition,
         "Invalid ConditionExpression: The function is not allowed in a condition expression; function: if_not_exists"),
        ("a = attribute_exists(b)", .condition,
         "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: attribute_exists"),
    ]

    @Test(arguments: invalidConditions)
    func refusesCondition(text: String, kind: ConditionKind, message: String) {
        expectValidation(message) { () throws(EddyError) in
            _ = try ExpressionParser.parseCondition(text, kind: kind)
        }
    }

    @Test func inTakesAtMostAHundredOperands() throws {
        let hundred = (1...100).map { ":v\($0)" }.joined(separator: ", ")
        guard case .in(_, let list) = try ExpressionParser.parseCondition("a IN (\(hundred))", kind: .filter) else {
            Issue.record("not an IN")
            return
        }
        #expect(list.count == 100)
        expectValidation(
            "Invalid FilterExpression: The IN operator is provided with too many operands; number of operands: 101"
        ) { () throws(EddyError) in
            _ = try ExpressionParser.parseCondition("a IN (\(hundred), :x)", kind: .filter)
        }
    }

    @Test func expressionOfFourKilobytesAtMost() throws {
        let atLimit = "a = :v" + String(repeating: " ", count: Limits.expressionLengthMax - 6)
        _ = try ExpressionParser.parseCondition(atLimit, kind: .condition)
        expectValidation(
            "Invalid ConditionExpression: Expression size has exceeded the maximum allowed size; expression size: 4097"
        ) { () throws(EddyError) in
            _ = try ExpressionParser.parseCondition(atLimit + " ", kind: .condition)
        }
    }

    @Test(arguments: ["AND", "or", "Not", "BETWEEN", "in"])
    func grammarKeywordsAsNamesAreSyntaxErrors(word: String) {
        expectValidation("Invalid UpdateExpression: Syntax error; token: \"\(word)\", near: \".\(word) =\"") { () throws(EddyError) in
            _ = try ExpressionParser.parseUpdate("SET a.\(word) = :v")
        }
        expectValidation("Invalid ProjectionExpression: Syntax error; token: \"\(word)\", near: \", \(word)\"") { () throws(EddyError) in
            _ = try ExpressionParser.parseProjection("a, \(word)")
        }
    }

    /// The words of the grammar itself: where a name is expected they are a syntax error, not a name.
    static let grammarKeywords: Set<String> = ["AND", "OR", "NOT", "BETWEEN", "IN"]

    @Test func everyReservedWordIsRefusedUnescaped() {
        #expect(ReservedWords.all.count == 573)
        for word in ReservedWords.all where !Self.grammarKeywords.contains(word) {
            for spelling in [word, word.lowercased()] {
                let expected = "Attribute name is a reserved keyword; reserved keyword: \(spelling)"
                expectValidation("Invalid ConditionExpression: \(expected)") { () throws(EddyError) in
                    _ = try ExpressionParser.parseCondition("\(spelling) = :v", kind: .condition)
                }
                expectValidation("Invalid UpdateExpression: \(expected)") { () throws(EddyError) in
                    _ = try ExpressionParser.parseUpdate("SET a.\(spelling) = :v")
                }
                expectValidation("Invalid ProjectionExpression: \(expected)") { () throws(EddyError) in
                    _ = try ExpressionParser.parseProjection("a, \(spelling)")
                }
            }
        }
    }

    @Test func nonReservedWordsAndPlaceholdersOfReservedWordsPass() throws {
        #expect(try ExpressionParser.parseProjection("statuses, #status, Sizes")
            == ProjectionNode(paths: [path("statuses"), path("#status"), path("Sizes")]))
    }

    // MARK: Updates

    static let updates: [(String, UpdateNode)] = [
        ("SET a = :v", UpdateNode(set: [(path("a"), .operand(value(":v")))])),
        ("set a = :v, #b.c[2] = d", UpdateNode(set: [
            (path("a"), .operand(value(":v"))),
            (path(name("#b"), name("c"), .index(2)), .operand(attr("d"))),
        ])),
        ("SET Price = Price - :discount", UpdateNode(set: [
            (path("Price"), .minus(.operand(attr("Price")), .operand(value(":discount")))),
        ])),
        ("SET a = :x + b", UpdateNode(set: [(path("a"), .plus(.operand(value(":x")), .operand(attr("b"))))])),
        ("SET Price = if_not_exists(Price, :p)", UpdateNode(set: [
            (path("Price"), .ifNotExists(path("Price"), .operand(value(":p")))),
        ])),
        ("SET #ri = list_append(#ri, :vals)", UpdateNode(set: [
            (path("#ri"), .listAppend(.operand(attr("#ri")), .operand(value(":vals")))),
        ])),
        ("SET l = list_append(if_not_exists(l, :empty), :v) + :w", UpdateNode(set: [
            (path("l"), .plus(.listAppend(.ifNotExists(path("l"), .operand(value(":empty"))), .operand(value(":v"))),
                              .operand(value(":w")))),
        ])),
        ("REMOVE Brand, InStock, Reviews[1]", UpdateNode(remove: [
            path("Brand"), path("InStock"), path(name("Reviews"), .index(1)),
        ])),
        ("ADD QuantityOnHand :q, Colors :c", UpdateNode(add: [(path("QuantityOnHand"), value(":q")), (path("Colors"), value(":c"))])),
        ("DELETE Color :p", UpdateNode(delete: [(path("Color"), value(":p"))])),
        ("delete Color :p remove b SET a = :v Add n :one", UpdateNode(
            set: [(path("a"), .operand(value(":v")))],
            remove: [path("b")],
            add: [(path("n"), value(":one"))],
            delete: [(path("Color"), value(":p"))])),
    ]

    @Test(arguments: updates)
    func parsesUpdate(text: String, expected: UpdateNode) throws {
        #expect(try ExpressionParser.parseUpdate(text) == expected)
        #expect(try ExpressionParser.parseUpdate(ExpressionPrinter.update(expected)) == expected)
    }

    static let invalidUpdates: [(String, String)] = [
        ("", "Invalid UpdateExpression: The expression can not be empty;"),
        ("a = :v", "Invalid UpdateExpression: Syntax error; token: \"a\", near: \"a =\""),
        ("SET", "Invalid UpdateExpression: Syntax error; token: \"<EOF>\", near: \"SET\""),
        ("SET a :v", "Invalid UpdateExpression: Syntax error; token: \":v\", near: \"a :v\""),
        ("SET a = :v,", "Invalid UpdateExpression: Syntax error; token: \"<EOF>\", near: \",\""),
        ("SET , a = :v", "Invalid UpdateExpression: Syntax error; token: \",\", near: \"SET , a\""),
        ("SET a = b + c + d", "Invalid UpdateExpression: Syntax error; token: \"+\", near: \"c + d\""),
        ("ADD hits : incr", "Invalid UpdateExpression: Syntax error; token: \":\", near: \"hits : incr\""),
        ("ADD a b", "Invalid UpdateExpression: Syntax error; token: \"b\", near: \"a b\""),
        ("REMOVE a = :v", "Invalid UpdateExpression: Syntax error; token: \"=\", near: \"a = :v\""),
        ("SET a = :v SET b = :w",
         "Invalid UpdateExpression: The \"SET\" section can only be used once in an update expression;"),
        ("REMOVE a ADD b :v remove c",
         "Invalid UpdateExpression: The \"REMOVE\" section can only be used once in an update expression;"),
        ("ADD a :v, b :w ADD c :x",
         "Invalid UpdateExpression: The \"ADD\" section can only be used once in an update expression;"),
        ("DELETE a :v SET b = :w delete c :x",
         "Invalid UpdateExpression: The \"DELETE\" section can only be used once in an update expression;"),
        ("SET count = count + :one",
         "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: count"),
        ("SET a = foo(b)", "Invalid UpdateExpression: Invalid function name; function: foo"),
        ("SET a = size(b)",
         "Invalid UpdateExpression: The function is not allowed in an update expression; function: size"),
        ("SET a = if_not_exists(:v, :w)",
         "Invalid UpdateExpression: Operator or function requires a document path; operator or function: if_not_exists"),
        ("SET a = list_append(:v)",
         "Invalid UpdateExpression: Incorrect number of operands for operator or function; operator or function: list_append, number of operands: 1"),
    ]

    @Test(arguments: invalidUpdates)
    func refusesUpdate(text: String, message: String) {
        expectValidation(message) { () throws(EddyError) in
            _ = try ExpressionParser.parseUpdate(text)
        }
    }

    @Test func updateOfThreeHundredOperatorsAtMost() throws {
        // Each action `aN = bN + :v` is one operator.
        func update(_ count: Int) -> String {
            "SET " + Array(repeating: "a=b+:v", count: count).joined(separator: ",")
        }
        _ = try ExpressionParser.parseUpdate(update(300))
        expectValidation(
            "Invalid UpdateExpression: The expression contains too many operators; operator count: 301"
        ) { () throws(EddyError) in
            _ = try ExpressionParser.parseUpdate(update(301))
        }
    }

    // MARK: Projections

    @Test func parsesProjection() throws {
        #expect(try ExpressionParser.parseProjection("Title, Price, Color, #r.FiveStar[0]")
            == ProjectionNode(paths: [path("Title"), path("Price"), path("Color"),
                                      path(name("#r"), name("FiveStar"), .index(0))]))
        expectValidation("Invalid ProjectionExpression: Syntax error; token: \",\", near: \",,b\"") { () throws(EddyError) in
            _ = try ExpressionParser.parseProjection("a,,b")
        }
        expectValidation("Invalid ProjectionExpression: Syntax error; token: \":v\", near: \", :v\"") { () throws(EddyError) in
            _ = try ExpressionParser.parseProjection("a, :v")
        }
        expectValidation("Invalid ProjectionExpression: The expression can not be empty;") { () throws(EddyError) in
            _ = try ExpressionParser.parseProjection("")
        }
    }

    // MARK: Cache

    @Test func cacheReturnsTheSameTreesAndErrors() throws {
        let text = "cached_attribute_\(UInt64.random(in: 0...UInt64.max)) = :v"
        let first = try ExpressionCache.condition(text, kind: .filter).node
        #expect(try ExpressionCache.condition(text, kind: .filter).node == first)
        #expect(try ExpressionCache.condition(text, kind: .condition).node == first)
        #expect(try ExpressionCache.update("SET a = :v").node == UpdateNode(set: [(path("a"), .operand(value(":v")))]))
        #expect(try ExpressionCache.projection("a, b").node == ProjectionNode(paths: [path("a"), path("b")]))
        for kind in [ConditionKind.condition, .filter] {
            expectValidation("Invalid \(kind.rawValue): Syntax error; token: \"<EOF>\", near: \"=\"") { () throws(EddyError) in
                _ = try ExpressionCache.condition("a =", kind: kind)
            }
        }
        #expect(ExpressionCache.count <= ExpressionCache.capacity)
    }

    // MARK: Bindings

    private static func bindings(
        _ names: [String: String]?, _ values: [String: AttributeValue]?, _ used: [UsedPlaceholders]
    ) throws(EddyError) -> ExpressionBindings {
        try ExpressionBindings(names: names, values: values, used: used)
    }

    @Test func bindingsResolvePlaceholders() throws {
        let update = try ExpressionParser.parseUpdate("SET #a.#b[1] = :v, c = if_not_exists(#a, :w)")
        let used = update.placeholders
        #expect(used == UsedPlaceholders(names: ["#a", "#b"], values: [":v", ":w"], expression: "UpdateExpression"))
        let bindings = try ExpressionBindings(
            names: ["#a": "status", "#b": "x.y"], values: [":v": .s("1"), ":w": .bool(true)], used: [used])
        #expect(bindings.resolve(update.set[0].path) == [.name("status"), .name("x.y"), .index(1)])
        #expect(bindings.name(.literal("c")) == "c")
        #expect(bindings.value(":w") == .bool(true))
        // No maps and no placeholders is fine.
        _ = try ExpressionBindings(names: nil, values: nil, used: [try ExpressionParser.parseProjection("a").placeholders])
    }

    @Test func bindingsGatherPlaceholdersOfEveryExpression() throws {
        let condition = try ExpressionParser.parseCondition(
            "#a IN (:x, size(#b)) AND NOT (attribute_type(#c, :t) OR contains(:s, #d)) AND e BETWEEN :lo AND :hi",
            kind: .filter)
        #expect(condition.placeholders(in: .filter) == UsedPlaceholders(
            names: ["#a", "#b", "#c", "#d"], values: [":x", ":t", ":s", ":lo", ":hi"], expression: "FilterExpression"))
        #expect(try ExpressionParser.parseProjection("#p[0].q, #r").placeholders
            == UsedPlaceholders(names: ["#p", "#r"], expression: "ProjectionExpression"))
    }

    static let invalidBindings: [([String: String]?, [String: AttributeValue]?, String)] = [
        ([:], nil, "ExpressionAttributeNames must not be empty"),
        (nil, [:], "ExpressionAttributeValues must not be empty"),
        (["a": "x"], nil, "ExpressionAttributeNames contains invalid key: Syntax error; key: \"a\""),
        (["#a-b": "x"], nil, "ExpressionAttributeNames contains invalid key: Syntax error; key: \"#a-b\""),
        (["#": "x"], nil, "ExpressionAttributeNames contains invalid key: Syntax error; key: \"#\""),
        (nil, ["v": .s("x")], "ExpressionAttributeValues contains invalid key: Syntax error; key: \"v\""),
        (["#" + String(repeating: "n", count: 255): "x"], nil,
         "ExpressionAttributeNames contains invalid key: The expression attribute name exceeds the maximum length of 255; key: \"#\(String(repeating: "n", count: 255))\""),
        (nil, [":s": .ss([])],
         "ExpressionAttributeValues contains invalid value: One or more parameter values were invalid: An string set  may not be empty for key :s"),
        (["#n": "x"], [":v": .s("1")], "Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: :w"),
        ([:].merging(["#m": "x"]) { $1 }, [":v": .s("1"), ":w": .s("2")],
         "Invalid UpdateExpression: An expression attribute name used in the document path is not defined; attribute name: #n"),
        (["#n": "x", "#b": "y", "#a": "z"], [":v": .s("1"), ":w": .s("2")],
         "Value provided in ExpressionAttributeNames unused in expressions: keys: {#a, #b}"),
        (["#n": "x"], [":v": .s("1"), ":w": .s("2"), ":a": .null],
         "Value provided in ExpressionAttributeValues unused in expressions: keys: {:a}"),
    ]

    @Test(arguments: invalidBindings)
    func refusesBindings(names: [String: String]?, values: [String: AttributeValue]?, message: String) throws {
        let used = try ExpressionParser.parseUpdate("SET #n = :v, b = :w").placeholders
        expectValidation(message) { () throws(EddyError) in
            _ = try Self.bindings(names, values, [used])
        }
    }

    @Test func bindingsOfAtMostTwoMegabytes() throws {
        let big = String(repeating: "x", count: 1_048_560)
        let used = try ExpressionParser.parseCondition(":a = :b OR :c = :d", kind: .condition).placeholders(in: .condition)
        _ = try ExpressionBindings(names: nil, values: [":a": .s(big), ":b": .s(big), ":c": .null, ":d": .null], used: [used])
        expectValidation(
            "Expression attribute names and values together exceed the maximum allowed size of 2097152 bytes; size: 2097159"
        ) { () throws(EddyError) in
            _ = try Self.bindings(nil, [":a": .s(big), ":b": .s(big), ":c": .s(String(repeating: "x", count: 30)), ":d": .null], [used])
        }
    }

    // MARK: Overlapping and conflicting update paths

    static let pathChecks: [(String, String?)] = [
        ("SET a = :v REMOVE b", nil),
        ("SET a.b = :v, a.c = :v, a[1] = :v", "Invalid UpdateExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a, [1]]"),
        ("SET a[0] = :v, a[1] = :v REMOVE a[2]", nil),
        ("SET a = :v REMOVE a", "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]"),
        ("SET a = :v REMOVE a.b", "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]"),
        ("ADD a.b[3] :v DELETE a.b :v", "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a, b, [3]], path two: [a, b]"),
        ("SET #x = :v, #y = :v", "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [x], path two: [x]"),
        ("SET #x.y = :v, #z = :v", nil),
        ("SET a[1].b = :v REMOVE a.b", "Invalid UpdateExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, [1], b], path two: [a, b]"),
    ]

    @Test(arguments: pathChecks)
    func checksUpdatePaths(text: String, message: String?) throws {
        let update = try ExpressionParser.parseUpdate(text)
        let used = update.placeholders
        let bindings = try ExpressionBindings(
            names: used.names.isEmpty ? nil : ["#x": "x", "#y": "x", "#z": "z"].filter { used.names.contains($0.key) },
            values: [":v": .s("1")], used: [used])
        if let message {
            expectValidation(message) { () throws(EddyError) in
                try UpdatePathCheck.checkPaths(update, bindings: bindings)
            }
        } else {
            try UpdatePathCheck.checkPaths(update, bindings: bindings)
        }
    }

    @Test func projectionPathsMayNotOverlap() throws {
        let projection = try ExpressionParser.parseProjection("a.b, c, a")
        let bindings = try ExpressionBindings(names: nil, values: nil, used: [projection.placeholders])
        expectValidation(
            "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a]"
        ) { () throws(EddyError) in
            try UpdatePathCheck.checkPaths(projection, bindings: bindings)
        }
    }

    // MARK: Round trip of random trees

    @Test func randomTreesRoundTripThroughText() async {
        await propertyCheck(count: 500, input: Gen.int(in: 0...Int.max)) { seed throws in
            var random = TreeRandom(seed: UInt64(seed))
            let condition = random.condition(depth: 4)
            let conditionText = ExpressionPrinter.condition(condition)
            #expect(try ExpressionParser.parseCondition(conditionText, kind: .filter) == condition, "\(conditionText)")
            let update = random.update()
            let updateText = ExpressionPrinter.update(update)
            #expect(try ExpressionParser.parseUpdate(updateText) == update, "\(updateText)")
            let projection = ProjectionNode(paths: (0...random.int(3)).map { _ in random.path() })
            let projectionText = ExpressionPrinter.projection(projection)
            #expect(try ExpressionParser.parseProjection(projectionText) == projection, "\(projectionText)")
        }
    }
}

/// Random expression trees from a seed, in the shapes the language can write.
private struct TreeRandom {
    private var generator: SplitMix64

    init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    mutating func next() -> UInt64 { generator.next() }

    /// 0 through `bound`.
    mutating func int(_ bound: Int) -> Int { Int(next() % UInt64(bound + 1)) }

    static let words = ["a", "b", "Price", "_x", "item1", "FiveStar", "z_9", "Color", "statuses"]

    mutating func word() -> String { Self.words[int(Self.words.count - 1)] }

    mutating func nameElement() -> PathElement {
        int(2) == 0 ? .name(.placeholder("#" + word())) : .name(.literal(word()))
    }

    mutating func path() -> DocumentPath {
        var elements = [nameElement()]
        for _ in 0..<int(3) {
            elements.append(int(1) == 0 ? .index(int(1000)) : nameElement())
        }
        return DocumentPath(elements: elements)
    }

    mutating func placeholder() -> String { ":" + word() + String(int(99)) }

    mutating func operand() -> Operand {
        switch int(3) {
        case 0: .placeholder(placeholder())
        case 1: .size(path())
        default: .path(path())
        }
    }

    mutating func condition(depth: Int) -> ConditionNode {
        let choice = depth == 0 ? int(7) : int(10)
        switch choice {
        case 0: return .compare(operand(), Comparator.allCases[int(5)], operand())
        case 1: return .between(operand(), operand(), operand())
        case 2: return .in(operand(), (0...int(4)).map { _ in operand() })
        case 3: return .attributeExists(path())
        case 4: return .attributeNotExists(path())
        case 5: return .attributeType(path(), .placeholder(placeholder()))
        case 6: return .beginsWith(operand(), operand())
        case 7: return .contains(operand(), operand())
        case 8: return .and(condition(depth: depth - 1), condition(depth: depth - 1))
        case 9: return .or(condition(depth: depth - 1), condition(depth: depth - 1))
        default: return .not(condition(depth: depth - 1))
        }
    }

    mutating func setOperand(depth: Int) -> SetValue {
        switch depth == 0 ? int(1) : int(3) {
        case 0: return .operand(.placeholder(placeholder()))
        case 1: return .operand(.path(path()))
        case 2: return .ifNotExists(path(), setOperand(depth: depth - 1))
        default: return .listAppend(setOperand(depth: depth - 1), setOperand(depth: depth - 1))
        }
    }

    mutating func setValue() -> SetValue {
        switch int(3) {
        case 0: .plus(setOperand(depth: 2), setOperand(depth: 2))
        case 1: .minus(setOperand(depth: 2), setOperand(depth: 2))
        default: setOperand(depth: 2)
        }
    }

    mutating func update() -> UpdateNode {
        var node = UpdateNode()
        while node.set.isEmpty && node.remove.isEmpty && node.add.isEmpty && node.delete.isEmpty {
            if int(1) == 0 { node.set = (0...int(3)).map { _ in (path(), setValue()) } }
            if int(2) == 0 { node.remove = (0...int(3)).map { _ in path() } }
            if int(2) == 0 { node.add = (0...int(2)).map { _ in (path(), .placeholder(placeholder())) } }
            if int(2) == 0 { node.delete = (0...int(2)).map { _ in (path(), .placeholder(placeholder())) } }
        }
        return node
    }
}
