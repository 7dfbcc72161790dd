import Foundation
import Testing

@testable import Eddy

// DynamoDB expressions through the public operations, table-driven, written from the DynamoDB Developer
// Guide's expression pages (comparison operators and functions, condition, update, projection, key
// condition and filter expressions, expression attribute names and values, reserved words).

// MARK: - Shared expectation vocabulary

/// How an expected ValidationException's message is checked.
enum MessageMatch: Sendable, CustomStringConvertible {
    /// Exactly this message.
    case exact(String)
    /// A message starting with this text (used where DynamoDB's full wording was not verified).
    case prefix(String)
    /// A message containing this text.
    case contains(String)
    /// Any message (only the error type is checked).
    case any

    var description: String {
        switch self {
        case .exact(let m): "exact(\(m))"
        case .prefix(let m): "prefix(\(m))"
        case .contains(let m): "contains(\(m))"
        case .any: "any"
        }
    }

    func matches(_ message: String) -> Bool {
        switch self {
        case .exact(let m): message == m
        case .prefix(let m): message.hasPrefix(m)
        case .contains(let m): message.contains(m)
        case .any: true
        }
    }
}

/// Runs `body` expecting a ValidationException whose message matches `match`.
private func expectValidationMatching(
    _ match: MessageMatch, _ label: String, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async {
    do {
        try await body()
        Issue.record("[\(label)] expected ValidationException \(match) but the call succeeded", sourceLocation: sourceLocation)
    } catch let error as EddyError {
        #expect(error.errorType == "ValidationException", "[\(label)] got \(error)", sourceLocation: sourceLocation)
        #expect(match.matches(error.message), "[\(label)] expected \(match), got: \(error.message)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("[\(label)] expected EddyError, got \(error)", sourceLocation: sourceLocation)
    }
}

private func bin(_ values: UInt8...) -> AttributeValue { .b(values) }
private func nums(_ values: String...) -> AttributeValue { .ns(values.map { try! DecimalNumber($0) }) }

// MARK: - 1. Condition expressions

/// The one item every condition case is evaluated against: every attribute type, nested maps and
/// lists, sets, reserved-word attribute names and a name containing a dot.
let richItem: Item = [
    "pk": "item",
    "s": "hello world",
    "es": "",
    "n": 42,
    "n2": num("-3.5"),
    "b": bin(0x01, 0x02, 0x03),
    "t": true,
    "f": false,
    "nul": .null,
    "ss": .ss(["apple", "banana", "cherry"]),
    "ns": nums("1", "2", "3"),
    "bs": .bs([[0x01], [0x02]]),
    "l": .l(["a", 1, .l(["x", "y"]), .m(["k": "v"])]),
    "m": .m([
        "name": "Ann",
        "age": 30,
        "inr": .m(["deep": "d", "lst": .l([10, 20, 30])]),
        "tags": .ss(["red"]),
    ]),
    "status": "active",
    "data": 7,
    "a.b": "dotted",
]

enum ConditionOutcome: Sendable {
    case holds
    case fails
    case error(MessageMatch)
}

struct ConditionCase: Sendable, CustomTestStringConvertible {
    var expression: String
    var names: [String: String]?
    var values: [String: AttributeValue]?
    var expected: ConditionOutcome
    var testDescription: String {
        let types = (values ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key):\($0.value.typeDescriptor)" }
        return expression + (types.isEmpty ? "" : " \(types)")
    }
}

private func c(
    _ expression: String, _ values: [String: AttributeValue] = [:], names: [String: String] = [:],
    _ expected: ConditionOutcome
) -> ConditionCase {
    ConditionCase(
        expression: expression, names: names.isEmpty ? nil : names, values: values.isEmpty ? nil : values,
        expected: expected)
}

private func c(_ expression: String, names: [String: String] = [:], _ expected: ConditionOutcome) -> ConditionCase {
    c(expression, [:], names: names, expected)
}

private let ice = "Invalid ConditionExpression: "
private let syntax = MessageMatch.prefix("Invalid ConditionExpression: Syntax error;")
private func reserved(_ word: String) -> ConditionOutcome {
    .error(.exact("Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: \(word)"))
}

let conditionCases: [ConditionCase] = [
    // Comparators on strings (UTF-8 byte order).
    c("s = :v", [":v": "hello world"], .holds),
    c("s = :v", [":v": "hello"], .fails),
    c("s = :v", [":v": "Hello world"], .fails),
    c("s <> :v", [":v": "hello"], .holds),
    c("s <> :v", [":v": "hello world"], .fails),
    c("s < :v", [":v": "hello x"], .holds),
    c("s < :v", [":v": "hello world"], .fails),
    c("s < :v", [":v": "Hello"], .fails),
    c("s < :v", [":v": "é"], .holds),
    c("s <= :v", [":v": "hello world"], .holds),
    c("s <= :v", [":v": "hello"], .fails),
    c("s > :v", [":v": "hello"], .holds),
    c("s > :v", [":v": "Z"], .holds),
    c("s > :v", [":v": "i"], .fails),
    c("s >= :v", [":v": "hello world"], .holds),
    c("s >= :v", [":v": "hellp"], .fails),
    c("es = :v", [":v": ""], .holds),
    c("es < :v", [":v": "a"], .holds),
    // Comparators on numbers (numeric, not textual, order).
    c("n = :v", [":v": 42], .holds),
    c("n = :v", [":v": num("42.0")], .holds),
    c("n = :v", [":v": num("4.2E1")], .holds),
    c("n = :v", [":v": 43], .fails),
    c("n <> :v", [":v": 41], .holds),
    c("n <> :v", [":v": num("42.00")], .fails),
    c("n < :v", [":v": 100], .holds),
    c("n < :v", [":v": 42], .fails),
    c("n > :v", [":v": 9], .holds),
    c("n > :v", [":v": 42], .fails),
    c("n <= :v", [":v": 42], .holds),
    c("n <= :v", [":v": num("41.999")], .fails),
    c("n >= :v", [":v": 42], .holds),
    c("n >= :v", [":v": num("42.0001")], .fails),
    c("n2 < :v", [":v": 0], .holds),
    c("n2 > :v", [":v": -4], .holds),
    c("n2 < :v", [":v": num("-3.6")], .fails),
    c("n2 = :v", [":v": num("-35E-1")], .holds),
    c("n > n2", .holds),
    c("n < n2", .fails),
    c(":v < n", [":v": 0], .holds),
    c(":v > n", [":v": 0], .fails),
    c("m.age < n", .holds),
    c("n > :z AND n2 < :z", [":z": 0], .holds),
    // Comparators on binaries (unsigned byte order).
    c("b = :v", [":v": bin(0x01, 0x02, 0x03)], .holds),
    c("b = :v", [":v": bin(0x01, 0x02)], .fails),
    c("b <> :v", [":v": bin(0x01)], .holds),
    c("b < :v", [":v": bin(0x01, 0x02, 0x04)], .holds),
    c("b < :v", [":v": bin(0x80)], .holds),
    c("b < :v", [":v": bin(0x01, 0x02)], .fails),
    c("b > :v", [":v": bin(0x01, 0x02)], .holds),
    c("b > :v", [":v": bin(0xFF)], .fails),
    c("b >= :v", [":v": bin(0x01, 0x02, 0x03)], .holds),
    c("b <= :v", [":v": bin(0x01, 0x02, 0x02)], .fails),
    // Different types never compare: = is false, <> is true, ordering is false.
    c("n = :v", [":v": "42"], .fails),
    c("n <> :v", [":v": "42"], .holds),
    c("s = :v", [":v": 1], .fails),
    c("n < :v", [":v": "zzz"], .fails),
    c("n > :v", [":v": "0"], .fails),
    c("n >= :v", [":v": "0"], .fails),
    c("s <= :v", [":v": bin(0xFF)], .fails),
    c("b = :v", [":v": "\u{1}\u{2}\u{3}"], .fails),
    c("ss = :v", [":v": .l(["apple", "banana", "cherry"])], .fails),
    c("ss <> :v", [":v": .l(["apple", "banana", "cherry"])], .holds),
    c("t = :v", [":v": 1], .fails),
    c("nul = :v", [":v": false], .fails),
    // Equality on BOOL, NULL, maps, lists and sets.
    c("t = :v", [":v": true], .holds),
    c("t = :v", [":v": false], .fails),
    c("t <> :v", [":v": false], .holds),
    c("f = :v", [":v": false], .holds),
    c("nul = :v", [":v": .null], .holds),
    c("m.inr = :v", [":v": .m(["deep": "d", "lst": .l([10, 20, 30])])], .holds),
    c("m.inr = :v", [":v": .m(["deep": "d"])], .fails),
    c("l = :v", [":v": .l(["a", 1, .l(["x", "y"]), .m(["k": "v"])])], .holds),
    c("l = :v", [":v": .l([1, "a", .l(["x", "y"]), .m(["k": "v"])])], .fails),
    c("ss = :v", [":v": .ss(["cherry", "apple", "banana"])], .holds),
    c("ss = :v", [":v": .ss(["apple", "banana"])], .fails),
    c("ns = :v", [":v": nums("3", "2", "1")], .holds),
    c("ns = :v", [":v": nums("1", "2")], .fails),
    c("bs = :v", [":v": .bs([[0x02], [0x01]])], .holds),
    c("m.tags = :v", [":v": .ss(["red"])], .holds),
    // Missing attributes.
    c("absent = :v", [":v": 1], .fails),
    c("absent <> :v", [":v": 1], .holds),
    c("absent < :v", [":v": 1], .fails),
    c("absent >= :v", [":v": 1], .fails),
    c("NOT absent = :v", [":v": 1], .holds),
    c("m.nope = :v", [":v": 1], .fails),
    c("l[10] = :v", [":v": 1], .fails),
    c("s.x = :v", [":v": 1], .fails),
    c("s[0] = :v", [":v": "h"], .fails),
    c("m[0] = :v", [":v": "Ann"], .fails),
    c("l.a = :v", [":v": "a"], .fails),
    c("a.b = :v", [":v": "dotted"], .fails),
    // Nested paths.
    c("m.name = :v", [":v": "Ann"], names: [:], reserved("name")),
    c("m.age = :v", [":v": 30], .holds),
    c("m.inr.deep = :v", [":v": "d"], .holds),
    c("m.inr.lst[1] = :v", [":v": 20], .holds),
    c("m.inr.lst[2] > m.inr.lst[0]", .holds),
    c("l[0] = :v", [":v": "a"], .holds),
    c("l[1] = :v", [":v": 1], .holds),
    c("l[2][1] = :v", [":v": "y"], .holds),
    c("l[2][0] = :v", [":v": "y"], .fails),
    c("l[3].k = :v", [":v": "v"], .holds),
    c("#dot = :v", [":v": "dotted"], names: ["#dot": "a.b"], .holds),
    c("#mn = :v", [":v": "Ann"], names: ["#mn": "m.name"], .fails),
    c("s = m.age", .fails),
    // BETWEEN.
    c("n BETWEEN :lo AND :hi", [":lo": 40, ":hi": 50], .holds),
    c("n BETWEEN :lo AND :hi", [":lo": 42, ":hi": 42], .holds),
    c("n BETWEEN :lo AND :hi", [":lo": 43, ":hi": 50], .fails),
    c("n BETWEEN :lo AND :hi", [":lo": 0, ":hi": 41], .fails),
    c("n BETWEEN :lo AND :hi", [":lo": 9, ":hi": 100], .holds),
    c("s BETWEEN :lo AND :hi", [":lo": "h", ":hi": "i"], .holds),
    c("s BETWEEN :lo AND :hi", [":lo": "a", ":hi": "hello"], .fails),
    c("b BETWEEN :lo AND :hi", [":lo": bin(0x01), ":hi": bin(0x02)], .holds),
    c("n BETWEEN :lo AND :hi", [":lo": "a", ":hi": "z"], .fails),
    c("absent BETWEEN :lo AND :hi", [":lo": 0, ":hi": 100], .fails),
    c("NOT n BETWEEN :lo AND :hi", [":lo": 0, ":hi": 10], .holds),
    c("m.age BETWEEN :lo AND :hi", [":lo": 30, ":hi": 31], .holds),
    c("n BETWEEN :lo AND :hi AND s = :s", [":lo": 0, ":hi": 100, ":s": "hello world"], .holds),
    c("n BETWEEN :lo AND :hi AND s = :s", [":lo": 0, ":hi": 100, ":s": "x"], .fails),
    c(
        "n BETWEEN :lo AND :hi", [":lo": 50, ":hi": 40],
        .error(
            .exact(
                ice + "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; "
                    + "lower bound operand: AttributeValue: {N:50}, upper bound operand: AttributeValue: {N:40}"))),
    c(
        "n BETWEEN :lo AND :hi", [":lo": 1, ":hi": "z"],
        .error(
            .exact(
                ice + "The BETWEEN operator requires same data type for lower and upper bounds; "
                    + "lower bound operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {S:z}"))),
    // IN.
    c("n IN (:a, :b)", [":a": 1, ":b": 42], .holds),
    c("n IN (:a)", [":a": 42], .holds),
    c("n IN (:a)", [":a": 1], .fails),
    c("n IN (:a)", [":a": "42"], .fails),
    c("s IN (:a, :b, :c)", [":a": "x", ":b": "y", ":c": "hello world"], .holds),
    c("absent IN (:a)", [":a": 1], .fails),
    c("NOT n IN (:a, :b)", [":a": 1, ":b": 2], .holds),
    c("m.age IN (:a, :b)", [":a": 29, ":b": 30], .holds),
    c("ss IN (:a)", [":a": .ss(["banana", "cherry", "apple"])], .holds),
    c("n IN (:a, n2)", [":a": 1], .fails),
    c("n IN (:a, m.age)", [":a": 42], .holds),
    // The first operand may not be repeated among the others (issue 21).
    c("n IN (:a, m.age, n)", [":a": 1],
      .error(.exact(ice + "The first operand must be distinct from the remaining operands for this operator or function; operator: IN, first operand: [n]"))),
    // AND / OR / NOT precedence and parentheses.
    c("n = :a OR n = :b AND s = :x", [":a": 42, ":b": 0, ":x": "nope"], .holds),
    c("(n = :a OR n = :b) AND s = :x", [":a": 42, ":b": 0, ":x": "nope"], .fails),
    c("s = :x AND n = :b OR n = :a", [":a": 42, ":b": 0, ":x": "nope"], .holds),
    c("s = :x AND (n = :b OR n = :a)", [":a": 42, ":b": 0, ":x": "nope"], .fails),
    c("NOT n = :a AND s = :x", [":a": 42, ":x": "nope"], .fails),
    c("NOT (n = :a AND s = :x)", [":a": 42, ":x": "nope"], .holds),
    c("NOT n = :a OR s = :x", [":a": 1, ":x": "nope"], .holds),
    c("NOT (n = :a OR n2 = :x)", [":a": 1, ":x": 2], .holds),
    c("NOT NOT n = :a", [":a": 42], .holds),
    // Doubled parentheses are refused (issue 21); nested groups are not.
    c("((n = :a))", [":a": 42], .error(.exact(ice + "The expression has redundant parentheses;"))),
    c("(((n = :a)) AND ((t = :t)))", [":a": 42, ":t": true], .error(.exact(ice + "The expression has redundant parentheses;"))),
    c("((n = :a) AND (t = :t))", [":a": 42, ":t": true], .holds),
    c("n = :a AND t = :t AND f = :t", [":a": 42, ":t": true], .fails),
    c("n = :a OR t = :t OR f = :t", [":a": 0, ":t": true], .holds),
    c("n = :a or absent.deep = :a", [":a": 42], .holds),
    c("n = :a and s = :x", [":a": 42, ":x": "hello world"], .holds),
    c("not n = :a", [":a": 42], .fails),
    c("n between :lo and :hi", [":lo": 0, ":hi": 100], .holds),
    c("n in (:a)", [":a": 42], .holds),
    c("n=:a AND s<>:x", [":a": 42, ":x": "x"], .holds),
    c("  n   =\n:a\t", [":a": 42], .holds),
    // attribute_exists / attribute_not_exists.
    c("attribute_exists(s)", .holds),
    c("attribute_exists(pk)", .holds),
    c("attribute_exists(nul)", .holds),
    c("attribute_exists(es)", .holds),
    c("attribute_exists(f)", .holds),
    c("attribute_exists(absent)", .fails),
    c("attribute_exists(m.inr.deep)", .holds),
    c("attribute_exists(m.nope)", .fails),
    c("attribute_exists(m.inr.lst[2])", .holds),
    c("attribute_exists(m.inr.lst[3])", .fails),
    c("attribute_exists(l[2][0])", .holds),
    c("attribute_exists(l[2][2])", .fails),
    c("attribute_exists(l[3].k)", .holds),
    c("attribute_exists(l[4])", .fails),
    c("attribute_exists(s.x)", .fails),
    c("attribute_exists(ss[0])", .fails),
    c("attribute_exists(#dot)", names: ["#dot": "a.b"], .holds),
    c("attribute_exists(a.b)", .fails),
    c("attribute_not_exists(absent)", .holds),
    c("attribute_not_exists(s)", .fails),
    c("attribute_not_exists(m.inr.lst[5])", .holds),
    c("attribute_not_exists(m.inr)", .fails),
    c("attribute_not_exists(l[0])", .fails),
    c("NOT attribute_exists(absent)", .holds),
    c("attribute_exists(s) AND attribute_not_exists(absent)", .holds),
    c("attribute_exists(:v)", [":v": "s"], .error(.prefix(ice + "Operator or function requires a document path"))),
    // attribute_type with every type.
    c("attribute_type(s, :t)", [":t": "S"], .holds),
    c("attribute_type(es, :t)", [":t": "S"], .holds),
    c("attribute_type(n, :t)", [":t": "N"], .holds),
    c("attribute_type(b, :t)", [":t": "B"], .holds),
    c("attribute_type(t, :t)", [":t": "BOOL"], .holds),
    c("attribute_type(nul, :t)", [":t": "NULL"], .holds),
    c("attribute_type(m, :t)", [":t": "M"], .holds),
    c("attribute_type(l, :t)", [":t": "L"], .holds),
    c("attribute_type(ss, :t)", [":t": "SS"], .holds),
    c("attribute_type(ns, :t)", [":t": "NS"], .holds),
    c("attribute_type(bs, :t)", [":t": "BS"], .holds),
    c("attribute_type(s, :t)", [":t": "N"], .fails),
    c("attribute_type(n, :t)", [":t": "S"], .fails),
    c("attribute_type(ss, :t)", [":t": "L"], .fails),
    c("attribute_type(l, :t)", [":t": "SS"], .fails),
    c("attribute_type(t, :t)", [":t": "NULL"], .fails),
    c("attribute_type(absent, :t)", [":t": "NULL"], .fails),
    c("attribute_type(m.inr, :t)", [":t": "M"], .holds),
    c("attribute_type(m.inr.lst, :t)", [":t": "L"], .holds),
    c("attribute_type(l[2], :t)", [":t": "L"], .holds),
    c("attribute_type(l[1], :t)", [":t": "N"], .holds),
    c("attribute_type(m.tags, :t)", [":t": "SS"], .holds),
    c("NOT attribute_type(s, :t)", [":t": "N"], .holds),
    c("attribute_type(s, :t)", [":t": "STRING"], .error(.prefix(ice + "Invalid attribute type name found"))),
    c("attribute_type(s, :t)", [":t": "s"], .error(.prefix(ice + "Invalid attribute type name found"))),
    c(
        "attribute_type(s, :t)", [":t": 1],
        .error(.prefix(ice + "Incorrect operand type for operator or function; operator or function: attribute_type"))),
    // begins_with.
    c("begins_with(s, :v)", [":v": "hello"], .holds),
    c("begins_with(s, :v)", [":v": "h"], .holds),
    c("begins_with(s, :v)", [":v": "hello world"], .holds),
    c("begins_with(s, :v)", [":v": "hello world!"], .fails),
    c("begins_with(s, :v)", [":v": "world"], .fails),
    c("begins_with(s, :v)", [":v": "Hello"], .fails),
    c("begins_with(b, :v)", [":v": bin(0x01, 0x02)], .holds),
    c("begins_with(b, :v)", [":v": bin(0x02)], .fails),
    c("begins_with(n, :v)", [":v": "4"], .fails),
    c("begins_with(absent, :v)", [":v": "a"], .fails),
    c("begins_with(m.name, :v)", [":v": "A"], names: [:], reserved("name")),
    c("begins_with(#n, :v)", [":v": "act"], names: ["#n": "status"], .holds),
    c("begins_with(l, :v)", [":v": "a"], .fails),
    c("begins_with(ss, :v)", [":v": "apple"], .fails),
    c("NOT begins_with(s, :v)", [":v": "world"], .holds),
    c(
        "begins_with(s, :v)", [":v": 1],
        .error(.prefix(ice + "Incorrect operand type for operator or function; operator or function: begins_with"))),
    // contains on strings, binaries, sets and lists.
    c("contains(s, :v)", [":v": "lo wo"], .holds),
    c("contains(s, :v)", [":v": "world"], .holds),
    c("contains(s, :v)", [":v": "xyz"], .fails),
    c("contains(s, :v)", [":v": "WORLD"], .fails),
    c("contains(ss, :v)", [":v": "banana"], .holds),
    c("contains(ss, :v)", [":v": "grape"], .fails),
    c("contains(ss, :v)", [":v": "ban"], .fails),
    c("contains(ns, :v)", [":v": 2], .holds),
    c("contains(ns, :v)", [":v": num("2.0")], .holds),
    c("contains(ns, :v)", [":v": 4], .fails),
    c("contains(ns, :v)", [":v": "2"], .fails),
    c("contains(bs, :v)", [":v": bin(0x01)], .holds),
    c("contains(bs, :v)", [":v": bin(0x03)], .fails),
    c("contains(b, :v)", [":v": bin(0x02, 0x03)], .holds),
    c("contains(b, :v)", [":v": bin(0x03, 0x02)], .fails),
    c("contains(l, :v)", [":v": "a"], .holds),
    c("contains(l, :v)", [":v": 1], .holds),
    c("contains(l, :v)", [":v": "1"], .fails),
    c("contains(l, :v)", [":v": "b"], .fails),
    c("contains(l, :v)", [":v": "x"], .fails),
    c("contains(l[2], :v)", [":v": "x"], .holds),
    c("contains(m.tags, :v)", [":v": "red"], .holds),
    c("contains(m.inr.lst, :v)", [":v": 20], .holds),
    c("contains(absent, :v)", [":v": "a"], .fails),
    c("contains(n, :v)", [":v": 4], .fails),
    c("NOT contains(ss, :v)", [":v": "grape"], .holds),
    // size() on every sizable type.
    c("size(s) = :v", [":v": 11], .holds),
    c("size(s) > :v", [":v": 11], .fails),
    c("size(es) = :v", [":v": 0], .holds),
    c("size(b) = :v", [":v": 3], .holds),
    c("size(ss) = :v", [":v": 3], .holds),
    c("size(ns) = :v", [":v": 3], .holds),
    c("size(bs) = :v", [":v": 2], .holds),
    c("size(l) = :v", [":v": 4], .holds),
    c("size(m) = :v", [":v": 4], .holds),
    c("size(m.inr) = :v", [":v": 2], .holds),
    c("size(m.inr.lst) = :v", [":v": 3], .holds),
    c("size(l[2]) = :v", [":v": 2], .holds),
    c("size(l[0]) = :v", [":v": 1], .holds),
    c("size(absent) = :v", [":v": 0], .fails),
    c("size(absent) < :v", [":v": 1], .fails),
    c("size(s) = :v", [":v": "11"], .fails),
    c("size(s) BETWEEN :a AND :b", [":a": 10, ":b": 12], .holds),
    c("size(s) IN (:a, :b)", [":a": 1, ":b": 11], .holds),
    c("size(ss) < size(s)", .holds),
    c("size(l) >= size(m)", .holds),
    c("size(l) > size(m)", .fails),
    c(":v = size(bs)", [":v": 2], .holds),
    c("size(s)", .error(.prefix(ice))),
    // Reserved words must be escaped.
    c("status = :v", [":v": "active"], reserved("status")),
    c("data = :v", [":v": 7], reserved("data")),
    c("attribute_exists(date)", reserved("date")),
    c("m.inr.deep = :v AND comment = :v", [":v": "d"], reserved("comment")),
    c("s = :v OR year > :v", [":v": "x"], reserved("year")),
    c("Status = :v", [":v": "active"], .error(.prefix(ice + "Attribute name is a reserved keyword; reserved keyword:"))),
    c("#s = :v", [":v": "active"], names: ["#s": "status"], .holds),
    c("#d = :v", [":v": 7], names: ["#d": "data"], .holds),
    c("#d = :v", [":v": 8], names: ["#d": "data"], .fails),
    c("m.#n = :v", [":v": "Ann"], names: ["#n": "name"], .holds),
    c("#m.#n = :v", [":v": "Ann"], names: ["#m": "m", "#n": "name"], .holds),
    c("#s = :v OR #s = :w", [":v": "x", ":w": "active"], names: ["#s": "status"], .holds),
    c("attribute_exists(#x)", names: ["#x": "absent"], .fails),
    c("#l[2][1] = :v", [":v": "y"], names: ["#l": "l"], .holds),
    c("size(#s) = :v", [":v": 6], names: ["#s": "status"], .holds),
    // Placeholders: undefined, unused, malformed maps.
    c(
        "n = :nope",
        .error(.exact(ice + "An expression attribute value used in expression is not defined; attribute value: :nope"))),
    c(
        "#nope = :v", [":v": 1],
        .error(.exact(ice + "An expression attribute name used in the document path is not defined; attribute name: #nope"))),
    c(
        "n = :a", [":a": 42, ":b": 1],
        .error(.exact("Value provided in ExpressionAttributeValues unused in expressions: keys: {:b}"))),
    c(
        "n = :a", [":a": 42], names: ["#x": "x"],
        .error(.exact("Value provided in ExpressionAttributeNames unused in expressions: keys: {#x}"))),
    c("attribute_exists(s)", names: ["#x": "s"], .error(.exact("Value provided in ExpressionAttributeNames unused in expressions: keys: {#x}"))),
    c("n = :a", [":a": 42], names: ["x": "x"], .error(.exact("ExpressionAttributeNames contains invalid key: Syntax error; key: \"x\""))),
    c("n = :a", [":a": 42, "b": 1], .error(.exact("ExpressionAttributeValues contains invalid key: Syntax error; key: \"b\""))),
    c("ss = :a", [":a": .ss([])], .error(
        .exact(
            "ExpressionAttributeValues contains invalid value: One or more parameter values were invalid: An string set  may not be empty for key :a"))),
    ConditionCase(
        expression: "n = :a", names: [:], values: [":a": 42],
        expected: .error(.exact("ExpressionAttributeNames must not be empty"))),
    ConditionCase(
        expression: "attribute_exists(n)", names: nil, values: [:],
        expected: .error(.exact("ExpressionAttributeValues must not be empty"))),
    c("", .error(.exact(ice + "The expression can not be empty;"))),
    c("   ", .error(.exact(ice + "The expression can not be empty;"))),
    c("foo(s)", .error(.exact(ice + "Invalid function name; function: foo"))),
    // Syntax errors.
    c("n =", syntax.asError),
    c("n == :a", [":a": 1], syntax.asError),
    c("= :a", [":a": 1], syntax.asError),
    c("n = :a AND", [":a": 1], syntax.asError),
    c("AND n = :a", [":a": 1], syntax.asError),
    c("n = :a OR", [":a": 1], syntax.asError),
    c("(n = :a", [":a": 1], syntax.asError),
    c("n = :a)", [":a": 1], syntax.asError),
    c("n BETWEEN :a", [":a": 1], syntax.asError),
    c("n BETWEEN :a OR :b", [":a": 1, ":b": 2], syntax.asError),
    c("n IN ()", syntax.asError),
    c("n IN :a", [":a": 1], syntax.asError),
    c("attribute_exists(s", syntax.asError),
    c("n = :a :b", [":a": 1, ":b": 2], syntax.asError),
    c("n ! :a", [":a": 1], syntax.asError),
    c("n != :a", [":a": 1], syntax.asError),
    c("l[] = :a", [":a": 1], syntax.asError),
    c("l[-1] = :a", [":a": 1], syntax.asError),
    c("l[x] = :a", [":a": 1], syntax.asError),
    c("m. = :a", [":a": 1], syntax.asError),
    c(".m = :a", [":a": 1], syntax.asError),
    c("NOT", syntax.asError),
    c("n <>", syntax.asError),
    c("n = 'hello'", syntax.asError),
    c("n = 42", syntax.asError),
]

extension MessageMatch {
    fileprivate var asError: ConditionOutcome { .error(self) }
}

/// Creates table `Rich` (key `pk`, S) holding ``richItem``.
private func seedRich(_ db: Database) async throws {
    try await createTable(db, "Rich")
    try await db.putItem(PutItemInput(tableName: "Rich", item: richItem))
}

private func currentRich(_ db: Database) async throws -> Item? {
    try await db.getItem(GetItemInput(tableName: "Rich", key: ["pk": "item"])).item
}

@Suite("Expression operations", .timeLimit(.minutes(5)))
struct ExpressionOperationsTests {

    // MARK: 1. Conditions

    @Test("Condition on a conditional PutItem and DeleteItem", arguments: conditionCases)
    func condition(_ testCase: ConditionCase) async throws {
        try await withDatabase { db in
            try await seedRich(db)
            var replacement = richItem
            replacement["written"] = true
            let put = PutItemInput(
                tableName: "Rich", item: replacement, conditionExpression: testCase.expression,
                expressionAttributeNames: testCase.names, expressionAttributeValues: testCase.values)
            switch testCase.expected {
            case .holds:
                try await db.putItem(put)
                #expect(try await currentRich(db) == replacement)
            case .fails:
                let error = await expectEddyError("ConditionalCheckFailedException", "The conditional request failed") {
                    try await db.putItem(put)
                }
                if case .conditionalCheckFailed(_, let item) = error { #expect(item == nil) }
                #expect(try await currentRich(db) == richItem)
            case .error(let match):
                await expectValidationMatching(match, testCase.expression) { try await db.putItem(put) }
                #expect(try await currentRich(db) == richItem)
            }

            // The same condition on a DeleteItem of the (restored) item.
            try await db.putItem(PutItemInput(tableName: "Rich", item: richItem))
            let delete = DeleteItemInput(
                tableName: "Rich", key: ["pk": "item"], conditionExpression: testCase.expression,
                expressionAttributeNames: testCase.names, expressionAttributeValues: testCase.values)
            switch testCase.expected {
            case .holds:
                try await db.deleteItem(delete)
                #expect(try await currentRich(db) == nil)
            case .fails:
                await expectEddyError("ConditionalCheckFailedException", "The conditional request failed") {
                    try await db.deleteItem(delete)
                }
                #expect(try await currentRich(db) == richItem)
            case .error(let match):
                await expectValidationMatching(match, "delete " + testCase.expression) { try await db.deleteItem(delete) }
                #expect(try await currentRich(db) == richItem)
            }
        }
    }

    @Test("A failed condition returns the old item with ReturnValuesOnConditionCheckFailure ALL_OLD")
    func conditionFailureReturnsItem() async throws {
        try await withDatabase { db in
            try await seedRich(db)
            let error = await expectEddyError("ConditionalCheckFailedException", "The conditional request failed") {
                try await db.updateItem(
                    UpdateItemInput(
                        tableName: "Rich", key: ["pk": "item"], updateExpression: "SET n = :v",
                        conditionExpression: "n > :v", expressionAttributeValues: [":v": 100],
                        returnValuesOnConditionCheckFailure: .allOld))
            }
            guard case .conditionalCheckFailed(_, let item) = error else {
                Issue.record("no conditionalCheckFailed error")
                return
            }
            #expect(item == richItem)
            #expect(try await currentRich(db) == richItem)
        }
    }

    @Test("Conditions on an item that does not exist")
    func conditionOnAbsentItem() async throws {
        try await withDatabase { db in
            try await createTable(db, "Rich")
            // attribute_not_exists(pk) is the put-if-absent idiom.
            try await db.putItem(
                PutItemInput(tableName: "Rich", item: ["pk": "new", "v": 1], conditionExpression: "attribute_not_exists(pk)"))
            await expectEddyError("ConditionalCheckFailedException", "The conditional request failed") {
                try await db.putItem(
                    PutItemInput(tableName: "Rich", item: ["pk": "new", "v": 2], conditionExpression: "attribute_not_exists(pk)"))
            }
            #expect(try await db.getItem(GetItemInput(tableName: "Rich", key: ["pk": "new"])).item == ["pk": "new", "v": 1])
            // Every comparison against a absent item is false except <>.
            await expectEddyError("ConditionalCheckFailedException", "The conditional request failed") {
                try await db.putItem(
                    PutItemInput(
                        tableName: "Rich", item: ["pk": "other"], conditionExpression: "v = :v",
                        expressionAttributeValues: [":v": 1]))
            }
            try await db.putItem(
                PutItemInput(
                    tableName: "Rich", item: ["pk": "other"], conditionExpression: "v <> :v",
                    expressionAttributeValues: [":v": 1]))
            await expectEddyError("ConditionalCheckFailedException", "The conditional request failed") {
                try await db.deleteItem(
                    DeleteItemInput(tableName: "Rich", key: ["pk": "ghost"], conditionExpression: "attribute_exists(pk)"))
            }
            // UpdateItem with a failing condition does not create the item.
            await expectEddyError("ConditionalCheckFailedException", "The conditional request failed") {
                try await db.updateItem(
                    UpdateItemInput(
                        tableName: "Rich", key: ["pk": "ghost"], updateExpression: "SET v = :v",
                        conditionExpression: "attribute_exists(pk)", expressionAttributeValues: [":v": 1]))
            }
            #expect(try await db.getItem(GetItemInput(tableName: "Rich", key: ["pk": "ghost"])).item == nil)
        }
    }
}

// MARK: - 2. Update expressions

let updateBase: Item = [
    "pk": "u",
    "a": 1,
    "s": "str",
    "l": .l([1, 2, 3, 4, 5]),
    "m": .m(["x": 1, "y": .m(["z": "deep"])]),
    "ss": .ss(["a", "b"]),
    "ns": nums("1", "2"),
    "bs": .bs([[0x01]]),
]

enum UpdateOutcome: Sendable {
    /// The item afterwards is the base with these attributes replaced (nil: removed).
    case changes([String: AttributeValue?])
    case error(MessageMatch)
    /// A ConditionalCheckFailedException; the item is unchanged.
    case conditionFails
}

struct UpdateCase: Sendable, CustomTestStringConvertible {
    var expression: String
    var names: [String: String]?
    var values: [String: AttributeValue]?
    var condition: String?
    var expected: UpdateOutcome
    var testDescription: String {
        let types = (values ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key):\($0.value.typeDescriptor)" }
        return expression + (condition.map { " IF " + $0 } ?? "") + (types.isEmpty ? "" : " \(types)")
    }
}

private func u(
    _ expression: String, _ values: [String: AttributeValue] = [:], names: [String: String] = [:],
    condition: String? = nil, _ expected: UpdateOutcome
) -> UpdateCase {
    UpdateCase(
        expression: expression, names: names.isEmpty ? nil : names, values: values.isEmpty ? nil : values,
        condition: condition, expected: expected)
}

private func u(
    _ expression: String, names: [String: String] = [:], condition: String? = nil, _ expected: UpdateOutcome
) -> UpdateCase {
    u(expression, [:], names: names, condition: condition, expected)
}

private let iue = "Invalid UpdateExpression: "
private let badPath = UpdateOutcome.error(.exact("The document path provided in the update expression is invalid for update"))
private let badType = UpdateOutcome.error(.exact("An operand in the update expression has an incorrect data type"))
private let noAttribute = UpdateOutcome.error(
    .exact("The provided expression refers to an attribute that does not exist in the item"))
private let updateSyntax = UpdateOutcome.error(.prefix(iue + "Syntax error;"))
private let keyUpdate = UpdateOutcome.error(
    .exact("One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key"))
private func overlap(_ one: String, _ two: String) -> UpdateOutcome {
    .error(
        .exact(
            iue + "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: \(one), path two: \(two)"))
}
private let conflict = UpdateOutcome.error(.contains("Two document paths conflict"))
private let staticType = UpdateOutcome.error(.prefix(iue + "Incorrect operand type for operator or function"))
private func twice(_ clause: String) -> UpdateOutcome {
    .error(.exact(iue + "The \"\(clause)\" section can only be used once in an update expression;"))
}

let updateCases: [UpdateCase] = [
    // SET: top level, nested, list elements.
    u("SET a = :v", [":v": 5], .changes(["a": 5])),
    u("SET newattr = :v", [":v": "x"], .changes(["newattr": "x"])),
    u("SET a = :v", [":v": .l([true])], .changes(["a": .l([true])])),
    u("SET m.x = :v", [":v": 9], .changes(["m": .m(["x": 9, "y": .m(["z": "deep"])])])),
    u("SET m.y.z = :v", [":v": "new"], .changes(["m": .m(["x": 1, "y": .m(["z": "new"])])])),
    u("SET m.w = :v", [":v": true], .changes(["m": .m(["x": 1, "w": true, "y": .m(["z": "deep"])])])),
    u("SET m.y = :v", [":v": 0], .changes(["m": .m(["x": 1, "y": 0])])),
    u("SET m.q.r = :v", [":v": 1], badPath),
    u("SET nope.x = :v", [":v": 1], badPath),
    u("SET nope[0] = :v", [":v": 1], badPath),
    u("SET m[0] = :v", [":v": 1], badPath),
    u("SET s[0] = :v", [":v": 1], badPath),
    u("SET s.x = :v", [":v": 1], badPath),
    u("SET l.x = :v", [":v": 1], badPath),
    u("SET l[0] = :v", [":v": 10], .changes(["l": .l([10, 2, 3, 4, 5])])),
    u("SET l[4] = :v", [":v": 50], .changes(["l": .l([1, 2, 3, 4, 50])])),
    u("SET l[5] = :v", [":v": 6], .changes(["l": .l([1, 2, 3, 4, 5, 6])])),
    u("SET l[100] = :v", [":v": 6], .changes(["l": .l([1, 2, 3, 4, 5, 6])])),
    u("SET l[1] = :v, l[3] = :w", [":v": "x", ":w": "y"], .changes(["l": .l([1, "x", 3, "y", 5])])),
    u("SET l[7] = :v, l[9] = :w", [":v": 7, ":w": 9], .changes(["l": .l([1, 2, 3, 4, 5, 7, 9])])),
    u("SET l[1] = l[0]", .changes(["l": .l([1, 1, 3, 4, 5])])),
    u("SET m.y.z = m.x", .changes(["m": .m(["x": 1, "y": .m(["z": 1])])])),
    u("SET c = m", .changes(["c": .m(["x": 1, "y": .m(["z": "deep"])])])),
    u("SET a = :v, s = :w", [":v": 2, ":w": "t"], .changes(["a": 2, "s": "t"])),
    u("SET #n = :v", [":v": "ok"], names: ["#n": "status"], .changes(["status": "ok"])),
    u("SET #m.#x = :v", [":v": 3], names: ["#m": "m", "#x": "x"], .changes(["m": .m(["x": 3, "y": .m(["z": "deep"])])])),
    u("SET #d = :v", [":v": 1], names: ["#d": "a.b"], .changes(["a.b": 1])),
    u("set a = :v", [":v": 8], .changes(["a": 8])),
    u("SET a=:v,s=:w", [":v": 2, ":w": "t"], .changes(["a": 2, "s": "t"])),
    // SET arithmetic.
    u("SET a = a + :v", [":v": 2], .changes(["a": 3])),
    u("SET a = a - :v", [":v": 3], .changes(["a": -2])),
    u("SET a = :v - a", [":v": 10], .changes(["a": 9])),
    u("SET a = a + :v", [":v": num("0.5")], .changes(["a": num("1.5")])),
    u("SET a = a + :v", [":v": num("-1")], .changes(["a": 0])),
    u("SET b = a + a", .changes(["b": 2])),
    u("SET a = :v - :w", [":v": 10, ":w": 3], .changes(["a": 7])),
    u("SET m.x = m.x + :v", [":v": 1], .changes(["m": .m(["x": 2, "y": .m(["z": "deep"])])])),
    u("SET l[0] = l[4] - l[1]", .changes(["l": .l([3, 2, 3, 4, 5])])),
    u("SET a = s + :v", [":v": 1], badType),
    u("SET a = a + ns", badType),
    u("SET a = m - :v", [":v": 1], badType),
    u("SET a = nope + :v", [":v": 1], noAttribute),
    u("SET a = :v - nope", [":v": 1], noAttribute),
    u("SET a = nope", noAttribute),
    u("SET a = m.nope", noAttribute),
    u("SET a = l[9]", noAttribute),
    u("SET a = a + :v", [":v": "x"], staticType),
    u("SET a = a + :v + :w", [":v": 1, ":w": 2], updateSyntax),
    // if_not_exists and list_append.
    u("SET a = if_not_exists(a, :v)", [":v": 100], .changes([:])),
    u("SET c = if_not_exists(c, :v)", [":v": 100], .changes(["c": 100])),
    u("SET c = if_not_exists(a, :v)", [":v": 100], .changes(["c": 1])),
    u("SET c = if_not_exists(c, :zero) + :one", [":zero": 0, ":one": 1], .changes(["c": 1])),
    u("SET a = if_not_exists(a, :zero) + :one", [":zero": 0, ":one": 1], .changes(["a": 2])),
    u("SET m.y.z = if_not_exists(m.y.z, :v)", [":v": "x"], .changes([:])),
    u("SET m.n = if_not_exists(m.n, :v)", [":v": "x"], .changes(["m": .m(["x": 1, "n": "x", "y": .m(["z": "deep"])])])),
    u("SET l = list_append(l, :v)", [":v": .l([6, 7])], .changes(["l": .l([1, 2, 3, 4, 5, 6, 7])])),
    u("SET l = list_append(:v, l)", [":v": .l([0])], .changes(["l": .l([0, 1, 2, 3, 4, 5])])),
    u("SET l2 = list_append(if_not_exists(l2, :e), :v)", [":e": .l([]), ":v": .l([9])], .changes(["l2": .l([9])])),
    u("SET l = list_append(l, l)", .changes(["l": .l([1, 2, 3, 4, 5, 1, 2, 3, 4, 5])])),
    u("SET n = list_append(:a, :b)", [":a": .l(["x"]), ":b": .l([.null])], .changes(["n": .l(["x", .null])])),
    u("SET l = list_append(l, :v)", [":v": "x"], staticType),
    u("SET s = list_append(s, :v)", [":v": .l([1])], badType),
    u("SET l = list_append(nope, :v)", [":v": .l([1])], noAttribute),
    u("SET a = size(s)", [:], .error(.prefix(iue))),
    u("SET a = if_not_exists(:v, a)", [":v": 1], .error(.prefix(iue))),
    // REMOVE.
    u("REMOVE a", .changes(["a": nil])),
    u("REMOVE a, s", .changes(["a": nil, "s": nil])),
    u("REMOVE nope", .changes([:])),
    u("REMOVE m.x", .changes(["m": .m(["y": .m(["z": "deep"])])])),
    u("REMOVE m.y.z", .changes(["m": .m(["x": 1, "y": .m([:])])])),
    u("REMOVE m.nope", .changes([:])),
    u("REMOVE l[0]", .changes(["l": .l([2, 3, 4, 5])])),
    u("REMOVE l[4]", .changes(["l": .l([1, 2, 3, 4])])),
    u("REMOVE l[1], l[3]", .changes(["l": .l([1, 3, 5])])),
    u("REMOVE l[4], l[0]", .changes(["l": .l([2, 3, 4])])),
    u("REMOVE l[0], l[1], l[2], l[3], l[4]", .changes(["l": .l([])])),
    u("REMOVE l[10]", .changes([:])),
    u("REMOVE l[2], l[10]", .changes(["l": .l([1, 2, 4, 5])])),
    u("REMOVE #s", names: ["#s": "s"], .changes(["s": nil])),
    u("remove a", .changes(["a": nil])),
    u("REMOVE a, a", overlap("[a]", "[a]")),
    u("REMOVE m, m.x", overlap("[m]", "[m, x]")),
    u("REMOVE l[1], l[1]", .error(.contains("Two document paths overlap"))),
    u("REMOVE pk", keyUpdate),
    u("REMOVE :v", [":v": 1], updateSyntax),
    u("REMOVE", updateSyntax),
    u("REMOVE a,", updateSyntax),
    // ADD.
    u("ADD a :v", [":v": 5], .changes(["a": 6])),
    u("ADD a :v", [":v": -1], .changes(["a": 0])),
    u("ADD a :v", [":v": num("0.25")], .changes(["a": num("1.25")])),
    u("ADD c :v", [":v": 5], .changes(["c": 5])),
    u("ADD ss :v", [":v": .ss(["b", "c"])], .changes(["ss": .ss(["a", "b", "c"])])),
    u("ADD ns :v", [":v": nums("3", "1")], .changes(["ns": nums("1", "2", "3")])),
    u("ADD bs :v", [":v": .bs([[0x02]])], .changes(["bs": .bs([[0x01], [0x02]])])),
    u("ADD newset :v", [":v": .ss(["x"])], .changes(["newset": .ss(["x"])])),
    u("ADD a :v, c :w", [":v": 1, ":w": .ns([DecimalNumber(7)])], .changes(["a": 2, "c": .ns([DecimalNumber(7)])])),
    u("ADD #a :v", [":v": 1], names: ["#a": "a"], .changes(["a": 2])),
    u("ADD a :v", [":v": "x"], staticType),
    u("ADD l :v", [":v": .l([1])], staticType),
    u("ADD a :v", [":v": true], staticType),
    u("ADD s :v", [":v": 1], badType),
    u("ADD ss :v", [":v": nums("1")], badType),
    u("ADD ns :v", [":v": .ss(["1"])], badType),
    u("ADD a :v", [":v": .ss(["x"])], badType),
    u("ADD l :v", [":v": 1], badType),
    u("ADD pk :v", [":v": .ss(["x"])], keyUpdate),
    u("ADD a", updateSyntax),
    u("ADD a = :v", [":v": 1], updateSyntax),
    // DELETE.
    u("DELETE ss :v", [":v": .ss(["a"])], .changes(["ss": .ss(["b"])])),
    u("DELETE ss :v", [":v": .ss(["a", "b"])], .changes(["ss": nil])),
    u("DELETE ss :v", [":v": .ss(["a", "b", "zzz"])], .changes(["ss": nil])),
    u("DELETE ss :v", [":v": .ss(["zzz"])], .changes([:])),
    u("DELETE ns :v", [":v": nums("2.0")], .changes(["ns": nums("1")])),
    u("DELETE bs :v", [":v": .bs([[0x01]])], .changes(["bs": nil])),
    u("DELETE nope :v", [":v": .ss(["a"])], .changes([:])),
    u("DELETE ss :v, ns :w", [":v": .ss(["a"]), ":w": nums("1")], .changes(["ss": .ss(["b"]), "ns": nums("2")])),
    u("DELETE a :v", [":v": .ss(["x"])], badType),
    u("DELETE ss :v", [":v": nums("1")], badType),
    u("DELETE ss :v", [":v": "a"], staticType),
    u("DELETE ss :v", [":v": .l(["a"])], staticType),
    // Several clauses in one expression, in any order.
    u(
        "SET a = :v REMOVE s ADD ns :w DELETE ss :x", [":v": 0, ":w": nums("9"), ":x": .ss(["a"])],
        .changes(["a": 0, "s": nil, "ns": nums("1", "2", "9"), "ss": .ss(["b"])])),
    u("REMOVE s SET a = :v", [":v": 0], .changes(["a": 0, "s": nil])),
    u("DELETE ss :x ADD a :v", [":v": 1, ":x": .ss(["b"])], .changes(["a": 2, "ss": .ss(["a"])])),
    u("SET m.x = :v, m.y.z = :w", [":v": 0, ":w": 0], .changes(["m": .m(["x": 0, "y": .m(["z": 0])])])),
    // Clauses used twice.
    u("SET a = :v SET s = :w", [":v": 1, ":w": "x"], twice("SET")),
    u("SET a = :v REMOVE s SET b = :w", [":v": 1, ":w": "x"], twice("SET")),
    u("REMOVE a REMOVE s", twice("REMOVE")),
    u("ADD a :v ADD c :w", [":v": 1, ":w": 1], twice("ADD")),
    u("DELETE ss :v DELETE ns :w", [":v": .ss(["a"]), ":w": nums("1")], twice("DELETE")),
    // Overlapping and conflicting paths.
    u("SET a = :v, a = :w", [":v": 1, ":w": 2], overlap("[a]", "[a]")),
    u("SET m = :v, m.x = :w", [":v": 1, ":w": 2], overlap("[m]", "[m, x]")),
    u("SET m.y = :v, m.y.z = :w", [":v": 1, ":w": 2], overlap("[m, y]", "[m, y, z]")),
    u("SET a = :v REMOVE a", [":v": 1], .error(.contains("Two document paths overlap"))),
    u("ADD a :v SET a = :w", [":v": 1, ":w": 2], .error(.contains("Two document paths overlap"))),
    u("SET l[0] = :v REMOVE l[0]", [":v": 1], .error(.contains("Two document paths overlap"))),
    u("SET l[0] = :v, l[0].x = :w", [":v": 1, ":w": 2], .error(.contains("Two document paths overlap"))),
    u("SET m.x = :v, m[0] = :w", [":v": 1, ":w": 2], conflict),
    u("SET l[0] = :v REMOVE l.x", [":v": 1], conflict),
    // Keys cannot be updated.
    u("SET pk = :v", [":v": "other"], keyUpdate),
    u("SET pk = :v", [":v": "u"], keyUpdate),
    // Names, values, empty and malformed expressions.
    u("SET status = :v", [":v": 1], .error(.exact(iue + "Attribute name is a reserved keyword; reserved keyword: status"))),
    u("REMOVE m.name", .error(.exact(iue + "Attribute name is a reserved keyword; reserved keyword: name"))),
    u(
        "SET a = :v", [":w": 1],
        .error(.exact(iue + "An expression attribute value used in expression is not defined; attribute value: :v"))),
    u(
        "SET #a = :v", [":v": 1],
        .error(.exact(iue + "An expression attribute name used in the document path is not defined; attribute name: #a"))),
    u(
        "SET a = :v", [":v": 1, ":w": 2],
        .error(.exact("Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}"))),
    u(
        "SET a = :v", [":v": 1], names: ["#x": "x"],
        .error(.exact("Value provided in ExpressionAttributeNames unused in expressions: keys: {#x}"))),
    u("", .error(.exact(iue + "The expression can not be empty;"))),
    u("SET", updateSyntax),
    u("UPDATE a = :v", [":v": 1], updateSyntax),
    u("SET a = :v,", [":v": 1], updateSyntax),
    u("SET a :v", [":v": 1], updateSyntax),
    u("SET a = :v AND s = :v", [":v": 1], updateSyntax),
    // Condition and update together.
    u("SET a = a + :one", [":one": 1, ":max": 5], condition: "a < :max", .changes(["a": 2])),
    u("SET a = a + :one", [":one": 1, ":max": 1], condition: "a < :max", .conditionFails),
    u("REMOVE s", condition: "attribute_exists(s)", .changes(["s": nil])),
    u("REMOVE s", [":v": "b"], condition: "contains(ss, :v) AND size(l) = :five", .error(.prefix(
        "Invalid ConditionExpression: An expression attribute value used in expression is not defined"))),
    u("ADD ns :v", [":v": nums("3")], condition: "NOT contains(ns, :three)", .error(.prefix(
        "Invalid ConditionExpression: An expression attribute value used in expression is not defined"))),
    u("SET #x = :v", [":v": 1], names: ["#x": "x", "#y": "y"], condition: "attribute_not_exists(#y)", .changes(["x": 1])),
    u("SET a = :v", [":v": 1], condition: "attribute_not_exists(pk)", .conditionFails),
]

extension ExpressionOperationsTests {
@Test("Update expressions", arguments: updateCases)
func updateExpression(_ testCase: UpdateCase) async throws {
    try await withDatabase { db in
        try await createTable(db, "Upd")
        try await db.putItem(PutItemInput(tableName: "Upd", item: updateBase))
        let input = UpdateItemInput(
            tableName: "Upd", key: ["pk": "u"], updateExpression: testCase.expression,
            conditionExpression: testCase.condition, expressionAttributeNames: testCase.names,
            expressionAttributeValues: testCase.values)
        switch testCase.expected {
        case .changes(let changes):
            try await db.updateItem(input)
            var expected = updateBase
            for (name, value) in changes { expected[name] = value }
            let actual = try await db.getItem(GetItemInput(tableName: "Upd", key: ["pk": "u"])).item
            #expect(actual == expected, "\(testCase.expression)")
        case .error(let match):
            await expectValidationMatching(match, testCase.expression) { try await db.updateItem(input) }
            #expect(try await db.getItem(GetItemInput(tableName: "Upd", key: ["pk": "u"])).item == updateBase)
        case .conditionFails:
            await expectEddyError("ConditionalCheckFailedException", "The conditional request failed") {
                try await db.updateItem(input)
            }
            #expect(try await db.getItem(GetItemInput(tableName: "Upd", key: ["pk": "u"])).item == updateBase)
        }
    }
}
}

struct ReturnValuesCase: Sendable, CustomTestStringConvertible {
    var expression: String
    var values: [String: AttributeValue]?
    var returnValues: ReturnValue
    var expected: Item?
    var testDescription: String { "\(expression) \(returnValues.rawValue)" }
}

let returnValuesCases: [ReturnValuesCase] = [
    .init(expression: "SET m.y.z = :v", values: [":v": "new"], returnValues: .updatedOld, expected: ["m": .m(["y": .m(["z": "deep"])])]),
    .init(expression: "SET m.y.z = :v", values: [":v": "new"], returnValues: .updatedNew, expected: ["m": .m(["y": .m(["z": "new"])])]),
    .init(expression: "SET l[1] = :v", values: [":v": "x"], returnValues: .updatedOld, expected: ["l": .l([2])]),
    .init(expression: "SET l[1] = :v", values: [":v": "x"], returnValues: .updatedNew, expected: ["l": .l(["x"])]),
    .init(expression: "SET a = a + :v", values: [":v": 1], returnValues: .updatedNew, expected: ["a": 2]),
    .init(expression: "SET a = a + :v", values: [":v": 1], returnValues: .updatedOld, expected: ["a": 1]),
    .init(expression: "ADD c :v", values: [":v": 1], returnValues: .updatedOld, expected: nil),
    .init(expression: "ADD c :v", values: [":v": 1], returnValues: .updatedNew, expected: ["c": 1]),
    .init(expression: "REMOVE s", values: nil, returnValues: .updatedOld, expected: ["s": "str"]),
    .init(expression: "REMOVE s", values: nil, returnValues: .updatedNew, expected: nil),
    .init(
        expression: "SET m.x = :v, s = :w", values: [":v": 5, ":w": "t"], returnValues: .updatedNew,
        expected: ["m": .m(["x": 5]), "s": "t"]),
    .init(expression: "SET a = :v", values: [":v": 9], returnValues: .allOld, expected: updateBase),
    .init(
        expression: "SET a = :v", values: [":v": 9], returnValues: .allNew,
        expected: updateBase.merging(["a": 9]) { _, new in new }),
    .init(expression: "SET a = :v", values: [":v": 9], returnValues: .none, expected: nil),
    .init(
        expression: "DELETE ss :v", values: [":v": .ss(["a"])], returnValues: .updatedNew, expected: ["ss": .ss(["b"])]),
]

extension ExpressionOperationsTests {
@Test("UpdateItem ReturnValues with expressions", arguments: returnValuesCases)
func updateReturnValues(_ testCase: ReturnValuesCase) async throws {
    try await withDatabase { db in
        try await createTable(db, "Upd")
        try await db.putItem(PutItemInput(tableName: "Upd", item: updateBase))
        let output = try await db.updateItem(
            UpdateItemInput(
                tableName: "Upd", key: ["pk": "u"], returnValues: testCase.returnValues,
                updateExpression: testCase.expression, expressionAttributeValues: testCase.values))
        #expect(output.attributes == testCase.expected)
    }
}
}

extension ExpressionOperationsTests {
@Test("UpdateItem with an expression creates an absent item")
func updateCreatesItem() async throws {
    try await withDatabase { db in
        try await createTable(db, "Upd")
        try await db.updateItem(
            UpdateItemInput(
                tableName: "Upd", key: ["pk": "fresh"], updateExpression: "SET a = :v ADD c :one, s :set",
                expressionAttributeValues: [":v": "x", ":one": 1, ":set": .ss(["m"])]))
        #expect(
            try await db.getItem(GetItemInput(tableName: "Upd", key: ["pk": "fresh"])).item
                == ["pk": "fresh", "a": "x", "c": 1, "s": .ss(["m"])])
        // A right-hand side naming an attribute of the absent item fails and creates nothing.
        await expectValidation("The provided expression refers to an attribute that does not exist in the item") {
            try await db.updateItem(
                UpdateItemInput(
                    tableName: "Upd", key: ["pk": "fresh2"], updateExpression: "SET a = a + :v",
                    expressionAttributeValues: [":v": 1]))
        }
        #expect(try await db.getItem(GetItemInput(tableName: "Upd", key: ["pk": "fresh2"])).item == nil)
    }
}
}

// MARK: - 3. Projection expressions

enum ProjectionOutcome: Sendable {
    case item(Item)
    case error(MessageMatch)
}

struct ProjectionCase: Sendable, CustomTestStringConvertible {
    var expression: String
    var names: [String: String]?
    var expected: ProjectionOutcome
    var testDescription: String { expression }
}

private func p(_ expression: String, names: [String: String] = [:], _ expected: ProjectionOutcome) -> ProjectionCase {
    ProjectionCase(expression: expression, names: names.isEmpty ? nil : names, expected: expected)
}

private let ipe = "Invalid ProjectionExpression: "

let projectionCases: [ProjectionCase] = [
    p("s", .item(["s": "hello world"])),
    p("s, n", .item(["s": "hello world", "n": 42])),
    p(" s ,  n ", .item(["s": "hello world", "n": 42])),
    p("pk", .item(["pk": "item"])),
    p("ss, nul, t", .item(["ss": .ss(["apple", "banana", "cherry"]), "nul": .null, "t": true])),
    p("m.age", .item(["m": .m(["age": 30])])),
    p("m.inr.deep", .item(["m": .m(["inr": .m(["deep": "d"])])])),
    p("m.inr", .item(["m": .m(["inr": .m(["deep": "d", "lst": .l([10, 20, 30])])])])),
    p("m.age, m.tags", .item(["m": .m(["age": 30, "tags": .ss(["red"])])])),
    p("m.age, m.inr.deep", .item(["m": .m(["age": 30, "inr": .m(["deep": "d"])])])),
    p("m.inr.deep, m.age, s", .item(["s": "hello world", "m": .m(["age": 30, "inr": .m(["deep": "d"])])])),
    p("l[0]", .item(["l": .l(["a"])])),
    p("l[2], l[0]", .item(["l": .l(["a", .l(["x", "y"])])])),
    p("l[3], l[1]", .item(["l": .l([1, .m(["k": "v"])])])),
    p("l[2][1]", .item(["l": .l([.l(["y"])])])),
    p("l[3].k", .item(["l": .l([.m(["k": "v"])])])),
    p("m.inr.lst[2], m.inr.lst[0]", .item(["m": .m(["inr": .m(["lst": .l([10, 30])])])])),
    p("m.inr.lst[1], m.inr.deep", .item(["m": .m(["inr": .m(["deep": "d", "lst": .l([20])])])])),
    p("s, l[10]", .item(["s": "hello world"])),
    p("absent, s", .item(["s": "hello world"])),
    p("m.nope, n", .item(["n": 42])),
    p("s.x, n", .item(["n": 42])),
    p("l[0][0], n", .item(["n": 42])),
    p("m[0], n", .item(["n": 42])),
    p("#st", names: ["#st": "status"], .item(["status": "active"])),
    p("#m.#n", names: ["#m": "m", "#n": "name"], .item(["m": .m(["name": "Ann"])])),
    p("m.#n, #d", names: ["#n": "name", "#d": "data"], .item(["m": .m(["name": "Ann"]), "data": 7])),
    p("#dot", names: ["#dot": "a.b"], .item(["a.b": "dotted"])),
    p("a.b, n", .item(["n": 42])),
    p("status", .error(.exact(ipe + "Attribute name is a reserved keyword; reserved keyword: status"))),
    p("m.name", .error(.exact(ipe + "Attribute name is a reserved keyword; reserved keyword: name"))),
    p(
        "s, s",
        .error(
            .exact(
                ipe + "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [s], path two: [s]"))),
    p("m, m.age", .error(.contains("Two document paths overlap"))),
    p("m.inr.lst[0], m.inr", .error(.contains("Two document paths overlap"))),
    p("l[0], l.x", .error(.contains("Two document paths conflict"))),
    p(
        "#nope",
        .error(.exact(ipe + "An expression attribute name used in the document path is not defined; attribute name: #nope"))),
    p("s", names: ["#x": "x"], .error(.exact("Value provided in ExpressionAttributeNames unused in expressions: keys: {#x}"))),
    p("", .error(.exact(ipe + "The expression can not be empty;"))),
    p("s,", .error(.prefix(ipe + "Syntax error;"))),
    p(", s", .error(.prefix(ipe + "Syntax error;"))),
    p("s n", .error(.prefix(ipe + "Syntax error;"))),
    p("s = n", .error(.prefix(ipe + "Syntax error;"))),
    p("l[]", .error(.prefix(ipe + "Syntax error;"))),
    p(":v", .error(.prefix(ipe))),
]

extension ExpressionOperationsTests {
@Test("GetItem and BatchGetItem ProjectionExpression", arguments: projectionCases)
func projection(_ testCase: ProjectionCase) async throws {
    try await withDatabase { db in
        try await seedRich(db)
        let get = GetItemInput(
            tableName: "Rich", key: ["pk": "item"], projectionExpression: testCase.expression,
            expressionAttributeNames: testCase.names)
        let batch = BatchGetItemInput(requestItems: [
            "Rich": KeysAndAttributes(
                keys: [["pk": "item"]], projectionExpression: testCase.expression,
                expressionAttributeNames: testCase.names)
        ])
        switch testCase.expected {
        case .item(let item):
            #expect(try await db.getItem(get).item == item, "GetItem \(testCase.expression)")
            #expect(try await db.batchGetItem(batch).responses["Rich"] == [item], "BatchGetItem \(testCase.expression)")
        case .error(let match):
            await expectValidationMatching(match, "GetItem " + testCase.expression) { _ = try await db.getItem(get) }
            await expectValidationMatching(match, "BatchGetItem " + testCase.expression) {
                _ = try await db.batchGetItem(batch)
            }
        }
    }
}
}

// MARK: - 4. Query and Scan

/// Table `Qry` (pk S, sk S): six items in partition `p`, two in `q`.
private let queryItems: [Item] = [
    ["pk": "p", "sk": "2024-01", "n": 1, "tag": "old"],
    ["pk": "p", "sk": "2024-02", "n": 2, "tag": "old"],
    ["pk": "p", "sk": "2024-03", "n": 3],
    ["pk": "p", "sk": "2025-01", "n": 4, "tag": "new"],
    ["pk": "p", "sk": "2025-02", "n": 5, "tag": "new", "extra": .m(["deep": 1])],
    ["pk": "p", "sk": "x", "n": 6],
    ["pk": "q", "sk": "2024-01", "n": 10, "tag": "old"],
    ["pk": "q", "sk": "2024-02", "n": 20],
]

private func seedQuery(_ db: Database) async throws {
    try await createTable(db, "Qry", hash: "pk", .s, range: "sk", .s)
    for item in queryItems { try await db.putItem(PutItemInput(tableName: "Qry", item: item)) }
}

enum QueryOutcome: Sendable {
    /// The sort keys returned, in order, with Count and ScannedCount.
    case keys([String], count: Int, scanned: Int)
    case error(MessageMatch)
}

struct QueryCase: Sendable, CustomTestStringConvertible {
    var keyCondition: String
    var filter: String?
    var names: [String: String]?
    var values: [String: AttributeValue]?
    var limit: Int?
    var forward: Bool?
    var expected: QueryOutcome
    var testDescription: String { keyCondition + (filter.map { " FILTER " + $0 } ?? "") + (limit.map { " LIMIT \($0)" } ?? "") }
}

private func q(
    _ keyCondition: String, _ values: [String: AttributeValue], filter: String? = nil, names: [String: String] = [:],
    limit: Int? = nil, forward: Bool? = nil, _ expected: QueryOutcome
) -> QueryCase {
    QueryCase(
        keyCondition: keyCondition, filter: filter, names: names.isEmpty ? nil : names,
        values: values.isEmpty ? nil : values, limit: limit, forward: forward, expected: expected)
}

private func keys(_ keys: String...) -> QueryOutcome { .keys(keys, count: keys.count, scanned: keys.count) }
private let allP = ["2024-01", "2024-02", "2024-03", "2025-01", "2025-02", "x"]
private let ikce = "Invalid KeyConditionExpression: "

let queryCases: [QueryCase] = [
    q("pk = :p", [":p": "p"], .keys(allP, count: 6, scanned: 6)),
    q("pk = :p", [":p": "p"], forward: false, .keys(allP.reversed(), count: 6, scanned: 6)),
    q("pk = :p", [":p": "q"], keys("2024-01", "2024-02")),
    q("pk = :p", [":p": "none"], keys()),
    q("#k = :p", [":p": "q"], names: ["#k": "pk"], keys("2024-01", "2024-02")),
    q("pk = :p AND sk = :s", [":p": "p", ":s": "2024-02"], keys("2024-02")),
    q("pk = :p AND sk = :s", [":p": "p", ":s": "2024"], keys()),
    q("sk = :s AND pk = :p", [":p": "p", ":s": "x"], keys("x")),
    q("pk = :p AND sk < :s", [":p": "p", ":s": "2024-03"], keys("2024-01", "2024-02")),
    q("pk = :p AND sk <= :s", [":p": "p", ":s": "2024-03"], keys("2024-01", "2024-02", "2024-03")),
    q("pk = :p AND sk > :s", [":p": "p", ":s": "2025-01"], keys("2025-02", "x")),
    q("pk = :p AND sk >= :s", [":p": "p", ":s": "2025-01"], keys("2025-01", "2025-02", "x")),
    q("pk = :p AND sk > :s", [":p": "p", ":s": "x"], keys()),
    q("pk = :p AND :s < sk", [":p": "p", ":s": "2025-01"], keys("2025-02", "x")),
    q("pk = :p AND sk BETWEEN :a AND :b", [":p": "p", ":a": "2024-02", ":b": "2025-01"], keys("2024-02", "2024-03", "2025-01")),
    q("pk = :p AND sk BETWEEN :a AND :b", [":p": "p", ":a": "2024-02", ":b": "2024-02"], keys("2024-02")),
    q("pk = :p AND begins_with(sk, :s)", [":p": "p", ":s": "2024"], keys("2024-01", "2024-02", "2024-03")),
    q("pk = :p AND begins_with(sk, :s)", [":p": "p", ":s": "2025-0"], keys("2025-01", "2025-02")),
    q("pk = :p AND begins_with(sk, :s)", [":p": "p", ":s": "2026"], keys()),
    q("pk = :p AND begins_with(#s, :s)", [":p": "p", ":s": "x"], names: ["#s": "sk"], keys("x")),
    q("pk = :p and sk > :s", [":p": "p", ":s": "2025-01"], keys("2025-02", "x")),
    q("pk = :p AND sk >= :s", [":p": "p", ":s": "2024-02"], limit: 2, keys("2024-02", "2024-03")),
    // Refused key conditions.
    q("pk = :p OR sk = :s", [":p": "p", ":s": "x"], .error(.prefix("Invalid operator used in KeyConditionExpression: OR"))),
    q("NOT pk = :p", [":p": "p"], .error(.prefix("Invalid operator used in KeyConditionExpression: NOT"))),
    q("pk IN (:p)", [":p": "p"], .error(.prefix("Invalid operator used in KeyConditionExpression: IN"))),
    q("pk = :p AND sk <> :s", [":p": "p", ":s": "x"], .error(.any)),
    q("pk = :p AND contains(sk, :s)", [":p": "p", ":s": "x"], .error(.any)),
    q("pk = :p AND attribute_exists(sk)", [":p": "p"], .error(.any)),
    q("pk = :p AND size(sk) = :n", [":p": "p", ":n": 1], .error(.any)),
    q("pk = :p AND n = :n", [":p": "p", ":n": 1], .error(.any)),
    q("pk = :p AND sk > :a AND sk < :b", [":p": "p", ":a": "a", ":b": "b"],
      .error(.exact("KeyConditionExpressions must only contain one condition per key"))),
    q("pk = :p AND sk > :a AND n < :b", [":p": "p", ":a": "a", ":b": 1],
      .error(.exact("Conditions can be of length 1 or 2 only"))),
    q("pk = :p AND pk = :q", [":p": "p", ":q": "q"], .error(.prefix("KeyConditionExpressions must only contain one condition per key"))),
    q("sk = :s", [":s": "x"], .error(.exact("Query condition missed key schema element: pk"))),
    q("pk < :p", [":p": "p"], .error(.any)),
    q("begins_with(pk, :p)", [":p": "p"], .error(.any)),
    q("pk = :p AND sk = :s", [":p": "p", ":s": 1],
      .error(.exact("One or more parameter values were invalid: Condition parameter type does not match schema type"))),
    q("pk = :p AND begins_with(sk, :s)", [":p": "p", ":s": 1], .error(.any)),
    q("pk = :p AND sk BETWEEN :a AND :b", [":p": "p", ":a": "b", ":b": "a"],
      .error(.prefix(ikce + "The BETWEEN operator requires upper bound to be greater than or equal to lower bound"))),
    q("pk = :p AND", [":p": "p"], .error(.prefix(ikce + "Syntax error;"))),
    q("pk = :nope AND sk = :s", [":s": "x"], .error(.exact(ikce + "An expression attribute value used in expression is not defined; attribute value: :nope"))),
    q("pk = :p", [":p": "p", ":s": "x"], .error(.exact("Value provided in ExpressionAttributeValues unused in expressions: keys: {:s}"))),
    q("", [:], .error(.prefix(ikce + "The expression can not be empty;"))),
    // FilterExpression: Count counts matches, ScannedCount counts reads; Limit bounds reads.
    q("pk = :p", [":p": "p", ":x": 3], filter: "n > :x", .keys(["2025-01", "2025-02", "x"], count: 3, scanned: 6)),
    q("pk = :p", [":p": "p", ":x": 3], filter: "n > :x", limit: 4, .keys(["2025-01"], count: 1, scanned: 4)),
    q("pk = :p", [":p": "p", ":x": 3], filter: "n > :x", limit: 2, .keys([], count: 0, scanned: 2)),
    q("pk = :p", [":p": "p"], filter: "attribute_exists(tag)", .keys(["2024-01", "2024-02", "2025-01", "2025-02"], count: 4, scanned: 6)),
    q("pk = :p", [":p": "p"], filter: "attribute_not_exists(tag)", .keys(["2024-03", "x"], count: 2, scanned: 6)),
    q("pk = :p", [":p": "p", ":t": "new"], filter: "tag = :t", .keys(["2025-01", "2025-02"], count: 2, scanned: 6)),
    q("pk = :p", [":p": "p", ":t": "new"], filter: "tag <> :t", .keys(["2024-01", "2024-02", "2024-03", "x"], count: 4, scanned: 6)),
    q("pk = :p", [":p": "p", ":t": "o"], filter: "begins_with(tag, :t) OR extra.deep = :t",
      .keys(["2024-01", "2024-02"], count: 2, scanned: 6)),
    q("pk = :p", [":p": "p", ":one": 1], filter: "extra.deep = :one", .keys(["2025-02"], count: 1, scanned: 6)),
    q("pk = :p AND sk > :s", [":p": "p", ":s": "2024-02", ":x": 4], filter: "n <= :x", .keys(["2024-03", "2025-01"], count: 2, scanned: 4)),
    q("pk = :p", [":p": "p", ":a": 2, ":b": 5], filter: "n BETWEEN :a AND :b AND NOT n IN (:a, :b)",
      .keys(["2024-03", "2025-01"], count: 2, scanned: 6)),
    q("pk = :p", [":p": "p", ":s": "x"], filter: "sk = :s",
      .error(.exact("Filter Expression can only contain non-primary key attributes: Primary key attribute: sk"))),
    q("pk = :p", [":p": "p"], filter: "pk = :p",
      .error(.exact("Filter Expression can only contain non-primary key attributes: Primary key attribute: pk"))),
    q("pk = :p", [":p": "p", ":s": "x"], filter: "n > :p OR begins_with(sk, :s)",
      .error(.exact("Filter Expression can only contain non-primary key attributes: Primary key attribute: sk"))),
    q("pk = :p", [":p": "p"], filter: "n >", .error(.prefix("Invalid FilterExpression: Syntax error;"))),
    q("pk = :p", [":p": "p", ":v": 1], filter: "data = :v",
      .error(.exact("Invalid FilterExpression: Attribute name is a reserved keyword; reserved keyword: data"))),
    q("pk = :p", [":p": "p"], filter: "n = :nope",
      .error(.exact("Invalid FilterExpression: An expression attribute value used in expression is not defined; attribute value: :nope"))),
]

extension ExpressionOperationsTests {
@Test("Query with KeyConditionExpression and FilterExpression", arguments: queryCases)
func queryExpression(_ testCase: QueryCase) async throws {
    try await withDatabase { db in
        try await seedQuery(db)
        let input = QueryInput(
            tableName: "Qry", keyConditionExpression: testCase.keyCondition, scanIndexForward: testCase.forward,
            limit: testCase.limit, filterExpression: testCase.filter, expressionAttributeNames: testCase.names,
            expressionAttributeValues: testCase.values)
        switch testCase.expected {
        case .keys(let expected, let count, let scanned):
            let output = try await db.query(input)
            let got = (output.items ?? []).map { item -> String in
                if case .s(let sk) = item["sk"] { return sk }
                return "?"
            }
            #expect(got == expected, "\(testCase.testDescription)")
            #expect(output.count == count, "\(testCase.testDescription)")
            #expect(output.scannedCount == scanned, "\(testCase.testDescription)")
            // Returned items are whole items of the table.
            for item in output.items ?? [] { #expect(queryItems.contains(item)) }
        case .error(let match):
            await expectValidationMatching(match, testCase.testDescription) { _ = try await db.query(input) }
        }
    }
}
}

extension ExpressionOperationsTests {
@Test("Query refuses both or neither of KeyConditions and KeyConditionExpression")
func queryKeyConditionParameters() async throws {
    try await withDatabase { db in
        try await seedQuery(db)
        await expectValidation(
            "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {KeyConditions} Expression parameters: {KeyConditionExpression}"
        ) {
            _ = try await db.query(
                QueryInput(
                    tableName: "Qry", keyConditions: ["pk": Condition(.eq, ["p"])], keyConditionExpression: "pk = :p",
                    expressionAttributeValues: [":p": "p"]))
        }
        await expectValidation("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.") {
            _ = try await db.query(QueryInput(tableName: "Qry"))
        }
    }
}
}

extension ExpressionOperationsTests {
@Test("Query and Scan with ProjectionExpression and Select COUNT")
func queryScanProjection() async throws {
    try await withDatabase { db in
        try await seedQuery(db)
        let projected = try await db.query(
            QueryInput(
                tableName: "Qry", keyConditionExpression: "pk = :p AND begins_with(sk, :y)",
                filterExpression: "n > :one", projectionExpression: "sk, extra.deep, #t",
                expressionAttributeNames: ["#t": "tag"], expressionAttributeValues: [":p": "p", ":y": "2025", ":one": 1]))
        #expect(
            projected.items == [
                ["sk": "2025-01", "tag": "new"], ["sk": "2025-02", "tag": "new", "extra": .m(["deep": 1])],
            ])
        let counted = try await db.query(
            QueryInput(
                tableName: "Qry", keyConditionExpression: "pk = :p", select: .count, filterExpression: "n < :x",
                expressionAttributeValues: [":p": "p", ":x": 3]))
        #expect(counted.items == nil)
        #expect(counted.count == 2)
        #expect(counted.scannedCount == 6)
        let scanned = try await db.scan(ScanInput(tableName: "Qry", projectionExpression: "n"))
        #expect(Set(scanned.items ?? []) == Set(queryItems.map { ["n": $0["n"]!] }))
    }
}
}

struct ScanCase: Sendable, CustomTestStringConvertible {
    var filter: String
    var names: [String: String]?
    var values: [String: AttributeValue]?
    var limit: Int?
    /// The `n` values returned (any order), with Count and ScannedCount; or an error.
    var expected: Result<([Int], Int, Int), MessageMatchError>
    var testDescription: String { filter + (limit.map { " LIMIT \($0)" } ?? "") }
}

struct MessageMatchError: Error, Sendable { var match: MessageMatch }

private func sc(
    _ filter: String, _ values: [String: AttributeValue] = [:], names: [String: String] = [:], limit: Int? = nil,
    _ ns: [Int], count: Int? = nil, scanned: Int = 8
) -> ScanCase {
    ScanCase(
        filter: filter, names: names.isEmpty ? nil : names, values: values.isEmpty ? nil : values, limit: limit,
        expected: .success((ns, count ?? ns.count, scanned)))
}
private func scErr(_ filter: String, _ values: [String: AttributeValue] = [:], names: [String: String] = [:], _ match: MessageMatch)
    -> ScanCase
{
    ScanCase(
        filter: filter, names: names.isEmpty ? nil : names, values: values.isEmpty ? nil : values, limit: nil,
        expected: .failure(MessageMatchError(match: match)))
}

private func sc(_ filter: String, _ ns: [Int]) -> ScanCase { sc(filter, [:], ns) }
private func scErr(_ filter: String, _ match: MessageMatch) -> ScanCase { scErr(filter, [:], match) }

let scanCases: [ScanCase] = [
    sc("n > :x", [":x": 4], [5, 6, 10, 20]),
    sc("n >= :x", [":x": 10], [10, 20]),
    sc("pk = :p", [":p": "q"], [10, 20]),
    sc("sk = :s", [":s": "2024-01"], [1, 10]),
    sc("begins_with(sk, :s) AND n < :x", [":s": "2025", ":x": 5], [4]),
    sc("tag = :t", [":t": "old"], [1, 2, 10]),
    sc("attribute_not_exists(tag)", [3, 6, 20]),
    sc("attribute_exists(extra.deep)", [5]),
    sc("#t IN (:a, :b)", [":a": "old", ":b": "new"], names: ["#t": "tag"], [1, 2, 4, 5, 10]),
    sc("n < :x", [":x": 0], []),
    sc("size(sk) = :one", [":one": 1], [6]),
    sc("contains(sk, :s)", [":s": "-0"], [1, 2, 3, 4, 5, 10, 20]),
    scErr("n >", .prefix("Invalid FilterExpression: Syntax error;")),
    scErr("n = :a", [":a": 1, ":z": 2], .exact("Value provided in ExpressionAttributeValues unused in expressions: keys: {:z}")),
    scErr("m.name = :a", [":a": 1], .exact("Invalid FilterExpression: Attribute name is a reserved keyword; reserved keyword: name")),
    scErr("", .exact("Invalid FilterExpression: The expression can not be empty;")),
    scErr("#x = :a", [":a": 1], .exact("Invalid FilterExpression: An expression attribute name used in the document path is not defined; attribute name: #x")),
]

extension ExpressionOperationsTests {
@Test("Scan with FilterExpression", arguments: scanCases)
func scanFilter(_ testCase: ScanCase) async throws {
    try await withDatabase { db in
        try await seedQuery(db)
        let input = ScanInput(
            tableName: "Qry", limit: testCase.limit, filterExpression: testCase.filter,
            expressionAttributeNames: testCase.names, expressionAttributeValues: testCase.values)
        switch testCase.expected {
        case .success(let (ns, count, scanned)):
            let output = try await db.scan(input)
            let got = (output.items ?? []).compactMap { $0["n"] }
            #expect(got.count == ns.count, "\(testCase.filter)")
            #expect(Set(got) == Set(ns.map { AttributeValue.n(DecimalNumber($0)) }), "\(testCase.filter)")
            #expect(output.count == count)
            #expect(output.scannedCount == scanned)
        case .failure(let failure):
            await expectValidationMatching(failure.match, testCase.filter) { _ = try await db.scan(input) }
        }
    }
}
}

extension ExpressionOperationsTests {
@Test("Scan Limit counts scanned items, not matches")
func scanLimitWithFilter() async throws {
    try await withDatabase { db in
        try await seedQuery(db)
        var seen: [Item] = []
        var start: Item? = nil
        var pages = 0
        repeat {
            let page = try await db.scan(
                ScanInput(
                    tableName: "Qry", limit: 3, exclusiveStartKey: start, filterExpression: "n > :x",
                    expressionAttributeValues: [":x": 4]))
            #expect(page.scannedCount <= 3)
            #expect(page.count == (page.items ?? []).count)
            seen += page.items ?? []
            start = page.lastEvaluatedKey
            pages += 1
        } while start != nil && pages < 10
        #expect(pages >= 3)
        #expect(Set(seen.compactMap { $0["n"] }) == Set([5, 6, 10, 20].map { AttributeValue.n(DecimalNumber($0)) }))
    }
}
}

// MARK: - 5. Mixing expression and non-expression parameters

extension ExpressionOperationsTests {
@Test("Expression and non-expression parameters do not mix")
func mixingParameters() async throws {
    try await withDatabase { db in
        try await seedRich(db)
        try await seedQuery(db)
        let both =
            "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}"
        await expectValidation(both) {
            _ = try await db.getItem(
                GetItemInput(tableName: "Rich", key: ["pk": "item"], attributesToGet: ["s"], projectionExpression: "s"))
        }
        // A Query always carries a key condition too, so the lists name more parameters; check the parts.
        let queryError = await expectEddyError("ValidationException") {
            _ = try await db.query(
                QueryInput(
                    tableName: "Qry", keyConditionExpression: "pk = :p", attributesToGet: ["n"],
                    projectionExpression: "n", expressionAttributeValues: [":p": "p"]))
        }
        let queryMessage = queryError?.message ?? ""
        #expect(queryMessage.hasPrefix("Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {"), "\(queryMessage)")
        #expect(queryMessage.contains("ProjectionExpression") && queryMessage.contains("KeyConditionExpression"), "\(queryMessage)")
        await expectValidation(both) {
            _ = try await db.scan(ScanInput(tableName: "Qry", attributesToGet: ["n"], projectionExpression: "n"))
        }
        await expectValidation(both) {
            _ = try await db.batchGetItem(
                BatchGetItemInput(requestItems: [
                    "Rich": KeysAndAttributes(keys: [["pk": "item"]], attributesToGet: ["s"], projectionExpression: "s")
                ]))
        }
        await expectValidation(
            "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributeUpdates} Expression parameters: {UpdateExpression}"
        ) {
            _ = try await db.updateItem(
                UpdateItemInput(
                    tableName: "Rich", key: ["pk": "item"], attributeUpdates: ["n": AttributeValueUpdate(value: 1)],
                    updateExpression: "SET n = :v", expressionAttributeValues: [":v": 1]))
        }
        let namesAlone = "ExpressionAttributeNames can only be specified when using expressions"
        let valuesAlone = "ExpressionAttributeValues can only be specified when using expressions"
        let noCondition = valuesAlone + ": ConditionExpression is null"
        let noFilter = valuesAlone + ": FilterExpression is null"
        let noQueryExpression = valuesAlone + ": FilterExpression and KeyConditionExpression are null"
        let noUpdateExpression = valuesAlone + ": UpdateExpression and ConditionExpression are null"
        await expectValidation(namesAlone) {
            _ = try await db.getItem(GetItemInput(tableName: "Rich", key: ["pk": "item"], expressionAttributeNames: ["#s": "s"]))
        }
        await expectValidation(namesAlone) {
            _ = try await db.putItem(PutItemInput(tableName: "Rich", item: ["pk": "x"], expressionAttributeNames: ["#s": "s"]))
        }
        await expectValidation(noCondition) {
            _ = try await db.putItem(PutItemInput(tableName: "Rich", item: ["pk": "x"], expressionAttributeValues: [":v": 1]))
        }
        await expectValidation(noCondition) {
            _ = try await db.deleteItem(DeleteItemInput(tableName: "Rich", key: ["pk": "item"], expressionAttributeValues: [":v": 1]))
        }
        await expectValidation(noFilter) {
            _ = try await db.scan(ScanInput(tableName: "Qry", expressionAttributeValues: [":v": 1]))
        }
        await expectValidation(noQueryExpression) {
            _ = try await db.query(
                QueryInput(
                    tableName: "Qry", keyConditions: ["pk": Condition(.eq, ["p"])], expressionAttributeValues: [":v": 1]))
        }
        // A projection uses names but never values.
        await expectValidation(noFilter) {
            _ = try await db.scan(ScanInput(tableName: "Qry", projectionExpression: "n", expressionAttributeValues: [":v": 1]))
        }
        await expectValidation(noUpdateExpression) {
            _ = try await db.updateItem(
                UpdateItemInput(
                    tableName: "Rich", key: ["pk": "item"], attributeUpdates: ["n": AttributeValueUpdate(value: 1)],
                    expressionAttributeValues: [":v": 1]))
        }
        await expectValidation(namesAlone) {
            _ = try await db.updateItem(
                UpdateItemInput(
                    tableName: "Rich", key: ["pk": "item"], attributeUpdates: ["n": AttributeValueUpdate(value: 1)],
                    expressionAttributeNames: ["#n": "n"]))
        }
        await expectValidation(namesAlone) {
            _ = try await db.scan(ScanInput(tableName: "Qry", expressionAttributeNames: ["#n": "n"]))
        }
        // Nothing was written by the refused requests.
        #expect(try await db.getItem(GetItemInput(tableName: "Rich", key: ["pk": "x"])).item == nil)
        #expect(try await currentRich(db) == richItem)
    }
}
}

// MARK: - 6. Concurrency

extension ExpressionOperationsTests {
@Test("Concurrent conditional increments never pass a condition on a stale item")
func concurrentConditionalIncrements() async throws {
    try await withDatabase { db in
        try await createTable(db, "Ctr")
        try await db.putItem(PutItemInput(tableName: "Ctr", item: ["pk": "counter", "v": 0]))
        let max = 150
        let outcomes = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for _ in 0..<20 {
                group.addTask {
                    var succeeded = 0
                    var failed = 0
                    for _ in 0..<10 {
                        do {
                            try await db.updateItem(
                                UpdateItemInput(
                                    tableName: "Ctr", key: ["pk": "counter"], updateExpression: "SET v = v + :one",
                                    conditionExpression: "v < :max",
                                    expressionAttributeValues: [":one": 1, ":max": .n(DecimalNumber(max))]))
                            succeeded += 1
                        } catch let error as EddyError where error.errorType == "ConditionalCheckFailedException" {
                            failed += 1
                        }
                    }
                    return (succeeded, failed)
                }
            }
            var total = (0, 0)
            for try await (s, f) in group { total = (total.0 + s, total.1 + f) }
            return total
        }
        // 200 attempts, exactly `max` may pass; a stale read would push v past max.
        #expect(outcomes.0 == max)
        #expect(outcomes.1 == 200 - max)
        #expect(
            try await db.getItem(GetItemInput(tableName: "Ctr", key: ["pk": "counter"])).item
                == ["pk": "counter", "v": .n(DecimalNumber(max))])

        // Unbounded: every one of the 200 increments lands.
        try await db.putItem(PutItemInput(tableName: "Ctr", item: ["pk": "open", "v": 0]))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    for _ in 0..<10 {
                        try await db.updateItem(
                            UpdateItemInput(
                                tableName: "Ctr", key: ["pk": "open"], updateExpression: "SET v = v + :one",
                                conditionExpression: "v < :max",
                                expressionAttributeValues: [":one": 1, ":max": 1000]))
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(
            try await db.getItem(GetItemInput(tableName: "Ctr", key: ["pk": "open"])).item == ["pk": "open", "v": 200])
    }
}
}
