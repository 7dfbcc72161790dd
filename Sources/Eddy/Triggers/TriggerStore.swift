import EddyStorage
import Foundation

/// A registered trigger mapping as the `triggers` key space keeps it.
struct StoredTriggerMapping: Codable, Sendable, Equatable {
    var uuid: String
    var name: String
    var configuration: TriggerMappingConfiguration
    var createdMilliseconds: Int64
}

/// Where trigger mappings and checkpoints live in the `triggers` key space:
/// `mapping/<name>` → the ``StoredTriggerMapping`` as JSON, and
/// `checkpoint/<uuid>/<stream id (8 bytes)><shard index (4 bytes)>` → the next sequence number the mapping
/// reads in that shard (8 bytes big-endian): every record below it has been handled (or skipped).
enum TriggerStore {
    private static let mappingPrefix = Array("mapping/".utf8)

    static func mappingKey(_ name: String) -> [UInt8] {
        mappingPrefix + Array(name.utf8)
    }

    static func checkpointPrefix(_ uuid: String) -> [UInt8] {
        Array("checkpoint/\(uuid)/".utf8)
    }

    static func checkpointKey(_ uuid: String, stream: UInt64, shard: UInt32) -> [UInt8] {
        var writer = ByteWriter(capacity: 12)
        writer.writeBigEndian(stream)
        writer.writeBigEndian(shard)
        return checkpointPrefix(uuid) + writer.bytes
    }

    static func encode(_ mapping: StoredTriggerMapping) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return Array(try! encoder.encode(mapping))
    }

    static func position(_ value: UInt64) -> [UInt8] {
        var writer = ByteWriter(capacity: 8)
        writer.writeBigEndian(value)
        return writer.bytes
    }
}

extension Database {
    /// The mapping named `name`, if one was registered.
    func storedTriggerMapping(named name: String) throws(EddyError) -> StoredTriggerMapping? {
        guard let bytes = try storageCall({ try store.get(TriggerStore.mappingKey(name), in: .triggers, snapshot: nil) }) else {
            return nil
        }
        do {
            return try JSONDecoder().decode(StoredTriggerMapping.self, from: Data(bytes))
        } catch {
            throw .internalServerError("A stored trigger mapping does not decode: \(error)")
        }
    }

    /// The checkpoints of mapping `uuid` in stream `stream`, by shard index.
    func triggerCheckpoints(_ uuid: String, stream: UInt64) throws(EddyError) -> [UInt32: UInt64] {
        let prefix = TriggerStore.checkpointPrefix(uuid)
        let cursor = try storageCall {
            try store.scan(in: .triggers, from: prefix, to: prefix.prefixSuccessor, direction: .forward, snapshot: nil)
        }
        var checkpoints: [UInt32: UInt64] = [:]
        while let (key, value) = try storageCall({ try cursor.next() }) {
            guard key.count == prefix.count + 12, value.count == 8 else { continue }
            let suffix = key[prefix.count...]
            let keyStream = suffix.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
            guard keyStream == stream else { continue }
            let shard = suffix.suffix(4).reduce(0) { $0 << 8 | UInt32($1) }
            checkpoints[shard] = value.reduce(0) { $0 << 8 | UInt64($1) }
        }
        return checkpoints
    }
}
