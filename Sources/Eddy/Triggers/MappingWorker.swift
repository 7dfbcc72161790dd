import EddyStorage
import Logging

/// Runs one mapping: a ``LaneWorker`` for every lane of every shard, each started as soon as it may run and
/// none waiting for another, so that a failing batch holds back only the records behind it in its own lane
/// (as Lambda processes each shard on its own, and Eddy each lane too).
///
/// Order: a shard's lane L starts once lane L of its parent shard has finished (an item keeps its lane
/// across shards, since the lane comes from its partition key), so each item's records are handled in the
/// order of its commits. Bounded state: when retention removes a shard, the worker forgets it, in memory and
/// in storage (its positions and tumbling windows), once none of its lanes runs.
struct MappingWorker: Sendable {
    let context: MappingContext
    private let board: LaneBoard

    init(database: Database, mapping: RegisteredMapping, metrics: TriggerMetrics, result: ProcessingResult, logger: Logger) {
        context = MappingContext(database: database, mapping: mapping, metrics: metrics, result: result, logger: logger)
        board = LaneBoard(lag: metrics.lag)
    }

    private enum Event: Sendable {
        /// The streams changed (a shard opened or closed, a stream was disabled) or a retention pass was
        /// written.
        case committed
        case lane(LaneID, LaneWorker.End)
    }

    /// What the worker knows of a shard.
    private struct Shard {
        var progress: ShardProgress
        /// The lanes started in this run: false while running, true once finished.
        var lanes: [Int: Bool] = [:]
        /// The stored layouts (factors) and tumbling windows (lanes of the current factor) to delete when the
        /// shard is forgotten.
        var storedFactors: Set<Int>
    }

    /// Runs until cancelled, until a lane stops on a storage failure, or until the mapping's disabled
    /// stream is read to its end.
    func run() async {
        let database = context.database
        let factor = context.factor
        // A mapping that begins with a snapshot delivers it (what is left of it) before its lanes run.
        var snapshotSequence: UInt64?
        var segments: SnapshotSegments?
        if context.mapping.stored.configuration.snapshot == true {
            guard let progress = await InitialSnapshot(context: context).run() else { return }
            snapshotSequence = progress.streamStart
            if progress.segments.count > 1 {
                do {
                    segments = SnapshotSegments(progress, table: try database.resolveTable(context.mapping.sourceTable))
                } catch {
                    stopped(because: "its table cannot be resolved: \(error)")
                    return
                }
            }
        }
        let stored: [UInt32: [Int: [Int: UInt64]]]
        let storedWindows: [UInt32: [Int: [Int: StoredWindow]]]
        do {
            stored = try database.triggerProgress(context.uuid, stream: context.streamId)
            storedWindows = try database.triggerWindows(context.uuid, stream: context.streamId)
        } catch {
            stopped(because: "its progress cannot be read: \(error)")
            return
        }
        // Progress stored for shards retention has removed since: forget it now.
        let present = Set(database.streams.snapshot.streams[context.streamId]?.shards.map(\.index) ?? [])
        var leftovers = StorageBatch()
        for shard in Set(stored.keys).union(storedWindows.keys) where !present.contains(shard) {
            let factors = Set((stored[shard] ?? [:]).keys).union((storedWindows[shard] ?? [:]).keys)
            forget(shard, factors: factors, into: &leftovers)
        }
        guard leftovers.isEmpty ? true : await commit(leftovers, forgetting: "shards retention removed") else { return }

        await withTaskGroup(of: Event.self) { group in
            var shards: [UInt32: Shard] = [:]
            var waiting = false
            // The shape of the stream at the last pass: a pass is needed only when it changes or a lane ends.
            var shape: [UInt64] = []
            var laneEnded = true
            var reportedHorizon: UInt64?
            while !Task.isCancelled {
                let generation = database.streams.shapeSignal.generation
                // After a retention pass (once written), what the mapping lost is reported.
                let horizon = database.streams.trimmedBelowWritten
                if horizon != reportedHorizon {
                    guard await reportLostRecords() else { break }
                    reportedHorizon = horizon
                }
                let snapshot = database.streams.snapshot
                guard let stream = snapshot.streams[context.streamId] else { break }
                let current: [UInt64] = [
                    UInt64(stream.nextShardIndex), UInt64(stream.shards.count), UInt64(stream.shards.first?.index ?? 0),
                    stream.isEnabled ? 1 : 0,
                ]
                if current != shape || laneEnded {
                    shape = current
                    laneEnded = false
                    let present = Set(stream.shards.map(\.index))
                    var open = false
                    for shard in stream.shards {
                        if shards[shard.index] == nil {
                            let layouts = stored[shard.index] ?? [:]
                            let progress = ShardProgress(
                                stored: layouts, factor: factor,
                                initial: ShardProgress.initial(
                                    shard, from: context.mapping.stored.configuration.startingPosition, in: snapshot,
                                    snapshotSequence: snapshotSequence))
                            guard await storeLayout(progress, replacing: layouts, shard: shard.index) else {
                                group.cancelAll()
                                return
                            }
                            shards[shard.index] = Shard(progress: progress, storedFactors: Set(progress.earlier.keys).union([factor]))
                        }
                        for lane in 0..<factor where shards[shard.index]!.lanes[lane] != true {
                            open = true
                            guard shards[shard.index]!.lanes[lane] == nil else { continue }
                            if let parent = shard.parent, present.contains(parent), shards[parent]?.lanes[lane] != true { continue }
                            shards[shard.index]!.lanes[lane] = false
                            let worker = LaneWorker(
                                context: context, id: LaneID(shard: shard.index, lane: lane), board: board, snapshotSegments: segments)
                            let progress = shards[shard.index]!.progress
                            let window = storedWindows[shard.index]?[factor]?[lane]
                            group.addTask { .lane(worker.id, await worker.run(progress: progress, window: window)) }
                        }
                    }
                    // Shards retention removed, once none of their lanes runs.
                    var forgotten = StorageBatch()
                    for (index, shard) in shards where !present.contains(index) && !shard.lanes.values.contains(false) {
                        forget(index, factors: shard.storedFactors, into: &forgotten)
                        shards[index] = nil
                    }
                    if !forgotten.isEmpty, !(await commit(forgotten, forgetting: "shards retention removed")) { break }
                    board.shardCount = shards.count
                    if !open, !stream.isEnabled, !shards.values.contains(where: { $0.lanes.values.contains(false) }) { break }
                }
                if !waiting {
                    waiting = true
                    let signal = database.streams.shapeSignal
                    group.addTask {
                        await signal.wait(after: generation)
                        return .committed
                    }
                }
                guard let event = await group.next() else { break }
                switch event {
                case .committed:
                    waiting = false
                case .lane(let id, let end):
                    laneEnded = true
                    switch end {
                    case .finished, .gone:
                        shards[id.shard]?.lanes[id.lane] = true
                    case .stopped:
                        // Cancelled, or storage failed: the mapping stops without advancing.
                        if !Task.isCancelled { stopped(because: "a lane's storage write failed") }
                        group.cancelAll()
                        return
                    }
                }
            }
            group.cancelAll()
        }
    }

    /// How many shards the worker keeps in memory, and how many lanes run: both bounded by the shards the
    /// stream keeps.
    var tracked: (shards: Int, lanes: Int) { (board.shardCount, board.count) }

    /// Commits the worker's own bookkeeping (what it stores or forgets of `what`); false, and said, if
    /// storage failed.
    private func commit(_ batch: StorageBatch, forgetting what: String) async -> Bool {
        guard await context.commit(batch) else {
            stopped(because: "storage failed while it stored or forgot \(what)")
            return false
        }
        return true
    }

    /// Says that the mapping stops running (until it is restarted) for `reason`: nothing is skipped, its
    /// lanes stay at their positions.
    private func stopped(because reason: String) {
        context.logger.error(
            "Trigger mapping \(context.mapping.stored.name) stopped: \(reason)", metadata: ["mapping": "\(context.uuid)"])
    }

    /// Reports the ranges of records retention removed before the mapping handled them, as the retention
    /// passes counted them, and deletes them; false if the task was cancelled first or storage failed.
    private func reportLostRecords() async -> Bool {
        let lost: [(key: [UInt8], range: LostRange)]
        do {
            lost = try context.database.lostRanges(of: context.uuid)
        } catch {
            stopped(because: "its lost ranges cannot be read: \(error)")
            return false
        }
        guard !lost.isEmpty else { return true }
        let reporter = FailureReporter(context: context)
        var reported = StorageBatch()
        for (key, range) in lost {
            guard await reporter.reportLost(range) else { return false }
            reported.delete(key, in: .triggers)
        }
        return await commit(reported, forgetting: "reported lost ranges")
    }

    /// Deletes what is stored for shard `index`: its positions in layouts of `factors` and its tumbling
    /// windows.
    private func forget(_ index: UInt32, factors: Set<Int>, into batch: inout StorageBatch) {
        for layout in factors {
            for lane in 0..<layout {
                batch.delete(TriggerStore.checkpointKey(context.uuid, stream: context.streamId, shard: index, factor: layout, lane: lane), in: .triggers)
                batch.delete(TriggerStore.windowKey(context.uuid, stream: context.streamId, shard: index, factor: layout, lane: lane), in: .triggers)
            }
        }
    }

    /// Stores the shard's current layout if it is not stored as it is, and drops the layouts it supersedes.
    private func storeLayout(_ progress: ShardProgress, replacing stored: [Int: [Int: UInt64]], shard: UInt32) async -> Bool {
        var batch = StorageBatch()
        if progress.differs(from: stored) {
            for lane in 0..<context.factor {
                batch.put(context.checkpointKey(shard, lane: lane), TriggerStore.position(progress.positions[lane]), in: .triggers)
            }
        }
        for obsolete in progress.obsolete(stored: stored) {
            for lane in 0..<obsolete {
                batch.delete(TriggerStore.checkpointKey(context.uuid, stream: context.streamId, shard: shard, factor: obsolete, lane: lane), in: .triggers)
                batch.delete(TriggerStore.windowKey(context.uuid, stream: context.streamId, shard: shard, factor: obsolete, lane: lane), in: .triggers)
            }
        }
        return batch.isEmpty ? true : await commit(batch, forgetting: "a shard's earlier layouts")
    }
}
