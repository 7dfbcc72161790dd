extension ItemEncoding {
    /// Appends the item stored at `range` of `bytes` as JSON, straight from the bytes: in DynamoDB's JSON
    /// (`style` `.typed`), what `JSONWriter.item(_:)` writes for the decoded item, or in plain JSON (`.plain`),
    /// what `JSONWriter.plainItem(_:)` writes; with the attributes in their stored order. Strings are copied
    /// (escaped), numbers written as their canonical text (`DecimalNumber.description`) from their stored
    /// digits, binaries in Base64; no attribute is decoded into a Swift value. Stream records reach GetRecords,
    /// trigger events and the sinks this way.
    static func writeJSON(
        _ bytes: [UInt8], in range: Range<Int>, style: ItemJSONStyle = .typed, to json: inout JSONWriter
    ) throws(EncodingError) {
        guard range.lowerBound >= 0, range.upperBound <= bytes.count else { throw EncodingError.truncated }
        var reader = ByteReader(bytes, offset: range.lowerBound)
        guard try reader.readByte() == formatVersion else { throw EncodingError.corrupt("unknown item format") }
        switch style {
        case .typed: try writeMap(from: &reader, to: &json, value: writeValue)
        case .plain: try writeMap(from: &reader, to: &json, value: writePlainValue)
        }
        guard reader.offset == range.upperBound else { throw EncodingError.corrupt("an embedded item's length does not match") }
    }

    /// `{…}` of a count and that many names, each followed by a value written by `value`.
    private static func writeMap(
        from reader: inout ByteReader, to json: inout JSONWriter,
        value: (inout ByteReader, inout JSONWriter) throws(EncodingError) -> Void
    ) throws(EncodingError) {
        json.literal("{")
        for index in 0..<(try reader.readVarint()) {
            if index > 0 { json.literal(",") }
            try writeString(from: &reader, to: &json)
            json.literal(":")
            try value(&reader, &json)
        }
        json.literal("}")
    }

    private static func writeValue(from reader: inout ByteReader, to json: inout JSONWriter) throws(EncodingError) {
        guard let tag = Tag(rawValue: try reader.readByte()) else { throw EncodingError.corrupt("unknown value tag") }
        switch tag {
        case .s:
            json.literal("{\"S\":")
            try writeString(from: &reader, to: &json)
        case .n:
            json.literal("{\"N\":")
            try writeNumber(from: &reader, to: &json, plain: false)
        case .b:
            json.literal("{\"B\":")
            try writeBase64(from: &reader, to: &json)
        case .boolTrue:
            json.literal("{\"BOOL\":true")
        case .boolFalse:
            json.literal("{\"BOOL\":false")
        case .null:
            json.literal("{\"NULL\":true")
        case .m:
            json.literal("{\"M\":")
            try writeMap(from: &reader, to: &json, value: writeValue)
        case .l:
            json.literal("{\"L\":")
            try writeArray(from: &reader, to: &json, element: writeValue)
        case .ss:
            json.literal("{\"SS\":")
            try writeArray(from: &reader, to: &json, element: writeString)
        case .ns:
            json.literal("{\"NS\":")
            try writeArray(from: &reader, to: &json, element: writeTypedNumber)
        case .bs:
            json.literal("{\"BS\":")
            try writeArray(from: &reader, to: &json, element: writeBase64)
        }
        json.literal("}")
    }

    /// A value in plain JSON: no type descriptors, sets as arrays, exact numbers unquoted.
    private static func writePlainValue(from reader: inout ByteReader, to json: inout JSONWriter) throws(EncodingError) {
        guard let tag = Tag(rawValue: try reader.readByte()) else { throw EncodingError.corrupt("unknown value tag") }
        switch tag {
        case .s: try writeString(from: &reader, to: &json)
        case .n: try writeNumber(from: &reader, to: &json, plain: true)
        case .b: try writeBase64(from: &reader, to: &json)
        case .boolTrue: json.literal("true")
        case .boolFalse: json.literal("false")
        case .null: json.literal("null")
        case .m: try writeMap(from: &reader, to: &json, value: writePlainValue)
        case .l: try writeArray(from: &reader, to: &json, element: writePlainValue)
        case .ss: try writeArray(from: &reader, to: &json, element: writeString)
        case .ns: try writeArray(from: &reader, to: &json, element: writePlainNumber)
        case .bs: try writeArray(from: &reader, to: &json, element: writeBase64)
        }
    }

    private static func writeTypedNumber(from reader: inout ByteReader, to json: inout JSONWriter) throws(EncodingError) {
        try writeNumber(from: &reader, to: &json, plain: false)
    }

    private static func writePlainNumber(from reader: inout ByteReader, to json: inout JSONWriter) throws(EncodingError) {
        try writeNumber(from: &reader, to: &json, plain: true)
    }

    /// `[…]` of a count and that many elements, each written by `element`.
    private static func writeArray(
        from reader: inout ByteReader, to json: inout JSONWriter,
        element: (inout ByteReader, inout JSONWriter) throws(EncodingError) -> Void
    ) throws(EncodingError) {
        json.literal("[")
        for index in 0..<(try reader.readVarint()) {
            if index > 0 { json.literal(",") }
            try element(&reader, &json)
        }
        json.literal("]")
    }

    /// A length-prefixed UTF-8 string, as a JSON string.
    private static func writeString(from reader: inout ByteReader, to json: inout JSONWriter) throws(EncodingError) {
        let count = try reader.readVarint()
        let utf8 = try reader.readBytes(count)
        utf8.withUnsafeBufferPointer { json.string(utf8: $0) }
    }

    /// A length-prefixed binary, as a JSON string of its Base64.
    private static func writeBase64(from reader: inout ByteReader, to json: inout JSONWriter) throws(EncodingError) {
        let count = try reader.readVarint()
        let binary = try reader.readBytes(count)
        binary.withUnsafeBufferPointer { json.base64String($0) }
    }

    /// A number in ``KeyEncoding``'s form, as the JSON string of its canonical text: plain notation, no
    /// exponent, no trailing zeros after a decimal point (`DecimalNumber.description`); with `plain`, that text
    /// unquoted when it is exact as a JSON number (`DecimalNumber.isExactPlainJSONNumber`).
    private static func writeNumber(from reader: inout ByteReader, to json: inout JSONWriter, plain: Bool) throws(EncodingError) {
        let signClass = try reader.readByte()
        guard signClass != KeyEncoding.zeroClass else {
            if plain { json.literal("0") } else { json.literal("\"0\"") }
            return
        }
        guard signClass == KeyEncoding.negativeClass || signClass == KeyEncoding.positiveClass else {
            throw EncodingError.corrupt("bad number class in key")
        }
        let mask: UInt8 = signClass == KeyEncoding.negativeClass ? 0xFF : 0x00
        let scientificExponent = Int(try reader.readByte() ^ mask) - KeyEncoding.exponentOffset
        // A first pass counts the digits up to the last non-zero one: the coefficient's digits.
        var counting = NumberDigits(reader: reader, mask: mask)
        var digitCount = 0
        var position = 0
        while let digit = try counting.next() {
            position += 1
            if digit != 0 { digitCount = position }
        }
        guard digitCount > 0 else {
            reader = counting.reader
            if plain { json.literal("0") } else { json.literal("\"0\"") }
            return
        }
        // The value is digits × 10^exponent; the point falls `point` digits from the left.
        let exponent = scientificExponent - digitCount + 1
        let point = scientificExponent + 1
        let quoted = !plain || !DecimalNumber.isExactPlainJSONNumber(significantDigits: digitCount, exponent: exponent)
        if quoted { json.literal("\"") }
        if mask != 0 { json.literal("-") }
        if point <= 0 {
            json.literal("0.")
            for _ in 0..<(-point) { json.raw(UInt8(ascii: "0")) }
        }
        var digits = NumberDigits(reader: reader, mask: mask)
        for index in 0..<digitCount {
            if index == point, point > 0 { json.literal(".") }
            json.raw(UInt8(ascii: "0") + (try digits.next() ?? 0))
        }
        for _ in 0..<Swift.max(0, exponent) { json.raw(UInt8(ascii: "0")) }
        if quoted { json.literal("\"") }
        reader = counting.reader
    }

    /// The digits of a number in ``KeyEncoding``'s form, most significant first: nibbles `digit + 1`, two a
    /// byte, ended by a `0` nibble; complemented for a negative number.
    private struct NumberDigits {
        var reader: ByteReader
        let mask: UInt8
        /// The low nibble of the byte read last, not yet returned.
        private var pendingLow: UInt8?

        init(reader: ByteReader, mask: UInt8) {
            self.reader = reader
            self.mask = mask
        }

        /// The next digit (0…9); nil once the terminating nibble has been read.
        mutating func next() throws(EncodingError) -> UInt8? {
            let nibble: UInt8
            if let low = pendingLow {
                nibble = low
                pendingLow = nil
            } else {
                let byte = try reader.readByte() ^ mask
                nibble = byte >> 4
                pendingLow = nibble == 0 ? nil : byte & 0x0F
            }
            guard nibble != 0 else { return nil }
            guard nibble <= 10 else { throw EncodingError.corrupt("bad digit in key number") }
            return nibble - 1
        }
    }
}
