import Benchmark
import BenchmarkSupport
import Eddy
import EddyFunctions
import Foundation
import Synchronization

// How fast a new mapping drains a stream written beforehand into a Lambda function run as local processes,
// next to an in-process handler draining the same stream in the same run.
//
// The setup writes the stream (untimed), as `TriggerDrain` does: ``drainRecordCount`` new 100-byte items,
// BatchWriteItem of 25 per call from 8 concurrent tasks, into a table with a NEW_AND_OLD_IMAGES stream of
// Eddy's default four shards. Each iteration creates a fresh `TriggerRuntime`, creates a new mapping (no
// checkpoints: TRIM_HORIZON, the whole stream; BatchSize 1000, no batching window) and runs it; the time is
// from just before the mapping's creation to the moment the target has been called with every record.
// "Records (# / s)" is the stream's records over that time.
//
//     FunctionDrain.Handler   an in-process handler (`TriggerRuntime.register`) that only counts the records,
//                             the baseline
//     FunctionDrain.Python    `EventSourceMappings.create` to a Python function that only sends the benchmark
//                             the number of records of its batch (one datagram per batch)
//     FunctionDrain.Swift     the same to a Swift function on EddyLambdaRuntime (`DrainFunction`), which decodes
//                             each event as a `TriggerEvent` and sends the number of its records
//
// The mapping has one batch in flight per shard, so the function runs in up to four environments at once. The
// function's environments live as long as the benchmark: the warm-up iteration starts them, and the timed
// iterations find them warm. After the runtime has stopped (and every report has been received), the count
// must be exactly the stream's records: each record delivered once, none twice. The function's mapping is
// then deleted, so that the next iteration can create a new one.

/// The records of the stream each drain benchmark drains.
let drainRecordCount = 200_000

/// Writers of the untimed stream fills.
let fillClientCount = 8

/// Registers `FunctionDrain.Handler`, `FunctionDrain.Python` and `FunctionDrain.Swift`.
func registerFunctionDrainBenchmarks() {
    let recordsPerSecond = BenchmarkMetric.custom("Records (# / s)", polarity: .prefersLarger, useScalingFactor: false)
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, recordsPerSecond],
        warmupIterations: 1,
        scalingFactor: .one,
        maxDuration: .seconds(120),
        maxIterations: 3
    )
    for target in [DrainTarget.handler, .python, .swift] {
        let box = Box<FunctionDrainFixture>()
        Benchmark("FunctionDrain.\(target.name)", configuration: configuration) { benchmark in
            let fixture = box.value!
            fixture.count.reset()
            let runtime = TriggerRuntime(database: fixture.db)
            benchmark.startMeasurement()
            let start = monotonicNanoseconds()
            let mapping = try await fixture.createMapping(in: runtime)
            let running = Task(executorPreference: CoreExecutor.shared) { await runtime.run() }
            await fixture.count.waitForAll()
            let elapsed = monotonicNanoseconds() - start
            benchmark.stopMeasurement()
            running.cancel()
            await running.value
            let count = fixture.countAfterStop()
            guard count == drainRecordCount else {
                fatalError("the \(target.name) target was called with \(count) records, not \(drainRecordCount)")
            }
            try await fixture.deleteMapping(mapping, in: runtime)
            benchmark.measurement(recordsPerSecond, Int(Double(count) * 1e9 / Double(elapsed)))
        } setup: {
            box.value = try await FunctionDrainFixture(target: target)
        } teardown: {
            box.take()?.close()
        }
    }
}

/// What a drain benchmark's mapping calls.
enum DrainTarget {
    /// An in-process handler.
    case handler
    /// A Python function.
    case python
    /// A Swift function on EddyLambdaRuntime.
    case swift

    /// The benchmark's name after `FunctionDrain.`.
    var name: String {
        switch self {
        case .handler: "Handler"
        case .python: "Python"
        case .swift: "Swift"
        }
    }
}

/// The records a drain's target has been called with, and a wait for the whole stream.
final class RecordCount: Sendable {
    private struct State {
        var count = 0
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    /// Starts a new drain: no records yet.
    func reset() {
        state.withLock { $0 = State() }
    }

    /// Counts `records` more records.
    func add(_ records: Int) {
        let drained = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.count += records
            guard state.count >= drainRecordCount else { return nil }
            defer { state.waiter = nil }
            return state.waiter
        }
        drained?.resume()
    }

    /// Returns once the target has been called with ``drainRecordCount`` records.
    func waitForAll() async {
        await withCheckedContinuation { continuation in
            let drained = state.withLock { state in
                if state.count < drainRecordCount { state.waiter = continuation }
                return state.count >= drainRecordCount
            }
            if drained { continuation.resume() }
        }
    }

    /// The records counted so far.
    var value: Int {
        state.withLock { $0.count }
    }
}

/// An Eddy database whose table's NEW_AND_OLD_IMAGES stream holds ``drainRecordCount`` records, and for a
/// function target, the function and the listener its reports come to.
final class FunctionDrainFixture: @unchecked Sendable {
    let directory = TemporaryDirectory()
    private(set) var db: Database!
    let streamArn: String
    let target: DrainTarget
    let count = RecordCount()
    private var functions: BenchmarkFunctions?
    private var listener: DatagramListener?
    private var mappings = 0

    /// The name of the function of a function target.
    static let functionName = "drain"

    /// Opens the database and fills the stream; creates the function of a function target.
    init(target: DrainTarget) async throws {
        self.target = target
        let db = try await EddyFixture.openDatabase(at: directory.path, streamViewType: .newAndOldImages)
        self.db = db
        streamArn = try await EddyFixture.streamArn(of: db)
        try await EddyFixture.fillStream(of: db, records: drainRecordCount, clients: fillClientCount)
        guard target != .handler else { return }
        let count = self.count
        let listener = DatagramListener { report in
            guard let records = Int(report) else { fatalError("the function reported \(report), not a record count") }
            count.add(records)
        }
        self.listener = listener
        let functions = try BenchmarkFunctions()
        self.functions = functions
        if target == .python {
            try await functions.createPython(Self.functionName, code: BenchmarkFunctions.pythonDrain, port: listener.port)
        } else {
            try await functions.createSwiftDrain(Self.functionName, port: listener.port)
        }
    }

    /// Creates a new mapping of the whole stream (TRIM_HORIZON, BatchSize 1000, no batching window) to the
    /// target in `runtime`; returns its name (for a function, its UUID).
    func createMapping(in runtime: TriggerRuntime) async throws -> String {
        switch target {
        case .handler:
            defer { mappings += 1 }
            var settings = TriggerMappingConfiguration(eventSourceArn: streamArn, startingPosition: .trimHorizon)
            settings.batchSize = 1_000
            settings.maximumBatchingWindowInSeconds = 0
            let count = self.count
            return try await runtime.register(name: "drain-\(mappings)", configuration: settings) { event in
                count.add(event.records.count)
            }.name
        case .python, .swift:
            var request = EventSourceMappingRequest(functionName: Self.functionName, eventSourceArn: streamArn, startingPosition: "TRIM_HORIZON")
            request.batchSize = 1_000
            request.maximumBatchingWindowInSeconds = 0
            return try await EventSourceMappings(runtime: runtime, functions: functions!.functions).create(request).uuid
        }
    }

    /// The records counted once the runtime has stopped: a function's reports sent before its invocations
    /// ended are all in.
    func countAfterStop() -> Int {
        listener?.fence()
        return count.value
    }

    /// Deletes a function's mapping, which Lambda's API allows only once per stream and function.
    func deleteMapping(_ uuid: String, in runtime: TriggerRuntime) async throws {
        guard target != .handler else { return }
        _ = try await EventSourceMappings(runtime: runtime, functions: functions!.functions).delete(uuid)
    }

    /// Stops the function's environments, closes the database and deletes the directories.
    func close() {
        functions?.close()
        functions = nil
        listener?.close()
        listener = nil
        db = nil  // the last reference: the Database and its RocksDB close here
        directory.remove()
    }
}
