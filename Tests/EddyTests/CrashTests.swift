import Foundation
import Testing

@testable import Eddy

/// Invariant 1 of DESIGN.md: an acknowledged write survives `kill -9`, and no item is torn.
///
/// Each round starts `CrashWriter` on the same data directory, lets it write from four tasks for a random
/// time, kills it with SIGKILL, then reopens the database in this process and checks every write the child
/// acknowledged so far, over all rounds.
@Suite struct CrashTests {
    @Test func acknowledgedWritesSurviveKillNine() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("eddy-crash-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var generator = SystemRandomNumberGenerator()
        var acknowledgedPuts: Set<String> = []
        var acknowledgedCounters: [String: DecimalNumber] = [:]
        let rounds = 20
        for round in 0..<rounds {
            let output = try runAndKill(dataDirectory: directory, round: round, afterMilliseconds: Int.random(in: 150...600, using: &generator))
            let lines = output.split(separator: "\n", omittingEmptySubsequences: true)
            #expect(!lines.contains { $0.hasPrefix("ERROR") }, "the writer failed: \(lines.filter { $0.hasPrefix("ERROR") })")
            for line in lines {
                let fields = line.split(separator: " ")
                switch fields.first {
                case "PUT" where fields.count == 2:
                    acknowledgedPuts.insert(String(fields[1]))
                case "ADD" where fields.count == 3:
                    acknowledgedCounters["counter-\(fields[1])"] = try DecimalNumber(String(fields[2]))
                default:
                    continue
                }
            }
            try await verify(directory: directory, puts: acknowledgedPuts, counters: acknowledgedCounters)
        }
        #expect(acknowledgedPuts.count > rounds, "the writer acknowledged too little to test anything")
    }

    /// Runs the writer, kills it with SIGKILL after `milliseconds` of writing, and returns what it printed.
    private func runAndKill(dataDirectory: String, round: Int, afterMilliseconds milliseconds: Int) throws -> String {
        let process = Process()
        process.executableURL = try crashWriterURL()
        process.arguments = [dataDirectory, String(round)]
        let pipe = Pipe()
        process.standardOutput = pipe
        let collected = OutputCollector()
        pipe.fileHandleForReading.readabilityHandler = { handle in collected.append(handle.availableData) }
        try process.run()
        let started = Date()
        while collected.text.isEmpty, process.isRunning, Date().timeIntervalSince(started) < 30 {
            usleep(5_000)
        }
        usleep(useconds_t(milliseconds * 1000))
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        pipe.fileHandleForReading.readabilityHandler = nil
        collected.append(pipe.fileHandleForReading.readDataToEndOfFile())
        #expect(process.terminationReason == .uncaughtSignal, "the writer exited by itself: \(collected.text.suffix(500))")
        let text = collected.text
        guard let lastNewline = text.lastIndex(of: "\n") else { return "" }
        return String(text[...lastNewline])
    }

    private func verify(directory: String, puts: Set<String>, counters: [String: DecimalNumber]) async throws {
        let db = try Database(path: directory)
        var stored: [String: Item] = [:]
        var start: Item? = nil
        repeat {
            let page = try await db.scan(ScanInput(tableName: "Crash", exclusiveStartKey: start))
            for item in page.items ?? [] {
                guard case .s(let id)? = item["id"] else {
                    Issue.record("an item without a string id: \(item)")
                    continue
                }
                stored[id] = item
            }
            start = page.lastEvaluatedKey
        } while start != nil
        let missing = puts.filter { stored[$0] == nil }
        #expect(missing.isEmpty, "acknowledged puts lost after kill -9: \(missing.sorted().prefix(10))")
        for (id, item) in stored where !id.hasPrefix("counter-") {
            #expect(item["payload"] == .s(payload(of: id)), "torn item \(id)")
        }
        for (id, acknowledged) in counters {
            guard case .n(let value)? = stored[id]?["value"] else {
                Issue.record("counter \(id) lost")
                continue
            }
            #expect(value >= acknowledged, "counter \(id) went back from \(acknowledged) to \(value)")
        }
    }

    /// The same function as CrashWriter's: what a whole item `id` holds.
    private func payload(of id: String) -> String {
        let length = 50 + id.utf8.reduce(0) { ($0 &* 31 &+ Int($1)) & 0xFFFF } % 2000
        return String(repeating: id, count: length / id.count + 1)
    }

    private func crashWriterURL() throws -> URL {
        let candidates = [Bundle.main.executableURL, URL(fileURLWithPath: CommandLine.arguments[0])]
            .compactMap { $0?.deletingLastPathComponent() }
            .flatMap { [$0, $0.deletingLastPathComponent()] }
            .map { $0.appendingPathComponent("CrashWriter") }
        guard let url = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw CrashTestError.writerNotBuilt(candidates.map(\.path))
        }
        return url
    }

    private enum CrashTestError: Error {
        case writerNotBuilt([String])
    }
}

/// Bytes from the child's pipe, appended from the pipe's reading thread and read from the test.
private final class OutputCollector: @unchecked Sendable {
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
