import EddyStorage

/// One item's change as the write path commits it: the item's new stored bytes (or its deletion) and, when
/// the change is effective and the table has a stream, the stream record that goes in the same batch.
struct ItemChange {
    var key: ItemKey
    /// The item's key attributes, for the record's `Keys`.
    var keys: Item
    /// The stored bytes before the change; nil if there was no item. Every write reads them: the table's
    /// counters (``TableCounter``) need the old item's size, which is read from the bytes without decoding
    /// them (a table with indexes or Time to Live decodes them to move its entries).
    var old: [UInt8]?
    /// The stored bytes after the change; nil for a deletion.
    var new: [UInt8]?
    /// The item after the change, when the caller has it decoded already (index entries need it).
    var newItem: Item? = nil
    /// What the stream records; nil when the change changes nothing (no record is written).
    var eventName: StreamEventName?
    /// Whether DynamoDB itself made the change (a Time to Live expiry), not a request: the stream record then
    /// names the service as its `userIdentity`.
    var byService = false

    /// The event of replacing `old` by `new` (both stored bytes), nil if they hold the same item.
    static func event(replacing old: [UInt8]?, with new: [UInt8], newItem: Item) throws(EddyError) -> StreamEventName? {
        guard let old else { return .insert }
        if old == new { return nil }
        // Equal items encode to the same length: only the order of map entries and set members may differ.
        guard old.count == new.count else { return .modify }
        return try ItemEncoding.decodeStored(old) == newItem ? nil : .modify
    }
}

/// The DynamoDB size of the item stored as `bytes` (0 for none).
func storedSize(_ bytes: [UInt8]?) throws(EddyError) -> Int {
    guard let bytes else { return 0 }
    do {
        return try ItemEncoding.size(ofStored: bytes)
    } catch {
        throw .internalServerError("A stored item does not decode: \(error)")
    }
}

extension ItemEncoding {
    /// Decodes an item Eddy stored; damaged bytes are Eddy's error (InternalServerError), not the caller's.
    static func decodeStored(_ bytes: [UInt8]) throws(EddyError) -> Item {
        do {
            return try decode(bytes)
        } catch {
            throw .internalServerError("A stored item does not decode: \(error)")
        }
    }
}

extension PreparedWrite {
    /// A write to the items of `tables`, expecting each to have the stream it has now.
    init(stamping tables: [ResolvedTable]) {
        self.init(batch: StorageBatch(), tables: tables.map(TableStamp.init))
    }

    /// Adds `change` to the batch, with the changes of the table's index entries, its expiry entry (Time to
    /// Live), its counters and its stream record if `table` has a stream, charging no capacity: for the
    /// writes no request pays for (Time to Live deletions, backfills) and those nothing debits yet
    /// (derivative-table writes).
    mutating func add(_ change: ItemChange, in table: ResolvedTable) throws(EddyError) {
        var uncharged = CapacityCharge(tableName: table.name)
        try add(change, in: table, charging: &uncharged)
    }

    /// Adds `change` as ``add(_:in:)`` does, and the write units it consumes to `charge`: on the table, one
    /// per 1 KB of the larger of the item before and after it; on each index, those of the entries it puts
    /// and deletes (``addIndexEntries(of:old:new:in:charging:)``).
    mutating func add(_ change: ItemChange, in table: ResolvedTable, charging charge: inout CapacityCharge) throws(EddyError) {
        if let new = change.new {
            batch.put(change.key.bytes, new, in: .items)
        } else {
            batch.delete(change.key.bytes, in: .items)
        }
        let oldSize = try storedSize(change.old)
        let newSize = try storedSize(change.new)
        count(table.id, items: (change.new == nil ? 0 : 1) - (change.old == nil ? 0 : 1), sizeBytes: Int64(newSize - oldSize))
        charge.table.write += CapacityUnits.write(sizeBytes: max(oldSize, newSize))
        if !table.indexes.isEmpty || table.expiry != nil {
            let old = try change.old.map(ItemEncoding.decodeStored)
            var new = change.newItem
            if new == nil, let bytes = change.new { new = try ItemEncoding.decodeStored(bytes) }
            if !table.indexes.isEmpty { try addIndexEntries(of: change, old: old, new: new, in: table, charging: &charge) }
            if let rule = table.expiry { moveExpiryEntry(of: change.key, old: old, new: new, rule: rule, tableId: table.id) }
        }
        guard table.streamViewType != nil, let eventName = change.eventName else { return }
        // Both images, whatever the view type: readers project them (the Kafka sink reads both).
        records.append(
            PendingRecord(
                streamId: table.activeStreamId, partitionHash: change.key.partitionHash,
                value: StreamRecordEncoding.encode(
                    eventName: eventName, byService: change.byService, keys: ItemEncoding.encode(change.keys),
                    old: change.old, new: change.new)))
    }
}

extension Database {
    /// Prepares and commits a change to items of `tables` under item locks the caller holds, preparing it
    /// again (with the tables as they are now) if a table's stream was enabled or disabled in between, so
    /// the change lands in exactly the stream active when it commits.
    ///
    /// `prepare` returns the write (nil when there is nothing to write) and the operation's result.
    func commitItemChange<Result>(
        in tables: [ResolvedTable], _ prepare: ([ResolvedTable]) throws(EddyError) -> (PreparedWrite?, Result)
    ) async throws(EddyError) -> Result {
        var current = tables
        while true {
            let (write, result) = try prepare(current)
            guard let write else { return result }
            if try await committer.commit(write) == .committed { return result }
            await Task.yield()
            current = try current.map { (table: ResolvedTable) throws(EddyError) -> ResolvedTable in
                guard let now = catalog.table(named: table.name), now.id == table.id else {
                    throw .resourceNotFound("Requested resource not found")
                }
                return now
            }
        }
    }

    /// The stored bytes of the item at `key`, or nil.
    func readStoredItem(_ key: ItemKey) throws(EddyError) -> [UInt8]? {
        try storageCall { try store.get(key.bytes, in: .items, snapshot: nil) }
    }
}
