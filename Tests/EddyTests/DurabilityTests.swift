import EddyStorage
import Foundation
import Synchronization
import Testing

@testable import Eddy

/// What each durability mode promises, shown where a test can see it. A `kill -9` keeps the operating system's
/// page cache, so no crash test can tell a write the log has in the page cache from one fsynced to the disk:
/// instead these tests watch every write the database hands its store, and count RocksDB's own log syncs.
/// (That the disk keeps what was synced cannot be shown without cutting the machine's power.)
@Suite(.timeLimit(.minutes(5))) struct DurabilityTests {
    @Test(arguments: [Durability.processCrashSafe, Durability.machineCrashSafe])
    func aWriteIsAcknowledgedOnlyOnceItsBatchIsAsDurableAsTheModePromises(durability: EddyStorage.Durability) async throws {
        try await withTemporaryDirectory { path in
            let store = WatchedStore(try RocksDBStore(path: path + "/db", options: .init(collectsStatistics: true)))
            let db = try Database(store: store, configuration: .init(durability: durability))
            _ = try await createStreamTable(db, "Users")
            let acknowledged = Acknowledgements()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<8 {
                    group.addTask {
                        for index in 0..<25 {
                            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": .s("w\(writer)-\(index)")]))
                            // Every put written so far includes this one's, if the database waited for its write.
                            let count = acknowledged.count()
                            let written = store.itemPutsWritten(durability)
                            #expect(written >= count, "\(count) puts acknowledged, \(written) written")
                        }
                    }
                }
                try await group.waitForAll()
            }
            // Every write of the database, the catalog's included, has the mode's durability.
            let writes = store.writeCounts
            #expect(writes.keys.allSatisfy { $0 == durability }, "\(writes)")
            let synced = try #require(store.inner.statisticsTicker("rocksdb.wal.synced"))
            switch durability {
            case .machineCrashSafe:
                // One log sync per write: a group of commits shares one.
                #expect(synced == UInt64(writes[durability, default: 0]) && synced > 0, "\(synced) syncs for \(writes) writes")
            case .processCrashSafe:
                #expect(synced == 0)
            }
        }
    }
}

/// Counts acknowledged writes from several tasks.
private final class Acknowledgements: Sendable {
    private let total = Mutex(0)

    /// Counts one more; returns how many so far.
    func count() -> Int {
        total.withLock { total in
            total += 1
            return total
        }
    }
}

/// A store that hands every call to a RocksDB store and counts, once each write has returned, the writes and
/// the item puts of each durability. A write waits a moment before it reaches RocksDB, as a slow disk's fsync
/// would, so that an acknowledgement that did not wait for its write shows as an item put not yet counted.
final class WatchedStore: OrderedKeyValueStore {
    let inner: RocksDBStore
    private let counts = Mutex<(writes: [Durability: Int], itemPuts: [Durability: Int])>(([:], [:]))

    init(_ inner: RocksDBStore) {
        self.inner = inner
    }

    /// How many writes have returned, by durability.
    var writeCounts: [Durability: Int] { counts.withLock { $0.writes } }

    /// How many puts in the items key space writes of `durability` have written.
    func itemPutsWritten(_ durability: Durability) -> Int {
        counts.withLock { $0.itemPuts[durability, default: 0] }
    }

    func write(_ batch: StorageBatch, durability: Durability) throws(StorageError) {
        usleep(2_000)
        try inner.write(batch, durability: durability)
        let itemPuts = batch.operations.count { operation in
            if case .put(.items, _, _) = operation { true } else { false }
        }
        counts.withLock { counts in
            counts.writes[durability, default: 0] += 1
            counts.itemPuts[durability, default: 0] += itemPuts
        }
    }

    func get(_ key: [UInt8], in space: KeySpace, snapshot: (any StorageSnapshot)?) throws(StorageError) -> [UInt8]? {
        try inner.get(key, in: space, snapshot: snapshot)
    }

    func scan(
        in space: KeySpace, from lowerBound: [UInt8]?, to upperBound: [UInt8]?, direction: ScanDirection,
        snapshot: (any StorageSnapshot)?
    ) throws(StorageError) -> any StorageCursor {
        try inner.scan(in: space, from: lowerBound, to: upperBound, direction: direction, snapshot: snapshot)
    }

    func makeSnapshot() -> any StorageSnapshot {
        inner.makeSnapshot()
    }
}
