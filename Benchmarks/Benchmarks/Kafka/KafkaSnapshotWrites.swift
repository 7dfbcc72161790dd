import Benchmark
import BenchmarkSupport
import Eddy
import EddyKafka
import Foundation

// What an initial snapshot running into a Kafka sink costs live writes: PutItem latency from one writer at a
// steady rate while a mapping's snapshot reads the table, against the same writer with no snapshot running, in
// the same run.
//
// The setup (untimed) writes ``drainRecordCount`` (1,000,000) new 100-byte items into a table with a
// NEW_AND_OLD_IMAGES stream, as KafkaDrain's setup does. One iteration then writes new items with `putItem`, one
// writer at a steady ``snapshotWritesPerSecond`` (as KafkaDelivery's writer, ``writeSteadily``), twice:
//
//     PutItem alone (ns)              ``snapshotWrites`` writes, no mapping running.
//     PutItem during snapshot (ns)    on a new noida-db broker with a new topic of 3 partitions, a new mapping
//                                     with an initial snapshot (`snapshot = true`, LATEST, BatchSize
//                                     ``drainBatchSize``, ParallelizationFactor ``drainParallelization``, no
//                                     batching window) to a `KafkaSink` with its default settings, registered
//                                     and running just before the writer starts; the writer stops after
//                                     ``snapshotWrites`` writes or as soon as it finds the snapshot complete
//                                     (it looks every 100 writes), whichever comes first.
//
// One sample per write: the time from just before `putItem` is called to just after it returns. Then the topic
// must come to hold exactly one message per item of the table (every item written before the snapshot was read
// by it, every later one by the stream after it), read back by key.

/// The writes of each half of `KafkaSnapshot.PutItem` (`EDDY_KAFKA_SNAPSHOT_WRITES` overrides it).
let snapshotWrites = environmentInt("EDDY_KAFKA_SNAPSHOT_WRITES") ?? 5_000
/// The writer's steady rate (`EDDY_KAFKA_SNAPSHOT_RATE` overrides it).
let snapshotWritesPerSecond = environmentInt("EDDY_KAFKA_SNAPSHOT_RATE") ?? 1_000

/// Registers `KafkaSnapshot.PutItem`.
func registerKafkaSnapshotWritesBenchmark() {
    let alone = BenchmarkMetric.custom("PutItem alone (ns)", polarity: .prefersSmaller, useScalingFactor: false)
    let during = BenchmarkMetric.custom("PutItem during snapshot (ns)", polarity: .prefersSmaller, useScalingFactor: false)
    let configuration = Benchmark.Configuration(
        metrics: [alone, during],
        warmupIterations: 0,
        scalingFactor: .one,
        maxDuration: .seconds(300),
        maxIterations: 1
    )
    let box = Box<SnapshotWritesFixture>()
    Benchmark("KafkaSnapshot.PutItem", configuration: configuration) { benchmark in
        let fixture = box.value!
        let quiet = try await fixture.write(count: snapshotWrites)
        let loaded = try await fixture.writeDuringSnapshot(count: snapshotWrites)
        for sample in quiet { benchmark.measurement(alone, Int(sample)) }
        for sample in loaded { benchmark.measurement(during, Int(sample)) }
        trace(String(
            format: "KafkaSnapshot: PutItem p50/p99 %.0f/%.0f us alone (%d writes), %.0f/%.0f us during the snapshot (%d writes), %d/s",
            percentile(quiet, 50) / 1e3, percentile(quiet, 99) / 1e3, quiet.count,
            percentile(loaded, 50) / 1e3, percentile(loaded, 99) / 1e3, loaded.count, snapshotWritesPerSecond))
    } setup: {
        box.value = try await SnapshotWritesFixture()
    } teardown: {
        box.take()?.close()
    }
}

/// The `p`-th percentile of `samples` (nearest rank).
private func percentile(_ samples: [UInt64], _ p: Int) -> Double {
    let sorted = samples.sorted()
    return Double(sorted[min(sorted.count - 1, sorted.count * p / 100)])
}

/// An Eddy database whose table holds ``drainRecordCount`` items, and the writer of `KafkaSnapshot.PutItem`.
final class SnapshotWritesFixture: @unchecked Sendable {
    let directory = TemporaryDirectory()
    private(set) var db: Database!
    let streamArn: String
    /// The next new item's number: the table holds items `0..<nextItem`.
    private var nextItem = drainRecordCount
    private var mappings = 0

    init() async throws {
        precondition(drainRecordCount % 200 == 0, "EDDY_KAFKA_DRAIN_RECORDS must be a multiple of 200")
        let db = try await EddyFixture.openDatabase(at: directory.path, streamViewType: .newAndOldImages)
        self.db = db
        streamArn = try await EddyFixture.streamArn(of: db)
        try await EddyFixture.fillStream(of: db, records: drainRecordCount, clients: 8)
    }

    /// Writes `count` new items at the steady rate; each write's latency in nanoseconds.
    func write(count: Int, continuing: @escaping @Sendable (Int) throws -> Bool = { _ in true }) async throws -> [UInt64] {
        let first = nextItem
        let written = try await writeSteadily(
            into: db, items: first..<first + count, perSecond: snapshotWritesPerSecond, continuing: continuing)
        nextItem += written.count
        return written.map { $0.committed - $0.start }
    }

    /// Writes up to `count` new items at the steady rate while a new mapping's initial snapshot runs into Kafka
    /// (see the top of the file); each write's latency in nanoseconds.
    func writeDuringSnapshot(count: Int) async throws -> [UInt64] {
        try await LocalBroker.with { broker in
            let topic = "eddy-snapshot-writes"
            try await broker.createTopic(topic)
            let sink = try await KafkaSink(configuration: sinkSettings(broker), topic: topic)
            let reader = try WatermarkReader(bootstrapServers: broker.bootstrapServers)
            var settings = TriggerMappingConfiguration(eventSourceArn: streamArn, startingPosition: .latest)
            settings.batchSize = drainBatchSize
            settings.parallelizationFactor = drainParallelization
            settings.maximumBatchingWindowInSeconds = 0
            settings.snapshot = true
            let name = "kafka-snapshot-\(mappings)"
            mappings += 1
            let runtime = TriggerRuntime(database: db)
            let start = monotonicNanoseconds()
            try await runtime.registerKafka(name: name, configuration: settings, sink: sink)
            let running = Task(executorPreference: CoreExecutor.shared) { await runtime.run() }
            let latencies = try await write(count: count) { done in
                guard done % 100 == 0 else { return true }
                return try runtime.mapping(name).snapshotProgress?.complete != true
            }
            let progress = try runtime.mapping(name).snapshotProgress
            trace("KafkaSnapshot: \(latencies.count) writes done, the snapshot at \(progress?.itemsDone ?? 0) of \(progress?.itemsTotal ?? 0) items")
            let items = nextItem
            let reached = try await onOwnThreadThrowing {
                try reader.waitForTotal(topic, partitions: topicPartitions, total: items)
            }
            trace(String(format: "KafkaSnapshot: %d items through the snapshot and the stream in %.2f s", items, Double(reached - start) / 1e9))
            running.cancel()
            await running.value
            await onOwnThread { sink.close() }
            let highs = try await onOwnThreadThrowing { try reader.highWatermarks(topic, partitions: topicPartitions) }
            let servers = broker.bootstrapServers
            let perItem = try await onOwnThreadThrowing {
                try countMessagesPerItem(bootstrapServers: servers, topic: topic, highWatermarks: highs, items: items)
            }
            guard perItem.allSatisfy({ $0 == 1 }) else {
                benchmarkFailure(
                    "the topic misses \(perItem.count { $0 == 0 }) items and repeats \(perItem.count { $0 > 1 }) (high watermarks \(highs))")
            }
            return latencies
        }
    }

    /// Closes the database and deletes the directory.
    func close() {
        db = nil  // the last reference: the Database and its RocksDB close here
        directory.remove()
    }
}
