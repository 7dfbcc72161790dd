import EddyStorage
import Foundation

/// Delivers one lane's batch to the mapping's sink with Lambda's retry policy: a failing batch is retried
/// with backoff up to `MaximumRetryAttempts` times (until its records are too old with -1), split in halves
/// first with `BisectBatchOnFunctionError`, retried from the first failed record with
/// `ReportBatchItemFailures`; what it finally drops goes to the ``FailureReporter``.
struct BatchDelivery: Sendable {
    let context: MappingContext
    /// The shard the batch comes from.
    let shardId: String

    private var metrics: TriggerMetrics { context.metrics }
    private var settings: TriggerMappingConfiguration.Resolved { context.settings }
    private var reporter: FailureReporter { FailureReporter(context: context) }

    /// The records that go to the sink (those the filter accepts and that are young enough), and those too
    /// old to go.
    func deliverable(_ records: [StreamRecord]) -> (deliverable: [StreamRecord], expired: [StreamRecord]) {
        let filter = context.mapping.stored.configuration.filterCriteria ?? FilterCriteria()
        let now = context.nowMilliseconds
        var deliverable: [StreamRecord] = []
        var expired: [StreamRecord] = []
        for record in records where filter.matches(record) {
            if context.isTooOld(record, now: now) {
                expired.append(record)
            } else {
                deliverable.append(record)
            }
        }
        return (deliverable, expired)
    }

    /// Reports records dropped before any call; false if the task was cancelled first.
    func reportExpired(_ records: [StreamRecord]) async -> Bool {
        await reporter.report(.recordAgeExceeded, invokeCount: 0, records: records, shardId: shardId)
    }

    /// Calls `handler` with `records` until every record has succeeded or its retries are used up, and
    /// returns the tumbling window's state after them (nil without a window); nil if the task was cancelled
    /// while waiting to retry (the batch is then abandoned, not checkpointed).
    ///
    /// A partial batch response retries from the first failed record (with the state the response carried).
    /// With `bisectBatchOnFunctionError`, a failing batch of several records is split in two and each half
    /// handled in turn; bisecting does not count as a retry.
    func deliver(
        _ records: ArraySlice<StreamRecord>, to handler: TriggerHandler, window: WindowState?, snapshot: TriggerSnapshotBatch? = nil
    ) async -> WindowState?? {
        let windows = TumblingWindows(context: context)
        var pending = records
        var window = window
        var attempt = 0
        var lastRequest: String?
        while !pending.isEmpty {
            metrics.invocations.increment()
            metrics.batchSize.record(pending.count)
            if let last = pending.last {
                let age = Double(context.nowMilliseconds) - last.dynamodb.approximateCreationDateTime * 1000
                metrics.iteratorAge.record(Swift.max(0, age))
            }
            if attempt > 0 { metrics.retries.increment() }
            do {
                var event = windows.event(pending, window: window, shardId: shardId)
                event.snapshot = snapshot
                lastRequest = event.requestId
                let response = try await handler(event)
                if window != nil {
                    guard let state = response.state else { throw BatchFailed() }
                    window!.state = state
                }
                guard settings.reportsBatchItemFailures, !response.batchItemFailures.isEmpty else {
                    context.result.record(TriggerProcessingResult.ok)
                    return .some(window)
                }
                guard let first = Self.firstFailure(response, in: pending) else { throw BatchFailed() }
                metrics.errors.increment()
                context.result.record(TriggerProcessingResult.functionCallFailed)
                pending = pending[first...]
            } catch {
                metrics.errors.increment()
                context.result.record(TriggerProcessingResult.functionCallFailed)
                if settings.bisectBatchOnFunctionError, pending.count > 1 {
                    let middle = pending.startIndex + pending.count / 2
                    for half in [pending[..<middle], pending[middle...]] {
                        guard let after = await deliver(half, to: handler, window: window) else { return nil }
                        window = after
                    }
                    return .some(window)
                }
            }
            attempt += 1
            if settings.maximumRetryAttempts >= 0, attempt > settings.maximumRetryAttempts {
                guard
                    await reporter.report(
                        .retryAttemptsExhausted, invokeCount: attempt, requestId: lastRequest, records: Array(pending), shardId: shardId)
                else {
                    return nil
                }
                return .some(window)
            }
            guard await context.backoff(attempt) else { return nil }
            // Records retention removed while the batch was retried end it (they are reported, and the lane
            // goes on from the horizon), and so do records that grew too old (with MaximumRetryAttempts -1, a
            // failing batch is retried until then).
            guard let trimmed = await reportLeading(pending, invokeCount: attempt, requestId: lastRequest, lost: true, where: isTrimmed)
            else { return nil }
            pending = pending.dropFirst(trimmed)
            let now = context.nowMilliseconds
            guard
                let expired = await reportLeading(
                    pending, invokeCount: attempt, requestId: lastRequest, lost: false, where: { context.isTooOld($0, now: now) })
            else { return nil }
            pending = pending.dropFirst(expired)
        }
        return .some(window)
    }

    /// Reports the leading records of `records` that `isDropped` picks as `RecordAgeExceeded` (a shard's
    /// records are in commit order, so the trimmed and the too old lead) and returns how many they are; nil
    /// if the task was cancelled first.
    private func reportLeading(
        _ records: ArraySlice<StreamRecord>, invokeCount: Int, requestId: String?, lost: Bool,
        where isDropped: (StreamRecord) -> Bool
    ) async -> Int? {
        let dropped = records.prefix(while: isDropped)
        guard !dropped.isEmpty else { return 0 }
        guard
            await reporter.report(
                .recordAgeExceeded, invokeCount: invokeCount, requestId: requestId, records: Array(dropped), shardId: shardId,
                lost: lost)
        else { return nil }
        return dropped.count
    }

    /// Whether retention has removed `record` from the stream (the lane still holds it in memory).
    private func isTrimmed(_ record: StreamRecord) -> Bool {
        guard let sequence = StreamNames.parseSequenceNumber(record.dynamodb.sequenceNumber) else { return false }
        return sequence < context.database.streams.trimmedBelow
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
    /// A batch a target table's capacity refuses wrote nothing: it is tried again as it is, with backoff, for
    /// as long as the throttling lasts, without counting as a failure (`eddy_trigger_throttles`), so its
    /// records are applied exactly once, in order, as soon as the capacity is back; a record that grows older
    /// than `MaximumRecordAgeInSeconds` (or that retention removes) meanwhile is reported and dropped.
    /// False if the task was cancelled while waiting to retry, or storage failed.
    func apply(_ records: [StreamRecord], transform: DerivativeTransform, checkpoint: StorageBatch) async -> Bool {
        var records = records
        var attempt = 0
        var throttled = 0
        var lastRequest: String?
        while true {
            metrics.invocations.increment()
            metrics.batchSize.record(records.count)
            if attempt > 0 { metrics.retries.increment() }
            lastRequest = UUID().uuidString.lowercased()
            do {
                var writes: [DerivativeWrite] = []
                for record in records { writes += try transform(record) }
                try await context.database.commitDerivative(writes, with: checkpoint)
                context.result.record(TriggerProcessingResult.ok)
                return true
            } catch let error as EddyError where error.isThrottling {
                metrics.throttles.increment()
                throttled += 1
                guard await context.backoff(throttled) else { return false }
                // Records retention removed, or older than MaximumRecordAgeInSeconds, while the target refused
                // them are reported and dropped, as a failing batch's are.
                guard let trimmed = await reportLeading(records[...], invokeCount: attempt, requestId: lastRequest, lost: true, where: isTrimmed)
                else { return false }
                records.removeFirst(trimmed)
                let now = context.nowMilliseconds
                guard
                    let expired = await reportLeading(
                        records[...], invokeCount: attempt, requestId: lastRequest, lost: false, where: { context.isTooOld($0, now: now) })
                else { return false }
                records.removeFirst(expired)
            } catch {
                metrics.errors.increment()
                context.result.record(TriggerProcessingResult.functionCallFailed)
                attempt += 1
                if settings.maximumRetryAttempts >= 0, attempt > settings.maximumRetryAttempts {
                    guard
                        await reporter.report(
                            .retryAttemptsExhausted, invokeCount: attempt, requestId: lastRequest, records: records, shardId: shardId)
                    else {
                        return false
                    }
                    return await context.commit(checkpoint)
                }
                guard await context.backoff(attempt) else { return false }
                guard let trimmed = await reportLeading(records[...], invokeCount: attempt, requestId: lastRequest, lost: true, where: isTrimmed)
                else { return false }
                records.removeFirst(trimmed)
            }
        }
    }
}
