import EddyStorage

/// Where a backfill stands: `backfill/<index id>` in the `catalog` key space holds the key of the last item
/// whose entry it wrote, in the same batch as those entries, so a backfill interrupted by a crash resumes
/// after it.
enum IndexBackfill {
    /// Items read, locked and written per batch.
    static let pageSize = 500

    static func progressKey(of indexId: UInt64) -> [UInt8] {
        var writer = ByteWriter(capacity: 17)
        writer.write(Array("backfill/".utf8))
        writer.writeBigEndian(indexId)
        return writer.bytes
    }
}

extension Database {
    /// Starts the backfill of index `indexId` of table `tableName` in the background; it runs while the
    /// database is open, and resumes when it is opened again.
    func startBackfill(tableName: String, indexId: UInt64) {
        repeatInBackground { database in
            // An error means the table went away or storage failed: the next open resumes after the last page.
            (try? await database.backfillPage(tableName: tableName, indexId: indexId)) ?? false
        }
    }

    /// Writes the entries of the next page of items into the index, each item read under its lock as it
    /// is now; when no item is left, makes the index `ACTIVE`. Returns whether pages remain.
    func backfillPage(tableName: String, indexId: UInt64) async throws(EddyError) -> Bool {
        guard let table = catalog.table(named: tableName), table.indexes.contains(where: { $0.id == indexId && !$0.isReadable })
        else { return false }
        let progressKey = IndexBackfill.progressKey(of: indexId)
        let done = try storageCall { try store.get(progressKey, in: .catalog, snapshot: nil) }
        let keys = try itemKeys(of: table, after: done, limit: IndexBackfill.pageSize)
        guard let last = keys.last else {
            try await finishBackfill(tableName: tableName, indexId: indexId)
            return false
        }
        let locked = Set(keys)
        return try await locks.withLocks(keys) { () async throws(EddyError) -> Bool in
            try await commitItemChange(in: [table]) { (tables: [ResolvedTable]) throws(EddyError) -> (PreparedWrite?, Bool) in
                guard let index = tables[0].indexes.first(where: { $0.id == indexId }) else { return (nil, false) }
                var write = PreparedWrite(stamping: tables)
                // One range read of the page under its locks: a cursor sees the store as of its creation, after
                // every lock was taken, so each locked item is read as it is now. Items the page did not lock
                // (written since the keys were listed) are their writers' to index.
                let cursor = try storageCall {
                    try store.scan(in: .items, from: keys[0].bytes, to: last.bytes + [0], direction: .forward, snapshot: nil)
                }
                while let (key, bytes) = try storageCall({ try cursor.next() }) {
                    guard locked.contains(ItemKey(bytes: key)) else { continue }
                    let item = try decodeItem(bytes)
                    guard let entryKey = index.entryKey(of: item) else { continue }
                    let value = index.entryValue(of: item, encoded: bytes)
                    // A write since the index's creation may have written the entry already: count only the change.
                    let existing = try storageCall { try store.get(entryKey.bytes, in: .indexes, snapshot: nil) }
                    if existing != value {
                        write.count(indexId, replacing: try existing.map(decodeItem), with: index.projected(item))
                    }
                    write.batch.put(entryKey.bytes, value, in: .indexes)
                }
                write.batch.put(progressKey, last.bytes, in: .catalog)
                return (write, true)
            }
        }
    }

    /// Up to `limit` keys of `table`'s items, in key order, after `done` (from the start if nil).
    func itemKeys(of table: ResolvedTable, after done: [UInt8]?, limit: Int) throws(EddyError) -> [ItemKey] {
        let start = done.map { $0 + [0] } ?? ItemKey.tableStart(table.id)
        let cursor = try storageCall {
            try store.scan(in: .items, from: start, to: ItemKey.tableEnd(table.id), direction: .forward, snapshot: nil)
        }
        var keys: [ItemKey] = []
        while keys.count < limit, let (key, _) = try storageCall({ try cursor.next() }) {
            keys.append(ItemKey(bytes: key))
        }
        return keys
    }

    /// Makes a backfilled index `ACTIVE` and forgets its progress.
    private func finishBackfill(tableName: String, indexId: UInt64) async throws(EddyError) {
        try await locks.withLock(Self.catalogLockKey) { () async throws(EddyError) in
            guard let table = catalog.table(named: tableName),
                let position = table.definition.indexes?.firstIndex(where: { $0.id == indexId })
            else { return }
            var definition = table.definition
            definition.indexes?[position].status = .active
            var batch = StorageBatch()
            batch.delete(IndexBackfill.progressKey(of: indexId), in: .catalog)
            catalog.store(definition, into: &batch)
            try await committer.commitCatalogChange(PreparedWrite(batch: batch, tables: [TableStamp(table)]))
            catalog.didStore(definition)
        }
    }

    /// Starts the backfills an earlier run of the database left unfinished.
    func resumeBackfills() {
        for name in catalog.tableNames() {
            guard let table = catalog.table(named: name) else { continue }
            for index in table.indexes where !index.isReadable {
                startBackfill(tableName: name, indexId: index.id)
            }
        }
    }
}
