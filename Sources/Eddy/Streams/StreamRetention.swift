import EddyStorage

/// What one retention pass lets go, computed by ``StreamRetention`` and applied by the committer (as
/// ``CatalogEffect/trimStreams(_:)``), which checks it against its own state: the committer is the only
/// writer of the streams catalog, so a plan may be stale by the time it commits, and is then applied only as
/// far as it still holds.
struct RetentionPlan: Sendable {
    /// The trim horizon the plan starts from: the trim below ``horizon`` is applied only if the committer's
    /// horizon is still this one, so that a stale plan never moves the horizon backwards nor records lost
    /// ranges twice.
    var previousHorizon: UInt64
    /// Every record with a lower sequence number has expired.
    var horizon: UInt64
    /// What goes with the trim below ``horizon``: the range deletion of each shard's expired records, and
    /// what the pass records of them first (the ranges trigger mappings lose).
    var trim: StorageBatch
    /// Records committed, shards closed and streams disabled before this time (milliseconds since 1970) have
    /// expired; so have the commit-time marks of the seconds wholly before it.
    var expiredBeforeMilliseconds: Int64
    /// Shards closed before ``expiredBeforeMilliseconds``: the committer removes each that is still closed
    /// then, with its records.
    var expiredShards: [ShardRef]
    /// Streams disabled before ``expiredBeforeMilliseconds``: the committer removes each that has no shard
    /// left once ``expiredShards`` are gone.
    var expiredStreams: [UInt64]

    /// The time of the first commit-time mark that may still be needed: the mark of a second holds the first
    /// sequence number committed in it, so a second that is not wholly expired keeps its mark.
    static func firstLiveMarkMilliseconds(expiredBefore: Int64) -> Int64 {
        expiredBefore - 999
    }
}

/// Stream retention: records live ``Limits/streamRetentionMilliseconds`` (24 hours), then go by range
/// deletion, one per shard; shards closed and streams disabled that long ago go too.
///
/// A pass reads what has expired and hands the committer a ``RetentionPlan``: the horizon comes from the
/// commit-time marks (every record below the first sequence number of the first second that is not wholly
/// expired has expired). Before the plan commits, `beforeTrim` records what the trim takes from trigger
/// mappings and announces the horizon to readers, so that a reader that finds records missing can tell they
/// were trimmed.
struct StreamRetention: Sendable {
    /// Runs while a pass plans to move the trim horizon from `previous` to `horizon`: it adds to the plan's
    /// batch what must be recorded of the expired records (what trigger mappings lose), and calls `announce`
    /// (which tells readers of the new horizon) where readers may learn it. Throwing fails the pass.
    typealias BeforeTrim =
        @Sendable (
            _ horizon: UInt64, _ previous: UInt64, _ streams: [UInt64: StreamDefinition], _ batch: inout StorageBatch,
            _ announce: () -> Void
        ) throws -> Void

    let store: any OrderedKeyValueStore
    let registry: StreamRegistry
    let clock: any WallClock
    let beforeTrim: BeforeTrim

    /// The plan of a pass now. Run one pass at a time: two plans made from the same horizon would both
    /// announce theirs, and only the first to commit trims.
    ///
    /// - Throws: the storage error or `beforeTrim`'s error that ended the pass; nothing is announced then.
    func plan() throws -> RetentionPlan {
        let expiredBefore = clock.nowMilliseconds() - Limits.streamRetentionMilliseconds
        // Read before the marks: a group published by then has its mark written, so without a live mark every
        // record up to here has expired. A group written later has higher numbers.
        let snapshot = registry.snapshot
        let previous = registry.trimmedBelowWritten
        var horizon = snapshot.committedThrough + 1
        let cursor = try store.scan(
            in: .streams,
            from: StreamRecordEncoding.markKey(milliseconds: RetentionPlan.firstLiveMarkMilliseconds(expiredBefore: expiredBefore)),
            to: StreamRecordEncoding.markKey(milliseconds: .max), direction: .forward, snapshot: nil)
        if let (_, value) = try cursor.next() {
            horizon = value.reduce(0) { $0 << 8 | UInt64($1) }
        }
        var trim = StorageBatch()
        if horizon > previous {
            try beforeTrim(horizon, previous, snapshot.streams, &trim) { registry.announceTrim(below: horizon) }
            for stream in snapshot.streams.values {
                for shard in stream.shards where shard.startingSequence < horizon {
                    trim.deleteRange(
                        from: StreamRecordEncoding.recordBound(stream: stream.id, shard: shard.index, sequence: 0),
                        to: StreamRecordEncoding.recordBound(stream: stream.id, shard: shard.index, sequence: horizon),
                        in: .streams)
                }
            }
        }
        var expiredShards: [ShardRef] = []
        var expiredStreams: [UInt64] = []
        for stream in snapshot.streams.values {
            let expired = stream.shards.filter { shard in shard.closedMilliseconds.map { $0 <= expiredBefore } ?? false }
            expiredShards += expired.map { ShardRef(stream: stream.id, index: $0.index) }
            if let disabled = stream.disabledMilliseconds, disabled <= expiredBefore, expired.count == stream.shards.count {
                expiredStreams.append(stream.id)
            }
        }
        return RetentionPlan(
            previousHorizon: previous, horizon: horizon, trim: trim, expiredBeforeMilliseconds: expiredBefore,
            expiredShards: expiredShards, expiredStreams: expiredStreams)
    }
}
