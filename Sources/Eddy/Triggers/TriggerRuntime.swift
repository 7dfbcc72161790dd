import EddyStorage
import Foundation
import Synchronization

/// A Swift function a trigger mapping calls with each batch of its stream's records. Throwing fails the
/// batch: it is retried as the mapping's `maximumRetryAttempts` says. With `ReportBatchItemFailures` in the
/// mapping's `functionResponseTypes`, the returned response names the records that failed.
public typealias TriggerHandler = @Sendable (TriggerEvent) async throws -> TriggerBatchResponse

/// A registered trigger mapping.
public struct TriggerMapping: Sendable, Equatable {
    /// Identifies the mapping, as Lambda's event source mapping UUID does; kept across restarts.
    public let uuid: String
    public let name: String
    public let configuration: TriggerMappingConfiguration
}

/// Runs trigger mappings: reads each mapping's stream shard by shard from its checkpoint, in order, parents
/// before children, and calls its handler with batches of records in Lambda's DynamoDB event shape.
///
/// ```swift
/// let triggers = TriggerRuntime(database: db)
/// try await triggers.register(name: "welcome", configuration: .init(eventSourceArn: arn, startingPosition: .latest)) { event in
///     for record in event.records where record.eventName == .insert { try await sendWelcomeMail(record) }
/// }
/// let running = Task { await triggers.run() }
/// ```
///
/// Delivery to handlers is at least once: a batch's checkpoint is committed after its handler returns, so a
/// process that stops between the two calls the handler with that batch again when it restarts and registers
/// the mapping under the same name. Derivative-table mappings are exactly once (writes and checkpoint in one
/// batch). Per shard, batches are sequential and in order, so each item's records arrive in the order of its
/// commits. A batch whose handler keeps failing is retried with backoff up to `maximumRetryAttempts` times
/// (forever with -1), then skipped and reported to the on-failure destination; with
/// `bisectBatchOnFunctionError` it is split in halves first, and with `ReportBatchItemFailures` it is retried
/// from the first failed record. Records older than `maximumRecordAgeInSeconds` are skipped and reported;
/// records the filter criteria reject are skipped and checkpointed.
public final class TriggerRuntime: Sendable {
    /// Where a mapping's records go.
    private enum Sink: Sendable {
        case handler(TriggerHandler)
        /// Writes to tables of the same database, committed with the checkpoint.
        case derivative(DerivativeTransform, targets: Set<String>)
    }

    private struct Registered: Sendable {
        var mapping: TriggerMapping
        var streamId: UInt64
        var sourceTable: String
        var sink: Sink
        var onFailure: TriggerFailureDestination?
    }

    private let database: Database
    private let registered = Mutex<[String: Registered]>([:])

    public init(database: Database) {
        self.database = database
    }

    /// Registers a mapping whose handler succeeds or throws for the whole batch; see
    /// ``registerReportingFailures(name:configuration:onFailure:handler:)``.
    @discardableResult
    public func register(
        name: String, configuration: TriggerMappingConfiguration, onFailure: TriggerFailureDestination? = nil,
        handler: @escaping @Sendable (TriggerEvent) async throws -> Void
    ) async throws(EddyError) -> TriggerMapping {
        let wrapped: TriggerHandler = { event in
            try await handler(event)
            return .success
        }
        return try await registerReportingFailures(name: name, configuration: configuration, onFailure: onFailure, handler: wrapped)
    }

    /// Registers a mapping from the stream `configuration.eventSourceArn` to `handler`, which may report the
    /// records that failed (with `ReportBatchItemFailures` in the settings' `functionResponseTypes`). A
    /// mapping registered earlier under the same name (in this process or, through the database, in an
    /// earlier one) keeps its UUID and checkpoints and takes the new settings. Records the mapping drops
    /// (retries exhausted, too old) are reported to `onFailure`, if given.
    ///
    /// - Throws: `ValidationException` or `InvalidParameterValueException` for settings out of range;
    ///   `ResourceNotFoundException` if the stream does not exist; `ResourceInUseException` if the name
    ///   belongs to a mapping of another stream.
    @discardableResult
    public func registerReportingFailures(
        name: String, configuration: TriggerMappingConfiguration, onFailure: TriggerFailureDestination? = nil,
        handler: @escaping TriggerHandler
    ) async throws(EddyError) -> TriggerMapping {
        try await register(name: name, configuration: configuration, sink: .handler(handler), onFailure: onFailure)
    }

    /// Registers a mapping that keeps derivative tables of the same database: `transform` maps each record
    /// to writes on `targetTables`, and the runtime commits a batch's writes (with their own stream records)
    /// and the mapping's new checkpoint in one atomic write, so each source change is applied exactly once,
    /// across crashes too. The target tables' streams can feed further mappings, but not back into a table
    /// that feeds this one.
    ///
    /// - Throws: as ``registerReportingFailures(name:configuration:onFailure:handler:)``; also
    ///   `ValidationException` if a target table does not exist, or if the mapping would close a cycle of
    ///   derivative tables.
    @discardableResult
    public func registerDerivative(
        name: String, configuration: TriggerMappingConfiguration, targetTables: Set<String>,
        onFailure: TriggerFailureDestination? = nil, transform: @escaping DerivativeTransform
    ) async throws(EddyError) -> TriggerMapping {
        for target in targetTables {
            guard database.catalog.table(named: target) != nil else {
                throw .validation("The derivative table \(target) does not exist")
            }
        }
        return try await register(
            name: name, configuration: configuration, sink: .derivative(transform, targets: targetTables), onFailure: onFailure)
    }

    private func register(
        name: String, configuration: TriggerMappingConfiguration, sink: Sink, onFailure: TriggerFailureDestination?
    ) async throws(EddyError) -> TriggerMapping {
        guard (1...140).contains(name.utf8.count) else {
            throw TableValidation.constraint(value: name, field: "name", "Member must have length between 1 and 140")
        }
        try configuration.validate()
        let snapshot = database.streams.snapshot
        let stream = try database.resolveStream(configuration.eventSourceArn, in: snapshot)
        if case .derivative(_, let targets) = sink {
            try refuseCycle(from: stream.tableName, to: targets, replacing: name)
        }
        let stored: StoredTriggerMapping
        var batch = StorageBatch()
        if var existing = try database.storedTriggerMapping(named: name) {
            guard existing.configuration.eventSourceArn == configuration.eventSourceArn else {
                throw .resourceInUse("The trigger mapping \(name) reads another stream: \(existing.configuration.eventSourceArn)")
            }
            existing.configuration = configuration
            stored = existing
        } else {
            stored = StoredTriggerMapping(
                uuid: UUID().uuidString.lowercased(), name: name, configuration: configuration,
                createdMilliseconds: database.configuration.clock.nowMilliseconds())
            // LATEST means after what has committed now: fix that position in every current shard.
            if configuration.startingPosition == .latest {
                for shard in stream.shards {
                    let position = max(shard.startingSequence, (shard.endingSequence ?? snapshot.committedThrough) + 1)
                    batch.put(
                        TriggerStore.checkpointKey(stored.uuid, stream: stream.id, shard: shard.index),
                        TriggerStore.position(position), in: .triggers)
                }
            }
        }
        batch.put(TriggerStore.mappingKey(name), TriggerStore.encode(stored), in: .triggers)
        try await database.committer.commitCatalogChange(PreparedWrite(batch: batch))
        let mapping = TriggerMapping(uuid: stored.uuid, name: name, configuration: configuration)
        registered.withLock {
            $0[name] = Registered(mapping: mapping, streamId: stream.id, sourceTable: stream.tableName, sink: sink, onFailure: onFailure)
        }
        return mapping
    }

    /// Refuses a derivative mapping from `source` to `targets` if, with the other derivative mappings, a
    /// target's changes could flow back to `source` (A → B → A would feed itself forever).
    private func refuseCycle(from source: String, to targets: Set<String>, replacing name: String) throws(EddyError) {
        var edges: [String: Set<String>] = [source: targets]
        for other in registered.withLock({ Array($0.values) }) where other.mapping.name != name {
            if case .derivative(_, let otherTargets) = other.sink { edges[other.sourceTable, default: []].formUnion(otherTargets) }
        }
        var seen: Set<String> = []
        var pending = Array(targets)
        while let table = pending.popLast() {
            if table == source {
                throw .validation("The derivative mapping \(name) would close a cycle of derivative tables through \(source)")
            }
            if seen.insert(table).inserted { pending += edges[table, default: []] }
        }
    }

    /// Runs every mapping registered so far until the calling task is cancelled. A batch whose handler is
    /// running when the task is cancelled finishes and is checkpointed; a batch waiting for a retry is
    /// abandoned without advancing past it.
    public func run() async {
        let mappings = registered.withLock { Array($0.values) }
        await withTaskGroup(of: Void.self) { group in
            for mapping in mappings where mapping.mapping.configuration.resolved.enabled {
                group.addTask { await self.runMapping(mapping) }
            }
        }
    }

    /// Reads and delivers one mapping's stream until cancelled or until its disabled stream is read to its
    /// end. Each round reads every shard whose parent is done, one batch per shard, the shards concurrently
    /// (as Lambda runs one invocation per shard at a time); a shard's batches stay sequential.
    private func runMapping(_ registered: Registered) async {
        let mapping = registered.mapping
        let settings = mapping.configuration.resolved
        guard var checkpoints = try? database.triggerCheckpoints(mapping.uuid, stream: registered.streamId) else { return }
        // When each shard's batch, still short of `batchSize`, began to wait for more records.
        var windowOpened: [UInt32: ContinuousClock.Instant] = [:]
        while !Task.isCancelled {
            let generation = database.streams.signal.generation
            let snapshot = database.streams.snapshot
            guard let stream = snapshot.streams[registered.streamId] else { return }
            var ready: [(shard: ShardDefinition, position: UInt64)] = []
            var open = false
            for shard in stream.shards {
                let initial = mapping.configuration.startingPosition == .trimHorizon
                    ? max(shard.startingSequence, snapshot.trimmedBelow) : shard.startingSequence
                let position = checkpoints[shard.index] ?? initial
                if let end = shard.endingSequence, position > end { continue }
                open = true
                if let parent = shard.parent, let parentShard = stream.shard(parent),
                    (checkpoints[parent] ?? 0) <= (parentShard.endingSequence ?? .max)
                {
                    continue
                }
                ready.append((shard, position))
            }
            if !open, !stream.isEnabled { return }
            let opened = windowOpened
            let outcomes = await withTaskGroup(of: (UInt32, ShardOutcome).self) { group in
                for (shard, position) in ready {
                    group.addTask {
                        let outcome = await self.processShard(
                            shard, from: position, of: stream, in: snapshot, registered: registered, settings: settings,
                            windowOpened: opened[shard.index])
                        return (shard.index, outcome)
                    }
                }
                return await group.reduce(into: [(UInt32, ShardOutcome)]()) { $0.append($1) }
            }
            var delivered = false
            var deadline: ContinuousClock.Instant?
            for (shard, outcome) in outcomes {
                switch outcome {
                case .stop:
                    return
                case .idle:
                    continue
                case .held(let since, let until):
                    windowOpened[shard] = since
                    deadline = min(deadline ?? until, until)
                case .advanced(let position):
                    windowOpened[shard] = nil
                    checkpoints[shard] = position
                    delivered = true
                }
            }
            if !delivered { await waitForCommit(after: generation, until: deadline) }
        }
    }

    /// What one round did in one shard.
    private enum ShardOutcome: Sendable {
        /// Nothing new.
        case idle
        /// A short batch waits for its batching window, opened at `since`, until `until`.
        case held(since: ContinuousClock.Instant, until: ContinuousClock.Instant)
        /// The shard's position moved to here (a batch was handled, or retention moved it).
        case advanced(UInt64)
        /// The task was cancelled mid-batch, or storage failed: the mapping stops without advancing.
        case stop
    }

    /// Reads one batch of `shard` at `position` and hands it to the mapping's sink, then commits the new
    /// checkpoint (with the writes, for a derivative table).
    private func processShard(
        _ shard: ShardDefinition, from position: UInt64, of stream: StreamDefinition, in snapshot: StreamsSnapshot,
        registered: Registered, settings: TriggerMappingConfiguration.Resolved, windowOpened: ContinuousClock.Instant?
    ) async -> ShardOutcome {
        let mapping = registered.mapping
        let page: Database.ShardPage
        do {
            page = try database.readShard(
                stream, shard, from: position, in: snapshot, limit: settings.batchSize, maxBytes: Limits.triggerBatchBytesMax)
        } catch {
            guard case .trimmedDataAccess = error else { return .stop }
            // Retention took records the mapping had not read: they are gone, go on from the horizon.
            return .advanced(database.streams.trimmedBelow)
        }
        guard !page.records.isEmpty || page.exhausted else { return .idle }
        // A batching window holds a short batch of an open shard back until it fills or the window ends.
        let window = Duration.seconds(settings.maximumBatchingWindowInSeconds)
        if window > .zero, !page.exhausted, page.records.count < settings.batchSize {
            let opened = windowOpened ?? ContinuousClock.now
            if ContinuousClock.now < opened + window { return .held(since: opened, until: opened + window) }
        }
        let filter = mapping.configuration.filterCriteria ?? FilterCriteria()
        let (records, expired) = deliverable(page.records.map(\.record), filter: filter, settings: settings)
        let batch = Batch(registered: registered, shardId: StreamNames.shardId(shard), settings: settings)
        if !expired.isEmpty {
            guard await report(.recordAgeExceeded, invokeCount: 0, records: expired, of: batch) else { return .stop }
        }
        let checkpoint = (
            TriggerStore.checkpointKey(mapping.uuid, stream: stream.id, shard: shard.index), TriggerStore.position(page.next))
        switch registered.sink {
        case .handler(let handler):
            if !records.isEmpty {
                guard await deliver(records, to: handler, of: batch) else { return .stop }
            }
            guard await commitCheckpoint(checkpoint) else { return .stop }
        case .derivative(let transform, _):
            guard await apply(records, transform: transform, checkpoint: checkpoint, of: batch) else { return .stop }
        }
        return .advanced(page.next)
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

    /// The records of a page that go to the handler (those the filter accepts and that are young enough),
    /// and those too old to go.
    private func deliverable(
        _ records: [StreamRecord], filter: FilterCriteria, settings: TriggerMappingConfiguration.Resolved
    ) -> (deliverable: [StreamRecord], expired: [StreamRecord]) {
        let now = Double(database.configuration.clock.nowMilliseconds()) / 1000
        var deliverable: [StreamRecord] = []
        var expired: [StreamRecord] = []
        for record in records where (try? filter.matches(record)) ?? false {
            if settings.maximumRecordAgeInSeconds >= 0,
                now - record.dynamodb.approximateCreationDateTime > Double(settings.maximumRecordAgeInSeconds)
            {
                expired.append(record)
            } else {
                deliverable.append(record)
            }
        }
        return (deliverable, expired)
    }

    /// Where the records being delivered come from, and where they go.
    private struct Batch {
        var registered: Registered
        var shardId: String
        var settings: TriggerMappingConfiguration.Resolved
        var streamArn: String { registered.mapping.configuration.eventSourceArn }
    }

    /// Sends the record of dropping `records` to the mapping's on-failure destination, if it has one, until
    /// it is taken; false if the task was cancelled first.
    private func report(
        _ condition: TriggerFailureRecord.Condition, invokeCount: Int, records: [StreamRecord], of batch: Batch
    ) async -> Bool {
        guard let destination = batch.registered.onFailure else { return true }
        let failure = TriggerFailureRecord(
            condition, invokeCount: invokeCount, mapping: batch.registered.mapping.uuid, records: records,
            shardId: batch.shardId, streamArn: batch.streamArn, now: database.configuration.clock.nowMilliseconds())
        var attempt = 0
        while true {
            do {
                try await destination(failure)
                return true
            } catch {
                attempt += 1
                do {
                    try await Task.sleep(for: .milliseconds(min(1_000, 1 << min(attempt, 10))))
                } catch {
                    return false
                }
            }
        }
    }

    /// Calls `handler` with `records` until every record has succeeded or its retries are used up; false if
    /// the task was cancelled while waiting to retry (the batch is then abandoned, not checkpointed).
    ///
    /// A partial batch response retries from the first failed record. With `bisectBatchOnFunctionError`, a
    /// failing batch of several records is split in two and each half handled in turn; bisecting does not
    /// count as a retry.
    private func deliver(_ records: [StreamRecord], to handler: TriggerHandler, of batch: Batch) async -> Bool {
        let settings = batch.settings
        var pending = records[...]
        var attempt = 0
        while !pending.isEmpty {
            let event = TriggerEvent(records: pending.map { TriggerEventRecord($0, streamArn: batch.streamArn) })
            do {
                let response = try await handler(event)
                guard settings.reportsBatchItemFailures, !response.batchItemFailures.isEmpty else { return true }
                guard let first = Self.firstFailure(response, in: pending) else { throw BatchFailed() }
                pending = pending[first...]
            } catch {
                if settings.bisectBatchOnFunctionError, pending.count > 1 {
                    let middle = pending.startIndex + pending.count / 2
                    for half in [Array(pending[..<middle]), Array(pending[middle...])] {
                        guard await deliver(half, to: handler, of: batch) else { return false }
                    }
                    return true
                }
            }
            attempt += 1
            if settings.maximumRetryAttempts >= 0, attempt > settings.maximumRetryAttempts {
                return await report(.retryAttemptsExhausted, invokeCount: attempt, records: Array(pending), of: batch)
            }
            do {
                try await Task.sleep(for: .milliseconds(min(1_000, 1 << min(attempt, 10))))
            } catch {
                return false
            }
        }
        return true
    }

    /// A handler's partial batch response that cannot be honoured fails the whole batch.
    private struct BatchFailed: Error {}

    /// The index in `records` of the first record `response` names, or nil if it names one with an empty
    /// identifier or one that is not in the batch.
    private static func firstFailure(_ response: TriggerBatchResponse, in records: ArraySlice<StreamRecord>) -> Int? {
        var first: Int?
        for failure in response.batchItemFailures {
            guard let identifier = failure.itemIdentifier, !identifier.isEmpty,
                let index = records.firstIndex(where: { $0.dynamodb.sequenceNumber == identifier })
            else { return nil }
            first = min(first ?? index, index)
        }
        return first
    }

    /// Applies `records` to the derivative tables and commits `checkpoint` with the writes, retrying as the
    /// settings say; when the retries are used up, reports the records and commits the checkpoint alone.
    /// False if the task was cancelled while waiting to retry, or storage failed.
    private func apply(
        _ records: [StreamRecord], transform: DerivativeTransform, checkpoint: (key: [UInt8], value: [UInt8]), of batch: Batch
    ) async -> Bool {
        var attempt = 0
        while true {
            do {
                var writes: [DerivativeWrite] = []
                for record in records { writes += try transform(record) }
                try await database.commitDerivative(writes, checkpoint: checkpoint)
                return true
            } catch {
                attempt += 1
                if batch.settings.maximumRetryAttempts >= 0, attempt > batch.settings.maximumRetryAttempts {
                    guard await report(.retryAttemptsExhausted, invokeCount: attempt, records: records, of: batch) else { return false }
                    return await commitCheckpoint(checkpoint)
                }
                do {
                    try await Task.sleep(for: .milliseconds(min(1_000, 1 << min(attempt, 10))))
                } catch {
                    return false
                }
            }
        }
    }

    /// Commits a mapping's new position in a shard; false if storage failed.
    private func commitCheckpoint(_ checkpoint: (key: [UInt8], value: [UInt8])) async -> Bool {
        var batch = StorageBatch()
        batch.put(checkpoint.key, checkpoint.value, in: .triggers)
        do {
            try await database.committer.commitCatalogChange(PreparedWrite(batch: batch))
            return true
        } catch {
            return false
        }
    }
}
