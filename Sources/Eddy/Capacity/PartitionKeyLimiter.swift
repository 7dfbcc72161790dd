/// The limit of one partition key value: at most 3,000 read units or 1,000 write units per second, or a
/// linear combination of both (`reads / 3000 + writes / 1000 ≤ 1`), in either billing mode, with no burst
/// ("Designing partition keys to distribute your workload").
///
/// Each value has a bucket of one second's worth, counted in read units: 3,000 per second and never more; a
/// write unit costs 3 of them (3,000 / 1,000), so the combination is exact for whole and half units. As with a
/// table's bucket, a request is admitted while the bucket is not empty and is charged afterwards.
///
/// Memory is bounded by ``Limits/partitionKeysTrackedMax`` values over all tables and indexes: a value idle
/// for a second is back to a full share and is forgotten first; past the bound the least recently used values
/// are forgotten too, which only hands them a full share early.
struct PartitionKeyLimiter: Sendable {
    /// A partition key value of one table or global index.
    struct Key: Hashable, Sendable {
        /// The id of the table or index (never reused).
        var resourceId: UInt64
        var value: AttributeValue
    }

    private struct Entry: Sendable {
        var share: TokenBucket
        var usedAtMilliseconds: Int64
    }

    private let keysMax: Int
    private var entries: [Key: Entry] = [:]

    init(keysMax: Int = Limits.partitionKeysTrackedMax) {
        precondition(keysMax >= 2, "the limiter keeps some keys")
        self.keysMax = keysMax
    }

    /// How many values the limiter remembers now.
    var trackedCount: Int { entries.count }

    /// Whether `key` may take a request at `now`: its share of this second is not used up.
    func admits(_ key: Key, atMilliseconds now: Int64) -> Bool {
        entries[key]?.share.admits(atMilliseconds: now) ?? true
    }

    /// Charges `key` for what a request consumed at `now`.
    mutating func charge(_ key: Key, readUnits: Double, writeUnits: Double, atMilliseconds now: Int64) {
        let cost = readUnits + writeUnits * (Limits.partitionKeyReadUnitsPerSecondMax / Limits.partitionKeyWriteUnitsPerSecondMax)
        guard cost > 0 else { return }
        // One hash of the key for a value already tracked (the common case), changed in place.
        if let position = entries.index(forKey: key) {
            entries.values[position].share.debit(cost, atMilliseconds: now)
            entries.values[position].usedAtMilliseconds = now
            return
        }
        if entries.count >= keysMax { forgetIdle(atMilliseconds: now) }
        var share = TokenBucket(unitsPerSecond: Limits.partitionKeyReadUnitsPerSecondMax, burstSeconds: 1, nowMilliseconds: now)
        share.debit(cost, atMilliseconds: now)
        entries[key] = Entry(share: share, usedAtMilliseconds: now)
    }

    /// Forgets the values of the resources `resourceIds` (a deleted table or index).
    mutating func forget(resources resourceIds: Set<UInt64>) {
        entries = entries.filter { !resourceIds.contains($0.key.resourceId) }
    }

    /// Forgets the values whose bucket is full again; if that leaves more than half the bound, the least
    /// recently used too, so that the next sweep is at least `keysMax / 2` new values away.
    private mutating func forgetIdle(atMilliseconds now: Int64) {
        entries = entries.filter { !$0.value.share.isFull(atMilliseconds: now) }
        let keep = keysMax / 2
        guard entries.count > keep else { return }
        let recent = entries.sorted { $0.value.usedAtMilliseconds > $1.value.usedAtMilliseconds }.prefix(keep)
        entries = Dictionary(uniqueKeysWithValues: recent.map { ($0.key, $0.value) })
    }
}
