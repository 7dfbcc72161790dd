/// A JSON value as the fuzzer builds and breaks it. Unlike Foundation's, it can say what a request body must
/// never say: objects keep their members' order and may repeat a name, strings and names are raw bytes (so
/// they may hold invalid UTF-8), numbers are their literal text (so they may overflow every machine type),
/// and ``raw(_:)`` is a fragment written as it is, such as thousands of nested levels.
enum FuzzJSON: Sendable {
    case object([FuzzMember])
    case array([FuzzJSON])
    case string([UInt8])
    case number(String)
    case bool(Bool)
    case null
    case raw([UInt8])

    /// The JSON type of a value, to replace one with a value of another.
    enum Kind: Sendable {
        case object, array, string, number, bool, null, raw
    }

    /// The value's JSON type.
    var kind: Kind {
        switch self {
        case .object: .object
        case .array: .array
        case .string: .string
        case .number: .number
        case .bool: .bool
        case .null: .null
        case .raw: .raw
        }
    }

    /// An object with `members` in their order.
    static func object(_ members: KeyValuePairs<String, FuzzJSON>) -> FuzzJSON {
        .object(members.map { FuzzMember(name: Array($0.key.utf8), value: $0.value) })
    }

    /// The string `text`.
    static func string(_ text: String) -> FuzzJSON {
        .string(Array(text.utf8))
    }

    /// The string's bytes, if this is a string of valid UTF-8.
    var validUTF8String: [UInt8]? {
        guard case .string(let bytes) = self, String(validating: bytes, as: UTF8.self) != nil else { return nil }
        return bytes
    }

    /// The members, if this is an object.
    var members: [FuzzMember]? {
        if case .object(let members) = self { members } else { nil }
    }

    /// DynamoDB's type descriptors: the one member name of an `AttributeValue` object.
    static let typeDescriptors: Set<String> = ["S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"]

    /// Whether this is an `AttributeValue`: an object with exactly one member, named by a type descriptor.
    var isAttributeValue: Bool {
        guard let members, members.count == 1, let name = String(validating: members[0].name, as: UTF8.self) else { return false }
        return Self.typeDescriptors.contains(name)
    }
}

/// One member of a ``FuzzJSON`` object.
struct FuzzMember: Sendable {
    var name: [UInt8]
    var value: FuzzJSON

    /// The name as text, if it is valid UTF-8.
    var text: String? { String(validating: name, as: UTF8.self) }
}

extension FuzzJSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral {
    init(stringLiteral value: String) { self = .string(value) }
    init(integerLiteral value: Int) { self = .number(String(value)) }
    init(booleanLiteral value: Bool) { self = .bool(value) }
}

// MARK: - Writing

extension FuzzJSON {
    /// The value as request body bytes.
    var bytes: [UInt8] {
        var out: [UInt8] = []
        write(to: &out)
        return out
    }

    /// Appends the value's JSON text to `out`.
    func write(to out: inout [UInt8]) {
        switch self {
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(member.name, to: &out)
                out.append(UInt8(ascii: ":"))
                member.value.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                element.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .string(let bytes):
            Self.writeString(bytes, to: &out)
        case .number(let text):
            out.append(contentsOf: text.utf8)
        case .bool(let value):
            out.append(contentsOf: (value ? "true" : "false").utf8)
        case .null:
            out.append(contentsOf: "null".utf8)
        case .raw(let bytes):
            out.append(contentsOf: bytes)
        }
    }

    /// Appends `bytes` as a JSON string: quotes, backslashes and control characters escaped, every other
    /// byte (invalid UTF-8 included) as it is.
    private static func writeString(_ bytes: [UInt8], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                out.append(UInt8(ascii: "\\"))
                out.append(byte)
            case 0..<0x20:
                out.append(contentsOf: "\\u00".utf8)
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0xF)])
            default:
                out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
}

// MARK: - Paths

/// Where a node sits in a ``FuzzJSON`` tree: the child index taken at each level, and the member name each
/// step went through (nil for an array element).
struct FuzzLocation: Sendable {
    var path: [Int]
    var names: [String?]
    var node: FuzzJSON
    /// Whether the node is the one member of an `AttributeValue` object: its type's value.
    var isAttributeValueContent: Bool
    /// Whether the node is an object member's value (rather than an array element or the root).
    var isMember: Bool

    /// The member name the node sits under, if it is an object member with a UTF-8 name.
    var name: String? { names.last ?? nil }

    /// Whether some step above the node went through a member named one of `names`.
    func isInside(_ candidates: Set<String>) -> Bool {
        names.dropLast().contains { $0.map(candidates.contains) ?? false }
    }
}

extension FuzzJSON {
    /// Every node of the tree, the root first, with where it sits.
    var locations: [FuzzLocation] {
        var found: [FuzzLocation] = []
        collect(path: [], names: [], inAttributeValue: false, isMember: false, into: &found)
        return found
    }

    private func collect(path: [Int], names: [String?], inAttributeValue: Bool, isMember: Bool, into found: inout [FuzzLocation]) {
        found.append(FuzzLocation(path: path, names: names, node: self, isAttributeValueContent: inAttributeValue, isMember: isMember))
        switch self {
        case .object(let members):
            let isAttributeValue = isAttributeValue
            for (index, member) in members.enumerated() {
                member.value.collect(
                    path: path + [index], names: names + [member.text], inAttributeValue: isAttributeValue, isMember: true, into: &found)
            }
        case .array(let elements):
            for (index, element) in elements.enumerated() {
                element.collect(path: path + [index], names: names + [nil], inAttributeValue: false, isMember: false, into: &found)
            }
        default:
            break
        }
    }

    /// Changes the node at `path` with `change`; a path that does not lead to a node changes nothing.
    mutating func modify(at path: ArraySlice<Int>, _ change: (inout FuzzJSON) -> Void) {
        guard let index = path.first else {
            change(&self)
            return
        }
        switch self {
        case .object(var members) where members.indices.contains(index):
            members[index].value.modify(at: path.dropFirst(), change)
            self = .object(members)
        case .array(var elements) where elements.indices.contains(index):
            elements[index].modify(at: path.dropFirst(), change)
            self = .array(elements)
        default:
            break
        }
    }

    /// Replaces the node at `path` with `value`.
    mutating func replace(at path: [Int], with value: FuzzJSON) {
        modify(at: path[...]) { $0 = value }
    }

    /// Changes the members of the object holding the member at `path` (a non-empty path), with the member's
    /// index among them.
    mutating func modifyMembers(around path: [Int], _ change: (inout [FuzzMember], Int) -> Void) {
        guard let index = path.last else { return }
        modify(at: path.dropLast()) { parent in
            guard case .object(var members) = parent else { return }
            change(&members, index)
            parent = .object(members)
        }
    }
}

// MARK: - Edits

extension FuzzJSON {
    /// A string of `bytes` written without escaping, for long strings that need none (no quote, backslash
    /// or control character): cheaper to write than ``string(_:)-swift.enum.case``.
    static func quoted(_ bytes: [UInt8]) -> FuzzJSON {
        .raw([UInt8(ascii: "\"")] + bytes + [UInt8(ascii: "\"")])
    }

    /// The tree with the node at `location` removed: a member from its object, an element from its array.
    /// Nil for the root, which cannot be removed.
    func removing(_ location: FuzzLocation) -> FuzzJSON? {
        guard let index = location.path.last else { return nil }
        var result = self
        result.modify(at: location.path.dropLast()) { parent in
            switch parent {
            case .object(var members):
                members.remove(at: index)
                parent = .object(members)
            case .array(var elements):
                elements.remove(at: index)
                parent = .array(elements)
            default:
                break
            }
        }
        return result
    }

    /// The tree with the member at `location` renamed `name`.
    func renaming(_ location: FuzzLocation, to name: [UInt8]) -> FuzzJSON {
        var result = self
        result.modifyMembers(around: location.path) { members, index in members[index].name = name }
        return result
    }

    /// The tree with the node at `location` replaced by `value`.
    func replacing(_ location: FuzzLocation, with value: FuzzJSON) -> FuzzJSON {
        var result = self
        result.replace(at: location.path, with: value)
        return result
    }

    /// This object, written out, with one more member `"name": value` at its end, for a name too long to
    /// be written byte by byte (`name` must need no escaping).
    func appendingRawMember(name: [UInt8], value: FuzzJSON) -> FuzzJSON {
        var bytes = self.bytes
        guard bytes.last == UInt8(ascii: "}") else { return self }
        bytes.removeLast()
        if bytes.count > 1 { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: name)
        bytes.append(contentsOf: "\":".utf8)
        value.write(to: &bytes)
        bytes.append(UInt8(ascii: "}"))
        return .raw(bytes)
    }
}
