import EddyStorage
import Foundation

/// Where stream metadata lives in the `catalog` key space: `stream/<id>` → the ``StreamDefinition`` as
/// JSON, `next-sequence-number` → the sequence bound (no sequence number at or above it has been given out;
/// the committer reserves numbers ahead, see `CommitWork.reserveSequences()`) and `trimmed-below` → the trim horizon (8 bytes
/// big-endian each). All of them change only in the committer's batches, with the records they describe.
enum StreamStorage {
    private static let streamPrefix = Array("stream/".utf8)
    private static let nextSequenceKey = Array("next-sequence-number".utf8)
    private static let trimmedBelowKey = Array("trimmed-below".utf8)

    /// What the committer starts from when a database opens.
    struct Loaded {
        var streams: [UInt64: StreamDefinition] = [:]
        /// The first sequence number a commit may give: the persisted bound.
        var nextSequence: UInt64 = 1
        var trimmedBelow: UInt64 = 0
        /// The time of the newest commit-time mark, if any.
        var lastMarkMilliseconds: Int64?
    }

    static func load(from store: any OrderedKeyValueStore) throws(EddyError) -> Loaded {
        var loaded = Loaded()
        do {
            let cursor = try store.scan(
                in: .catalog, from: streamPrefix, to: streamPrefix.prefixSuccessor, direction: .forward, snapshot: nil)
            while let (_, value) = try cursor.next() {
                let definition = try JSONDecoder().decode(StreamDefinition.self, from: Data(value))
                loaded.streams[definition.id] = definition
            }
            if let bytes = try store.get(nextSequenceKey, in: .catalog, snapshot: nil) {
                var reader = ByteReader(bytes)
                loaded.nextSequence = try reader.readBigEndianUInt64()
            }
            if let bytes = try store.get(trimmedBelowKey, in: .catalog, snapshot: nil) {
                var reader = ByteReader(bytes)
                loaded.trimmedBelow = try reader.readBigEndianUInt64()
            }
            let marks = try store.scan(
                in: .streams, from: StreamRecordEncoding.markKey(milliseconds: 0),
                to: StreamRecordEncoding.markKey(milliseconds: .max), direction: .backward, snapshot: nil)
            if let (key, _) = try marks.next() {
                loaded.lastMarkMilliseconds = StreamRecordEncoding.milliseconds(ofMarkKey: key)
            }
        } catch let error as StorageError {
            throw .internalServerError("Cannot read the streams catalog: \(error.message)")
        } catch {
            throw .internalServerError("The streams catalog is damaged: \(error)")
        }
        return loaded
    }

    /// Stream `id` as `snapshot` (nil: now) holds it, or nil if it holds none.
    static func definition(
        _ id: UInt64, in store: any OrderedKeyValueStore, snapshot: (any StorageSnapshot)?
    ) throws -> StreamDefinition? {
        guard let value = try store.get(key(of: id), in: .catalog, snapshot: snapshot) else { return nil }
        return try JSONDecoder().decode(StreamDefinition.self, from: Data(value))
    }

    static func store(_ definition: StreamDefinition, into batch: inout StorageBatch) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        batch.put(key(of: definition.id), Array(try! encoder.encode(definition)), in: .catalog)
    }

    static func remove(_ id: UInt64, into batch: inout StorageBatch) {
        batch.delete(key(of: id), in: .catalog)
    }

    /// Persists the sequence bound: no sequence number at or above it has been given out.
    static func storeSequenceBound(_ value: UInt64, into batch: inout StorageBatch) {
        batch.put(nextSequenceKey, bigEndian(value), in: .catalog)
    }

    static func storeTrimmedBelow(_ value: UInt64, into batch: inout StorageBatch) {
        batch.put(trimmedBelowKey, bigEndian(value), in: .catalog)
    }

    private static func key(of id: UInt64) -> [UInt8] {
        streamPrefix + bigEndian(id)
    }

    private static func bigEndian(_ value: UInt64) -> [UInt8] {
        var writer = ByteWriter(capacity: 8)
        writer.writeBigEndian(value)
        return writer.bytes
    }
}
