import CRocksDBBench
import EddyStorage
import Foundation

/// The raw baseline: RocksDB through its C API and nothing else.
///
/// It opens RocksDB exactly as Eddy's `RocksDBStore` does (same options, same column families: `default` and
/// one per `KeySpace`) and writes into the `items` column family, with write
/// options equal to Eddy's default durability `.processCrashSafe`: write-ahead log on, no sync. A put is one
/// `rocksdb_put_cf`; a get is one `rocksdb_get_pinned_cf` whose value is looked at in place (no copy).
public final class RawRocksDB: @unchecked Sendable {
    private let db: OpaquePointer
    private let families: [OpaquePointer]
    private let items: OpaquePointer
    private let streams: OpaquePointer
    private let indexes: OpaquePointer
    private let catalog: OpaquePointer
    private let writeOptions: OpaquePointer
    private let readOptions: OpaquePointer

    /// Opens (creating) the database at `path`; with `sync`, every write waits for the write-ahead log's
    /// fsync, as Eddy's `.machineCrashSafe` does.
    public init(path: String, sync: Bool = false) {
        // Mirrors RocksDBStore.Options() defaults and RocksDBStore.Options.makeRocksDBOptions() in the Eddy
        // package's Sources/EddyStorage/RocksDBStore+Options.swift, and RocksDBStore.init's column families.
        let options = rocksdb_options_create()!
        defer { rocksdb_options_destroy(options) }
        rocksdb_options_set_create_if_missing(options, 1)
        rocksdb_options_set_create_missing_column_families(options, 1)
        rocksdb_options_increase_parallelism(options, 2)
        rocksdb_options_optimize_level_style_compaction(options, 64 << 20)
        rocksdb_options_set_level_compaction_dynamic_level_bytes(options, 1)
        rocksdb_options_set_memtable_prefix_bloom_size_ratio(options, 0.02)
        rocksdb_options_set_memtable_whole_key_filtering(options, 1)
        let table = rocksdb_block_based_options_create()
        rocksdb_block_based_options_set_filter_policy(table, rocksdb_filterpolicy_create_bloom_full(10))
        let cache = rocksdb_cache_create_lru(32 << 20)
        rocksdb_block_based_options_set_block_cache(table, cache)
        rocksdb_cache_destroy(cache)
        rocksdb_options_set_block_based_table_factory(options, table)
        rocksdb_block_based_options_destroy(table)

        let names = ["default"] + KeySpace.allCases.map(\.rawValue)
        let cNames = names.map { strdup($0) }
        defer { cNames.forEach { free($0) } }
        let cNamePointers = cNames.map { UnsafePointer($0) }
        let familyOptions = [OpaquePointer?](repeating: options, count: names.count)
        var handles = [OpaquePointer?](repeating: nil, count: names.count)
        var error: UnsafeMutablePointer<CChar>?
        let opened = rocksdb_open_column_families(
            options, path, Int32(names.count), cNamePointers, familyOptions, &handles, &error)
        if let error { fatalError("RocksDB open failed: \(String(cString: error))") }
        db = opened!
        families = handles.map { $0! }
        items = families[names.firstIndex(of: KeySpace.items.rawValue)!]
        streams = families[names.firstIndex(of: KeySpace.streams.rawValue)!]
        indexes = families[names.firstIndex(of: KeySpace.indexes.rawValue)!]
        catalog = families[names.firstIndex(of: KeySpace.catalog.rawValue)!]
        writeOptions = rocksdb_writeoptions_create()  // WAL on, sync off: Eddy's `.processCrashSafe`
        if sync { rocksdb_writeoptions_set_sync(writeOptions, 1) }
        readOptions = rocksdb_readoptions_create()
    }

    deinit {
        rocksdb_readoptions_destroy(readOptions)
        rocksdb_writeoptions_destroy(writeOptions)
        families.forEach(rocksdb_column_family_handle_destroy)
        rocksdb_close(db)
    }

    /// Puts `value` at `key` in the `items` column family.
    public func put(_ key: [UInt8], _ value: [UInt8]) {
        var error: UnsafeMutablePointer<CChar>?
        key.withUnsafeBytes { key in
            value.withUnsafeBytes { value in
                rocksdb_put_cf(
                    db, writeOptions, items,
                    key.baseAddress!.assumingMemoryBound(to: CChar.self), key.count,
                    value.baseAddress!.assumingMemoryBound(to: CChar.self), value.count,
                    &error)
            }
        }
        if let error { fatalError("RocksDB put failed: \(String(cString: error))") }
    }

    /// Puts `value` at `key` in the `items` column family and `recordValue` at `recordKey` in the `streams`
    /// column family, atomically: one `rocksdb_write` of a write batch holding the two puts, the physical
    /// work of an item change and its stream record.
    public func putWithRecord(_ key: [UInt8], _ value: [UInt8], recordKey: [UInt8], recordValue: [UInt8]) {
        write([(items, key, value), (streams, recordKey, recordValue)])
    }

    /// Puts `value` at `key` in the `items` column family and each entry in the `indexes` column family,
    /// atomically: one `rocksdb_write` of a write batch, the physical work of an item change and its index
    /// entries.
    public func putWithEntries(_ key: [UInt8], _ value: [UInt8], entries: [(key: [UInt8], value: [UInt8])]) {
        write([(items, key, value)] + entries.map { (indexes, $0.key, $0.value) })
    }

    /// Reads the item at `key` (a `get` that misses for a new item), then puts `value` at `key` in the `items`
    /// column family and `counterValue` at `counterKey` in the `catalog` column family in one `rocksdb_write`:
    /// the physical work of a write that keeps its table's item count and size exact (the read finds the size
    /// of the item replaced, the batch carries the counter).
    public func putCounted(_ key: [UInt8], _ value: [UInt8], counterKey: [UInt8], counterValue: [UInt8]) {
        _ = get(key)
        write([(items, key, value), (catalog, counterKey, counterValue)])
    }

    /// One `rocksdb_write` of a write batch holding `puts`.
    private func write(_ puts: [(family: OpaquePointer, key: [UInt8], value: [UInt8])]) {
        let batch = rocksdb_writebatch_create()
        defer { rocksdb_writebatch_destroy(batch) }
        for put in puts {
            put.key.withUnsafeBytes { key in
                put.value.withUnsafeBytes { value in
                    rocksdb_writebatch_put_cf(
                        batch, put.family,
                        key.baseAddress!.assumingMemoryBound(to: CChar.self), key.count,
                        value.baseAddress!.assumingMemoryBound(to: CChar.self), value.count)
                }
            }
        }
        var error: UnsafeMutablePointer<CChar>?
        rocksdb_write(db, writeOptions, batch, &error)
        if let error { fatalError("RocksDB write failed: \(String(cString: error))") }
    }

    /// The length of the value at `key` (-1 if absent), read in place from RocksDB's pinned slice.
    public func get(_ key: [UInt8]) -> Int {
        var error: UnsafeMutablePointer<CChar>?
        let pinned = key.withUnsafeBytes { key in
            rocksdb_get_pinned_cf(
                db, readOptions, items, key.baseAddress!.assumingMemoryBound(to: CChar.self), key.count, &error)
        }
        if let error { fatalError("RocksDB get failed: \(String(cString: error))") }
        guard let pinned else { return -1 }
        var length = 0
        let value = rocksdb_pinnableslice_value(pinned, &length)
        // Touch the first byte so the read is not a length-only lookup.
        let first = length > 0 ? Int(UInt8(bitPattern: value![0])) : 0
        rocksdb_pinnableslice_destroy(pinned)
        return length + (first & 0)
    }
}

/// A fixed pool of threads for the raw multi-client benchmark: made once, woken per iteration, so an
/// iteration measures RocksDB puts and not thread creation.
public final class ClientThreads: @unchecked Sendable {
    /// The number of threads.
    public let count: Int
    private let start: [DispatchSemaphore]
    private let done = DispatchSemaphore(value: 0)
    private var work: (@Sendable (Int) -> Void)?
    private var stopping = false

    /// Starts `count` threads, each waiting for work.
    public init(count: Int) {
        self.count = count
        start = (0..<count).map { _ in DispatchSemaphore(value: 0) }
        for client in 0..<count {
            let thread = Thread { [self] in self.loop(client) }
            thread.name = "raw-client-\(client)"
            thread.start()
        }
    }

    private func loop(_ client: Int) {
        while true {
            start[client].wait()
            if stopping {
                done.signal()
                return
            }
            work!(client)
            done.signal()
        }
    }

    /// Runs `body(client)` on every thread of the pool at once and returns when all are done.
    public func run(_ body: @escaping @Sendable (Int) -> Void) {
        work = body
        for semaphore in start { semaphore.signal() }
        for _ in 0..<count { done.wait() }
        work = nil
    }

    /// Ends the threads; the pool cannot run anything afterwards.
    public func stop() {
        stopping = true
        for semaphore in start { semaphore.signal() }
        for _ in 0..<count { done.wait() }
    }
}

/// A task executor with one thread per core, for the Eddy multi-client benchmarks.
///
/// The benchmark runner blocks one thread of Swift's global executor for the whole of every benchmark (its async
/// `BenchmarkRunner.run()` calls `Benchmark.runAsync()`, which waits on a semaphore). On Linux the global
/// executor has one thread per core, so on this 2-core machine Eddy's 8 tasks would share one core while the raw
/// baseline's 8 threads use both. Running the tasks on this executor gives them every core, as an application's
/// tasks would have.
public final class CoreExecutor: TaskExecutor, @unchecked Sendable {
    /// The executor of every benchmark.
    public static let shared = CoreExecutor(threads: ProcessInfo.processInfo.activeProcessorCount)

    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var head = 0

    private init(threads: Int) {
        for index in 0..<threads {
            let thread = Thread { [self] in self.work() }
            thread.name = "eddy-bench-executor-\(index)"
            thread.start()
        }
    }

    /// Runs `job` on the next free thread, in first-in first-out order.
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while head == jobs.count {
                condition.wait()
            }
            let job = jobs[head]
            head += 1
            if head == jobs.count {
                jobs.removeAll(keepingCapacity: true)
                head = 0
            }
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
