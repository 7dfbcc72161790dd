/// How stream records are laid out in the `streams` key space.
///
/// Record key: `stream id (8 bytes) · shard index (4) · sequence number (8) · commit time in milliseconds
/// (8)`, big-endian, so a shard's records are contiguous and in sequence order (sequence numbers are unique,
/// so the time never decides the order), and retention deletes a shard's expired records with one range
/// deletion. The time is in the key because the committer learns it last: the value the writer built is
/// stored as it is, without a copy. Commit-time marks live under stream id 0 (no stream has it): `0 (8) · second start in
/// milliseconds (8)` → the first sequence number committed in that second.
///
/// Record value: a format byte, the event name, a flags byte (bit 0: a change made by the service, such as
/// a TTL expiry), then the keys, the old image and the new image, each as ``ItemEncoding`` bytes behind a varint length (for the images,
/// length + 1, 0 meaning absent). The images are the bytes stored in the `items` key space, copied as they
/// are: recording a change costs no re-encoding. Both images that exist are kept whatever the stream's view
/// type (Kinesis Data Streams for DynamoDB carries both); readers decode the ones they return and skip the
/// others (``read(_:old:new:)``), and keep the bytes of those they return until someone asks for a value.
enum StreamRecordEncoding {
    private static let formatVersion: UInt8 = 1

    /// The key of record `sequence` of shard `shard` of stream `stream`, committed at `milliseconds`.
    static func recordKey(stream: UInt64, shard: UInt32, sequence: UInt64, milliseconds: Int64) -> [UInt8] {
        var writer = ByteWriter(capacity: 28)
        writer.writeBigEndian(stream)
        writer.writeBigEndian(shard)
        writer.writeBigEndian(sequence)
        writer.writeBigEndian(UInt64(max(0, milliseconds)))
        return writer.bytes
    }

    /// The first key at or after every record of shard `shard` of stream `stream` from `sequence` on: a
    /// bound for range reads and range deletions.
    static func recordBound(stream: UInt64, shard: UInt32, sequence: UInt64) -> [UInt8] {
        var writer = ByteWriter(capacity: 20)
        writer.writeBigEndian(stream)
        writer.writeBigEndian(shard)
        writer.writeBigEndian(sequence)
        return writer.bytes
    }

    /// The commit time in a record key.
    static func milliseconds(ofRecordKey key: [UInt8]) -> Int64 {
        Int64(key[20..<28].reduce(0) { $0 << 8 | UInt64($1) })
    }

    /// The sequence number in a record key.
    static func sequence(ofRecordKey key: [UInt8]) -> UInt64 {
        key[12..<20].reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// The key of the commit-time mark of the second starting at `milliseconds`.
    static func markKey(milliseconds: Int64) -> [UInt8] {
        var writer = ByteWriter(capacity: 16)
        writer.writeBigEndian(UInt64(0))
        writer.writeBigEndian(UInt64(max(0, milliseconds)))
        return writer.bytes
    }

    /// The time of a mark key.
    static func milliseconds(ofMarkKey key: [UInt8]) -> Int64 {
        Int64(key[8..<16].reduce(0) { $0 << 8 | UInt64($1) })
    }

    /// The value of a record.
    static func encode(
        eventName: StreamEventName, byService: Bool, keys: [UInt8], old: [UInt8]?, new: [UInt8]?
    ) -> [UInt8] {
        var writer = ByteWriter(capacity: 12 + keys.count + (old?.count ?? 0) + (new?.count ?? 0))
        writer.write(formatVersion)
        writer.write(code(of: eventName))
        writer.write(byService ? 1 : 0)
        writer.writeVarint(keys.count)
        writer.write(keys)
        for image in [old, new] {
            if let image {
                writer.writeVarint(image.count + 1)
                writer.write(image)
            } else {
                writer.writeVarint(0)
            }
        }
        return writer.bytes
    }

    /// A record value as readers get it: its keys and images stay the stored bytes.
    struct Read {
        var eventName: StreamEventName
        var byService: Bool
        /// The keys, and the images asked for.
        var images: EncodedStreamImages
        /// The DynamoDB size of the keys and of the images asked for.
        var sizeBytes: Int
    }

    /// Reads `value`, with its old image only if `old` and its new image only if `new` (an image not asked
    /// for is skipped: the record does not carry it). Nothing is decoded: the keys and images asked for are
    /// sized straight from the bytes, which checks that they decode (``ItemEncoding/size(of:in:)``).
    static func read(_ value: [UInt8], old: Bool, new: Bool) throws(EncodingError) -> Read {
        var reader = ByteReader(value)
        guard try reader.readByte() == formatVersion else { throw .corrupt("unknown stream record format") }
        let eventName: StreamEventName
        switch try reader.readByte() {
        case 1: eventName = .insert
        case 2: eventName = .modify
        case 3: eventName = .remove
        default: throw .corrupt("unknown stream event")
        }
        let byService = try reader.readByte() & 1 == 1
        let keysCount = try reader.readVarint()
        let keys = try range(ofNext: keysCount, in: &reader)
        var sizeBytes = try ItemEncoding.size(of: value, in: keys)
        let oldImage = try image(from: &reader, reading: old)
        let newImage = try image(from: &reader, reading: new)
        guard reader.isAtEnd else { throw .corrupt("trailing bytes after stream record") }
        if let oldImage { sizeBytes += try ItemEncoding.size(of: value, in: oldImage) }
        if let newImage { sizeBytes += try ItemEncoding.size(of: value, in: newImage) }
        return Read(
            eventName: eventName, byService: byService,
            images: EncodedStreamImages(bytes: value, keys: keys, newImage: newImage, oldImage: oldImage, codec: StoredItemCodec()),
            sizeBytes: sizeBytes)
    }

    /// Where the image at `reader` lies if `reading` and the record has it; nil otherwise (skipped).
    private static func image(from reader: inout ByteReader, reading: Bool) throws(EncodingError) -> Range<Int>? {
        let length = try reader.readVarint()
        guard length > 0 else { return nil }
        let stored = try range(ofNext: length - 1, in: &reader)
        return reading ? stored : nil
    }

    /// The range of the reader's next `count` bytes, which it skips.
    private static func range(ofNext count: Int, in reader: inout ByteReader) throws(EncodingError) -> Range<Int> {
        let start = reader.offset
        _ = try reader.readBytes(count)
        return start..<reader.offset
    }

    /// The partition hash (``PartitionHash``) of the keys stored at `range` of `bytes`, whose partition key is
    /// the attribute `partitionKey`: equal to `ShardProgress.partitionHash(ofKey:)` of the decoded key, read
    /// straight from the bytes.
    static func partitionHash(ofKeys bytes: [UInt8], in range: Range<Int>, partitionKey: String) throws(EncodingError) -> UInt32 {
        guard let encoded = try ItemEncoding.keyEncoded(partitionKey, of: bytes, in: range) else { return 0 }
        return PartitionHash.hash(of: encoded)
    }

    private static func code(of eventName: StreamEventName) -> UInt8 {
        switch eventName {
        case .insert: 1
        case .modify: 2
        case .remove: 3
        }
    }

    /// A record's eventID: 32 hex digits derived from the stream and the sequence number, so that reading
    /// the same record twice gives the same id.
    /// The event id of the `ordinal`-th item of a trigger mapping's initial snapshot of stream `stream`, read
    /// as of sequence number `sequence`: 32 hex digits like a record's, from a different mix.
    static func snapshotEventID(stream: UInt64, sequence: UInt64, ordinal: Int) -> String {
        eventID(stream: mix(stream ^ 0x736E_6170_7368_6F74), sequence: mix(sequence &+ UInt64(ordinal) &* 0x9E37_79B9_7F4A_7C15))
    }

    static func eventID(stream: UInt64, sequence: UInt64) -> String {
        let high = mix(stream &* 0x9E37_79B9_7F4A_7C15 ^ sequence)
        let low = mix(sequence &+ stream << 32 ^ 0x5851_F42D)
        return String(unsafeUninitializedCapacity: 32) { buffer in
            for digit in 0..<32 {
                let word = digit < 16 ? high : low
                let nibble = UInt8((word >> UInt64(60 - 4 * (digit % 16))) & 0xF)
                buffer[digit] = nibble < 10 ? 48 + nibble : 87 + nibble
            }
            return 32
        }
    }

    /// SplitMix64's finalizer: a bijective scramble of 64 bits.
    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Eddy's item encoding, as stream records keep their keys and images in it (see ``EncodedStreamImages``).
/// A record's items were sized when it was read (``StreamRecordEncoding/read(_:old:new:)``), which checks
/// that they decode, so failing here is a bug.
struct StoredItemCodec: StreamImageCodec {
    func decode(_ bytes: [UInt8], in range: Range<Int>) -> Item {
        do {
            return try ItemEncoding.decode(bytes, in: range)
        } catch {
            preconditionFailure("a stream record's item was checked when read, yet does not decode: \(error)")
        }
    }

    func writeJSON(_ bytes: [UInt8], in range: Range<Int>, style: ItemJSONStyle, to json: inout JSONWriter) {
        do {
            try ItemEncoding.writeJSON(bytes, in: range, style: style, to: &json)
        } catch {
            preconditionFailure("a stream record's item was checked when read, yet does not transcode: \(error)")
        }
    }

    func attribute(_ name: String, of bytes: [UInt8], in range: Range<Int>) -> AttributeValue? {
        do {
            return try ItemEncoding.attribute(name, of: bytes, in: range)
        } catch {
            preconditionFailure("a stream record's item was checked when read, yet does not decode: \(error)")
        }
    }
}
