import Foundation

/// An item: attribute names to values, as DynamoDB's `Item` and `Key` maps.
public typealias Item = [String: AttributeValue]

/// A DynamoDB attribute value: one of the ten data types.
///
/// Encodes to and decodes from DynamoDB's JSON shape, so it is the wire representation too:
///
/// ```swift
/// let value = AttributeValue.m(["name": .s("Ada"), "age": .n(DecimalNumber(36))])
/// // {"M":{"name":{"S":"Ada"},"age":{"N":"36"}}}
/// ```
///
/// Sets keep their members in the order given, but compare equal whatever the order
/// (DynamoDB sets are unordered).
public enum AttributeValue: Sendable {
    /// String (`S`): UTF-8.
    case s(String)
    /// Number (`N`): an exact decimal of up to 38 significant digits.
    case n(DecimalNumber)
    /// Binary (`B`): raw bytes, base64 in JSON.
    case b([UInt8])
    /// Boolean (`BOOL`).
    case bool(Bool)
    /// Null (`NULL`); always `true` on the wire.
    case null
    /// Map (`M`) of names to values.
    case m([String: AttributeValue])
    /// List (`L`) of values, any types.
    case l([AttributeValue])
    /// String set (`SS`).
    case ss([String])
    /// Number set (`NS`).
    case ns([DecimalNumber])
    /// Binary set (`BS`).
    case bs([[UInt8]])

    /// DynamoDB's type descriptor: `S`, `N`, `B`, `BOOL`, `NULL`, `M`, `L`, `SS`, `NS` or `BS`.
    public var typeDescriptor: String {
        switch self {
        case .s: "S"
        case .n: "N"
        case .b: "B"
        case .bool: "BOOL"
        case .null: "NULL"
        case .m: "M"
        case .l: "L"
        case .ss: "SS"
        case .ns: "NS"
        case .bs: "BS"
        }
    }
}

extension AttributeValue: Hashable {
    /// Consistent with `==`: a set hashes its members as a set, whatever their order.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(typeDescriptor)
        switch self {
        case .s(let value): hasher.combine(value)
        case .n(let value): hasher.combine(value)
        case .b(let value): hasher.combine(value)
        case .bool(let value): hasher.combine(value)
        case .null: break
        case .m(let value): hasher.combine(value)
        case .l(let value): hasher.combine(value)
        case .ss(let value): hasher.combine(Set(value))
        case .ns(let value): hasher.combine(Set(value))
        case .bs(let value): hasher.combine(Set(value))
        }
    }

    public static func == (lhs: AttributeValue, rhs: AttributeValue) -> Bool {
        switch (lhs, rhs) {
        case (.s(let a), .s(let b)): a == b
        case (.n(let a), .n(let b)): a == b
        case (.b(let a), .b(let b)): a == b
        case (.bool(let a), .bool(let b)): a == b
        case (.null, .null): true
        case (.m(let a), .m(let b)): a == b
        case (.l(let a), .l(let b)): a == b
        case (.ss(let a), .ss(let b)): Set(a) == Set(b)
        case (.ns(let a), .ns(let b)): Set(a) == Set(b)
        case (.bs(let a), .bs(let b)): Set(a) == Set(b)
        default: false
        }
    }
}

extension AttributeValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) {
        self = .s(value)
    }
}

extension AttributeValue: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int) {
        self = .n(DecimalNumber(value))
    }
}

extension AttributeValue: ExpressibleByBooleanLiteral {
    public init(booleanLiteral value: Bool) {
        self = .bool(value)
    }
}

extension AttributeValue: Codable {
    /// The ten type names of DynamoDB's JSON shape.
    enum TypeKey: String, CodingKey {
        case s = "S", n = "N", b = "B", bool = "BOOL", null = "NULL", m = "M", l = "L"
        case ss = "SS", ns = "NS", bs = "BS"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: TypeKey.self)
        let keys = container.allKeys
        guard keys.count == 1, let key = keys.first else {
            throw Self.notOneDatatype
        }
        switch key {
        case .s: self = .s(try container.decode(String.self, forKey: key))
        case .n: self = .n(try DecimalNumber(try container.decode(String.self, forKey: key)))
        case .b: self = .b(try Self.decodeBase64(try container.decode(String.self, forKey: key)))
        case .bool: self = .bool(try container.decode(Bool.self, forKey: key))
        case .null:
            guard try container.decode(Bool.self, forKey: key) else {
                throw Self.nullNotTrue
            }
            self = .null
        case .m: self = .m(try container.decode([String: AttributeValue].self, forKey: key))
        case .l: self = .l(try container.decode([AttributeValue].self, forKey: key))
        case .ss: self = .ss(try container.decode([String].self, forKey: key))
        case .ns: self = .ns(try container.decode([String].self, forKey: key).map { try DecimalNumber($0) })
        case .bs: self = .bs(try container.decode([String].self, forKey: key).map(Self.decodeBase64))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: TypeKey.self)
        switch self {
        case .s(let value): try container.encode(value, forKey: .s)
        case .n(let value): try container.encode(value.description, forKey: .n)
        case .b(let value): try container.encode(Data(value).base64EncodedString(), forKey: .b)
        case .bool(let value): try container.encode(value, forKey: .bool)
        case .null: try container.encode(true, forKey: .null)
        case .m(let value): try container.encode(value, forKey: .m)
        case .l(let value): try container.encode(value, forKey: .l)
        case .ss(let value): try container.encode(value, forKey: .ss)
        case .ns(let value): try container.encode(value.map(\.description), forKey: .ns)
        case .bs(let value): try container.encode(value.map { Data($0).base64EncodedString() }, forKey: .bs)
        }
    }

    /// A value with none or several of the ten type names.
    static let notOneDatatype = EddyError.validation(
        "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes")

    /// A `NULL` value that is not `true`.
    static let nullNotTrue = EddyError.validation(
        "One or more parameter values were invalid: Null attribute value types must have the value of true")

    /// The bytes of a `B` or `BS` value; text that is not canonical Base64 is a ``SerializationError``, as
    /// DynamoDB cannot deserialize it, with DynamoDB's message.
    static func decodeBase64(_ text: String) throws(SerializationError) -> [UInt8] {
        func refused(_ reason: String) -> SerializationError {
            SerializationError("'\(text)' can not be converted to a Blob: \(reason)")
        }
        let length = text.utf8.count
        guard length % 4 == 0 else {
            throw refused("Base64 encoded length is expected a multiple of 4 bytes but found: \(length)")
        }
        let scalars = Array(text.unicodeScalars)
        for (index, scalar) in scalars.enumerated() {
            let isAlphabet = scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "+" || scalar == "/")
            // A padding '=' may only be followed by padding.
            let isPadding = scalar == "=" && scalars[(index + 1)...].allSatisfy { $0 == "=" }
            guard isAlphabet || isPadding else { throw refused("Invalid Base64 character: '\(scalar)'") }
        }
        // What remains is the alphabet then padding: the last character before the padding must leave no bits over.
        guard let data = Data(base64Encoded: text), data.base64EncodedString() == text else {
            throw refused("Invalid last non-pad Base64 character dectected")  // sic: DynamoDB's spelling
        }
        return [UInt8](data)
    }
}
