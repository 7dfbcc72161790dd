/// A mapping's progress in one shard: with ParallelizationFactor F, the shard's records are split over F
/// lanes by partition key (so each item stays in one lane, in order), and each lane has its own position.
///
/// After the factor changes, the positions of the earlier factors' lanes (earlier layouts) are kept: a
/// record below its lane's position in any layout has been handled, so the new lanes skip it and a
/// derivative table never applies it twice. A layout is dropped once the current lanes have all passed it.
struct ShardProgress: Sendable, Equatable {
    /// The current factor.
    let factor: Int
    /// The position of each current lane: every record of the lane below it is done.
    var positions: [UInt64]
    /// Earlier layouts still needed: factor → the position of each of its lanes.
    var earlier: [Int: [UInt64]]

    /// The progress from the stored layouts (`stored`: factor → lane → position), for a mapping now running
    /// with `factor` lanes; `initial` is where a shard with no stored progress starts. A lane never starts
    /// below a position every record under which some layout has handled.
    init(stored: [Int: [Int: UInt64]], factor: Int, initial: UInt64) {
        self.factor = factor
        var layouts: [Int: [UInt64]] = [:]
        for (layoutFactor, lanes) in stored where lanes.count == layoutFactor && (1...10).contains(layoutFactor) {
            layouts[layoutFactor] = (0..<layoutFactor).map { lanes[$0]! }
        }
        // Every record below every lane position of some layout is done.
        let floor = layouts.values.map { $0.min()! }.max() ?? initial
        positions = (layouts[factor] ?? Array(repeating: floor, count: factor)).map { Swift.max($0, floor) }
        let currentFloor = positions.min()!
        earlier = layouts.filter { $0.key != factor && $0.value.max()! > currentFloor }
    }

    /// The layouts stored but no longer needed.
    func obsolete(stored: [Int: [Int: UInt64]]) -> [Int] {
        stored.keys.filter { $0 != factor && earlier[$0] == nil }
    }

    /// Whether the current layout differs from what is stored.
    func differs(from stored: [Int: [Int: UInt64]]) -> Bool {
        guard let lanes = stored[factor], lanes.count == factor else { return true }
        return (0..<factor).contains { lanes[$0] != positions[$0] }
    }

    /// Where the shard's unread records begin: no lane has handled a record below it.
    var floor: UInt64 { positions.min()! }

    /// The lane of a record whose partition key hashes to `hash`, with `factor` lanes.
    static func lane(of hash: UInt32, factor: Int) -> Int {
        guard factor > 1 else { return 0 }
        // The shard already took `hash` modulo the slot count; mix it so that lanes are not aligned with it.
        var mixed = UInt64(hash) &+ 0x9E37_79B9_7F4A_7C15
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        mixed ^= mixed >> 31
        return Int(mixed % UInt64(factor))
    }

    /// Whether the record at `sequence` with partition hash `hash` is done: below its lane's position, now or
    /// in an earlier layout.
    func isHandled(_ sequence: UInt64, hash: UInt32) -> Bool {
        sequence < positions[Self.lane(of: hash, factor: factor)]
            || earlier.contains { layoutFactor, lanes in sequence < lanes[Self.lane(of: hash, factor: layoutFactor)] }
    }

    /// The partition hash of `record`'s item (its key attribute `partitionKey`), which picks its lane: read
    /// from the stored keys when the record has them, decoding nothing.
    static func partitionHash(of record: StreamRecord, partitionKey: String) -> UInt32 {
        guard let images = record.dynamodb.encodedImages else {
            return partitionHash(ofKey: record.dynamodb.keys[partitionKey])
        }
        do {
            return try StreamRecordEncoding.partitionHash(ofKeys: images.bytes, in: images.keysRange, partitionKey: partitionKey)
        } catch {
            preconditionFailure("a stream record's keys were checked when read, yet do not decode: \(error)")
        }
    }

    /// The partition hash of an item whose partition key is `value`.
    static func partitionHash(ofKey value: AttributeValue?) -> UInt32 {
        guard let value else { return 0 }
        var writer = ByteWriter(capacity: 32)
        KeyEncoding.append(value, to: &writer)
        return PartitionHash.hash(of: writer.bytes)
    }

    /// Where a mapping reading from `startingPosition` starts in `shard` when it has no progress stored there.
    /// (A LATEST mapping stores its position in each shard of the stream when it is registered: a shard with
    /// none was created later, and is read from its start.)
    /// A mapping that began with a table snapshot read as of `snapshotSequence` starts there (or at the shard's
    /// start if later).
    static func initial(
        _ shard: ShardDefinition, from startingPosition: TriggerStartingPosition, in snapshot: StreamsSnapshot,
        snapshotSequence: UInt64? = nil
    ) -> UInt64 {
        if let snapshotSequence { return Swift.max(shard.startingSequence, snapshotSequence) }
        return startingPosition == .trimHorizon ? Swift.max(shard.startingSequence, snapshot.trimmedBelow) : shard.startingSequence
    }
}
