import CRocksDB

/// A cursor over one key range of one column family, backed by a RocksDB iterator.
///
/// It owns the iterator, the read options the iterator was made from, and copies of the range's bounds:
/// `rocksdb_readoptions_set_iterate_lower_bound`/`_upper_bound` keep a pointer to the bytes rather than a copy,
/// and the iterator reads them through the read options until it is destroyed. It holds the store (and the
/// snapshot, if any) strongly and counts as a use of the store, because RocksDB requires iterators to be
/// destroyed before their database closes.
final class RocksDBCursor: StorageCursor {
    private enum Position {
        case beforeStart
        case onEntry
        case pastEnd
    }

    private let store: RocksDBStore
    private let snapshot: RocksDBSnapshot?
    private let direction: ScanDirection
    private let readOptions: OpaquePointer
    private let lowerBound: UnsafeMutableBufferPointer<UInt8>?
    private let upperBound: UnsafeMutableBufferPointer<UInt8>?
    private let iterator: OpaquePointer
    private var position = Position.beforeStart

    init(
        store: RocksDBStore,
        columnFamily: OpaquePointer,
        lowerBound: [UInt8]?,
        upperBound: [UInt8]?,
        direction: ScanDirection,
        snapshot: RocksDBSnapshot?
    ) {
        // The caller has begun the use (``RocksDBStore/beginUse()``) that `deinit` ends.
        self.store = store
        self.snapshot = snapshot
        self.direction = direction
        readOptions = rocksdb_readoptions_create()
        if let snapshot {
            rocksdb_readoptions_set_snapshot(readOptions, snapshot.handle)
        }
        self.lowerBound = lowerBound.map(Self.ownedCopy)
        self.upperBound = upperBound.map(Self.ownedCopy)
        if let bound = self.lowerBound {
            rocksdb_readoptions_set_iterate_lower_bound(readOptions, UnsafeBufferPointer(bound).cChars, bound.count)
        }
        if let bound = self.upperBound {
            rocksdb_readoptions_set_iterate_upper_bound(readOptions, UnsafeBufferPointer(bound).cChars, bound.count)
        }
        iterator = rocksdb_create_iterator_cf(store.db, readOptions, columnFamily)
    }

    deinit {
        rocksdb_iter_destroy(iterator)
        rocksdb_readoptions_destroy(readOptions)
        lowerBound?.deallocate()
        upperBound?.deallocate()
        store.endUse()
    }

    /// A heap copy of `bytes` that lives as long as the cursor.
    ///
    /// At least one byte is allocated so that even an empty bound has an address: RocksDB takes a null pointer
    /// to mean "no bound", whereas an empty upper bound means an empty range.
    private static func ownedCopy(_ bytes: [UInt8]) -> UnsafeMutableBufferPointer<UInt8> {
        let storage = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(bytes.count, 1))
        _ = storage.initialize(from: bytes)
        return UnsafeMutableBufferPointer(rebasing: storage[..<bytes.count])
    }

    func next() throws(StorageError) -> (key: [UInt8], value: [UInt8])? {
        switch (position, direction) {
        case (.pastEnd, _):
            // Moving an iterator that is no longer valid is undefined behaviour in RocksDB.
            return nil
        case (.beforeStart, .forward):
            rocksdb_iter_seek_to_first(iterator)
        case (.beforeStart, .backward):
            rocksdb_iter_seek_to_last(iterator)
        case (.onEntry, .forward):
            rocksdb_iter_next(iterator)
        case (.onEntry, .backward):
            rocksdb_iter_prev(iterator)
        }
        guard rocksdb_iter_valid(iterator) != 0 else {
            position = .pastEnd
            // An iterator also stops being valid on an I/O error or corruption: only its status tells them apart.
            try rocksDBCall { rocksdb_iter_get_error(iterator, $0) }
            return nil
        }
        position = .onEntry
        var keyLength = 0
        var valueLength = 0
        let key = rocksdb_iter_key(iterator, &keyLength)
        let value = rocksdb_iter_value(iterator, &valueLength)
        return (copyBytes(key, count: keyLength), copyBytes(value, count: valueLength))
    }
}
