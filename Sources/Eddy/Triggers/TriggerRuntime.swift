import CoreMetrics
import EddyStorage
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// A Swift function a trigger mapping calls with each batch of its stream's records. Throwing fails the
/// batch: it is retried as the mapping's `maximumRetryAttempts` says. With `ReportBatchItemFailures` in the
/// mapping's `functionResponseTypes`, the returned response names the records that failed; with a tumbling
/// window, it carries the window's state.
public typealias TriggerHandler = @Sendable (TriggerEvent) async throws -> TriggerBatchResponse

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
/// The runtime is a swift-service-lifecycle `Service`: in a `ServiceGroup`, a graceful shutdown stops it as
/// cancelling ``run()`` does. Mappings registered, updated, enabled or disabled while it runs start and stop
/// at once. Stopping a mapping lets the batch in flight finish (and be checkpointed), or abandons it without
/// advancing past it if it is waiting to be retried.
///
/// Delivery to handlers is at least once: a batch's checkpoint is committed after its handler returns, so a
/// process that stops between the two calls the handler with that batch again when it restarts and registers
/// the mapping under the same name. Derivative-table mappings are exactly once (writes and checkpoint in one
/// batch). Per shard (per lane, with a ParallelizationFactor above 1), batches are sequential and in order,
/// so each item's records arrive in the order of its commits; shards and lanes never wait for one another, so
/// a failing batch holds back only the records behind it in its lane. A batch whose handler keeps failing is retried
/// with backoff up to `maximumRetryAttempts` times (forever with -1), then skipped and reported to the
/// on-failure destination; with `bisectBatchOnFunctionError` it is split in halves first, and with
/// `ReportBatchItemFailures` it is retried from the first failed record. Records older than
/// `maximumRecordAgeInSeconds` are skipped and reported; records the filter criteria reject are skipped and
/// checkpointed. Records the stream's retention removes before the mapping handled them (a batch retried
/// for 24 hours, a mapping behind or stopped for longer) are reported too, as shard and sequence ranges, and
/// the mapping goes on from the trim horizon. A handler may update, disable or delete its own mapping: the
/// change returns at once (in its transitional state) and ends when the handler has returned.
///
/// Metrics go to swift-metrics (the factory given to ``init(database:metricsFactory:logger:changesReturnAtOnce:)``), per mapping: see
/// `TriggerMetrics` (`eddy_trigger_invocations`, `_errors`, `_retries`, `_dropped_records`, `_lost_records`,
/// `_batch_size`, `_iterator_age_milliseconds`, `_lag`).
public final class TriggerRuntime: Service, Sendable {
    private struct Entry: Sendable {
        var mapping: RegisteredMapping
        var lifecycle: MappingLifecycle
        /// The worker of the mapping's current (or last) run.
        var worker: MappingWorker?
        /// What happened to the mapping's last batch.
        let result = ProcessingResult()
    }

    private struct State: Sendable {
        var entries: [String: Entry] = [:]
        /// Hands workers to ``run()``'s task group while it runs.
        var starter: AsyncStream<(WorkerControl, MappingWorker)>.Continuation?
        var running: Bool { starter != nil }
    }

    /// The database whose streams the mappings read.
    public let database: Database
    /// Whether a change of a running mapping returns before its batch in flight has ended.
    public let changesReturnAtOnce: Bool
    private let metricsFactory: MetricsFactory
    private let logger: Logger
    private let state = Mutex(State())
    /// Serializes changes to one mapping (keys are mapping names).
    private let changes = ItemLocks()

    /// A runtime for the mappings of `database`, reporting metrics to `metricsFactory` (the one
    /// `MetricsSystem` was bootstrapped with, unless given) and logging what its mappings drop, lose or give
    /// up on to `logger`. By default, a change of a running mapping
    /// (update, enable, disable, delete) returns once its batch in flight has ended; with
    /// `changesReturnAtOnce`, it returns at once in its transitional state (Updating, Disabling, Deleting) and
    /// ends in the background, as Lambda's API answers (a server cannot hold a request for as long as a
    /// function may run).
    public init(
        database: Database, metricsFactory: MetricsFactory = MetricsSystem.factory, logger: Logger = Logger(label: "eddy.triggers"),
        changesReturnAtOnce: Bool = false
    ) {
        self.database = database
        self.metricsFactory = metricsFactory
        self.logger = logger
        self.changesReturnAtOnce = changesReturnAtOnce
    }

    // MARK: Registering

    /// Registers a mapping whose handler succeeds or throws for the whole batch; see
    /// ``registerReportingFailures(name:configuration:onFailure:handler:)``. Refused for a tumbling window,
    /// whose handler must return the window's state.
    @discardableResult
    public func register(
        name: String, configuration: TriggerMappingConfiguration, onFailure: TriggerFailureDestination? = nil,
        handler: @escaping @Sendable (TriggerEvent) async throws -> Void
    ) async throws(EddyError) -> TriggerMapping {
        if (configuration.tumblingWindowInSeconds ?? 0) > 0 {
            throw .validation("A tumbling window needs a handler that returns its state: use registerReportingFailures")
        }
        let wrapped: TriggerHandler = { event in
            try await handler(event)
            return .success
        }
        return try await registerReportingFailures(name: name, configuration: configuration, onFailure: onFailure, handler: wrapped)
    }

    /// Registers a mapping from the stream `configuration.eventSourceArn` to `handler`, which may report the
    /// records that failed (with `ReportBatchItemFailures` in the settings' `functionResponseTypes`) and
    /// returns a tumbling window's state. A mapping registered earlier under the same name (in this process
    /// or, through the database, in an earlier one) keeps its UUID and checkpoints and takes the new
    /// settings. Records the mapping drops (retries exhausted, too old) are reported to `onFailure`, if given.
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

    /// Registers a mapping as ``registerReportingFailures(name:configuration:onFailure:handler:)`` does, whose
    /// handler gets its records in `recordForm`: with ``StreamRecordForm/kinesis``, as Kinesis Data Streams
    /// for DynamoDB carries them (both images whatever the stream's view type, the commit time in
    /// milliseconds), for a sink of one's own in that format (EddyKafka's sink is one; see
    /// `KinesisChangeRecord.json`). With `target`, the mapping keeps what its handler stands for, as
    /// ``registerReportingFailures(name:configuration:onFailure:target:handler:)`` says.
    @discardableResult
    public func registerReportingFailures(
        name: String, configuration: TriggerMappingConfiguration, onFailure: TriggerFailureDestination?,
        recordForm: StreamRecordForm, target: TriggerMappingTarget? = nil, handler: @escaping TriggerHandler
    ) async throws(EddyError) -> TriggerMapping {
        try await register(
            name: name, configuration: configuration, sink: .handler(handler), onFailure: onFailure, recordForm: recordForm,
            target: target)
    }

    /// Registers a mapping as ``registerReportingFailures(name:configuration:onFailure:handler:)`` does, whose
    /// handler stands for `target`: the function that on-failure records name, and what the application keeps
    /// to register the handler again after a restart (``TriggerMapping/target``). A new mapping whose name is a
    /// UUID in lower case takes it as its UUID, as Lambda's event source mappings have only a UUID.
    @discardableResult
    public func registerReportingFailures(
        name: String, configuration: TriggerMappingConfiguration, onFailure: TriggerFailureDestination?,
        target: TriggerMappingTarget, handler: @escaping TriggerHandler
    ) async throws(EddyError) -> TriggerMapping {
        try await register(name: name, configuration: configuration, sink: .handler(handler), onFailure: onFailure, target: target)
    }

    /// Registers a mapping that keeps derivative tables of the same database: `transform` maps each record
    /// to writes on `targetTables`, and the runtime commits a batch's writes (with their own stream records)
    /// and the mapping's new checkpoint in one atomic write, so each source change is applied exactly once,
    /// across crashes too (with a ParallelizationFactor above 1, and after it changes, as well). The target
    /// tables' streams can feed further mappings, but not back into a table that feeds this one.
    ///
    /// With `target`, the mapping keeps what its transform stands for (``TriggerMapping/target``), so that the
    /// application can register it again after a restart.
    ///
    /// - Throws: as ``registerReportingFailures(name:configuration:onFailure:handler:)``; also
    ///   `ValidationException` if a target table does not exist, if the mapping would close a cycle of
    ///   derivative tables, or if it asks for a tumbling window (windows are for handlers).
    @discardableResult
    public func registerDerivative(
        name: String, configuration: TriggerMappingConfiguration, targetTables: Set<String>,
        onFailure: TriggerFailureDestination? = nil, target: TriggerMappingTarget? = nil,
        transform: @escaping DerivativeTransform
    ) async throws(EddyError) -> TriggerMapping {
        for target in targetTables {
            guard database.catalog.table(named: target) != nil else {
                throw .validation("The derivative table \(target) does not exist")
            }
        }
        if (configuration.tumblingWindowInSeconds ?? 0) > 0 {
            throw .validation("A derivative-table mapping cannot have a tumbling window")
        }
        return try await register(
            name: name, configuration: configuration, sink: .derivative(transform, targets: targetTables), onFailure: onFailure,
            target: target)
    }

    private func register(
        name: String, configuration: TriggerMappingConfiguration, sink: TriggerSink, onFailure: TriggerFailureDestination?,
        recordForm: StreamRecordForm = .streams, target: TriggerMappingTarget? = nil
    ) async throws(EddyError) -> TriggerMapping {
        guard (1...140).contains(name.utf8.count) else {
            throw TableValidation.constraint(value: name, field: "name", "Member must have length between 1 and 140")
        }
        try configuration.validate()
        if case .table(let table) = onFailure { try database.validateFailureTable(table) }
        let (registered, worker, failure) = try await changing(name) {
            () async throws(EddyError) -> (RegisteredMapping, WorkerControl?, EddyError?) in
            let snapshot = database.streams.snapshot
            let stream = try database.resolveStream(configuration.eventSourceArn, in: snapshot)
            if case .derivative(_, let targets) = sink {
                try refuseCycle(from: stream.tableName, to: targets, replacing: name)
            }
            let now = database.configuration.clock.nowMilliseconds()
            var batch = StorageBatch()
            let stored: StoredTriggerMapping
            let existing = try database.storedTriggerMapping(named: name)
            if var existing {
                guard existing.configuration.eventSourceArn == configuration.eventSourceArn else {
                    throw .resourceInUse("The trigger mapping \(name) reads another stream: \(existing.configuration.eventSourceArn)")
                }
                guard (existing.configuration.snapshot ?? false) == (configuration.snapshot ?? false) else {
                    throw .validation("Snapshot is set when a trigger mapping is created: it cannot be changed on mapping \(name)")
                }
                existing.configuration = configuration
                existing.lastModifiedMilliseconds = now
                existing.target = target
                stored = existing
            } else {
                let nameIsUUID = UUID(uuidString: name) != nil && name == name.lowercased()
                stored = StoredTriggerMapping(
                    uuid: nameIsUUID ? name : UUID().uuidString.lowercased(), name: name, configuration: configuration, createdMilliseconds: now,
                    lastModifiedMilliseconds: now, target: target)
                // LATEST means after what has committed now: fix that position in every current shard, as a
                // one-lane layout that the mapping's own lanes start from. A mapping with a snapshot starts
                // where its snapshot is read.
                if configuration.startingPosition == .latest, configuration.snapshot != true {
                    for shard in stream.shards {
                        let position = Swift.max(shard.startingSequence, (shard.endingSequence ?? snapshot.committedThrough) + 1)
                        batch.put(
                            TriggerStore.checkpointKey(stored.uuid, stream: stream.id, shard: shard.index, factor: 1, lane: 0),
                            TriggerStore.position(position), in: .triggers)
                    }
                }
            }
            let partitionKeyName = stream.keySchema.first { $0.keyType == .hash }!.attributeName
            let registered = RegisteredMapping(
                stored: stored, streamId: stream.id, sourceTable: stream.tableName, partitionKeyName: partitionKeyName,
                sink: sink, onFailure: onFailure, recordForm: recordForm)
            // A mapping this runtime runs is updated: its worker stops first. Another is created here.
            let isNew = state.withLock { $0.entries[name] == nil }
            let worker = try state.withLock { state throws(EddyError) -> WorkerControl? in
                guard state.entries[name] != nil else {
                    state.entries[name] = Entry(
                        mapping: registered, lifecycle: MappingLifecycle(changing: existing == nil ? .creating : .updating))
                    return nil
                }
                return try state.entries[name]!.lifecycle.begin(.updating, name: name)
            }
            batch.put(TriggerStore.mappingKey(name), TriggerStore.encode(stored), in: .triggers)
            do throws(EddyError) {
                try await database.committer.commitCatalogChange(PreparedWrite(batch: batch))
            } catch {
                if isNew { state.withLock { $0.entries[name] = nil } }
                return (registered, worker, error)
            }
            state.withLock { $0.entries[name]?.mapping = registered }
            return (registered, worker, nil)
        }
        await settle(after: worker) { self.finishChange(of: name, stopped: worker) }
        if let failure { throw failure }
        return publicMapping(registered.stored)
    }

    /// Refuses a derivative mapping from `source` to `targets` if, with the other derivative mappings, a
    /// target's changes could flow back to `source` (A → B → A would feed itself forever).
    private func refuseCycle(from source: String, to targets: Set<String>, replacing name: String) throws(EddyError) {
        var edges: [String: Set<String>] = [source: targets]
        for other in state.withLock({ $0.entries.values.map(\.mapping) }) where other.stored.name != name {
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

    // MARK: Listing and changing

    /// Every mapping the database keeps (registered in this process or an earlier one), by name; only those
    /// of stream `eventSourceArn`, if given.
    public func mappings(eventSourceArn: String? = nil) throws(EddyError) -> [TriggerMapping] {
        try database.storedTriggerMappings()
            .filter { eventSourceArn == nil || $0.configuration.eventSourceArn == eventSourceArn }
            .map(publicMapping)
    }

    /// The mapping with this name or UUID.
    ///
    /// - Throws: `ResourceNotFoundException` if there is none.
    public func mapping(_ nameOrUUID: String) throws(EddyError) -> TriggerMapping {
        try publicMapping(stored(nameOrUUID))
    }

    /// The mapping once its change in progress (if any) has ended — its batch in flight finished and its
    /// worker stopped or started again —, or as it is after `timeout`. For a runtime whose changes return at
    /// once, an API of one's own that answers with the settled state.
    ///
    /// - Throws: `ResourceNotFoundException` if there is no such mapping (a deleted one, once its deletion ended).
    public func settled(_ nameOrUUID: String, timeout: Duration = .seconds(30)) async throws(EddyError) -> TriggerMapping {
        let deadline = ContinuousClock.now + timeout
        while true {
            let current = try mapping(nameOrUUID)
            guard current.state.isTransitional, ContinuousClock.now < deadline else { return current }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Changes a mapping's settings (not its stream, nor its starting position, as Lambda's
    /// UpdateEventSourceMapping): the mapping is Updating while its batch in flight finishes, then runs with
    /// the new settings from its checkpoints.
    ///
    /// - Throws: `ResourceNotFoundException` for an unknown mapping; `ValidationException` for settings out
    ///   of range, or another stream or starting position; `ResourceInUseException` while another change of
    ///   the mapping is in progress (as for ``enable(_:)``, ``disable(_:)`` and ``delete(_:)``).
    @discardableResult
    public func update(_ nameOrUUID: String, configuration: TriggerMappingConfiguration) async throws(EddyError) -> TriggerMapping {
        let current = try stored(nameOrUUID)
        guard configuration.eventSourceArn == current.configuration.eventSourceArn,
            configuration.startingPosition == current.configuration.startingPosition
        else {
            throw .validation("A trigger mapping's EventSourceArn and StartingPosition cannot change")
        }
        return try await change(current.name, to: configuration, transition: .updating)
    }

    /// Starts a disabled mapping again from its checkpoints.
    @discardableResult
    public func enable(_ nameOrUUID: String) async throws(EddyError) -> TriggerMapping {
        let current = try stored(nameOrUUID)
        var configuration = current.configuration
        configuration.enabled = true
        return try await change(current.name, to: configuration, transition: .enabling)
    }

    /// Stops a mapping, keeping its checkpoints: it is Disabling until its batch in flight finishes (or is
    /// abandoned), then Disabled.
    @discardableResult
    public func disable(_ nameOrUUID: String) async throws(EddyError) -> TriggerMapping {
        let current = try stored(nameOrUUID)
        var configuration = current.configuration
        configuration.enabled = false
        return try await change(current.name, to: configuration, transition: .disabling)
    }

    /// Stops a mapping and forgets it: its settings, checkpoints, tumbling-window states and unreported lost
    /// ranges are deleted. Returns the mapping as it was, in state Deleting, as Lambda's
    /// DeleteEventSourceMapping does.
    @discardableResult
    public func delete(_ nameOrUUID: String) async throws(EddyError) -> TriggerMapping {
        let name = try stored(nameOrUUID).name
        let (deleted, worker, failure) = try await changing(name) {
            () async throws(EddyError) -> (StoredTriggerMapping, WorkerControl?, EddyError?) in
            guard let current = try database.storedTriggerMapping(named: name) else {
                throw .resourceNotFound("The trigger mapping \(name) does not exist")
            }
            let worker = try state.withLock { state throws(EddyError) in
                try state.entries[name]?.lifecycle.begin(.deleting, name: name)
            }
            var batch = StorageBatch()
            batch.delete(TriggerStore.mappingKey(name), in: .triggers)
            do throws(EddyError) {
                try await database.committer.commitCatalogChange(PreparedWrite(batch: batch))
            } catch {
                return (current, worker, error)
            }
            state.withLock { $0.entries[name] = nil }
            return (current, worker, nil)
        }
        if let failure {
            await settle(after: worker) { self.finishChange(of: name, stopped: worker) }
            throw failure
        }
        // The positions go once the worker has stopped, so that its last checkpoint cannot outlive them.
        let uuid = deleted.uuid
        await settle(after: worker) { await self.forgetProgress(of: uuid) }
        return TriggerMapping(
            uuid: deleted.uuid, name: deleted.name, configuration: deleted.configuration, state: .deleting,
            lastProcessingResult: TriggerProcessingResult.noRecordsProcessed,
            lastModifiedMilliseconds: deleted.lastModifiedMilliseconds ?? deleted.createdMilliseconds, target: deleted.target,
            functionArn: functionArn(of: deleted))
    }

    /// Deletes the positions, tumbling windows and snapshot progress of the deleted mapping `uuid`. A storage failure leaves them
    /// behind, under a UUID no mapping has any more: nothing reads them.
    private func forgetProgress(of uuid: String) async {
        var batch = StorageBatch()
        for prefix in [TriggerStore.checkpointPrefix(uuid), TriggerStore.windowPrefix(uuid), LostRange.prefix(uuid)] {
            // The prefixes end in "/", so they have a successor.
            batch.deleteRange(from: prefix, to: prefix.prefixSuccessor!, in: .triggers)
        }
        batch.delete(SnapshotProgress.key(uuid), in: .triggers)
        try? await database.committer.commitCatalogChange(PreparedWrite(batch: batch))
    }

    /// Stores `configuration` for mapping `name` and restarts it (or leaves it stopped), showing
    /// `transition` meanwhile.
    private func change(
        _ name: String, to configuration: TriggerMappingConfiguration, transition: TriggerMappingState
    ) async throws(EddyError) -> TriggerMapping {
        try configuration.validate()
        let (stored, worker, failure) = try await changing(name) {
            () async throws(EddyError) -> (StoredTriggerMapping, WorkerControl?, EddyError?) in
            guard var stored = try database.storedTriggerMapping(named: name) else {
                throw .resourceNotFound("The trigger mapping \(name) does not exist")
            }
            if (configuration.tumblingWindowInSeconds ?? 0) > 0, let entry = state.withLock({ $0.entries[name] }),
                case .derivative = entry.mapping.sink
            {
                throw .validation("A derivative-table mapping cannot have a tumbling window")
            }
            let worker = try state.withLock { state throws(EddyError) in
                try state.entries[name]?.lifecycle.begin(transition, name: name)
            }
            stored.configuration = configuration
            stored.lastModifiedMilliseconds = database.configuration.clock.nowMilliseconds()
            var batch = StorageBatch()
            batch.put(TriggerStore.mappingKey(name), TriggerStore.encode(stored), in: .triggers)
            do throws(EddyError) {
                try await database.committer.commitCatalogChange(PreparedWrite(batch: batch))
            } catch {
                return (stored, worker, error)
            }
            state.withLock { $0.entries[name]?.mapping.stored = stored }
            return (stored, worker, nil)
        }
        await settle(after: worker) { self.finishChange(of: name, stopped: worker) }
        if let failure { throw failure }
        return publicMapping(stored)
    }

    /// Runs `finish` once `worker` (if any) has stopped. A change made from inside the mapping's own worker
    /// (by its handler), or by a runtime whose changes return at once, does not wait: it returns at once, and
    /// the change ends after the batch in flight has ended and the worker has stopped.
    private func settle(after worker: WorkerControl?, _ finish: @escaping @Sendable () async -> Void) async {
        guard let worker else {
            await finish()
            return
        }
        guard !worker.isCurrent, !changesReturnAtOnce else {
            Task {
                await worker.waitUntilStopped()
                await finish()
            }
            return
        }
        await worker.waitUntilStopped()
        await finish()
    }

    /// Ends mapping `name`'s change once `stopped` has stopped, and starts it again if it is enabled.
    private func finishChange(of name: String, stopped: WorkerControl?) {
        state.withLock { state in
            guard let entry = state.entries[name] else { return }
            state.entries[name]!.lifecycle.finish(enabled: entry.mapping.stored.configuration.resolved.enabled, stopped: stopped)
            startIfRunning(name, in: &state)
        }
    }

    /// Runs `body` as the only change of mapping `name` in progress.
    private func changing<Result: Sendable>(
        _ name: String, _ body: () async throws(EddyError) -> Result
    ) async throws(EddyError) -> Result {
        try await changes.withLock(ItemKey(bytes: Array(name.utf8)), body)
    }

    private func stored(_ nameOrUUID: String) throws(EddyError) -> StoredTriggerMapping {
        if let mapping = try database.storedTriggerMapping(named: nameOrUUID) { return mapping }
        if let mapping = try database.storedTriggerMappings().first(where: { $0.uuid == nameOrUUID }) { return mapping }
        throw .resourceNotFound("The trigger mapping \(nameOrUUID) does not exist")
    }

    private func publicMapping(_ stored: StoredTriggerMapping) -> TriggerMapping {
        let (current, result) = state.withLock { ($0.entries[stored.name]?.lifecycle.state, $0.entries[stored.name]?.result.current) }
        return TriggerMapping(
            uuid: stored.uuid, name: stored.name, configuration: stored.configuration,
            state: current.flatMap { $0.isTransitional ? $0 : nil } ?? (stored.configuration.resolved.enabled ? .enabled : .disabled),
            lastProcessingResult: result ?? TriggerProcessingResult.noRecordsProcessed,
            lastModifiedMilliseconds: stored.lastModifiedMilliseconds ?? stored.createdMilliseconds, target: stored.target,
            functionArn: functionArn(of: stored),
            snapshotProgress: stored.configuration.snapshot == true
                ? ((try? database.snapshotProgress(stored.uuid)).flatMap { $0 }.map(TriggerSnapshotProgress.init) ?? TriggerSnapshotProgress())
                : nil)
    }

    private func functionArn(of stored: StoredTriggerMapping) -> String {
        stored.target?.functionArn ?? database.functionArn(ofMapping: stored.name)
    }

    // MARK: Progress

    /// Whether the mapping with this name or UUID has handled every record its stream has committed so far:
    /// its initial snapshot (if it has one) is complete, and its stored positions are past each record
    /// (delivered, filtered out or dropped, and checkpointed).
    /// Until more is committed, it has nothing more to deliver, except the final call of a tumbling window,
    /// which comes when the window's time is up.
    ///
    /// Tests wait for it before they check that nothing more arrived. It reads the stored positions, as a
    /// restart would, so it holds for a mapping this runtime does not run, too.
    ///
    /// - Throws: `ResourceNotFoundException` for an unknown mapping or a stream that no longer exists.
    func isCaughtUp(_ nameOrUUID: String) throws(EddyError) -> Bool {
        let mapping = try stored(nameOrUUID)
        let snapshot = database.streams.snapshot
        let stream = try database.resolveStream(mapping.configuration.eventSourceArn, in: snapshot)
        let partitionKey = stream.keySchema.first { $0.keyType == .hash }!.attributeName
        let factor = mapping.configuration.resolved.parallelizationFactor
        var snapshotSequence: UInt64?
        var segments: SnapshotSegments?
        if mapping.configuration.snapshot == true {
            guard let progress = try database.snapshotProgress(mapping.uuid), progress.complete else { return false }
            snapshotSequence = progress.streamStart
            // Records a later segment of the snapshot delivered are skipped by the lanes without a checkpoint.
            segments = SnapshotSegments(progress, table: try database.resolveTable(stream.tableName))
        }
        let stored = try database.triggerProgress(mapping.uuid, stream: stream.id)
        for shard in stream.shards {
            let progress = ShardProgress(
                stored: stored[shard.index] ?? [:], factor: factor,
                initial: ShardProgress.initial(
                    shard, from: mapping.configuration.startingPosition, in: snapshot, snapshotSequence: snapshotSequence))
            var position = Swift.max(progress.floor, snapshot.trimmedBelow)
            while true {
                let page = try database.readShard(
                    stream, shard, from: position, in: snapshot, limit: Limits.getRecordsLimitMax, maxBytes: Limits.getRecordsBytesMax)
                for (sequence, record) in page.records
                where !progress.isHandled(sequence, hash: ShardProgress.partitionHash(of: record, partitionKey: partitionKey))
                    && !(segments?.delivered(sequence, keys: record.dynamodb.keys) ?? false)
                {
                    return false
                }
                guard !page.records.isEmpty, page.next > position else { break }
                position = page.next
            }
        }
        return true
    }

    // MARK: Running

    /// Runs the registered mappings (and those registered later) until the calling task is cancelled or,
    /// in a `ServiceGroup`, a graceful shutdown begins; then stops each mapping as ``disable(_:)`` does and
    /// returns. A second call while one runs returns at once.
    public func run() async {
        await cancelWhenGracefulShutdown {
            await self.runUntilCancelled()
        }
    }

    /// Runs each started worker as a child task of one task group, so that workers run where `run()` runs
    /// (its executor preference included) and end when it is cancelled.
    private func runUntilCancelled() async {
        let (starts, starter) = AsyncStream.makeStream(of: (WorkerControl, MappingWorker).self)
        let started = state.withLock { state in
            guard !state.running else { return false }
            state.starter = starter
            for name in state.entries.keys { startIfRunning(name, in: &state) }
            return true
        }
        guard started else { return }
        await withDiscardingTaskGroup { group in
            for await (control, worker) in starts {
                group.addTask { await control.run(worker) }
            }
        }
        // Cancelled, and every worker has returned; a worker handed over too late never ran.
        let workers = state.withLock { state in
            state.starter = nil
            return state.entries.compactMap { name, entry in entry.lifecycle.worker.map { (name, $0) } }
        }
        starter.finish()
        for (_, control) in workers { control.markStopped() }
        state.withLock { state in
            for (name, control) in workers { state.entries[name]?.lifecycle.workerEnded(control) }
        }
    }

    /// Starts mapping `name`'s worker if the runtime runs, the mapping is enabled and not running yet.
    private func startIfRunning(_ name: String, in state: inout State) {
        guard let starter = state.starter, let entry = state.entries[name], entry.lifecycle.canStart,
            entry.mapping.stored.configuration.resolved.enabled
        else { return }
        let worker = MappingWorker(
            database: database, mapping: entry.mapping, metrics: TriggerMetrics(mapping: name, factory: metricsFactory),
            result: entry.result, logger: logger)
        let control = WorkerControl()
        state.entries[name]!.lifecycle.started(control)
        state.entries[name]!.worker = worker
        starter.yield((control, worker))
    }

    /// How many shards mapping `name`'s worker keeps in memory and how many lanes it runs; nil if it has not
    /// run in this runtime.
    func trackedState(of name: String) -> (shards: Int, lanes: Int)? {
        state.withLock { $0.entries[name]?.worker?.tracked }
    }
}
