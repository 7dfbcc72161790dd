import EddyStorage
import Foundation
import Synchronization

/// A change ready to commit: the storage writes of one operation, and what it assumes of the catalog.
struct PreparedWrite: Sendable {
    /// The writes, applied atomically with the rest of the change.
    var batch: StorageBatch
    /// Tables that must still exist when the change commits (the tables whose items it writes).
    var tablesMustExist: [UInt64] = []
    /// How the change alters the set of existing tables (CreateTable, DeleteTable).
    var tableCreated: UInt64? = nil
    var tableDeleted: UInt64? = nil
}

/// The one place where a change becomes a RocksDB write.
///
/// Writers hand the committer prepared changes and wait. Whoever finds the committer idle drains the queue:
/// it merges every waiting change into one batch (group commit: one write, one WAL sync for the group),
/// writes it, and resumes the waiters. With `processCrashSafe` durability a write is a memory append to the
/// WAL and the caller drains inline, saving a thread hop; with `machineCrashSafe` the write waits for
/// fsync, which must never block the cooperative pool, so a dedicated thread drains.
///
/// Because commits are serialized here, this is also where a change is checked against the catalog: a write
/// to a table deleted meanwhile fails instead of leaving orphan items. The streams issue assigns sequence
/// numbers at the same point, in queue order.
final class Committer: Sendable {
    private struct Pending {
        var write: PreparedWrite
        var continuation: UnsafeContinuation<Result<Void, EddyError>, Never>
    }

    private struct State {
        var queue: [Pending] = []
        var draining = false
        var liveTables: Set<UInt64>
    }

    private let store: any OrderedKeyValueStore
    private let durability: Durability
    private let state: Mutex<State>
    private let drainSignal = DispatchSemaphore(value: 0)
    private let drainThreadExited = DispatchSemaphore(value: 0)
    private let drainsOnDedicatedThread: Bool
    private let stopped = Atomic<Bool>(false)

    init(store: any OrderedKeyValueStore, durability: Durability, liveTables: Set<UInt64>) {
        self.store = store
        self.durability = durability
        self.state = Mutex(State(liveTables: liveTables))
        self.drainsOnDedicatedThread = durability == .machineCrashSafe
        if drainsOnDedicatedThread {
            // The thread holds the committer weakly, so that closing the database releases the store (and
            // RocksDB's lock on the directory) as soon as `shutdown()` returns.
            let (signal, exited) = (drainSignal, drainThreadExited)
            let thread = Thread { [weak self] in
                Self.runDrainThread(of: { self }, signal: signal)
                exited.signal()
            }
            thread.name = "eddy-committer"
            thread.start()
        }
    }

    /// Stops the dedicated drain thread, if any, and waits until it has let go of the committer. Called
    /// once, when the database closes.
    func shutdown() {
        guard drainsOnDedicatedThread else { return }
        stopped.store(true, ordering: .releasing)
        drainSignal.signal()
        drainThreadExited.wait()
    }

    /// Commits `write` atomically and durably as the database's durability mode promises.
    func commit(_ write: PreparedWrite) async throws(EddyError) {
        let result = await withUnsafeContinuation { continuation in
            let becomesLeader = state.withLock { state in
                state.queue.append(Pending(write: write, continuation: continuation))
                guard !state.draining else { return false }
                state.draining = true
                return true
            }
            guard becomesLeader else { return }
            if drainsOnDedicatedThread {
                drainSignal.signal()
            } else {
                drain()
            }
        }
        try result.get()
    }

    private static func runDrainThread(of committer: () -> Committer?, signal: DispatchSemaphore) {
        while true {
            signal.wait()
            guard let committer = committer(), !committer.stopped.load(ordering: .acquiring) else { return }
            committer.drain()
        }
    }

    /// Commits groups until the queue is empty, then gives up the drainer role.
    private func drain() {
        while true {
            let (group, liveTables) = state.withLock { state -> ([Pending], Set<UInt64>) in
                let group = state.queue
                state.queue = []
                if group.isEmpty { state.draining = false }
                return (group, state.liveTables)
            }
            if group.isEmpty { return }
            commitGroup(group, liveTables: liveTables)
        }
    }

    private func commitGroup(_ group: [Pending], liveTables: Set<UInt64>) {
        var live = liveTables
        var catalogChanged = false
        var merged = StorageBatch()
        var outcomes: [Result<Void, EddyError>] = []
        outcomes.reserveCapacity(group.count)
        for pending in group {
            let write = pending.write
            guard write.tablesMustExist.allSatisfy(live.contains) else {
                outcomes.append(.failure(.resourceNotFound("Requested resource not found")))
                continue
            }
            if let created = write.tableCreated {
                live.insert(created)
                catalogChanged = true
            }
            if let deleted = write.tableDeleted {
                live.remove(deleted)
                catalogChanged = true
            }
            // A lone change (the common case without contention) is written as it is, without a merge copy.
            if group.count == 1 {
                merged = write.batch
            } else {
                merged.append(contentsOf: write.batch)
            }
            outcomes.append(.success(()))
        }
        do {
            if !merged.isEmpty { try store.write(merged, durability: durability) }
            if catalogChanged { state.withLock { $0.liveTables = live } }
        } catch {
            let failure = EddyError.internalServerError("The write failed in storage: \(error.message)")
            outcomes = outcomes.map { $0.flatMap { .failure(failure) } }
        }
        for (pending, outcome) in zip(group, outcomes) {
            pending.continuation.resume(returning: outcome)
        }
    }
}
