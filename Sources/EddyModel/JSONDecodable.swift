/// Where in a request a value sits: member names, map keys and list positions from the top.
package struct JSONPath: Sendable, Equatable, CustomStringConvertible {
    /// One step down.
    package enum Component: Sendable, Equatable {
        /// A member of an object, or a key of a map.
        case name(String)
        /// A position in an array, from 0.
        case index(Int)
    }

    package var components: [Component]

    package init(_ components: [Component] = []) {
        self.components = components
    }

    /// The path as DynamoDB names members in its messages: `tableName`, `keySchema.1.member.keyType`; a map
    /// key that reads as an integer is named as a position (`5` as `6.member`), as Foundation's decoder gives
    /// such keys an integer value.
    package var description: String {
        components.map { component in
            switch component {
            case .index(let index): return "\(Int128(index) + 1).member"
            case .name(let name):
                if let index = Int(name) { return "\(Int128(index) + 1).member" }
                guard let first = name.first else { return name }
                return first.lowercased() + name.dropFirst()
            }
        }.joined(separator: ".")
    }
}

/// Why a request's JSON does not decode into the request, in the terms Foundation's `JSONDecoder` reports
/// for Eddy's `Codable` inputs, so that the server answers both alike.
package enum JSONDecodingFailure: Error, Sendable, Equatable {
    /// A required member is absent, or a value is `null` where one is needed.
    case missing(JSONPath)
    /// A value has another JSON type than `expected` (`a string`, `a boolean`, `Dictionary<String, Any>`…).
    case typeMismatch(JSONPath, expected: String)
    /// A value of the right JSON type that its type refuses, such as an enum's string outside its set.
    case invalidValue(JSONPath, String)
    /// A value Eddy's types refuse (a malformed number, an empty `AttributeValue`).
    case refused(EddyError)
    /// A value DynamoDB cannot deserialize (Base64 that is not canonical).
    case undeserializable(SerializationError)

    /// The failure, with `component` put in front of its path.
    func within(_ component: JSONPath.Component) -> JSONDecodingFailure {
        switch self {
        case .missing(var path):
            path.components.insert(component, at: 0)
            return .missing(path)
        case .typeMismatch(var path, let expected):
            path.components.insert(component, at: 0)
            return .typeMismatch(path, expected: expected)
        case .invalidValue(var path, let description):
            path.components.insert(component, at: 0)
            return .invalidValue(path, description)
        case .refused, .undeserializable:
            return self
        }
    }
}

/// A type read straight from a ``JSONValue``, with the checks and failures of its `Decodable` conformance.
package protocol JSONDecodable {
    /// The value `json` holds.
    ///
    /// - Throws: ``JSONDecodingFailure``, its path relative to `json`.
    init(json: JSONValue) throws(JSONDecodingFailure)
}

/// Decodes `body` with its failures' paths under `component`.
@inline(__always)
func within<T>(_ component: JSONPath.Component, _ body: () throws(JSONDecodingFailure) -> T) throws(JSONDecodingFailure) -> T {
    do {
        return try body()
    } catch {
        throw error.within(component)
    }
}

/// An object's members, looked up by name as Foundation's decoder looks them up: the first of duplicates wins.
package struct JSONObject: Sendable {
    package let members: [JSONMember]

    /// The members of `json`, which must be an object.
    package init(json: JSONValue) throws(JSONDecodingFailure) {
        switch json {
        case .object(let members): self.members = members
        case .null: throw .missing(JSONPath())
        default: throw .typeMismatch(JSONPath(), expected: JSONObject.expected)
        }
    }

    /// How a type mismatch names an object.
    static let expected = "Dictionary<String, Any>"

    /// The value of the first member named `name`.
    package subscript(name: String) -> JSONValue? {
        members.first { $0.name == name }?.value
    }

    /// Member `name`, which must be present and not `null`.
    package func required<T: JSONDecodable>(_ name: String) throws(JSONDecodingFailure) -> T {
        guard let value = self[name] else { throw .missing(JSONPath([.name(name)])) }
        return try within(.name(name)) { () throws(JSONDecodingFailure) in try T(json: value) }
    }

    /// Member `name`; nil when absent or `null`.
    package func optional<T: JSONDecodable>(_ name: String) throws(JSONDecodingFailure) -> T? {
        guard let value = self[name], value != .null else { return nil }
        return try within(.name(name)) { () throws(JSONDecodingFailure) in try T(json: value) }
    }
}

extension String: JSONDecodable {
    package init(json: JSONValue) throws(JSONDecodingFailure) {
        switch json {
        case .string(let text): self = text
        case .null: throw .missing(JSONPath())
        default: throw .typeMismatch(JSONPath(), expected: "a string")
        }
    }
}

extension Bool: JSONDecodable {
    /// `true` or `false`; `null` is a type mismatch, not a missing value, as Foundation's decoder has it.
    package init(json: JSONValue) throws(JSONDecodingFailure) {
        guard case .bool(let value) = json else { throw .typeMismatch(JSONPath(), expected: "a boolean") }
        self = value
    }
}

extension Int: JSONDecodable {
    /// A number whose value is a whole number, read as Foundation's decoder reads it: an integer's text
    /// exactly; another number (`10.0`, `1e2`) through its `Double`, which must be whole and fit; from 2^53 on,
    /// where a `Double` no longer holds every whole number, the text's own whole part (`9007199254740993.0`
    /// is 9007199254740993).
    package init(json: JSONValue) throws(JSONDecodingFailure) {
        switch json {
        case .number(let text):
            if let value = Int(text) {
                self = value
                return
            }
            guard let double = Double(text), let value = Int(exactly: double) else {
                throw .invalidValue(JSONPath(), "Number \(text) is not representable as an integer")
            }
            guard abs(double) >= 9_007_199_254_740_992 else {
                self = value
                return
            }
            guard let whole = Self(wholePartOf: text) else {
                throw .invalidValue(JSONPath(), "Number \(text) is not representable as an integer")
            }
            self = whole
        case .null: throw .missing(JSONPath())
        default: throw .typeMismatch(JSONPath(), expected: "a number")
        }
    }

    /// The whole part of a JSON number's text, if it fits.
    private init?(wholePartOf text: String) {
        var mantissa = Substring(text)
        let isNegative = mantissa.first == "-"
        if isNegative { mantissa = mantissa.dropFirst() }
        var exponent = 0
        if let marker = mantissa.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            guard let value = Int(mantissa[mantissa.index(after: marker)...]) else { return nil }
            exponent = value
            mantissa = mantissa[..<marker]
        }
        let integerDigits = mantissa.prefix { $0 != "." }
        let digits = integerDigits + mantissa.dropFirst(integerDigits.count + 1)
        let (wholeCount, overflow) = integerDigits.count.addingReportingOverflow(exponent)
        guard !overflow, wholeCount <= 40 else { return nil }
        guard wholeCount > 0 else {
            self = 0
            return
        }
        let whole = String(digits.prefix(wholeCount)) + String(repeating: "0", count: Swift.max(0, wholeCount - digits.count))
        guard let value = Int((isNegative ? "-" : "") + whole) else { return nil }
        self = value
    }
}

extension Array: JSONDecodable where Element: JSONDecodable {
    package init(json: JSONValue) throws(JSONDecodingFailure) {
        switch json {
        case .array(let elements):
            self = []
            reserveCapacity(elements.count)
            for (index, element) in elements.enumerated() {
                append(try within(.index(index)) { () throws(JSONDecodingFailure) in try Element(json: element) })
            }
        case .null: throw .missing(JSONPath())
        default: throw .typeMismatch(JSONPath(), expected: "Array<Any>")
        }
    }
}

extension Dictionary: JSONDecodable where Key == String, Value: JSONDecodable {
    /// A map: its entries in the text's order, the first of duplicate keys winning. (Foundation's decoder
    /// decodes a map's entries in its hash order, which changes from one process to the next: of several
    /// entries that fail, it reports any one.)
    package init(json: JSONValue) throws(JSONDecodingFailure) {
        let object = try JSONObject(json: json)
        self.init(minimumCapacity: object.members.count)
        for member in object.members where self[member.name] == nil {
            self[member.name] = try within(.name(member.name)) { () throws(JSONDecodingFailure) in try Value(json: member.value) }
        }
    }
}

extension JSONDecodable where Self: RawRepresentable, RawValue == String {
    /// One of the enum's strings; another string is refused with the standard library's message.
    package init(json: JSONValue) throws(JSONDecodingFailure) {
        let text = try String(json: json)
        guard let value = Self(rawValue: text) else {
            throw .invalidValue(JSONPath(), "Cannot initialize \(Self.self) from invalid String value \(text)")
        }
        self = value
    }
}

extension AttributeValue: JSONDecodable {
    /// `{"S": "Ada"}` and the other nine types, refused as the `Decodable` conformance refuses them: members
    /// other than the ten type names are ignored, and exactly one type name must be present.
    package init(json: JSONValue) throws(JSONDecodingFailure) {
        let object = try JSONObject(json: json)
        var typed: JSONMember?
        for member in object.members where TypeKey(rawValue: member.name) != nil {
            guard let first = typed else {
                typed = member
                continue
            }
            guard first.name == member.name else { throw .refused(Self.notOneDatatype) }
        }
        guard let typed, let key = TypeKey(rawValue: typed.name) else { throw .refused(Self.notOneDatatype) }
        self = try within(.name(typed.name)) { () throws(JSONDecodingFailure) in try Self(key, json: typed.value) }
    }

    private init(_ key: TypeKey, json: JSONValue) throws(JSONDecodingFailure) {
        switch key {
        case .s: self = .s(try String(json: json))
        case .n: self = .n(try Self.number(try String(json: json)))
        case .b: self = .b(try Self.binary(try String(json: json)))
        case .bool: self = .bool(try Bool(json: json))
        case .null:
            guard try Bool(json: json) else { throw .refused(Self.nullNotTrue) }
            self = .null
        case .m: self = .m(try [String: AttributeValue](json: json))
        case .l: self = .l(try [AttributeValue](json: json))
        case .ss: self = .ss(try [String](json: json))
        case .ns:
            let texts = try [String](json: json)
            var numbers: [DecimalNumber] = []
            numbers.reserveCapacity(texts.count)
            for text in texts { numbers.append(try Self.number(text)) }
            self = .ns(numbers)
        case .bs:
            let texts = try [String](json: json)
            var binaries: [[UInt8]] = []
            binaries.reserveCapacity(texts.count)
            for text in texts { binaries.append(try Self.binary(text)) }
            self = .bs(binaries)
        }
    }

    private static func number(_ text: String) throws(JSONDecodingFailure) -> DecimalNumber {
        do {
            return try DecimalNumber(text)
        } catch {
            throw .refused(error)
        }
    }

    private static func binary(_ text: String) throws(JSONDecodingFailure) -> [UInt8] {
        do {
            return try decodeBase64(text)
        } catch {
            throw .undeserializable(error)
        }
    }
}
