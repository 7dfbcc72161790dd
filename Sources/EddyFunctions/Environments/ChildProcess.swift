import Foundation
import Glibc
import Synchronization

/// How a child process ended.
enum ChildExitStatus: Sendable, Equatable, CustomStringConvertible {
    /// It exited by itself with this status.
    case exited(Int32)
    /// This signal ended it.
    case signaled(Int32)

    /// Decodes a status that waitpid(2) reported for a child that ended (`WIFEXITED`, `WEXITSTATUS` and
    /// `WTERMSIG` are C macros, which Swift does not import).
    init(waitStatus: Int32) {
        let signal = waitStatus & 0x7f
        self = signal == 0 ? .exited((waitStatus >> 8) & 0xff) : .signaled(signal)
    }

    /// `exit status 1` or `signal 9`.
    var description: String {
        switch self {
        case .exited(let status): "exit status \(status)"
        case .signaled(let signal): "signal \(signal)"
        }
    }
}

/// Why a child process could not be started.
struct ChildProcessError: Error, Equatable, CustomStringConvertible {
    /// What failed, ending with the C library's text for ``errorNumber``:
    /// `Cannot run /var/task/bootstrap: Permission denied`.
    let message: String
    /// The `errno` of the call that failed (`ENOENT`, `EACCES`…), for a caller that answers differently for a
    /// missing or unusable entry point.
    let errorNumber: Int32

    var description: String { message }
}

/// A child process in its own process group, its stdout and stderr (merged) delivered as bytes.
///
/// The child starts with exactly the environment it is given, stdin from `/dev/null`, and no file descriptor of
/// the server but its output pipe. Two threads of its own, never the cooperative pool, serve it: one reads its
/// output and hands each chunk to the `output` closure, the other reaps it when it ends. The object stays
/// alive until both are done, even if its owner lets go of it first.
///
/// ```swift
/// let child = try ChildProcess.spawn(
///     executable: "/var/task/bootstrap", arguments: [], environment: ["_HANDLER": "main"],
///     workingDirectory: "/var/task", output: { bytes in log.append(bytes) })
/// …
/// child.kill()
/// print(await child.exitStatus())  // signal 9
/// ```
///
/// When the child ends by itself, what it started in its process group is killed with it (as Lambda ends an
/// execution environment whose runtime exited), so that nothing it left behind keeps running or holds its
/// output open. Its output is then read to the end; a process that left the group (with `setsid`, say) and
/// still holds the pipe open gets ``outputGraceAfterExit`` to close it, then the pipe is closed under it.
///
/// Each `ChildProcess` reaps its own child, so nothing else in the server may reap children: no `waitpid(-1)`,
/// no `SIGCHLD` set to `SIG_IGN`.
final class ChildProcess: Sendable {
    /// How long the output is still read, after the child ended, while a process that left its group holds
    /// the pipe open.
    static let outputGraceAfterExit = DispatchTimeInterval.milliseconds(100)

    /// The child's process id, also its process group's id.
    let pid: Int32
    /// The pipes the server opened for the child, as `/proc/self/fd` names them (`pipe:[<inode>]`): unique
    /// while open, so whether any outlives the child can be told apart from other pipes of the process.
    var pipeNames: Set<String> { pump.pipeNames }
    private let pump: OutputPump
    private let life = Mutex(Life.running(waiters: []))

    private init(pid: Int32, pump: OutputPump) {
        self.pid = pid
        self.pump = pump
    }

    /// Starts `executable` in a new process group whose id is the child's pid.
    ///
    /// - Parameters:
    ///   - executable: The absolute path of the program; it is also the child's `argv[0]`.
    ///   - arguments: The child's arguments after `argv[0]`.
    ///   - environment: The child's whole environment: nothing of the server's is inherited.
    ///   - workingDirectory: The directory the child starts in.
    ///   - output: Called on the reader thread (or in ``drainOutput()``) with each chunk of what the child writes
    ///     to stdout or stderr, in order, one call at a time. It must not call back into this object.
    /// - Returns: The running child.
    /// - Throws: ``ChildProcessError`` when the child cannot start: `executable` is missing or not executable,
    ///   `workingDirectory` is unusable, or the server is out of processes or file descriptors. Nothing is
    ///   left behind then.
    static func spawn(
        executable: String, arguments: [String], environment: [String: String], workingDirectory: String,
        output: @escaping @Sendable ([UInt8]) -> Void
    ) throws(ChildProcessError) -> ChildProcess {
        let pump = try OutputPump(deliver: output)
        let pid = try pump.withOutputWriteEnd { writeEnd throws(ChildProcessError) in
            try Spawner.spawn(
                executable: executable, arguments: arguments, environment: environment,
                workingDirectory: workingDirectory, outputFD: writeEnd)
        }
        let child = ChildProcess(pid: pid, pump: pump)
        child.startThreads()
        return child
    }

    /// Sends SIGKILL to the child's whole process group: the child and whatever it started that did not leave
    /// the group. Does nothing once the child has been reaped, so it is safe to call any number of times and
    /// after the child ended: the group's id may belong to an unrelated process by then.
    func kill() {
        life.withLock { life in
            guard case .running = life else { return }
            // Not reaped yet, so the pid (the group's id) is still the child's, even if it is a zombie.
            _ = Glibc.kill(-pid, SIGKILL)
        }
    }

    /// Reads what the output pipe holds right now, without waiting, and hands it to `output` before returning,
    /// in order with what the reader thread delivers.
    ///
    /// So, after the child wrote something and then told the server something else (answered an HTTP request,
    /// say), calling this when the server handles that message guarantees that `output` got what was written
    /// before it.
    func drainOutput() {
        pump.drain()
    }

    /// Waits for the child to end, then returns how it ended; by then `output` has received everything the
    /// child wrote. Returns at once if the child has already ended; a waiting caller's cancellation does not end
    /// the wait (``kill()`` does).
    func exitStatus() async -> ChildExitStatus {
        await withCheckedContinuation { continuation in
            if let status = life.withLock({ $0.wait(continuation) }) {
                continuation.resume(returning: status)
            }
        }
    }

    private func startThreads() {
        let reader = Thread { [pump] in pump.run() }
        reader.name = "eddy-child-out"
        reader.start()
        let reaper = Thread { self.reap() }
        reaper.name = "eddy-child-wait"
        reaper.start()
    }

    /// On the reaper thread: waits for the child to end, kills what is left of its group, reaps it, waits for
    /// its output to be read, and resumes the callers of ``exitStatus()``.
    private func reap() {
        var info = siginfo_t()
        // WNOWAIT leaves the child a zombie: its pid, and so its group's id, stays reserved until it is reaped.
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) == -1 {
            precondition(errno == EINTR, "waitid(\(pid)): \(errorText(errno)); was it reaped elsewhere?")
        }
        let status = life.withLock { life in
            // What the child left in its group ends with it, as its execution environment would.
            _ = Glibc.kill(-pid, SIGKILL)
            var waitStatus: Int32 = 0
            while waitpid(pid, &waitStatus, 0) == -1 {
                precondition(errno == EINTR, "waitpid(\(pid)): \(errorText(errno))")
            }
            let status = ChildExitStatus(waitStatus: waitStatus)
            life.reaped(status)
            return status
        }
        pump.finish(graceAfterExit: Self.outputGraceAfterExit)
        let waiters = life.withLock { $0.outputFinished() }
        for waiter in waiters {
            waiter.resume(returning: status)
        }
    }
}

/// Where a ``ChildProcess`` is in its life, and who waits for its end.
private enum Life {
    typealias Waiter = CheckedContinuation<ChildExitStatus, Never>

    /// Not reaped: its pid, and so its group's id, is still its own and may be signaled.
    case running(waiters: [Waiter])
    /// Reaped, its output still being read; its pid may already belong to another process.
    case finishingOutput(ChildExitStatus, waiters: [Waiter])
    /// Reaped and its output read to the end.
    case ended(ChildExitStatus)

    /// A caller waits for the end: returns the status if the child has ended, otherwise keeps `waiter`.
    mutating func wait(_ waiter: Waiter) -> ChildExitStatus? {
        switch self {
        case .running(let waiters): self = .running(waiters: waiters + [waiter])
        case .finishingOutput(let status, let waiters): self = .finishingOutput(status, waiters: waiters + [waiter])
        case .ended(let status): return status
        }
        return nil
    }

    /// The child has been reaped.
    mutating func reaped(_ status: ChildExitStatus) {
        guard case .running(let waiters) = self else { preconditionFailure("A child is reaped once") }
        self = .finishingOutput(status, waiters: waiters)
    }

    /// The child's output has been read to the end: returns the callers to resume.
    mutating func outputFinished() -> [Waiter] {
        guard case .finishingOutput(let status, let waiters) = self else {
            preconditionFailure("A child's output finishes once, after it was reaped")
        }
        self = .ended(status)
        return waiters
    }
}

/// Reads a child's output pipe and delivers what it reads, from its reader thread and from `drain()`, in order.
///
/// Every read and the delivery of what it read happen under one lock, and the read end is non-blocking, so
/// that `drain()` never waits for the reader thread's `poll` and the two never reorder chunks. A second pipe
/// wakes the reader thread when the child has ended but a process outside its group holds the output open.
private final class OutputPump: Sendable {
    /// The most bytes one read takes (a pipe's default capacity).
    static let readBytesMax = 65_536
    /// The most reads of one `drain()`: a child writing without pause must not keep its caller forever.
    static let drainReadsMax = 16

    private struct Pipes {
        /// The read end of the child's output, until it is closed at end of file.
        var outputReadEnd: Int32?
        /// The write end, until the child has been started with it.
        var outputWriteEnd: Int32?
        var wakeReadEnd: Int32?
        var wakeWriteEnd: Int32?
        var scratch: [UInt8]

        mutating func closeAll() {
            for fd in [outputReadEnd, outputWriteEnd, wakeReadEnd, wakeWriteEnd].compactMap({ $0 }) {
                close(fd)
            }
            (outputReadEnd, outputWriteEnd, wakeReadEnd, wakeWriteEnd) = (nil, nil, nil, nil)
        }
    }

    private let deliver: @Sendable ([UInt8]) -> Void
    private let pipes: Mutex<Pipes>
    /// The descriptors `run()` polls, fixed at creation; only `run()` closes the first, and the second is
    /// closed only once `run()` has returned.
    private let polled: (output: Int32, wake: Int32)
    /// The pipes' `/proc/self/fd` names, read at creation.
    let pipeNames: Set<String>
    private let readerFinished = DispatchSemaphore(value: 0)

    init(deliver: @escaping @Sendable ([UInt8]) -> Void) throws(ChildProcessError) {
        let output = try Self.makePipe(purpose: "the child's output")
        let wake: (readEnd: Int32, writeEnd: Int32)
        do {
            wake = try Self.makePipe(purpose: "waking the child's output reader")
        } catch {
            close(output.readEnd)
            close(output.writeEnd)
            throw error
        }
        // Only the server's end is non-blocking: the child's stdout and stderr keep the usual blocking writes.
        _ = fcntl(output.readEnd, F_SETFL, fcntl(output.readEnd, F_GETFL) | O_NONBLOCK)
        self.deliver = deliver
        self.polled = (output.readEnd, wake.readEnd)
        self.pipeNames = Set([output.readEnd, wake.readEnd].compactMap { fd in
            try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)")
        })
        self.pipes = Mutex(Pipes(
            outputReadEnd: output.readEnd, outputWriteEnd: output.writeEnd, wakeReadEnd: wake.readEnd,
            wakeWriteEnd: wake.writeEnd, scratch: [UInt8](repeating: 0, count: Self.readBytesMax)))
    }

    deinit {
        pipes.withLock { $0.closeAll() }
    }

    /// Runs `body` with the write end of the output pipe, then closes the server's copy of it (whatever `body`
    /// did), so that the read end sees end of file once the child and its descendants have closed theirs.
    func withOutputWriteEnd<Result>(
        _ body: (Int32) throws(ChildProcessError) -> Result
    ) throws(ChildProcessError) -> Result {
        guard let writeEnd = pipes.withLock({ $0.outputWriteEnd }) else {
            preconditionFailure("A child's output pipe serves one child")
        }
        defer {
            pipes.withLock { pipes in
                close(writeEnd)
                pipes.outputWriteEnd = nil
            }
        }
        return try body(writeEnd)
    }

    /// The reader thread's loop: delivers the output as it comes, until end of file or until `finish` wakes it.
    func run() {
        var fds = [pollfd(fd: polled.output, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: polled.wake, events: Int16(POLLIN), revents: 0)]
        while true {
            guard poll(&fds, nfds_t(fds.count), -1) != -1 else {
                precondition(errno == EINTR, "poll: \(errorText(errno))")
                continue
            }
            if fds[1].revents != 0 {
                // A process outside the child's group holds the output open: take what is there and stop.
                drain()
                break
            }
            if fds[0].revents != 0, !pipes.withLock({ readOnce(&$0) }) {
                break
            }
        }
        pipes.withLock { pipes in
            if let fd = pipes.outputReadEnd {
                close(fd)
                pipes.outputReadEnd = nil
            }
        }
        readerFinished.signal()
    }

    /// Delivers what the pipe holds now, without waiting for more.
    func drain() {
        pipes.withLock { pipes in
            for _ in 0..<Self.drainReadsMax {
                guard readOnce(&pipes) else { return }
            }
        }
    }

    /// Called once the child has been reaped: waits for the reader thread to reach end of file, at most
    /// `graceAfterExit`, then stops it, and closes the pipes.
    func finish(graceAfterExit: DispatchTimeInterval) {
        if readerFinished.wait(timeout: .now() + graceAfterExit) == .timedOut {
            pipes.withLock { pipes in
                guard let fd = pipes.wakeWriteEnd else { return }
                var byte: UInt8 = 1
                _ = write(fd, &byte, 1)
            }
            readerFinished.wait()
        }
        pipes.withLock { $0.closeAll() }
    }

    /// Reads once and delivers what it read; returns false at end of file (or on an error, which ends the
    /// output as well), true otherwise, also when there was nothing to read.
    private func readOnce(_ pipes: inout Pipes) -> Bool {
        guard let fd = pipes.outputReadEnd else { return false }
        let count = pipes.scratch.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count > 0 {
            deliver(Array(pipes.scratch[0..<count]))
            return true
        }
        return count == -1 && (errno == EAGAIN || errno == EINTR)
    }

    private static func makePipe(purpose: String) throws(ChildProcessError) -> (readEnd: Int32, writeEnd: Int32) {
        var fds: [Int32] = [-1, -1]
        // O_CLOEXEC: no child started meanwhile, by this server or by a library, inherits either end.
        guard try GNUExtensions.resolved.get().pipe2(&fds, O_CLOEXEC) == 0 else {
            throw ChildProcessError(message: "Cannot create a pipe for \(purpose): \(errorText(errno))", errorNumber: errno)
        }
        return (fds[0], fds[1])
    }
}

/// The glibc functions a ``ChildProcess`` needs that `spawn.h` and `unistd.h` declare only under `_GNU_SOURCE`,
/// which Swift's Glibc module is not built with: found at run time.
private struct GNUExtensions {
    typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
    typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    typealias AddClosefrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    /// `pipe2` (glibc 2.9).
    let pipe2: Pipe2
    /// `posix_spawn_file_actions_addchdir_np` (glibc 2.29).
    let addChdir: AddChdir
    /// `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34).
    let addClosefrom: AddClosefrom

    /// The functions, or an error naming the one this C library lacks.
    static let resolved: Result<GNUExtensions, ChildProcessError> = {
        let process = dlopen(nil, RTLD_NOW)
        func find<Function>(_ name: String, as type: Function.Type) throws(ChildProcessError) -> Function {
            guard let symbol = dlsym(process, name) else {
                throw ChildProcessError(
                    message: "Cannot start child processes: the C library lacks \(name) (glibc 2.34 or later has it)",
                    errorNumber: ENOSYS)
            }
            return unsafeBitCast(symbol, to: type)
        }
        return Result { () throws(ChildProcessError) in
            GNUExtensions(
                pipe2: try find("pipe2", as: Pipe2.self),
                addChdir: try find("posix_spawn_file_actions_addchdir_np", as: AddChdir.self),
                addClosefrom: try find("posix_spawn_file_actions_addclosefrom_np", as: AddClosefrom.self))
        }
    }()
}

/// Wraps posix_spawn(3) with the file actions and attributes a ``ChildProcess`` needs.
private enum Spawner {
    static func spawn(
        executable: String, arguments: [String], environment: [String: String], workingDirectory: String,
        outputFD: Int32
    ) throws(ChildProcessError) -> pid_t {
        let extensions = try GNUExtensions.resolved.get()
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        guard posix_spawn_file_actions_init(&actions) == 0 else { throw failure(executable, errno) }
        defer { posix_spawn_file_actions_destroy(&actions) }
        guard posix_spawnattr_init(&attributes) == 0 else { throw failure(executable, errno) }
        defer { posix_spawnattr_destroy(&attributes) }

        var noSignals = sigset_t()
        var allSignals = sigset_t()
        sigemptyset(&noSignals)
        sigfillset(&allSignals)
        let flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        let results = [
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0),
            posix_spawn_file_actions_adddup2(&actions, outputFD, 1),
            posix_spawn_file_actions_adddup2(&actions, outputFD, 2),
            // Every descriptor of the server but stdin, stdout and stderr, CLOEXEC or not, stays out.
            extensions.addClosefrom(&actions, 3),
            extensions.addChdir(&actions, workingDirectory),
            posix_spawnattr_setpgroup(&attributes, 0),
            // The server's blocked signals and ignored ones (SIGPIPE, say) would otherwise carry over.
            posix_spawnattr_setsigmask(&attributes, &noSignals),
            posix_spawnattr_setsigdefault(&attributes, &allSignals),
            posix_spawnattr_setflags(&attributes, Int16(flags)),
        ]
        if let error = results.first(where: { $0 != 0 }) { throw failure(executable, error) }

        var pid: pid_t = 0
        let error = withCStrings([executable] + arguments) { argv in
            withCStrings(environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }) { envp in
                posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
            }
        }
        guard error == 0 else {
            if let problem = directoryProblem(workingDirectory) {
                throw ChildProcessError(
                    message: "Cannot run \(executable) in \(workingDirectory): \(errorText(problem))", errorNumber: problem)
            }
            throw failure(executable, error)
        }
        return pid
    }

    private static func failure(_ executable: String, _ error: Int32) -> ChildProcessError {
        ChildProcessError(message: "Cannot run \(executable): \(errorText(error))", errorNumber: error)
    }

    /// Why `path` cannot be a working directory, if it cannot: posix_spawn reports a failed `chdir` with the
    /// same `errno` as a failed `exec`, so a failure is checked against the directory to tell which it was.
    private static func directoryProblem(_ path: String) -> Int32? {
        var info = stat()
        guard stat(path, &info) == 0 else { return errno }
        guard info.st_mode & S_IFMT == S_IFDIR else { return ENOTDIR }
        guard access(path, X_OK) == 0 else { return errno }
        return nil
    }

    /// Calls `body` with `strings` as a C array of C strings ending with a null pointer.
    private static func withCStrings<Result>(
        _ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> Result
    ) -> Result {
        let pointers = strings.map { strdup($0) } + [nil]
        defer { pointers.forEach { free($0) } }
        return body(pointers)
    }
}

/// The C library's text for an `errno` value: `No such file or directory`.
private func errorText(_ error: Int32) -> String {
    String(cString: strerror(error))
}
