import Benchmark
import BenchmarkSupport
import Eddy
import EddyKafka
import Foundation
import Synchronization

// How fast the Kafka trigger sink drains a stream written beforehand, against librdkafka's C API sending the
// same messages.
//
// The setup (untimed) writes the stream: BatchWriteItem of 25 new 100-byte items per call from 8 concurrent
// tasks, into a table with a NEW_AND_OLD_IMAGES stream of Eddy's default four shards (1,000,000 records). It
// then reads the whole stream once through a trigger mapping whose handler builds, for every record, the
// message the sink would send (`KinesisChangeRecord.json` value, the item's partition key, the headers
// eddy-table, eddy-shard-id, eddy-sequence-number) and keeps them, packed, for the raw baseline.
//
// Each iteration measures four things, each against a new, empty noida-db broker (see LocalBroker.swift) with a
// new topic of 3 partitions:
//
//     Sink records (# / s)          a new TRIM_HORIZON mapping (`TriggerRuntime.registerKafka`, BatchSize
//                                   ``drainBatchSize``, ParallelizationFactor ``drainParallelization``, no
//                                   batching window) to a `KafkaSink` with its default settings. The time runs
//                                   from just before the registration to the first reading of the topic's high
//                                   watermarks (every 5 ms, from another client) that adds up to the stream's
//                                   records: the broker then holds every message. The runtime is then stopped
//                                   and the sum checked again: exactly one message per record (no duplicate).
//     Raw producer records (# / s)  the same messages, in the order the mapping's handler received them, sent
//                                   with librdkafka's C API (`rawSend` in RawKafka.swift) with the sink's
//                                   settings; the time runs from the first produce call to the last delivery
//                                   report. Each partition must get as many messages as the sink's topic got
//                                   (same keys, same partitioner).
//
//     Debezium sink records (# / s) as Sink records, with the mapping's messages Debezium change events
//                                   (`KafkaMessageFormat(value: .debezium)`: the value written by
//                                   `DebeziumChangeEvent.json`, the key the partition key as a JSON object).
//     Snapshot sink records (# / s) the table's 1,000,000 items (the setup's writes) through a new mapping with
//                                   an initial snapshot (`snapshot = true`, starting position LATEST, the same
//                                   BatchSize and ParallelizationFactor) to a `KafkaSink` in the Kinesis format:
//                                   timed as Sink records, from just before the registration until the topic's
//                                   high watermarks add up to the items. The runtime is then stopped and the
//                                   whole topic read back: exactly one message per item (keyed by its id).
//
// The first iteration also reads the first 1,000 messages of each partition of the (Kinesis) sink's topic back
// and checks that each is the raw baseline's message of the same item: same key, same headers, same value.
//
// The sink's producer, the raw producer, the broker, Eddy's runtime and this process share the machine's two
// cores; the raw producer and the broker alone fill both (ERRATA, Kafka), so the ratio is reported, not judged.

/// The records of the drained stream (`EDDY_KAFKA_DRAIN_RECORDS` overrides it; a multiple of 200).
let drainRecordCount = environmentInt("EDDY_KAFKA_DRAIN_RECORDS") ?? 1_000_000
/// The drain mapping's BatchSize (`EDDY_KAFKA_BATCH_SIZE` overrides it).
let drainBatchSize = environmentInt("EDDY_KAFKA_BATCH_SIZE") ?? 1_000
/// The drain mapping's ParallelizationFactor (`EDDY_KAFKA_PARALLELIZATION` overrides it).
let drainParallelization = environmentInt("EDDY_KAFKA_PARALLELIZATION") ?? 1
/// Producer settings added to the sinks' (and the raw producer's) defaults, from `EDDY_KAFKA_SINK_SETTINGS`
/// (`name=value,name=value`), for trying librdkafka settings; none by default.
let extraSinkSettings: [String: String] = {
    guard let text = ProcessInfo.processInfo.environment["EDDY_KAFKA_SINK_SETTINGS"], !text.isEmpty else { return [:] }
    return Dictionary(uniqueKeysWithValues: text.split(separator: ",").map { pair in
        let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
        return (parts[0], parts.count > 1 ? parts[1] : "")
    })
}()

/// The settings of a sink (or the raw producer) sending to `broker`.
func sinkSettings(_ broker: LocalBroker) -> [String: String] {
    extraSinkSettings.merging(["bootstrap.servers": broker.bootstrapServers]) { _, given in given }
}

/// The partitions of every topic of the benchmarks.
let topicPartitions = 3

/// Appends `message`, with a monotonic timestamp, to the file `EDDY_KAFKA_TRACE` names, if it names one (the
/// benchmark runner does not show what a benchmark prints while it runs).
func trace(_ message: @autoclosure () -> String) {
    guard let path = ProcessInfo.processInfo.environment["EDDY_KAFKA_TRACE"] else { return }
    let line = String(format: "[%.3f] ", Double(monotonicNanoseconds()) / 1e9) + message() + "\n"
    guard let file = fopen(path, "a") else { return }
    fputs(line, file)
    fclose(file)
}

/// Stops the benchmark process with `message`, which also goes to the `EDDY_KAFKA_TRACE` file (the benchmark
/// runner does not show the standard error of a crashed benchmark).
func benchmarkFailure(_ message: String, file: StaticString = #file, line: UInt = #line) -> Never {
    trace("FAILED: \(message)")
    fatalError(message, file: file, line: line)
}

/// An integer from the environment variable `name`.
func environmentInt(_ name: String) -> Int? {
    ProcessInfo.processInfo.environment[name].flatMap { Int($0) }
}

/// Registers `KafkaDrain.SinkAndRawProducer`.
func registerKafkaDrainBenchmark() {
    let sinkRate = BenchmarkMetric.custom("Sink records (# / s)", polarity: .prefersLarger, useScalingFactor: false)
    let rawRate = BenchmarkMetric.custom("Raw producer records (# / s)", polarity: .prefersLarger, useScalingFactor: false)
    let debeziumRate = BenchmarkMetric.custom("Debezium sink records (# / s)", polarity: .prefersLarger, useScalingFactor: false)
    let snapshotRate = BenchmarkMetric.custom("Snapshot sink records (# / s)", polarity: .prefersLarger, useScalingFactor: false)
    let configuration = Benchmark.Configuration(
        metrics: [sinkRate, rawRate, debeziumRate, snapshotRate],
        warmupIterations: 0,
        scalingFactor: .one,
        maxDuration: .seconds(300),
        maxIterations: 1
    )

    let box = Box<KafkaDrainFixture>()
    Benchmark("KafkaDrain.SinkAndRawProducer", configuration: configuration) { benchmark in
        let fixture = box.value!
        let sink = try await fixture.drainThroughSink()
        let raw = try await fixture.sendRaw()
        let debezium = try await fixture.drainThroughSink(format: KafkaMessageFormat(value: .debezium))
        let snapshot = try await fixture.snapshotThroughSink()
        guard raw.perPartition == sink.perPartition else {
            benchmarkFailure("the raw producer's partitions got \(raw.perPartition) messages, the sink's \(sink.perPartition)")
        }
        benchmark.measurement(sinkRate, Int(Double(drainRecordCount) * 1e9 / Double(sink.nanoseconds)))
        benchmark.measurement(rawRate, Int(Double(drainRecordCount) * 1e9 / Double(raw.nanoseconds)))
        benchmark.measurement(debeziumRate, Int(Double(drainRecordCount) * 1e9 / Double(debezium.nanoseconds)))
        benchmark.measurement(snapshotRate, Int(Double(drainRecordCount) * 1e9 / Double(snapshot.nanoseconds)))
        trace(String(
            format: "KafkaDrain: sink %.0f records/s (%.2f s), raw producer %.0f records/s (%.2f s), Debezium sink %.0f records/s (%.2f s), snapshot sink %.0f records/s (%.2f s), BatchSize %d, ParallelizationFactor %d",
            Double(drainRecordCount) * 1e9 / Double(sink.nanoseconds), Double(sink.nanoseconds) / 1e9,
            Double(drainRecordCount) * 1e9 / Double(raw.nanoseconds), Double(raw.nanoseconds) / 1e9,
            Double(drainRecordCount) * 1e9 / Double(debezium.nanoseconds), Double(debezium.nanoseconds) / 1e9,
            Double(drainRecordCount) * 1e9 / Double(snapshot.nanoseconds), Double(snapshot.nanoseconds) / 1e9,
            drainBatchSize, drainParallelization))
    } setup: {
        box.value = try await KafkaDrainFixture()
    } teardown: {
        box.take()?.close()
    }
}

/// An Eddy database whose table's NEW_AND_OLD_IMAGES stream holds ``drainRecordCount`` records, and the
/// messages the Kafka trigger sink makes of them.
final class KafkaDrainFixture: @unchecked Sendable {
    let directory = TemporaryDirectory()
    private(set) var db: Database!
    let streamArn: String
    /// The sink's messages, in the order the collecting mapping's handler received the records.
    private(set) var messages: PackedMessages
    /// For item n (`item-0000000n`), the index of its message in `messages`.
    private var messageOfItem: [Int32]
    private var mappings = 0
    private var verified = false

    init() async throws {
        precondition(drainRecordCount % 200 == 0, "EDDY_KAFKA_DRAIN_RECORDS must be a multiple of 200")
        let db = try await EddyFixture.openDatabase(at: directory.path, streamViewType: .newAndOldImages)
        self.db = db
        streamArn = try await EddyFixture.streamArn(of: db)
        let filling = monotonicNanoseconds()
        try await EddyFixture.fillStream(of: db, records: drainRecordCount, clients: 8)
        let collecting = monotonicNanoseconds()
        messages = try await Self.collectMessages(of: db, streamArn: streamArn)
        messageOfItem = [Int32](repeating: -1, count: drainRecordCount)
        for index in 0..<messages.count {
            guard let item = Self.itemNumber(messages.key(index)), item < drainRecordCount, messageOfItem[item] < 0 else {
                benchmarkFailure("the stream has a record of an unexpected or repeated item")
            }
            messageOfItem[item] = Int32(index)
        }
        trace(String(
            format: "KafkaDrain setup: %d records written in %.1f s, their messages built in %.1f s (%.0f bytes of values)",
            drainRecordCount, Double(collecting - filling) / 1e9, Double(monotonicNanoseconds() - collecting) / 1e9,
            Double(messages.values.count)))
    }

    /// The item number of a message key `item-0000000n`.
    static func itemNumber<Bytes: Collection<UInt8>>(_ key: Bytes) -> Int? {
        guard key.count == 13, key.starts(with: Array("item-".utf8)) else { return nil }
        return Int(String(decoding: key.dropFirst(5), as: UTF8.self))
    }

    /// Reads the whole stream once through a trigger mapping (BatchSize 10,000) whose handler makes each
    /// record's message as `TriggerRuntime.registerKafka` does.
    private static func collectMessages(of db: Database, streamArn: String) async throws -> PackedMessages {
        let tableName = EddyLayout.tableName
        let collected = Mutex(PackedMessages(tableName: tableName))
        collected.withLock { $0.reserve(drainRecordCount, valueBytes: drainRecordCount * 480) }
        let (done, signal) = AsyncStream.makeStream(of: Void.self)
        var settings = TriggerMappingConfiguration(eventSourceArn: streamArn, startingPosition: .trimHorizon)
        settings.batchSize = 10_000
        settings.maximumBatchingWindowInSeconds = 0
        let runtime = TriggerRuntime(database: db)
        // The records as the sink reads them: Kinesis Data Streams for DynamoDB's form.
        try await runtime.registerReportingFailures(name: "collect", configuration: settings, onFailure: nil, recordForm: .kinesis) { event in
            let shardId = Array((event.sourceShardId ?? "").utf8)
            let built = event.records.map { record -> (key: [UInt8], value: [UInt8], sequenceNumber: [UInt8]) in
                guard case .s(let id)? = record.dynamodb.keys["id"] else { benchmarkFailure("a record without the item's id") }
                return (
                    Array(id.utf8), KinesisChangeRecord.json(record, tableName: tableName),
                    Array(record.dynamodb.sequenceNumber.utf8)
                )
            }
            let count = collected.withLock { messages in
                for message in built {
                    messages.append(key: message.key, value: message.value, sequenceNumber: message.sequenceNumber, shardId: shardId)
                }
                return messages.count
            }
            if count >= drainRecordCount { signal.yield() }
            return .success
        }
        let running = Task(executorPreference: CoreExecutor.shared) { await runtime.run() }
        var waiting = done.makeAsyncIterator()
        _ = await waiting.next()
        running.cancel()
        await running.value
        let messages = collected.withLock { $0 }
        guard messages.count == drainRecordCount else {
            benchmarkFailure("the collecting mapping saw \(messages.count) records, not \(drainRecordCount)")
        }
        return messages
    }

    /// The settings of a drain mapping reading the whole stream.
    private func settings() -> TriggerMappingConfiguration {
        var settings = TriggerMappingConfiguration(eventSourceArn: streamArn, startingPosition: .trimHorizon)
        settings.batchSize = drainBatchSize
        settings.parallelizationFactor = drainParallelization
        settings.maximumBatchingWindowInSeconds = 0
        return settings
    }

    /// A mapping name not used before in this database, so that the mapping starts with no checkpoints.
    private func nextMappingName() -> String {
        defer { mappings += 1 }
        return "kafka-drain-\(mappings)"
    }

    /// How long a drain or a raw send took, and how many messages each partition got.
    struct Outcome {
        var nanoseconds: UInt64
        var perPartition: [Int32: Int]
    }

    /// Drains the stream through a new Kafka trigger mapping whose messages have `format` to a new broker (see
    /// the top of the file). The first drain in the Kinesis format checks its messages against the raw baseline's.
    func drainThroughSink(format: KafkaMessageFormat = KafkaMessageFormat()) async throws -> Outcome {
        try await sendThroughSink(topic: "eddy-drain-sink", settings: settings(), format: format)
    }

    /// Sends the table's items through a new Kafka mapping with an initial snapshot (LATEST, the drain's
    /// BatchSize and ParallelizationFactor) to a new broker, and checks that the topic holds exactly one message
    /// per item (see the top of the file).
    func snapshotThroughSink() async throws -> Outcome {
        var settings = settings()
        settings.startingPosition = .latest
        settings.snapshot = true
        let topic = "eddy-snapshot-sink"
        return try await sendThroughSink(topic: topic, settings: settings, format: KafkaMessageFormat()) { broker, highs in
            let servers = broker.bootstrapServers
            let perItem = try await onOwnThreadThrowing {
                try countMessagesPerItem(bootstrapServers: servers, topic: topic, highWatermarks: highs, items: drainRecordCount)
            }
            guard perItem.allSatisfy({ $0 == 1 }) else {
                let missing = perItem.count { $0 == 0 }
                let repeated = perItem.count { $0 > 1 }
                benchmarkFailure("the snapshot's topic misses \(missing) items and repeats \(repeated)")
            }
            trace("snapshot: every item's message read back, exactly one each")
        }
    }

    /// Sends through a new Kafka mapping with `settings` whose messages have `format` to `topic` on a new broker
    /// until the topic holds ``drainRecordCount`` messages, then checks that it holds no more, and, once `check`
    /// has run on the broker and the final high watermarks, reports how long it took.
    private func sendThroughSink(
        topic: String, settings: TriggerMappingConfiguration, format: KafkaMessageFormat,
        check: ((LocalBroker, [Int64]) async throws -> Void)? = nil
    ) async throws -> Outcome {
        try await LocalBroker.with { broker in
            trace("\(topic): broker \(broker.bootstrapServers) started")
            try await broker.createTopic(topic)
            trace("\(topic): created")
            let sink = try await KafkaSink(configuration: sinkSettings(broker), topic: topic)
            let reader = try WatermarkReader(bootstrapServers: broker.bootstrapServers)
            let before = try await onOwnThreadThrowing { try reader.highWatermarks(topic, partitions: topicPartitions) }
            guard before.allSatisfy({ $0 == 0 }) else { benchmarkFailure("the new topic holds messages: \(before)") }
            trace("\(topic): sink and reader ready")
            let db: Database = db
            let name = nextMappingName()
            let runtime = TriggerRuntime(database: db)
            let start = monotonicNanoseconds()
            try await runtime.registerKafka(name: name, configuration: settings, sink: sink, format: format)
            let running = Task(executorPreference: CoreExecutor.shared) { await runtime.run() }
            let reached = try await onOwnThreadThrowing {
                try reader.waitForTotal(topic, partitions: topicPartitions, total: drainRecordCount)
            }
            trace("\(topic): holds every message")
            running.cancel()
            await running.value
            await onOwnThread { sink.close() }
            trace("\(topic): runtime stopped, sink closed")
            let highs = try await onOwnThreadThrowing { try reader.highWatermarks(topic, partitions: topicPartitions) }
            guard highs.reduce(0, +) == drainRecordCount else {
                benchmarkFailure("the sink's topic holds \(highs.reduce(0, +)) messages, not \(drainRecordCount): \(highs)")
            }
            if let check {
                try await check(broker, highs)
            } else if !verified, format.value == .kinesis {
                try await verifySinkMessages(topic, on: broker)
                verified = true
            }
            var perPartition: [Int32: Int] = [:]
            for (partition, high) in highs.enumerated() where high > 0 { perPartition[Int32(partition)] = Int(high) }
            return Outcome(nanoseconds: reached - start, perPartition: perPartition)
        }
    }

    /// Sends the same messages with the raw producer to a new broker.
    func sendRaw() async throws -> Outcome {
        try await LocalBroker.with { broker in
            let topic = "eddy-drain-raw"
            trace("raw: broker \(broker.bootstrapServers) started")
            try await broker.createTopic(topic)
            trace("raw: topic created")
            let configuration = KafkaSink.defaults.merging(sinkSettings(broker)) { _, given in given }
            let messages = messages
            let result = try await onOwnThreadThrowing { try rawSend(messages, topic: topic, configuration: configuration) }
            trace("raw: sent")
            let reader = try WatermarkReader(bootstrapServers: broker.bootstrapServers)
            let highs = try await onOwnThreadThrowing { try reader.highWatermarks(topic, partitions: topicPartitions) }
            guard highs.reduce(0, +) == drainRecordCount else {
                benchmarkFailure("the raw topic holds \(highs.reduce(0, +)) messages, not \(drainRecordCount): \(highs)")
            }
            return Outcome(nanoseconds: result.nanoseconds, perPartition: result.perPartition)
        }
    }

    /// Reads the first 1,000 messages of each partition of the sink's topic back and checks each against the raw
    /// baseline's message of the same item: same key, same headers, same value.
    private func verifySinkMessages(_ topic: String, on broker: LocalBroker) async throws {
        let servers = broker.bootstrapServers
        let perPartition = min(1_000, drainRecordCount / topicPartitions / 2)
        let read = try await onOwnThreadThrowing {
            try readFirstMessages(bootstrapServers: servers, topic: topic, partitions: topicPartitions, perPartition: perPartition)
        }
        let decoder = JSONDecoder()
        for message in read {
            guard let item = Self.itemNumber(message.key), item < messageOfItem.count, messageOfItem[item] >= 0 else {
                benchmarkFailure("the sink sent a message with an unexpected key \(message.key)")
            }
            let index = Int(messageOfItem[item])
            let headers = [
                (KafkaSinkHeader.table, messages.tableName), (KafkaSinkHeader.shardId, messages.shardId(index)),
                (KafkaSinkHeader.sequenceNumber, Array(messages.sequenceNumber(index))),
            ]
            guard message.headers.map(\.name) == headers.map(\.0), message.headers.map(\.value) == headers.map(\.1) else {
                benchmarkFailure("the sink's headers \(message.headers) differ from the raw baseline's \(headers)")
            }
            let raw = Array(messages.value(index))
            // Items are dictionaries: two encodings of one record may list its attributes in another order.
            guard try message.value == raw
                || decoder.decode(KinesisChangeRecord.self, from: Data(message.value))
                    == decoder.decode(KinesisChangeRecord.self, from: Data(raw))
            else {
                benchmarkFailure("the sink's value \(String(decoding: message.value, as: UTF8.self)) differs from the raw baseline's \(String(decoding: raw, as: UTF8.self))")
            }
        }
        trace("KafkaDrain: \(read.count) of the sink's messages read back, each the raw baseline's message of its item")
    }

    /// Closes the database and deletes the directory.
    func close() {
        db = nil  // the last reference: the Database and its RocksDB close here
        directory.remove()
    }
}
