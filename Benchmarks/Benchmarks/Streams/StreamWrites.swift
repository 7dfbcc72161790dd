import Benchmark
import BenchmarkSupport
import Eddy
import Foundation

// What a stream costs a write. Two pairs for each number of writers, each measured in the same run:
//
//     PutItem.NoStream / PutItem.NewAndOldImages         Eddy: PutItem of new items on a table without a stream,
//                                                        then on a table whose stream records NEW_AND_OLD_IMAGES
//     RawRocksDB.Item / RawRocksDB.ItemAndRecord         raw RocksDB: the item's put alone, then the item's put
//                                                        and a 200-byte record put in one write batch
//
// The second pair is the physical bound: the ratio a stream could cost at best if Eddy added nothing but the
// record's bytes to the write. A diagnostic, RawRocksDB.ReadItemAndRecord, adds what a NEW_AND_OLD_IMAGES
// write must also do: read the item's previous version (a get of its key) before the batch.
//
// One iteration is 1,000 writes (`scalingFactor: .kilo`); building an iteration's requests and bytes happens
// before `startMeasurement()`. The items are ItemThroughput's 100-byte items (EddyLayout), written once each,
// so every Eddy change is an INSERT with a new image and no old one, and every raw get misses.

/// The size of the stream record value of the raw pair.
let rawRecordBytes = 200

/// Registers the `StreamWrite.*` benchmarks.
func registerWriteBenchmarks() {
    // As ItemThroughput's puts: a fixed number of iterations, so that both halves of a pair write the same
    // number of items and RocksDB's flushes and compactions have the same items to move.
    let configuration = Benchmark.Configuration(
        metrics: [.throughput, .wallClock, .mallocCountTotal],
        warmupIterations: 5,
        scalingFactor: .kilo,
        maxDuration: .seconds(60),
        maxIterations: 200
    )
    precondition(configuration.scalingFactor.rawValue == operationsPerIteration)
    for writers in [1, clientCount] {
        let prefix = writers == 1 ? "StreamWrite." : "StreamWrite.\(writers)writers."
        registerEddyPuts(prefix + "PutItem.NoStream", streamViewType: nil, writers: writers, configuration)
        registerEddyPuts(prefix + "PutItem.NewAndOldImages", streamViewType: .newAndOldImages, writers: writers, configuration)
        registerRawPuts(prefix + "RawRocksDB.Item", .item, writers: writers, configuration)
        registerRawPuts(prefix + "RawRocksDB.ItemAndRecord", .itemAndRecord, writers: writers, configuration)
        registerRawPuts(prefix + "RawRocksDB.ReadItemAndRecord", .readItemAndRecord, writers: writers, configuration)
    }
}

/// PutItem of new items from `writers` clients: inline for one, else tasks on ``CoreExecutor`` (as
/// ItemThroughput's `PutItem.8writers.Eddy`, for the same reason).
private func registerEddyPuts(
    _ name: String, streamViewType: StreamViewType?, writers: Int, _ configuration: Benchmark.Configuration
) {
    let box = Box<EddyPutFixture>()
    Benchmark(name, configuration: configuration) { benchmark in
        let fixture = box.value!
        let db: Database = fixture.db
        let inputs = fixture.nextPuts(operationsPerIteration)
        benchmark.startMeasurement()
        if writers == 1 {
            for input in inputs {
                try await db.putItem(input)
            }
        } else {
            await withTaskGroup(of: Void.self) { group in
                for client in 0..<writers {
                    group.addTask(executorPreference: CoreExecutor.shared) {
                        var index = client
                        while index < inputs.count {
                            do {
                                try await db.putItem(inputs[index])
                            } catch {
                                fatalError("PutItem failed: \(error)")
                            }
                            index += writers
                        }
                    }
                }
            }
        }
        benchmark.stopMeasurement()
    } setup: {
        box.value = try await EddyPutFixture(streamViewType: streamViewType)
    } teardown: {
        try await box.take()?.close()
    }
}

/// Raw writes of new items from `writers` clients: inline for one, else the threads of a ``ClientThreads``.
private func registerRawPuts(_ name: String, _ kind: RawWrite.Kind, writers: Int, _ configuration: Benchmark.Configuration) {
    let box = Box<RawPutFixture>()
    Benchmark(name, configuration: configuration) { benchmark in
        let fixture = box.value!
        let db: RawRocksDB = fixture.db
        let writes = fixture.nextWrites(operationsPerIteration, kind)
        benchmark.startMeasurement()
        if writers == 1 {
            for write in writes {
                write.apply(to: db)
            }
        } else {
            fixture.pool!.run { client in
                var index = client
                while index < writes.count {
                    writes[index].apply(to: db)
                    index += writers
                }
            }
        }
        benchmark.stopMeasurement()
    } setup: {
        try await EddyLayout.verify()
        let fixture = RawPutFixture()
        if writers > 1 { fixture.pool = ClientThreads(count: writers) }
        box.value = fixture
    } teardown: {
        box.take()?.close()
    }
}

// MARK: - Fixtures

/// An Eddy database with the default configuration in a fresh directory, its table with or without a stream.
final class EddyPutFixture: @unchecked Sendable {
    let directory = TemporaryDirectory()
    private(set) var db: Database!
    private let streamViewType: StreamViewType?
    private var nextItem = 0

    init(streamViewType: StreamViewType?) async throws {
        self.streamViewType = streamViewType
        db = try await EddyFixture.openDatabase(at: directory.path, streamViewType: streamViewType)
    }

    /// The PutItem requests of the next `count` new items.
    func nextPuts(_ count: Int) -> [PutItemInput] {
        defer { nextItem += count }
        return (nextItem..<nextItem + count).map {
            PutItemInput(tableName: EddyLayout.tableName, item: EddyLayout.item($0))
        }
    }

    /// Checks that the stream, if there is one, holds one record per item written; then closes the database
    /// and deletes the directory.
    func close() async throws {
        if streamViewType != nil {
            let records = try await readAllRecords(of: db, streamArn: try await EddyFixture.streamArn(of: db))
            precondition(records == nextItem, "the stream holds \(records) records for \(nextItem) puts")
        }
        db = nil  // the last reference: the Database and its RocksDB close here
        directory.remove()
    }
}

/// One raw write: an item's put, with the put of its stream record if there is one, after a get of the
/// item's key if `readsFirst`.
struct RawWrite: Sendable {
    /// What a raw benchmark writes.
    enum Kind {
        /// The item's put alone.
        case item
        /// The item's put and its record's, in one batch.
        case itemAndRecord
        /// A get of the item's key (it misses), then the batch of `itemAndRecord`.
        case readItemAndRecord
    }

    var key: [UInt8]
    var value: [UInt8]
    var record: (key: [UInt8], value: [UInt8])?
    var readsFirst = false

    @inline(__always)
    func apply(to db: RawRocksDB) {
        if readsFirst {
            guard db.get(key) == -1 else { fatalError("a new item's key is present") }
        }
        if let record {
            db.putWithRecord(key, value, recordKey: record.key, recordValue: record.value)
        } else {
            db.put(key, value)
        }
    }
}

/// Raw RocksDB in a fresh directory.
final class RawPutFixture: @unchecked Sendable {
    let directory = TemporaryDirectory()
    private(set) var db: RawRocksDB!
    var pool: ClientThreads?
    private var nextItem = 0

    init() {
        db = RawRocksDB(path: directory.path)
    }

    /// The writes of the next `count` new items, of `kind`.
    ///
    /// A record is keyed as Eddy keys its records (28 bytes: stream id 1, the shard of one of four, a sequence
    /// number increasing by one per record, a commit time in milliseconds); its value is ``rawRecordBytes``
    /// long: a record header (format, event, flags: 3 bytes), then the item's stored bytes, repeated to the
    /// length.
    func nextWrites(_ count: Int, _ kind: RawWrite.Kind) -> [RawWrite] {
        defer { nextItem += count }
        return (nextItem..<nextItem + count).map { index in
            let value = EddyLayout.valueBytes(EddyLayout.item(index))
            var write = RawWrite(key: EddyLayout.key(index), value: value, readsFirst: kind == .readItemAndRecord)
            if kind != .item {
                var key: [UInt8] = []
                key.reserveCapacity(28)
                withUnsafeBytes(of: UInt64(1).bigEndian) { key.append(contentsOf: $0) }
                withUnsafeBytes(of: UInt32(index % 4).bigEndian) { key.append(contentsOf: $0) }
                withUnsafeBytes(of: UInt64(index + 1).bigEndian) { key.append(contentsOf: $0) }
                withUnsafeBytes(of: UInt64(1_800_000_000_000 + index / 100).bigEndian) { key.append(contentsOf: $0) }
                var record: [UInt8] = [1, 1, 0]
                record.reserveCapacity(rawRecordBytes)
                while record.count < rawRecordBytes {
                    record.append(contentsOf: value.prefix(rawRecordBytes - record.count))
                }
                write.record = (key, record)
            }
            return write
        }
    }

    /// Stops the client threads, closes RocksDB and deletes the directory.
    func close() {
        pool?.stop()
        pool = nil
        db = nil  // the last reference: RocksDB closes here
        directory.remove()
    }
}
