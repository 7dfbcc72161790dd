/// Sends the records a mapping drops to its on-failure destination, and counts them.
struct FailureReporter: Sendable {
    let context: MappingContext

    /// Sends the record of dropping `records` (of shard `shardId`, in sequence order, not empty) to the
    /// mapping's on-failure destination, if it has one, until it is taken; false if the task was cancelled
    /// first.
    func report(
        _ condition: TriggerFailureRecord.Condition, invokeCount: Int, records: [StreamRecord], shardId: String
    ) async -> Bool {
        context.metrics.droppedRecords.increment(by: Int64(records.count))
        guard let destination = context.mapping.onFailure else { return true }
        let failure = TriggerFailureRecord(
            condition, invokeCount: invokeCount, mapping: context.uuid, records: records, shardId: shardId,
            streamArn: context.streamArn, now: context.nowMilliseconds)
        var attempt = 0
        while true {
            do {
                switch destination {
                case .handler(let send):
                    try await send(failure)
                case .table(let name):
                    try await context.database.putFailureRecord(failure, in: name)
                }
                return true
            } catch {
                attempt += 1
                guard await context.backoff(attempt) else { return false }
            }
        }
    }
}
