import Benchmark
import BenchmarkSupport
import Eddy
import Foundation
import Synchronization

// How fast a trigger mapping drains a stream written beforehand.
//
// The setup writes the stream (untimed): BatchWriteItem of 25 new 100-byte items per call, from 8 concurrent
// tasks, into a table with a NEW_AND_OLD_IMAGES stream of Eddy's default four shards. Each iteration then
// creates a fresh `TriggerRuntime`, registers a mapping under a name of its own (so it has no checkpoints:
// TRIM_HORIZON, the whole stream) and runs it; the time is from just before the registration to the moment
// the stream has been drained. "Records (# / s)" is the stream's records over that time.
//
//     TriggerDrain.Handler      BatchSize 1000, a handler that only counts the records; drained when the count
//                               reaches the stream's ``handlerRecordCount`` records. The count is checked again
//                               after the runtime has stopped: exactly one call per record.
//     TriggerDrain.Derivative   `registerDerivative`, BatchSize 1000: each record becomes one
//                               `ADD hits :one` on one of 100 counters (`c0` … `c99`, key `pk`) of the table
//                               `Counters` (no stream), committed with the mapping's checkpoint; drained when the
//                               sum of the 100 counters (read with GetItem every 50 ms) has grown by the stream's
//                               ``derivativeRecordCount`` records. The sum is checked again after the runtime has
//                               stopped: exactly one update per record.

/// The records of the stream `TriggerDrain.Handler` drains.
let handlerRecordCount = 500_000
/// The records of the stream `TriggerDrain.Derivative` drains.
let derivativeRecordCount = 200_000
/// The derivative table of `TriggerDrain.Derivative`.
let countersTable = "Counters"
/// Counters in ``countersTable``.
let counterCount = 100

/// Registers `TriggerDrain.Handler` and `TriggerDrain.Derivative`.
func registerDrainBenchmarks() {
    let recordsPerSecond = BenchmarkMetric.custom("Records (# / s)", polarity: .prefersLarger, useScalingFactor: false)
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, recordsPerSecond],
        warmupIterations: 1,
        scalingFactor: .one,
        maxDuration: .seconds(60),
        maxIterations: 3
    )

    let handlerBox = Box<DrainFixture>()
    Benchmark("TriggerDrain.Handler", configuration: configuration) { benchmark in
        let fixture = handlerBox.value!
        let db: Database = fixture.db
        let settings = fixture.settings(batchSize: 1_000)
        let name = fixture.nextMappingName()
        let seen = Atomic<Int>(0)
        let (drained, done) = AsyncStream.makeStream(of: Void.self)
        let runtime = TriggerRuntime(database: db)
        benchmark.startMeasurement()
        let start = monotonicNanoseconds()
        try await runtime.register(name: name, configuration: settings) { event in
            let count = seen.add(event.records.count, ordering: .relaxed).newValue
            if count >= handlerRecordCount { done.yield() }
        }
        let running = Task(executorPreference: CoreExecutor.shared) { await runtime.run() }
        var waiting = drained.makeAsyncIterator()
        _ = await waiting.next()
        let elapsed = monotonicNanoseconds() - start
        benchmark.stopMeasurement()
        running.cancel()
        await running.value
        let count = seen.load(ordering: .relaxed)
        guard count == handlerRecordCount else {
            fatalError("the handler was called with \(count) records, not \(handlerRecordCount)")
        }
        benchmark.measurement(recordsPerSecond, Int(Double(count) * 1e9 / Double(elapsed)))
    } setup: {
        handlerBox.value = try await DrainFixture(records: handlerRecordCount, counters: false)
    } teardown: {
        handlerBox.take()?.close()
    }

    let derivativeBox = Box<DrainFixture>()
    Benchmark("TriggerDrain.Derivative", configuration: configuration) { benchmark in
        let fixture = derivativeBox.value!
        let db: Database = fixture.db
        let settings = fixture.settings(batchSize: 1_000)
        let name = fixture.nextMappingName()
        let before = try await fixture.counterSum()
        let runtime = TriggerRuntime(database: db)
        benchmark.startMeasurement()
        let start = monotonicNanoseconds()
        try await runtime.registerDerivative(name: name, configuration: settings, targetTables: [countersTable]) { record in
            [counterUpdate(for: record)]
        }
        let running = Task(executorPreference: CoreExecutor.shared) { await runtime.run() }
        while try await fixture.counterSum() - before < derivativeRecordCount {
            try await Task.sleep(for: .milliseconds(50))
        }
        let elapsed = monotonicNanoseconds() - start
        benchmark.stopMeasurement()
        running.cancel()
        await running.value
        let added = try await fixture.counterSum() - before
        guard added == derivativeRecordCount else {
            fatalError("the counters grew by \(added), not \(derivativeRecordCount)")
        }
        benchmark.measurement(recordsPerSecond, Int(Double(derivativeRecordCount) * 1e9 / Double(elapsed)))
    } setup: {
        derivativeBox.value = try await DrainFixture(records: derivativeRecordCount, counters: true)
    } teardown: {
        derivativeBox.take()?.close()
    }
}

/// The counter update of one record: `ADD hits :one` on counter `c<n % 100>`, where n is the number in the
/// item's id (`item-00000042`).
@inline(__always)
func counterUpdate(for record: StreamRecord) -> DerivativeWrite {
    guard case .s(let id)? = record.dynamodb.keys["id"], let n = Int(id.dropFirst(5)) else {
        fatalError("a stream record without the item's id")
    }
    return .update(
        tableName: countersTable, key: ["pk": .s("c\(n % counterCount)")], updateExpression: "ADD hits :one",
        expressionAttributeValues: [":one": 1])
}

/// An Eddy database whose table's NEW_AND_OLD_IMAGES stream holds `records` records, with the table
/// ``countersTable`` if `counters`.
final class DrainFixture: @unchecked Sendable {
    let directory = TemporaryDirectory()
    private(set) var db: Database!
    let streamArn: String
    private var mappings = 0

    init(records: Int, counters: Bool) async throws {
        let db = try await EddyFixture.openDatabase(at: directory.path, streamViewType: .newAndOldImages)
        self.db = db
        streamArn = try await EddyFixture.streamArn(of: db)
        if counters {
            try await db.createTable(CreateTableInput(
                tableName: countersTable,
                keySchema: [KeySchemaElement(attributeName: "pk", keyType: .hash)],
                attributeDefinitions: [AttributeDefinition(attributeName: "pk", attributeType: .s)],
                billingMode: .payPerRequest,
                streamSpecification: nil))
        }
        try await EddyFixture.fillStream(of: db, records: records, clients: clientCount)
    }

    /// The settings of a mapping reading the whole stream.
    func settings(batchSize: Int) -> TriggerMappingConfiguration {
        var settings = TriggerMappingConfiguration(eventSourceArn: streamArn, startingPosition: .trimHorizon)
        settings.batchSize = batchSize
        settings.maximumBatchingWindowInSeconds = 0
        return settings
    }

    /// A mapping name not used before in this database, so that the mapping starts with no checkpoints.
    func nextMappingName() -> String {
        defer { mappings += 1 }
        return "drain-\(mappings)"
    }

    /// The sum of the counters' `hits` (a missing counter counts 0).
    func counterSum() async throws -> Int {
        var sum = 0
        for counter in 0..<counterCount {
            let output = try await db.getItem(GetItemInput(tableName: countersTable, key: ["pk": .s("c\(counter)")]))
            if case .n(let hits)? = output.item?["hits"] { sum += Int(hits.description)! }
        }
        return sum
    }

    /// Closes the database and deletes the directory.
    func close() {
        db = nil  // the last reference: the Database and its RocksDB close here
        directory.remove()
    }
}
