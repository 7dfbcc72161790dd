import EddyStorage

/// What ``Database/checkIndexes(tableName:)`` found in one index.
public struct IndexCheckResult: Sendable, Equatable, Codable {
    public var indexName: String
    public var indexStatus: IndexStatus
    /// The entries the table's items imply.
    public var expectedEntries: Int
    /// The entries the index holds.
    public var actualEntries: Int
    /// Entries an item implies that the index lacks.
    public var missingEntries: Int
    /// Entries the index holds that no item implies.
    public var unexpectedEntries: Int
    /// Entries whose key is right but whose projected attributes differ from the item's.
    public var mismatchedEntries: Int
    /// The size of the entries the index holds, counted as DynamoDB counts item sizes.
    public var indexSizeBytes: Int64
    /// The entry count the index's counter keeps, which DescribeTable reports as its `ItemCount`.
    public var keptItemCount: Int64
    /// The size the index's counter keeps, which DescribeTable reports as its `IndexSizeBytes`.
    public var keptIndexSizeBytes: Int64

    /// Whether the index is what its table's items imply and its counter counts exactly its entries. An
    /// index being backfilled may still lack entries, but must hold no entry that is wrong.
    public var isConsistent: Bool {
        unexpectedEntries == 0 && mismatchedEntries == 0 && (missingEntries == 0 || indexStatus == .creating)
            && keptItemCount == Int64(actualEntries) && keptIndexSizeBytes == indexSizeBytes
    }

    enum CodingKeys: String, CodingKey {
        case indexName = "IndexName", indexStatus = "IndexStatus", expectedEntries = "ExpectedEntries"
        case actualEntries = "ActualEntries", missingEntries = "MissingEntries", unexpectedEntries = "UnexpectedEntries"
        case mismatchedEntries = "MismatchedEntries", indexSizeBytes = "IndexSizeBytes", keptItemCount = "KeptItemCount"
        case keptIndexSizeBytes = "KeptIndexSizeBytes"
    }
}

/// What ``Database/checkIndexes(tableName:)`` found in a table's indexes.
public struct IndexCheckReport: Sendable, Equatable, Codable {
    public var tableName: String
    public var itemCount: Int
    public var indexes: [IndexCheckResult]
    /// With local secondary indexes: the item collections (partition key values) the items make up.
    public var itemCollections: Int
    /// Item collections whose kept size differs from the size of their items and local index entries.
    public var mismatchedItemCollections: Int
    /// The size of the table's items, counted as DynamoDB counts item sizes.
    public var tableSizeBytes: Int64
    /// The item count the table's counter keeps, which DescribeTable reports as its `ItemCount`.
    public var keptItemCount: Int64
    /// The size the table's counter keeps, which DescribeTable reports as its `TableSizeBytes`.
    public var keptTableSizeBytes: Int64
    /// The table's expiry index (Time to Live), which holds no entry while Time to Live is disabled.
    public var expiryIndex: ExpiryIndexCheckResult

    /// Whether every index, the expiry index, every item collection's size and the table's counter are
    /// consistent with the table's items.
    public var isConsistent: Bool {
        indexes.allSatisfy(\.isConsistent) && expiryIndex.isConsistent && mismatchedItemCollections == 0
            && keptItemCount == Int64(itemCount) && keptTableSizeBytes == tableSizeBytes
    }

    enum CodingKeys: String, CodingKey {
        case tableName = "TableName", itemCount = "ItemCount", indexes = "Indexes", itemCollections = "ItemCollections"
        case mismatchedItemCollections = "MismatchedItemCollections", tableSizeBytes = "TableSizeBytes"
        case keptItemCount = "KeptItemCount", keptTableSizeBytes = "KeptTableSizeBytes", expiryIndex = "ExpiryIndex"
    }
}

extension Database {
    /// Proves that each index of a table holds exactly the entries its items imply: for every item with the
    /// index's key attributes (of the index's types), one entry under the item's index and table key
    /// holding the item's projected attributes, and no other entry; that the expiry index (Time to Live)
    /// holds one entry under the right second for every item that can still expire, and no other; and that
    /// the counters DescribeTable reports (``TableCounter``) equal a fresh count of the items and entries.
    /// The table, its indexes and its counters are read from one snapshot, so writes may go on meanwhile.
    /// `eddy check TABLE` runs it.
    ///
    /// - Throws: `ResourceNotFoundException` if there is no such table.
    public func checkIndexes(tableName: String) async throws(EddyError) -> IndexCheckReport {
        let table = try resolveTable(tableName)
        let snapshot = store.makeSnapshot()
        var expected = [[(key: [UInt8], value: [UInt8])]](repeating: [], count: table.indexes.count)
        var itemCount = 0
        var tableSizeBytes: Int64 = 0
        var collectionSizes: [[UInt8]: Int64] = [:]
        var expiry = ExpectedExpiryEntries(of: table, nowMilliseconds: configuration.clock.nowMilliseconds())
        let items = try storageCall {
            try store.scan(in: .items, from: ItemKey.tableStart(table.id), to: ItemKey.tableEnd(table.id), direction: .forward, snapshot: snapshot)
        }
        while let (key, bytes) = try storageCall({ try items.next() }) {
            itemCount += 1
            // A long check must not hold a thread of the cooperative pool: let other tasks run now and then.
            if itemCount % 256 == 0 { await Task.yield() }
            let item = try decodeItem(bytes)
            tableSizeBytes += Int64(ItemSize.of(item))
            expiry.add(item, at: ItemKey(bytes: key))
            if table.hasLocalIndexes, let partitionKey = item[table.key.partitionKeyName] {
                collectionSizes[ItemCollections.sizeKey(table: table, partitionKey: partitionKey), default: 0] +=
                    ItemCollections.size(of: item, in: table)
            }
            for (position, index) in table.indexes.enumerated() {
                guard let key = index.entryKey(of: item) else { continue }
                expected[position].append((key.bytes, index.entryValue(of: item, encoded: bytes)))
            }
        }
        var results: [IndexCheckResult] = []
        for (position, index) in table.indexes.enumerated() {
            let wanted = expected[position].sorted { $0.key.lexicographicallyPrecedes($1.key) }
            let kept = try keptCounter(of: index.id, snapshot: snapshot)
            var result = IndexCheckResult(
                indexName: index.name, indexStatus: index.definition.status, expectedEntries: wanted.count, actualEntries: 0,
                missingEntries: 0, unexpectedEntries: 0, mismatchedEntries: 0, indexSizeBytes: 0, keptItemCount: kept.itemCount,
                keptIndexSizeBytes: kept.sizeBytes)
            let entries = try storageCall {
                try store.scan(in: .indexes, from: ItemKey.tableStart(index.id), to: ItemKey.tableEnd(index.id), direction: .forward, snapshot: snapshot)
            }
            var next = 0
            while let (key, value) = try storageCall({ try entries.next() }) {
                result.actualEntries += 1
                result.indexSizeBytes += Int64(ItemSize.of(try decodeItem(value)))
                if result.actualEntries % 256 == 0 { await Task.yield() }
                while next < wanted.count, wanted[next].key.lexicographicallyPrecedes(key) {
                    result.missingEntries += 1
                    next += 1
                }
                guard next < wanted.count, wanted[next].key == key else {
                    result.unexpectedEntries += 1
                    continue
                }
                if try !sameItem(value, wanted[next].value) { result.mismatchedEntries += 1 }
                next += 1
            }
            result.missingEntries += wanted.count - next
            results.append(result)
        }
        // Every kept collection size must be its items' and entries' size; a collection with no items keeps none.
        var mismatched = 0
        let range = ItemCollections.sizeKeys(ofTable: table.id)
        let kept = try storageCall {
            try store.scan(in: .indexes, from: range.start, to: range.end, direction: .forward, snapshot: snapshot)
        }
        var checked = 0
        while let (key, value) = try storageCall({ try kept.next() }) {
            if collectionSizes[key] != ItemCollections.decode(value) { mismatched += 1 }
            if collectionSizes[key] != nil { checked += 1 }
        }
        mismatched += collectionSizes.count - checked
        let counter = try keptCounter(of: table.id, snapshot: snapshot)
        return IndexCheckReport(
            tableName: table.name, itemCount: itemCount, indexes: results, itemCollections: collectionSizes.count,
            mismatchedItemCollections: mismatched, tableSizeBytes: tableSizeBytes, keptItemCount: counter.itemCount,
            keptTableSizeBytes: counter.sizeBytes,
            expiryIndex: try await checkExpiryIndex(ofTable: table.id, expected: expiry, snapshot: snapshot))
    }

    /// The counter of table or index `id` as `snapshot` holds it; -1 items if there is none, which no
    /// count equals.
    private func keptCounter(of id: UInt64, snapshot: any StorageSnapshot) throws(EddyError) -> TableCounter {
        let stored = try storageCall { try store.get(TableCounter.key(of: id), in: .catalog, snapshot: snapshot) }
        return TableCounter.decode(stored) ?? TableCounter(itemCount: -1, sizeBytes: -1)
    }

    /// Whether two stored items hold the same attributes (map entries and set members may be stored in
    /// another order).
    private func sameItem(_ left: [UInt8], _ right: [UInt8]) throws(EddyError) -> Bool {
        if left == right { return true }
        return try decodeItem(left) == decodeItem(right)
    }
}
