import Foundation

/// Writes JSON, DynamoDB's typed values included, straight into bytes: for paths where Foundation's
/// `JSONEncoder` costs too much (the Kafka trigger sink encodes every stream record, and `JSONEncoder`'s
/// generic containers cost about 40 µs for a record of two small images).
///
/// ```swift
/// var json = JSONWriter()
/// json.literal("{\"Keys\":")
/// json.item(["id": .s("u1")])
/// json.literal("}")
/// // json.bytes: {"Keys":{"id":{"S":"u1"}}}
/// ```
///
/// Values are written as `AttributeValue`'s `Codable` conformance writes them: numbers as their canonical
/// text, binaries in Base64, `NULL` as `true`.
public struct JSONWriter: Sendable {
    /// The JSON written so far.
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 512) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Appends `text` as it is: punctuation and keys known to need no escaping.
    public mutating func literal(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends `value` as a JSON string: quoted, with `"`, `\` and control characters escaped.
    public mutating func string(_ value: String) {
        var text = value
        text.withUTF8 { string(utf8: $0) }
    }

    /// Appends the UTF-8 text `utf8` as a JSON string, as ``string(_:)`` does.
    package mutating func string(utf8: UnsafeBufferPointer<UInt8>) {
        bytes.append(UInt8(ascii: "\""))
        // Runs of bytes that need no escaping (nearly all of them) are appended whole.
        var start = 0
        for index in utf8.indices where Self.needsEscaping(utf8[index]) {
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
            escape(utf8[index])
            start = index + 1
        }
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends `binary` in Base64 (RFC 4648, padded, no line breaks) as a JSON string: the text of
    /// `Data(binary).base64EncodedString()`.
    package mutating func base64String(_ binary: UnsafeBufferPointer<UInt8>) {
        bytes.append(UInt8(ascii: "\""))
        var index = 0
        while index + 3 <= binary.count {
            let group = UInt32(binary[index]) << 16 | UInt32(binary[index + 1]) << 8 | UInt32(binary[index + 2])
            appendBase64(group, digits: 4)
            index += 3
        }
        switch binary.count - index {
        case 1:
            appendBase64(UInt32(binary[index]) << 16, digits: 2)
            literal("==")
        case 2:
            appendBase64(UInt32(binary[index]) << 16 | UInt32(binary[index + 1]) << 8, digits: 3)
            literal("=")
        default: break
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// The first `digits` Base64 digits of the 24 bits of `group`.
    private mutating func appendBase64(_ group: UInt32, digits: Int) {
        for digit in 0..<digits {
            bytes.append(Self.base64Digits[Int(group >> UInt32(18 - 6 * digit)) & 0x3F])
        }
    }

    /// Appends `byte` as it is: a byte the caller knows to be valid JSON in place, such as a digit of a number.
    package mutating func raw(_ byte: UInt8) {
        bytes.append(byte)
    }

    private static func needsEscaping(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }

    private mutating func escape(_ byte: UInt8) {
        switch byte {
        case 0x0A: literal("\\n")
        case 0x0D: literal("\\r")
        case 0x09: literal("\\t")
        case UInt8(ascii: "\""), UInt8(ascii: "\\"):
            bytes.append(UInt8(ascii: "\\"))
            bytes.append(byte)
        default:
            literal("\\u00")
            bytes.append(Self.hexDigits[Int(byte >> 4)])
            bytes.append(Self.hexDigits[Int(byte & 0x0F)])
        }
    }

    /// Appends `value` as a JSON number.
    public mutating func integer(_ value: Int64) {
        bytes.append(contentsOf: String(value).utf8)
    }

    /// Appends `value` as a JSON number: without a fraction when it is whole, else in its shortest form that
    /// reads back as the same `Double`. `value` must be finite.
    public mutating func number(_ value: Double) {
        if value.rounded(.towardZero) == value, abs(value) < 9.0e15 {
            integer(Int64(value))
        } else {
            bytes.append(contentsOf: value.description.utf8)
        }
    }

    /// Appends `true` or `false`.
    public mutating func boolean(_ value: Bool) {
        if value { literal("true") } else { literal("false") }
    }

    /// Appends `value` in DynamoDB's JSON: `{"S":"…"}`, `{"N":"…"}`, `{"M":{…}}`, ….
    public mutating func attributeValue(_ value: AttributeValue) {
        switch value {
        case .s(let text):
            literal("{\"S\":")
            string(text)
        case .n(let number):
            literal("{\"N\":")
            string(number.description)
        case .b(let binary):
            literal("{\"B\":")
            binary.withUnsafeBufferPointer { base64String($0) }
        case .bool(let flag):
            literal("{\"BOOL\":")
            if flag { literal("true") } else { literal("false") }
        case .null:
            literal("{\"NULL\":true")
        case .m(let map):
            literal("{\"M\":")
            item(map)
        case .l(let list):
            literal("{\"L\":[")
            for (index, element) in list.enumerated() {
                if index > 0 { literal(",") }
                attributeValue(element)
            }
            literal("]")
        case .ss(let texts):
            literal("{\"SS\":")
            strings(texts)
        case .ns(let numbers):
            literal("{\"NS\":")
            strings(numbers.map(\.description))
        case .bs(let binaries):
            literal("{\"BS\":")
            array(binaries) { binary, json in binary.withUnsafeBufferPointer { json.base64String($0) } }
        }
        literal("}")
    }

    /// Appends `elements` as a JSON array, each written by `element`.
    package mutating func array<Element>(_ elements: [Element], _ element: (Element, inout JSONWriter) -> Void) {
        literal("[")
        for (index, value) in elements.enumerated() {
            if index > 0 { literal(",") }
            element(value, &self)
        }
        literal("]")
    }

    /// Appends `item` as a JSON object of DynamoDB-typed values.
    public mutating func item(_ item: Item) {
        object(item) { value, json in json.attributeValue(value) }
    }

    /// Appends `item` as a JSON object, each attribute's value written by `value`.
    private mutating func object(_ item: Item, _ value: (AttributeValue, inout JSONWriter) -> Void) {
        literal("{")
        var first = true
        for (name, attribute) in item {
            if !first { literal(",") }
            first = false
            string(name)
            literal(":")
            value(attribute, &self)
        }
        literal("}")
    }

    /// Appends `item` as plain JSON, without DynamoDB's type descriptors: what search indexes and change-event
    /// consumers read. Strings and booleans as themselves, `NULL` as `null`, maps as objects, lists and sets as
    /// arrays, binaries as Base64 strings, and numbers as JSON numbers where that is exact
    /// (``DecimalNumber/isExactPlainJSONNumber``), else as strings of their text.
    package mutating func plainItem(_ item: Item) {
        object(item) { value, json in json.plainValue(value) }
    }

    /// Appends `value` as plain JSON (see ``plainItem(_:)``).
    package mutating func plainValue(_ value: AttributeValue) {
        switch value {
        case .s(let text): string(text)
        case .n(let number): plainNumber(number)
        case .b(let binary): binary.withUnsafeBufferPointer { base64String($0) }
        case .bool(let flag): boolean(flag)
        case .null: literal("null")
        case .m(let map): plainItem(map)
        case .l(let list): array(list) { element, json in json.plainValue(element) }
        case .ss(let texts): strings(texts)
        case .ns(let numbers): array(numbers) { number, json in json.plainNumber(number) }
        case .bs(let binaries): array(binaries) { binary, json in binary.withUnsafeBufferPointer { json.base64String($0) } }
        }
    }

    private mutating func plainNumber(_ number: DecimalNumber) {
        let text = number.description
        if number.isExactPlainJSONNumber {
            bytes.append(contentsOf: text.utf8)
        } else {
            string(text)
        }
    }

    private mutating func strings(_ texts: [String]) {
        literal("[")
        for (index, text) in texts.enumerated() {
            if index > 0 { literal(",") }
            string(text)
        }
        literal("]")
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
    private static let base64Digits = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
}
