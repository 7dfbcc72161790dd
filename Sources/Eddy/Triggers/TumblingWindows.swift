import Foundation

/// A lane's tumbling window as a batch carries it: where it starts (epoch seconds) and the state carried
/// into it.
struct WindowState: Sendable {
    var start: Int64
    var state: [String: String]
}

/// Builds a mapping's events and times its tumbling windows (`TumblingWindowInSeconds`): windows are
/// aligned on multiples of their length since 1970, on the records' commit times.
struct TumblingWindows: Sendable {
    let context: MappingContext

    private var length: Int64 { Int64(context.settings.tumblingWindowInSeconds) }

    /// Whether the mapping has tumbling windows.
    var enabled: Bool { length > 0 }

    /// The start (epoch seconds) of the tumbling window `record` belongs to.
    func start(of record: StreamRecord) -> Int64 {
        let seconds = Int64(record.dynamodb.approximateCreationDateTime.rounded(.down))
        return seconds - seconds % length
    }

    /// Whether `window` is over at the database clock's now.
    func isTimeUp(_ window: StoredWindow) -> Bool {
        context.nowMilliseconds / 1000 >= window.start + length
    }

    /// How long until `window` is over, on the database's clock.
    func remaining(_ window: StoredWindow) -> Duration {
        .seconds(window.start + length) - .milliseconds(context.nowMilliseconds)
    }

    /// The event of `records` from shard `shardId`, with the window fields if the batch has a window.
    func event(_ records: ArraySlice<StreamRecord>, window: WindowState?, shardId: String) -> TriggerEvent {
        var event = TriggerEvent(records: records.map { TriggerEventRecord($0, streamArn: context.streamArn) })
        event.sourceShardId = shardId
        event.requestId = UUID().uuidString.lowercased()
        if let window {
            event.window = TriggerWindow(
                start: StreamNames.label(milliseconds: window.start * 1000) + "Z",
                end: StreamNames.label(milliseconds: (window.start + length) * 1000) + "Z")
            event.state = window.state
            event.shardId = shardId
            event.eventSourceARN = context.streamArn
            event.isFinalInvokeForWindow = false
            event.isWindowTerminatedEarly = false
        }
        return event
    }

    /// Calls the handler with the window's final state (no records) until it succeeds, as Lambda pauses the
    /// shard until the final call of a window succeeds; false if the task was cancelled first.
    func close(_ window: StoredWindow, terminatedEarly: Bool, shardId: String) async -> Bool {
        guard case .handler(let handler) = context.mapping.sink else { return true }
        var final = event([], window: WindowState(start: window.start, state: window.state), shardId: shardId)
        final.isFinalInvokeForWindow = true
        final.isWindowTerminatedEarly = terminatedEarly
        var attempt = 0
        while true {
            context.metrics.invocations.increment()
            if attempt > 0 { context.metrics.retries.increment() }
            do {
                _ = try await handler(final)
                return true
            } catch {
                context.metrics.errors.increment()
                attempt += 1
                guard await context.backoff(attempt) else { return false }
            }
        }
    }
}
