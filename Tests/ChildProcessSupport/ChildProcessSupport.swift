import Eddy
import Foundation

// Helpers of the test targets (EddyTests, EddyKafkaTests), above all of the tests that run executables built
// with the tests as child processes (CrashTests, MaterializedViewTests, TriggerCrashTests, WelcomeEmailTests,
// StreamTailCommandTests, KafkaCrashTests): find such an executable; run it with its output collected, to its
// end or until it is killed at a chosen moment; read whole tables and the shards of whole streams; wait
// without holding a thread of the cooperative pool.

/// When a child is killed.
public enum KillMoment: Sendable, CustomStringConvertible {
    /// This long after it was started, whether or not it has printed anything: often while it opens the
    /// database or registers its mappings.
    case afterStart(milliseconds: Int)
    /// This long after its first line of output.
    case afterFirstOutput(milliseconds: Int)

    /// A mix of moments: one in four while the child starts, half of them after a short run, one in four
    /// after a longer one (the mappings then lag behind the writes).
    public static func random(using generator: inout some RandomNumberGenerator) -> KillMoment {
        switch Int.random(in: 0..<4, using: &generator) {
        case 0: .afterStart(milliseconds: Int.random(in: 0...150, using: &generator))
        case 1, 2: .afterFirstOutput(milliseconds: Int.random(in: 50...600, using: &generator))
        default: .afterFirstOutput(milliseconds: Int.random(in: 900...2_000, using: &generator))
        }
    }

    public var description: String {
        switch self {
        case .afterStart(let milliseconds): "\(milliseconds) ms after start"
        case .afterFirstOutput(let milliseconds): "\(milliseconds) ms after its first output"
        }
    }
}

/// What a child printed, and how it ended.
public struct ChildRun: Sendable {
    /// Everything it printed on stdout.
    public var output: String
    /// What it printed on stderr, when ``runChild(_:arguments:killingAt:waitingAtMost:capturingStandardError:)``
    /// was asked to capture it; empty otherwise.
    public var errorOutput: String
    /// Whether the test sent it SIGKILL because it was still running (at the kill moment, or when the wait for
    /// its exit ran out).
    public var killedByTest: Bool
    /// Its exit status; nil if a signal ended it.
    public var exitStatus: Int32?

    /// Whether a signal ended it (rather than the child exiting by itself).
    public var wasKilled: Bool { exitStatus == nil }

    /// The complete lines of its stdout (a line cut short by a kill is left out).
    public var lines: [Substring] {
        let complete = output.lastIndex(of: "\n").map { output[...$0] } ?? ""
        return complete.split(separator: "\n", omittingEmptySubsequences: true)
    }

    /// The lines that report an error.
    public var errors: [Substring] { lines.filter { $0.hasPrefix("ERROR") } }
}

/// Runs executable `name`, built with the tests, with `arguments`, collecting its stdout (and, with
/// `capturingStandardError`, its stderr; otherwise that goes to the tests' own). With `moment`, kills it with
/// SIGKILL at that moment if it is still running, waiting at most `seconds` for its first output where the
/// moment counts from there; without, waits for it to exit by itself, killing it after `seconds`. Returns
/// what it printed and how it ended. Blocks its thread: call it through ``offThePool(_:)``.
public func runChild(
    _ name: String, arguments: [String], killingAt moment: KillMoment? = nil, waitingAtMost seconds: TimeInterval = 60,
    capturingStandardError: Bool = false
) throws -> ChildRun {
    let process = Process()
    process.executableURL = try childExecutableURL(name)
    process.arguments = arguments
    let output = ChildOutputBuffer()
    let errors = ChildOutputBuffer()
    var collected = [(pipe: Pipe(), buffer: output)]
    process.standardOutput = collected[0].pipe
    if capturingStandardError {
        collected.append((Pipe(), errors))
        process.standardError = collected[1].pipe
    }
    for (pipe, buffer) in collected {
        pipe.fileHandleForReading.readabilityHandler = { handle in buffer.append(handle.availableData) }
    }
    try process.run()
    let deadline = Date().addingTimeInterval(seconds)
    switch moment {
    case .afterStart(let milliseconds)?:
        usleep(useconds_t(milliseconds * 1000))
    case .afterFirstOutput(let milliseconds)?:
        while output.text.isEmpty, process.isRunning, Date() < deadline { usleep(5_000) }
        usleep(useconds_t(milliseconds * 1000))
    case nil:
        while process.isRunning, Date() < deadline { usleep(10_000) }
    }
    let killedByTest = process.isRunning
    if killedByTest { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
    for (pipe, buffer) in collected {
        pipe.fileHandleForReading.readabilityHandler = nil
        buffer.append(pipe.fileHandleForReading.readDataToEndOfFile())
    }
    return ChildRun(
        output: output.text, errorOutput: errors.text, killedByTest: killedByTest,
        exitStatus: process.terminationReason == .exit ? process.terminationStatus : nil)
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

/// Bytes from a child's pipe, appended from the pipe's reading thread and read from the test.
private final class ChildOutputBuffer: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()

    func append(_ chunk: Data) {
        lock.lock()
        data.append(chunk)
        lock.unlock()
    }

    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: data, as: UTF8.self)
    }
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

/// Polls `condition` until it holds or 60 seconds have passed (the suite runs tests in parallel on two
/// cores); returns whether it held.
public func waitUntil(_ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + .seconds(60)
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
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
