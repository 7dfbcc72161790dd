import Benchmark
import BenchmarkSupport
import Eddy
import Foundation

// How soon a committed change reaches a reader of `Database.streamChanges(tableName:from:)`.
//
// A reader task iterates `streamChanges(tableName:from: .latest)` of a table with a NEW_AND_OLD_IMAGES
// stream for the whole benchmark. One iteration is one PutItem of a new item; the writer then waits until the
// reader has received that item's record before the next iteration, so no change ever queues behind another
// and each sample is the latency of one change alone. Three monotonic timestamps per change:
//
//     start      just before `putItem` is called
//     committed  just after `putItem` returns (the change is committed and acknowledged)
//     delivered  in the reader, as soon as the sequence's `next()` returns the change's record
//
// and three metrics, one sample each per iteration (the benchmark's percentiles are over the samples):
//
//     Commit to delivery (ns)       delivered - committed
//     Put start to delivery (ns)    delivered - start
//     PutItem (ns)                  committed - start
//
// The committer publishes a group and wakes the readers before it resumes the group's writers, so a record
// can reach the reader before its `putItem` has returned; such a sample counts as 0 in "Commit to delivery"
// (the benchmark tool would drop a negative value). "Put start to delivery" is never negative.
//
// The writer and the reader run on ``CoreExecutor`` (one thread per core), as an application's tasks would on
// an executor of their own: the benchmark runner holds one of the two threads of the global executor.

/// Registers `StreamDelivery.PutItem`.
func registerDeliveryBenchmark() {
    let afterCommit = BenchmarkMetric.custom("Commit to delivery (ns)", polarity: .prefersSmaller, useScalingFactor: false)
    let afterStart = BenchmarkMetric.custom("Put start to delivery (ns)", polarity: .prefersSmaller, useScalingFactor: false)
    let put = BenchmarkMetric.custom("PutItem (ns)", polarity: .prefersSmaller, useScalingFactor: false)
    let configuration = Benchmark.Configuration(
        metrics: [afterCommit, afterStart, put],
        warmupIterations: 1_000,
        scalingFactor: .one,
        maxDuration: .seconds(120),
        maxIterations: 20_000
    )
    let box = Box<DeliveryFixture>()
    Benchmark("StreamDelivery.PutItem", configuration: configuration) { benchmark in
        let fixture = box.value!
        let db: Database = fixture.db
        let (input, id) = fixture.nextPut()
        try await withTaskExecutorPreference(CoreExecutor.shared) {
            let start = monotonicNanoseconds()
            try await db.putItem(input)
            let committed = monotonicNanoseconds()
            guard let delivery = await fixture.nextDelivery() else { fatalError("the stream reader stopped") }
            guard delivery.id == id else { fatalError("the reader received \(delivery.id), not \(id)") }
            benchmark.measurement(afterCommit, max(0, Int(delivery.nanoseconds) - Int(committed)))
            benchmark.measurement(afterStart, Int(delivery.nanoseconds - start))
            benchmark.measurement(put, Int(committed - start))
        }
    } setup: {
        box.value = try await DeliveryFixture()
    } teardown: {
        await box.take()?.close()
    }
}

/// An Eddy database whose table has a NEW_AND_OLD_IMAGES stream, and the task reading its changes.
final class DeliveryFixture: @unchecked Sendable {
    let directory = TemporaryDirectory()
    private(set) var db: Database!
    private var reader: Task<Void, Error>?
    private var deliveries: AsyncStream<Delivery>.Iterator
    private var nextItem = 0

    /// Opens the database and starts the reader, from the end of the (still empty) stream.
    init() async throws {
        db = try await EddyFixture.openDatabase(at: directory.path, streamViewType: .newAndOldImages)
        let (stream, continuation) = AsyncStream.makeStream(of: Delivery.self)
        deliveries = stream.makeAsyncIterator()
        let changes = try db.streamChanges(tableName: EddyLayout.tableName, from: .latest)
        reader = Task(executorPreference: CoreExecutor.shared) {
            defer { continuation.finish() }
            for try await change in changes {
                let arrived = monotonicNanoseconds()
                guard case .s(let id)? = change.record.dynamodb.keys["id"], change.record.dynamodb.newImage != nil else {
                    fatalError("a stream record without the item's id or new image")
                }
                continuation.yield(Delivery(id: id, nanoseconds: arrived))
            }
        }
    }

    /// The PutItem request of the next new item, and the item's id.
    func nextPut() -> (PutItemInput, String) {
        defer { nextItem += 1 }
        return (PutItemInput(tableName: EddyLayout.tableName, item: EddyLayout.item(nextItem)), EddyLayout.itemId(nextItem))
    }

    /// The next record's arrival; nil if the reader has stopped.
    func nextDelivery() async -> Delivery? {
        await deliveries.next()
    }

    /// Stops the reader, closes the database and deletes the directory.
    func close() async {
        reader?.cancel()
        _ = await reader?.result
        reader = nil
        db = nil  // the last reference (the reader's sequence held one too): the Database closes here
        directory.remove()
    }
}
