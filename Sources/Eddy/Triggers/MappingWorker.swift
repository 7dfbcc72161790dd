import EddyStorage
import Foundation

/// Where a mapping's records go.
enum TriggerSink: Sendable {
    case handler(TriggerHandler)
    /// Writes to tables of the same database, committed with the checkpoint.
    case derivative(DerivativeTransform, targets: Set<String>)
}

/// A mapping as the runtime runs it.
struct RegisteredMapping: Sendable {
    var stored: StoredTriggerMapping
    var streamId: UInt64
    var sourceTable: String
    /// The partition key of the source table, which splits a shard over lanes.
    var partitionKeyName: String
    var sink: TriggerSink
    var onFailure: TriggerFailureDestination?
    /// How the mapping reads its records.
    var recordForm: StreamRecordForm = .streams
}

/// Reads one mapping's stream and delivers it, until cancelled or until its disabled stream is read to the
/// end. Each round reads every shard whose parent is done, one page per shard, the shards concurrently (as
/// Lambda runs one invocation per shard at a time); within a shard, the page is split over the
/// ParallelizationFactor lanes by partition key and the lanes' batches run concurrently, each lane
/// sequential, so each item's records are handled in the order of its commits.
struct MappingWorker: Sendable {
    let database: Database
    let mapping: RegisteredMapping
    let settings: TriggerMappingConfiguration.Resolved
    let metrics: TriggerMetrics

    private var uuid: String { mapping.stored.uuid }
    private var streamId: UInt64 { mapping.streamId }
    private var streamArn: String { mapping.stored.configuration.eventSourceArn }
    private var factor: Int { settings.parallelizationFactor }

    init(database: Database, mapping: RegisteredMapping, metrics: TriggerMetrics) {
        self.database = database
        self.mapping = mapping
        self.settings = mapping.stored.configuration.resolved
        self.metrics = metrics
    }

    /// A shard's state between rounds.
    private struct ShardState: Sendable {
        var progress: ShardProgress
        /// The open tumbling window of each lane that has one.
        var windows: [Int: StoredWindow]
        /// When the shard's short batch began to wait for its batching window, in milliseconds since 1970 on
        /// the database's clock.
        var windowOpenedMilliseconds: Int64?

        func isDone(_ shard: ShardDefinition) -> Bool {
            guard let end = shard.endingSequence else { return false }
            return progress.floor > end && windows.isEmpty
        }
    }

    func run() async {
        guard let stored = try? database.triggerProgress(uuid, stream: streamId),
            let storedWindows = try? database.triggerWindows(uuid, stream: streamId)
        else { return }
        var shards: [UInt32: ShardState] = [:]
        while !Task.isCancelled {
            let generation = database.streams.signal.generation
            let snapshot = database.streams.snapshot
            guard let stream = snapshot.streams[streamId] else { return }
            var ready: [(shard: ShardDefinition, state: ShardState)] = []
            var open = false
            for shard in stream.shards {
                if shards[shard.index] == nil {
                    let layouts = stored[shard.index] ?? [:]
                    let progress = ShardProgress(
                        stored: layouts, factor: factor,
                        initial: ShardProgress.initial(shard, from: mapping.stored.configuration.startingPosition, in: snapshot))
                    guard await storeLayout(progress, replacing: layouts, shard: shard.index) else { return }
                    shards[shard.index] = ShardState(
                        progress: progress, windows: storedWindows[shard.index]?[factor] ?? [:], windowOpenedMilliseconds: nil)
                }
                let state = shards[shard.index]!
                if state.isDone(shard) { continue }
                open = true
                if let parent = shard.parent, let parentShard = stream.shard(parent), let parentState = shards[parent],
                    !parentState.isDone(parentShard)
                {
                    continue
                }
                ready.append((shard, state))
            }
            if !open, !stream.isEnabled { return }
            let outcomes = await withTaskGroup(of: (UInt32, RoundOutcome).self) { group in
                for (shard, state) in ready {
                    group.addTask {
                        (shard.index, await self.processShard(shard, state: state, of: stream, in: snapshot))
                    }
                }
                return await group.reduce(into: [(UInt32, RoundOutcome)]()) { $0.append($1) }
            }
            var advanced = false
            var deadline: ContinuousClock.Instant?
            for (shard, outcome) in outcomes {
                guard let state = outcome.state else { return }
                shards[shard] = state
                advanced = advanced || outcome.advanced
                if let wake = outcome.wake { deadline = Swift.min(deadline ?? wake, wake) }
            }
            let behind = stream.shards.compactMap { shard in
                shards[shard.index].flatMap { $0.isDone(shard) ? nil : $0.progress.floor }
            }.min()
            metrics.lag.record(Double(behind.map { snapshot.committedThrough + 1 - Swift.min($0, snapshot.committedThrough + 1) } ?? 0))
            if !advanced { await waitForCommit(after: generation, until: deadline) }
        }
    }

    /// What one round did in one shard.
    private struct RoundOutcome: Sendable {
        /// The shard's state after the round; nil if the task was cancelled mid-batch or storage failed, and
        /// the mapping stops without advancing.
        var state: ShardState?
        /// Records were handled, skipped or windows closed: look again without waiting.
        var advanced = false
        /// When to look again if nothing is committed before (a batching window or a tumbling window ends).
        var wake: ContinuousClock.Instant?

        static let stop = RoundOutcome(state: nil)
    }

    /// Reads one page of `shard` from its floor, splits it over the lanes and hands each lane's batch to the
    /// mapping's sink, committing each lane's new position (with the writes, for a derivative table).
    private func processShard(
        _ shard: ShardDefinition, state: ShardState, of stream: StreamDefinition, in snapshot: StreamsSnapshot
    ) async -> RoundOutcome {
        var state = state
        let page: Database.ShardPage
        do {
            page = try database.readShard(
                stream, shard, from: state.progress.floor, in: snapshot, limit: settings.batchSize * factor,
                maxBytes: Limits.triggerBatchBytesMax * factor, form: mapping.recordForm)
        } catch {
            guard case .trimmedDataAccess = error else { return .stop }
            // Retention took records the mapping had not read: they are gone, go on from the horizon.
            let horizon = database.streams.trimmedBelow
            state.progress.positions = state.progress.positions.map { Swift.max($0, horizon) }
            return RoundOutcome(state: state, advanced: true)
        }
        // Every record of the shard up to the last commit is in the page.
        let complete = page.next > (shard.endingSequence ?? snapshot.committedThrough)
        if page.records.isEmpty, !page.exhausted, state.windows.isEmpty { return RoundOutcome(state: state) }
        // A batching window holds a short batch of an open shard back until it fills or the window ends.
        // The window is timed on the database's clock, as tumbling windows and record ages are, so that a test
        // clock decides when it ends; the wake-up at its end looks at that clock again.
        let windowMilliseconds = Int64(settings.maximumBatchingWindowInSeconds) * 1000
        if windowMilliseconds > 0, !page.exhausted, !page.records.isEmpty, page.records.count < settings.batchSize {
            let now = database.configuration.clock.nowMilliseconds()
            let opened = state.windowOpenedMilliseconds ?? now
            if now < opened + windowMilliseconds {
                state.windowOpenedMilliseconds = opened
                return RoundOutcome(state: state, wake: ContinuousClock.now + .milliseconds(opened + windowMilliseconds - now))
            }
        }
        state.windowOpenedMilliseconds = nil
        let lanes = split(page, progress: state.progress, complete: complete)
        let shardId = StreamNames.shardId(shard)
        let windows = state.windows
        let outcomes: [(Int, LaneOutcome)]
        if factor == 1 {
            // One lane: no task to spawn, and no hop to another thread.
            outcomes = [(0, await processLane(0, lanes[0], window: windows[0], shard: shard.index, shardId: shardId, page: page))]
        } else {
            outcomes = await withTaskGroup(of: (Int, LaneOutcome).self) { group in
                for lane in 0..<factor {
                    let work = lanes[lane]
                    group.addTask {
                        let outcome = await self.processLane(
                            lane, work, window: windows[lane], shard: shard.index, shardId: shardId, page: page)
                        return (lane, outcome)
                    }
                }
                return await group.reduce(into: [(Int, LaneOutcome)]()) { $0.append($1) }
            }
        }
        var result = RoundOutcome(state: state)
        var unrecorded: [Int] = []
        for (lane, outcome) in outcomes {
            guard let reached = outcome.position else { return .stop }
            // A lane ahead of the page's end (another lane holds the floor back) stays where it is.
            let position = Swift.max(reached, state.progress.positions[lane])
            if position > state.progress.positions[lane] || outcome.window != state.windows[lane] { result.advanced = true }
            if !outcome.committed, position > state.progress.positions[lane] { unrecorded.append(lane) }
            state.progress.positions[lane] = position
            state.windows[lane] = outcome.window
            if let wake = outcome.wake { result.wake = Swift.min(result.wake ?? wake, wake) }
        }
        // Lanes with nothing to handle moved on in memory; a closed shard read to its end records them, so
        // that a restart does not read the shard again.
        if page.exhausted, !unrecorded.isEmpty {
            var batch = StorageBatch()
            for lane in unrecorded {
                batch.put(checkpointKey(shard.index, lane: lane), TriggerStore.position(state.progress.positions[lane]), in: .triggers)
            }
            guard await commit(batch) else { return .stop }
        }
        result.state = state
        return result
    }

    /// One lane's share of a page.
    private struct LaneWork: Sendable {
        /// The lane's records to handle now, in order (at most `batchSize`, all of one tumbling window).
        var records: [StreamRecord] = []
        /// Where the lane is after them.
        var next: UInt64
        /// The lane handled every record the shard has committed so far.
        var caughtUp: Bool
    }

    /// Splits `page` over the lanes by partition key, leaving out records a lane (or an earlier layout) has
    /// already handled. A lane takes at most `batchSize` records, and with tumbling windows only records of
    /// its first record's window; the rest waits for the next round.
    private func split(_ page: Database.ShardPage, progress: ShardProgress, complete: Bool) -> [LaneWork] {
        var lanes = (0..<factor).map { _ in LaneWork(next: page.next, caughtUp: complete) }
        var full = Array(repeating: false, count: factor)
        var firstWindow: [Int64?] = Array(repeating: nil, count: factor)
        // One lane and no earlier layout: no record needs its partition hash.
        let hashing = factor > 1 || !progress.earlier.isEmpty
        for (sequence, record) in page.records {
            let hash = hashing ? ShardProgress.partitionHash(of: record, partitionKey: mapping.partitionKeyName) : 0
            let lane = ShardProgress.lane(of: hash, factor: factor)
            guard !full[lane], !progress.isHandled(sequence, hash: hash) else { continue }
            let windowStart = settings.tumblingWindowInSeconds > 0 ? windowStart(of: record) : nil
            if lanes[lane].records.count == settings.batchSize
                || (windowStart != nil && !lanes[lane].records.isEmpty && windowStart != firstWindow[lane])
            {
                full[lane] = true
                lanes[lane].next = sequence
                lanes[lane].caughtUp = false
                continue
            }
            if lanes[lane].records.isEmpty { firstWindow[lane] = windowStart }
            lanes[lane].records.append(record)
        }
        return lanes
    }

    /// What one lane did in a round.
    private struct LaneOutcome: Sendable {
        /// The lane's new position; nil if it stopped without advancing.
        var position: UInt64?
        /// Whether the position was committed.
        var committed = false
        /// The lane's open tumbling window after the round.
        var window: StoredWindow?
        /// When the open window ends, if the lane is waiting for that.
        var wake: ContinuousClock.Instant?

        static let stop = LaneOutcome(position: nil)
    }

    private func checkpointKey(_ shard: UInt32, lane: Int) -> [UInt8] {
        TriggerStore.checkpointKey(uuid, stream: streamId, shard: shard, factor: factor, lane: lane)
    }

    private func windowKey(_ shard: UInt32, lane: Int) -> [UInt8] {
        TriggerStore.windowKey(uuid, stream: streamId, shard: shard, factor: factor, lane: lane)
    }

    /// Handles one lane's batch: closes its tumbling window first if the batch (or the clock, or the end of
    /// the shard) has moved past it, then delivers the records and commits the lane's position.
    private func processLane(
        _ lane: Int, _ work: LaneWork, window: StoredWindow?, shard: UInt32, shardId: String, page: Database.ShardPage
    ) async -> LaneOutcome {
        let batch = Batch(shardId: shardId)
        var window = window
        if let open = window {
            let length = Int64(settings.tumblingWindowInSeconds)
            let recordsLater = work.records.first.map { windowStart(of: $0) > open.start } ?? false
            let nowSeconds = database.configuration.clock.nowMilliseconds() / 1000
            let timeUp = work.records.isEmpty && work.caughtUp && nowSeconds >= open.start + length
            if recordsLater || timeUp || (page.exhausted && work.records.isEmpty) {
                guard await closeWindow(open, terminatedEarly: false, of: batch) else { return .stop }
                var delete = StorageBatch()
                delete.delete(windowKey(shard, lane: lane), in: .triggers)
                guard await commit(delete) else { return .stop }
                window = nil
            } else if work.records.isEmpty {
                let remaining = Duration.seconds(open.start + length) - Duration.milliseconds(database.configuration.clock.nowMilliseconds())
                return LaneOutcome(position: work.next, window: open, wake: ContinuousClock.now + remaining)
            }
        }
        guard !work.records.isEmpty else { return LaneOutcome(position: work.next, window: window) }
        let filter = mapping.stored.configuration.filterCriteria ?? FilterCriteria()
        let (records, expired) = deliverable(work.records, filter: filter)
        if !expired.isEmpty {
            guard await report(.recordAgeExceeded, invokeCount: 0, records: expired, of: batch) else { return .stop }
        }
        var writes = StorageBatch()
        writes.put(checkpointKey(shard, lane: lane), TriggerStore.position(work.next), in: .triggers)
        switch mapping.sink {
        case .handler(let handler):
            if !records.isEmpty {
                var windowState: WindowState?
                if settings.tumblingWindowInSeconds > 0 {
                    let start = windowStart(of: records[0])
                    windowState = WindowState(start: start, state: window?.start == start ? window!.state : [:])
                }
                guard let delivered = await deliver(records[...], to: handler, window: windowState, of: batch) else { return .stop }
                if var open = delivered {
                    if TriggerStore.encode(open.state).count > Limits.tumblingWindowStateBytesMax {
                        guard await closeWindow(StoredWindow(start: open.start, state: open.state), terminatedEarly: true, of: batch) else {
                            return .stop
                        }
                        open.state = [:]
                    }
                    window = StoredWindow(start: open.start, state: open.state)
                    writes.put(windowKey(shard, lane: lane), TriggerStore.encode(window!), in: .triggers)
                }
            }
            guard await commit(writes) else { return .stop }
        case .derivative(let transform, _):
            guard await apply(records, transform: transform, checkpoint: writes, of: batch) else { return .stop }
        }
        return LaneOutcome(position: work.next, committed: true, window: window)
    }

    /// Returns when a commit after `generation` is published, at `deadline` if there is one, or when the task
    /// is cancelled.
    private func waitForCommit(after generation: UInt64, until deadline: ContinuousClock.Instant?) async {
        guard let deadline else {
            await database.streams.signal.wait(after: generation)
            return
        }
        let signal = database.streams.signal
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await signal.wait(after: generation) }
            group.addTask { try? await Task.sleep(until: deadline) }
            await group.next()
            group.cancelAll()
        }
    }

    /// The records that go to the sink (those the filter accepts and that are young enough), and those too
    /// old to go.
    private func deliverable(_ records: [StreamRecord], filter: FilterCriteria) -> (deliverable: [StreamRecord], expired: [StreamRecord]) {
        let now = database.configuration.clock.nowMilliseconds()
        var deliverable: [StreamRecord] = []
        var expired: [StreamRecord] = []
        for record in records where (try? filter.matches(record)) ?? false {
            if isTooOld(record, now: now) {
                expired.append(record)
            } else {
                deliverable.append(record)
            }
        }
        return (deliverable, expired)
    }

    /// Whether `record` is older than the settings' `maximumRecordAgeInSeconds` at `now` (milliseconds since
    /// 1970).
    private func isTooOld(_ record: StreamRecord, now: Int64) -> Bool {
        settings.maximumRecordAgeInSeconds >= 0
            && Double(now) / 1000 - record.dynamodb.approximateCreationDateTime > Double(settings.maximumRecordAgeInSeconds)
    }

    /// Where the records being delivered come from.
    private struct Batch {
        var shardId: String
    }

    // MARK: Tumbling windows

    /// The window a batch belongs to and the state carried into it.
    private struct WindowState: Sendable {
        var start: Int64
        var state: [String: String]
    }

    /// The start (epoch seconds) of the tumbling window `record` belongs to.
    private func windowStart(of record: StreamRecord) -> Int64 {
        let length = Int64(settings.tumblingWindowInSeconds)
        let seconds = Int64(record.dynamodb.approximateCreationDateTime.rounded(.down))
        return seconds - seconds % length
    }

    private func event(_ records: ArraySlice<StreamRecord>, window: WindowState?, shardId: String) -> TriggerEvent {
        var event = TriggerEvent(records: records.map { TriggerEventRecord($0, streamArn: streamArn) })
        event.sourceShardId = shardId
        if let window {
            let length = Int64(settings.tumblingWindowInSeconds)
            event.window = TriggerWindow(
                start: StreamNames.label(milliseconds: window.start * 1000) + "Z",
                end: StreamNames.label(milliseconds: (window.start + length) * 1000) + "Z")
            event.state = window.state
            event.shardId = shardId
            event.eventSourceARN = streamArn
            event.isFinalInvokeForWindow = false
            event.isWindowTerminatedEarly = false
        }
        return event
    }

    /// Calls the handler with the window's final state (no records) until it succeeds, as Lambda pauses the
    /// shard until the final call of a window succeeds; false if the task was cancelled first.
    private func closeWindow(_ window: StoredWindow, terminatedEarly: Bool, of batch: Batch) async -> Bool {
        guard case .handler(let handler) = mapping.sink else { return true }
        var final = event([], window: WindowState(start: window.start, state: window.state), shardId: batch.shardId)
        final.isFinalInvokeForWindow = true
        final.isWindowTerminatedEarly = terminatedEarly
        var attempt = 0
        while true {
            metrics.invocations.increment()
            if attempt > 0 { metrics.retries.increment() }
            do {
                _ = try await handler(final)
                return true
            } catch {
                metrics.errors.increment()
                attempt += 1
                guard await backoff(attempt) else { return false }
            }
        }
    }

    // MARK: Delivery

    /// Sends the record of dropping `records` to the mapping's on-failure destination, if it has one, until
    /// it is taken; false if the task was cancelled first.
    private func report(
        _ condition: TriggerFailureRecord.Condition, invokeCount: Int, records: [StreamRecord], of batch: Batch
    ) async -> Bool {
        metrics.droppedRecords.increment(by: Int64(records.count))
        guard let destination = mapping.onFailure else { return true }
        let failure = TriggerFailureRecord(
            condition, invokeCount: invokeCount, mapping: uuid, records: records, shardId: batch.shardId,
            streamArn: streamArn, now: database.configuration.clock.nowMilliseconds())
        var attempt = 0
        while true {
            do {
                switch destination {
                case .handler(let send):
                    try await send(failure)
                case .table(let name):
                    try await database.putFailureRecord(failure, in: name)
                }
                return true
            } catch {
                attempt += 1
                guard await backoff(attempt) else { return false }
            }
        }
    }

    /// Waits before retry `attempt` (exponential, at most a second); false if the task was cancelled.
    private func backoff(_ attempt: Int) async -> Bool {
        do {
            try await Task.sleep(for: .milliseconds(Swift.min(1_000, 1 << Swift.min(attempt, 10))))
            return true
        } catch {
            return false
        }
    }

    /// Calls `handler` with `records` until every record has succeeded or its retries are used up, and
    /// returns the tumbling window's state after them (nil without a window); nil if the task was cancelled
    /// while waiting to retry (the batch is then abandoned, not checkpointed).
    ///
    /// A partial batch response retries from the first failed record (with the state the response carried).
    /// With `bisectBatchOnFunctionError`, a failing batch of several records is split in two and each half
    /// handled in turn; bisecting does not count as a retry.
    private func deliver(
        _ records: ArraySlice<StreamRecord>, to handler: TriggerHandler, window: WindowState?, of batch: Batch
    ) async -> WindowState?? {
        var pending = records
        var window = window
        var attempt = 0
        while !pending.isEmpty {
            metrics.invocations.increment()
            metrics.batchSize.record(pending.count)
            if let last = pending.last {
                let age = Double(database.configuration.clock.nowMilliseconds()) - last.dynamodb.approximateCreationDateTime * 1000
                metrics.iteratorAge.record(Swift.max(0, age))
            }
            if attempt > 0 { metrics.retries.increment() }
            do {
                let response = try await handler(event(pending, window: window, shardId: batch.shardId))
                if window != nil {
                    guard let state = response.state else { throw BatchFailed() }
                    window!.state = state
                }
                guard settings.reportsBatchItemFailures, !response.batchItemFailures.isEmpty else { return .some(window) }
                guard let first = Self.firstFailure(response, in: pending) else { throw BatchFailed() }
                metrics.errors.increment()
                pending = pending[first...]
            } catch {
                metrics.errors.increment()
                if settings.bisectBatchOnFunctionError, pending.count > 1 {
                    let middle = pending.startIndex + pending.count / 2
                    for half in [pending[..<middle], pending[middle...]] {
                        guard let after = await deliver(half, to: handler, window: window, of: batch) else { return nil }
                        window = after
                    }
                    return .some(window)
                }
            }
            attempt += 1
            if settings.maximumRetryAttempts >= 0, attempt > settings.maximumRetryAttempts {
                guard await report(.retryAttemptsExhausted, invokeCount: attempt, records: Array(pending), of: batch) else { return nil }
                return .some(window)
            }
            guard await backoff(attempt) else { return nil }
            // Records that grew too old while the batch was retried are dropped (with MaximumRetryAttempts -1, a
            // failing batch is retried until then); a shard's records are in commit order, so they lead.
            let now = database.configuration.clock.nowMilliseconds()
            let expired = pending.prefix { isTooOld($0, now: now) }
            if !expired.isEmpty {
                guard await report(.recordAgeExceeded, invokeCount: attempt, records: Array(expired), of: batch) else { return nil }
                pending = pending.dropFirst(expired.count)
            }
        }
        return .some(window)
    }

    /// A handler's response that cannot be honoured fails the whole batch.
    private struct BatchFailed: Error {}

    /// The index in `records` of the first record `response` names, or nil if it names one with an empty
    /// identifier or one that is not in the batch.
    private static func firstFailure(_ response: TriggerBatchResponse, in records: ArraySlice<StreamRecord>) -> Int? {
        var first: Int?
        for failure in response.batchItemFailures {
            guard let identifier = failure.itemIdentifier, !identifier.isEmpty,
                let index = records.firstIndex(where: { $0.dynamodb.sequenceNumber == identifier })
            else { return nil }
            first = Swift.min(first ?? index, index)
        }
        return first
    }

    /// Applies `records` to the derivative tables and commits `checkpoint` with the writes, retrying as the
    /// settings say; when the retries are used up, reports the records and commits the checkpoint alone.
    /// False if the task was cancelled while waiting to retry, or storage failed.
    private func apply(
        _ records: [StreamRecord], transform: DerivativeTransform, checkpoint: StorageBatch, of batch: Batch
    ) async -> Bool {
        var attempt = 0
        while true {
            metrics.invocations.increment()
            metrics.batchSize.record(records.count)
            if attempt > 0 { metrics.retries.increment() }
            do {
                var writes: [DerivativeWrite] = []
                for record in records { writes += try transform(record) }
                try await database.commitDerivative(writes, with: checkpoint)
                return true
            } catch {
                metrics.errors.increment()
                attempt += 1
                if settings.maximumRetryAttempts >= 0, attempt > settings.maximumRetryAttempts {
                    guard await report(.retryAttemptsExhausted, invokeCount: attempt, records: records, of: batch) else { return false }
                    return await commit(checkpoint)
                }
                guard await backoff(attempt) else { return false }
            }
        }
    }

    /// Stores the shard's current layout if it is not stored as it is, and drops the layouts it supersedes.
    private func storeLayout(_ progress: ShardProgress, replacing stored: [Int: [Int: UInt64]], shard: UInt32) async -> Bool {
        var batch = StorageBatch()
        if progress.differs(from: stored) {
            for lane in 0..<factor {
                batch.put(checkpointKey(shard, lane: lane), TriggerStore.position(progress.positions[lane]), in: .triggers)
            }
        }
        for obsolete in progress.obsolete(stored: stored) {
            for lane in 0..<obsolete {
                batch.delete(TriggerStore.checkpointKey(uuid, stream: streamId, shard: shard, factor: obsolete, lane: lane), in: .triggers)
            }
        }
        return batch.isEmpty ? true : await commit(batch)
    }

    /// Commits trigger bookkeeping (positions, windows); false if storage failed.
    private func commit(_ batch: StorageBatch) async -> Bool {
        do {
            try await database.committer.commitCatalogChange(PreparedWrite(batch: batch))
            return true
        } catch {
            return false
        }
    }
}
