import Foundation
import Testing

@testable import Eddy

// Helpers of the tests whose child processes run trigger mappings (MaterializedViewTests, TriggerCrashTests):
// run a child built with the tests, to its end or until it is killed at a random moment; read whole tables.

/// When a child is killed.
enum KillMoment: CustomStringConvertible {
    /// This long after it was started, whether or not it has printed anything: often while it opens the
    /// database or registers its mappings.
    case afterStart(milliseconds: Int)
    /// This long after its first line of output.
    case afterFirstOutput(milliseconds: Int)

    /// A mix of moments: one in four while the child starts, half of them after a short run, one in four
    /// after a longer one (the mappings then lag behind the writes).
    static func random(using generator: inout some RandomNumberGenerator) -> KillMoment {
        switch Int.random(in: 0..<4, using: &generator) {
        case 0: .afterStart(milliseconds: Int.random(in: 0...150, using: &generator))
        case 1, 2: .afterFirstOutput(milliseconds: Int.random(in: 50...600, using: &generator))
        default: .afterFirstOutput(milliseconds: Int.random(in: 900...2_000, using: &generator))
        }
    }

    var description: String {
        switch self {
        case .afterStart(let milliseconds): "\(milliseconds) ms after start"
        case .afterFirstOutput(let milliseconds): "\(milliseconds) ms after its first output"
        }
    }
}

/// What a killed child printed, and how it ended.
struct KilledChild {
    /// The complete lines of its stdout (a line cut short by the kill is left out).
    var lines: [Substring]
    /// Whether SIGKILL ended it (rather than the child exiting by itself first).
    var wasKilled: Bool

    /// The lines that report an error.
    var errors: [Substring] { lines.filter { $0.hasPrefix("ERROR") } }
}

/// Runs executable `name`, built with the tests, with `arguments`, kills it with SIGKILL at `moment`, and
/// returns what it printed. Blocks its thread: call it through ``offThePool(_:)``.
func runUntilKilled(_ name: String, arguments: [String], at moment: KillMoment) throws -> KilledChild {
    let process = Process()
    process.executableURL = try childExecutableURL(name)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    let output = ChildOutputBuffer()
    pipe.fileHandleForReading.readabilityHandler = { handle in output.append(handle.availableData) }
    try process.run()
    switch moment {
    case .afterStart(let milliseconds):
        usleep(useconds_t(milliseconds * 1000))
    case .afterFirstOutput(let milliseconds):
        let started = Date()
        while output.text.isEmpty, process.isRunning, Date().timeIntervalSince(started) < 60 { usleep(5_000) }
        usleep(useconds_t(milliseconds * 1000))
    }
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    pipe.fileHandleForReading.readabilityHandler = nil
    output.append(pipe.fileHandleForReading.readDataToEndOfFile())
    let text = output.text
    let complete = text.lastIndex(of: "\n").map { text[...$0] } ?? ""
    return KilledChild(
        lines: complete.split(separator: "\n", omittingEmptySubsequences: true),
        wasKilled: process.terminationReason == .uncaughtSignal)
}

/// Runs executable `name`, built with the tests, with `arguments` until it exits (killing it after 60
/// seconds); returns its exit status (nil if a signal ended it) and its stdout. Blocks its thread: call it
/// through ``offThePool(_:)``.
func runToCompletion(_ name: String, arguments: [String]) throws -> (status: Int32?, output: String) {
    let process = Process()
    process.executableURL = try childExecutableURL(name)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    let output = ChildOutputBuffer()
    pipe.fileHandleForReading.readabilityHandler = { handle in output.append(handle.availableData) }
    try process.run()
    let started = Date()
    while process.isRunning, Date().timeIntervalSince(started) < 60 { usleep(10_000) }
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
    pipe.fileHandleForReading.readabilityHandler = nil
    output.append(pipe.fileHandleForReading.readDataToEndOfFile())
    return (process.terminationReason == .exit ? process.terminationStatus : nil, output.text)
}

/// The executable `name` next to the test bundle (or one directory up, depending on the platform).
private func childExecutableURL(_ name: String) throws -> URL {
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
func scanEveryItem(_ db: Database, _ table: String) async throws -> [Item] {
    var items: [Item] = []
    var start: Item?
    repeat {
        let page = try await db.scan(ScanInput(tableName: table, exclusiveStartKey: start))
        items += page.items ?? []
        start = page.lastEvaluatedKey
    } while start != nil
    return items
}

/// Polls `condition` until it holds or 60 seconds have passed (the suite runs tests in parallel on two
/// cores); returns whether it held.
func waitUntil(_ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + .seconds(60)
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}
