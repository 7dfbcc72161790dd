import EddyStorage
import Foundation

/// A registered trigger mapping as the `triggers` key space keeps it.
struct StoredTriggerMapping: Codable, Sendable, Equatable {
    var uuid: String
    var name: String
    var configuration: TriggerMappingConfiguration
    var createdMilliseconds: Int64
    var lastModifiedMilliseconds: Int64?
    /// What the mapping's handler stands for; nil for a mapping registered without one.
    var target: TriggerMappingTarget?
}

/// Where trigger mappings, their progress and their tumbling-window states live in the `triggers` key space:
///
/// - `mapping/<name>` → the ``StoredTriggerMapping`` as JSON;
/// - `checkpoint/<uuid>/<lane>` → the next sequence number the lane reads (8 bytes big-endian): every record
///   of the lane below it has been handled (or skipped);
/// - `window/<uuid>/<lane>` → the lane's open tumbling window (``StoredWindow`` as JSON).
///
/// A lane is `<stream id (8 bytes)><shard index (4 bytes)><parallelization factor (1)><lane index (1)>`: with
/// ParallelizationFactor F a shard's records are split over F lanes by partition key, each with its own
/// position, so that each lane commits alone. The lanes of one factor form a layout, always stored whole;
/// layouts of earlier factors stay until the current layout has passed them, because they still tell which
/// records are done.
enum TriggerStore {
    private static let mappingPrefix = Array("mapping/".utf8)

    static func mappingKey(_ name: String) -> [UInt8] {
        mappingPrefix + Array(name.utf8)
    }

    static var mappingsRange: (from: [UInt8], to: [UInt8]?) {
        (mappingPrefix, mappingPrefix.prefixSuccessor)
    }

    static func checkpointPrefix(_ uuid: String) -> [UInt8] {
        Array("checkpoint/\(uuid)/".utf8)
    }

    static func windowPrefix(_ uuid: String) -> [UInt8] {
        Array("window/\(uuid)/".utf8)
    }

    static func lane(stream: UInt64, shard: UInt32, factor: Int, lane: Int) -> [UInt8] {
        var writer = ByteWriter(capacity: 14)
        writer.writeBigEndian(stream)
        writer.writeBigEndian(shard)
        writer.bytes.append(UInt8(factor))
        writer.bytes.append(UInt8(lane))
        return writer.bytes
    }

    static func checkpointKey(_ uuid: String, stream: UInt64, shard: UInt32, factor: Int, lane: Int) -> [UInt8] {
        checkpointPrefix(uuid) + Self.lane(stream: stream, shard: shard, factor: factor, lane: lane)
    }

    static func windowKey(_ uuid: String, stream: UInt64, shard: UInt32, factor: Int, lane: Int) -> [UInt8] {
        windowPrefix(uuid) + Self.lane(stream: stream, shard: shard, factor: factor, lane: lane)
    }

    static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return Array(try! encoder.encode(value))
    }

    static func position(_ value: UInt64) -> [UInt8] {
        var writer = ByteWriter(capacity: 8)
        writer.writeBigEndian(value)
        return writer.bytes
    }
}

/// A lane's open tumbling window: where it starts (epoch seconds) and the state the handler returned last.
struct StoredWindow: Codable, Sendable, Equatable {
    var start: Int64
    var state: [String: String]
}

extension Database {
    /// The mapping named `name`, if one was registered.
    func storedTriggerMapping(named name: String) throws(EddyError) -> StoredTriggerMapping? {
        guard let bytes = try storageCall({ try store.get(TriggerStore.mappingKey(name), in: .triggers, snapshot: nil) }) else {
            return nil
        }
        return try decodeStoredMapping(bytes)
    }

    /// Every stored mapping, by name.
    func storedTriggerMappings() throws(EddyError) -> [StoredTriggerMapping] {
        let range = TriggerStore.mappingsRange
        let cursor = try storageCall {
            try store.scan(in: .triggers, from: range.from, to: range.to, direction: .forward, snapshot: nil)
        }
        var mappings: [StoredTriggerMapping] = []
        while let (_, value) = try storageCall({ try cursor.next() }) {
            mappings.append(try decodeStoredMapping(value))
        }
        return mappings
    }

    private func decodeStoredMapping(_ bytes: [UInt8]) throws(EddyError) -> StoredTriggerMapping {
        do {
            return try JSONDecoder().decode(StoredTriggerMapping.self, from: Data(bytes))
        } catch {
            throw .internalServerError("A stored trigger mapping does not decode: \(error)")
        }
    }

    /// The stored lane positions of mapping `uuid` in stream `stream`: by shard index, by parallelization
    /// factor, one position per lane.
    func triggerProgress(_ uuid: String, stream: UInt64) throws(EddyError) -> [UInt32: [Int: [Int: UInt64]]] {
        try storageCall { try TriggerStore.progress(in: store, uuid: uuid, stream: stream) }
    }

    /// The open tumbling windows of mapping `uuid` in stream `stream`, by shard index, factor and lane.
    func triggerWindows(_ uuid: String, stream: UInt64) throws(EddyError) -> [UInt32: [Int: [Int: StoredWindow]]] {
        var windows: [UInt32: [Int: [Int: StoredWindow]]] = [:]
        var failure: EddyError?
        try scanLanes(TriggerStore.windowPrefix(uuid), stream: stream) { shard, factor, lane, value in
            do {
                windows[shard, default: [:]][factor, default: [:]][lane] = try JSONDecoder().decode(StoredWindow.self, from: Data(value))
            } catch {
                failure = .internalServerError("A stored tumbling window does not decode: \(error)")
            }
        }
        if let failure { throw failure }
        return windows
    }

    private func scanLanes(
        _ prefix: [UInt8], stream: UInt64, _ body: (UInt32, Int, Int, [UInt8]) -> Void
    ) throws(EddyError) {
        try storageCall { try TriggerStore.scanLanes(in: store, prefix, stream: stream, body) }
    }
}

extension TriggerStore {
    /// The stored lane positions of mapping `uuid` in stream `stream` in `store`: by shard index, by
    /// parallelization factor, one position per lane.
    static func progress(in store: any OrderedKeyValueStore, uuid: String, stream: UInt64) throws -> [UInt32: [Int: [Int: UInt64]]] {
        var progress: [UInt32: [Int: [Int: UInt64]]] = [:]
        try scanLanes(in: store, checkpointPrefix(uuid), stream: stream) { shard, factor, lane, value in
            guard value.count == 8 else { return }
            progress[shard, default: [:]][factor, default: [:]][lane] = value.reduce(0) { $0 << 8 | UInt64($1) }
        }
        return progress
    }

    static func scanLanes(
        in store: any OrderedKeyValueStore, _ prefix: [UInt8], stream: UInt64, _ body: (UInt32, Int, Int, [UInt8]) -> Void
    ) throws {
        var start = prefix
        var writer = ByteWriter(capacity: 8)
        writer.writeBigEndian(stream)
        start += writer.bytes
        let cursor = try store.scan(in: .triggers, from: start, to: start.prefixSuccessor, direction: .forward, snapshot: nil)
        while let (key, value) = try cursor.next() {
            guard key.count == prefix.count + 14 else { continue }
            let suffix = key[(prefix.count + 8)...]
            let shard = suffix.prefix(4).reduce(0) { $0 << 8 | UInt32($1) }
            body(shard, Int(suffix[suffix.startIndex + 4]), Int(suffix[suffix.startIndex + 5]), value)
        }
    }
}
