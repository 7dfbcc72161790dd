import EddyStorage

/// The expiry index: the items of a table with Time to Live enabled, filed by the second they expire, so
/// that a sweep reads only what has expired.
///
/// Layout in the `catalog` key space: `expiry/<table id><second><item key after its table id>` → empty, the
/// table id and the second 8 bytes big-endian each. The second is the floor of the item's expiry attribute
/// (``TimeToLiveRule/indexedSecond(of:)``): a fraction is compared exactly when the sweep deletes the item.
/// `PreparedWrite.add` moves an item's entry in the batch of the item's change, so an entry exists exactly
/// for the items of the table that can still expire.
///
/// `expiry-backfill/<table id>` → the key of the last item whose entry the backfill has written (empty
/// before its first page): enabling Time to Live writes it, the backfill that files the items already there
/// advances it and deletes it once done. While it exists the table's entries may be incomplete, and the
/// sweep reads the table's items instead. `expiry-indexed` says that every table enabled before the index
/// existed got its backfill (a data directory written before gets them once, when it opens).
enum ExpiryIndex {
    private static let prefix = Array("expiry/".utf8)
    private static let progressPrefix = Array("expiry-backfill/".utf8)
    private static let legacyTablesIndexedKey = Array("expiry-indexed".utf8)
    /// Items read, locked and filed per backfill batch.
    static let backfillPageSize = 500

    /// The entry of the item at `key` (of table `tableId`) expiring in `second`.
    static func entryKey(tableId: UInt64, second: UInt64, item key: ItemKey) -> [UInt8] {
        var writer = ByteWriter(capacity: prefix.count + 16 + key.bytes.count - 8)
        writer.write(prefix)
        writer.writeBigEndian(tableId)
        writer.writeBigEndian(second)
        writer.write(key.bytes[8...])
        return writer.bytes
    }

    /// The first key of the entries of table `tableId` expiring in `second` or later.
    static func bound(tableId: UInt64, second: UInt64) -> [UInt8] {
        var writer = ByteWriter(capacity: prefix.count + 16)
        writer.write(prefix)
        writer.writeBigEndian(tableId)
        writer.writeBigEndian(second)
        return writer.bytes
    }

    /// Every entry of table `tableId` is in `start..<end`.
    static func range(ofTable tableId: UInt64) -> (start: [UInt8], end: [UInt8]) {
        (bound(tableId: tableId, second: 0), bound(tableId: tableId + 1, second: 0))
    }

    /// The key of the item whose entry is `entry`.
    static func itemKey(ofEntry entry: [UInt8]) -> ItemKey {
        let tableId = entry[prefix.count..<prefix.count + 8]
        return ItemKey(bytes: Array(tableId) + entry[(prefix.count + 16)...])
    }

    static func progressKey(ofTable tableId: UInt64) -> [UInt8] {
        var writer = ByteWriter(capacity: progressPrefix.count + 8)
        writer.write(progressPrefix)
        writer.writeBigEndian(tableId)
        return writer.bytes
    }

    /// Adds to `batch` the removal of table `tableId`'s entries and backfill progress (Time to Live disabled,
    /// or the table deleted).
    static func removeAll(ofTable tableId: UInt64, into batch: inout StorageBatch) {
        let range = range(ofTable: tableId)
        batch.deleteRange(from: range.start, to: range.end, in: .catalog)
        batch.delete(progressKey(ofTable: tableId), in: .catalog)
    }

    /// Gives every table whose Time to Live was enabled before the expiry index existed a backfill, once:
    /// called when the database opens, before any write, which is as durable as the database's writes.
    static func backfillLegacyTables(
        of catalog: Catalog, in store: any OrderedKeyValueStore, durability: Durability
    ) throws(EddyError) {
        do {
            guard try store.get(legacyTablesIndexedKey, in: .catalog, snapshot: nil) == nil else { return }
            var batch = StorageBatch()
            for name in catalog.tableNames() {
                guard let table = catalog.table(named: name), table.expiry != nil else { continue }
                batch.put(progressKey(ofTable: table.id), [], in: .catalog)
            }
            batch.put(legacyTablesIndexedKey, [], in: .catalog)
            try store.write(batch, durability: durability)
        } catch {
            throw .internalServerError("Cannot start the expiry index of older tables: \(error.message)")
        }
    }
}

/// Which attribute files a table's items in the expiry index, and the database clock that the five-year rule
/// reads when an item is written.
struct ExpiryRule: Sendable {
    let attributeName: String
    let clock: any WallClock

    /// The second under which `item`, written now, is filed; nil if it has no entry.
    func entrySecond(of item: Item) -> UInt64? {
        TimeToLiveRule.entrySecond(of: item[attributeName], writtenAtMilliseconds: clock.nowMilliseconds())
    }
}

extension TimeToLiveRule {
    /// The first second no database clock reaches: the clock is an `Int64` of milliseconds.
    private static let unreachableSecond = UInt64(Int64.max / 1000) + 1

    /// The floor of `value` if it is a Number an expiry can be compared with, whatever the clock: at least
    /// 0 and below 9,223,372,036,854,776 (a clock reading, an `Int64` of milliseconds, is below that; a
    /// Number reaches 9.99E+125, which no 8-byte key holds, and never expires). Nil for anything else:
    /// other types, negative numbers, larger ones.
    static func indexedSecond(of value: AttributeValue?) -> UInt64? {
        guard case .n(let number) = value, !number.isNegative else { return nil }
        guard number.exponent < 0 else {
            guard number.exponent <= 16 else { return nil }
            let (whole, overflow) = number.coefficient.multipliedReportingOverflow(by: power(of: number.exponent))
            return !overflow && whole < UInt128(unreachableSecond) ? UInt64(whole) : nil
        }
        // A coefficient has at most 38 digits: a larger negative exponent leaves nothing before the point.
        guard -number.exponent <= 38 else { return 0 }
        let whole = number.coefficient / power(of: -number.exponent)
        return whole < UInt128(unreachableSecond) ? UInt64(whole) : nil
    }

    /// The second under which an item whose expiry attribute is `value`, written at `now`, is filed in the
    /// expiry index; nil when it has no entry: when ``indexedSecond(of:)`` has none, and when `value` lies
    /// more than five years before `now` (such an item never expires: the clock only moves on).
    static func entrySecond(of value: AttributeValue?, writtenAtMilliseconds now: Int64) -> UInt64? {
        guard let second = indexedSecond(of: value), case .n(let number) = value,
            !(number < seconds(now - oldestExpiryAgeMilliseconds))
        else { return nil }
        return second
    }

    private static func power(of exponent: Int) -> UInt128 {
        (0..<exponent).reduce(UInt128(1)) { value, _ in value * 10 }
    }
}

extension PreparedWrite {
    /// Moves the entry of the item at `key` in the expiry index, in this write's batch: deletes the entry
    /// `old` may have (filed when it was written, perhaps more than five years before its expiry was past)
    /// and puts the one `new` has now.
    mutating func moveExpiryEntry(of key: ItemKey, old: Item?, new: Item?, rule: ExpiryRule, tableId: UInt64) {
        let oldSecond = old.flatMap { TimeToLiveRule.indexedSecond(of: $0[rule.attributeName]) }
        let newSecond = new.flatMap(rule.entrySecond)
        guard oldSecond != newSecond else { return }
        if let oldSecond { batch.delete(ExpiryIndex.entryKey(tableId: tableId, second: oldSecond, item: key), in: .catalog) }
        if let newSecond { batch.put(ExpiryIndex.entryKey(tableId: tableId, second: newSecond, item: key), [], in: .catalog) }
    }
}
