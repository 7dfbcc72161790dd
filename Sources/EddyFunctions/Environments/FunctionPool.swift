import Foundation
import Synchronization

/// A function's execution environments and the invocations they run: environments start on demand (up to
/// the function's concurrency), run one invocation at a time, are killed when an invocation outlives the
/// function's timeout, and are replaced when they crash. All their states change under one lock.
final class FunctionPool: Sendable {
    private enum Phase {
        /// Started, not yet polling `next`; the continuation is the starter's, once it waits.
        case starting(CheckedContinuation<StartFailure?, Never>?)
        /// Polling `next`: `respond` hands it an invocation.
        case idle(respond: @Sendable (InvocationDelivery) -> Void)
        case busy(Current)
        /// Answered its invocation; its next `next` makes it idle.
        case finishing
        case dead
    }

    private struct Current {
        var requestId: String
        var continuation: CheckedContinuation<Outcome, Never>?
    }

    /// How an invocation ended: the payload (the function's response or an error document) and whether it is
    /// a function error.
    struct Outcome: Sendable {
        var payload: [UInt8]
        var isError: Bool
        /// What the function's log says of an end the runtime did not report (a timeout, an exit).
        var logLine: String?
    }

    /// What a caller of ``acquire(wait:)`` gets.
    private enum Grant {
        case environment(Int)
        case spawn(Int)
        case throttled
        case closed
    }

    private struct Slot {
        var phase: Phase
        let environment: ExecutionEnvironment
        /// What the runtime posted to `init/error`, if it did.
        var initFailure: [UInt8]?
    }

    private struct State {
        var slots: [Int: Slot] = [:]
        var idle: [Int] = []
        var finishing = 0
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Grant, Never>)] = []
        var nextEnvironment = 0
        var nextWaiter: UInt64 = 0
        var generation = 0
        var launch: EnvironmentLaunch
        var capacity: Int
        var reserved: Bool
        var closed = false
    }

    /// The longest an environment may take from its start to its first `next` (Lambda's Init phase limit).
    static let initTimeout = Duration.seconds(10)

    let log: FunctionLog
    private let state: Mutex<State>

    init(launch: EnvironmentLaunch, capacity: Int, reserved: Bool, log: FunctionLog) {
        self.log = log
        state = Mutex(State(launch: launch, capacity: capacity, reserved: reserved))
    }

    // MARK: Invoking

    /// Runs one invocation of `payload` in an environment: an idle one, a new one if the function may have
    /// another, or (with `wait`, or while an environment is about to be free) the next one free. Returns the
    /// function's response or error document, and the invocation's log if `captureLog`.
    ///
    /// - Throws: `TooManyRequestsException` when every environment the function may have is busy (and not
    ///   `wait`); `ResourceNotFoundException` when the function has been deleted meanwhile.
    func invoke(
        payload: [UInt8], requestId: String, clientContext: String?, wait: Bool, captureLog: Bool
    ) async throws(LambdaError) -> (outcome: Outcome, log: [UInt8]?) {
        let capture = captureLog ? LogCapture() : nil
        let grant = await acquire(wait: wait)
        let id: Int
        switch grant {
        case .environment(let environment):
            id = environment
        case .spawn(let environment):
            if let failure = await start(environment) {
                let message = "RequestId: \(requestId) Error: \(failure.message)"
                log.append(line: message, to: capture)
                return (Outcome(payload: Self.errorDocument(type: failure.type, message: message), isError: true), capture?.tail())
            }
            id = environment
        case .throttled:
            let reason = state.withLock { $0.reserved } ? "ReservedFunctionConcurrentInvocationLimitExceeded" : "ConcurrentInvocationLimitExceeded"
            throw .tooManyRequests(reason: reason)
        case .closed:
            throw .resourceNotFound("The function was deleted while the invocation waited for an environment")
        }
        return (await run(payload: payload, requestId: requestId, clientContext: clientContext, on: id, capture: capture), capture?.tail())
    }

    /// An idle environment, the right to start one, or (with `wait`) the next to be free.
    private func acquire(wait: Bool) async -> Grant {
        let id = state.withLock { state -> Result<Grant, Never>? in
            if state.closed { return .success(.closed) }
            if let grant = take(&state) { return .success(grant) }
            guard wait || state.finishing > 0 else { return .success(.throttled) }
            return nil
        }
        if case .success(let grant) = id { return grant }
        let waiter = state.withLock { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let immediate = state.withLock { state -> Grant? in
                    if state.closed { return .closed }
                    if let grant = take(&state) { return grant }
                    if Task.isCancelled { return .throttled }
                    state.waiters.append((waiter, continuation))
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let cancelled = state.withLock { state in
                state.waiters.firstIndex { $0.id == waiter }.map { state.waiters.remove(at: $0).continuation }
            }
            cancelled?.resume(returning: .throttled)
        }
    }

    /// An idle environment of the current generation; else, unless an environment that has just answered will
    /// be free for the caller (it polls again within a millisecond, where a new one takes 100 ms to start), a
    /// new slot if the function may have another.
    private func take(_ state: inout State) -> Grant? {
        while let id = state.idle.popLast() {
            if let slot = state.slots[id], case .idle = slot.phase, slot.environment.generation == state.generation {
                return .environment(id)
            }
        }
        guard state.finishing <= state.waiters.count, state.slots.count < state.capacity else { return nil }
        return .spawn(reserve(&state))
    }

    /// A slot for a new environment.
    private func reserve(_ state: inout State) -> Int {
        let id = state.nextEnvironment
        state.nextEnvironment += 1
        state.slots[id] = Slot(phase: .starting(nil), environment: ExecutionEnvironment(id: id, generation: state.generation, log: log))
        return id
    }

    /// Starts the environment of slot `id` and waits for its first `next`; the failure, if it does not come.
    private func start(_ id: Int) async -> StartFailure? {
        guard let (environment, launch) = state.withLock({ state in state.slots[id].map { ($0.environment, state.launch) } }) else {
            return StartFailure(type: "Runtime.Unknown", message: "The environment was stopped before it started")
        }
        do {
            try await environment.launch(launch, pool: self)
        } catch {
            removeFailedStart(id)
            return error
        }
        let timer = Task {
            try? await Task.sleep(for: Self.initTimeout)
            guard !Task.isCancelled else { return }
            let late = state.withLock { state -> CheckedContinuation<StartFailure?, Never>? in
                guard case .starting(let continuation) = state.slots[id]?.phase else { return nil }
                state.slots[id]?.phase = .dead
                return continuation
            }
            environment.kill()
            late?.resume(returning: StartFailure(type: "Sandbox.Timedout", message: "Task timed out after 10.00 seconds"))
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            let outcome = state.withLock { state -> StartFailure?? in
                guard let slot = state.slots[id] else {
                    return .some(StartFailure(type: "Runtime.ExitError", message: "Runtime exited before it was ready"))
                }
                switch slot.phase {
                case .starting:
                    state.slots[id]?.phase = .starting(continuation)
                    return nil
                case .idle:
                    return .some(nil)
                default:
                    return .some(StartFailure(type: "Runtime.ExitError", message: "Runtime exited before it was ready"))
                }
            }
            if let outcome { continuation.resume(returning: outcome) }
        }
    }

    private func removeFailedStart(_ id: Int) {
        let grants = state.withLock { state in
            state.slots[id] = nil
            return grantWaiters(&state)
        }
        for (continuation, grant) in grants { continuation.resume(returning: grant) }
    }

    /// Runs the invocation on environment `id`, idle and owned by the caller.
    private func run(payload: [UInt8], requestId: String, clientContext: String?, on id: Int, capture: LogCapture?) async -> Outcome {
        let (launch, environment) = state.withLock { ($0.launch, $0.slots[id]?.environment) }
        let started = ContinuousClock.now
        let deadline = Int64(Date().timeIntervalSince1970 * 1000) + Int64(launch.timeoutSeconds) * 1000
        environment?.capture(into: capture)
        log.append(line: "START RequestId: \(requestId) Version: $LATEST", to: capture)
        let delivery = InvocationDelivery(
            requestId: requestId, deadlineMilliseconds: deadline, functionArn: launch.functionArn,
            traceId: "Root=1-\(String(Int(Date().timeIntervalSince1970), radix: 16))-\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(24).lowercased());Sampled=0",
            clientContext: clientContext, payload: payload)
        let timer = Task {
            try? await Task.sleep(for: launch.timeout)
            guard !Task.isCancelled else { return }
            timeOut(id, requestId: requestId, seconds: launch.timeoutSeconds)
        }
        let outcome = await withCheckedContinuation { continuation in
            let respond = state.withLock { state -> (@Sendable (InvocationDelivery) -> Void)? in
                guard case .idle(let respond) = state.slots[id]?.phase else { return nil }
                state.slots[id]?.phase = .busy(Current(requestId: requestId, continuation: continuation))
                return respond
            }
            if let respond {
                respond(delivery)
            } else {
                continuation.resume(returning: Outcome(
                    payload: Self.errorDocument(type: "Runtime.ExitError", message: "RequestId: \(requestId) Error: Runtime exited before the invocation"),
                    isError: true))
            }
        }
        timer.cancel()
        environment?.drainOutput()
        environment?.capture(into: nil)
        if let line = outcome.logLine { log.append(line: line, to: capture) }
        let elapsed = (ContinuousClock.now - started).components
        let milliseconds = Double(elapsed.seconds) * 1000 + Double(elapsed.attoseconds) / 1e15
        log.append(
            line: "END RequestId: \(requestId)\nREPORT RequestId: \(requestId)\tDuration: \(String(format: "%.2f", milliseconds)) ms\t"
                + "Billed Duration: \(Int(milliseconds.rounded(.up))) ms\tMemory Size: \(launch.memorySize) MB",
            to: capture)
        return outcome
    }

    private func timeOut(_ id: Int, requestId: String, seconds: Int) {
        let (continuation, environment) = state.withLock { state -> (CheckedContinuation<Outcome, Never>?, ExecutionEnvironment?) in
            guard case .busy(let current) = state.slots[id]?.phase, current.requestId == requestId else { return (nil, nil) }
            state.slots[id]?.phase = .dead
            return (current.continuation, state.slots[id]?.environment)
        }
        guard let continuation else { return }
        environment?.kill()
        let message = "RequestId: \(requestId) Error: Task timed out after \(seconds).00 seconds"
        continuation.resume(returning: Outcome(
            payload: Self.errorDocument(type: "Sandbox.Timedout", message: message), isError: true,
            logLine: "\(Date().formatted(.iso8601)) \(message)"))
    }

    // MARK: The Runtime API's calls

    /// Environment `id` polls for its next invocation; `respond` hands it one.
    func next(_ id: Int, respond: @escaping @Sendable (InvocationDelivery) -> Void) {
        let (starter, grant, retired) = state.withLock { state -> (CheckedContinuation<StartFailure?, Never>?, (CheckedContinuation<Grant, Never>, Grant)?, ExecutionEnvironment?) in
            guard let slot = state.slots[id] else { return (nil, nil, nil) }
            switch slot.phase {
            case .starting(let continuation):
                state.slots[id]?.phase = .idle(respond: respond)
                return (continuation, nil, nil)
            case .finishing, .idle:
                if case .finishing = slot.phase { state.finishing -= 1 }
                guard slot.environment.generation == state.generation, !state.closed else {
                    state.slots[id]?.phase = .dead
                    return (nil, nil, slot.environment)
                }
                state.slots[id]?.phase = .idle(respond: respond)
                if case .finishing = slot.phase {
                    if !state.waiters.isEmpty {
                        return (nil, (state.waiters.removeFirst().continuation, .environment(id)), nil)
                    }
                    state.idle.append(id)
                }
                return (nil, nil, nil)
            case .busy, .dead:
                return (nil, nil, nil)
            }
        }
        starter?.resume(returning: nil)
        if let (continuation, value) = grant { continuation.resume(returning: value) }
        retired?.kill()
    }

    /// Environment `id` answered invocation `requestId`; false if it is not the one it runs.
    func complete(_ id: Int, requestId: String, response: [UInt8]) -> Bool {
        finish(id, requestId: requestId, Outcome(payload: response, isError: false))
    }

    /// Environment `id` reported invocation `requestId` failed with error document `functionError`.
    func complete(_ id: Int, requestId: String, functionError: [UInt8]) -> Bool {
        finish(id, requestId: requestId, Outcome(payload: functionError, isError: true))
    }

    private func finish(_ id: Int, requestId: String, _ outcome: Outcome) -> Bool {
        let continuation = state.withLock { state -> CheckedContinuation<Outcome, Never>?? in
            guard case .busy(let current) = state.slots[id]?.phase, current.requestId == requestId else { return .none }
            state.slots[id]?.phase = .finishing
            state.finishing += 1
            return .some(current.continuation)
        }
        guard let continuation else { return false }
        // Output written before the answer belongs to the invocation.
        state.withLock { $0.slots[id]?.environment }?.drainOutput()
        continuation?.resume(returning: outcome)
        return true
    }

    /// Environment `id` failed to initialise; it is killed, and its starter gets `document`.
    func initFailed(_ id: Int, document: [UInt8]) {
        let environment = state.withLock { state -> ExecutionEnvironment? in
            guard case .starting = state.slots[id]?.phase else { return nil }
            state.slots[id]?.initFailure = document
            return state.slots[id]?.environment
        }
        environment?.kill()
    }

    /// Environment `id`'s process ended: what waited on it fails, and a waiting caller may start another.
    func exited(_ id: Int, status: ChildExitStatus) {
        let (ended, grants) = state.withLock { state -> (Slot?, [(CheckedContinuation<Grant, Never>, Grant)]) in
            guard let slot = state.slots.removeValue(forKey: id) else { return (nil, []) }
            state.idle.removeAll { $0 == id }
            if case .finishing = slot.phase { state.finishing -= 1 }
            return (slot, grantWaiters(&state))
        }
        switch ended?.phase {
        case .starting(let starter?):
            if let failure = ended?.initFailure, let document = try? JSONSerialization.jsonObject(with: Data(failure)) as? [String: Any] {
                starter.resume(returning: StartFailure(
                    type: document["errorType"] as? String ?? "Runtime.Unknown", message: document["errorMessage"] as? String ?? ""))
            } else {
                starter.resume(returning: StartFailure(type: "Runtime.ExitError", message: "Runtime exited with error: \(status)"))
            }
        case .busy(let running):
            let message = "RequestId: \(running.requestId) Error: Runtime exited with error: \(status)"
            running.continuation?.resume(returning: Outcome(
                payload: Self.errorDocument(type: "Runtime.ExitError", message: message), isError: true, logLine: message))
        default:
            break
        }
        for (continuation, grant) in grants { continuation.resume(returning: grant) }
    }

    /// Lets waiting callers start environments while the function may have more.
    private func grantWaiters(_ state: inout State) -> [(CheckedContinuation<Grant, Never>, Grant)] {
        var grants: [(CheckedContinuation<Grant, Never>, Grant)] = []
        while !state.waiters.isEmpty, !state.closed, state.slots.count < state.capacity {
            grants.append((state.waiters.removeFirst().continuation, .spawn(reserve(&state))))
        }
        return grants
    }

    // MARK: Changing

    /// New invocations run with `launch`: idle environments of the old settings are stopped now, busy ones
    /// when their invocation ends.
    func relaunch(_ launch: EnvironmentLaunch) {
        let stale = state.withLock { state -> [ExecutionEnvironment] in
            state.launch = launch
            state.generation += 1
            let stale = state.idle.compactMap { state.slots[$0]?.environment }
            for id in state.idle { state.slots[id]?.phase = .dead }
            state.idle = []
            return stale
        }
        for environment in stale { environment.kill() }
    }

    /// At most `capacity` environments at once (`reserved`: set by reserved concurrency).
    func setCapacity(_ capacity: Int, reserved: Bool) {
        let grants = state.withLock { state in
            state.capacity = capacity
            state.reserved = reserved
            return grantWaiters(&state)
        }
        for (continuation, grant) in grants { continuation.resume(returning: grant) }
    }

    /// Stops every environment; waiting callers get ResourceNotFoundException.
    func close() {
        let (environments, waiters) = state.withLock { state in
            state.closed = true
            let waiters = state.waiters.map(\.continuation)
            state.waiters = []
            return (state.slots.values.map(\.environment), waiters)
        }
        for waiter in waiters { waiter.resume(returning: .closed) }
        for environment in environments { environment.kill() }
    }

    /// How many environments run now.
    var environmentCount: Int { state.withLock { $0.slots.count } }

    /// Lambda's error document.
    static func errorDocument(type: String, message: String) -> [UInt8] {
        let object: [String: Any] = ["errorMessage": message, "errorType": type, "stackTrace": [String]()]
        return Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data())
    }
}
