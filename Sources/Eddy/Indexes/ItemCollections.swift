import EddyStorage

/// Whether a write returns the size of the item collection it changed: DynamoDB's
/// `ReturnItemCollectionMetrics`. Only tables with local secondary indexes have item collections.
public enum ReturnItemCollectionMetrics: String, Codable, Sendable, CaseIterable {
    case size = "SIZE"
    case none = "NONE"
}

/// The size of one item collection after a write: DynamoDB's `ItemCollectionMetrics`.
public struct ItemCollectionMetrics: Codable, Sendable, Equatable {
    /// The collection's partition key attribute and value.
    public var itemCollectionKey: Item
    /// A lower and an upper bound of the collection's size, in GB: the whole gigabytes below it and the
    /// next one (`[0, 1]` for a collection under 1 GB).
    public var sizeEstimateRangeGB: [Double]

    enum CodingKeys: String, CodingKey {
        case itemCollectionKey = "ItemCollectionKey", sizeEstimateRangeGB = "SizeEstimateRangeGB"
    }
}

/// A change of an item collection's size, which the committer checks against the limit and applies in the
/// batch of the write that makes it.
struct CollectionChange: Sendable {
    /// Where the collection's size is kept (``ItemCollections/sizeKey(table:partitionKey:)``).
    var key: [UInt8]
    var delta: Int64
}

/// Item collections: in a table with local secondary indexes, the items of one partition key value with
/// their entries in those indexes, limited to ``Limits/itemCollectionSizeBytesMax`` together.
///
/// Each collection's size is kept in the `indexes` key space under `0 (8 bytes) · the partition's item key
/// prefix` (no index has id 0), 8 bytes big-endian, and changed by the committer, which serializes commits,
/// in the batch of the write that changes it: a write that would take a collection past the limit is refused
/// there with ItemCollectionSizeLimitExceededException and writes nothing.
enum ItemCollections {
    private static let marker = [UInt8](repeating: 0, count: 8)

    static func sizeKey(table: ResolvedTable, partitionKey: AttributeValue) -> [UInt8] {
        marker + ItemKey.partitionPrefix(layout: table.layout, partitionKey: partitionKey)
    }

    /// The range of the size keys of table `id`'s collections.
    static func sizeKeys(ofTable id: UInt64) -> (start: [UInt8], end: [UInt8]) {
        (marker + ItemKey.tableStart(id), marker + ItemKey.tableEnd(id))
    }

    /// What `item` adds to its collection in `table`: its size and the sizes of its local index entries.
    static func size(of item: Item, in table: ResolvedTable) -> Int64 {
        var size = ItemSize.of(item)
        for index in table.indexes where !index.isGlobal && index.entryKey(of: item) != nil {
            size += ItemSize.of(index.projected(item))
        }
        return Int64(size)
    }

    static func encode(_ size: Int64) -> [UInt8] {
        var writer = ByteWriter(capacity: 8)
        writer.writeBigEndian(UInt64(size))
        return writer.bytes
    }

    static func decode(_ bytes: [UInt8]?) -> Int64 {
        guard let bytes, bytes.count == 8 else { return 0 }
        return Int64(bitPattern: bytes.reduce(0) { $0 << 8 | UInt64($1) })
    }

    /// The metrics of the collection of `partitionKey` (name and value) that holds `size` bytes.
    static func metrics(size: Int64, partitionKey: (String, AttributeValue)) -> ItemCollectionMetrics {
        let gigabytes = (size / 1_073_741_824)
        return ItemCollectionMetrics(
            itemCollectionKey: [partitionKey.0: partitionKey.1], sizeEstimateRangeGB: [Double(gigabytes), Double(gigabytes + 1)])
    }
}

extension Database {
    /// The metrics of the collection of `key`'s partition in `table`, read as it is now.
    func itemCollectionMetrics(of key: Item, in table: ResolvedTable) throws(EddyError) -> ItemCollectionMetrics {
        let name = table.key.partitionKeyName
        let value = key[name]!
        let stored = try storageCall {
            try store.get(ItemCollections.sizeKey(table: table, partitionKey: value), in: .indexes, snapshot: nil)
        }
        return ItemCollections.metrics(size: ItemCollections.decode(stored), partitionKey: (name, value))
    }

    /// Per table with local secondary indexes, the metrics of each item collection that `writes` (the tables
    /// written and the written items' keys) touched, once each; read under the items' locks, after the commit.
    func itemCollectionMetrics(of writes: [(table: ResolvedTable, keys: Item)]) throws(EddyError) -> [String: [ItemCollectionMetrics]] {
        var metrics: [String: [ItemCollectionMetrics]] = [:]
        var seen = Set<[UInt8]>()
        for write in writes {
            guard let table = catalog.table(named: write.table.name), table.hasLocalIndexes,
                let partitionKey = write.keys[table.key.partitionKeyName],
                seen.insert(ItemCollections.sizeKey(table: table, partitionKey: partitionKey)).inserted
            else { continue }
            metrics[table.name, default: []].append(try itemCollectionMetrics(of: write.keys, in: table))
        }
        return metrics
    }
}
