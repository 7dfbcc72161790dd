import Synchronization

/// Where a mapping is in its life, as the runtime keeps it: its state (Lambda's names) and the worker that
/// runs it. Every change of either goes through this type, which checks it.
///
/// Stable states are Enabled and Disabled. A change (``begin(_:)``) moves a stable mapping to a
/// transitional state (Creating, Enabling, Disabling, Updating, Deleting) and tells its worker to stop; the
/// mapping stays there until the worker has stopped — its batch in flight finished or abandoned — and the
/// change ends (``finish(enabled:)``). A second change while one is in progress is refused, as Lambda
/// refuses to change a mapping that is in use.
struct MappingLifecycle: Sendable {
    private(set) var state: TriggerMappingState
    /// The worker running the mapping, or stopping; nil when none runs.
    private(set) var worker: WorkerControl?

    /// A mapping this runtime did not run until now, in the middle of `transition` (Creating, or Updating
    /// for one an earlier process registered).
    init(changing transition: TriggerMappingState) {
        precondition(transition.isTransitional, "A change goes to a transitional state")
        state = transition
    }

    /// Starts a change: from a stable state to `transition`, telling the worker (if any) to stop. Returns the
    /// worker to wait for.
    ///
    /// - Throws: `ResourceInUseException` while another change of the mapping is in progress.
    mutating func begin(_ transition: TriggerMappingState, name: String) throws(EddyError) -> WorkerControl? {
        precondition(transition.isTransitional, "A change goes to a transitional state")
        guard state == .enabled || state == .disabled else {
            throw .resourceInUse("The trigger mapping \(name) is \(state.rawValue): wait until its change has finished")
        }
        state = transition
        worker?.stop()
        return worker
    }

    /// Ends the change in progress once `stopped` (the worker ``begin(_:name:)`` returned) has stopped: the
    /// mapping is Enabled or Disabled as its settings say, and has no worker until one is started.
    mutating func finish(enabled: Bool, stopped: WorkerControl?) {
        guard state.isTransitional else { return }
        if let stopped, worker === stopped { worker = nil }
        state = enabled ? .enabled : .disabled
    }

    /// Whether a worker may start now: none runs and no change is in progress.
    var canStart: Bool { worker == nil && !state.isTransitional }

    /// Records the worker that now runs the mapping.
    mutating func started(_ control: WorkerControl) {
        precondition(canStart, "One worker per mapping")
        worker = control
    }

    /// Forgets a worker that has stopped on its own (the runtime stopped, or the worker ended).
    mutating func workerEnded(_ control: WorkerControl) {
        if worker === control, !state.isTransitional { worker = nil }
    }
}

extension TriggerMappingState {
    /// Whether the state lasts only while a change is in progress (Creating, Enabling, Disabling, Updating,
    /// Deleting).
    public var isTransitional: Bool {
        self != .enabled && self != .disabled
    }
}

/// Stops one run of a mapping's worker from outside its task, and tells when it has stopped.
final class WorkerControl: Sendable {
    private let stopSignal: AsyncStream<Void>
    private let stopper: AsyncStream<Void>.Continuation
    private let stopped = Mutex<(done: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    /// The worker whose task the current task runs in (a handler's call, for instance), if any.
    @TaskLocal static var current: ObjectIdentifier?

    init() {
        (stopSignal, stopper) = AsyncStream.makeStream(of: Void.self)
    }

    /// Whether the current task runs inside this worker: it must not wait for the worker to stop.
    var isCurrent: Bool { Self.current == ObjectIdentifier(self) }

    /// Runs `worker` until it returns, ``stop()`` is called, or the task is cancelled; a stopped worker is
    /// cancelled, so its batch in flight finishes (or, waiting for a retry, is abandoned).
    func run(_ worker: MappingWorker) async {
        await Self.$current.withValue(ObjectIdentifier(self)) {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await worker.run() }
                group.addTask { for await _ in self.stopSignal {} }
                await group.next()
                group.cancelAll()
            }
        }
        markStopped()
    }

    func stop() {
        stopper.finish()
    }

    /// Records that the worker has returned (or never ran), waking those waiting for it.
    func markStopped() {
        let waiters = stopped.withLock { stopped in
            stopped.done = true
            defer { stopped.waiters = [] }
            return stopped.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func waitUntilStopped() async {
        await withCheckedContinuation { continuation in
            let done = stopped.withLock { stopped in
                if !stopped.done { stopped.waiters.append(continuation) }
                return stopped.done
            }
            if done { continuation.resume() }
        }
    }
}
