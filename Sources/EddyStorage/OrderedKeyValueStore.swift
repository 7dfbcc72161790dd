/// A key space of the store: one RocksDB column family each.
///
/// Every kind of data Eddy keeps lives in its own key space, so that each can be tuned, scanned and
/// range-deleted on its own.
public enum KeySpace: String, CaseIterable, Sendable {
    /// Table definitions (the catalog) and database-wide metadata.
    case catalog
    /// Items of every table, keyed by table id, partition hash, partition key and sort key.
    case items
    /// Stream records, keyed by stream id, shard and sequence number, and the commit-time marks that
    /// retention trims by.
    case streams
    /// Trigger mappings and their per-shard checkpoints.
    case triggers
    /// Entries of secondary indexes, keyed by index id, the index's key and the table's key.
    case indexes
}

/// How far a write must reach before ``OrderedKeyValueStore/write(_:durability:)`` returns.
public enum Durability: String, Sendable, CaseIterable {
    /// The write is in the write-ahead log (in the operating system's page cache): it survives a crash of
    /// the process (`kill -9`), not a crash of the machine or a power loss.
    case processCrashSafe = "wal"
    /// The write-ahead log is fsynced before returning: the write survives a machine crash or power loss.
    case machineCrashSafe = "fsync"
}

/// One operation of a ``StorageBatch``.
public enum StorageOperation: Sendable, Equatable {
    case put(space: KeySpace, key: [UInt8], value: [UInt8])
    case delete(space: KeySpace, key: [UInt8])
    /// Deletes every key `k` with `start <= k < end`.
    case deleteRange(space: KeySpace, start: [UInt8], end: [UInt8])
}

/// A list of writes applied atomically: all of them or none.
public struct StorageBatch: Sendable, Equatable {
    /// The operations, in the order they are applied.
    public private(set) var operations: [StorageOperation] = []

    public init() {}

    /// Whether the batch holds no operation.
    public var isEmpty: Bool { operations.isEmpty }

    /// Adds a put of `value` at `key`.
    public mutating func put(_ key: [UInt8], _ value: [UInt8], in space: KeySpace) {
        operations.append(.put(space: space, key: key, value: value))
    }

    /// Adds a delete of `key`.
    public mutating func delete(_ key: [UInt8], in space: KeySpace) {
        operations.append(.delete(space: space, key: key))
    }

    /// Adds a delete of every key in `start ..< end`.
    public mutating func deleteRange(from start: [UInt8], to end: [UInt8], in space: KeySpace) {
        operations.append(.deleteRange(space: space, start: start, end: end))
    }

    /// Appends every operation of `other`, after those already here.
    public mutating func append(contentsOf other: StorageBatch) {
        operations.append(contentsOf: other.operations)
    }
}

/// The order in which a range is visited.
public enum ScanDirection: Sendable {
    case forward
    case backward
}

/// A consistent, read-only view of the store as of one moment.
public protocol StorageSnapshot: AnyObject, Sendable {}

/// A cursor over a key range, in one direction. Not shared between tasks.
public protocol StorageCursor: AnyObject {
    /// The next key and value of the range, or nil at its end.
    func next() throws(StorageError) -> (key: [UInt8], value: [UInt8])?
}

/// An ordered key-value engine: the contract Eddy's layers above storage rely on.
///
/// Keys are compared as unsigned bytes. A batch is atomic. Reads see every write that has returned; with a
/// snapshot they see the store as of the snapshot's creation.
public protocol OrderedKeyValueStore: AnyObject, Sendable {
    /// The value at `key`, or nil.
    func get(_ key: [UInt8], in space: KeySpace, snapshot: (any StorageSnapshot)?) throws(StorageError) -> [UInt8]?

    /// Applies `batch` atomically. Blocks the calling thread until the batch is as durable as `durability`.
    func write(_ batch: StorageBatch, durability: Durability) throws(StorageError)

    /// Applies `batch` as ``write(_:durability:)`` does, unless the engine would stall it (hold it back or
    /// slow it down while compaction catches up): then it writes nothing and returns false at once. A caller
    /// on a thread that must not block writes this way first and hands a refused batch to a thread that may.
    func writeUnlessStalled(_ batch: StorageBatch, durability: Durability) throws(StorageError) -> Bool

    /// A cursor over the keys `k` with `lowerBound <= k < upperBound` (nil bound: unbounded), in `direction`.
    func scan(
        in space: KeySpace,
        from lowerBound: [UInt8]?,
        to upperBound: [UInt8]?,
        direction: ScanDirection,
        snapshot: (any StorageSnapshot)?
    ) throws(StorageError) -> any StorageCursor

    /// A snapshot of the store as of now; released when the last reference goes.
    func makeSnapshot() -> any StorageSnapshot

    /// Closes the store once the calls, cursors and snapshots in use end; every use after that throws.
    func close() async
}

extension OrderedKeyValueStore {
    /// A store that holds nothing to release closes when its last reference goes: this does nothing.
    public func close() async {}
}

/// An error of the storage engine, with the engine's own message.
extension OrderedKeyValueStore {
    /// An engine that never stalls a write writes it.
    public func writeUnlessStalled(_ batch: StorageBatch, durability: Durability) throws(StorageError) -> Bool {
        try write(batch, durability: durability)
        return true
    }
}

public struct StorageError: Error, Sendable, CustomStringConvertible {
    /// The engine's message (RocksDB's error string).
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { "storage error: \(message)" }
}
