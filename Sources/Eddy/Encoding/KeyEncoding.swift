/// Order-preserving, self-delimiting encodings of key values.
///
/// RocksDB compares keys as unsigned bytes; these encodings make that order DynamoDB's order for each key
/// type (strings by UTF-8 bytes, binaries as unsigned bytes, numbers numerically), and each encoding ends
/// itself, so a sort key can follow a partition key without ambiguity.
///
/// - Strings and binaries: the bytes, with `0x00` escaped as `0x00 0xFF`, then the terminator `0x00 0x01`.
///   A proper prefix sorts first because its terminator is below every escaped or plain byte.
/// - Numbers: one byte for the sign class (`0x01` negative, `0x02` zero, `0x03` positive); for non-zero
///   numbers, one byte for the scientific exponent (−130…125, offset to 0…255) and the significant digits as
///   nibbles `digit + 1`, ended by a `0` nibble. For negatives, the exponent and digit bytes are
///   complemented (`255 − b`), reversing their order, as larger magnitudes are smaller numbers.
enum KeyEncoding {
    private static let escape: UInt8 = 0xFF
    private static let terminator: UInt8 = 0x01
    static let negativeClass: UInt8 = 0x01
    static let zeroClass: UInt8 = 0x02
    static let positiveClass: UInt8 = 0x03
    static let exponentOffset = 130

    /// Appends the ordered encoding of a key value (S, N or B).
    static func append(_ value: AttributeValue, to writer: inout ByteWriter) {
        switch value {
        case .s(let string): appendEscaped(string.utf8, to: &writer)
        case .b(let bytes): appendEscaped(bytes, to: &writer)
        case .n(let number): appendNumber(number, to: &writer)
        default: preconditionFailure("key values are S, N or B; validation admits nothing else")
        }
    }

    /// Decodes one key value of `type` at the reader's position.
    static func read(_ type: ScalarAttributeType, from reader: inout ByteReader) throws(EncodingError) -> AttributeValue {
        switch type {
        case .s: .s(String(decoding: try readEscaped(from: &reader), as: UTF8.self))
        case .b: .b(try readEscaped(from: &reader))
        case .n: .n(try readNumber(from: &reader))
        }
    }

    /// The encoding of a string or binary prefix without its terminator: every value beginning with the
    /// prefix encodes to bytes beginning with these (for `begins_with` ranges).
    static func prefixBytes(_ value: AttributeValue) -> [UInt8] {
        var writer = ByteWriter()
        switch value {
        case .s(let string): appendEscapedBody(string.utf8, to: &writer)
        case .b(let bytes): appendEscapedBody(bytes, to: &writer)
        default: preconditionFailure("begins_with applies to S and B keys only")
        }
        return writer.bytes
    }

    /// Appends the ordered encoding of a string's UTF-8 or a binary's bytes.
    static func appendEscaped(_ bytes: some Sequence<UInt8>, to writer: inout ByteWriter) {
        appendEscapedBody(bytes, to: &writer)
        writer.write(0x00)
        writer.write(terminator)
    }

    private static func appendEscapedBody(_ bytes: some Sequence<UInt8>, to writer: inout ByteWriter) {
        for byte in bytes {
            writer.write(byte)
            if byte == 0x00 { writer.write(escape) }
        }
    }

    private static func readEscaped(from reader: inout ByteReader) throws(EncodingError) -> [UInt8] {
        var result: [UInt8] = []
        while true {
            let byte = try reader.readByte()
            guard byte == 0x00 else {
                result.append(byte)
                continue
            }
            switch try reader.readByte() {
            case escape: result.append(0x00)
            case terminator: return result
            default: throw EncodingError.corrupt("bad escape in key string")
            }
        }
    }

    private static func appendNumber(_ number: DecimalNumber, to writer: inout ByteWriter) {
        if number.isZero {
            writer.write(zeroClass)
            return
        }
        let digits = number.significantDigits
        let scientificExponent = number.exponent + digits.count - 1
        let mask: UInt8 = number.isNegative ? 0xFF : 0x00
        writer.write(number.isNegative ? negativeClass : positiveClass)
        writer.write(UInt8(scientificExponent + exponentOffset) ^ mask)
        var index = 0
        while index < digits.count {
            let high = digits[index] + 1
            let low = index + 1 < digits.count ? digits[index + 1] + 1 : 0
            writer.write(((high << 4) | low) ^ mask)
            index += 2
        }
        if digits.count % 2 == 0 { writer.write(mask) }
    }

    private static func readNumber(from reader: inout ByteReader) throws(EncodingError) -> DecimalNumber {
        let signClass = try reader.readByte()
        if signClass == zeroClass { return DecimalNumber(0) }
        guard signClass == negativeClass || signClass == positiveClass else {
            throw EncodingError.corrupt("bad number class in key")
        }
        let mask: UInt8 = signClass == negativeClass ? 0xFF : 0x00
        let scientificExponent = Int(try reader.readByte() ^ mask) - exponentOffset
        var coefficient: UInt128 = 0
        var digitCount = 0
        readDigits: while true {
            let byte = try reader.readByte() ^ mask
            for nibble in [byte >> 4, byte & 0x0F] {
                if nibble == 0 { break readDigits }
                guard nibble <= 10, digitCount < Limits.numberSignificantDigitsMax else {
                    throw EncodingError.corrupt("bad digit in key number")
                }
                coefficient = coefficient * 10 + UInt128(nibble - 1)
                digitCount += 1
            }
        }
        do {
            return try DecimalNumber(
                isNegative: mask != 0,
                coefficient: coefficient,
                exponent: scientificExponent - digitCount + 1
            )
        } catch {
            throw EncodingError.corrupt("key number out of range")
        }
    }
}

/// Partition hashing: spreads partitions over the key space as DynamoDB does, which gives Scan its order and
/// parallel scan its segments (contiguous ranges of hash values).
enum PartitionHash {
    /// FNV-1a over the partition key's ordered encoding, folded to 32 bits. Stable across versions: it is
    /// part of the on-disk layout.
    static func hash(of encodedPartitionKey: some Sequence<UInt8>) -> UInt32 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in encodedPartitionKey {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return UInt32(truncatingIfNeeded: hash ^ (hash >> 32))
    }

    /// The first hash value of `segment` out of `totalSegments` (segment `totalSegments` is the end).
    static func segmentStart(_ segment: Int, of totalSegments: Int) -> UInt64 {
        (UInt64(segment) << 32) / UInt64(totalSegments)
    }
}
