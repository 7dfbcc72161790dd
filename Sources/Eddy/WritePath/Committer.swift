import EddyStorage
import Foundation
import Synchronization

/// A table a change writes to, with the stream it expects the table to have (0: none) and the version of
/// its set of indexes. The committer refuses the change if the table is gone, and sends it back to be
/// prepared again if the table's stream or indexes changed meanwhile, so a change is recorded in exactly the
/// stream that is active when it commits and moves the entries of exactly the indexes that exist then.
struct TableStamp: Sendable, Hashable {
    var tableId: UInt64
    var streamId: UInt64
    var indexVersion: UInt64

    init(_ table: ResolvedTable) {
        tableId = table.id
        streamId = table.activeStreamId
        indexVersion = table.indexVersion
    }
}

/// A stream record waiting for its sequence number, shard and commit time.
struct PendingRecord: Sendable {
    var streamId: UInt64
    /// The partition hash of the changed item, which picks the shard.
    var partitionHash: UInt32
    /// The value from ``StreamRecordEncoding/encode(eventName:byService:keys:old:new:)``.
    var value: [UInt8]
}

/// A change to the set of tables and streams, applied by the committer in queue order.
enum CatalogEffect: Sendable {
    /// A table appears, with its stream if it has one (shards not yet filled in).
    case createTable(UInt64, stream: StreamDefinition?)
    /// A table disappears; its stream, if any, stops recording.
    case deleteTable(UInt64)
    /// A table gets a new stream (shards not yet filled in).
    case enableStream(StreamDefinition)
    /// A table's stream stops recording and its shards close.
    case disableStream(tableId: UInt64)
    /// A table's set of indexes changed: writes prepared for the previous version are prepared again.
    case changeIndexes(tableId: UInt64, version: UInt64)
    /// A retention pass: records older than the retention period go, and so do shards and streams that have
    /// expired, as far as the plan still holds when it commits.
    case trimStreams(RetentionPlan)
    /// Tables or indexes appear: their counters start at zero.
    case resetCounters([UInt64])
    /// Tables or indexes disappear, and so do their counters.
    case removeCounters([UInt64])
}

/// A change ready to commit: the storage writes of one operation, its stream records, and what it assumes
/// of the catalog.
struct PreparedWrite: Sendable {
    /// The writes, applied atomically with the rest of the change.
    var batch: StorageBatch
    /// The tables whose items the change writes, with the streams it expects them to have.
    var tables: [TableStamp] = []
    /// Stream records, given sequence numbers and committed in the same batch.
    var records: [PendingRecord] = []
    /// How the change alters the set of tables and streams.
    var effects: [CatalogEffect] = []
    /// How the change resizes item collections; the committer refuses it if one would pass the limit.
    var collections: [CollectionChange] = []
    /// How the change moves the item counts and sizes of tables and indexes (``TableCounter``).
    var counters: [CounterChange] = []
}

/// How a commit ended when it did not fail.
enum CommitOutcome: Sendable {
    case committed
    /// A table's stream or indexes changed between the preparation and the commit: prepare the change again.
    case tableChanged
}

/// The one place where a change becomes a RocksDB write.
///
/// Writers hand the committer prepared changes and wait. Whoever finds the committer idle drains the queue:
/// it merges the waiting changes, up to ``groupWritesMax`` of them and ``groupBytesMax`` bytes, into one batch
/// (group commit: one write, one WAL sync for the group), writes it, and resumes the waiters.
///
/// `rocksdb_write` must never block the cooperative pool, which under `eddy serve` serves the connections. It
/// blocks in two cases: for fsync with `machineCrashSafe`, and in every mode when RocksDB stalls writes while
/// compaction catches up. So with `machineCrashSafe` the committer's own thread (`eddy-committer`) drains; with
/// `processCrashSafe` a write is a memory append to the WAL, and the writer drains inline (saving two thread
/// wake-ups per commit, about a third of a lone PutItem) but asks RocksDB to refuse rather than stall
/// (``OrderedKeyValueStore/writeUnlessStalled(_:durability:)``, RocksDB's `no_slowdown`): a refused group is
/// handed to the committer's thread, which writes it, blocking as long as the stall lasts, and keeps draining
/// until the queue is empty; writers queue behind it and their tasks' threads go back to the pool.
///
/// Because commits are serialized here, this is also where a change meets the catalog and the streams: a
/// write to a table deleted meanwhile fails instead of leaving orphan items; stream records get their
/// sequence numbers in queue order (so one item's records are in the order of its commits, which its lock
/// serializes), their shard and their commit time; shards roll over; retention plans are applied as far as
/// they still hold; and after the group is written, the new "committed through" mark is published and stream
/// readers are woken.
final class Committer: Sendable {
    private struct Pending {
        var write: PreparedWrite
        /// The bytes the write adds to its group's batch.
        var bytes: Int
        var ticket: CommitTicket
    }

    private struct Queue {
        var pending: [Pending] = []
        var draining = false
    }

    /// Settings of shard roll-over and the clock, fixed when the database opens.
    struct StreamSettings: Sendable {
        var clock: any WallClock
        var shardLifetimeMilliseconds: Int64
        var shardRecordLimit: Int?
    }

    /// The most changes one commit group takes; the rest wait for the next group. A group is one RocksDB
    /// write: bounding it bounds how long its first writer waits behind the others and how much the merged
    /// batch copies, while 1,000 changes already share one WAL sync far past the point where the sync, not
    /// the group's size, is what a machine-crash-safe commit costs.
    static let groupWritesMax = 1_000
    /// The most bytes (keys, values and stream records) one commit group takes, unless its first change alone
    /// is larger. 4 MiB keeps a group well under RocksDB's 64 MiB write buffer, so that one group never fills
    /// a memtable by itself, and is written in a few milliseconds even by a slow disk.
    static let groupBytesMax = 4 << 20
    /// How long the drain thread watches an empty queue before it sleeps. A single client's next PutItem
    /// arrives a few tens of microseconds after the previous one returns; waking a sleeping thread for it
    /// costs about as much again.
    static let idleSpinMicroseconds = 50

    private let store: any OrderedKeyValueStore
    private let durability: Durability
    private let settings: StreamSettings
    private let registry: StreamRegistry
    private let queue = Mutex(Queue())
    /// The queue's length as of its last change, for the drain thread to watch without the lock.
    private let queuedCountHint = Atomic<Int>(0)
    /// Touched only by the drainer; the queue's `draining` flag hands it from one drainer to the next (and
    /// ``stalledGroup`` from an inline drainer to the thread).
    private let work: CommitWork
    /// A group RocksDB refused to write without stalling, handed to the committer's thread with the drainer
    /// role.
    private let stalledGroup = Mutex<MergedGroup?>(nil)
    private let drainSignal = DispatchSemaphore(value: 0)
    private let drainThreadExited = DispatchSemaphore(value: 0)
    private let stopped = Atomic<Bool>(false)
    /// Set by ``close()``: no commit is queued any more.
    private let closing = Atomic<Bool>(false)
    private let itemCollectionSizeLimit: Int64

    init(
        store: any OrderedKeyValueStore, durability: Durability, settings: StreamSettings,
        tables: [UInt64: TableStamp], streams: StreamStorage.Loaded, registry: StreamRegistry, itemCollectionSizeLimit: Int64
    ) {
        self.itemCollectionSizeLimit = itemCollectionSizeLimit
        self.store = store
        self.durability = durability
        self.settings = settings
        self.registry = registry
        self.work = CommitWork(tables: tables, loaded: streams)
        // The thread holds the committer weakly, so that closing the database releases the store (and
        // RocksDB's lock on the directory) as soon as `shutdown()` returns.
        let (signal, exited) = (drainSignal, drainThreadExited)
        let thread = Thread { [weak self] in
            Self.nameCurrentThread("eddy-committer")
            Self.runDrainThread(of: { self }, signal: signal)
            exited.signal()
        }
        thread.start()
    }

    /// Stops the drain thread and waits until it has let go of the committer. Calling it again does nothing.
    func shutdown() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        drainSignal.signal()
        drainThreadExited.wait()
    }

    /// Refuses every commit from now on (``closedError``), waits until the commits already queued are written,
    /// then stops the drain thread.
    func close() async {
        closing.store(true, ordering: .releasing)
        while queue.withLock({ !$0.pending.isEmpty || $0.draining }) {
            // A group being written is one RocksDB write away from done.
            try? await Task.sleep(for: .milliseconds(1))
        }
        shutdown()
    }

    /// The error of every operation on a closed database.
    static let closedError = EddyError.internalServerError("The database is closed")

    /// How many changes wait for a group now: a test holds a group's write back and waits for the queue to
    /// fill behind it.
    var queuedCount: Int {
        queue.withLock { $0.pending.count }
    }

    /// Commits `write` atomically and durably as the database's durability mode promises, unless a table
    /// it stamps changed its stream meanwhile (then nothing is written and the outcome says so).
    func commit(_ write: PreparedWrite) async throws(EddyError) -> CommitOutcome {
        let ticket = CommitTicket()
        let pending = Pending(write: write, bytes: Self.bytes(of: write), ticket: ticket)
        let (queued, becomesDrainer) = queue.withLock { queue -> (Bool, Bool) in
            // Checked under the queue's lock, so that ``close()`` sees every commit queued before it.
            guard !closing.load(ordering: .acquiring) else { return (false, false) }
            queue.pending.append(pending)
            queuedCountHint.store(queue.pending.count, ordering: .releasing)
            guard !queue.draining else { return (true, false) }
            queue.draining = true
            return (true, true)
        }
        guard queued else { throw Self.closedError }
        if becomesDrainer {
            if durability == .machineCrashSafe {
                drainSignal.signal()
            } else {
                drain(inline: true)
            }
        }
        return try await ticket.outcome().get()
    }

    /// Commits a catalog change made under the catalog lock, where no stream can change underneath.
    func commitCatalogChange(_ write: PreparedWrite) async throws(EddyError) {
        guard try await commit(write) == .committed else {
            throw .internalServerError("A table's stream or indexes changed during a catalog change")
        }
    }

    /// Names the calling thread, as `top -H`, `perf` and debuggers show it. On Linux, Foundation's
    /// `Thread.name` does not reliably reach the thread (set before `start()` it never does), and Swift cannot
    /// call `pthread_setname_np` (it is hidden behind `_GNU_SOURCE`), so the name is written where the kernel
    /// keeps it.
    private static func nameCurrentThread(_ name: String) {
        #if os(Linux)
        try? name.write(toFile: "/proc/thread-self/comm", atomically: false, encoding: .utf8)
        #else
        Thread.current.name = name
        #endif
    }

    private static func runDrainThread(of committer: () -> Committer?, signal: DispatchSemaphore) {
        while true {
            signal.wait()
            guard let committer = committer(), !committer.stopped.load(ordering: .acquiring) else { return }
            if let stalled = committer.stalledGroup.withLock({ $0.take() }) {
                committer.write(stalled, refusingStalls: false)
            }
            committer.drain(inline: false)
        }
    }

    /// Commits groups until the queue is empty, then gives up the drainer role (the next commit takes it).
    /// Inline, it gives it to the committer's thread instead if RocksDB would stall a group; the thread
    /// watches an empty queue for ``idleSpinMicroseconds`` before it gives the role up.
    private func drain(inline: Bool) {
        while true {
            if !inline {
                // Watched without the queue's lock, which writers take to enqueue.
                let deadline = ContinuousClock.now + .microseconds(Self.idleSpinMicroseconds)
                while queuedCountHint.load(ordering: .acquiring) == 0, ContinuousClock.now < deadline { sched_yield() }
            }
            let group = queue.withLock { queue -> [Pending]? in
                if queue.pending.isEmpty {
                    queue.draining = false
                    return nil
                }
                let group = Self.takeGroup(from: &queue.pending)
                queuedCountHint.store(queue.pending.count, ordering: .releasing)
                return group
            }
            guard let group else { return }
            guard write(commitGroup(group), refusingStalls: inline) else {
                // The thread has the group and the drainer role now.
                drainSignal.signal()
                return
            }
        }
    }

    /// The counters a commit group changes, as they will be after it (nil: removed), in the order they were
    /// first changed. A group changes few counters (mostly one), so a list searched in order beats hashing.
    struct GroupCounters: Sendable {
        private(set) var entries: [(id: UInt64, counter: TableCounter?)] = []

        /// The counter as the group leaves it so far; nil if the group has not changed it. A counter the group
        /// removed counts from zero again.
        func value(of id: UInt64) -> TableCounter? {
            guard let position = entries.firstIndex(where: { $0.id == id }) else { return nil }
            return entries[position].counter ?? .zero
        }

        /// Records the counter's value after the group (nil: the group removes it).
        mutating func set(_ id: UInt64, to counter: TableCounter?) {
            if let position = entries.firstIndex(where: { $0.id == id }) {
                entries[position].counter = counter
            } else {
                entries.append((id, counter))
            }
        }
    }

    /// Removes from `pending` the changes of the next group: the oldest, up to ``groupWritesMax`` changes and
    /// ``groupBytesMax`` bytes, and at least one.
    private static func takeGroup(from pending: inout [Pending]) -> [Pending] {
        var count = 0
        var bytes = 0
        for change in pending.prefix(groupWritesMax) {
            if count > 0, bytes + change.bytes > groupBytesMax { break }
            bytes += change.bytes
            count += 1
        }
        guard count < pending.count else {
            // The whole queue: handed over without a copy.
            var group: [Pending] = []
            swap(&group, &pending)
            return group
        }
        let group = Array(pending.prefix(count))
        pending.removeFirst(count)
        return group
    }

    /// What `write` adds to a group's batch, in bytes: its keys and values and its stream records.
    private static func bytes(of write: PreparedWrite) -> Int {
        write.batch.operations.reduce(write.records.reduce(0) { $0 + $1.value.count }) { total, operation in
            switch operation {
            case .put(_, let key, let value): total + key.count + value.count
            case .delete(_, let key): total + key.count
            case .deleteRange(_, let start, let end): total + start.count + end.count
            }
        }
    }

    /// A group merged into one batch, with what its write publishes and what it answers each writer.
    private struct MergedGroup: Sendable {
        var group: [Pending]
        var outcomes: [Result<CommitOutcome, EddyError>]
        var batch: StorageBatch
        var saved: CommitWork.Checkpoint
        var counters: GroupCounters
        var firstSequence: UInt64?
        var streamsChanged: Bool
        var touched: Set<ShardRef>
    }

    /// Merges `group` into one batch: checks each change against the catalog and the limits, gives its
    /// records sequence numbers and shards, and adds the counters.
    private func commitGroup(_ group: [Pending]) -> MergedGroup {
        let saved = work.checkpoint()
        let now = work.advanceTime(to: settings.clock.nowMilliseconds())
        var merged = StorageBatch()
        var outcomes: [Result<CommitOutcome, EddyError>] = []
        outcomes.reserveCapacity(group.count)
        var firstSequence: UInt64?
        var streamsChanged = false
        // The shards that got records: their readers are woken.
        var touched: Set<ShardRef> = []
        var collectionSizes: [[UInt8]: Int64] = [:]
        var counters = GroupCounters()
        for pending in group {
            let write = pending.write
            if let refusal = work.check(write.tables) {
                outcomes.append(refusal)
                continue
            }
            var resized: [(key: [UInt8], size: Int64)] = []
            if !write.collections.isEmpty {
                switch sizes(after: write.collections, known: collectionSizes) {
                case .failure(let refusal):
                    outcomes.append(.failure(refusal))
                    continue
                case .success(let sizes):
                    resized = sizes
                }
            }
            var uncounted: [Int]? = nil
            if !write.counters.isEmpty {
                switch load(write.counters, besides: counters) {
                case .failure(let refusal):
                    outcomes.append(.failure(refusal))
                    continue
                case .success(let skipped):
                    uncounted = skipped
                }
            }
            // A lone change (the common case without contention) is written as it is, without a merge copy.
            if group.count == 1 {
                merged = write.batch
            } else {
                merged.append(contentsOf: write.batch)
            }
            for (key, size) in resized {
                collectionSizes[key] = size
                if size == 0 {
                    merged.delete(key, in: .indexes)
                } else {
                    merged.put(key, ItemCollections.encode(size), in: .indexes)
                }
            }
            for (position, change) in write.counters.enumerated() where uncounted?.contains(position) != true {
                counters.set(change.id, to: (counters.value(of: change.id) ?? work.counters[change.id]?.value ?? .zero) + change.delta)
            }
            for effect in write.effects {
                apply(effect, now: now, into: &merged, counters: &counters)
                streamsChanged = true
            }
            for record in write.records {
                let (shard, rolled) = work.shard(
                    for: record, now: now, lifetime: settings.shardLifetimeMilliseconds, recordLimit: settings.shardRecordLimit)
                if let rolled {
                    StreamStorage.store(rolled, into: &merged)
                    streamsChanged = true
                }
                let ref = ShardRef(stream: record.streamId, index: shard)
                touched.insert(ref)
                let sequence = work.takeSequence(shard: ref)
                firstSequence = firstSequence ?? sequence
                merged.put(
                    StreamRecordEncoding.recordKey(stream: record.streamId, shard: shard, sequence: sequence, milliseconds: now),
                    record.value, in: .streams)
            }
            outcomes.append(.success(.committed))
        }
        if let firstSequence {
            if let bound = work.reserveSequences() {
                StreamStorage.storeSequenceBound(bound, into: &merged)
            }
            if let mark = work.markToWrite(at: now) {
                merged.put(StreamRecordEncoding.markKey(milliseconds: mark), bigEndian(firstSequence), in: .streams)
            }
        }
        for (id, counter) in counters.entries {
            let key = work.counters[id]?.key ?? TableCounter.key(of: id)
            if let counter {
                merged.put(key, counter.encoded(), in: .catalog)
            } else {
                merged.delete(key, in: .catalog)
            }
        }
        return MergedGroup(
            group: group, outcomes: outcomes, batch: merged, saved: saved, counters: counters, firstSequence: firstSequence,
            streamsChanged: streamsChanged, touched: touched)
    }

    /// Writes `merged`, publishes what it changed and answers its writers; returns false, having written and
    /// answered nothing, when `refusingStalls` and RocksDB would stall the write: ``stalledGroup`` then holds
    /// it for the committer's thread.
    @discardableResult
    private func write(_ merged: MergedGroup, refusingStalls: Bool) -> Bool {
        var outcomes = merged.outcomes
        do {
            if !merged.batch.isEmpty {
                if refusingStalls {
                    guard try store.writeUnlessStalled(merged.batch, durability: durability) else {
                        stalledGroup.withLock { $0 = merged }
                        return false
                    }
                } else {
                    try store.write(merged.batch, durability: durability)
                }
            }
            for (id, counter) in merged.counters.entries { work.setCounter(id, to: counter) }
            let trimmed = work.catalog.trimmedBelow != registry.trimmedBelowWritten
            if merged.firstSequence != nil || merged.streamsChanged || trimmed {
                registry.publish(
                    streams: merged.streamsChanged ? work.catalog.streams : nil, committedThrough: work.nextSequence - 1,
                    trimmedBelow: trimmed ? work.catalog.trimmedBelow : nil, touched: merged.touched)
            }
        } catch {
            work.restore(merged.saved)
            let failure = EddyError.internalServerError("The write failed in storage: \(error.message)")
            outcomes = outcomes.map { $0.flatMap { _ in .failure(failure) } }
        }
        for (pending, outcome) in zip(merged.group, outcomes) {
            pending.ticket.finish(outcome)
        }
        return true
    }

    /// The sizes of the item collections `changes` resize, after them (`known`: sizes this group has set
    /// already), or the refusal if one would grow past the limit.
    private func sizes(after changes: [CollectionChange], known: [[UInt8]: Int64]) -> Result<[(key: [UInt8], size: Int64)], EddyError> {
        var sizes = known
        var result: [(key: [UInt8], size: Int64)] = []
        for change in changes {
            var current = sizes[change.key]
            if current == nil {
                do {
                    current = ItemCollections.decode(try store.get(change.key, in: .indexes, snapshot: nil))
                } catch {
                    return .failure(.internalServerError("Storage error: \(error.message)"))
                }
            }
            let size = current! + change.delta
            if change.delta > 0, size > itemCollectionSizeLimit {
                return .failure(.itemCollectionSizeLimitExceeded("Collection size exceeded."))
            }
            sizes[change.key] = size
            result.append((change.key, size))
        }
        return .success(result)
    }

    /// Reads into the committer's cache the committed counters `changes` move that neither `group` (the counters
    /// this group has set already) nor the cache holds, and finds the changes that do not count (their
    /// ``CounterChange/ifEntryExists`` entry is missing): their positions, nil if every change counts. Fails
    /// only if storage does.
    private func load(_ changes: [CounterChange], besides group: GroupCounters) -> Result<[Int]?, EddyError> {
        var uncounted: [Int]? = nil
        do {
            for (position, change) in changes.enumerated() {
                if let entry = change.ifEntryExists, try store.get(entry, in: .indexes, snapshot: nil) == nil {
                    uncounted = (uncounted ?? []) + [position]
                    continue
                }
                guard group.value(of: change.id) == nil, work.counters[change.id] == nil else { continue }
                let key = TableCounter.key(of: change.id)
                let value = TableCounter.decode(try store.get(key, in: .catalog, snapshot: nil)) ?? .zero
                work.counters[change.id] = CommitWork.CachedCounter(value: value, key: key)
            }
        } catch {
            return .failure(.internalServerError("Storage error: \(error.message)"))
        }
        return .success(uncounted)
    }

    private func apply(
        _ effect: CatalogEffect, now: Int64, into batch: inout StorageBatch, counters: inout GroupCounters
    ) {
        switch effect {
        case .createTable(let id, let stream):
            work.catalog.tables[id] = 0
            work.catalog.indexVersions[id] = 0
            if let stream { StreamStorage.store(work.enable(stream, now: now), into: &batch) }
        case .deleteTable(let id):
            if let closed = work.disableStream(ofTable: id, now: now) { StreamStorage.store(closed, into: &batch) }
            work.catalog.tables[id] = nil
            work.catalog.indexVersions[id] = nil
        case .enableStream(let stream):
            StreamStorage.store(work.enable(stream, now: now), into: &batch)
        case .disableStream(let tableId):
            if let closed = work.disableStream(ofTable: tableId, now: now) { StreamStorage.store(closed, into: &batch) }
        case .changeIndexes(let tableId, let version):
            work.catalog.indexVersions[tableId] = version
        case .trimStreams(let plan):
            apply(plan, into: &batch)
        case .resetCounters(let ids):
            for id in ids { counters.set(id, to: .zero) }
        case .removeCounters(let ids):
            for id in ids { counters.set(id, to: nil) }
        }
    }

    /// Applies a retention pass's plan as far as it still holds: the trim below its horizon if the horizon
    /// moves forward from the one the plan started from, and the removal of each expired shard still closed
    /// and of each expired stream still disabled and left without shards. The commit-time marks of the seconds
    /// wholly expired go in any case: no group commits in them any more.
    private func apply(_ plan: RetentionPlan, into batch: inout StorageBatch) {
        let firstLiveMark = RetentionPlan.firstLiveMarkMilliseconds(expiredBefore: plan.expiredBeforeMilliseconds)
        batch.deleteRange(
            from: StreamRecordEncoding.markKey(milliseconds: 0), to: StreamRecordEncoding.markKey(milliseconds: firstLiveMark),
            in: .streams)
        work.forgetMarks(before: firstLiveMark)
        if plan.previousHorizon == work.catalog.trimmedBelow, plan.horizon > work.catalog.trimmedBelow,
            plan.horizon <= work.nextSequence
        {
            work.catalog.trimmedBelow = plan.horizon
            StreamStorage.storeTrimmedBelow(plan.horizon, into: &batch)
            batch.append(contentsOf: plan.trim)
        }
        for ref in plan.expiredShards {
            guard var stream = work.catalog.streams[ref.stream], let position = stream.position(ofShard: ref.index),
                let closed = stream.shards[position].closedMilliseconds, closed <= plan.expiredBeforeMilliseconds
            else { continue }
            stream.shards.remove(at: position)
            work.catalog.streams[ref.stream] = stream
            batch.deleteRange(
                from: StreamRecordEncoding.recordBound(stream: ref.stream, shard: ref.index, sequence: 0),
                to: StreamRecordEncoding.recordBound(stream: ref.stream, shard: ref.index + 1, sequence: 0),
                in: .streams)
            StreamStorage.store(stream, into: &batch)
        }
        for id in plan.expiredStreams {
            guard let stream = work.catalog.streams[id], let disabled = stream.disabledMilliseconds,
                disabled <= plan.expiredBeforeMilliseconds, stream.shards.isEmpty
            else { continue }
            work.catalog.streams[id] = nil
            StreamStorage.remove(id, into: &batch)
        }
    }

    private func bigEndian(_ value: UInt64) -> [UInt8] {
        var writer = ByteWriter(capacity: 8)
        writer.writeBigEndian(value)
        return writer.bytes
    }
}

/// Where the committer leaves a commit's outcome for its writer, who either finds it there (having watched
/// for it) or is suspended and resumed with it.
final class CommitTicket: Sendable {
    private enum State {
        case waiting
        case suspended(UnsafeContinuation<Result<CommitOutcome, EddyError>, Never>)
        case done(Result<CommitOutcome, EddyError>)
    }

    private let state = Mutex(State.waiting)
    private let done = Atomic<Bool>(false)

    /// Whether the outcome is there: what a watching writer reads, without the lock.
    var isDone: Bool { done.load(ordering: .acquiring) }

    /// Leaves the outcome, resuming the writer if it is suspended.
    func finish(_ outcome: Result<CommitOutcome, EddyError>) {
        let suspended = state.withLock { state -> UnsafeContinuation<Result<CommitOutcome, EddyError>, Never>? in
            guard case .suspended(let continuation) = state else {
                state = .done(outcome)
                return nil
            }
            return continuation
        }
        done.store(true, ordering: .releasing)
        suspended?.resume(returning: outcome)
    }

    /// The outcome, waiting for it if it is not there yet.
    func outcome() async -> Result<CommitOutcome, EddyError> {
        if case .done(let outcome) = state.withLock({ $0 }) { return outcome }
        return await withUnsafeContinuation { continuation in
            let outcome = state.withLock { state -> Result<CommitOutcome, EddyError>? in
                if case .done(let outcome) = state { return outcome }
                state = .suspended(continuation)
                return nil
            }
            if let outcome { continuation.resume(returning: outcome) }
        }
    }
}

/// The committer's own state: the live tables with their active streams, the streams, the sequence
/// counter and shard activity. Only the drainer touches it, one drainer at a time.
final class CommitWork: @unchecked Sendable {
    /// What a failed storage write must roll back.
    struct Catalog {
        /// Live table id → its active stream id (0: none).
        var tables: [UInt64: UInt64]
        /// Live table id → the version of its set of indexes.
        var indexVersions: [UInt64: UInt64]
        var streams: [UInt64: StreamDefinition]
        /// Stream id → the index of the open shard of each slot.
        var openShards: [UInt64: [UInt32]]
        var trimmedBelow: UInt64
    }

    var catalog: Catalog
    /// A counter as committed, with its key (kept so that a commit does not build it again).
    struct CachedCounter {
        var value: TableCounter
        let key: [UInt8]
    }

    /// The counters of tables and indexes as committed, for those read since the database opened: the
    /// committer writes them all, so storage never holds another value.
    var counters: [UInt64: CachedCounter] = [:]
    private(set) var nextSequence: UInt64
    /// The sequence numbers below this one may have been given out by a commit that storage holds: the
    /// committer persists it ahead of the numbers it gives (``reserveSequences()``), not with every group, and
    /// a database that opens starts from it. The numbers of a reservation a crash left unused are skipped,
    /// as gaps are (a shard's numbers increase, they are not consecutive).
    private var sequenceBound: UInt64
    /// Per open shard: records since this process opened it, and the last sequence number given.
    private var activity: [ShardRef: (count: Int, last: UInt64)] = [:]
    private var lastCommitMilliseconds: Int64 = 0
    private var lastMarkMilliseconds: Int64?

    init(tables: [UInt64: TableStamp], loaded: StreamStorage.Loaded) {
        var openShards: [UInt64: [UInt32]] = [:]
        for stream in loaded.streams.values where stream.isEnabled {
            var slots = [UInt32](repeating: 0, count: stream.slotCount)
            for shard in stream.shards where shard.isOpen { slots[shard.slot] = shard.index }
            openShards[stream.id] = slots
        }
        catalog = Catalog(
            tables: tables.mapValues(\.streamId), indexVersions: tables.mapValues(\.indexVersion), streams: loaded.streams,
            openShards: openShards, trimmedBelow: loaded.trimmedBelow)
        nextSequence = loaded.nextSequence
        sequenceBound = loaded.nextSequence
        lastMarkMilliseconds = loaded.lastMarkMilliseconds
    }

    /// Records the committed value of counter `id` (nil: removed).
    func setCounter(_ id: UInt64, to value: TableCounter?) {
        guard let value else {
            counters[id] = nil
            return
        }
        if counters[id] != nil {
            counters[id]!.value = value
        } else {
            counters[id] = CachedCounter(value: value, key: TableCounter.key(of: id))
        }
    }

    /// What ``restore(_:)`` returns to if a group's write fails.
    func checkpoint() -> Checkpoint {
        Checkpoint(catalog: catalog, lastMarkMilliseconds: lastMarkMilliseconds, sequenceBound: sequenceBound)
    }

    /// What a group's failed write rolls back.
    struct Checkpoint {
        var catalog: Catalog
        var lastMarkMilliseconds: Int64?
        var sequenceBound: UInt64
    }

    /// Forgets what a group whose write failed changed, its sequence reservation included (storage does not
    /// hold it). Sequence numbers it took are not given back: a gap in the numbers is harmless, a reuse
    /// would not be.
    func restore(_ checkpoint: Checkpoint) {
        catalog = checkpoint.catalog
        lastMarkMilliseconds = checkpoint.lastMarkMilliseconds
        sequenceBound = checkpoint.sequenceBound
    }

    /// How many sequence numbers one persisted reservation covers: the committer writes the bound once per
    /// this many records instead of with every group, and a crash skips at most this many numbers.
    static let sequenceReservation: UInt64 = 1 << 16

    /// A new bound to persist in the group's batch if the sequence numbers given so far have reached the
    /// persisted one, else nil.
    func reserveSequences() -> UInt64? {
        guard nextSequence > sequenceBound else { return nil }
        sequenceBound = nextSequence + Self.sequenceReservation
        return sequenceBound
    }

    /// The group's commit time: the clock's, never earlier than the previous group's.
    func advanceTime(to now: Int64) -> Int64 {
        lastCommitMilliseconds = max(lastCommitMilliseconds, now)
        return lastCommitMilliseconds
    }

    /// Nil if every stamped table exists with the expected stream, else the outcome to answer.
    func check(_ stamps: [TableStamp]) -> Result<CommitOutcome, EddyError>? {
        for stamp in stamps {
            guard let active = catalog.tables[stamp.tableId] else {
                return .failure(.resourceNotFound("Requested resource not found"))
            }
            if active != stamp.streamId || catalog.indexVersions[stamp.tableId] != stamp.indexVersion {
                return .success(.tableChanged)
            }
        }
        return nil
    }

    func takeSequence(shard: ShardRef) -> UInt64 {
        let sequence = nextSequence
        nextSequence += 1
        let previous = activity[shard]?.count ?? 0
        activity[shard] = (previous + 1, sequence)
        return sequence
    }

    /// The open shard that takes `record`, rolling the slot's shard over first if it has outlived its
    /// lifetime or record limit; returns the stream definition to store when it rolled.
    func shard(
        for record: PendingRecord, now: Int64, lifetime: Int64, recordLimit: Int?
    ) -> (UInt32, rolled: StreamDefinition?) {
        guard var stream = catalog.streams[record.streamId], var slots = catalog.openShards[record.streamId] else {
            preconditionFailure("a stamped table's active stream is open")
        }
        let slot = Int(record.partitionHash % UInt32(stream.slotCount))
        let index = slots[slot]
        // A shard rolls over only once it has a record, so a closed shard never has an empty range.
        guard let seen = activity[ShardRef(stream: stream.id, index: index)],
            let position = stream.position(ofShard: index),
            now - stream.shards[position].createdMilliseconds >= lifetime || seen.count >= (recordLimit ?? .max)
        else { return (index, nil) }
        stream.shards[position].endingSequence = nextSequence - 1
        stream.shards[position].closedMilliseconds = now
        let child = ShardDefinition(
            index: stream.nextShardIndex, slot: slot, parent: index, startingSequence: nextSequence,
            createdMilliseconds: now)
        stream.nextShardIndex += 1
        stream.shards.append(child)
        slots[slot] = child.index
        activity[ShardRef(stream: stream.id, index: index)] = nil
        catalog.streams[stream.id] = stream
        catalog.openShards[stream.id] = slots
        return (child.index, stream)
    }

    /// Gives `stream` its first shards, one per slot, and makes it its table's active stream.
    func enable(_ stream: StreamDefinition, now: Int64) -> StreamDefinition {
        var stream = stream
        stream.shards = (0..<stream.slotCount).map { slot in
            ShardDefinition(
                index: UInt32(slot), slot: slot, startingSequence: nextSequence, createdMilliseconds: now)
        }
        stream.nextShardIndex = UInt32(stream.slotCount)
        catalog.streams[stream.id] = stream
        catalog.openShards[stream.id] = stream.shards.map(\.index)
        catalog.tables[stream.tableId] = stream.id
        return stream
    }

    /// Closes the active stream of table `tableId`, if it has one, and returns it to store.
    func disableStream(ofTable tableId: UInt64, now: Int64) -> StreamDefinition? {
        guard let id = catalog.tables[tableId], id != 0, var stream = catalog.streams[id] else { return nil }
        for position in stream.shards.indices where stream.shards[position].isOpen {
            let shard = stream.shards[position]
            stream.shards[position].endingSequence = max(shard.startingSequence, nextSequence - 1)
            stream.shards[position].closedMilliseconds = now
            activity[ShardRef(stream: id, index: shard.index)] = nil
        }
        stream.disabledMilliseconds = now
        catalog.streams[id] = stream
        catalog.openShards[id] = nil
        catalog.tables[tableId] = 0
        return stream
    }

    /// The start of the second of `now` if its mark has not been written yet.
    func markToWrite(at now: Int64) -> Int64? {
        let second = now - ((now % 1000) + 1000) % 1000
        if let last = lastMarkMilliseconds, last >= second { return nil }
        lastMarkMilliseconds = second
        return second
    }

    /// The marks of the seconds before `firstLive` are being deleted: if the last one written is among them,
    /// the next group writes one again.
    func forgetMarks(before firstLive: Int64) {
        if let last = lastMarkMilliseconds, last < firstLive { lastMarkMilliseconds = nil }
    }
}
