/// The limit of one partition key value: at most 3,000 read units or 1,000 write units per second, or a
/// linear combination of both (`reads / 3000 + writes / 1000 ≤ 1`), in either billing mode, with no burst
/// ("Designing partition keys to distribute your workload").
///
/// Each value has a bucket of one second's worth, counted in read units: 3,000 per second and never more; a
/// write unit costs 3 of them (3,000 / 1,000), so the combination is exact for whole and half units. As with a
/// table's bucket, a request is admitted while the bucket is not empty and is charged afterwards.
///
/// A value is known by its partition hash (``ItemKey/partitionHash``, the hash that places it in the key
/// space): values that share a hash share a partition, as they would in DynamoDB, whose partitions are hash
/// ranges. Hashing the value once, as the request's key is encoded anyway, keeps the check cheap.
///
/// Only values whose bucket is not full are remembered: a full bucket is what an unknown value has. A value
/// refills at 3,000 units a second, so few are ever below full at once (a table consuming `r` units a second
/// has about `r / 3000` of them): they live in a small open-addressing table that stays in the processor's
/// cache, probed over ``probeLength`` slots from the value's hash, where a slot whose bucket is full again is
/// free. The table doubles when the slots a value may take are all below full, up to
/// ``Limits/partitionKeysTrackedMax`` slots per table (with its indexes); past that bound, the value in those
/// slots closest to full is forgotten, which only hands it its last units early.
struct PartitionKeyLimiter: Sendable {
    /// A partition key value of one table or global index.
    struct Key: Hashable, Sendable {
        /// The id of the table or index (never reused).
        var resourceId: UInt64
        /// The value's partition hash.
        var partitionHash: UInt32
    }

    private struct Slot: Sendable {
        var key: Key
        var share: TokenBucket
    }

    /// How many slots from its hash a value may take.
    static let probeLength = 8

    private let keysMax: Int
    /// A power of two long; nil where no value was ever kept.
    private var slots: [Slot?]

    init(keysMax: Int = Limits.partitionKeysTrackedMax) {
        precondition(keysMax >= 2, "the limiter keeps some keys")
        self.keysMax = keysMax
        slots = Array(repeating: nil, count: Swift.min(64, Self.powerOfTwo(atMost: keysMax)))
    }

    /// How many values the limiter holds now (some may be full again, not yet overwritten).
    var trackedCount: Int { slots.reduce(0) { $0 + ($1 == nil ? 0 : 1) } }

    /// Whether `key` may take a request at `now`: its share of this second is not used up.
    func admits(_ key: Key, atMilliseconds now: Int64) -> Bool {
        guard let position = position(of: key, atMilliseconds: now) else { return true }
        return slots[position]!.share.admits(atMilliseconds: now)
    }

    /// Charges `key` for what a request consumed at `now`.
    mutating func charge(_ key: Key, readUnits: Double, writeUnits: Double, atMilliseconds now: Int64) {
        let cost = readUnits + writeUnits * (Limits.partitionKeyReadUnitsPerSecondMax / Limits.partitionKeyWriteUnitsPerSecondMax)
        guard cost > 0 else { return }
        if let position = position(of: key, atMilliseconds: now) {
            slots[position]!.share.debit(cost, atMilliseconds: now)
            return
        }
        var share = TokenBucket(unitsPerSecond: Limits.partitionKeyReadUnitsPerSecondMax, burstSeconds: 1, nowMilliseconds: now)
        share.debit(cost, atMilliseconds: now)
        slots[freeSlot(for: key, atMilliseconds: now)] = Slot(key: key, share: share)
    }

    /// Forgets the values of the resources `resourceIds` (a deleted table or index).
    mutating func forget(resources resourceIds: Set<UInt64>) {
        for position in slots.indices where slots[position].map({ resourceIds.contains($0.key.resourceId) }) == true {
            slots[position] = nil
        }
    }

    /// The slot holding `key` with a bucket not yet full at `now`, if any.
    private func position(of key: Key, atMilliseconds now: Int64) -> Int? {
        let mask = slots.count - 1
        var position = Self.home(of: key) & mask
        for _ in 0..<Swift.min(Self.probeLength, slots.count) {
            if let slot = slots[position], slot.key == key, !slot.share.isFull(atMilliseconds: now) { return position }
            position = (position + 1) & mask
        }
        return nil
    }

    /// A slot for `key`, which no slot holds below full: the first free one (empty, or full again) of its
    /// probe, after doubling the table if there is none and the bound allows; else the one closest to full.
    private mutating func freeSlot(for key: Key, atMilliseconds now: Int64) -> Int {
        while true {
            let mask = slots.count - 1
            let home = Self.home(of: key) & mask
            var fullest: (position: Int, balance: Double)?
            for step in 0..<Swift.min(Self.probeLength, slots.count) {
                let position = (home + step) & mask
                guard let slot = slots[position], !slot.share.isFull(atMilliseconds: now) else { return position }
                let balance = slot.share.balance(atMilliseconds: now)
                if balance > fullest?.balance ?? -.infinity { fullest = (position, balance) }
            }
            guard slots.count * 2 <= keysMax else { return fullest!.position }
            grow(atMilliseconds: now)
        }
    }

    /// Doubles the table, keeping the values below full at `now`.
    private mutating func grow(atMilliseconds now: Int64) {
        let kept = slots.compactMap { $0 }.filter { !$0.share.isFull(atMilliseconds: now) }
        slots = Array(repeating: nil, count: slots.count * 2)
        for slot in kept {
            slots[freeSlot(for: slot.key, atMilliseconds: now)] = slot
        }
    }

    /// Where the probe of `key` starts, before masking.
    private static func home(of key: Key) -> Int {
        Int(truncatingIfNeeded: (key.resourceId &* 0x9E37_79B9_7F4A_7C15) ^ UInt64(key.partitionHash))
    }

    private static func powerOfTwo(atMost value: Int) -> Int {
        1 << (Int.bitWidth - 1 - value.leadingZeroBitCount)
    }
}
