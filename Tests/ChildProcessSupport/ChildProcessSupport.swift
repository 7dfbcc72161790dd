import Eddy
import Foundation

// Helpers of the test targets (EddyTests, EddyKafkaTests, EddyLambdaRuntimeTests), above all of the kill -9
// tests that run executables built with the tests as child processes (CrashTests, TransactionCrashTests,
// IndexCrashTests, TriggerCrashTests, MaterializedViewTests, KafkaCrashTests, SnapshotCrashTests,
// WelcomeEmailTests; and LambdaEchoFunctionTests, which runs a Lambda function): find such an executable; run
// it with its output collected, to its end or until it is killed at a chosen moment; tell a round the test's
// SIGKILL ended from one the child ended by itself; read whole tables and the shards of whole streams; wait
// without holding a thread of the cooperative pool.

/// The lines a kill -9 test's child prints around opening its database, so that the test can kill it while
/// it opens (and recovers) the database, and can tell whether it made progress once it had.
public enum ChildMarker {
    /// Printed right before the child opens the database.
    public static let opening = "OPENING"
    /// Printed right after the database opened.
    public static let opened = "OPENED"
}

/// Opens the database at `path` for a kill -9 test's child, printing ``ChildMarker/opening`` before and
/// ``ChildMarker/opened`` after, each with one write(2).
public func openAnnounced(path: String, configuration: Database.Configuration = Database.Configuration()) throws(EddyError) -> Database {
    writeLine(ChildMarker.opening)
    let database = try Database(path: path, configuration: configuration)
    writeLine(ChildMarker.opened)
    return database
}

/// Opens the database at `path` for a kill -9 test's child (``openAnnounced(path:configuration:)``) and runs
/// `prepare` with it (creating tables, say); if either fails, reports `ERROR …` and ends the child with status 1.
public func openOrExit(
    path: String, configuration: Database.Configuration = Database.Configuration(), prepare: (Database) async throws -> Void
) async -> Database {
    do {
        let database = try openAnnounced(path: path, configuration: configuration)
        try await prepare(database)
        return database
    } catch {
        writeLine("ERROR \(error)")
        exit(1)
    }
}

/// The command-line arguments of a kill -9 test's child whose `usage` is its name and its arguments' names, one
/// of them `ROUND`: the arguments (the name first, as `CommandLine.arguments`) and the round's number. If they
/// do not fit, prints the usage and ends the child with status 2.
public func childArguments(usage: String) -> (arguments: [String], round: Int) {
    let names = usage.split(separator: " ")
    let arguments = CommandLine.arguments
    guard arguments.count == names.count, let index = names.firstIndex(of: "ROUND"), let round = Int(arguments[index]) else {
        FileHandle.standardError.write(Data("usage: \(usage)\n".utf8))
        exit(2)
    }
    return (arguments, round)
}

/// Writes `line` and a newline to stdout with one write(2), so that a kill never interleaves two lines and a
/// complete line on stdout means that what it reports had happened.
public func writeLine(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    bytes.withUnsafeBytes { _ = write(1, $0.baseAddress, $0.count) }
}

/// When a child is killed.
public enum KillMoment: Sendable, CustomStringConvertible {
    /// This long after its first line of output.
    case afterFirstOutput(milliseconds: Int)
    /// This long after it printed ``ChildMarker/opening``: while it opens and recovers the database when the
    /// time is shorter than the open takes.
    case afterOpening(milliseconds: Int)
    /// This long after its first line following ``ChildMarker/opened``: the first progress it reported
    /// (an acknowledged write) once the database was open.
    case afterProgress(milliseconds: Int)

    /// Whether a child killed at this moment must have opened the database and reported progress first.
    public var requiresProgress: Bool {
        if case .afterProgress = self { true } else { false }
    }

    public var description: String {
        switch self {
        case .afterFirstOutput(let milliseconds): "\(milliseconds) ms after its first output"
        case .afterOpening(let milliseconds): "\(milliseconds) ms after it began to open the database"
        case .afterProgress(let milliseconds): "\(milliseconds) ms after its first progress"
        }
    }
}

/// The kill moments of a kill -9 test's rounds: a share of them while the child opens its database (right
/// after an earlier round's kill, that is while RocksDB recovers its log and Eddy loads its state), timed
/// from how long opens took; the others after the child has made progress.
public struct KillSchedule: Sendable {
    /// The shortest time a child took to open the database so far, from ``ChildMarker/opening`` to
    /// ``ChildMarker/opened``, in milliseconds; a guess until a round has measured one.
    public private(set) var shortestOpenMilliseconds: Int?
    /// How many rounds so far killed their child after it began to open the database and before it had.
    public private(set) var roundsKilledWhileOpening = 0

    public init() {}

    /// A moment while the child opens the database: a random time within 90 % of the shortest open so far
    /// (opens take from about 15 to over 100 ms here, with the machine busy or not).
    public func whileOpening(using generator: inout some RandomNumberGenerator) -> KillMoment {
        .afterOpening(milliseconds: Int.random(in: 0...max(1, (shortestOpenMilliseconds ?? 15) * 9 / 10), using: &generator))
    }

    /// The moment of round `round`: the first lives 300 ms past its first progress (long enough to create
    /// what later rounds read); every fourth round after it dies while the child opens the database; the
    /// others after progress, two in three after a short run and one in three after a longer one (a trigger
    /// mapping then lags behind the writes).
    public func moment(ofRound round: Int, using generator: inout some RandomNumberGenerator) -> KillMoment {
        if round == 0 { return .afterProgress(milliseconds: 300) }
        if round % 4 == 3 { return whileOpening(using: &generator) }
        return Int.random(in: 0..<3, using: &generator) < 2
            ? .afterProgress(milliseconds: Int.random(in: 50...600, using: &generator))
            : .afterProgress(milliseconds: Int.random(in: 900...2_000, using: &generator))
    }

    /// Takes note of a round's run: how long its open took, or that it was killed during the open.
    public mutating func record(_ run: ChildRun) {
        if let opened = run.openMilliseconds {
            shortestOpenMilliseconds = min(opened, shortestOpenMilliseconds ?? opened)
        } else if run.killedByTest, run.lines.contains(Substring(ChildMarker.opening)) {
            roundsKilledWhileOpening += 1
        }
    }
}

/// What a child printed, and how it ended.
public struct ChildRun: Sendable {
    /// When it was killed, if it was to be.
    public var moment: KillMoment?
    /// Everything it printed on stdout.
    public var output: String
    /// Everything it printed on stderr.
    public var errorOutput: String
    /// Whether the test sent it SIGKILL because it was still running (at the kill moment, or when the wait for
    /// its exit ran out). False when it had ended by itself, by an exit or a signal of its own (a crash, an
    /// abort, a Swift trap).
    public var killedByTest: Bool
    /// Its exit status; nil if a signal ended it.
    public var exitStatus: Int32?
    /// The signal that ended it, if one did.
    public var terminationSignal: Int32?
    /// How long it took to open its database, from ``ChildMarker/opening`` to ``ChildMarker/opened``, in
    /// milliseconds; nil if it did not print both.
    public var openMilliseconds: Int?

    /// The complete lines of its stdout (a line cut short by a kill is left out).
    public var lines: [Substring] {
        let complete = output.lastIndex(of: "\n").map { output[...$0] } ?? ""
        return complete.split(separator: "\n", omittingEmptySubsequences: true)
    }

    /// The lines that report an error.
    public var errors: [Substring] { lines.filter { $0.hasPrefix("ERROR") } }

    /// The lines printed after ``ChildMarker/opened``: its progress once its database was open (empty if it
    /// never opened it).
    public var progress: ArraySlice<Substring> {
        let all = lines
        guard let opened = all.firstIndex(of: Substring(ChildMarker.opened)) else { return [] }
        return all[(opened + 1)...]
    }

    /// What is wrong with this run as a round of a kill -9 test, or nil if nothing is: the test's SIGKILL must
    /// have ended it (an exit, a crash, an abort or a trap of its own fails the round), it must have reported
    /// no error, and, when killed at a moment that ``KillMoment/requiresProgress``, it must have opened its
    /// database and reported progress after that. The problem quotes the end of its stdout and its stderr.
    public var problemAsKilledRound: String? {
        var problems: [String] = []
        if !killedByTest {
            problems.append(
                exitStatus.map { "it exited by itself with status \($0)" }
                    ?? "it was ended by signal \(terminationSignal.map(String.init) ?? "?"), not by the test's SIGKILL")
        }
        if !errors.isEmpty { problems.append("it reported errors: \(errors.prefix(5))") }
        if moment?.requiresProgress == true, progress.isEmpty {
            problems.append("it made no progress after opening its database (opened: \(openMilliseconds != nil))")
        }
        guard !problems.isEmpty else { return nil }
        // A trap's message opens its stderr, the backtrace follows.
        let stderr = errorOutput.count <= 2_000 ? errorOutput : errorOutput.prefix(1_500) + " … " + errorOutput.suffix(500)
        return problems.joined(separator: "; ") + ". Its last lines: \(lines.suffix(5)); its stderr: \(stderr)"
    }
}

/// Runs executable `name`, built with the tests, with `arguments` and the test's environment plus
/// `environment`, collecting its stdout and stderr. With `moment`, kills it with SIGKILL at that moment if it
/// is still running, waiting at most `seconds` for the line the moment counts from; without, waits for it to
/// exit by itself, killing it after `seconds`. Returns what it printed and how it ended. Blocks its thread:
/// call it through ``offThePool(_:)``.
public func runChild(
    _ name: String, arguments: [String], environment: [String: String] = [:], killingAt moment: KillMoment? = nil,
    waitingAtMost seconds: TimeInterval = 60
) throws -> ChildRun {
    let process = Process()
    process.executableURL = try childExecutableURL(name)
    process.arguments = arguments
    // Without Swift's backtracer, a trap ends the child at once (after its message on stderr): with it, the
    // trapped child waits for `swift-backtrace`, so a kill meanwhile would count a crash as the test's kill,
    // and the backtracer, which outlives a killed child, would hold its pipes open.
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        .merging(["SWIFT_BACKTRACE": "enable=no"]) { $1 }
    let output = ChildOutputBuffer()
    let errors = ChildOutputBuffer()
    let pipes = [(pipe: Pipe(), buffer: output), (pipe: Pipe(), buffer: errors)]
    process.standardOutput = pipes[0].pipe
    process.standardError = pipes[1].pipe
    try process.run()
    for (pipe, buffer) in pipes {
        // Blocking reads on a thread of their own, not a readabilityHandler: tearing a handler's dispatch
        // source down races the descriptor's close, which now and then crashed libdispatch's manager thread in
        // `_dispatch_event_loop_drain` (swift-corelibs-libdispatch issue 949).
        let handle = pipe.fileHandleForReading
        Thread {
            var chunk = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = chunk.withUnsafeMutableBytes { read(handle.fileDescriptor, $0.baseAddress, $0.count) }
                if count < 0, errno == EINTR { continue }
                buffer.append(count > 0 ? Data(chunk[..<count]) : Data())
                if count <= 0 { return }
            }
        }.start()
    }
    let deadline = ContinuousClock.now + .seconds(seconds)
    let waitUntil: (ContinuousClock.Instant) -> Void = { instant in
        while process.isRunning, ContinuousClock.now < instant { usleep(1_000) }
    }
    switch moment {
    case .afterFirstOutput(let milliseconds)?:
        _ = output.waitForLine(after: nil, until: deadline) { process.isRunning }
        waitUntil(ContinuousClock.now + .milliseconds(milliseconds))
    case .afterOpening(let milliseconds)?:
        let seen = output.waitForLine(after: nil, until: deadline, matching: ChildMarker.opening) { process.isRunning }
        waitUntil((seen ?? .now) + .milliseconds(milliseconds))
    case .afterProgress(let milliseconds)?:
        _ = output.waitForLine(after: ChildMarker.opened, until: deadline) { process.isRunning }
        waitUntil(ContinuousClock.now + .milliseconds(milliseconds))
    case nil:
        waitUntil(deadline)
    }
    let killedByTest = process.isRunning
    if killedByTest { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
    // A process the child started may still hold its pipes: read to their end, or for a few seconds.
    let drained = ContinuousClock.now + .seconds(5)
    for (_, buffer) in pipes {
        buffer.waitForEnd(until: drained)
    }
    let opened = output.arrival(of: ChildMarker.opened)
    let opening = output.arrival(of: ChildMarker.opening)
    let openDuration = opened.flatMap { end in opening.map { end - $0 } }
    let exited = process.terminationReason == .exit
    return ChildRun(
        moment: moment, output: output.text, errorOutput: errors.text, killedByTest: killedByTest,
        exitStatus: exited ? process.terminationStatus : nil, terminationSignal: exited ? nil : process.terminationStatus,
        openMilliseconds: openDuration.map { Int($0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000) })
}

/// The executable `name` built with the tests, next to the test bundle (or one directory up, depending on the
/// platform).
public func childExecutableURL(_ name: String) throws -> URL {
    let candidates = [Bundle.main.executableURL, URL(fileURLWithPath: CommandLine.arguments[0])]
        .compactMap { $0?.deletingLastPathComponent() }
        .flatMap { [$0, $0.deletingLastPathComponent()] }
        .map { $0.appendingPathComponent(name) }
    guard let url = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
        throw ChildNotBuilt(name: name, candidates: candidates.map(\.path))
    }
    return url
}

private struct ChildNotBuilt: Error {
    var name: String
    var candidates: [String]
}

/// Bytes from a child's pipe, appended from the pipe's reading thread and read from the test, with the
/// moment each complete line arrived.
private final class ChildOutputBuffer: @unchecked Sendable {
    private let condition = NSCondition()
    private var data = Data()
    /// Each complete line so far, with when it arrived.
    private var arrivals: [(line: String, at: ContinuousClock.Instant)] = []
    /// Where the line not yet complete starts in `data`.
    private var lineStart = 0
    /// Whether the pipe has reached its end (every writer closed it).
    private var ended = false

    /// Takes what the pipe had to read: some bytes, or none at its end.
    func append(_ chunk: Data) {
        let now = ContinuousClock.now
        condition.lock()
        ended = ended || chunk.isEmpty
        data.append(chunk)
        while let end = data[(data.startIndex + lineStart)...].firstIndex(of: UInt8(ascii: "\n")) {
            arrivals.append((String(decoding: data[(data.startIndex + lineStart)..<end], as: UTF8.self), now))
            lineStart = end + 1 - data.startIndex
        }
        condition.broadcast()
        condition.unlock()
    }

    var text: String {
        condition.lock()
        defer { condition.unlock() }
        return String(decoding: data, as: UTF8.self)
    }

    /// Waits until the pipe has reached its end, or until `deadline`.
    func waitForEnd(until deadline: ContinuousClock.Instant) {
        condition.lock()
        defer { condition.unlock() }
        while !ended, ContinuousClock.now < deadline {
            _ = condition.wait(until: Date().addingTimeInterval(0.005))
        }
    }

    /// When the first line equal to `line` arrived, if one has.
    func arrival(of line: String) -> ContinuousClock.Instant? {
        condition.lock()
        defer { condition.unlock() }
        return arrivals.first { $0.line == line }?.at
    }

    /// Waits for a complete line: the first one equal to `matching` (any line when nil) that comes after
    /// the first line equal to `marker` (from the start when nil); returns when it arrived, or nil if it did
    /// not before `deadline` or before `isRunning` turned false.
    func waitForLine(
        after marker: String?, until deadline: ContinuousClock.Instant, matching: String? = nil, isRunning: () -> Bool
    ) -> ContinuousClock.Instant? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            let start = marker.map { marker in arrivals.firstIndex { $0.line == marker }.map { $0 + 1 } ?? arrivals.endIndex } ?? 0
            if let found = arrivals[start...].first(where: { matching == nil || $0.line == matching }) { return found.at }
            guard ContinuousClock.now < deadline, isRunning() else { return nil }
            _ = condition.wait(until: Date().addingTimeInterval(0.005))
        }
    }
}

/// Opens the database at `path`, runs `body` with it, and returns once the database has closed (its last
/// reference gone, so RocksDB has released the directory's lock) and a child process started next can open
/// it. A background job of the database (a backfill step, a sweep) may hold it a moment after `body`
/// returns: waits for that, at most 30 seconds, then throws.
public func withDatabase<Result>(
    at path: String, configuration: Database.Configuration = Database.Configuration(), _ body: (Database) async throws -> Result
) async throws -> Result {
    weak var opened: Database?
    let result: Result
    do {
        let database = try Database(path: path, configuration: configuration)
        opened = database
        result = try await body(database)
    }
    let deadline = ContinuousClock.now + .seconds(30)
    while opened != nil {
        guard ContinuousClock.now < deadline else { throw DatabaseStillOpen(path: path) }
        try await Task.sleep(for: .milliseconds(5))
    }
    return result
}

/// The database at `path` stayed open after its test let go of it: something else still holds it.
public struct DatabaseStillOpen: Error, CustomStringConvertible {
    public var path: String
    public var description: String { "the database at \(path) is still open 30 seconds after its test let go of it" }
}

/// Every item of `table`, over all Scan pages.
public func scanEveryItem(_ db: Database, _ table: String) async throws -> [Item] {
    var items: [Item] = []
    var start: Item?
    repeat {
        let page = try await db.scan(ScanInput(tableName: table, exclusiveStartKey: start))
        items += page.items ?? []
        start = page.lastEvaluatedKey
    } while start != nil
    return items
}

/// Every shard of stream `arn`, over all DescribeStream pages, in DescribeStream's order.
public func everyShard(of arn: String, in db: Database) async throws -> [Shard] {
    var shards: [Shard] = []
    var startShard: String? = nil
    repeat {
        let page = try await db.describeStream(DescribeStreamInput(streamArn: arn, exclusiveStartShardId: startShard))
        shards += page.streamDescription.shards
        startShard = page.streamDescription.lastEvaluatedShardId
    } while startShard != nil
    return shards
}

/// Every record of stream `arn` read with GetRecords from TRIM_HORIZON, shard by shard, parents before
/// children, each shard until a closed shard ends or an open one has nothing more.
public func readStream(_ database: Database, _ arn: String, limit: Int = 1000) async throws -> [(shard: String, record: StreamRecord)] {
    let shards = try await everyShard(of: arn, in: database)
    var done: Set<String> = []
    var result: [(String, StreamRecord)] = []
    while done.count < shards.count {
        for shard in shards where !done.contains(shard.shardId) {
            if let parent = shard.parentShardId, shards.contains(where: { $0.shardId == parent }), !done.contains(parent) { continue }
            var iterator = try await database.getShardIterator(
                GetShardIteratorInput(streamArn: arn, shardId: shard.shardId, shardIteratorType: .trimHorizon)
            ).shardIterator
            while let current = iterator {
                let page = try await database.getRecords(GetRecordsInput(shardIterator: current, limit: limit))
                result += page.records.map { (shard.shardId, $0) }
                iterator = page.records.isEmpty ? nil : page.nextShardIterator
            }
            done.insert(shard.shardId)
        }
    }
    return result
}

/// How long a wait of the tests polls before it gives up: under the suites' 5-minute time limits, and well
/// above the stalls of the whole suite on two busy cores (up to about 80 s seen), when a test can wait a minute
/// for the cooperative pool.
public let waitBound = Duration.seconds(240)

/// Polls `condition` every 20 ms until it holds or ``waitBound`` has passed; returns whether it held.
public func waitUntil(_ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + waitBound
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

/// A wait that ran out of time: what it waited for, and what had happened by then.
public struct WaitTimedOut: Error, CustomStringConvertible {
    public var description: String
}

/// Polls `condition` every 20 ms until it holds; throws ``WaitTimedOut`` with `what` (evaluated then) if it
/// has not within ``waitBound``.
public func waitUntil(_ what: @autoclosure () -> String, _ condition: () async throws -> Bool) async throws {
    guard try await waitUntil(condition) else { throw WaitTimedOut(description: "Timed out waiting for \(what())") }
}

/// The workload of the crash tests' child processes (TriggerCrashWorker, KafkaSinkWorker): three tasks write
/// table `table` (key `pk`) without end, each its own items `w<writer>-<n>` for n below `itemsPerWriter`,
/// with a `version` that grows with every write of the item, across rounds too (`round` × 1,000,000 + the
/// task's write count): 45% puts, 35% updates (which create a missing item), 20% deletes. After each write
/// returns, `report` gets `ACK <operation> <pk> <version>`; then the task pauses up to `maximumPauseMilliseconds`.
public func writeWithoutEnd(
    _ db: Database, table: String, round: Int, itemsPerWriter: Int, maximumPauseMilliseconds: Int,
    report: @escaping @Sendable (String) -> Void
) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for writer in 0..<3 {
            group.addTask {
                var random = SystemRandomNumberGenerator()
                var writes = 0
                while true {
                    writes += 1
                    let pk = "w\(writer)-\(Int.random(in: 0..<itemsPerWriter, using: &random))"
                    let version = AttributeValue.n(DecimalNumber(round * 1_000_000 + writes))
                    let operation: String
                    switch Int.random(in: 0..<20, using: &random) {
                    case 0..<9:
                        operation = "put"
                        try await db.putItem(PutItemInput(tableName: table, item: ["pk": .s(pk), "version": version]))
                    case 9..<16:
                        operation = "update"
                        try await db.updateItem(UpdateItemInput(
                            tableName: table, key: ["pk": .s(pk)], updateExpression: "SET #version = :version",
                            expressionAttributeNames: ["#version": "version"], expressionAttributeValues: [":version": version]))
                    default:
                        operation = "delete"
                        try await db.deleteItem(DeleteItemInput(tableName: table, key: ["pk": .s(pk)]))
                    }
                    report("ACK \(operation) \(pk) \(round * 1_000_000 + writes)")
                    try await Task.sleep(for: .milliseconds(Int.random(in: 0...maximumPauseMilliseconds, using: &random)))
                }
            }
        }
        try await group.waitForAll()
    }
}

/// Runs `body`, which blocks its thread (waiting for a child process, sleeping), on a thread of its own, so
/// that it never holds one of the cooperative pool's two threads while other tests run.
public func offThePool<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}
