import Benchmark
import BenchmarkSupport
import EddyStorage
import Foundation

/// Diagnostics, not part of the four Eddy/raw pairs: the same puts and gets through `EddyStorage.RocksDBStore`
/// alone (Eddy's storage layer, without its item layer), to tell the cost of the storage wrapper from the cost
/// of the item layer above it. A put is one `StorageBatch` of one put written with `.processCrashSafe`; a get
/// returns the value copied into a `[UInt8]`, as Eddy's item layer receives it.
final class StorageFixture: @unchecked Sendable {
    let directory = TemporaryDirectory()
    private(set) var store: RocksDBStore!
    private var nextItem = 0
    private var getKeys: [[UInt8]] = []
    private var getCursor = 0

    init(prefilled: Bool) throws {
        store = try RocksDBStore(path: directory.path)
        if prefilled {
            for index in 0..<prefillCount {
                var batch = StorageBatch()
                batch.put(EddyLayout.key(index), EddyLayout.valueBytes(EddyLayout.item(index)), in: .items)
                try store.write(batch, durability: .processCrashSafe)
            }
            nextItem = prefillCount
            getKeys = getOrder.map(EddyLayout.key)
        }
    }

    /// One-put batches of the next `count` new items.
    func nextPuts(_ count: Int) -> [StorageBatch] {
        defer { nextItem += count }
        return (nextItem..<nextItem + count).map { index in
            var batch = StorageBatch()
            batch.put(EddyLayout.key(index), EddyLayout.valueBytes(EddyLayout.item(index)), in: .items)
            return batch
        }
    }

    /// The keys of the next `count` gets, continuing round ``getOrder``.
    func nextGets(_ count: Int) -> [[UInt8]] {
        (0..<count).map { _ in
            defer { getCursor = getCursor + 1 == getKeys.count ? 0 : getCursor + 1 }
            return getKeys[getCursor]
        }
    }

    /// Closes the store and deletes the directory.
    func close() {
        store = nil  // the last reference: RocksDB closes here
        directory.remove()
    }
}

/// Registers `PutItem.EddyStorage` and `GetItem.EddyStorage`.
func registerStorageBenchmarks(puts: Benchmark.Configuration, gets: Benchmark.Configuration) {
    let put = Box<StorageFixture>()
    Benchmark("PutItem.EddyStorage", configuration: puts) { benchmark in
        let fixture = put.value!
        let store: RocksDBStore = fixture.store
        let batches = fixture.nextPuts(operationsPerIteration)
        benchmark.startMeasurement()
        for batch in batches {
            try store.write(batch, durability: .processCrashSafe)
        }
        benchmark.stopMeasurement()
    } setup: {
        put.value = try StorageFixture(prefilled: false)
    } teardown: {
        put.take()?.close()
    }

    let get = Box<StorageFixture>()
    Benchmark("GetItem.EddyStorage", configuration: gets) { benchmark in
        let fixture = get.value!
        let store: RocksDBStore = fixture.store
        let keys = fixture.nextGets(operationsPerIteration)
        let valueCount = EddyLayout.valueCount
        benchmark.startMeasurement()
        for key in keys {
            guard try store.get(key, in: .items, snapshot: nil)?.count == valueCount else { fatalError("a get missed") }
        }
        benchmark.stopMeasurement()
    } setup: {
        get.value = try StorageFixture(prefilled: true)
    } teardown: {
        get.take()?.close()
    }
}
