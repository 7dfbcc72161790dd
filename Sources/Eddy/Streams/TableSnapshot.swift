import EddyStorage
import Foundation

/// A table's items as one storage snapshot holds them, and where the table's stream stood at that moment: the
/// start of a sink that loads a table's history before it follows the stream (a trigger mapping's initial
/// snapshot, Debezium's `r` events).
///
/// An item change and its stream record commit in one batch, and batches commit in sequence-number order, so a
/// snapshot sees the changes of a prefix of the stream: every record below ``streamSequence`` is reflected in
/// the items, and none at or above it. Loading the items, then delivering the stream from ``streamSequence``
/// on, gives every change exactly once. The snapshot is read page by page, in key order, while the table takes
/// writes; it pins the storage as of its creation until it is released (its last reference goes).
final class TableSnapshot: Sendable {
    /// The table, as its stream names it.
    let tableName: String
    /// The stream the snapshot is a position of.
    let stream: StreamDefinition
    /// The first sequence number of the stream that the items do not reflect: the stream continues there.
    let streamSequence: UInt64
    /// How many items the table holds in the snapshot (its exact counter, as DescribeTable's `ItemCount`).
    let itemCount: Int
    private let snapshot: any StorageSnapshot
    private let store: any OrderedKeyValueStore

    /// One stored item: its storage key (where a later page starts) and its stored bytes.
    struct Entry: Sendable {
        var key: [UInt8]
        var bytes: [UInt8]
    }

    init(
        tableName: String, stream: StreamDefinition, streamSequence: UInt64, itemCount: Int, snapshot: any StorageSnapshot,
        store: any OrderedKeyValueStore
    ) {
        self.tableName = tableName
        self.stream = stream
        self.streamSequence = streamSequence
        self.itemCount = itemCount
        self.snapshot = snapshot
        self.store = store
    }

    /// Up to `limit` items in key order after the item whose key is `key` (nil: from the first).
    func items(after key: [UInt8]?, limit: Int) throws(EddyError) -> [Entry] {
        let lower = key.map { $0 + [0] } ?? ItemKey.tableStart(stream.tableId)
        var entries: [Entry] = []
        do {
            let cursor = try store.scan(
                in: .items, from: lower, to: ItemKey.tableEnd(stream.tableId), direction: .forward, snapshot: snapshot)
            while entries.count < limit, let (key, value) = try cursor.next() {
                entries.append(Entry(key: key, bytes: value))
            }
        } catch {
            throw .internalServerError("Cannot read a table snapshot: \(error.message)")
        }
        return entries
    }

    /// How many items come after the item whose key is `key` (nil: all of them): the item count less the items
    /// up to `key`, which it counts.
    func itemCount(after key: [UInt8]?) throws(EddyError) -> Int {
        guard let key else { return itemCount }
        var before = 0
        do {
            let cursor = try store.scan(
                in: .items, from: ItemKey.tableStart(stream.tableId), to: key + [0], direction: .forward, snapshot: snapshot)
            while try cursor.next() != nil { before += 1 }
        } catch {
            throw .internalServerError("Cannot read a table snapshot: \(error)")
        }
        return Swift.max(0, itemCount - before)
    }

    /// Whether the snapshot holds the item whose storage key is `key`.
    func holds(_ key: [UInt8]) throws(EddyError) -> Bool {
        do {
            return try store.get(key, in: .items, snapshot: snapshot) != nil
        } catch {
            throw .internalServerError("Cannot read a table snapshot: \(error.message)")
        }
    }
}

extension Database {
    /// A snapshot of the table whose stream is `streamArn`, and the sequence number of that stream at which the
    /// snapshot's items end (see ``TableSnapshot``).
    ///
    /// - Throws: `ResourceNotFoundException` if there is no such stream; `ValidationException` if the stream
    ///   is disabled (its table's changes no longer reach it, so the items and the stream would part).
    func tableSnapshot(streamArn: String) throws(EddyError) -> TableSnapshot {
        try requireOpen()
        let named = try resolveStream(streamArn, in: streams.snapshot)
        let snapshot = store.makeSnapshot()
        // Read under the snapshot: the stream's shards and records as the items' changes left them.
        let stream: StreamDefinition
        do {
            guard let stored = try StreamStorage.definition(named.id, in: store, snapshot: snapshot), stored.isEnabled else {
                throw EddyError.validation("Stream \(streamArn) is disabled: a snapshot needs the stream its table's changes reach")
            }
            stream = stored
        } catch let error as EddyError {
            throw error
        } catch {
            throw .internalServerError("Cannot read the streams catalog: \(error)")
        }
        var next: UInt64 = 0
        for shard in stream.shards {
            let last = try storageCall {
                try store.scan(
                    in: .streams, from: StreamRecordEncoding.recordBound(stream: stream.id, shard: shard.index, sequence: 0),
                    to: StreamRecordEncoding.recordBound(stream: stream.id, shard: shard.index, sequence: .max),
                    direction: .backward, snapshot: snapshot
                ).next()
            }
            if let (key, _) = last {
                next = max(next, StreamRecordEncoding.sequence(ofRecordKey: key) + 1)
            }
        }
        let counter = TableCounter.decode(
            try storageCall { try store.get(TableCounter.key(of: stream.tableId), in: .catalog, snapshot: snapshot) }) ?? .zero
        return TableSnapshot(
            tableName: stream.tableName, stream: stream, streamSequence: next, itemCount: Int(counter.itemCount), snapshot: snapshot,
            store: store)
    }
}
