import Benchmark
import BenchmarkSupport
import Eddy
import Foundation

// How soon a committed change reaches a trigger handler.
//
// A `TriggerRuntime` runs one mapping (LATEST, BatchSize 1, no batching window) from the table's
// NEW_AND_OLD_IMAGES stream to a handler for the whole benchmark. One iteration is one PutItem of a new item;
// the writer then waits until the handler has been called with that item's record before the next iteration,
// so no change ever queues behind another and each sample is the latency of one change alone. Three monotonic
// timestamps per change, as `StreamDelivery.PutItem` takes them:
//
//     start      just before `putItem` is called
//     committed  just after `putItem` returns (the change is committed and acknowledged)
//     delivered  in the handler, as soon as it is called with the change's record
//
// and three metrics, one sample each per iteration:
//
//     Commit to handler (ns)        delivered - committed (0 if the handler ran before `putItem` returned)
//     Put start to handler (ns)     delivered - start
//     PutItem (ns)                  committed - start
//
// The writer and the runtime run on ``CoreExecutor`` (one thread per core).

/// Registers `TriggerDelivery.PutItem`.
func registerTriggerDeliveryBenchmark() {
    let afterCommit = BenchmarkMetric.custom("Commit to handler (ns)", polarity: .prefersSmaller, useScalingFactor: false)
    let afterStart = BenchmarkMetric.custom("Put start to handler (ns)", polarity: .prefersSmaller, useScalingFactor: false)
    let put = BenchmarkMetric.custom("PutItem (ns)", polarity: .prefersSmaller, useScalingFactor: false)
    let configuration = Benchmark.Configuration(
        metrics: [afterCommit, afterStart, put],
        warmupIterations: 1_000,
        scalingFactor: .one,
        maxDuration: .seconds(120),
        maxIterations: 20_000
    )
    let box = Box<TriggerDeliveryFixture>()
    Benchmark("TriggerDelivery.PutItem", configuration: configuration) { benchmark in
        let fixture = box.value!
        let db: Database = fixture.db
        let (input, id) = fixture.nextPut()
        try await withTaskExecutorPreference(CoreExecutor.shared) {
            let start = monotonicNanoseconds()
            try await db.putItem(input)
            let committed = monotonicNanoseconds()
            guard let delivery = await fixture.nextDelivery() else { fatalError("the trigger runtime stopped") }
            guard delivery.id == id else { fatalError("the handler received \(delivery.id), not \(id)") }
            benchmark.measurement(afterCommit, max(0, Int(delivery.nanoseconds) - Int(committed)))
            benchmark.measurement(afterStart, Int(delivery.nanoseconds - start))
            benchmark.measurement(put, Int(committed - start))
        }
    } setup: {
        box.value = try await TriggerDeliveryFixture()
    } teardown: {
        await box.take()?.close()
    }
}

/// An Eddy database whose table has a NEW_AND_OLD_IMAGES stream, and a trigger runtime running one mapping
/// of it (LATEST, BatchSize 1, no batching window) whose handler passes each record's arrival on.
final class TriggerDeliveryFixture: @unchecked Sendable {
    let directory = TemporaryDirectory()
    private(set) var db: Database!
    private var runtime: TriggerRuntime?
    private var running: Task<Void, Never>?
    private var deliveries: AsyncStream<Delivery>.Iterator
    private let continuation: AsyncStream<Delivery>.Continuation
    private var nextItem = 0

    /// Opens the database, registers the mapping and starts the runtime.
    init() async throws {
        let db = try await EddyFixture.openDatabase(at: directory.path, streamViewType: .newAndOldImages)
        self.db = db
        let (stream, continuation) = AsyncStream.makeStream(of: Delivery.self)
        deliveries = stream.makeAsyncIterator()
        self.continuation = continuation
        var settings = TriggerMappingConfiguration(eventSourceArn: try await EddyFixture.streamArn(of: db), startingPosition: .latest)
        settings.batchSize = 1
        settings.maximumBatchingWindowInSeconds = 0
        let runtime = TriggerRuntime(database: db)
        try await runtime.register(name: "delivery", configuration: settings) { event in
            let arrived = monotonicNanoseconds()
            guard event.records.count == 1, case .s(let id)? = event.records[0].dynamodb.keys["id"],
                event.records[0].dynamodb.newImage != nil
            else { fatalError("a batch that is not one record with the item's id and new image") }
            continuation.yield(Delivery(id: id, nanoseconds: arrived))
        }
        self.runtime = runtime
        running = Task(executorPreference: CoreExecutor.shared) { await runtime.run() }
    }

    /// The PutItem request of the next new item, and the item's id.
    func nextPut() -> (PutItemInput, String) {
        defer { nextItem += 1 }
        return (PutItemInput(tableName: EddyLayout.tableName, item: EddyLayout.item(nextItem)), EddyLayout.itemId(nextItem))
    }

    /// The next record's arrival at the handler.
    func nextDelivery() async -> Delivery? {
        await deliveries.next()
    }

    /// Stops the runtime, closes the database and deletes the directory.
    func close() async {
        running?.cancel()
        await running?.value
        running = nil
        continuation.finish()
        runtime = nil
        db = nil  // the last reference: the Database closes here
        directory.remove()
    }
}
