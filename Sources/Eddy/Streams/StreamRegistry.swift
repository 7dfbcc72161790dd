import Synchronization

/// What readers may see of the streams: the committer publishes it after each commit group, readers take
/// a copy.
///
/// The visibility rule lives here: sequence numbers are assigned by the committer in queue order and a group
/// is written before it is published, so every record with a sequence number up to ``committedThrough`` is
/// in RocksDB, and no record with a higher one is yet visible to readers. A reader never reads past it, so
/// it can never pass a record that is still to commit.
struct StreamsSnapshot: Sendable {
    /// Every stream not yet expired, by id.
    var streams: [UInt64: StreamDefinition] = [:]
    /// The highest sequence number whose batch has committed.
    var committedThrough: UInt64 = 0
    /// Records with a lower sequence number may have been trimmed by retention.
    var trimmedBelow: UInt64 = 0

    /// The stream named by `arn`, if it exists.
    func stream(arn: String, tableArn: (String) -> String) -> StreamDefinition? {
        guard let (table, label) = StreamNames.parseArn(arn) else { return nil }
        return streams.values.first { $0.tableName == table && $0.label == label && StreamNames.arn(tableArn: tableArn(table), label: label) == arn }
    }
}

/// The published ``StreamsSnapshot`` and the signal that wakes stream readers.
final class StreamRegistry: Sendable {
    private let snapshotState: Mutex<StreamsSnapshot>
    private let trimmedBelowMark: Atomic<UInt64>
    let signal = CommitSignal()
    /// Fires after a commit group that changed the streams (a shard opened or closed, a stream enabled or
    /// disabled) or whose retention pass was written: what trigger mappings' schedulers wait for, so that
    /// ordinary commits wake only the readers.
    let shapeSignal = CommitSignal()
    private let trimmedBelowWrittenMark: Atomic<UInt64>
    /// One signal per shard that has a reader waiting on it alone (a trigger lane), by shard.
    private let shardSignals = Mutex<[ShardRef: CommitSignal]>([:])

    init(_ snapshot: StreamsSnapshot) {
        snapshotState = Mutex(snapshot)
        trimmedBelowMark = Atomic(snapshot.trimmedBelow)
        trimmedBelowWrittenMark = Atomic(snapshot.trimmedBelow)
    }

    var snapshot: StreamsSnapshot {
        snapshotState.withLock { $0 }
    }

    /// The current trim horizon, read after a scan to tell a record trimmed under the reader's feet from one
    /// that never existed.
    var trimmedBelow: UInt64 {
        trimmedBelowMark.load(ordering: .acquiring)
    }

    /// Announces a trim horizon before the range deletion that enforces it is written.
    func announceTrim(below sequence: UInt64) {
        trimmedBelowMark.store(sequence, ordering: .releasing)
        snapshotState.withLock { $0.trimmedBelow = sequence }
    }

    /// The trim horizon of the last retention pass written (``trimmedBelow`` is announced before it is): what
    /// that pass counted as lost is in storage.
    var trimmedBelowWritten: UInt64 {
        trimmedBelowWrittenMark.load(ordering: .acquiring)
    }

    /// The signal of shard `shard`: it fires after a commit group that gave the shard records, changed the
    /// streams (the shard may have closed) or trimmed. A reader of one shard waits on it, so that commits to
    /// other shards do not wake it.
    func signal(for shard: ShardRef) -> CommitSignal {
        shardSignals.withLock { signals in
            if let signal = signals[shard] { return signal }
            let signal = CommitSignal()
            signals[shard] = signal
            return signal
        }
    }

    /// Publishes what a committed group changed — its streams, if they changed, its retention pass's horizon,
    /// if it trimmed, and the shards that got records (`touched`) — and wakes the readers.
    func publish(
        streams: [UInt64: StreamDefinition]?, committedThrough: UInt64, trimmedBelow: UInt64? = nil, touched: Set<ShardRef> = []
    ) {
        snapshotState.withLock { snapshot in
            if let streams { snapshot.streams = streams }
            snapshot.committedThrough = committedThrough
        }
        if let trimmedBelow { trimmedBelowWrittenMark.store(trimmedBelow, ordering: .releasing) }
        signal.fire()
        let woken: [CommitSignal]
        if streams != nil || trimmedBelow != nil {
            shapeSignal.fire()
            woken = shardSignals.withLock { signals in
                // The signals of shards that no longer exist go.
                if let streams {
                    let live = Set(streams.values.flatMap { stream in stream.shards.map { ShardRef(stream: stream.id, index: $0.index) } })
                    signals = signals.filter { live.contains($0.key) }
                }
                return Array(signals.values)
            }
        } else {
            woken = shardSignals.withLock { signals in touched.compactMap { signals[$0] } }
        }
        for shardSignal in woken { shardSignal.fire() }
    }
}

/// A coalesced wake-up for stream readers: it carries no records; each reader, once woken, reads RocksDB at
/// its own pace, so a slow reader never holds memory on the write path.
final class CommitSignal: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var nextWaiter = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    /// The number of times the signal has fired; pass it to ``wait(after:)``.
    var generation: UInt64 {
        state.withLock { $0.generation }
    }

    /// How many readers wait for the signal now: a test waits for a reader to be parked before it appends, so
    /// that the append is what wakes it.
    var waiterCount: Int {
        state.withLock { $0.waiters.count }
    }

    /// Wakes every waiter.
    func fire() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.generation &+= 1
            guard !state.waiters.isEmpty else { return [] }
            let waiting = Array(state.waiters.values)
            state.waiters.removeAll(keepingCapacity: true)
            return waiting
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the signal has fired after `generation` (at once if it already has), or when the task is
    /// cancelled.
    func wait(after generation: UInt64) async {
        let id = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.generation != generation || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }
}
