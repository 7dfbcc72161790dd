import CRocksDB

/// A RocksDB snapshot of one ``RocksDBStore``.
///
/// Holds the store strongly and counts as a use of it, because RocksDB requires a snapshot to be released before
/// its database is closed. It also owns the read options that point at it, shared by every `get` through the
/// snapshot (RocksDB only reads them, so concurrent use is safe). A snapshot of a closed store has no handle:
/// every read through it throws ``RocksDBStore/closedError``.
final class RocksDBSnapshot: StorageSnapshot, @unchecked Sendable {
    let store: RocksDBStore
    let handle: OpaquePointer?
    let readOptions: OpaquePointer

    /// A snapshot of `store` as of now, whose use of the store has begun (``RocksDBStore/beginUse()``).
    init(of store: RocksDBStore) {
        self.store = store
        handle = rocksdb_create_snapshot(store.db)
        readOptions = rocksdb_readoptions_create()
        rocksdb_readoptions_set_snapshot(readOptions, handle)
    }

    /// A snapshot of `store`, which is closed: it holds nothing.
    init(ofClosed store: RocksDBStore) {
        self.store = store
        handle = nil
        readOptions = rocksdb_readoptions_create()
    }

    deinit {
        rocksdb_readoptions_destroy(readOptions)
        if let handle {
            rocksdb_release_snapshot(store.db, handle)
            store.endUse()
        }
    }
}
