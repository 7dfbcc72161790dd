// Eddy's PutItem and GetItem of 100-byte items against raw RocksDB puts and gets of the same encoded bytes,
// in the same run. See ../../README.md for the command that runs them and prints the Eddy/raw ratios.
//
// Four pairs, each an Eddy benchmark and its raw RocksDB baseline:
//
//     PutItem.Eddy / PutItem.RawRocksDB                    new items, one writer
//     GetItem.Eddy / GetItem.RawRocksDB                    existing items, one reader
//     PutItem.8writers.Eddy / PutItem.8writers.RawRocksDB  new items, 8 concurrent writers
//     GetItem.8readers.Eddy / GetItem.8readers.RawRocksDB  existing items, 8 concurrent readers
//
// Two physical bounds, PutItem.RawRocksDBCounted and PutItem.8writers.RawRocksDBCounted, add to the raw put
// what Eddy's table counters need: a get of the item (which misses, as the write's read of the item it replaces
// does) and a 16-byte counter in the item's batch.
//
// Two diagnostics, PutItem.EddyStorage and GetItem.EddyStorage (StorageLayer.swift), run the same puts and gets
// through Eddy's storage layer alone, to split Eddy's cost between its storage wrapper and its item layer.
//
// The names put the two halves of a pair next to each other: the benchmark tool runs benchmarks in name order,
// so each Eddy figure is measured seconds apart from its baseline, under the same machine load.
//
// Every benchmark gets a fresh temporary data directory in its setup and deletes it in its teardown. One
// iteration is 1,000 operations (`scalingFactor: .kilo`); the reported throughput is operations per second.
// Building the items and byte arrays of an iteration happens before `startMeasurement()` and freeing them
// after `stopMeasurement()`, so only the puts and gets themselves are measured, for Eddy and raw alike.
import Benchmark
import BenchmarkSupport
import Eddy
import Foundation

/// Operations per iteration; equals the `.kilo` scaling factor.
let operationsPerIteration = 1_000
/// Writers (readers) of the concurrent put (get) benchmarks.
let clientCount = 8
/// Items written before the get benchmarks start.
let prefillCount = 100_000

let benchmarks: @Sendable () -> Void = {
    // A fixed number of iterations rather than a fixed time: Eddy and raw RocksDB then write the same number of
    // items, so RocksDB's background flushes and compactions have the same work to do on both sides.
    func configuration(iterations: Int) -> Benchmark.Configuration {
        .init(
            metrics: [.throughput, .wallClock, .mallocCountTotal],
            warmupIterations: 5,
            scalingFactor: .kilo,
            maxDuration: .seconds(60),
            maxIterations: iterations
        )
    }
    let puts = configuration(iterations: 200)  // 200,000 new items
    let gets = configuration(iterations: 500)  // 500,000 gets of the 100,000 prefilled items
    precondition(puts.scalingFactor.rawValue == operationsPerIteration)
    registerStorageBenchmarks(puts: puts, gets: gets)

    // MARK: Puts, one writer

    // The bare put, and (`Counted`) the bound of the table counters.
    for counted in [false, true] {
        let rawPut = Box<RawFixture>()
        Benchmark("PutItem.RawRocksDB\(counted ? "Counted" : "")", configuration: puts) { benchmark in
            let fixture = rawPut.value!
            let db: RawRocksDB = fixture.db
            let (keys, values) = fixture.nextPuts(operationsPerIteration)
            let counters = counted ? fixture.nextCounters(operationsPerIteration) : []
            benchmark.startMeasurement()
            for index in 0..<keys.count {
                if counted {
                    db.putCounted(keys[index], values[index], counterKey: RawFixture.counterKey, counterValue: counters[index])
                } else {
                    db.put(keys[index], values[index])
                }
            }
            benchmark.stopMeasurement()
        } setup: {
            try await EddyLayout.verify()
            rawPut.value = RawFixture(prefilled: false)
        } teardown: {
            rawPut.take()?.close()
        }
    }

    let eddyPut = Box<EddyFixture.State>()
    Benchmark("PutItem.Eddy", configuration: puts) { benchmark in
        let fixture = eddyPut.value!
        let db: Database = fixture.db
        let inputs = fixture.nextPuts(operationsPerIteration)
        benchmark.startMeasurement()
        for input in inputs {
            try await db.putItem(input)
        }
        benchmark.stopMeasurement()
    } setup: {
        eddyPut.value = try await EddyFixture.State(prefilled: false)
    } teardown: {
        eddyPut.take()?.close()
    }

    // MARK: Gets of existing keys, one reader

    let rawGet = Box<RawFixture>()
    Benchmark("GetItem.RawRocksDB", configuration: gets) { benchmark in
        let fixture = rawGet.value!
        let db: RawRocksDB = fixture.db
        let keys = fixture.nextGets(operationsPerIteration)
        let valueCount = EddyLayout.valueCount
        benchmark.startMeasurement()
        for key in keys {
            guard db.get(key) == valueCount else { fatalError("a get missed") }
        }
        benchmark.stopMeasurement()
    } setup: {
        try await EddyLayout.verify()
        rawGet.value = RawFixture(prefilled: true)
    } teardown: {
        rawGet.take()?.close()
    }

    let eddyGet = Box<EddyFixture.State>()
    Benchmark("GetItem.Eddy", configuration: gets) { benchmark in
        let fixture = eddyGet.value!
        let db: Database = fixture.db
        let inputs = fixture.nextGets(operationsPerIteration)
        benchmark.startMeasurement()
        for input in inputs {
            guard try await db.getItem(input).item?.count == 4 else { fatalError("a get missed") }
        }
        benchmark.stopMeasurement()
    } setup: {
        eddyGet.value = try await EddyFixture.State(prefilled: true)
    } teardown: {
        eddyGet.take()?.close()
    }

    // MARK: Puts, 8 concurrent writers

    for counted in [false, true] {
        let rawPut8 = Box<RawFixture>()
        Benchmark("PutItem.8writers.RawRocksDB\(counted ? "Counted" : "")", configuration: puts) { benchmark in
            let fixture = rawPut8.value!
            let (keys, values) = fixture.nextPuts(operationsPerIteration)
            let counters = counted ? fixture.nextCounters(operationsPerIteration) : []
            let db: RawRocksDB = fixture.db
            benchmark.startMeasurement()
            fixture.pool!.run { client in
                var index = client
                while index < keys.count {
                    if counted {
                        db.putCounted(keys[index], values[index], counterKey: RawFixture.counterKey, counterValue: counters[index])
                    } else {
                        db.put(keys[index], values[index])
                    }
                    index += clientCount
                }
            }
            benchmark.stopMeasurement()
        } setup: {
            try await EddyLayout.verify()
            let fixture = RawFixture(prefilled: false)
            fixture.pool = ClientThreads(count: clientCount)
            rawPut8.value = fixture
        } teardown: {
            rawPut8.take()?.close()
        }
    }

    let eddyPut8 = Box<EddyFixture.State>()
    Benchmark("PutItem.8writers.Eddy", configuration: puts) { benchmark in
        let fixture = eddyPut8.value!
        let inputs = fixture.nextPuts(operationsPerIteration)
        let db: Database = fixture.db
        benchmark.startMeasurement()
        await withTaskGroup(of: Void.self) { group in
            for client in 0..<clientCount {
                group.addTask(executorPreference: CoreExecutor.shared) {
                    var index = client
                    while index < inputs.count {
                        do {
                            try await db.putItem(inputs[index])
                        } catch {
                            fatalError("PutItem failed: \(error)")
                        }
                        index += clientCount
                    }
                }
            }
        }
        benchmark.stopMeasurement()
    } setup: {
        eddyPut8.value = try await EddyFixture.State(prefilled: false)
    } teardown: {
        eddyPut8.take()?.close()
    }

    // MARK: Gets of existing keys, 8 concurrent readers

    let rawGet8 = Box<RawFixture>()
    Benchmark("GetItem.8readers.RawRocksDB", configuration: gets) { benchmark in
        let fixture = rawGet8.value!
        let db: RawRocksDB = fixture.db
        let keys = fixture.nextGets(operationsPerIteration)
        let valueCount = EddyLayout.valueCount
        benchmark.startMeasurement()
        fixture.pool!.run { reader in
            var index = reader
            while index < keys.count {
                guard db.get(keys[index]) == valueCount else { fatalError("a get missed") }
                index += clientCount
            }
        }
        benchmark.stopMeasurement()
    } setup: {
        try await EddyLayout.verify()
        let fixture = RawFixture(prefilled: true)
        fixture.pool = ClientThreads(count: clientCount)
        rawGet8.value = fixture
    } teardown: {
        rawGet8.take()?.close()
    }

    let eddyGet8 = Box<EddyFixture.State>()
    Benchmark("GetItem.8readers.Eddy", configuration: gets) { benchmark in
        let fixture = eddyGet8.value!
        let db: Database = fixture.db
        let inputs = fixture.nextGets(operationsPerIteration)
        benchmark.startMeasurement()
        await withTaskGroup(of: Void.self) { group in
            for reader in 0..<clientCount {
                group.addTask(executorPreference: CoreExecutor.shared) {
                    var index = reader
                    while index < inputs.count {
                        do {
                            guard try await db.getItem(inputs[index]).item?.count == 4 else {
                                fatalError("a get missed")
                            }
                        } catch {
                            fatalError("GetItem failed: \(error)")
                        }
                        index += clientCount
                    }
                }
            }
        }
        benchmark.stopMeasurement()
    } setup: {
        eddyGet8.value = try await EddyFixture.State(prefilled: true)
    } teardown: {
        eddyGet8.take()?.close()
    }
}

// MARK: - Fixtures

/// The order in which the get benchmarks read the prefilled keys: a fixed pseudo-random permutation of
/// `0..<prefillCount`, the same for Eddy and raw RocksDB.
let getOrder: [Int] = {
    var generator = SplitMix64(seed: 0x5EED)
    return Array(0..<prefillCount).shuffled(using: &generator)
}()

struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension EddyLayout {
    /// The stored value size of every benchmark item (checked by the raw get benchmark).
    static let valueCount = valueBytes(item(0)).count
}

/// Raw RocksDB in a fresh directory.
final class RawFixture: @unchecked Sendable {
    let directory = TemporaryDirectory()
    private(set) var db: RawRocksDB!
    var pool: ClientThreads?
    /// The index of the next new item for the put benchmarks.
    private var nextItem = 0
    private var getKeys: [[UInt8]] = []
    private var getCursor = 0

    /// A fresh database; if `prefilled`, holding items `0..<prefillCount`, read in ``getOrder``.
    init(prefilled: Bool) {
        db = RawRocksDB(path: directory.path)
        if prefilled {
            for index in 0..<prefillCount {
                db.put(EddyLayout.key(index), EddyLayout.valueBytes(EddyLayout.item(index)))
            }
            nextItem = prefillCount
            getKeys = getOrder.map(EddyLayout.key)
        }
    }

    /// The key and value bytes of the next `count` new items.
    func nextPuts(_ count: Int) -> ([[UInt8]], [[UInt8]]) {
        var keys: [[UInt8]] = []
        var values: [[UInt8]] = []
        keys.reserveCapacity(count)
        values.reserveCapacity(count)
        for index in nextItem..<nextItem + count {
            keys.append(EddyLayout.key(index))
            values.append(EddyLayout.valueBytes(EddyLayout.item(index)))
        }
        nextItem += count
        return (keys, values)
    }

    /// The key of the table counter of the counted put benchmarks: Eddy's `counters/<table id>`.
    static let counterKey = Array("counters/".utf8) + [UInt8](repeating: 0, count: 7) + [1]

    /// The counter values of the next `count` counted puts (item count and size, 8 bytes big-endian each), as
    /// they grow with the items ``nextPuts(_:)`` hands out; call it after that.
    func nextCounters(_ count: Int) -> [[UInt8]] {
        (nextItem - count..<nextItem).map { written in
            let items = UInt64(written + 1)
            let bytes = items * UInt64(EddyLayout.valueCount)
            return withUnsafeBytes(of: items.bigEndian, Array.init) + withUnsafeBytes(of: bytes.bigEndian, Array.init)
        }
    }

    /// The keys of the next `count` gets, continuing round ``getOrder``.
    func nextGets(_ count: Int) -> [[UInt8]] {
        (0..<count).map { _ in
            defer { getCursor = getCursor + 1 == getKeys.count ? 0 : getCursor + 1 }
            return getKeys[getCursor]
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

extension EddyFixture {
    /// An Eddy database with the default configuration in a fresh directory.
    final class State: @unchecked Sendable {
        let directory = TemporaryDirectory()
        private(set) var db: Database!
        private var nextItem = 0
        private var getInputs: [GetItemInput] = []
        private var getCursor = 0

        /// A fresh database; if `prefilled`, holding items `0..<prefillCount` (written with PutItem), read in
        /// ``getOrder``.
        init(prefilled: Bool) async throws {
            db = try await EddyFixture.openDatabase(at: directory.path)
            if prefilled {
                for index in 0..<prefillCount {
                    try await db.putItem(PutItemInput(tableName: EddyLayout.tableName, item: EddyLayout.item(index)))
                }
                nextItem = prefillCount
                getInputs = getOrder.map {
                    GetItemInput(tableName: EddyLayout.tableName, key: ["id": .s(EddyLayout.itemId($0))])
                }
            }
        }

        /// The PutItem requests of the next `count` new items.
        func nextPuts(_ count: Int) -> [PutItemInput] {
            let inputs = (nextItem..<nextItem + count).map {
                PutItemInput(tableName: EddyLayout.tableName, item: EddyLayout.item($0))
            }
            nextItem += count
            return inputs
        }

        /// The GetItem requests of the next `count` gets, continuing round ``getOrder``.
        func nextGets(_ count: Int) -> [GetItemInput] {
            (0..<count).map { _ in
                defer { getCursor = getCursor + 1 == getInputs.count ? 0 : getCursor + 1 }
                return getInputs[getCursor]
            }
        }

        /// Closes the database and deletes the directory.
        func close() {
            db = nil  // the last reference: the Database and its RocksDB close here
            directory.remove()
        }
    }
}
