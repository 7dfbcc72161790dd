import EddyStorage

extension Database {
    /// Starts filing the items of table `tableName` (id `tableId`) in its expiry index in the background, for
    /// the Time to Live setting enabled at `enabledMilliseconds`; it runs while the database is open, and
    /// resumes when it is opened again.
    func startExpiryBackfill(tableName: String, tableId: UInt64, enabledMilliseconds: Int64) {
        repeatInBackground { database in
            // An error means the table went away or storage failed: the next open resumes after the last page.
            (try? await database.expiryBackfillPage(tableName: tableName, tableId: tableId, enabledMilliseconds: enabledMilliseconds))
                ?? false
        }
    }

    /// Files the next page of the table's items in its expiry index, each item read under its lock as it is
    /// now, with the page's last key as the progress; when no item is left, deletes the progress, which ends
    /// the backfill. Returns whether pages remain. A backfill whose setting was disabled (or replaced) since
    /// stops.
    func expiryBackfillPage(tableName: String, tableId: UInt64, enabledMilliseconds: Int64) async throws(EddyError) -> Bool {
        let progressKey = ExpiryIndex.progressKey(ofTable: tableId)
        guard let table = catalog.table(named: tableName), table.id == tableId,
            table.definition.timeToLive?.updatedMilliseconds == enabledMilliseconds, table.expiry != nil,
            let done = try storageCall({ try store.get(progressKey, in: .catalog, snapshot: nil) })
        else { return false }
        let keys = try itemKeys(of: table, after: done.isEmpty ? nil : done, limit: ExpiryIndex.backfillPageSize)
        let locked = Set(keys)
        return try await locks.withLocks(keys) { () async throws(EddyError) -> Bool in
            try await commitItemChange(in: [table]) { (tables: [ResolvedTable]) throws(EddyError) -> (PreparedWrite?, Bool) in
                guard let rule = tables[0].expiry, tables[0].definition.timeToLive?.updatedMilliseconds == enabledMilliseconds else {
                    return (nil, false)
                }
                var write = PreparedWrite(stamping: tables)
                guard let first = keys.first, let last = keys.last else {
                    write.batch.delete(progressKey, in: .catalog)
                    return (write, false)
                }
                // One range read of the page under its locks (as an index backfill does): each locked item as it
                // is now; items written since the keys were listed filed their own entries.
                let cursor = try storageCall {
                    try store.scan(in: .items, from: first.bytes, to: last.bytes + [0], direction: .forward, snapshot: nil)
                }
                while let (key, bytes) = try storageCall({ try cursor.next() }) {
                    let itemKey = ItemKey(bytes: key)
                    guard locked.contains(itemKey), let second = rule.entrySecond(of: try decodeItem(bytes)) else { continue }
                    write.batch.put(ExpiryIndex.entryKey(tableId: tableId, second: second, item: itemKey), [], in: .catalog)
                }
                write.batch.put(progressKey, last.bytes, in: .catalog)
                return (write, true)
            }
        }
    }

    /// Starts the expiry backfills an earlier run of the database left unfinished.
    func resumeExpiryBackfills() throws(EddyError) {
        for name in catalog.tableNames() {
            guard let table = catalog.table(named: name), let setting = table.definition.timeToLive, setting.enabled,
                try isBackfillingExpiryIndex(ofTable: table.id)
            else { continue }
            startExpiryBackfill(tableName: name, tableId: table.id, enabledMilliseconds: setting.updatedMilliseconds)
        }
    }

    /// Whether the items of table `tableId` are being filed in its expiry index (Time to Live was enabled and
    /// the backfill has not finished).
    func isBackfillingExpiryIndex(ofTable tableId: UInt64) throws(EddyError) -> Bool {
        try storageCall { try store.get(ExpiryIndex.progressKey(ofTable: tableId), in: .catalog, snapshot: nil) } != nil
    }
}
