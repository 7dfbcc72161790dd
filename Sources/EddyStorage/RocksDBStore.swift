import CRocksDB
import Foundation
import Synchronization

/// An ``OrderedKeyValueStore`` over RocksDB (through its C API), one column family per ``KeySpace``.
///
/// The store owns every RocksDB handle it opens and closes the database when ``close()`` succeeds or, failing
/// that, when its last reference goes. Snapshots and cursors it hands out hold it strongly and count as in use:
/// ``close()`` waits for them, since RocksDB requires them released before the database closes.
/// All methods may be called from any thread at once (RocksDB synchronizes internally); a cursor belongs to one
/// task at a time.
public final class RocksDBStore: OrderedKeyValueStore, @unchecked Sendable {
    /// The name of the column family RocksDB always has, which Eddy does not use.
    private static let defaultColumnFamily = "default"

    /// The open database; not private because snapshots and cursors read through it.
    let db: OpaquePointer
    /// Twice the number of calls, snapshots and cursors using the database now, plus 1 once the store is
    /// closing: a use starts by adding 2 and backs out if it finds the closing bit set.
    private let uses = Atomic<Int>(0)
    /// Whether RocksDB's handles are released; set once, by ``close()`` or `deinit`.
    private let released = Atomic<Bool>(false)
    /// The in-memory file system the database lives in, for a store opened ``init(inMemory:options:)``.
    private let memoryEnvironment: OpaquePointer?
    /// Every open column family handle, including `default` and families no ``KeySpace`` names, to destroy on close.
    private let columnFamilies: [OpaquePointer]
    private let keySpaces: [KeySpace: OpaquePointer]
    /// Read options for reads without a snapshot, shared because RocksDB only reads them.
    private let latestReadOptions: OpaquePointer
    /// Write options for each ``Durability``, made once so that a write allocates none; the `Unstalled` ones
    /// also set `no_slowdown` (``writeUnlessStalled(_:durability:)``).
    private let processCrashSafeWriteOptions: OpaquePointer
    private let machineCrashSafeWriteOptions: OpaquePointer
    private let processCrashSafeUnstalledWriteOptions: OpaquePointer
    private let machineCrashSafeUnstalledWriteOptions: OpaquePointer
    /// The options the database was opened with, kept when they collect statistics: RocksDB reads its
    /// statistics through them.
    private let statisticsOptions: OpaquePointer?

    /// Opens the database at `path`, creating the directory (and its missing parents) and the database if missing.
    ///
    /// Opens one column family per ``KeySpace`` (named by its raw value), creating the missing ones, plus any other
    /// column family the database already has (RocksDB refuses to open a database without all of them).
    ///
    /// - Throws: ``StorageError`` with RocksDB's message if RocksDB cannot open the database (for instance when
    ///   `path` is a regular file, or another process holds the database's lock).
    public convenience init(path: String, options: Options = .init()) throws(StorageError) {
        try Self.createParentDirectory(of: path)
        try self.init(path: path, options: options, memoryEnvironment: nil)
    }

    /// Opens a new, empty database in RocksDB's in-memory environment: the same engine, write-ahead log and
    /// compactions, with every file kept in this process's memory. Nothing is written to disk, and everything
    /// is gone once the store is closed.
    public convenience init(inMemory options: Options = .init()) throws(StorageError) {
        let environment = rocksdb_create_mem_env()!
        do {
            try self.init(path: "/eddy-in-memory", options: options, memoryEnvironment: environment)
        } catch {
            rocksdb_env_destroy(environment)
            throw error
        }
    }

    /// Opens the database at `path`: in `memoryEnvironment` if given (which the opened store then owns and
    /// destroys after closing), else on disk.
    private init(path: String, options: Options, memoryEnvironment: OpaquePointer?) throws(StorageError) {
        let rocksDBOptions = options.makeRocksDBOptions()
        if let memoryEnvironment { rocksdb_options_set_env(rocksDBOptions, memoryEnvironment) }
        // Kept for the store's life once it is open, if they collect statistics.
        var keepsOptions = false
        defer {
            if !keepsOptions { rocksdb_options_destroy(rocksDBOptions) }
        }

        let required = [Self.defaultColumnFamily] + KeySpace.allCases.map(\.rawValue)
        let others = Self.existingColumnFamilies(at: path, options: rocksDBOptions).filter { !required.contains($0) }
        let names = required + others
        let cNames = names.map { strdup($0) }
        defer {
            for name in cNames {
                free(name)
            }
        }
        let cNamePointers = cNames.map { UnsafePointer($0) }
        let familyOptions = [OpaquePointer?](repeating: rocksDBOptions, count: names.count)
        var handles = [OpaquePointer?](repeating: nil, count: names.count)
        let opened = try rocksDBCall { error in
            rocksdb_open_column_families(
                rocksDBOptions, path, Int32(names.count), cNamePointers, familyOptions, &handles, error)
        }
        guard let opened else {
            throw StorageError("RocksDB opened no database at \(path) and reported no error")
        }

        let families = handles.map { $0! }
        db = opened
        columnFamilies = families
        keySpaces = Dictionary(
            uniqueKeysWithValues: KeySpace.allCases.map { space in
                (space, families[names.firstIndex(of: space.rawValue)!])
            })
        latestReadOptions = rocksdb_readoptions_create()
        processCrashSafeWriteOptions = rocksdb_writeoptions_create()
        machineCrashSafeWriteOptions = rocksdb_writeoptions_create()
        rocksdb_writeoptions_set_sync(machineCrashSafeWriteOptions, 1)
        processCrashSafeUnstalledWriteOptions = rocksdb_writeoptions_create()
        rocksdb_writeoptions_set_no_slowdown(processCrashSafeUnstalledWriteOptions, 1)
        machineCrashSafeUnstalledWriteOptions = rocksdb_writeoptions_create()
        rocksdb_writeoptions_set_sync(machineCrashSafeUnstalledWriteOptions, 1)
        rocksdb_writeoptions_set_no_slowdown(machineCrashSafeUnstalledWriteOptions, 1)
        keepsOptions = options.collectsStatistics
        statisticsOptions = keepsOptions ? rocksDBOptions : nil
        self.memoryEnvironment = memoryEnvironment
    }

    deinit {
        release()
    }

    /// The error of every use of a closed store.
    public static let closedError = StorageError("The database is closed")

    /// Whether ``close()`` has been called.
    public var isClosed: Bool {
        uses.load(ordering: .acquiring) & 1 == 1
    }

    /// Closes the database once nothing uses it: from this call on, every new `get`, `write`, `scan` and
    /// `flush` throws ``closedError`` and every new snapshot is one such reads fail with; the calls in progress,
    /// the cursors and the snapshots still held finish first. Then RocksDB's handles are released, so that the
    /// directory can be opened again right away. Calling it again, or at once from several tasks, is harmless:
    /// each returns once the database is closed.
    public func close() async {
        uses.bitwiseOr(1, ordering: .acquiringAndReleasing)
        while uses.load(ordering: .acquiring) != 1 {
            // A cursor or snapshot in use ends with the operation holding it, within moments.
            try? await Task.sleep(for: .milliseconds(1))
        }
        release()
    }

    /// Releases RocksDB's handles, the first time only.
    private func release() {
        guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
        rocksdb_writeoptions_destroy(machineCrashSafeWriteOptions)
        rocksdb_writeoptions_destroy(processCrashSafeWriteOptions)
        rocksdb_writeoptions_destroy(machineCrashSafeUnstalledWriteOptions)
        rocksdb_writeoptions_destroy(processCrashSafeUnstalledWriteOptions)
        rocksdb_readoptions_destroy(latestReadOptions)
        // RocksDB requires the column family handles to be destroyed before the database is closed.
        columnFamilies.forEach(rocksdb_column_family_handle_destroy)
        rocksdb_close(db)
        statisticsOptions.map(rocksdb_options_destroy)
        memoryEnvironment.map(rocksdb_env_destroy)
    }

    /// Marks the start of a use of the database, or throws ``closedError`` if the store is closing.
    @inline(__always)
    func beginUse() throws(StorageError) {
        guard uses.wrappingAdd(2, ordering: .acquiringAndReleasing).newValue & 1 == 0 else {
            endUse()
            throw Self.closedError
        }
    }

    /// Marks the end of a use begun with ``beginUse()``.
    @inline(__always)
    func endUse() {
        uses.wrappingSubtract(2, ordering: .acquiringAndReleasing)
    }

    /// The count of RocksDB's statistics ticker `name`, such as `rocksdb.wal.synced` (how many times the
    /// write-ahead log was synced to the disk), or nil when the store does not
    /// ``Options/collectsStatistics`` or RocksDB has no such ticker.
    public func statisticsTicker(_ name: String) -> UInt64? {
        guard (try? beginUse()) != nil else { return nil }
        defer { endUse() }
        guard let statisticsOptions, let text = rocksdb_options_statistics_get_string(statisticsOptions) else { return nil }
        defer { rocksdb_free(text) }
        // A ticker's line reads `rocksdb.wal.synced COUNT : 12`.
        let prefix = name + " COUNT : "
        return String(cString: text).split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { UInt64($0.dropFirst(prefix.count)) }
    }

    /// RocksDB creates the database's own directory but not its parents.
    private static func createParentDirectory(of path: String) throws(StorageError) {
        let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw StorageError("cannot create directory \(parent): \(error.localizedDescription)")
        }
    }

    /// The column families of the database at `path`, or none if there is no database there yet.
    private static func existingColumnFamilies(at path: String, options: OpaquePointer) -> [String] {
        var count = 0
        var error: UnsafeMutablePointer<CChar>?
        // RocksDB returns a (possibly empty) malloc'ed list even when it reports an error.
        let list = rocksdb_list_column_families(options, path, &count, &error)
        defer {
            if let list {
                rocksdb_list_column_families_destroy(list, count)
            }
            rocksdb_free(error)
        }
        // A failure here mostly means there is no database yet; if it is anything else, opening the database
        // fails too and reports it.
        guard error == nil, let list else { return [] }
        return (0..<count).compactMap { index in list[index].map { String(cString: $0) } }
    }

    /// The column family of `space`; every key space has one from `init` on.
    @inline(__always)
    private func columnFamily(_ space: KeySpace) -> OpaquePointer {
        keySpaces[space]!
    }

    /// The RocksDB snapshot behind `snapshot`, which must come from this store's ``makeSnapshot()``.
    @inline(__always)
    private func ownSnapshot(_ snapshot: (any StorageSnapshot)?) throws(StorageError) -> RocksDBSnapshot? {
        guard let snapshot else { return nil }
        guard let own = snapshot as? RocksDBSnapshot, own.store === self else {
            throw StorageError("the snapshot was not taken from this store")
        }
        guard own.handle != nil else { throw Self.closedError }
        return own
    }

    /// The value at `key` in `space` (as of `snapshot` if given, else the latest), or nil.
    ///
    /// The value is copied once, out of RocksDB's pinned buffer into the returned array.
    public func get(
        _ key: [UInt8], in space: KeySpace, snapshot: (any StorageSnapshot)?
    ) throws(StorageError) -> [UInt8]? {
        try beginUse()
        defer { endUse() }
        let readOptions = try ownSnapshot(snapshot)?.readOptions ?? latestReadOptions
        let family = columnFamily(space)
        let pinned = try rocksDBCall { error in
            key.withUnsafeBufferPointer { key in
                rocksdb_get_pinned_cf(db, readOptions, family, key.cChars, key.count, error)
            }
        }
        guard let pinned else { return nil }
        defer { rocksdb_pinnableslice_destroy(pinned) }
        var length = 0
        let value = rocksdb_pinnableslice_value(pinned, &length)
        return copyBytes(value, count: length)
    }

    /// Applies `batch` atomically, as one RocksDB write batch, in the order of its operations.
    ///
    /// Every write goes through the write-ahead log. With ``Durability/processCrashSafe`` the call returns once
    /// the log record is written to the operating system, so the batch survives a crash of this process but not
    /// of the machine. With ``Durability/machineCrashSafe`` the log is also fsynced before returning, so the batch
    /// survives a power loss too, at the cost of a disk flush per call.
    public func write(_ batch: StorageBatch, durability: Durability) throws(StorageError) {
        _ = try write(batch, durability: durability, refusingStalls: false)
    }

    /// Applies `batch` as ``write(_:durability:)`` does, unless RocksDB would delay or stop it for a write stall
    /// (its `no_slowdown` write option): then nothing is written and the answer is false.
    public func writeUnlessStalled(_ batch: StorageBatch, durability: Durability) throws(StorageError) -> Bool {
        try write(batch, durability: durability, refusingStalls: true)
    }

    private func write(_ batch: StorageBatch, durability: Durability, refusingStalls: Bool) throws(StorageError) -> Bool {
        guard !batch.isEmpty else { return true }
        try beginUse()
        defer { endUse() }
        let writeBatch = rocksdb_writebatch_create()
        defer { rocksdb_writebatch_destroy(writeBatch) }
        // The write batch copies every key and value, so the buffers need only live for each call.
        for operation in batch.operations {
            switch operation {
            case .put(let space, let key, let value):
                key.withUnsafeBufferPointer { key in
                    value.withUnsafeBufferPointer { value in
                        rocksdb_writebatch_put_cf(
                            writeBatch, columnFamily(space), key.cChars, key.count, value.cChars, value.count)
                    }
                }
            case .delete(let space, let key):
                key.withUnsafeBufferPointer { key in
                    rocksdb_writebatch_delete_cf(writeBatch, columnFamily(space), key.cChars, key.count)
                }
            case .deleteRange(let space, let start, let end):
                // RocksDB fails the whole batch on an inverted range, which the protocol defines as empty.
                guard start.lexicographicallyPrecedes(end) else { continue }
                start.withUnsafeBufferPointer { start in
                    end.withUnsafeBufferPointer { end in
                        rocksdb_writebatch_delete_range_cf(
                            writeBatch, columnFamily(space), start.cChars, start.count, end.cChars, end.count)
                    }
                }
            }
        }
        let writeOptions =
            switch (durability, refusingStalls) {
            case (.processCrashSafe, false): processCrashSafeWriteOptions
            case (.processCrashSafe, true): processCrashSafeUnstalledWriteOptions
            case (.machineCrashSafe, false): machineCrashSafeWriteOptions
            case (.machineCrashSafe, true): machineCrashSafeUnstalledWriteOptions
            }
        do {
            try rocksDBCall { rocksdb_write(db, writeOptions, writeBatch, $0) }
        } catch where refusingStalls && error.message.hasPrefix(Self.stalledWriteStatus) {
            return false
        }
        return true
    }

    /// How RocksDB's status begins when `no_slowdown` refused a write (`Status::Incomplete("Write stall")`).
    private static let stalledWriteStatus = "Result incomplete"

    /// A cursor over the keys `k` of `space` with `lowerBound <= k < upperBound`, in `direction`, as of `snapshot`
    /// if given, else as of this call.
    ///
    /// The cursor owns its RocksDB iterator and keeps this store open until it is released.
    public func scan(
        in space: KeySpace,
        from lowerBound: [UInt8]?,
        to upperBound: [UInt8]?,
        direction: ScanDirection,
        snapshot: (any StorageSnapshot)?
    ) throws(StorageError) -> any StorageCursor {
        let snapshot = try ownSnapshot(snapshot)
        // The cursor ends the use when it is released.
        try beginUse()
        return RocksDBCursor(
            store: self,
            columnFamily: columnFamily(space),
            lowerBound: lowerBound,
            upperBound: upperBound,
            direction: direction,
            snapshot: snapshot
        )
    }

    /// A snapshot of every key space as of now.
    ///
    /// RocksDB keeps every version the snapshot can see until it is released, which happens when its last
    /// reference goes: hold it no longer than needed. It keeps this store open while it lives. A snapshot of a
    /// closed store holds nothing, and every read through it throws ``closedError``.
    public func makeSnapshot() -> any StorageSnapshot {
        do {
            try beginUse()
        } catch {
            return RocksDBSnapshot(ofClosed: self)
        }
        // The snapshot ends the use when it is released.
        return RocksDBSnapshot(of: self)
    }

    /// Writes the memtables of every column family to table files and waits until they are written.
    ///
    /// Not needed for durability (the write-ahead log gives that); it lets tests and tools read from table files.
    public func flush() throws(StorageError) {
        try beginUse()
        defer { endUse() }
        let flushOptions = rocksdb_flushoptions_create()
        defer { rocksdb_flushoptions_destroy(flushOptions) }
        rocksdb_flushoptions_set_wait(flushOptions, 1)
        for family in columnFamilies {
            try rocksDBCall { rocksdb_flush_cf(db, flushOptions, family, $0) }
        }
    }
}
