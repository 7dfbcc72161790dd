import Eddy
import Foundation
import NIOHTTP1
import Testing

@testable import EddyServer

/// Fuzzes the wire protocol: generated requests (random bytes, random JSON, unknown targets, truncated
/// bodies, and valid requests for every served target broken by ``Mutation``s) go to a server holding a
/// known data set, most through ``EddyServer/handle(target:body:)``, some over HTTP signed with AWS Signature
/// Version 4, which the server checks.
///
/// No request may be answered with a 500, which is reserved for Eddy's own failures; every error body must
/// be JSON with `__type` and `message`; a request that fails must change nothing. Each run draws a new seed
/// and prints it; set `EDDY_FUZZ_SEED` (decimal or `0x` hexadecimal) to the seed a failure reports to replay
/// that run.
@Suite("Wire protocol fuzzing", .timeLimit(.minutes(5)))
struct FuzzTests {
    /// `EDDY_FUZZ_SEED` when set, else a new random seed; nil when the variable is set to no number.
    static let seed: UInt64? = {
        guard let text = ProcessInfo.processInfo.environment["EDDY_FUZZ_SEED"], !text.isEmpty else {
            return UInt64.random(in: .min ... .max)
        }
        return text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
    }()

    static let invalidRequestCount = 100_000
    static let mixedRequestCount = 50_000
    /// How many invalid requests run between two snapshots of the database.
    static let snapshotInterval = 10_000
    /// In the mixed phase, one valid write in this many is checked to change nothing if it fails: those
    /// fail deepest (a condition, a transaction, Time to Live's once-an-hour rule, a table in use).
    static let validWriteCheckInterval = 10
    /// In the mixed phase, one other request in this many is checked to change nothing if it fails.
    static let failureCheckInterval = 250
    /// In the mixed phase, every this many requests a burst of invalid requests runs between two snapshots.
    static let burstInterval = 5_000
    /// How many invalid requests a burst sends.
    static let burstSize = 200

    /// The access key the server knows, with which the HTTP traffic is signed.
    static let credentials = SigV4Credentials(accessKeyId: "AKIDEDDYFUZZ", secretAccessKey: "fuzz/Secret+Key=7")

    @Test("Every operation the server serves has a generator, and every generator a served operation")
    func everyOperationIsFuzzed() {
        let served = Operations().targets
        #expect(served.filter { FuzzOperation(target: $0) == nil } == [], "The server serves operations the fuzzer has no generator for")
        #expect(FuzzOperation.allCases.map(\.target).filter { !served.contains($0) } == [], "The fuzzer has generators for operations the server does not serve")
    }

    @Test("Invalid requests are refused, never with a 500, and leave the data set as it was")
    func invalidRequestsChangeNothing() async throws {
        let seed = try Self.announceSeed(of: "invalid-only")
        try await Self.withFuzzServer { server, port in
            var fuzzer = Fuzzer(seed: seed, scope: .invalidOnly)
            fuzzer.fixture = try await FuzzFixture.load(into: server, using: &fuzzer)
            let loaded = try await DatabaseSnapshot.take(server.database)
            #expect(loaded.itemCount == 2 * FuzzFixture.itemsPerTable)
            #expect(loaded.streamRecordCount == FuzzFixture.itemsPerTable)
            for table in FuzzFixture.dataTables {
                for index in table.indexes {
                    #expect(loaded.tables[table.name]?.indexEntries[index.name]?.isEmpty == false, "\(table.name).\(index.name) has no entries")
                }
            }
            var run = FuzzRun(server: server, client: EddyClient(port: port, credentials: Self.credentials), seed: seed, phase: "invalid-only")
            var checkedThrough = 0
            while run.sent < Self.invalidRequestCount, !run.shouldStop {
                await run.send(fuzzer.next(), mustFail: true)
                if run.sent % Self.snapshotInterval == 0 {
                    try await Self.expect(&run, toHold: loaded, since: checkedThrough)
                    checkedThrough = run.sent
                }
            }
            if checkedThrough < run.sent {
                try await Self.expect(&run, toHold: loaded, since: checkedThrough)
            }
            await run.finish()
            print(run.summary)
        }
    }

    @Test("Requests valid or not are answered without a 500, errors with well-formed bodies, and failed ones change nothing")
    func mixedRequestsNeverFailInternally() async throws {
        let seed = try Self.announceSeed(of: "mixed")
        try await Self.withFuzzServer { server, port in
            var fuzzer = Fuzzer(seed: seed, scope: .mixed)
            fuzzer.fixture = try await FuzzFixture.load(into: server, using: &fuzzer)
            // The bursts have their own generator, so that the mixed requests a seed makes do not depend on them.
            var bursts = Fuzzer(seed: ~seed, scope: .invalidOnly)
            bursts.fixture = fuzzer.fixture
            var run = FuzzRun(server: server, client: EddyClient(port: port, credentials: Self.credentials), seed: seed, phase: "mixed")
            var latest: DatabaseSnapshot?
            var validWrites = 0
            while run.sent < Self.mixedRequestCount, !run.shouldStop {
                if run.sent % Self.burstInterval == Self.burstInterval / 2 {
                    try await Self.sendBurst(from: &bursts, through: &run, latest: &latest)
                }
                let generated = fuzzer.next()
                let isValidWrite = generated.generator == "valid" && generated.operation.writes
                if isValidWrite { validWrites += 1 }
                if isValidWrite ? validWrites % Self.validWriteCheckInterval == 0 : run.sent % Self.failureCheckInterval == 0 {
                    try await Self.expectNoChange(unlessSucceeds: generated, through: &run, latest: &latest)
                } else {
                    await run.send(generated)
                }
            }
            await run.finish()
            print(run.summary)
            #expect(run.count(of: FuzzRun.success) > run.sent / 10, "Too few requests succeeded for the valid ones to be exercised")
            for operation in Fuzzer.operations {
                #expect(run.successes(of: operation) > 0, "[seed \(run.seedText)] No \(operation.rawValue) succeeded: its generator makes no valid request")
            }
            #expect(run.checkedFailures > 0, "No failed request was checked to change nothing")
            let final = try await DatabaseSnapshot.take(server.database)
            #expect(
                FuzzFixture.dataTables.allSatisfy { final.tables[$0.name] != nil },
                "The data set's tables must survive: only the pool tables are created and deleted")
        }
    }

    /// Runs `body` with a server listening on 127.0.0.1 that checks every HTTP request's signature against
    /// ``credentials``. Its database sweeps no expired items while a test runs: only requests may change
    /// the data, or a failed request could not be checked to change nothing.
    private static func withFuzzServer(_ body: (EddyServer, Int) async throws -> Void) async throws {
        try await withListeningServer(
            Database.Configuration(timeToLiveSweepInterval: .seconds(86_400)),
            credentials: [credentials.accessKeyId: credentials.secretAccessKey], body)
    }

    /// The seed of this run, printed for `phase` with how to replay it.
    ///
    /// - Throws: if `EDDY_FUZZ_SEED` is set to no number.
    private static func announceSeed(of phase: String) throws -> UInt64 {
        let seed = try #require(Self.seed, "EDDY_FUZZ_SEED must be a decimal or 0x hexadecimal number")
        let text = FuzzRun.hexadecimal(seed)
        print("Fuzz \(phase): seed \(text); replay with EDDY_FUZZ_SEED=\(text) swift test --filter FuzzTests")
        return seed
    }

    /// Expects the database of `run`'s server to hold `expected` once the requests `run` sent since request
    /// number `checkedThrough` are answered.
    private static func expect(_ run: inout FuzzRun, toHold expected: DatabaseSnapshot, since checkedThrough: Int) async throws {
        await run.flush()
        let now = try await DatabaseSnapshot.take(run.server.database)
        #expect(
            now == expected,
            "[seed \(run.seedText)] the data set changed between requests #\(checkedThrough + 1) and #\(run.sent): \(now.differences(from: expected))")
    }

    /// Sends `generated` through `run` between two snapshots, and if it fails, expects the snapshots to be
    /// equal: a request that fails changes nothing. The snapshots read each table's latest stream (the only
    /// ones a request writes to), past the records `latest`, the last snapshot taken, holds; it becomes the
    /// second snapshot.
    private static func expectNoChange(
        unlessSucceeds generated: Fuzzer.Case, through run: inout FuzzRun, latest: inout DatabaseSnapshot?
    ) async throws {
        await run.flush()
        let before = try await DatabaseSnapshot.settled(run.server.database, streams: .latest(since: latest))
        latest = before
        guard await run.sendDirectly(generated) != FuzzRun.success else { return }
        run.checkedFailures += 1
        let after = try await DatabaseSnapshot.take(run.server.database, streams: .latest(since: before))
        latest = after
        if after != before {
            run.fail(generated, "failed, yet changed the data set: \(after.differences(from: before))")
        }
    }

    /// Sends ``burstSize`` requests of `fuzzer` (whose scope is invalid requests only) through `run`, and
    /// expects each to fail and the data set to be as before them. The snapshots are taken as
    /// ``expectNoChange(unlessSucceeds:through:latest:)`` takes them.
    private static func sendBurst(from fuzzer: inout Fuzzer, through run: inout FuzzRun, latest: inout DatabaseSnapshot?) async throws {
        await run.flush()
        let before = try await DatabaseSnapshot.settled(run.server.database, streams: .latest(since: latest))
        let first = run.sent + 1
        for _ in 0..<Self.burstSize where !run.shouldStop {
            await run.send(fuzzer.next(), mustFail: true)
        }
        await run.flush()
        let after = try await DatabaseSnapshot.take(run.server.database, streams: .latest(since: before))
        latest = after
        #expect(
            after == before,
            "[seed \(run.seedText)] the data set changed during the invalid requests #\(first) to #\(run.sent): \(after.differences(from: before))")
    }
}

/// Sends fuzzed requests to a server and checks every answer, counting the outcomes. One request in
/// ``httpInterval`` whose target can be an HTTP header goes over HTTP, signed, ``httpBatchSize`` of them
/// pipelined on one connection; one of those in ``wrongSignatureInterval`` is signed with a wrong secret key,
/// and must be refused for it. The others go through ``EddyServer/handle(target:body:)``.
struct FuzzRun {
    /// The outcome of a request answered without an error.
    static let success = "OK"
    /// After this many failures a run stops: the first ones say what is wrong.
    static let maximumFailures = 10
    /// One request in this many goes over HTTP (if its target can): about 6 % of them.
    static let httpInterval = 16
    /// How many HTTP requests are sent at once, pipelined: a loaded machine takes milliseconds to answer one
    /// over loopback, and it answers several in little more.
    static let httpBatchSize = 8
    /// One HTTP request in this many is signed with a wrong secret key.
    static let wrongSignatureInterval = 10

    /// A request waiting to go over HTTP with the next ones.
    private struct Queued {
        var generated: Fuzzer.Case
        /// The request's number in the run.
        var number: Int
        var mustFail: Bool
        var wronglySigned: Bool
    }

    let server: EddyServer
    let client: EddyClient
    let seed: UInt64
    let phase: String
    private(set) var sent = 0
    private(set) var failures = 0
    /// How many failed requests were checked to change nothing.
    var checkedFailures = 0
    private var sentOverHTTP = 0
    private var queued: [Queued] = []
    private var outcomes: [String: Int] = [:]
    private var generators: [String: Int] = [:]
    private var successesByTarget: [String: Int] = [:]
    private let start = ContinuousClock.now

    init(server: EddyServer, client: EddyClient, seed: UInt64, phase: String) {
        self.server = server
        self.client = client
        self.seed = seed
        self.phase = phase
    }

    /// Whether the run has failed often enough to stop.
    var shouldStop: Bool { failures >= Self.maximumFailures }

    /// The seed in hexadecimal, as `EDDY_FUZZ_SEED` takes it.
    var seedText: String { Self.hexadecimal(seed) }

    /// `seed` in hexadecimal, as `EDDY_FUZZ_SEED` takes it.
    static func hexadecimal(_ seed: UInt64) -> String { "0x" + String(seed, radix: 16, uppercase: true) }

    /// How many requests ended with `outcome`: ``success`` or an error type.
    func count(of outcome: String) -> Int { outcomes[outcome, default: 0] }

    /// How many requests to `operation` succeeded.
    func successes(of operation: FuzzOperation) -> Int { successesByTarget[operation.target, default: 0] }

    /// Sends `generated`, or queues it to go over HTTP with the next ones, and checks the answer (see
    /// ``sendDirectly(_:)``); if `mustFail` (it is invalid by construction), it fails if it succeeds.
    mutating func send(_ generated: Fuzzer.Case, mustFail: Bool = false) async {
        guard (sent + 1) % Self.httpInterval == 0, Self.isHeaderValue(generated.request.target) else {
            let outcome = await sendDirectly(generated)
            if mustFail, outcome == Self.success { fail(generated, "succeeded, but it is invalid by construction") }
            return
        }
        sent += 1
        sentOverHTTP += 1
        queued.append(Queued(generated: generated, number: sent, mustFail: mustFail, wronglySigned: sentOverHTTP % Self.wrongSignatureInterval == 0))
        if queued.count == Self.httpBatchSize { await flush() }
    }

    /// Sends `generated` through ``EddyServer/handle(target:body:)`` and checks the answer: never a status of
    /// 500 or more, an error body that is JSON with the error's `__type` and its `message`; an unknown target
    /// must be refused for being unknown. Returns the outcome: ``success`` or the error type.
    mutating func sendDirectly(_ generated: Fuzzer.Case) async -> String {
        sent += 1
        let outcome: String
        switch await server.handle(target: generated.request.target, body: generated.request.body) {
        case .success:
            outcome = Self.success
        case .failure(let error):
            outcome = error.type
            check(status: error.status, body: error.body, type: error.type, of: generated, number: sent)
        }
        count(outcome, of: generated, number: sent, expected: nil)
        return outcome
    }

    /// Sends the requests queued for HTTP, pipelined, and checks each answer as ``sendDirectly(_:)`` does,
    /// and its headers and that a success's body is a JSON object too (parsing every success's would cost
    /// more than the rest of its check); a wrongly signed one must be refused for its signature.
    mutating func flush() async {
        guard !queued.isEmpty else { return }
        let batch = queued
        queued = []
        let requests = batch.map { queued in
            EddyClient.Request.target(
                queued.generated.request.target, body: queued.generated.request.body,
                credentials: queued.wronglySigned ? SigV4Credentials(accessKeyId: client.credentials.accessKeyId, secretAccessKey: "not-" + client.credentials.secretAccessKey) : nil)
        }
        for (queued, answer) in zip(batch, await client.send(requests)) {
            let outcome = check(answer, of: queued.generated, number: queued.number)
            count(outcome, of: queued.generated, number: queued.number, expected: queued.wronglySigned ? "InvalidSignatureException" : nil)
            if queued.mustFail, outcome == Self.success {
                fail(queued.generated, "succeeded over HTTP, but it is invalid by construction", number: queued.number)
            }
        }
    }

    /// Answers the requests still queued, and closes the HTTP connection.
    mutating func finish() async {
        await flush()
        await client.close()
    }

    /// Counts `outcome`, which must be `expected` if not nil, and for an unknown target an
    /// `UnknownOperationException`.
    private mutating func count(_ outcome: String, of generated: Fuzzer.Case, number: Int, expected: String?) {
        generators[generated.generator, default: 0] += 1
        outcomes[outcome, default: 0] += 1
        if outcome == Self.success, let target = generated.request.target { successesByTarget[target, default: 0] += 1 }
        if let expected = expected ?? (generated.generator == "unknownTarget" ? "UnknownOperationException" : nil), outcome != expected {
            fail(generated, "answered \(outcome), not \(expected)", number: number)
        }
    }

    /// Whether `target` can be sent as the `X-Amz-Target` header: absent, or printable ASCII without spaces
    /// (HTTP would trim spaces at the ends, turning a misspelled target into a served one).
    private static func isHeaderValue(_ target: String?) -> Bool {
        target?.utf8.allSatisfy { (0x21...0x7E).contains($0) } ?? true
    }

    /// Checks the HTTP answer to `generated` and returns its outcome: ``success``, the error type, or what
    /// went wrong.
    private mutating func check(_ result: Result<EddyClient.Response, EddyClient.ClientError>, of generated: Fuzzer.Case, number: Int) -> String {
        let answer: EddyClient.Response
        switch result {
        case .success(let received):
            answer = received
        case .failure(let error):
            fail(generated, "got no answer over HTTP: \(error)", number: number)
            return "no answer"
        }
        checkHeaders(answer, of: generated, number: number)
        if answer.status == 200 {
            checkSuccess(answer.body, of: generated, number: number)
            return Self.success
        }
        let type = (jsonObject(answer.body)?["__type"] as? String)?.split(separator: "#").last.map(String.init) ?? "HTTP \(answer.status)"
        check(status: answer.status, body: answer.body, type: type, of: generated, number: number)
        return type
    }

    /// Fails unless `answer` has the headers DynamoDB sends: its content type, a request id of 52 upper-case
    /// letters and digits, and the body's CRC-32.
    private mutating func checkHeaders(_ answer: EddyClient.Response, of generated: Fuzzer.Case, number: Int) {
        let requestId = answer.header("x-amzn-RequestId") ?? ""
        if requestId.utf8.count != 52 || !requestId.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) }) {
            fail(generated, "answered over HTTP with the request id '\(requestId)'", number: number)
        }
        if answer.header("Content-Type") != "application/x-amz-json-1.0" {
            fail(generated, "answered over HTTP with the content type '\(answer.header("Content-Type") ?? "")'", number: number)
        }
        if answer.header("x-amz-crc32") != String(CRC32.checksum(answer.body)) {
            fail(generated, "answered over HTTP with a CRC-32 of '\(answer.header("x-amz-crc32") ?? "")' for a body of \(CRC32.checksum(answer.body))", number: number)
        }
    }

    /// Fails unless a success's `body` is a JSON object.
    private mutating func checkSuccess(_ body: [UInt8], of generated: Fuzzer.Case, number: Int) {
        if jsonObject(body) == nil {
            fail(generated, "succeeded with a body that is not a JSON object: \(printable(body.prefix(300)))", number: number)
        }
    }

    /// Fails unless an error of `type` has a 4xx `status` and a JSON `body` with its `__type` and a `message`.
    private mutating func check(status: Int, body bytes: [UInt8], type: String, of generated: Fuzzer.Case, number: Int) {
        guard (400..<500).contains(status) else {
            fail(generated, "answered \(status) \(type): \(printable(bytes.prefix(300)))", number: number)
            return
        }
        guard let body = jsonObject(bytes) else {
            fail(generated, "answered \(type) with a body that is not a JSON object: \(printable(bytes.prefix(300)))", number: number)
            return
        }
        guard let qualified = body["__type"] as? String, qualified.hasSuffix("#" + type), body["message"] is String else {
            fail(generated, "answered \(type) with a body lacking __type or message: \(printable(bytes.prefix(300)))", number: number)
            return
        }
    }

    /// Records a failure of request `number` (the last one sent when nil), `generated`, with what replays
    /// it: the seed, the request's number, its target, and the first 300 bytes of its body.
    mutating func fail(_ generated: Fuzzer.Case, _ problem: String, number: Int? = nil) {
        failures += 1
        let request = generated.request
        Issue.record(
            """
            [seed \(seedText), \(phase) request #\(number ?? sent)] \(request.target ?? "no target") (\(generated.label)): \(problem). \
            Body (first 300 of \(request.body.count) bytes): \(printable(request.body.prefix(300)))
            """)
    }

    /// The counts: requests sent by generator and over HTTP, outcomes by type, successes by operation, and
    /// the time taken.
    var summary: String {
        let elapsed = (ContinuousClock.now - start).components
        let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
        func list(_ counts: [String: Int]) -> String {
            counts.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        }
        let succeeded = successesByTarget.reduce(into: [:]) { $0[String($1.key.split(separator: ".").last ?? ""), default: 0] += $1.value }
        let checked = checkedFailures > 0 ? ", \(checkedFailures) failed ones checked to change nothing" : ""
        return """
            Fuzz \(phase) (seed \(seedText)): \(sent) requests in \(String(format: "%.1f", seconds)) s, \(sentOverHTTP) over HTTP\(checked). \
            Generated: \(list(generators)). Outcomes: \(list(outcomes)). Succeeded: \(list(succeeded)).
            """
    }
}

extension DatabaseSnapshot {
    /// What differs from `other`: the tables created or deleted, what changed in the others (items, index
    /// entries, Time to Live, tags, other settings), and the streams whose records differ.
    func differences(from other: DatabaseSnapshot) -> String {
        let tableNames = Set(tables.keys).union(other.tables.keys).sorted()
        let changedTables = tableNames.filter { tables[$0] != other.tables[$0] }.map { name in
            guard let now = tables[name], let then = other.tables[name] else { return "\(name) (\(tables[name] == nil ? "deleted" : "created"))" }
            var changes: [String] = []
            if now.items != then.items { changes.append("items \(then.items.count) → \(now.items.count)") }
            if now.indexEntries != then.indexEntries { changes.append("index entries") }
            if now.timeToLive != then.timeToLive { changes.append("Time to Live") }
            if now.tags != then.tags { changes.append("tags") }
            var settings = now
            settings.items = then.items
            settings.indexEntries = then.indexEntries
            settings.timeToLive = then.timeToLive
            settings.tags = then.tags
            if settings != then { changes.append("schema or settings") }
            return "\(name) (\(changes.joined(separator: ", ")))"
        }
        let changedStreams = Set(streams.keys).union(other.streams.keys).sorted().filter { streams[$0] != other.streams[$0] }
        return "tables changed: \(changedTables); streams changed: \(changedStreams); stream records \(other.streamRecordCount) → \(streamRecordCount)"
    }
}
