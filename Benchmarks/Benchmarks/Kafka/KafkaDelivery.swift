import Benchmark
import BenchmarkSupport
import Eddy
import EddyKafka
import Foundation
import Synchronization

// How soon a committed change reaches a Kafka consumer through the Kafka trigger sink.
//
// For the whole benchmark: a noida-db broker (LocalBroker.swift) with a topic of 3 partitions; an Eddy table with
// a NEW_AND_OLD_IMAGES stream; a `TriggerRuntime` running one `registerKafka` mapping (LATEST, BatchSize
// ``deliveryBatchSize``, no batching window) to a `KafkaSink` with its default settings; and a `KafkaConsumer`
// (a group of its own, subscribed, and assigned its partitions, before any write) whose messages a task takes
// as they come, noting each one's arrival time by its key. Before the first iteration, probe items are written
// until one comes through, so that the mapping's LATEST position is behind every measured write.
//
// One iteration writes ``deliveryWritesPerIteration`` new items with `putItem` from one writer at a steady
// ``deliveryWritesPerSecond`` (the i-th write starts at the iteration's start + i / rate, or as soon as the
// previous one returned if that is later), then waits until the consumer has received all of them. Three
// monotonic timestamps per item, and three metrics, one sample each per item:
//
//     start      just before `putItem` is called
//     committed  just after `putItem` returns (the change is committed and acknowledged)
//     received   as soon as the consumer task has the message (its `next()` returned)
//
//     Commit to consumer (ns)       received - committed (0 if the message came before `putItem` returned)
//     Put start to consumer (ns)    received - start
//     PutItem (ns)                  committed - start
//
// The writer, the runtime and the consumer task run on ``CoreExecutor`` (one thread per core); the sink's
// producer and the consumer each have a polling thread of their own.

/// Writes per iteration of `KafkaDelivery.PutItem`.
let deliveryWritesPerIteration = environmentInt("EDDY_KAFKA_DELIVERY_WRITES") ?? 5_000
/// The writer's steady rate (`EDDY_KAFKA_DELIVERY_RATE` overrides it).
let deliveryWritesPerSecond = environmentInt("EDDY_KAFKA_DELIVERY_RATE") ?? 1_000
/// The delivery mapping's BatchSize (`EDDY_KAFKA_DELIVERY_BATCH_SIZE` overrides it; Lambda's default is 100).
let deliveryBatchSize = environmentInt("EDDY_KAFKA_DELIVERY_BATCH_SIZE") ?? 100

/// Registers `KafkaDelivery.PutItem`.
func registerKafkaDeliveryBenchmark() {
    let afterCommit = BenchmarkMetric.custom("Commit to consumer (ns)", polarity: .prefersSmaller, useScalingFactor: false)
    let afterStart = BenchmarkMetric.custom("Put start to consumer (ns)", polarity: .prefersSmaller, useScalingFactor: false)
    let put = BenchmarkMetric.custom("PutItem (ns)", polarity: .prefersSmaller, useScalingFactor: false)
    let configuration = Benchmark.Configuration(
        metrics: [afterCommit, afterStart, put],
        warmupIterations: 1,
        scalingFactor: .one,
        maxDuration: .seconds(120),
        maxIterations: 1
    )
    let box = Box<KafkaDeliveryFixture>()
    Benchmark("KafkaDelivery.PutItem", configuration: configuration) { benchmark in
        let fixture = box.value!
        let samples = try await fixture.writeAndReceive(count: deliveryWritesPerIteration, perSecond: deliveryWritesPerSecond)
        for sample in samples {
            benchmark.measurement(afterCommit, max(0, Int(sample.received) - Int(sample.committed)))
            benchmark.measurement(afterStart, Int(sample.received - sample.start))
            benchmark.measurement(put, Int(sample.committed - sample.start))
        }
        let sorted = samples.map { max(0, Int($0.received) - Int($0.committed)) }.sorted()
        trace(String(
            format: "KafkaDelivery: commit -> consumer p50 %.0f us, p99 %.0f us, max %.0f us (%d writes at %d/s, BatchSize %d)",
            Double(sorted[sorted.count / 2]) / 1e3, Double(sorted[sorted.count * 99 / 100]) / 1e3, Double(sorted.last!) / 1e3,
            samples.count, deliveryWritesPerSecond, deliveryBatchSize))
    } setup: {
        box.value = try await KafkaDeliveryFixture()
    } teardown: {
        await box.take()?.close()
    }
}

/// When the consumer received each item's message, by item number.
final class Receipts: Sendable {
    private struct State {
        var arrivals: [UInt64]
        var received = 0
        var duplicates = 0
    }
    private let state: Mutex<State>

    init(capacity: Int) {
        state = Mutex(State(arrivals: [UInt64](repeating: 0, count: capacity)))
    }

    /// Notes the arrival of item `item`'s message (the first, if it comes twice).
    func record(_ item: Int, at nanoseconds: UInt64) {
        state.withLock { state in
            precondition(item < state.arrivals.count, "item \(item) beyond the receipts' capacity")
            if state.arrivals[item] == 0 {
                state.arrivals[item] = nanoseconds
                state.received += 1
            } else {
                state.duplicates += 1
            }
        }
    }

    /// The arrival times of items `items`, or nil while one of them has not arrived.
    func arrivals(_ items: Range<Int>) -> [UInt64]? {
        state.withLock { state in
            let arrivals = Array(state.arrivals[items])
            return arrivals.contains(0) ? nil : arrivals
        }
    }

    var counts: (received: Int, duplicates: Int) {
        state.withLock { ($0.received, $0.duplicates) }
    }
}

/// The timestamps of one item: see the top of the file.
struct DeliverySample {
    var start: UInt64
    var committed: UInt64
    var received: UInt64
}

/// Writes the new items `items` (`EddyLayout.item(n)`) with `putItem`, one at a time on ``CoreExecutor``, at a
/// steady `perSecond`: the i-th write starts at the start + i / rate, or as soon as the previous one returned if
/// that is later. Before each write it asks `continuing` (given the writes done so far) whether to go on.
/// Returns each write's monotonic start and return times.
func writeSteadily(
    into db: Database, items: Range<Int>, perSecond: Int, continuing: @escaping @Sendable (Int) throws -> Bool = { _ in true }
) async throws -> [(start: UInt64, committed: UInt64)] {
    try await withTaskExecutorPreference(CoreExecutor.shared) { () async throws -> [(start: UInt64, committed: UInt64)] in
        var written: [(start: UInt64, committed: UInt64)] = []
        written.reserveCapacity(items.count)
        let clock = ContinuousClock()
        let begin = clock.now
        for (index, item) in items.enumerated() {
            guard try continuing(index) else { break }
            let due = begin + .nanoseconds(Int64(index) * 1_000_000_000 / Int64(perSecond))
            if clock.now < due { try await Task.sleep(until: due, tolerance: .zero, clock: clock) }
            let input = PutItemInput(tableName: EddyLayout.tableName, item: EddyLayout.item(item))
            let start = monotonicNanoseconds()
            try await db.putItem(input)
            written.append((start, monotonicNanoseconds()))
        }
        return written
    }
}

/// The broker, database, runtime, sink and consumer of `KafkaDelivery.PutItem`.
final class KafkaDeliveryFixture: @unchecked Sendable {
    static let topic = "eddy-delivery"
    let directory = TemporaryDirectory()
    private var broker: LocalBroker?
    private(set) var db: Database!
    private var runtime: TriggerRuntime?
    private var running: Task<Void, Never>?
    private var sink: KafkaSink?
    private var consumer: KafkaConsumer?
    private var consuming: Task<Void, Never>?
    private let receipts = Receipts(capacity: 1_000_000)
    private var nextItem = 0

    init() async throws {
        let broker = try await LocalBroker.start()
        self.broker = broker
        do {
            try await start(broker)
        } catch {
            await close()
            throw error
        }
    }

    private func start(_ broker: LocalBroker) async throws {
        let servers = broker.bootstrapServers
        try await broker.createTopic(Self.topic)

        let db = try await EddyFixture.openDatabase(at: directory.path, streamViewType: .newAndOldImages)
        self.db = db
        let sink = try await KafkaSink(configuration: sinkSettings(broker), topic: Self.topic)
        self.sink = sink
        var settings = TriggerMappingConfiguration(eventSourceArn: try await EddyFixture.streamArn(of: db), startingPosition: .latest)
        settings.batchSize = deliveryBatchSize
        settings.maximumBatchingWindowInSeconds = 0
        let runtime = TriggerRuntime(database: db)
        try await runtime.registerKafka(name: "delivery", configuration: settings, sink: sink)
        self.runtime = runtime
        running = Task(executorPreference: CoreExecutor.shared) { await runtime.run() }

        let consumer = try KafkaConsumer(configuration: ["bootstrap.servers": servers, "group.id": "eddy-bench-delivery"])
        self.consumer = consumer
        try await consumer.subscribe(topics: [Self.topic])
        let receipts = receipts
        consuming = Task(executorPreference: CoreExecutor.shared) {
            do {
                for try await message in consumer.messages {
                    let arrived = monotonicNanoseconds()
                    guard let key = message.key, let item = KafkaDrainFixture.itemNumber(key),
                        message.headers.count == 3, message.headers[0].name == KafkaSinkHeader.table
                    else { benchmarkFailure("the consumer got an unexpected message: key \(message.key ?? []), headers \(message.headers)") }
                    receipts.record(item, at: arrived)
                }
            } catch {
                benchmarkFailure("the consumer failed: \(error)")
            }
        }
        let assignedBy = ContinuousClock.now + .seconds(60)
        while consumer.assignment.count < topicPartitions {
            guard ContinuousClock.now < assignedBy else {
                throw LocalBroker.Failure(description: "the consumer was assigned \(consumer.assignment), not \(topicPartitions) partitions, in 60 s")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        // Probe items, one a second, until one comes through: the pipeline is then live end to end.
        let liveBy = ContinuousClock.now + .seconds(60)
        while true {
            guard ContinuousClock.now < liveBy else {
                throw LocalBroker.Failure(description: "no probe item reached the consumer in 60 s")
            }
            let item = nextItem
            nextItem += 1
            try await db.putItem(PutItemInput(tableName: EddyLayout.tableName, item: EddyLayout.item(item)))
            let probeBy = ContinuousClock.now + .seconds(1)
            while receipts.arrivals(item..<item + 1) == nil, ContinuousClock.now < probeBy {
                try await Task.sleep(for: .milliseconds(5))
            }
            if receipts.arrivals(item..<item + 1) != nil { break }
        }
    }

    /// Writes `count` new items at `perSecond` and returns each one's timestamps once the consumer has them all.
    func writeAndReceive(count: Int, perSecond: Int) async throws -> [DeliverySample] {
        let first = nextItem
        nextItem += count
        let written = try await writeSteadily(into: db, items: first..<first + count, perSecond: perSecond)
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            if let arrivals = receipts.arrivals(first..<first + count) {
                return zip(written, arrivals).map { DeliverySample(start: $0.0.start, committed: $0.0.committed, received: $0.1) }
            }
            guard ContinuousClock.now < deadline else {
                benchmarkFailure("the consumer has received \(receipts.counts.received) messages; items \(first)..<\(first + count) are not all there after 60 s")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Closes the consumer, stops the runtime, closes the sink and the database, stops the broker and deletes
    /// the directory.
    func close() async {
        if let consumer {
            await consumer.close()
            await consuming?.value
        }
        consumer = nil
        running?.cancel()
        await running?.value
        running = nil
        runtime = nil
        if let sink { await onOwnThread { sink.close() } }
        sink = nil
        db = nil  // the last reference: the Database closes here
        directory.remove()
        await broker?.stop()
        broker = nil
        let (received, duplicates) = receipts.counts
        trace("KafkaDelivery: the consumer received \(received) items' messages, \(duplicates) duplicates")
    }
}
