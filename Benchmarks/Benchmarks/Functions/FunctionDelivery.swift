import Benchmark
import BenchmarkSupport
import Eddy
import EddyFunctions
import Foundation

// How soon a committed change reaches a Lambda function run as a local process, next to an in-process
// handler in the same run.
//
// A `TriggerRuntime` runs, for the whole benchmark, one mapping (LATEST, BatchSize 1, no batching window) from
// the table's NEW_AND_OLD_IMAGES stream to the target:
//
//     FunctionDelivery.Handler   an in-process handler (`TriggerRuntime.register`), the baseline
//     FunctionDelivery.Python    a Python function (`python3 -m awslambdaric`), mapped by
//                                `EventSourceMappings.create` as Lambda's API maps it
//
// One iteration is one PutItem of a new item; the writer waits until the target has been called with that
// item's record, then lets the invocation end (``settleTime``) before the next iteration, so that each change
// meets an idle mapping and an idle function, and each sample is the latency of one change alone. Three
// monotonic timestamps per change, as `TriggerDelivery.PutItem` takes them:
//
//     start      just before `putItem` is called
//     committed  just after `putItem` returns (the change is committed and acknowledged)
//     called     the first thing the target does when it is called with the change's record: the handler
//                reads `monotonicNanoseconds()`; the Python function reads
//                `time.clock_gettime_ns(time.CLOCK_MONOTONIC)`, the same clock (CLOCK_MONOTONIC, which
//                libdispatch's uptime reads on Linux), and sends it to the benchmark over UDP
//
// and three metrics, one sample each per iteration:
//
//     Commit to call (ns)        called - committed (0 if the target was called before `putItem` returned)
//     Put start to call (ns)     called - start
//     PutItem (ns)               committed - start
//
// The writer and the runtime run on ``CoreExecutor`` (one thread per core).

/// How long the writer waits after a change's call before the next change: the rest of the invocation (the
/// function's response, the runtime's checkpoint, the function polling for its next invocation) ends well
/// within it, so the next change finds the function idle and no sample waits behind the one before.
let settleTime = Duration.milliseconds(2)

/// Registers `FunctionDelivery.Handler` and `FunctionDelivery.Python`.
func registerFunctionDeliveryBenchmarks() {
    for target in [DeliveryTarget.handler, .python] {
        let afterCommit = BenchmarkMetric.custom("Commit to call (ns)", polarity: .prefersSmaller, useScalingFactor: false)
        let afterStart = BenchmarkMetric.custom("Put start to call (ns)", polarity: .prefersSmaller, useScalingFactor: false)
        let put = BenchmarkMetric.custom("PutItem (ns)", polarity: .prefersSmaller, useScalingFactor: false)
        let configuration = Benchmark.Configuration(
            metrics: [afterCommit, afterStart, put],
            warmupIterations: 200,
            scalingFactor: .one,
            maxDuration: .seconds(120),
            maxIterations: 5_000
        )
        let box = Box<FunctionDeliveryFixture>()
        Benchmark("FunctionDelivery.\(target.name)", configuration: configuration) { benchmark in
            let fixture = box.value!
            let db: Database = fixture.db
            let (input, id) = fixture.nextPut()
            try await withTaskExecutorPreference(CoreExecutor.shared) {
                let start = monotonicNanoseconds()
                try await db.putItem(input)
                let committed = monotonicNanoseconds()
                guard let delivery = await fixture.nextDelivery() else { fatalError("the trigger runtime stopped") }
                guard delivery.id == id else { fatalError("the \(target.name) target received \(delivery.id), not \(id)") }
                benchmark.measurement(afterCommit, max(0, Int(delivery.nanoseconds) - Int(committed)))
                benchmark.measurement(afterStart, Int(delivery.nanoseconds - start))
                benchmark.measurement(put, Int(committed - start))
                try await Task.sleep(for: settleTime)
            }
        } setup: {
            box.value = try await FunctionDeliveryFixture(target: target)
        } teardown: {
            await box.take()?.close()
        }
    }
}

/// What a delivery benchmark's mapping calls.
enum DeliveryTarget {
    /// An in-process handler.
    case handler
    /// A Python function.
    case python

    /// The benchmark's name after `FunctionDelivery.`.
    var name: String {
        switch self {
        case .handler: "Handler"
        case .python: "Python"
        }
    }
}

/// An Eddy database whose table has a NEW_AND_OLD_IMAGES stream, and a trigger runtime running one mapping
/// of it (LATEST, BatchSize 1, no batching window) to a target that passes each record's call on.
final class FunctionDeliveryFixture: @unchecked Sendable {
    let directory = TemporaryDirectory()
    private(set) var db: Database!
    private var runtime: TriggerRuntime?
    private var running: Task<Void, Never>?
    private var functions: BenchmarkFunctions?
    private var listener: DatagramListener?
    private var deliveries: AsyncStream<Delivery>.Iterator
    private let continuation: AsyncStream<Delivery>.Continuation
    private var nextItem = 0

    /// Opens the database, creates the function (for `.python`), registers the mapping and starts the runtime.
    init(target: DeliveryTarget) async throws {
        let db = try await EddyFixture.openDatabase(at: directory.path, streamViewType: .newAndOldImages)
        self.db = db
        let (stream, continuation) = AsyncStream.makeStream(of: Delivery.self)
        deliveries = stream.makeAsyncIterator()
        self.continuation = continuation
        let streamArn = try await EddyFixture.streamArn(of: db)
        let runtime = TriggerRuntime(database: db)
        switch target {
        case .handler:
            var settings = TriggerMappingConfiguration(eventSourceArn: streamArn, startingPosition: .latest)
            settings.batchSize = 1
            settings.maximumBatchingWindowInSeconds = 0
            try await runtime.register(name: "delivery", configuration: settings) { event in
                let called = monotonicNanoseconds()
                guard event.records.count == 1, case .s(let id)? = event.records[0].dynamodb.keys["id"],
                    event.records[0].dynamodb.newImage != nil
                else { fatalError("a batch that is not one record with the item's id and new image") }
                continuation.yield(Delivery(id: id, nanoseconds: called))
            }
        case .python:
            let listener = DatagramListener { report in
                let fields = report.split(separator: " ")
                guard fields.count == 2, let called = UInt64(fields[1]) else {
                    fatalError("the function reported \(report), not one record with the item's id and new image")
                }
                continuation.yield(Delivery(id: String(fields[0]), nanoseconds: called))
            }
            self.listener = listener
            let functions = try BenchmarkFunctions()
            self.functions = functions
            try await functions.createPython("delivery", code: BenchmarkFunctions.pythonDelivery, port: listener.port)
            var request = EventSourceMappingRequest(functionName: "delivery", eventSourceArn: streamArn, startingPosition: "LATEST")
            request.batchSize = 1
            request.maximumBatchingWindowInSeconds = 0
            _ = try await EventSourceMappings(runtime: runtime, functions: functions.functions).create(request)
        }
        self.runtime = runtime
        running = Task(executorPreference: CoreExecutor.shared) { await runtime.run() }
    }

    /// The PutItem request of the next new item, and the item's id.
    func nextPut() -> (PutItemInput, String) {
        defer { nextItem += 1 }
        return (PutItemInput(tableName: EddyLayout.tableName, item: EddyLayout.item(nextItem)), EddyLayout.itemId(nextItem))
    }

    /// The next record's call.
    func nextDelivery() async -> Delivery? {
        await deliveries.next()
    }

    /// Stops the runtime and the function's environments, closes the database and deletes the directories.
    func close() async {
        running?.cancel()
        await running?.value
        running = nil
        functions?.close()
        functions = nil
        listener?.close()
        listener = nil
        continuation.finish()
        runtime = nil
        db = nil  // the last reference: the Database closes here
        directory.remove()
    }
}
