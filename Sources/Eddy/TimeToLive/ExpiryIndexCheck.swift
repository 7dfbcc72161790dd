import EddyStorage

/// What ``Database/checkIndexes(tableName:)`` found in a table's expiry index (Time to Live).
public struct ExpiryIndexCheckResult: Sendable, Equatable, Codable {
    /// Whether the items that were in the table when Time to Live was enabled are still being filed: entries
    /// may be missing meanwhile, never wrong.
    public var backfilling: Bool
    /// The entries the items imply: one per item whose expiry attribute can still expire, under the second
    /// of its expiry. None while Time to Live is disabled.
    public var expectedEntries: Int
    /// The entries the index holds. An item whose expiry is more than five years past may hold one (filed when
    /// it was written, before that) or none: it counts in neither of the next two.
    public var actualEntries: Int
    /// Entries an item implies that the index lacks.
    public var missingEntries: Int
    /// Entries the index holds that no item implies.
    public var unexpectedEntries: Int

    /// Whether the index holds exactly the entries the items imply (some may be missing while it is backfilled).
    public var isConsistent: Bool {
        unexpectedEntries == 0 && (missingEntries == 0 || backfilling)
    }

    enum CodingKeys: String, CodingKey {
        case backfilling = "Backfilling", expectedEntries = "ExpectedEntries", actualEntries = "ActualEntries"
        case missingEntries = "MissingEntries", unexpectedEntries = "UnexpectedEntries"
    }
}

/// The expiry entries a table's items imply, gathered while the check reads the items.
struct ExpectedExpiryEntries {
    private let tableId: UInt64
    private let rule: ExpiryRule?
    private let nowMilliseconds: Int64
    /// Entry keys, and whether each must exist (an item whose expiry is now more than five years past may
    /// still hold the entry it got when it was written).
    private var entries: [(key: [UInt8], required: Bool)] = []

    init(of table: ResolvedTable, nowMilliseconds: Int64) {
        tableId = table.id
        rule = table.expiry
        self.nowMilliseconds = nowMilliseconds
    }

    mutating func add(_ item: Item, at key: ItemKey) {
        guard let rule, let second = TimeToLiveRule.indexedSecond(of: item[rule.attributeName]) else { return }
        let required = TimeToLiveRule.entrySecond(of: item[rule.attributeName], writtenAtMilliseconds: nowMilliseconds) != nil
        entries.append((ExpiryIndex.entryKey(tableId: tableId, second: second, item: key), required))
    }

    /// The entries in key order.
    func sorted() -> [(key: [UInt8], required: Bool)] {
        entries.sorted { $0.key.lexicographicallyPrecedes($1.key) }
    }
}

extension Database {
    /// Compares the expiry index of table `tableId`, as `snapshot` holds it, with the entries its items imply.
    func checkExpiryIndex(
        ofTable tableId: UInt64, expected: ExpectedExpiryEntries, snapshot: any StorageSnapshot
    ) async throws(EddyError) -> ExpiryIndexCheckResult {
        let wanted = expected.sorted()
        let backfilling = try storageCall {
            try store.get(ExpiryIndex.progressKey(ofTable: tableId), in: .catalog, snapshot: snapshot)
        } != nil
        var result = ExpiryIndexCheckResult(
            backfilling: backfilling, expectedEntries: wanted.count(where: \.required), actualEntries: 0, missingEntries: 0,
            unexpectedEntries: 0)
        let range = ExpiryIndex.range(ofTable: tableId)
        let entries = try storageCall {
            try store.scan(in: .catalog, from: range.start, to: range.end, direction: .forward, snapshot: snapshot)
        }
        var next = 0
        while let (key, _) = try storageCall({ try entries.next() }) {
            result.actualEntries += 1
            if result.actualEntries % 256 == 0 { await Task.yield() }
            while next < wanted.count, wanted[next].key.lexicographicallyPrecedes(key) {
                if wanted[next].required { result.missingEntries += 1 }
                next += 1
            }
            guard next < wanted.count, wanted[next].key == key else {
                result.unexpectedEntries += 1
                continue
            }
            next += 1
        }
        result.missingEntries += wanted[next...].count(where: \.required)
        return result
    }
}
