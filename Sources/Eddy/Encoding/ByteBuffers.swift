/// Appends Eddy's on-disk primitives to a byte array.
struct ByteWriter {
    var bytes: [UInt8]

    init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    mutating func write(_ byte: UInt8) {
        bytes.append(byte)
    }

    mutating func write(_ other: some Sequence<UInt8>) {
        bytes.append(contentsOf: other)
    }

    /// Unsigned LEB128: 7 bits a byte, low bits first.
    mutating func writeVarint(_ value: Int) {
        precondition(value >= 0, "varints encode lengths and counts only")
        var rest = UInt(value)
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    mutating func writeBigEndian(_ value: UInt64) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func writeBigEndian(_ value: UInt32) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func writeLengthPrefixed(_ utf8: String.UTF8View) {
        writeVarint(utf8.count)
        bytes.append(contentsOf: utf8)
    }

    mutating func writeLengthPrefixed(_ raw: [UInt8]) {
        writeVarint(raw.count)
        bytes.append(contentsOf: raw)
    }
}

/// Reads what ``ByteWriter`` wrote; every read checks bounds and throws on corrupt input.
struct ByteReader {
    let bytes: [UInt8]
    private(set) var offset: Int

    init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var isAtEnd: Bool { offset >= bytes.count }

    mutating func readByte() throws(EncodingError) -> UInt8 {
        guard offset < bytes.count else { throw EncodingError.truncated }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func readVarint() throws(EncodingError) -> Int {
        var result: UInt = 0
        var shift: UInt = 0
        while true {
            let byte = try readByte()
            guard shift < 63 else { throw EncodingError.corrupt("varint too long") }
            result |= UInt(byte & 0x7F) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
        }
        guard result <= UInt(Int.max) else { throw EncodingError.corrupt("varint out of range") }
        return Int(result)
    }

    mutating func readBytes(_ count: Int) throws(EncodingError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= bytes.count - offset else { throw EncodingError.truncated }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    mutating func readBigEndianUInt64() throws(EncodingError) -> UInt64 {
        let slice = try readBytes(8)
        return slice.reduce(0) { ($0 << 8) | UInt64($1) }
    }

    mutating func readLengthPrefixedBytes() throws(EncodingError) -> [UInt8] {
        let count = try readVarint()
        return Array(try readBytes(count))
    }

    /// Skips a length-prefixed run of bytes and returns its length.
    mutating func skipLengthPrefixed() throws(EncodingError) -> Int {
        let count = try readVarint()
        guard count <= bytes.count - offset else { throw EncodingError.truncated }
        offset += count
        return count
    }

    mutating func readLengthPrefixedString() throws(EncodingError) -> String {
        let count = try readVarint()
        return String(decoding: try readBytes(count), as: UTF8.self)
    }
}

/// Stored bytes that do not decode: a bug or a damaged database, never a user error.
enum EncodingError: Error, Equatable {
    case truncated
    case corrupt(String)
}
