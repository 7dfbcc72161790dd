import Eddy
import Foundation
import Testing

@testable import EddyServer

/// Fuzzes the wire protocol: generated requests (random bytes, random JSON, unknown targets, truncated
/// bodies, and valid requests for every served target broken by ``Mutation``s) go through
/// ``EddyServer/handle(target:body:)`` against a database holding a known data set.
///
/// No request may be answered with a 500, which is reserved for Eddy's own failures; every error body must
/// be JSON with `__type` and `message`. A run is replayed from its seed: set `EDDY_FUZZ_SEED` (decimal or
/// `0x` hexadecimal) to the seed a failure reports.
@Suite("Wire protocol fuzzing")
struct FuzzTests {
    /// `EDDY_FUZZ_SEED` when set to a decimal or `0x` hexadecimal number, else a fixed seed.
    static let seed: UInt64 = {
        let text = ProcessInfo.processInfo.environment["EDDY_FUZZ_SEED"] ?? ""
        let parsed = text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
        return parsed ?? 0xEDD1_F0CC
    }()

    static let invalidRequestCount = 100_000
    static let mixedRequestCount = 50_000
    /// How many invalid requests run between two snapshots of the database.
    static let snapshotInterval = 10_000

    @Test("Invalid requests are refused, never with a 500, and leave the data set as it was")
    func invalidRequestsChangeNothing() async throws {
        try await withServer { server in
            var fuzzer = Fuzzer(seed: Self.seed, scope: .invalidOnly)
            fuzzer.fixture = try await FuzzFixture.load(into: server, using: &fuzzer)
            let loaded = try await DatabaseSnapshot.take(server.database)
            #expect(loaded.itemCount == 2 * FuzzFixture.itemsPerTable)
            #expect(loaded.streamRecordCount == FuzzFixture.itemsPerTable)
            var run = FuzzRun(server: server, seed: Self.seed, phase: "invalid-only")
            var checkedThrough = 0
            while run.sent < Self.invalidRequestCount, !run.shouldStop {
                let generated = fuzzer.next()
                if await run.send(generated) == FuzzRun.success {
                    run.fail(generated, "succeeded, but every request of this phase is invalid by construction")
                }
                if run.sent % Self.snapshotInterval == 0 {
                    try await Self.expect(server, toHold: loaded, after: run, since: checkedThrough)
                    checkedThrough = run.sent
                }
            }
            if checkedThrough < run.sent {
                try await Self.expect(server, toHold: loaded, after: run, since: checkedThrough)
            }
            print(run.summary)
        }
    }

    /// Expects the database of `server` to hold `expected` after the requests `run` sent since request
    /// number `checkedThrough`.
    private static func expect(_ server: EddyServer, toHold expected: DatabaseSnapshot, after run: FuzzRun, since checkedThrough: Int) async throws {
        let now = try await DatabaseSnapshot.take(server.database)
        #expect(
            now == expected,
            "[seed \(run.seedText)] the data set changed between requests #\(checkedThrough + 1) and #\(run.sent): \(now.differences(from: expected))")
    }

    @Test("Requests valid or not are answered without a 500, errors with well-formed bodies")
    func mixedRequestsNeverFailInternally() async throws {
        try await withServer { server in
            var fuzzer = Fuzzer(seed: Self.seed, scope: .mixed)
            fuzzer.fixture = try await FuzzFixture.load(into: server, using: &fuzzer)
            var run = FuzzRun(server: server, seed: Self.seed, phase: "mixed")
            while run.sent < Self.mixedRequestCount, !run.shouldStop {
                await run.send(fuzzer.next())
            }
            print(run.summary)
            #expect(run.count(of: FuzzRun.success) > run.sent / 10, "Too few requests succeeded for the valid ones to be exercised")
            let final = try await DatabaseSnapshot.take(server.database)
            #expect(
                final.tables[FuzzFixture.hashTable.name] != nil && final.tables[FuzzFixture.rangeTable.name] != nil,
                "The data set's tables must survive: only the pool tables are created and deleted")
        }
    }
}

/// Sends fuzzed requests through a server and checks every answer, counting the outcomes.
struct FuzzRun {
    /// The outcome of a request answered without an error.
    static let success = "OK"
    /// After this many failures a run stops: the first ones say what is wrong.
    static let maximumFailures = 10

    let server: EddyServer
    let seed: UInt64
    let phase: String
    private(set) var sent = 0
    private(set) var failures = 0
    private var outcomes: [String: Int] = [:]
    private var generators: [String: Int] = [:]
    private let start = ContinuousClock.now

    init(server: EddyServer, seed: UInt64, phase: String) {
        self.server = server
        self.seed = seed
        self.phase = phase
    }

    /// Whether the run has failed often enough to stop.
    var shouldStop: Bool { failures >= Self.maximumFailures }

    /// The seed in hexadecimal, as `EDDY_FUZZ_SEED` takes it.
    var seedText: String { "0x" + String(seed, radix: 16, uppercase: true) }

    /// How many requests ended with `outcome`: ``success`` or an error type.
    func count(of outcome: String) -> Int { outcomes[outcome, default: 0] }

    /// Sends `generated` and checks the answer: never a status of 500 or more, and an error body that is
    /// JSON with the error's `__type` and its `message`. Returns the outcome: ``success`` or the error type.
    @discardableResult
    mutating func send(_ generated: Fuzzer.Case) async -> String {
        sent += 1
        generators[generated.generator, default: 0] += 1
        let outcome: String
        switch await server.handle(target: generated.request.target, body: generated.request.body) {
        case .success:
            outcome = Self.success
        case .failure(let error):
            outcome = error.type
            check(error, of: generated)
        }
        outcomes[outcome, default: 0] += 1
        return outcome
    }

    /// Fails unless `error` has a 4xx status and a JSON body with its `__type` and a `message`.
    private mutating func check(_ error: WireError, of generated: Fuzzer.Case) {
        guard (400..<500).contains(error.status) else {
            fail(generated, "answered \(error.status) \(error.type): \(error.message)")
            return
        }
        let bytes = error.body
        guard let body = jsonObject(bytes) else {
            fail(generated, "answered \(error.type) with a body that is not a JSON object: \(printable(bytes.prefix(300)))")
            return
        }
        guard let type = body["__type"] as? String, type.hasSuffix("#" + error.type), body["message"] is String else {
            fail(generated, "answered \(error.type) with a body lacking __type or message: \(printable(bytes.prefix(300)))")
            return
        }
    }

    /// Records a failure of `generated`, with what replays it: the seed, the request's number, its target,
    /// and the first 300 bytes of its body.
    mutating func fail(_ generated: Fuzzer.Case, _ problem: String) {
        failures += 1
        let request = generated.request
        Issue.record(
            """
            [seed \(seedText), \(phase) request #\(sent)] \(request.target ?? "no target") (\(generated.label)): \(problem). \
            Body (first 300 of \(request.body.count) bytes): \(printable(request.body.prefix(300)))
            """)
    }

    /// The counts: requests sent by generator, outcomes by type, and the time taken.
    var summary: String {
        let elapsed = (ContinuousClock.now - start).components
        let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
        let byGenerator = generators.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        let byOutcome = outcomes.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return "Fuzz \(phase) (seed \(seedText)): \(sent) requests in \(String(format: "%.1f", seconds)) s. Generated: \(byGenerator). Outcomes: \(byOutcome)."
    }
}

extension DatabaseSnapshot {
    /// What differs from `other`: the tables whose schema, settings or items differ, and the streams whose
    /// records do.
    func differences(from other: DatabaseSnapshot) -> String {
        let tableNames = Set(tables.keys).union(other.tables.keys).sorted()
        let changedTables = tableNames.filter { tables[$0] != other.tables[$0] }.map { name in
            "\(name) (\(other.tables[name]?.items.count ?? 0) → \(tables[name]?.items.count ?? 0) items)"
        }
        let changedStreams = Set(streams.keys).union(other.streams.keys).sorted().filter { streams[$0] != other.streams[$0] }
        return "tables changed: \(changedTables); streams changed: \(changedStreams); stream records \(other.streamRecordCount) → \(streamRecordCount)"
    }
}
