/// A JSON value as a request body holds it: numbers keep their text (DynamoDB's numbers are exact decimals,
/// and the request members that are numbers are integers), objects keep their members in the text's order,
/// duplicates included.
package enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// A number, as its text: `-0.5e3` stays `-0.5e3`.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([JSONMember])
}

/// One `"name": value` of a JSON object.
package struct JSONMember: Sendable, Equatable {
    package var name: String
    package var value: JSONValue

    package init(name: String, value: JSONValue) {
        self.name = name
        self.value = value
    }
}

/// A text that is not JSON: why, and the offset of the byte where reading stopped.
package struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    package var reason: String
    package var offset: Int

    package var description: String { "\(reason) (at byte \(offset))" }
}

/// Reads JSON (RFC 8259) from UTF-8 bytes, strictly: what it accepts, every JSON parser reads alike.
///
/// ```swift
/// let value = try JSONReader.parse(Array(#"{"TableName":"Users","Limit":10}"#.utf8))
/// // .object([JSONMember(name: "TableName", value: .string("Users")), JSONMember(name: "Limit", value: .number("10"))])
/// ```
///
/// It refuses invalid UTF-8 (overlong forms and encoded surrogates included), control characters inside
/// strings, `\u` escapes that leave a surrogate unpaired, numbers outside JSON's grammar, a comma before a
/// closing bracket or brace, anything after the value but whitespace, and arrays and objects nesting deeper
/// than `maximumNesting`. A UTF-8 byte order mark before the value is skipped, as Foundation skips it.
package enum JSONReader {
    /// The value `bytes` hold.
    ///
    /// - Parameters:
    ///   - bytes: the text, UTF-8.
    ///   - maximumNesting: how deep arrays and objects may nest: `[[]]` nests 2 levels.
    /// - Throws: ``JSONSyntaxError`` when `bytes` are not one JSON value.
    package static func parse(_ bytes: [UInt8], maximumNesting: Int = 256) throws(JSONSyntaxError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { (buffer) throws(JSONSyntaxError) -> JSONValue in
            var cursor = Cursor(bytes: buffer, maximumNesting: maximumNesting)
            if buffer.starts(with: [0xEF, 0xBB, 0xBF]) { cursor.offset = 3 }
            let value = try cursor.value(depth: 0)
            cursor.skipWhitespace()
            guard cursor.offset == buffer.count else { throw cursor.error("text after the value") }
            return value
        }
    }

    /// The reading position in the text.
    private struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        let maximumNesting: Int
        var offset = 0

        init(bytes: UnsafeBufferPointer<UInt8>, maximumNesting: Int) {
            self.bytes = bytes
            self.maximumNesting = maximumNesting
        }

        func error(_ reason: String) -> JSONSyntaxError {
            JSONSyntaxError(reason: reason, offset: offset)
        }

        var current: UInt8? { offset < bytes.count ? bytes[offset] : nil }

        mutating func skipWhitespace() {
            while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { offset += 1 }
        }

        /// The value after any whitespace; `depth` is how many arrays and objects enclose it.
        mutating func value(depth: Int) throws(JSONSyntaxError) -> JSONValue {
            skipWhitespace()
            guard let byte = current else { throw error("the text ends where a value should be") }
            switch byte {
            case UInt8(ascii: "{"): return try object(depth: depth + 1)
            case UInt8(ascii: "["): return try array(depth: depth + 1)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
            default: throw error("unexpected character where a value should be")
            }
        }

        mutating func literal(_ word: StaticString) throws(JSONSyntaxError) {
            let count = word.utf8CodeUnitCount
            guard offset + count <= bytes.count,
                UnsafeBufferPointer(start: word.utf8Start, count: count).elementsEqual(bytes[offset..<(offset + count)])
            else { throw error("not a JSON literal") }
            offset += count
        }

        mutating func enter(depth: Int) throws(JSONSyntaxError) {
            guard depth <= maximumNesting else {
                throw error("arrays and objects nest deeper than \(maximumNesting) levels")
            }
            offset += 1
        }

        mutating func object(depth: Int) throws(JSONSyntaxError) -> JSONValue {
            try enter(depth: depth)
            var members: [JSONMember] = []
            skipWhitespace()
            if current == UInt8(ascii: "}") {
                offset += 1
                return .object(members)
            }
            while true {
                skipWhitespace()
                guard current == UInt8(ascii: "\"") else {
                    throw error(current == UInt8(ascii: "}") ? "a comma before a closing bracket or brace" : "a member name that is not a string")
                }
                let name = try string()
                skipWhitespace()
                guard current == UInt8(ascii: ":") else { throw error("no colon after a member name") }
                offset += 1
                members.append(JSONMember(name: name, value: try value(depth: depth)))
                skipWhitespace()
                switch current {
                case UInt8(ascii: ","): offset += 1
                case UInt8(ascii: "}"): offset += 1; return .object(members)
                default: throw error("no comma or closing brace after an object member")
                }
            }
        }

        mutating func array(depth: Int) throws(JSONSyntaxError) -> JSONValue {
            try enter(depth: depth)
            var elements: [JSONValue] = []
            skipWhitespace()
            if current == UInt8(ascii: "]") {
                offset += 1
                return .array(elements)
            }
            while true {
                skipWhitespace()
                if current == UInt8(ascii: "]") { throw error("a comma before a closing bracket or brace") }
                elements.append(try value(depth: depth))
                skipWhitespace()
                switch current {
                case UInt8(ascii: ","): offset += 1
                case UInt8(ascii: "]"): offset += 1; return .array(elements)
                default: throw error("no comma or closing bracket after an array element")
                }
            }
        }

        /// A number's text: `-? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?`.
        mutating func number() throws(JSONSyntaxError) -> String {
            let start = offset
            if current == UInt8(ascii: "-") { offset += 1 }
            if current == UInt8(ascii: "0") {
                offset += 1
                if isOnDigit { throw error("a number with a leading zero") }
            } else {
                try digits()
            }
            if current == UInt8(ascii: ".") {
                offset += 1
                try digits()
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                offset += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { offset += 1 }
                try digits()
            }
            return String(decoding: bytes[start..<offset], as: UTF8.self)
        }

        var isOnDigit: Bool { current.map { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } ?? false }

        mutating func digits() throws(JSONSyntaxError) {
            guard isOnDigit else { throw error("a number without digits where JSON needs them") }
            while isOnDigit { offset += 1 }
        }

        /// A string, the cursor on its opening quote.
        mutating func string() throws(JSONSyntaxError) -> String {
            offset += 1
            let start = offset
            // Most strings have no escapes: their bytes are the string's.
            while let byte = current, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\"), byte >= 0x20 { offset += 1 }
            guard let stop = current else { throw error("a string without its closing quote") }
            if stop == UInt8(ascii: "\"") {
                defer { offset += 1 }
                return try validated(bytes[start..<offset], from: start)
            }
            var utf8 = Array(bytes[start..<offset])
            while let byte = current {
                switch byte {
                case UInt8(ascii: "\""):
                    offset += 1
                    return try validated(utf8[...], from: start)
                case UInt8(ascii: "\\"):
                    offset += 1
                    try escape(into: &utf8)
                case 0..<0x20:
                    throw error("a control character inside a string")
                default:
                    utf8.append(byte)
                    offset += 1
                }
            }
            throw error("a string without its closing quote")
        }

        func validated(_ utf8: some Collection<UInt8>, from start: Int) throws(JSONSyntaxError) -> String {
            guard let text = String(validating: utf8, as: UTF8.self) else {
                throw JSONSyntaxError(reason: "a string that is not valid UTF-8", offset: start)
            }
            return text
        }

        /// The escape after a backslash, appended to `utf8` as UTF-8.
        mutating func escape(into utf8: inout [UInt8]) throws(JSONSyntaxError) {
            guard let byte = current else { throw error("a string without its closing quote") }
            offset += 1
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(byte)
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = UInt32(try hexQuad())
                if (0xD800..<0xDC00).contains(scalar) {
                    guard current == UInt8(ascii: "\\"), offset + 1 < bytes.count, bytes[offset + 1] == UInt8(ascii: "u") else {
                        throw error("a \\u escape of a high surrogate without its low surrogate")
                    }
                    offset += 2
                    let low = UInt32(try hexQuad())
                    guard (0xDC00..<0xE000).contains(low) else {
                        throw error("a \\u escape of a high surrogate without its low surrogate")
                    }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw error("a \\u escape of a low surrogate alone") }
                UTF8.encode(unicode) { utf8.append($0) }
            default:
                throw error("an unknown escape in a string")
            }
        }

        mutating func hexQuad() throws(JSONSyntaxError) -> UInt16 {
            var value: UInt16 = 0
            for _ in 0..<4 {
                guard let byte = current else { throw error("a \\u escape without its four hexadecimal digits") }
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw error("a \\u escape without its four hexadecimal digits")
                }
                value = value << 4 | UInt16(digit)
                offset += 1
            }
            return value
        }
    }
}
