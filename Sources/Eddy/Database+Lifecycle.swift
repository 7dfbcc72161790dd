import EddyStorage
import ServiceLifecycle
import Synchronization

extension Database: Service {
    /// Runs until a graceful shutdown (or the cancellation of the task), then closes the database
    /// (``close()``). The background jobs run from the moment the database opens, with or without this method:
    /// it only ties closing to a `ServiceGroup`'s shutdown order.
    ///
    /// ```swift
    /// let db = try Database(path: "/var/lib/eddy")
    /// // The server stops first, then the database closes.
    /// let group = ServiceGroup(services: [db, server], gracefulShutdownSignals: [.sigterm], logger: logger)
    /// try await group.run()
    /// ```
    public func run() async {
        // Throws CancellationError when the task is cancelled: closing is the same either way.
        try? await gracefulShutdown()
        await close()
    }

    /// Closes the database, in order: from the call on, every operation throws
    /// ``EddyError/internalServerError(_:)`` "The database is closed" (so does a ``streamChanges(tableName:from:)``
    /// reader, once it has delivered what it had read); the background jobs (stream trimming,
    /// Time to Live, index backfills) are cancelled and awaited; the commits already queued are written; then
    /// RocksDB is closed, once the reads in progress end, so that a new `Database` can open the same directory
    /// at once, in this process or another. An in-memory database's data is gone.
    ///
    /// Calling it again, or from several tasks at once, is harmless: every call returns once the database is
    /// closed. A database that is never closed closes when its last reference goes. Stop a `TriggerRuntime`
    /// over the database before closing it (`eddy serve` does): its mappings' reads fail once it is closed.
    ///
    /// ```swift
    /// let db = try Database(path: "/tmp/eddy-data")
    /// // ...
    /// await db.close()
    /// let again = try Database(path: "/tmp/eddy-data")
    /// ```
    public func close() async {
        let task = closeTask.withLock { task in
            if let task { return task }
            closing.store(true, ordering: .releasing)
            // Stream readers parked for new records wake up to find the database closed.
            streams.signal.fire()
            let closing = Task { [committer, backgroundJobs, store] in
                await backgroundJobs.cancelAndWait()
                await committer.close()
                await store.close()
            }
            task = closing
            return closing
        }
        await task.value
    }

    /// Throws "The database is closed" once ``close()`` has been called.
    @inline(__always)
    func requireOpen() throws(EddyError) {
        if closing.load(ordering: .acquiring) { throw Committer.closedError }
    }
}

/// The jobs a database runs in the background while it is open, each a detached task that holds the database
/// only while it works (a job keeps no database alive).
///
/// A job added after ``cancelAndWait()`` is not started.
final class BackgroundJobs: Sendable {
    /// The running jobs, or nil once they are cancelled.
    private let tasks = Mutex<[Task<Void, Never>]?>([])

    /// Starts `job` as a detached task, unless the jobs are cancelled already.
    func start(_ job: @escaping @Sendable () async -> Void) {
        tasks.withLock { tasks in
            guard tasks != nil else { return }
            tasks!.append(Task.detached(operation: job))
        }
    }

    /// Cancels every job without waiting, and starts no more.
    func cancel() {
        let running = tasks.withLock { tasks in
            defer { tasks = nil }
            return tasks ?? []
        }
        running.forEach { $0.cancel() }
    }

    /// Cancels every job, starts no more, and waits until every job has returned.
    func cancelAndWait() async {
        let running = tasks.withLock { tasks in
            defer { tasks = nil }
            return tasks ?? []
        }
        for task in running {
            task.cancel()
        }
        for task in running {
            await task.value
        }
    }
}
