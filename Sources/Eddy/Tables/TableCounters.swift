import EddyStorage

/// What DescribeTable reports of a table or an index: its items (or entries) and their size, counted as
/// DynamoDB counts item sizes (``ItemSize``), not as RocksDB stores them.
///
/// Each table and each index keeps one under `counters/<id>` (8 bytes big-endian) in the `catalog` key space:
/// the item count then the size in bytes, 8 bytes big-endian each. Every write adds its changes to
/// ``PreparedWrite/counters``, and the committer, which serializes commits, adds them up and stores the
/// result in the batch of the writes that change it, so a counter is exact whatever runs concurrently and
/// whatever crashes: DescribeTable reads it in constant time instead of counting.
struct TableCounter: Sendable, Equatable {
    var itemCount: Int64
    var sizeBytes: Int64

    static let zero = TableCounter(itemCount: 0, sizeBytes: 0)

    private static let prefix = Array("counters/".utf8)

    /// The key of the counter of table or index `id`.
    static func key(of id: UInt64) -> [UInt8] {
        var writer = ByteWriter(capacity: prefix.count + 8)
        writer.write(prefix)
        writer.writeBigEndian(id)
        return writer.bytes
    }

    func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: 16)
        writer.writeBigEndian(UInt64(bitPattern: itemCount))
        writer.writeBigEndian(UInt64(bitPattern: sizeBytes))
        return writer.bytes
    }

    /// The counter stored as `bytes`, nil if there is none (or it is not 16 bytes).
    static func decode(_ bytes: [UInt8]?) -> TableCounter? {
        guard let bytes, bytes.count == 16 else { return nil }
        var reader = ByteReader(bytes)
        guard let count = try? reader.readBigEndianUInt64(), let size = try? reader.readBigEndianUInt64() else { return nil }
        return TableCounter(itemCount: Int64(bitPattern: count), sizeBytes: Int64(bitPattern: size))
    }

    static func + (left: TableCounter, right: TableCounter) -> TableCounter {
        TableCounter(itemCount: left.itemCount + right.itemCount, sizeBytes: left.sizeBytes + right.sizeBytes)
    }
}

/// A change of the counter of table or index `id`, which the committer adds in the batch of the write
/// that makes it.
struct CounterChange: Sendable {
    var id: UInt64
    var delta: TableCounter
    /// When set, the change counts only if this index entry exists when the write commits: an index being
    /// backfilled may lack the entry of an item that its writer replaces.
    var ifEntryExists: [UInt8]? = nil
}

extension PreparedWrite {
    /// Adds to the change of counter `id`: `items` more items (or entries, negative for fewer) and
    /// `sizeBytes` more bytes.
    mutating func count(_ id: UInt64, items: Int64, sizeBytes: Int64) {
        guard items != 0 || sizeBytes != 0 else { return }
        let delta = TableCounter(itemCount: items, sizeBytes: sizeBytes)
        if let position = counters.firstIndex(where: { $0.id == id && $0.ifEntryExists == nil }) {
            counters[position].delta = counters[position].delta + delta
        } else {
            counters.append(CounterChange(id: id, delta: delta))
        }
    }

    /// Counts the replacement of `old` by `new` (nil: no item) in table or index `id`.
    mutating func count(_ id: UInt64, replacing old: Item?, with new: Item?) {
        count(
            id, items: (new == nil ? 0 : 1) - (old == nil ? 0 : 1),
            sizeBytes: Int64((new.map(ItemSize.of) ?? 0) - (old.map(ItemSize.of) ?? 0)))
    }
}

extension Database {
    /// The counter of table or index `id` as committed (zero if it has none).
    func counter(of id: UInt64) throws(EddyError) -> TableCounter {
        TableCounter.decode(try storageCall { try store.get(TableCounter.key(of: id), in: .catalog, snapshot: nil) }) ?? .zero
    }

    /// Gives every table and index that has no counter (a data directory written before Eddy kept them) one
    /// counted now, once: called when the database opens, before any write.
    static func initializeCounters(of catalog: Catalog, in store: any OrderedKeyValueStore) throws(EddyError) {
        var batch = StorageBatch()
        do {
            for name in catalog.tableNames() {
                guard let table = catalog.table(named: name) else { continue }
                for (id, space) in [(table.id, KeySpace.items)] + table.indexes.map({ ($0.id, KeySpace.indexes) }) {
                    guard try store.get(TableCounter.key(of: id), in: .catalog, snapshot: nil) == nil else { continue }
                    batch.put(TableCounter.key(of: id), try countEntries(in: space, id: id, of: store, snapshot: nil).encoded(), in: .catalog)
                }
            }
            if !batch.isEmpty { try store.write(batch, durability: .machineCrashSafe) }
        } catch let error as StorageError {
            throw .internalServerError("Cannot count a table's items: \(error.message)")
        } catch {
            throw .internalServerError("A stored item does not decode: \(error)")
        }
    }

    /// The number and total size of the entries (items, or index entries) whose keys start with `id`, as
    /// `snapshot` (nil: now) holds them.
    static func countEntries(
        in space: KeySpace, id: UInt64, of store: any OrderedKeyValueStore, snapshot: (any StorageSnapshot)?
    ) throws -> TableCounter {
        var counted = TableCounter.zero
        let cursor = try store.scan(in: space, from: ItemKey.tableStart(id), to: ItemKey.tableEnd(id), direction: .forward, snapshot: snapshot)
        while let (_, value) = try cursor.next() {
            counted.itemCount += 1
            counted.sizeBytes += Int64(ItemSize.of(try ItemEncoding.decode(value)))
        }
        return counted
    }
}
