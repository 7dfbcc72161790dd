/// The compact binary encoding of an item, as stored in the `items` key space.
///
/// Layout: a format byte (`1`), the attribute count, then each attribute's name (length-prefixed UTF-8) and
/// value. A value is a type tag followed by its payload: strings and binaries length-prefixed, numbers in
/// ``KeyEncoding``'s self-delimiting form, booleans and null in the tag alone, lists, maps and sets as a count
/// followed by their members. Lengths and counts are LEB128 varints.
enum ItemEncoding {
    static let formatVersion: UInt8 = 1

    enum Tag: UInt8 {
        case s = 1, n, b, boolTrue, boolFalse, null, m, l, ss, ns, bs
    }

    /// The stored bytes of `item`.
    static func encode(_ item: Item) -> [UInt8] {
        var writer = ByteWriter(capacity: 128)
        writer.write(formatVersion)
        appendMap(item, to: &writer)
        return writer.bytes
    }

    /// The item stored as `bytes`; throws if they are not an item of this format.
    static func decode(_ bytes: [UInt8]) throws(EncodingError) -> Item {
        var reader = ByteReader(bytes)
        guard try reader.readByte() == formatVersion else { throw EncodingError.corrupt("unknown item format") }
        let item = try readMap(from: &reader)
        guard reader.isAtEnd else { throw EncodingError.corrupt("trailing bytes after item") }
        return item
    }

    /// Decodes the item held by the next `count` bytes of `reader` (an item embedded in a larger value, such
    /// as a stream record), without copying them out first.
    static func decode(from reader: inout ByteReader, count: Int) throws(EncodingError) -> Item {
        let end = reader.offset + count
        guard count >= 1, end <= reader.bytes.count else { throw EncodingError.truncated }
        guard try reader.readByte() == formatVersion else { throw EncodingError.corrupt("unknown item format") }
        let item = try readMap(from: &reader)
        guard reader.offset == end else { throw EncodingError.corrupt("an embedded item's length does not match") }
        return item
    }

    /// The item stored at `range` of `bytes` (an item embedded in a larger value, such as a stream record).
    static func decode(_ bytes: [UInt8], in range: Range<Int>) throws(EncodingError) -> Item {
        var reader = ByteReader(bytes, offset: range.lowerBound)
        return try decode(from: &reader, count: range.count)
    }

    /// The DynamoDB size (``ItemSize/of(_:)-(Item)``) of the item stored as `bytes`, read straight from them:
    /// no attribute is decoded, nothing is allocated. The write path sizes every item it replaces this way
    /// for the table's counters, where decoding the old item would cost a dictionary of strings.
    static func size(ofStored bytes: [UInt8]) throws(EncodingError) -> Int {
        try size(of: bytes, in: bytes.indices)
    }

    /// The DynamoDB size of the item stored at `range` of `bytes`, read as ``size(ofStored:)`` reads it. It
    /// checks the whole layout on the way (tags, lengths, the digits of every number), so an item it sizes
    /// also decodes and transcodes (``writeJSON(_:in:style:to:)``) without error.
    static func size(of bytes: [UInt8], in range: Range<Int>) throws(EncodingError) -> Int {
        guard range.lowerBound >= 0, range.upperBound <= bytes.count else { throw EncodingError.truncated }
        var reader = ByteReader(bytes, offset: range.lowerBound)
        guard try reader.readByte() == formatVersion else { throw EncodingError.corrupt("unknown item format") }
        let size = try entriesSize(count: reader.readVarint(), from: &reader)
        guard reader.offset == range.upperBound else { throw EncodingError.corrupt("trailing bytes after item") }
        return size
    }

    /// The top-level attribute `name` of the item stored at `range` of `bytes`, decoding no other attribute.
    static func attribute(_ name: String, of bytes: [UInt8], in range: Range<Int>) throws(EncodingError) -> AttributeValue? {
        var reader = try entriesReader(bytes, in: range)
        for _ in 0..<(try reader.readVarint()) {
            let length = try reader.readVarint()
            if try reader.readBytes(length).elementsEqual(name.utf8) { return try read(from: &reader) }
            _ = try valueSize(from: &reader)
        }
        return nil
    }

    /// The top-level attributes of the item stored at `range` of `bytes` whose names are in `names`, decoding
    /// no other attribute.
    static func attributes(_ names: Set<String>, of bytes: [UInt8], in range: Range<Int>) throws(EncodingError) -> Item {
        var reader = try entriesReader(bytes, in: range)
        var item: Item = [:]
        for _ in 0..<(try reader.readVarint()) {
            let name = try reader.readLengthPrefixedString()
            if names.contains(name) {
                item[name] = try read(from: &reader)
            } else {
                _ = try valueSize(from: &reader)
            }
        }
        return item
    }

    /// The item made of the top-level attributes named `names` of the item stored as `bytes` (its keys, for
    /// instance), in this encoding: their stored bytes copied as they are, none decoded.
    static func projection(_ names: [String], of bytes: [UInt8]) throws(EncodingError) -> [UInt8] {
        var reader = try entriesReader(bytes, in: bytes.indices)
        var kept: [Range<Int>] = []
        for _ in 0..<(try reader.readVarint()) {
            let start = reader.offset
            let length = try reader.readVarint()
            let name = try reader.readBytes(length)
            _ = try valueSize(from: &reader)
            if names.contains(where: { $0.utf8.elementsEqual(name) }) { kept.append(start..<reader.offset) }
        }
        guard reader.isAtEnd else { throw EncodingError.corrupt("trailing bytes after item") }
        var writer = ByteWriter(capacity: kept.reduce(6) { $0 + $1.count })
        writer.write(formatVersion)
        writer.writeVarint(kept.count)
        for range in kept { writer.write(bytes[range]) }
        return writer.bytes
    }

    /// The top-level attribute `name` of the item stored at `range` of `bytes` in ``KeyEncoding``'s ordered
    /// form (what ``PartitionHash`` hashes), read straight from the bytes; nil if the item has no such
    /// attribute, or it is not a string, number or binary.
    static func keyEncoded(_ name: String, of bytes: [UInt8], in range: Range<Int>) throws(EncodingError) -> [UInt8]? {
        var reader = try entriesReader(bytes, in: range)
        for _ in 0..<(try reader.readVarint()) {
            let length = try reader.readVarint()
            guard try reader.readBytes(length).elementsEqual(name.utf8) else {
                _ = try valueSize(from: &reader)
                continue
            }
            var writer = ByteWriter(capacity: 32)
            switch Tag(rawValue: try reader.readByte()) {
            case .s, .b:
                let count = try reader.readVarint()
                KeyEncoding.appendEscaped(try reader.readBytes(count), to: &writer)
            case .n:
                // A number is stored in the ordered form already.
                let start = reader.offset
                _ = try numberSize(from: &reader)
                writer.write(bytes[start..<reader.offset])
            default:
                return nil
            }
            return writer.bytes
        }
        return nil
    }

    /// A reader at the attribute count of the item stored at `range` of `bytes`.
    private static func entriesReader(_ bytes: [UInt8], in range: Range<Int>) throws(EncodingError) -> ByteReader {
        var reader = ByteReader(bytes, offset: range.lowerBound)
        guard try reader.readByte() == formatVersion else { throw EncodingError.corrupt("unknown item format") }
        return reader
    }

    /// The size of `count` map entries (names and values) from the reader's position.
    private static func entriesSize(count: Int, from reader: inout ByteReader) throws(EncodingError) -> Int {
        var total = 0
        for _ in 0..<count {
            total += try reader.skipLengthPrefixed() + valueSize(from: &reader)
        }
        return total
    }

    /// The size of the value at the reader's position, which it skips.
    static func valueSize(from reader: inout ByteReader) throws(EncodingError) -> Int {
        guard let tag = Tag(rawValue: try reader.readByte()) else { throw EncodingError.corrupt("unknown value tag") }
        switch tag {
        case .s, .b: return try reader.skipLengthPrefixed()
        case .n: return try numberSize(from: &reader)
        case .boolTrue, .boolFalse, .null: return 1
        case .m:
            let count = try reader.readVarint()
            return try 3 + count + entriesSize(count: count, from: &reader)
        case .l:
            let count = try reader.readVarint()
            var total = 3 + count
            for _ in 0..<count { total += try valueSize(from: &reader) }
            return total
        case .ss, .bs:
            let count = try reader.readVarint()
            var total = 0
            for _ in 0..<count { total += try reader.skipLengthPrefixed() }
            return total
        case .ns:
            let count = try reader.readVarint()
            var total = 0
            for _ in 0..<count { total += try numberSize(from: &reader) }
            return total
        }
    }

    /// The size of a number in ``KeyEncoding``'s form: one byte per two significant digits, plus one
    /// (`(digits + 1) / 2 + 1`, as ``ItemSize`` counts a decoded number). Checks what ``KeyEncoding`` writes:
    /// 1 to 38 digits, the first not zero.
    static func numberSize(from reader: inout ByteReader) throws(EncodingError) -> Int {
        let signClass = try reader.readByte()
        guard signClass != KeyEncoding.zeroClass else { return 1 }
        guard signClass == KeyEncoding.negativeClass || signClass == KeyEncoding.positiveClass else {
            throw EncodingError.corrupt("bad number class in key")
        }
        let mask: UInt8 = signClass == KeyEncoding.negativeClass ? 0xFF : 0x00
        _ = try reader.readByte()
        var digits = 0
        while true {
            let byte = try reader.readByte() ^ mask
            guard try countDigit(byte >> 4, &digits), try countDigit(byte & 0x0F, &digits) else { break }
        }
        guard digits > 0 else { throw EncodingError.corrupt("a key number without digits") }
        return (digits + 1) / 2 + 1
    }

    /// Counts the digit nibble `nibble` (`digit + 1`) into `digits`; false for the terminating `0` nibble.
    private static func countDigit(_ nibble: UInt8, _ digits: inout Int) throws(EncodingError) -> Bool {
        guard nibble != 0 else { return false }
        guard nibble <= 10, nibble >= (digits == 0 ? 2 : 1), digits < Limits.numberSignificantDigitsMax else {
            throw EncodingError.corrupt("bad digit in key number")
        }
        digits += 1
        return true
    }

    private static func appendMap(_ map: [String: AttributeValue], to writer: inout ByteWriter) {
        writer.writeVarint(map.count)
        for (name, value) in map {
            writer.writeLengthPrefixed(name.utf8)
            append(value, to: &writer)
        }
    }

    private static func append(_ value: AttributeValue, to writer: inout ByteWriter) {
        switch value {
        case .s(let string):
            writer.write(Tag.s.rawValue)
            writer.writeLengthPrefixed(string.utf8)
        case .n:
            writer.write(Tag.n.rawValue)
            KeyEncoding.append(value, to: &writer)
        case .b(let bytes):
            writer.write(Tag.b.rawValue)
            writer.writeLengthPrefixed(bytes)
        case .bool(let flag):
            writer.write(flag ? Tag.boolTrue.rawValue : Tag.boolFalse.rawValue)
        case .null:
            writer.write(Tag.null.rawValue)
        case .m(let map):
            writer.write(Tag.m.rawValue)
            appendMap(map, to: &writer)
        case .l(let list):
            writer.write(Tag.l.rawValue)
            writer.writeVarint(list.count)
            for element in list { append(element, to: &writer) }
        case .ss(let strings):
            writer.write(Tag.ss.rawValue)
            writer.writeVarint(strings.count)
            for string in strings { writer.writeLengthPrefixed(string.utf8) }
        case .ns(let numbers):
            writer.write(Tag.ns.rawValue)
            writer.writeVarint(numbers.count)
            for number in numbers { KeyEncoding.append(.n(number), to: &writer) }
        case .bs(let binaries):
            writer.write(Tag.bs.rawValue)
            writer.writeVarint(binaries.count)
            for binary in binaries { writer.writeLengthPrefixed(binary) }
        }
    }

    private static func readMap(from reader: inout ByteReader) throws(EncodingError) -> [String: AttributeValue] {
        let count = try reader.readVarint()
        var map: [String: AttributeValue] = [:]
        map.reserveCapacity(count)
        for _ in 0..<count {
            let name = try reader.readLengthPrefixedString()
            map[name] = try read(from: &reader)
        }
        return map
    }

    static func read(from reader: inout ByteReader) throws(EncodingError) -> AttributeValue {
        guard let tag = Tag(rawValue: try reader.readByte()) else { throw EncodingError.corrupt("unknown value tag") }
        switch tag {
        case .s: return .s(try reader.readLengthPrefixedString())
        case .n: return try KeyEncoding.read(.n, from: &reader)
        case .b: return .b(try reader.readLengthPrefixedBytes())
        case .boolTrue: return .bool(true)
        case .boolFalse: return .bool(false)
        case .null: return .null
        case .m: return .m(try readMap(from: &reader))
        case .l:
            let count = try reader.readVarint()
            var list: [AttributeValue] = []
            list.reserveCapacity(min(count, 1024))
            for _ in 0..<count { list.append(try read(from: &reader)) }
            return .l(list)
        case .ss:
            let count = try reader.readVarint()
            var strings: [String] = []
            for _ in 0..<count { strings.append(try reader.readLengthPrefixedString()) }
            return .ss(strings)
        case .ns:
            let count = try reader.readVarint()
            var numbers: [DecimalNumber] = []
            for _ in 0..<count {
                guard case .n(let number) = try KeyEncoding.read(.n, from: &reader) else {
                    throw EncodingError.corrupt("number set member")
                }
                numbers.append(number)
            }
            return .ns(numbers)
        case .bs:
            let count = try reader.readVarint()
            var binaries: [[UInt8]] = []
            for _ in 0..<count { binaries.append(try reader.readLengthPrefixedBytes()) }
            return .bs(binaries)
        }
    }
}
