/// One compiled filter pattern of a trigger mapping, with the rule syntax of AWS Lambda's event filtering
/// (which is Amazon EventBridge's event-pattern syntax).
///
/// A pattern is a JSON object shaped like the record it matches. A member whose value is an object
/// descends into the record; a member whose value is an array lists the rules for that field:
///
/// ```swift
/// let filter = try EventFilter(pattern: """
///     {"eventName": ["INSERT", "MODIFY"],
///      "dynamodb": {"NewImage": {"status": {"S": [{"anything-but": ["deleted"]}]},
///                                "price": {"N": [{"numeric": [">", 10, "<=", 20]}]}}}}
///     """)
/// filter.matches(try JSONValue(parsing: #"{"eventName": "INSERT", "dynamodb": {}}"#))
/// ```
///
/// - Every member of a pattern must match (AND); `"$or": [pattern, pattern, ...]` matches when any of its
///   patterns does.
/// - A field matches when any of its rules does (OR). When the record's field is an array, a rule matches
///   when it matches any element of the array.
/// - The rules: `null`, a string (`""` is the empty string), a number or a boolean match that exact value;
///   `{"equals-ignore-case": "s"}`; `{"prefix": "s"}` and `{"suffix": "s"}` (each also as
///   `{"prefix": {"equals-ignore-case": "s"}}`); `{"anything-but": value or [values]}`, also with
///   `{"prefix": "s"}`, `{"suffix": "s"}` or `{"equals-ignore-case": "s" or ["s"]}` inside;
///   `{"numeric": ["=", 100]}` or one or two bounds such as `[">", 10, "<=", 20]`; `{"exists": true}` and
///   `{"exists": false}`.
/// - `exists` looks at leaf values only (as Lambda documents for DynamoDB records): a field holding an
///   object, such as a map attribute's `{"M": {...}}`, does not exist for it. A missing field matches only
///   `{"exists": false}`.
/// - `numeric` compares JSON numbers, and also the strings under a DynamoDB `N` or `NS` type key, so
///   `{"price": {"N": [{"numeric": [">", 10]}]}}` works on DynamoDB-typed images as in Lambda.
///
/// Exact matching of numbers compares values (`300` equals `300.0`), where EventBridge compares their text.
struct EventFilter: Sendable, Equatable {
    /// Lambda's limit on the length of one pattern, in characters.
    static let maximumPatternLength = 4096

    /// The pattern's JSON text, as given.
    let pattern: String
    /// The compiled pattern.
    let root: PatternObject

    /// Compiles `pattern`; throws a `ValidationException` when it is longer than 4096 characters, not JSON,
    /// not an object, or uses a rule Lambda does not know.
    init(pattern: String) throws(EddyError) {
        guard pattern.count <= Self.maximumPatternLength else {
            throw .validation(
                "Invalid filter pattern definition: the pattern is \(pattern.count) characters long, "
                    + "the maximum is \(Self.maximumPatternLength)")
        }
        let json: JSONValue
        do {
            json = try JSONValue(parsing: pattern)
        } catch {
            throw .validation("Invalid filter pattern definition: the pattern is not valid JSON")
        }
        guard case .object(let members) = json else {
            throw .validation("Invalid filter pattern definition: the pattern must be a JSON object")
        }
        self.pattern = pattern
        root = try PatternCompiler.object(members, path: "")
    }

    /// Whether `event` (a record as Lambda sees it, such as a ``StreamRecord`` turned into JSON) matches.
    func matches(_ event: JSONValue) -> Bool {
        root.matches(event)
    }

    static func == (lhs: EventFilter, rhs: EventFilter) -> Bool { lhs.pattern == rhs.pattern }
}

// MARK: - The compiled pattern

/// A pattern object: every field must match, and one pattern of every `$or` group.
struct PatternObject: Sendable {
    var fields: [PatternField] = []
    var alternatives: [[PatternObject]] = []

    /// Matches the record value at this level; nil when the record has nothing there.
    func matches(_ value: JSONValue?) -> Bool {
        if case .array(let elements)? = value, !elements.isEmpty {
            return elements.contains { matchesOne($0) }
        }
        return matchesOne(value)
    }

    private func matchesOne(_ value: JSONValue?) -> Bool {
        fields.allSatisfy { $0.matches(value?[$0.name]) }
            && alternatives.allSatisfy { group in group.contains { $0.matches(value) } }
    }
}

/// One member of a pattern object: a nested pattern or the rules of a leaf field.
struct PatternField: Sendable {
    indirect enum Body: Sendable {
        case nested(PatternObject)
        case rules([FilterRule])
    }

    var name: String
    var body: Body

    /// Matches the record's value for this member; nil when the record has no such member.
    func matches(_ value: JSONValue?) -> Bool {
        switch body {
        case .nested(let object):
            return object.matches(value)
        case .rules(let rules):
            let leaves: [JSONValue]
            switch value {
            case nil, .object?: leaves = []
            case .array(let elements)?: leaves = elements.filter(\.isLeaf)
            case let leaf?: leaves = [leaf]
            }
            // DynamoDB JSON writes numbers as strings under the type key `N` (and in `NS` sets).
            let numericStrings = name == "N" || name == "NS"
            return rules.contains { rule in
                if case .exists(let exists) = rule { return leaves.isEmpty != exists }
                return leaves.contains { rule.matches($0, numericStrings: numericStrings) }
            }
        }
    }
}

/// One rule of a leaf field.
enum FilterRule: Sendable {
    /// Exactly this scalar: `null`, a string, a number or a boolean.
    case equals(JSONValue)
    /// Any of these strings, compared without case (kept lowercased).
    case equalsIgnoreCase([String])
    case prefix(String, ignoringCase: Bool)
    case suffix(String, ignoringCase: Bool)
    /// Matches when `rule` does not; `rule` is never `anythingBut` or `exists`.
    indirect case anythingBut(FilterRule)
    /// Any of these scalars (the list of an `anything-but`).
    case oneOf([JSONValue])
    case numeric([NumericBound])
    case exists(Bool)

    /// Whether the leaf `value` matches; `numericStrings` lets numeric rules read numeric strings.
    func matches(_ value: JSONValue, numericStrings: Bool) -> Bool {
        switch self {
        case .equals(let expected):
            return value == expected
        case .equalsIgnoreCase(let expected):
            guard case .string(let text) = value else { return false }
            return expected.contains(text.lowercased())
        case .prefix(let prefix, let ignoringCase):
            guard case .string(let text) = value else { return false }
            return ignoringCase ? text.lowercased().hasPrefix(prefix.lowercased()) : text.hasPrefix(prefix)
        case .suffix(let suffix, let ignoringCase):
            guard case .string(let text) = value else { return false }
            return ignoringCase ? text.lowercased().hasSuffix(suffix.lowercased()) : text.hasSuffix(suffix)
        case .anythingBut(let rule):
            // A prefix or suffix exclusion applies to strings only, as in EventBridge.
            switch rule {
            case .prefix, .suffix, .equalsIgnoreCase:
                guard case .string = value else { return false }
            default: break
            }
            return !rule.matches(value, numericStrings: numericStrings)
        case .oneOf(let values):
            return values.contains(value)
        case .numeric(let bounds):
            let number: Double
            switch value {
            case .number(let value): number = value
            case .string(let text) where numericStrings:
                guard let parsed = Double(text) else { return false }
                number = parsed
            default: return false
            }
            return bounds.allSatisfy { $0.admits(number) }
        case .exists:
            return true
        }
    }
}

/// One comparison of a `numeric` rule.
struct NumericBound: Sendable {
    enum Comparison: String, Sendable {
        case equal = "=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    }

    var comparison: Comparison
    var operand: Double

    func admits(_ number: Double) -> Bool {
        switch comparison {
        case .equal: number == operand
        case .less: number < operand
        case .lessOrEqual: number <= operand
        case .greater: number > operand
        case .greaterOrEqual: number >= operand
        }
    }
}

// MARK: - Compiling

/// Turns a parsed pattern into ``PatternObject``s, checking it as Lambda does.
private enum PatternCompiler {
    static func invalid(_ detail: String) -> EddyError {
        .validation("Invalid filter pattern definition: \(detail)")
    }

    static func object(_ members: [String: JSONValue], path: String) throws(EddyError) -> PatternObject {
        var object = PatternObject()
        for (name, value) in members.sorted(by: { $0.key < $1.key }) {
            let fieldPath = path.isEmpty ? name : path + "." + name
            if name == "$or" {
                object.alternatives.append(try alternatives(value, path: fieldPath))
                continue
            }
            switch value {
            case .object(let nested):
                object.fields.append(PatternField(name: name, body: .nested(try self.object(nested, path: fieldPath))))
            case .array(let values):
                let rules = try values.map { value throws(EddyError) in try rule(value, path: fieldPath) }
                object.fields.append(PatternField(name: name, body: .rules(rules)))
            default:
                throw invalid("the value of \"\(fieldPath)\" must be an object or an array of match values")
            }
        }
        return object
    }

    static func alternatives(_ value: JSONValue, path: String) throws(EddyError) -> [PatternObject] {
        guard case .array(let values) = value, values.count >= 2 else {
            throw invalid("\"\(path)\" must be an array of at least two patterns")
        }
        return try values.map { value throws(EddyError) in
            guard case .object(let members) = value else {
                throw invalid("every member of \"\(path)\" must be a pattern object")
            }
            return try object(members, path: path)
        }
    }

    static func rule(_ value: JSONValue, path: String) throws(EddyError) -> FilterRule {
        switch value {
        case .null, .bool, .number, .string:
            return .equals(value)
        case .array:
            throw invalid("the match values of \"\(path)\" must not be arrays")
        case .object(let members):
            guard members.count == 1, let (name, operand) = members.first else {
                throw invalid("a match rule of \"\(path)\" must have exactly one operator")
            }
            switch name {
            case "exists":
                guard case .bool(let exists) = operand else { throw invalid("\"exists\" of \"\(path)\" must be true or false") }
                return .exists(exists)
            case "equals-ignore-case":
                return .equalsIgnoreCase([try string(operand, name, path).lowercased()])
            case "prefix":
                let (text, ignoringCase) = try affix(operand, name, path)
                return .prefix(text, ignoringCase: ignoringCase)
            case "suffix":
                let (text, ignoringCase) = try affix(operand, name, path)
                return .suffix(text, ignoringCase: ignoringCase)
            case "anything-but":
                return .anythingBut(try anythingBut(operand, path))
            case "numeric":
                return .numeric(try numeric(operand, path))
            default:
                throw invalid("unrecognized match type \"\(name)\" in \"\(path)\"")
            }
        }
    }

    static func string(_ value: JSONValue, _ name: String, _ path: String) throws(EddyError) -> String {
        guard case .string(let text) = value else { throw invalid("\"\(name)\" of \"\(path)\" must be a string") }
        return text
    }

    /// The operand of `prefix` or `suffix`: a string, or `{"equals-ignore-case": string}`.
    static func affix(_ value: JSONValue, _ name: String, _ path: String) throws(EddyError) -> (String, Bool) {
        if case .object(let members) = value, members.count == 1, let operand = members["equals-ignore-case"] {
            return (try string(operand, name, path), true)
        }
        return (try string(value, name, path), false)
    }

    static func anythingBut(_ value: JSONValue, _ path: String) throws(EddyError) -> FilterRule {
        switch value {
        case .string, .number:
            return .oneOf([value])
        case .array(let values):
            guard !values.isEmpty, values.allSatisfy({ if case .string = $0 { true } else if case .number = $0 { true } else { false } })
            else { throw invalid("\"anything-but\" of \"\(path)\" must list strings or numbers") }
            return .oneOf(values)
        case .object(let members):
            guard members.count == 1, let (name, operand) = members.first else {
                throw invalid("\"anything-but\" of \"\(path)\" must hold exactly one operator")
            }
            switch name {
            case "prefix": return .prefix(try string(operand, name, path), ignoringCase: false)
            case "suffix": return .suffix(try string(operand, name, path), ignoringCase: false)
            case "equals-ignore-case":
                if case .array(let values) = operand, !values.isEmpty {
                    return .equalsIgnoreCase(try values.map { value throws(EddyError) in try string(value, name, path).lowercased() })
                }
                return .equalsIgnoreCase([try string(operand, name, path).lowercased()])
            default:
                throw invalid("unrecognized match type \"\(name)\" in \"anything-but\" of \"\(path)\"")
            }
        case .null, .bool:
            throw invalid("\"anything-but\" of \"\(path)\" must be a string, a number or a list of them")
        }
    }

    static func numeric(_ value: JSONValue, _ path: String) throws(EddyError) -> [NumericBound] {
        guard case .array(let items) = value, items.count == 2 || items.count == 4 else {
            throw invalid("\"numeric\" of \"\(path)\" must be [operator, number] or two such pairs")
        }
        var bounds: [NumericBound] = []
        for index in stride(from: 0, to: items.count, by: 2) {
            guard case .string(let symbol) = items[index], let comparison = NumericBound.Comparison(rawValue: symbol)
            else { throw invalid("unrecognized numeric operator in \"\(path)\"; use =, <, <=, > or >=") }
            guard case .number(let operand) = items[index + 1] else {
                throw invalid("the operand of \"\(symbol)\" in \"\(path)\" must be a number")
            }
            bounds.append(NumericBound(comparison: comparison, operand: operand))
        }
        if bounds.count == 2 {
            let lower = bounds.filter { $0.comparison == .greater || $0.comparison == .greaterOrEqual }
            let upper = bounds.filter { $0.comparison == .less || $0.comparison == .lessOrEqual }
            guard lower.count == 1, upper.count == 1 else {
                throw invalid("a numeric range of \"\(path)\" needs one lower bound (> or >=) and one upper bound (< or <=)")
            }
        }
        return bounds
    }
}

// MARK: - FilterCriteria

/// The filters of a trigger mapping, in the shape of Lambda's `FilterCriteria`:
/// `{"Filters": [{"Pattern": "<JSON pattern>"}]}`. A record passes when any filter matches it, and every
/// record passes when there are no filters.
///
/// ```swift
/// let criteria = try FilterCriteria(patterns: [#"{"eventName": ["INSERT"]}"#])
/// criteria.matches(record) // only INSERT records
/// ```
///
/// Decoding compiles every pattern and throws the ``EddyError`` of the first invalid one.
public struct FilterCriteria: Codable, Sendable, Equatable {
    /// Lambda's default quota of filters per event source mapping.
    static let maximumFilterCount = 5

    /// The compiled filters, in the order given.
    let filters: [EventFilter]
    /// What of a record's keys and images the filters look at.
    let selection: FilterSelection

    /// Criteria without filters: every record passes.
    public init() {
        filters = []
        selection = FilterSelection([])
    }

    /// Compiles `patterns`; throws a `ValidationException` for more than five filters or an invalid pattern.
    public init(patterns: [String]) throws(EddyError) {
        guard patterns.count <= Self.maximumFilterCount else {
            throw .validation(
                "Invalid FilterCriteria: \(patterns.count) filters given, the maximum is \(Self.maximumFilterCount)")
        }
        filters = try patterns.map { pattern throws(EddyError) in try EventFilter(pattern: pattern) }
        selection = FilterSelection(filters.map(\.root))
    }

    /// Whether `event` passes: some filter matches it, or there are no filters.
    func matches(_ event: JSONValue) -> Bool {
        filters.isEmpty || filters.contains { $0.matches(event) }
    }

    /// Whether a stream record passes, matched as the JSON of its DynamoDB Streams wire form, of which only
    /// the image attributes the patterns name are decoded (``FilterSelection``).
    func matches(_ record: StreamRecord) -> Bool {
        if filters.isEmpty { return true }
        return matches(selection.json(of: record))
    }

    private struct WireFilter: Codable {
        var pattern: String?
        enum CodingKeys: String, CodingKey { case pattern = "Pattern" }
    }

    enum CodingKeys: String, CodingKey { case filters = "Filters" }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let wire = try container.decodeIfPresent([WireFilter].self, forKey: .filters) ?? []
        try self.init(patterns: wire.map { $0.pattern ?? "" })
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(filters.map { WireFilter(pattern: $0.pattern) }, forKey: .filters)
    }
}
