import Logging

/// Sends what a mapping drops or loses to its on-failure destination, and says so: the dropped-records
/// metric (and the lost-records one), a warning in the log, and the mapping's ``TriggerMapping/lastProcessingResult``.
struct FailureReporter: Sendable {
    let context: MappingContext

    /// Sends the record of dropping `records` (of shard `shardId`, in sequence order, not empty) to the
    /// mapping's on-failure destination, if it has one, until it is taken; false if the task was cancelled
    /// first. `requestId` is the id of the last call that had the records; nil if none had them (the record
    /// gets a fresh id). Records retention removed while the batch was retried (`lost`) count as lost too.
    func report(
        _ condition: TriggerFailureRecord.Condition, invokeCount: Int, requestId: String? = nil, records: [StreamRecord],
        shardId: String, lost: Bool = false
    ) async -> Bool {
        context.metrics.droppedRecords.increment(by: Int64(records.count))
        if lost { context.metrics.lostRecords.increment(by: Int64(records.count)) }
        context.result.record(TriggerProcessingResult.dropped(records.count, shardId: shardId, condition: condition))
        guard context.mapping.onFailure != nil else { return true }
        return await send(
            TriggerFailureRecord(
                condition, invokeCount: invokeCount, requestId: requestId,
                functionArn: context.functionArn, records: records,
                shardId: shardId, streamArn: context.streamArn, nowMilliseconds: context.nowMilliseconds))
    }

    /// Reports records stream retention removed before the mapping read them, as the retention pass counted
    /// them (condition `RecordAgeExceeded`, never handed to the handler); false if the task was cancelled
    /// before the on-failure destination took the record.
    func reportLost(_ range: LostRange) async -> Bool {
        context.metrics.droppedRecords.increment(by: Int64(range.count))
        context.metrics.lostRecords.increment(by: Int64(range.count))
        let problem = TriggerProcessingResult.lost(range.count, shardId: range.shardId, from: range.firstSequence, to: range.lastSequence)
        context.result.record(problem)
        context.logger.warning(
            "Trigger mapping \(context.mapping.stored.name): \(problem)",
            metadata: ["mapping": "\(context.uuid)", "stream": "\(context.streamArn)"])
        guard context.mapping.onFailure != nil else { return true }
        return await send(
            TriggerFailureRecord(
                .recordAgeExceeded, invokeCount: 0, functionArn: context.functionArn,
                shardId: range.shardId, startSequenceNumber: StreamNames.sequenceNumber(range.firstSequence),
                endSequenceNumber: StreamNames.sequenceNumber(range.lastSequence), firstArrivalMilliseconds: range.firstMilliseconds,
                lastArrivalMilliseconds: range.lastMilliseconds, count: range.count, streamArn: context.streamArn,
                nowMilliseconds: context.nowMilliseconds))
    }

    /// Sends `failure` to the on-failure destination until it is taken; false if the task was cancelled
    /// first.
    private func send(_ failure: TriggerFailureRecord) async -> Bool {
        guard let destination = context.mapping.onFailure else { return true }
        var attempt = 0
        while true {
            do {
                switch destination {
                case .handler(let send):
                    try await send(failure)
                case .table(let name):
                    try await context.database.putFailureRecord(failure, mapping: context.uuid, in: name)
                }
                return true
            } catch {
                attempt += 1
                guard await context.backoff(attempt) else { return false }
            }
        }
    }
}
