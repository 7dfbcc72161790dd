import CRocksDB

extension RocksDBStore {
    /// How a ``RocksDBStore`` tunes RocksDB. The defaults suit a small machine (two cores, a few GiB of memory).
    ///
    /// Every column family gets the same options. The write-ahead log is always on: ``Durability`` relies on it.
    public struct Options: Sendable, Equatable {
        /// Threads RocksDB may use for flushes and compactions together.
        public var backgroundThreads: Int
        /// Size of the LRU cache of uncompressed blocks, shared by every column family.
        public var blockCacheBytes: Int
        /// Bits per key of the Bloom filter of each table file; lets a `get` of a missing key skip most files.
        /// About 10 gives a 1% false-positive rate.
        public var bloomFilterBitsPerKey: Double
        /// Memory budget of the memtables of one column family; also sizes the levels of level-style compaction
        /// (RocksDB's `OptimizeLevelStyleCompaction`).
        public var memtableBudgetBytes: UInt64
        /// The share of a memtable's size given to a Bloom filter of its whole keys (RocksDB's
        /// `memtable_prefix_bloom_size_ratio` with `memtable_whole_key_filtering`); 0 for none. A write that
        /// reads the item it replaces (a table with a stream or indexes) mostly writes new items: the filter
        /// answers such a `get` without searching the memtable's skip list.
        public var memtableBloomSizeRatio: Double
        /// Whether RocksDB counts what it does (its statistics tickers, read with
        /// ``RocksDBStore/statisticsTicker(_:)``), at a small cost on every operation.
        public var collectsStatistics: Bool

        /// Options with the given values; every parameter has a default for a small machine.
        public init(
            backgroundThreads: Int = 2,
            blockCacheBytes: Int = 32 << 20,
            bloomFilterBitsPerKey: Double = 10,
            memtableBudgetBytes: UInt64 = 64 << 20,
            memtableBloomSizeRatio: Double = 0.02,
            collectsStatistics: Bool = false
        ) {
            self.backgroundThreads = backgroundThreads
            self.blockCacheBytes = blockCacheBytes
            self.bloomFilterBitsPerKey = bloomFilterBitsPerKey
            self.memtableBudgetBytes = memtableBudgetBytes
            self.memtableBloomSizeRatio = memtableBloomSizeRatio
            self.collectsStatistics = collectsStatistics
        }

        /// A new `rocksdb_options_t` for both the database and each column family; the caller destroys it.
        ///
        /// RocksDB copies what it needs when it opens the database, so the object may be destroyed right after
        /// (unless it collects statistics, which are read through it).
        func makeRocksDBOptions() -> OpaquePointer {
            let options = rocksdb_options_create()!
            rocksdb_options_set_create_if_missing(options, 1)
            rocksdb_options_set_create_missing_column_families(options, 1)
            rocksdb_options_increase_parallelism(options, Int32(clamping: backgroundThreads))
            rocksdb_options_optimize_level_style_compaction(options, memtableBudgetBytes)
            rocksdb_options_set_level_compaction_dynamic_level_bytes(options, 1)
            if collectsStatistics { rocksdb_options_enable_statistics(options) }
            if memtableBloomSizeRatio > 0 {
                rocksdb_options_set_memtable_prefix_bloom_size_ratio(options, memtableBloomSizeRatio)
                rocksdb_options_set_memtable_whole_key_filtering(options, 1)
            }

            let table = rocksdb_block_based_options_create()
            // The table options take ownership of the filter policy: it must not be destroyed here.
            rocksdb_block_based_options_set_filter_policy(
                table, rocksdb_filterpolicy_create_bloom_full(bloomFilterBitsPerKey))
            // The table options keep their own reference to the cache; this handle only wraps it.
            let cache = rocksdb_cache_create_lru(blockCacheBytes)
            rocksdb_block_based_options_set_block_cache(table, cache)
            rocksdb_cache_destroy(cache)
            // The table factory copies the table options.
            rocksdb_options_set_block_based_table_factory(options, table)
            rocksdb_block_based_options_destroy(table)
            return options
        }
    }
}
