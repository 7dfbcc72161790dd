/// The tokens of DynamoDB's expression language.
enum TokenKind: UInt8, Sendable {
    /// A plain word: an attribute name, a keyword (`AND`, `SET`, …) or a function name.
    case identifier
    /// `#name`.
    case namePlaceholder
    /// `:value`.
    case valuePlaceholder
    /// Decimal digits (a list index).
    case number
    case leftParen, rightParen, leftBracket, rightBracket, comma, dot
    case equal, notEqual, less, lessOrEqual, greater, greaterOrEqual, plus, minus
    /// A character the language does not know (also a lone `#` or `:`): a syntax error once the parser reaches it.
    case invalid
    /// The end of the text.
    case end
}

/// One token: its kind and its span of UTF-8 bytes in the expression.
struct Token: Sendable {
    var kind: TokenKind
    var start: Int
    var end: Int
}

/// Splits an expression into tokens, in one pass over its UTF-8 bytes.
///
/// Never fails: characters it does not know become `.invalid` tokens, so that the parser reports them with
/// DynamoDB's `token:`/`near:` context. The last token is always `.end`.
enum ExpressionLexer {
    static func tokenize(_ bytes: UnsafeBufferPointer<UInt8>) -> [Token] {
        var tokens: [Token] = []
        tokens.reserveCapacity(bytes.count / 3 + 2)
        var index = 0
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            if isSpace(byte) {
                index += 1
                continue
            }
            let start = index
            let kind: TokenKind
            switch byte {
            case UInt8(ascii: "("): kind = .leftParen; index += 1
            case UInt8(ascii: ")"): kind = .rightParen; index += 1
            case UInt8(ascii: "["): kind = .leftBracket; index += 1
            case UInt8(ascii: "]"): kind = .rightBracket; index += 1
            case UInt8(ascii: ","): kind = .comma; index += 1
            case UInt8(ascii: "."): kind = .dot; index += 1
            case UInt8(ascii: "="): kind = .equal; index += 1
            case UInt8(ascii: "+"): kind = .plus; index += 1
            case UInt8(ascii: "-"): kind = .minus; index += 1
            case UInt8(ascii: "<"):
                index += 1
                if index < count, bytes[index] == UInt8(ascii: "=") {
                    kind = .lessOrEqual; index += 1
                } else if index < count, bytes[index] == UInt8(ascii: ">") {
                    kind = .notEqual; index += 1
                } else {
                    kind = .less
                }
            case UInt8(ascii: ">"):
                index += 1
                if index < count, bytes[index] == UInt8(ascii: "=") {
                    kind = .greaterOrEqual; index += 1
                } else {
                    kind = .greater
                }
            case UInt8(ascii: "#"), UInt8(ascii: ":"):
                index += 1
                while index < count, isWordByte(bytes[index]) { index += 1 }
                if index == start + 1 {
                    kind = .invalid
                } else {
                    kind = byte == UInt8(ascii: "#") ? .namePlaceholder : .valuePlaceholder
                }
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                index += 1
                while index < count, isDigit(bytes[index]) { index += 1 }
                kind = .number
            default:
                if isLetter(byte) || byte == UInt8(ascii: "_") {
                    index += 1
                    while index < count, isWordByte(bytes[index]) { index += 1 }
                    kind = .identifier
                } else {
                    // One whole character (all bytes of a multi-byte scalar).
                    index += 1
                    if byte >= 0x80 {
                        while index < count, bytes[index] & 0xC0 == 0x80 { index += 1 }
                    }
                    kind = .invalid
                }
            }
            tokens.append(Token(kind: kind, start: start, end: index))
        }
        tokens.append(Token(kind: .end, start: count, end: count))
        return tokens
    }

    @inline(__always) static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x0C || byte == 0x0B
    }

    @inline(__always) static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    @inline(__always) static func isLetter(_ byte: UInt8) -> Bool {
        (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z")
    }

    @inline(__always) static func isWordByte(_ byte: UInt8) -> Bool {
        isLetter(byte) || isDigit(byte) || byte == UInt8(ascii: "_")
    }

    /// Whether `text` is a well-formed placeholder: `sigil` followed by one or more `[A-Za-z0-9_]`.
    static func isPlaceholder(_ text: String, sigil: UInt8) -> Bool {
        var iterator = text.utf8.makeIterator()
        guard iterator.next() == sigil else { return false }
        var length = 0
        while let byte = iterator.next() {
            guard isWordByte(byte) else { return false }
            length += 1
        }
        return length > 0
    }
}
