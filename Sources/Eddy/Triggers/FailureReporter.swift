/// Sends the records a mapping drops to its on-failure destination, and counts them.
struct FailureReporter: Sendable {
    let context: MappingContext

    /// Sends the record of dropping `records` (of shard `shardId`, in sequence order, not empty) to the
    /// mapping's on-failure destination, if it has one, until it is taken; false if the task was cancelled
    /// first. `requestId` is the id of the last call that had the records; nil if none had them (the record
    /// gets a fresh id).
    func report(
        _ condition: TriggerFailureRecord.Condition, invokeCount: Int, requestId: String? = nil, records: [StreamRecord],
        shardId: String
    ) async -> Bool {
        context.metrics.droppedRecords.increment(by: Int64(records.count))
        guard let destination = context.mapping.onFailure else { return true }
        let failure = TriggerFailureRecord(
            condition, invokeCount: invokeCount, requestId: requestId,
            functionArn: context.database.functionArn(ofMapping: context.mapping.stored.name), records: records,
            shardId: shardId, streamArn: context.streamArn, nowMilliseconds: context.nowMilliseconds)
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
