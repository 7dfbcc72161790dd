import EddyStorage
import Foundation
import Synchronization

@testable import Eddy

/// A store that hands every call to a RocksDB store, where a test can stall writes (hold them back, as
/// RocksDB does while compaction catches up, and refuse them to a writer that asks not to be stalled), see
/// each write the database made (its thread's name as the kernel has it, its item puts, its bytes), and make
/// scans of a key space, or writes, fail.
final class ControlledStore: OrderedKeyValueStore {
    /// One write the database handed the store.
    struct Write: Sendable {
        var threadName: String?
        var itemPuts: Int
        var bytes: Int
    }

    private struct State {
        var held = false
        var heldWriters = 0
        var refusedWrites = 0
        var writes: [Write] = []
        var failingScans: KeySpace?
        var failingWrites = false
    }

    let inner: RocksDBStore
    private let state = Mutex(State())
    private let released = DispatchSemaphore(value: 0)

    init(_ inner: RocksDBStore) {
        self.inner = inner
    }

    /// Writes from now on wait in the store until ``release()``, and ``writeUnlessStalled(_:durability:)``
    /// refuses them.
    func hold() {
        state.withLock { $0.held = true }
    }

    /// Lets the writes held back go on, and the next ones through.
    func release() {
        let waiting = state.withLock { state in
            state.held = false
            return state.heldWriters
        }
        for _ in 0..<waiting { released.signal() }
    }

    /// How many writes ``writeUnlessStalled(_:durability:)`` refused.
    var refusedWriteCount: Int { state.withLock { $0.refusedWrites } }

    /// How many writes wait in the store.
    var heldWriterCount: Int { state.withLock { $0.heldWriters } }

    /// Every write that reached RocksDB, in order.
    var writes: [Write] { state.withLock { $0.writes } }

    /// Scans of `space` fail from now on (nil: none fail).
    func failScans(of space: KeySpace?) {
        state.withLock { $0.failingScans = space }
    }

    /// Writes fail from now on (`true`) or go through again (`false`).
    func failWrites(_ failing: Bool) {
        state.withLock { $0.failingWrites = failing }
    }

    func write(_ batch: StorageBatch, durability: Durability) throws(StorageError) {
        if state.withLock({ $0.failingWrites }) { throw StorageError("injected: the disk is full") }
        let waits = state.withLock { state in
            if state.held { state.heldWriters += 1 }
            return state.held
        }
        if waits {
            released.wait()
            state.withLock { $0.heldWriters -= 1 }
        }
        try inner.write(batch, durability: durability)
        let threadName = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8))?
            .trimmingCharacters(in: .newlines)
        var write = Write(threadName: threadName, itemPuts: 0, bytes: 0)
        for operation in batch.operations {
            switch operation {
            case .put(let space, let key, let value):
                if space == .items { write.itemPuts += 1 }
                write.bytes += key.count + value.count
            case .delete(_, let key):
                write.bytes += key.count
            case .deleteRange(_, let start, let end):
                write.bytes += start.count + end.count
            }
        }
        state.withLock { $0.writes.append(write) }
    }

    func writeUnlessStalled(_ batch: StorageBatch, durability: Durability) throws(StorageError) -> Bool {
        let refused = state.withLock { state in
            if state.held { state.refusedWrites += 1 }
            return state.held
        }
        if refused { return false }
        try write(batch, durability: durability)
        return true
    }

    func get(_ key: [UInt8], in space: KeySpace, snapshot: (any StorageSnapshot)?) throws(StorageError) -> [UInt8]? {
        try inner.get(key, in: space, snapshot: snapshot)
    }

    func scan(
        in space: KeySpace, from lowerBound: [UInt8]?, to upperBound: [UInt8]?, direction: ScanDirection,
        snapshot: (any StorageSnapshot)?
    ) throws(StorageError) -> any StorageCursor {
        if state.withLock({ $0.failingScans == space }) { throw StorageError("injected: the disk is gone") }
        return try inner.scan(in: space, from: lowerBound, to: upperBound, direction: direction, snapshot: snapshot)
    }

    func makeSnapshot() -> any StorageSnapshot {
        inner.makeSnapshot()
    }

    func close() async {
        await inner.close()
    }
}
