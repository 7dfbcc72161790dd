// Group commit under fsync (issue 22's point 7): PutItem with `Durability.machineCrashSafe` from 64 concurrent
// writers against one writer, next to RocksDB's own grouping of synced writes (raw `rocksdb_write` with
// `sync` from 64 threads against one), in the same run. See ../../README.md, "Fsync", for the command
// (Benchmarks/fsync.sh) and how the ratios are read.
//
//     Fsync.PutItem.1writer          640 new 100-byte items per iteration, one writer, each acknowledged after fsync
//     Fsync.PutItem.64writers        the same 640 items from 64 concurrent writers (10 each)
//     Fsync.RawRocksDB.1writer       the same stored bytes, one synced rocksdb_put_cf at a time
//     Fsync.RawRocksDB.64writers     the same from 64 threads at once
//
// Every iteration writes the same number of items, so the ratio of two benchmarks' throughputs (iterations
// per second) is the ratio of their writes per second. Each benchmark gets a fresh data directory.
import Benchmark
import BenchmarkSupport
import Eddy
import EddyStorage
import Foundation

/// Items per iteration, for every benchmark here.
let itemsPerIteration = 640
/// Writers of the concurrent benchmarks.
let writerCount = 64

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(
        metrics: [.throughput, .wallClock],
        warmupIterations: 2,
        maxDuration: .seconds(30),
        maxIterations: 40)

    let raw1 = Box<RawSyncedFixture>()
    Benchmark("Fsync.RawRocksDB.1writer", configuration: configuration) { benchmark in
        let fixture = raw1.value!
        let (keys, values) = fixture.next(itemsPerIteration)
        benchmark.startMeasurement()
        for index in keys.indices { fixture.db.put(keys[index], values[index]) }
        benchmark.stopMeasurement()
    } setup: {
        raw1.value = RawSyncedFixture(threads: 0)
    } teardown: {
        raw1.take()?.close()
    }

    let raw64 = Box<RawSyncedFixture>()
    Benchmark("Fsync.RawRocksDB.64writers", configuration: configuration) { benchmark in
        let fixture = raw64.value!
        let (keys, values) = fixture.next(itemsPerIteration)
        let db: RawRocksDB = fixture.db
        benchmark.startMeasurement()
        fixture.pool!.run { writer in
            var index = writer
            while index < keys.count {
                db.put(keys[index], values[index])
                index += writerCount
            }
        }
        benchmark.stopMeasurement()
    } setup: {
        raw64.value = RawSyncedFixture(threads: writerCount)
    } teardown: {
        raw64.take()?.close()
    }

    for writers in [1, writerCount] {
        let source = Box<SyncedPutSource>()
        Benchmark("Fsync.PutItem.\(writers == 1 ? "1writer" : "\(writers)writers")", configuration: configuration) { benchmark in
            let source = source.value!
            let inputs = source.next(itemsPerIteration)
            let db = source.db
            benchmark.startMeasurement()
            await withTaskGroup(of: Void.self) { group in
                for writer in 0..<writers {
                    group.addTask(executorPreference: CoreExecutor.shared) {
                        var index = writer
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
            benchmark.stopMeasurement()
        } setup: {
            source.value = try await SyncedPutSource()
        } teardown: {
            await source.take()?.close()
        }
    }
}

/// A fresh raw RocksDB whose writes are synced, with a pool of `threads` writer threads if not 0.
final class RawSyncedFixture: @unchecked Sendable {
    private let directory = TemporaryDirectory()
    private(set) var db: RawRocksDB!
    let pool: ClientThreads?
    private var nextItem = 0

    init(threads: Int) {
        db = RawRocksDB(path: directory.path, sync: true)
        pool = threads > 0 ? ClientThreads(count: threads) : nil
    }

    /// The key and value bytes of the next `count` new items.
    func next(_ count: Int) -> ([[UInt8]], [[UInt8]]) {
        defer { nextItem += count }
        let indexes = nextItem..<nextItem + count
        return (indexes.map(EddyLayout.key), indexes.map { EddyLayout.valueBytes(EddyLayout.item($0)) })
    }

    func close() {
        pool?.stop()
        db = nil  // the last reference: RocksDB closes here
        directory.remove()
    }
}

/// A fresh machine-crash-safe database with the benchmark table, and the benchmark items in order.
final class SyncedPutSource: @unchecked Sendable {
    private let directory = TemporaryDirectory()
    let db: Database
    private var nextItem = 0

    init() async throws {
        db = try await EddyFixture.openDatabase(at: directory.path, durability: .machineCrashSafe)
    }

    /// The PutItem requests of the next `count` items.
    func next(_ count: Int) -> [PutItemInput] {
        defer { nextItem += count }
        return (nextItem..<nextItem + count).map { PutItemInput(tableName: EddyLayout.tableName, item: EddyLayout.item($0)) }
    }

    func close() async {
        await db.close()
        directory.remove()
    }
}
