import CRocksDB

/// A RocksDB snapshot of one ``RocksDBStore``.
///
/// Holds the store strongly, because RocksDB requires a snapshot to be released before its database is closed.
/// It also owns the read options that point at it, shared by every `get` through the snapshot (RocksDB only reads
/// them, so concurrent use is safe).
final class RocksDBSnapshot: StorageSnapshot, @unchecked Sendable {
    let store: RocksDBStore
    let handle: OpaquePointer
    let readOptions: OpaquePointer

    init(of store: RocksDBStore) {
        self.store = store
        handle = rocksdb_create_snapshot(store.db)
        readOptions = rocksdb_readoptions_create()
        rocksdb_readoptions_set_snapshot(readOptions, handle)
    }

    deinit {
        rocksdb_readoptions_destroy(readOptions)
        rocksdb_release_snapshot(store.db, handle)
    }
}
