import Foundation

/// One OS thread that runs blocking calls (the Runtime API's socket reads and writes) one at a time, for
/// async code that awaits them: the next invocation is a long poll, which must not hold a thread of the
/// cooperative pool. The thread ends once this object is gone and the calls submitted have run.
final class BlockingCallThread: Sendable {
    private let queue = CallQueue()

    /// Starts the thread, named `name`.
    init(name: String) {
        let thread = Thread { [queue] in queue.runUntilStopped() }
        thread.name = name
        thread.start()
    }

    deinit {
        queue.stop()
    }

    /// Runs `body` on the thread, after the calls submitted before it, and returns what it returns.
    func call<Value: Sendable, Failure: Error>(
        _ body: @escaping @Sendable () throws(Failure) -> Value
    ) async throws(Failure) -> Value {
        let result: Result<Value, Failure> = await withCheckedContinuation { continuation in
            queue.submit { continuation.resume(returning: Result { () throws(Failure) -> Value in try body() }) }
        }
        return try result.get()
    }
}

/// The calls waiting for the thread, guarded by a condition.
private final class CallQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var pending: [@Sendable () -> Void] = []
    private var stopped = false

    func submit(_ call: @escaping @Sendable () -> Void) {
        condition.lock()
        pending.append(call)
        condition.signal()
        condition.unlock()
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    func runUntilStopped() {
        while let call = take() { call() }
    }

    /// The oldest pending call, waiting for one; nil once stopped with none left.
    private func take() -> (@Sendable () -> Void)? {
        condition.lock()
        defer { condition.unlock() }
        while pending.isEmpty {
            if stopped { return nil }
            condition.wait()
        }
        return pending.removeFirst()
    }
}
