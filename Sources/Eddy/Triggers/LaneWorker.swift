import CoreMetrics
import EddyStorage
import Synchronization

/// One lane of one shard: with ParallelizationFactor F, a shard's records are split over F lanes by
/// partition key.
struct LaneID: Hashable, Sendable {
    var shard: UInt32
    var lane: Int
}

/// The positions of a mapping's running lanes, from which it reports its lag.
final class LaneBoard: Sendable {
    private let positions = Mutex<[LaneID: UInt64]>([:])
    private let shards = Atomic(0)
    private let lag: Gauge

    init(lag: Gauge) {
        self.lag = lag
    }

    /// Records that lane `id` is at `position` (nil: it no longer runs; `UInt64.max`: it has handled all its
    /// shard has), and the mapping's lag after that: how far its slowest running lane is behind
    /// `committedThrough`, in sequence numbers.
    func record(_ id: LaneID, at position: UInt64?, committedThrough: UInt64) {
        let behind = positions.withLock { positions -> UInt64? in
            positions[id] = position
            return positions.values.min()
        }
        lag.record(Double(behind.map { committedThrough + 1 - Swift.min($0, committedThrough + 1) } ?? 0))
    }

    /// How many lanes run.
    var count: Int {
        positions.withLock { $0.count }
    }

    /// How many shards the mapping's worker keeps in memory.
    var shardCount: Int {
        get { shards.load(ordering: .relaxed) }
        set { shards.store(newValue, ordering: .relaxed) }
    }
}

/// Reads one lane of one shard from its position and delivers it, batch after batch, until the shard is
/// closed and read to its end, the shard is gone, or the task is cancelled. It never waits for another lane
/// or shard: a batch that keeps failing holds back only the records behind it in this lane.
struct LaneWorker: Sendable {
    let context: MappingContext
    let id: LaneID
    let board: LaneBoard
    /// The segments of the mapping's initial snapshot, if it was read in several: records they delivered are
    /// skipped.
    var snapshotSegments: SnapshotSegments? = nil

    /// How a lane's run ended.
    enum End: Sendable {
        /// The shard is closed and the lane has handled it to its end (and recorded that).
        case finished
        /// The shard no longer exists (retention removed it).
        case gone
        /// The task was cancelled, or storage failed: the lane stopped without advancing past its batch.
        case stopped
    }

    private var database: Database { context.database }
    private var settings: TriggerMappingConfiguration.Resolved { context.settings }
    private var lane: Int { id.lane }

    /// Runs the lane from `progress` (the shard's layouts; this lane's position is `positions[lane]`) with
    /// its open tumbling window, if any.
    func run(progress start: ShardProgress, window open: StoredWindow?) async -> End {
        var progress = start
        var window = open
        // Whether the lane's position is stored: a lane moves past other lanes' records in memory only.
        var recorded = true
        // When the lane's short batch began to wait for the batching window.
        var batchingSince: Int64?
        // The lane's read mark tells the retention pass which records it holds.
        let marks = database.triggerReadMarks
        let markKey = context.checkpointKey(id.shard, lane: lane)
        defer { marks.withdraw(markKey) }
        var shardId: String?
        // Woken by commits to this shard only (and by changes of the streams).
        let signal = database.streams.signal(for: ShardRef(stream: context.streamId, index: id.shard))
        while !Task.isCancelled {
            let generation = signal.generation
            let snapshot = database.streams.snapshot
            guard let stream = snapshot.streams[context.streamId], let shard = stream.shard(id.shard) else {
                board.record(id, at: nil, committedThrough: snapshot.committedThrough)
                return .gone
            }
            let position = progress.positions[lane]
            if let end = shard.endingSequence, position > end, window == nil {
                if !recorded {
                    var batch = StorageBatch()
                    batch.put(context.checkpointKey(id.shard, lane: lane), TriggerStore.position(position), in: .triggers)
                    guard await context.commit(batch) else { return .stopped }
                }
                board.record(id, at: nil, committedThrough: snapshot.committedThrough)
                return .finished
            }
            let page: Database.ShardPage
            do {
                page = try database.readShard(
                    stream, shard, from: position, in: snapshot, limit: settings.batchSize * context.factor,
                    maxBytes: Limits.triggerBatchBytesMax * context.factor, form: context.mapping.recordForm)
            } catch {
                guard case .trimmedDataAccess = error else { return .stopped }
                // Retention took records the lane had not read: the retention pass counted them (the mapping's
                // worker reports them); go on from the horizon.
                progress.positions[lane] = Swift.max(position, database.streams.trimmedBelow)
                recorded = false
                continue
            }
            // Every record of the shard up to the last commit is in the page.
            let complete = page.next > (shard.endingSequence ?? snapshot.committedThrough)
            let work = split(page, progress: progress, complete: complete)
            // A batching window holds a short batch of an open shard back until it fills or the window ends.
            let windowMilliseconds = Int64(settings.maximumBatchingWindowInSeconds) * 1000
            if windowMilliseconds > 0, !page.exhausted, !work.records.isEmpty, work.caughtUp, work.records.count < settings.batchSize {
                let now = context.nowMilliseconds
                let opened = batchingSince ?? now
                if now < opened + windowMilliseconds {
                    batchingSince = opened
                    // The records wait in the stream, not in memory: they are read again when the window ends.
                    _ = marks.publish(markKey, through: position, readFrom: position) { database.streams.trimmedBelow }
                    board.record(id, at: position, committedThrough: snapshot.committedThrough)
                    await waitForCommit(on: signal, after: generation, until: ContinuousClock.now + .milliseconds(opened + windowMilliseconds - now))
                    continue
                }
            }
            batchingSince = nil
            guard marks.publish(markKey, through: work.next, readFrom: position, trimmedBelow: { database.streams.trimmedBelow }) else {
                // Retention passed the position while the page was read: records may be missing from it.
                progress.positions[lane] = Swift.max(position, database.streams.trimmedBelow)
                recorded = false
                continue
            }
            if shardId == nil { shardId = StreamNames.shardId(shard) }
            let outcome = await handle(work, window: window, shardId: shardId!, exhausted: page.exhausted)
            guard let reached = outcome.position else { return .stopped }
            let moved = reached > position
            if moved {
                progress.positions[lane] = reached
                recorded = outcome.committed
            }
            let advanced = moved || outcome.window != window
            window = outcome.window
            // A lane that has handled everything its shard has is not behind, whatever else was committed since
            // (commits to other shards do not wake it).
            let caughtUp = !advanced && work.caughtUp && work.records.isEmpty
            board.record(id, at: caughtUp ? .max : progress.positions[lane], committedThrough: snapshot.committedThrough)
            if !advanced { await waitForCommit(on: signal, after: generation, until: outcome.wake) }
        }
        return .stopped
    }

    /// The lane's share of a page.
    private struct Work: Sendable {
        /// The lane's records to handle now, in order (at most `batchSize`, all of one tumbling window).
        var records: [StreamRecord] = []
        /// Where the lane is after them.
        var next: UInt64
        /// The lane has handled, after these records, every record the shard has committed so far.
        var caughtUp: Bool
    }

    /// This lane's records of `page`, leaving out those it (or an earlier layout) has already handled: at most
    /// `batchSize`, and with tumbling windows only records of the first record's window; the rest waits for
    /// the next batch.
    private func split(_ page: Database.ShardPage, progress: ShardProgress, complete: Bool) -> Work {
        var work = Work(next: page.next, caughtUp: complete)
        let windows = TumblingWindows(context: context)
        var firstWindow: Int64?
        // One lane and no earlier layout: no record needs its partition hash.
        let hashing = context.factor > 1 || !progress.earlier.isEmpty
        for (sequence, record) in page.records {
            let hash = hashing ? ShardProgress.partitionHash(of: record, partitionKey: context.mapping.partitionKeyName) : 0
            guard ShardProgress.lane(of: hash, factor: context.factor) == lane, !progress.isHandled(sequence, hash: hash) else {
                continue
            }
            if let segments = snapshotSegments, sequence < segments.bound, segments.delivered(sequence, keys: record.dynamodb.keys) {
                continue
            }
            let windowStart = windows.enabled ? windows.start(of: record) : nil
            if work.records.count == settings.batchSize || (windowStart != nil && !work.records.isEmpty && windowStart != firstWindow) {
                work.next = sequence
                work.caughtUp = false
                break
            }
            if work.records.isEmpty { firstWindow = windowStart }
            work.records.append(record)
        }
        return work
    }

    /// What one batch of the lane did.
    private struct Outcome: Sendable {
        /// The lane's new position; nil if it stopped without advancing.
        var position: UInt64?
        /// Whether the position was committed.
        var committed = false
        /// The lane's open tumbling window after the batch.
        var window: StoredWindow?
        /// When the open window ends, if the lane is waiting for that.
        var wake: ContinuousClock.Instant?

        static let stop = Outcome(position: nil)
    }

    /// Handles one batch: closes the lane's tumbling window first if the batch (or the clock, or the end of
    /// the shard) has moved past it, then delivers the records and commits the lane's position.
    private func handle(_ work: Work, window: StoredWindow?, shardId: String, exhausted: Bool) async -> Outcome {
        let windows = TumblingWindows(context: context)
        let delivery = BatchDelivery(context: context, shardId: shardId)
        var window = window
        if let open = window {
            let recordsLater = work.records.first.map { windows.start(of: $0) > open.start } ?? false
            let timeUp = work.records.isEmpty && work.caughtUp && windows.isTimeUp(open)
            if recordsLater || timeUp || (exhausted && work.records.isEmpty) {
                guard await windows.close(open, terminatedEarly: false, shardId: shardId) else { return .stop }
                var delete = StorageBatch()
                delete.delete(context.windowKey(id.shard, lane: lane), in: .triggers)
                guard await context.commit(delete) else { return .stop }
                window = nil
            } else if work.records.isEmpty {
                return Outcome(position: work.next, window: open, wake: ContinuousClock.now + windows.remaining(open))
            }
        }
        guard !work.records.isEmpty else { return Outcome(position: work.next, window: window) }
        let (records, expired) = delivery.deliverable(work.records)
        if !expired.isEmpty {
            guard await delivery.reportExpired(expired) else { return .stop }
        }
        var writes = StorageBatch()
        writes.put(context.checkpointKey(id.shard, lane: lane), TriggerStore.position(work.next), in: .triggers)
        switch context.mapping.sink {
        case .handler(let handler):
            if !records.isEmpty {
                var carried: WindowState?
                if windows.enabled {
                    let start = windows.start(of: records[0])
                    carried = WindowState(start: start, state: window?.start == start ? window!.state : [:])
                }
                guard let delivered = await delivery.deliver(records[...], to: handler, window: carried) else { return .stop }
                if var open = delivered {
                    if TriggerStore.encode(open.state).count > Limits.tumblingWindowStateBytesMax {
                        let full = StoredWindow(start: open.start, state: open.state)
                        guard await windows.close(full, terminatedEarly: true, shardId: shardId) else { return .stop }
                        open.state = [:]
                    }
                    window = StoredWindow(start: open.start, state: open.state)
                    writes.put(context.windowKey(id.shard, lane: lane), TriggerStore.encode(window!), in: .triggers)
                }
            }
            guard await context.commit(writes) else { return .stop }
        case .derivative(let transform, _):
            guard await delivery.apply(records, transform: transform, checkpoint: writes) else { return .stop }
        }
        return Outcome(position: work.next, committed: true, window: window)
    }

    /// Returns when `signal` fires after `generation`, at `deadline` if there is one, or when the task is
    /// cancelled.
    private func waitForCommit(on signal: CommitSignal, after generation: UInt64, until deadline: ContinuousClock.Instant?) async {
        guard let deadline else {
            await signal.wait(after: generation)
            return
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await signal.wait(after: generation) }
            group.addTask { try? await Task.sleep(until: deadline) }
            await group.next()
            group.cancelAll()
        }
    }
}
