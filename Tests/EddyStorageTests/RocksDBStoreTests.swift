import CRocksDB
import EddyStorage
import Foundation
import PropertyBased
import Testing

/// Runs `body` with the path of a directory that does not exist yet, inside a fresh temporary directory that is
/// removed afterwards (with everything RocksDB wrote there).
private func withTemporaryPath<T>(_ body: (String) async throws -> T) async throws -> T {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("eddy-storage-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: root) }
    return try await body(root.appendingPathComponent("db").path)
}

/// Every key and value of the range, read through a cursor until its end.
private func readAll(
    _ store: RocksDBStore,
    in space: KeySpace = .items,
    from lowerBound: [UInt8]? = nil,
    to upperBound: [UInt8]? = nil,
    direction: ScanDirection = .forward,
    snapshot: (any StorageSnapshot)? = nil
) throws -> [(key: [UInt8], value: [UInt8])] {
    let cursor = try store.scan(
        in: space, from: lowerBound, to: upperBound, direction: direction, snapshot: snapshot)
    var entries: [(key: [UInt8], value: [UInt8])] = []
    while let entry = try cursor.next() {
        entries.append(entry)
    }
    return entries
}

private func keys(
    _ store: RocksDBStore,
    from lowerBound: [UInt8]? = nil,
    to upperBound: [UInt8]? = nil,
    direction: ScanDirection = .forward
) throws -> [[UInt8]] {
    try readAll(store, from: lowerBound, to: upperBound, direction: direction).map(\.key)
}

private func put(_ store: RocksDBStore, _ keys: [[UInt8]], in space: KeySpace = .items) throws {
    var batch = StorageBatch()
    for key in keys {
        batch.put(key, [UInt8](repeating: 0xAB, count: key.count), in: space)
    }
    try store.write(batch, durability: .processCrashSafe)
}

/// Unsigned, byte-by-byte order, a shorter prefix first: the order the store promises.
private func unsignedLexicographicOrder(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    a.lexicographicallyPrecedes(b)
}

/// Keys at the edges of the unsigned byte order: 0x00 and 0xFF bytes, the empty key, and keys that are
/// prefixes of others. Sorted.
private let edgeKeys: [[UInt8]] = [
    [],
    [0x00],
    [0x00, 0x00],
    [0x00, 0xFF],
    [0x01],
    [0x7F],
    [0x7F, 0xFF, 0xFF],
    [0x80],
    [0x80, 0x00],
    [0xFE, 0xFF],
    [0xFF],
    [0xFF, 0x00],
    [0xFF, 0xFF],
    [0xFF, 0xFF, 0xFF],
]

@Suite("RocksDBStore", .timeLimit(.minutes(5)))
struct RocksDBStoreTests {
    @Test func putGetAndDelete() async throws {
        try await withTemporaryPath { path in
            let store = try RocksDBStore(path: path)
            #expect(try store.get([1, 2, 3], in: .items, snapshot: nil) == nil)

            var batch = StorageBatch()
            batch.put([1, 2, 3], [9, 8, 7], in: .items)
            batch.put([1, 2], [], in: .items)
            try store.write(batch, durability: .processCrashSafe)
            #expect(try store.get([1, 2, 3], in: .items, snapshot: nil) == [9, 8, 7])
            #expect(try store.get([1, 2], in: .items, snapshot: nil) == [])
            #expect(try store.get([1], in: .items, snapshot: nil) == nil)

            batch = StorageBatch()
            batch.put([1, 2, 3], [6], in: .items)
            try store.write(batch, durability: .machineCrashSafe)
            #expect(try store.get([1, 2, 3], in: .items, snapshot: nil) == [6])

            batch = StorageBatch()
            batch.delete([1, 2, 3], in: .items)
            try store.write(batch, durability: .processCrashSafe)
            #expect(try store.get([1, 2, 3], in: .items, snapshot: nil) == nil)
            #expect(try store.get([1, 2], in: .items, snapshot: nil) == [])
        }
    }

    @Test func largeValuesRoundTrip() async throws {
        try await withTemporaryPath { path in
            let store = try RocksDBStore(path: path)
            let value = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            var batch = StorageBatch()
            batch.put([0x42], value, in: .items)
            try store.write(batch, durability: .processCrashSafe)
            #expect(try store.get([0x42], in: .items, snapshot: nil) == value)
            try store.flush()
            #expect(try store.get([0x42], in: .items, snapshot: nil) == value)
            #expect(try readAll(store).map(\.value) == [value])
        }
    }

    /// Without a write stall, a write that refuses to be stalled (RocksDB's `no_slowdown`) is an ordinary
    /// write, in both durability modes.
    @Test func aWriteUnlessStalledWritesWhenNothingStalls() async throws {
        try await withTemporaryPath { path in
            let store = try RocksDBStore(path: path)
            for (index, durability) in [Durability.processCrashSafe, .machineCrashSafe].enumerated() {
                var batch = StorageBatch()
                batch.put([UInt8(index)], [7], in: .items)
                #expect(try store.writeUnlessStalled(batch, durability: durability))
                #expect(try store.get([UInt8(index)], in: .items, snapshot: nil) == [7])
            }
        }
    }

    @Test func batchAppliesItsOperationsInOrder() async throws {
        try await withTemporaryPath { path in
            let store = try RocksDBStore(path: path)
            var batch = StorageBatch()
            batch.put([1], [1], in: .items)
            batch.delete([1], in: .items)
            batch.delete([2], in: .items)
            batch.put([2], [2], in: .items)
            batch.put([3], [3], in: .items)
            batch.put([3], [33], in: .items)
            batch.put([4], [4], in: .items)
            batch.deleteRange(from: [4], to: [5], in: .items)
            try store.write(batch, durability: .processCrashSafe)

            #expect(try store.get([1], in: .items, snapshot: nil) == nil)
            #expect(try store.get([2], in: .items, snapshot: nil) == [2])
            #expect(try store.get([3], in: .items, snapshot: nil) == [33])
            #expect(try store.get([4], in: .items, snapshot: nil) == nil)
        }
    }

    /// A reader taking snapshots while batches land must never see one half-applied.
    @Test func batchIsAtomic() async throws {
        try await withTemporaryPath { path in
            let store = try RocksDBStore(path: path)
            let rounds = 20_000
            let writer = Task.detached {
                for round in 1...rounds {
                    let value = withUnsafeBytes(of: UInt32(round).bigEndian) { Array($0) }
                    var batch = StorageBatch()
                    batch.put([0x01], value, in: .items)
                    batch.put([0x02], value, in: .catalog)
                    batch.put([0x03], value, in: .items)
                    try store.write(batch, durability: .processCrashSafe)
                }
            }
            let lastValue = withUnsafeBytes(of: UInt32(rounds).bigEndian) { Array($0) }
            var tornReads = 0
            var snapshotsTaken = 0
            // Bounded, so that a failing writer cannot hang the test.
            for _ in 0..<1_000_000 {
                let snapshot = store.makeSnapshot()
                let first = try store.get([0x01], in: .items, snapshot: snapshot)
                let second = try store.get([0x02], in: .catalog, snapshot: snapshot)
                let third = try store.get([0x03], in: .items, snapshot: snapshot)
                snapshotsTaken += 1
                if first != second || second != third {
                    tornReads += 1
                }
                if third == lastValue {
                    break
                }
                await Task.yield()
            }
            try await writer.value
            #expect(snapshotsTaken > 1)
            #expect(tornReads == 0)
        }
    }

    @Test func deleteRangeRemovesExactlyTheHalfOpenRange() async throws {
        try await withTemporaryPath { path in
            let store = try RocksDBStore(path: path)
            try put(store, edgeKeys)
            try store.flush()

            var batch = StorageBatch()
            batch.deleteRange(from: [0x00, 0xFF], to: [0x80, 0x00], in: .items)
            try store.write(batch, durability: .processCrashSafe)
            #expect(
                try keys(store) == [
                    [], [0x00], [0x00, 0x00], [0x80, 0x00], [0xFE, 0xFF], [0xFF], [0xFF, 0x00], [0xFF, 0xFF],
                    [0xFF, 0xFF, 0xFF],
                ])

            // Empty and inverted ranges delete nothing.
            batch = StorageBatch()
            batch.deleteRange(from: [0xFF], to: [0xFF], in: .items)
            batch.deleteRange(from: [0xFF, 0xFF], to: [0x00], in: .items)
            try store.write(batch, durability: .processCrashSafe)
            #expect(try keys(store).count == 9)

            batch = StorageBatch()
            batch.deleteRange(from: [], to: [0xFF, 0xFF], in: .items)
            try store.write(batch, durability: .processCrashSafe)
            #expect(try keys(store) == [[0xFF, 0xFF], [0xFF, 0xFF, 0xFF]])
        }
    }

    @Test func keySpacesAreSeparate() async throws {
        try await withTemporaryPath { path in
            let store = try RocksDBStore(path: path)
            var batch = StorageBatch()
            batch.put([7], [1], in: .catalog)
            batch.put([7], [2], in: .items)
            batch.put([8], [3], in: .items)
            try store.write(batch, durability: .processCrashSafe)
            #expect(try store.get([7], in: .catalog, snapshot: nil) == [1])
            #expect(try store.get([7], in: .items, snapshot: nil) == [2])
            #expect(try store.get([8], in: .catalog, snapshot: nil) == nil)
            #expect(try readAll(store, in: .catalog).map(\.key) == [[7]])

            batch = StorageBatch()
            batch.delete([7], in: .items)
            batch.deleteRange(from: [], to: [0xFF], in: .catalog)
            try store.write(batch, durability: .processCrashSafe)
            #expect(try store.get([7], in: .items, snapshot: nil) == nil)
            #expect(try store.get([8], in: .items, snapshot: nil) == [3])
            #expect(try store.get([7], in: .catalog, snapshot: nil) == nil)
        }
    }

    /// `machineCrashSafe` is proven where a test can see it: RocksDB's own count of write-ahead log syncs (its
    /// `rocksdb.wal.synced` ticker) grows by one per such write, and not at all for `processCrashSafe` writes.
    /// That the disk keeps what was synced cannot be shown without cutting the machine's power.
    @Test func machineCrashSafeWritesSyncTheLogAndProcessCrashSafeOnesDoNot() async throws {
        try await withTemporaryPath { path in
            let store = try RocksDBStore(path: path, options: .init(collectsStatistics: true))
            let synced = { try #require(store.statisticsTicker("rocksdb.wal.synced")) }
            let before = try synced()
            for value in UInt8(0)..<10 {
                var batch = StorageBatch()
                batch.put([value], [value], in: .items)
                try store.write(batch, durability: .processCrashSafe)
            }
            #expect(try synced() == before)
            for value in UInt8(10)..<20 {
                var batch = StorageBatch()
                batch.put([value], [value], in: .items)
                try store.write(batch, durability: .machineCrashSafe)
                #expect(try synced() == before + UInt64(value - 9))
            }
            #expect(try keys(store).count == 20)
        }
    }

    @Test func aStoreWithoutStatisticsHasNoTickers() async throws {
        try await withTemporaryPath { path in
            let store = try RocksDBStore(path: path)
            #expect(store.statisticsTicker("rocksdb.wal.synced") == nil)
        }
    }

    @Test(arguments: [false, true])
    func scansInUnsignedByteOrder(fromTableFiles: Bool) async throws {
        try await withTemporaryPath { path in
            let store = try RocksDBStore(path: path)
            // Written out of order, so that the order read back is the store's.
            try put(store, edgeKeys.reversed())
            if fromTableFiles {
                try store.flush()
            }
            #expect(try keys(store) == edgeKeys)
            #expect(try keys(store, direction: .backward) == edgeKeys.reversed())
        }
    }

    struct Bounds: Sendable, CustomTestStringConvertible {
        var lower: [UInt8]?
        var upper: [UInt8]?
        var testDescription: String { "\(lower.map { "\($0)" } ?? "nil") ..< \(upper.map { "\($0)" } ?? "nil")" }
    }

    @Test(
        arguments: [
            Bounds(lower: nil, upper: nil),
            Bounds(lower: [], upper: nil),
            Bounds(lower: [0x00], upper: [0xFF]),
            Bounds(lower: [0x00, 0x00], upper: [0x80, 0x00]),
            Bounds(lower: [0x7F, 0xFF], upper: nil),
            Bounds(lower: nil, upper: [0x80]),
            Bounds(lower: [0xFF], upper: [0xFF, 0xFF, 0xFF, 0x00]),
            Bounds(lower: [0xFF, 0xFF, 0xFF, 0x00], upper: nil),
            Bounds(lower: [0x80], upper: [0x80]),
            Bounds(lower: [0xFF], upper: [0x00]),
            Bounds(lower: nil, upper: []),
            Bounds(lower: nil, upper: [0x00]),
        ], [ScanDirection.forward, .backward])
    func scansHonourBounds(bounds: Bounds, direction: ScanDirection) async throws {
        try await withTemporaryPath { path in
            let store = try RocksDBStore(path: path)
            try put(store, edgeKeys)
            var expected = edgeKeys.filter { key in
                bounds.lower.map { !key.lexicographicallyPrecedes($0) } ?? true
                    && bounds.upper.map { key.lexicographicallyPrecedes($0) } ?? true
            }
            if direction == .backward {
                expected.reverse()
            }
            #expect(try keys(store, from: bounds.lower, to: bounds.upper, direction: direction) == expected)
            try store.flush()
            #expect(try keys(store, from: bounds.lower, to: bounds.upper, direction: direction) == expected)
        }
    }

    @Test func cursorStaysAtItsEnd() async throws {
        try await withTemporaryPath { path in
            let store = try RocksDBStore(path: path)
            try put(store, [[1], [2]])
            for direction in [ScanDirection.forward, .backward] {
                let cursor = try store.scan(in: .items, from: nil, to: nil, direction: direction, snapshot: nil)
                #expect(try cursor.next() != nil)
                #expect(try cursor.next() != nil)
                #expect(try cursor.next() == nil)
                #expect(try cursor.next() == nil)
            }
        }
    }

    @Test func snapshotDoesNotSeeLaterWrites() async throws {
        try await withTemporaryPath { path in
            let store = try RocksDBStore(path: path)
            var batch = StorageBatch()
            batch.put([1], [1], in: .items)
            batch.put([2], [2], in: .items)
            try store.write(batch, durability: .processCrashSafe)
            let snapshot = store.makeSnapshot()
            let cursorBefore = try store.scan(in: .items, from: nil, to: nil, direction: .forward, snapshot: snapshot)

            batch = StorageBatch()
            batch.put([1], [10], in: .items)
            batch.delete([2], in: .items)
            batch.put([3], [3], in: .items)
            try store.write(batch, durability: .processCrashSafe)
            try store.flush()

            #expect(try store.get([1], in: .items, snapshot: snapshot) == [1])
            #expect(try store.get([2], in: .items, snapshot: snapshot) == [2])
            #expect(try store.get([3], in: .items, snapshot: snapshot) == nil)
            #expect(try readAll(store, snapshot: snapshot).map(\.key) == [[1], [2]])
            #expect(try readAll(store, direction: .backward, snapshot: snapshot).map(\.value) == [[2], [1]])
            #expect(try cursorBefore.next()?.value == [1])

            #expect(try store.get([1], in: .items, snapshot: nil) == [10])
            #expect(try store.get([2], in: .items, snapshot: nil) == nil)
            #expect(try readAll(store).map(\.key) == [[1], [3]])
        }
    }

    @Test func snapshotAndCursorKeepTheStoreOpen() async throws {
        try await withTemporaryPath { path in
            var store: RocksDBStore? = try RocksDBStore(path: path)
            try put(store!, [[1], [2]])
            let snapshot = store!.makeSnapshot()
            let cursor = try store!.scan(in: .items, from: nil, to: nil, direction: .forward, snapshot: nil)
            weak let weakStore = store
            store = nil
            #expect(weakStore != nil)
            #expect(try cursor.next()?.key == [1])
            #expect(try weakStore?.get([2], in: .items, snapshot: snapshot) == [0xAB])
        }
    }

    @Test func snapshotOfAnotherStoreIsRejected() async throws {
        try await withTemporaryPath { path in
            let store = try RocksDBStore(path: path)
            let other = try RocksDBStore(path: path + "-other")
            let foreign = other.makeSnapshot()
            #expect(throws: StorageError.self) { try store.get([1], in: .items, snapshot: foreign) }
            #expect(throws: StorageError.self) {
                try store.scan(in: .items, from: nil, to: nil, direction: .forward, snapshot: foreign)
            }
        }
    }

    @Test func dataAndKeySpacesPersistAcrossReopen() async throws {
        try await withTemporaryPath { path in
            do {
                let store = try RocksDBStore(path: path)
                var batch = StorageBatch()
                batch.put([1], [11], in: .catalog)
                batch.put([1], [21], in: .items)
                try store.write(batch, durability: .machineCrashSafe)
                try store.flush()
                batch = StorageBatch()
                batch.put([2], [22], in: .items)
                batch.delete([1], in: .catalog)
                // Only in the write-ahead log when the store closes.
                try store.write(batch, durability: .processCrashSafe)
            }
            let reopened = try RocksDBStore(path: path)
            #expect(try reopened.get([1], in: .catalog, snapshot: nil) == nil)
            #expect(try reopened.get([1], in: .items, snapshot: nil) == [21])
            #expect(try readAll(reopened).map(\.value) == [[21], [22]])

            var count = 0
            var error: UnsafeMutablePointer<CChar>?
            let options = rocksdb_options_create()
            defer { rocksdb_options_destroy(options) }
            let list = rocksdb_list_column_families(options, path, &count, &error)
            defer { rocksdb_list_column_families_destroy(list, count) }
            #expect(error == nil)
            let names = (0..<count).map { String(cString: list![$0]!) }
            #expect(Set(names) == Set(["default"] + KeySpace.allCases.map(\.rawValue)))
        }
    }

    /// A database holding a column family that no key space names (one from a later version of Eddy, say) still
    /// opens, and that family's data is kept.
    @Test func opensColumnFamiliesNoKeySpaceNames() async throws {
        try await withTemporaryPath { path in
            let options = rocksdb_options_create()
            defer { rocksdb_options_destroy(options) }
            rocksdb_options_set_create_if_missing(options, 1)
            var error: UnsafeMutablePointer<CChar>?
            let db = rocksdb_open(options, path, &error)
            #expect(error == nil)
            let family = rocksdb_create_column_family(db, options, "future", &error)
            #expect(error == nil)
            let writeOptions = rocksdb_writeoptions_create()
            rocksdb_put_cf(db, writeOptions, family, "k", 1, "v", 1, &error)
            #expect(error == nil)
            rocksdb_writeoptions_destroy(writeOptions)
            rocksdb_column_family_handle_destroy(family)
            rocksdb_close(db)

            do {
                let store = try RocksDBStore(path: path)
                try put(store, [[5]])
            }
            let store = try RocksDBStore(path: path)
            #expect(try keys(store) == [[5]])

            var count = 0
            let list = rocksdb_list_column_families(options, path, &count, &error)
            defer { rocksdb_list_column_families_destroy(list, count) }
            #expect(error == nil)
            let names = (0..<count).map { String(cString: list![$0]!) }
            #expect(Set(names) == Set(["default", "future"] + KeySpace.allCases.map(\.rawValue)))
        }
    }

    @Test func createsMissingParentDirectories() async throws {
        try await withTemporaryPath { path in
            let nested = path + "/a/b/db"
            let store = try RocksDBStore(path: nested)
            try put(store, [[1]])
            #expect(FileManager.default.fileExists(atPath: nested + "/CURRENT"))
        }
    }

    @Test func openingARegularFileThrowsRocksDBsError() async throws {
        try await withTemporaryPath { path in
            #expect(FileManager.default.createFile(atPath: path, contents: Data("not a database".utf8)))
            let error = #expect(throws: StorageError.self) { try RocksDBStore(path: path) }
            // RocksDB's own Status text: "IO error: `<path>' exists but is not a directory".
            #expect(error?.message.hasPrefix("IO error: ") == true)
            #expect(error?.message.contains(path) == true)
        }
    }

    @Test func openingALockedDatabaseThrows() async throws {
        try await withTemporaryPath { path in
            let store = try RocksDBStore(path: path)
            let error = #expect(throws: StorageError.self) { try RocksDBStore(path: path) }
            #expect(error?.message.contains("lock") == true)
            try put(store, [[1]])
        }
    }

    @Test func randomKeysScanBackSortedBothWays() async throws {
        try await withTemporaryPath { path in
            let store = try RocksDBStore(path: path)
            // Few distinct bytes, so that keys share prefixes and repeat.
            let alphabet: [UInt8] = [0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF]
            let byte = Gen.int(in: alphabet.indices).map { alphabet[$0] }
            let key = byte.array(of: 0...6)
            let input = zip(key.array(of: 0...40), key.optional, key.optional, Gen.bool)
            // Every generated key sorts before this one, so one range deletion empties the key space.
            let pastEveryKey = [UInt8](repeating: 0xFF, count: 7)
            await propertyCheck(count: 200, input: input) { keySet, lower, upper, flushFirstHalf in
                var batch = StorageBatch()
                batch.deleteRange(from: [], to: pastEveryKey, in: .items)
                try store.write(batch, durability: .processCrashSafe)
                try put(store, Array(keySet.prefix(keySet.count / 2)))
                if flushFirstHalf {
                    try store.flush()
                }
                try put(store, Array(keySet.dropFirst(keySet.count / 2)))

                let sorted = Set(keySet).sorted(by: unsignedLexicographicOrder)
                #expect(try keys(store) == sorted)
                #expect(try keys(store, direction: .backward) == sorted.reversed())

                let inRange = sorted.filter { key in
                    lower.map { !key.lexicographicallyPrecedes($0) } ?? true
                        && upper.map { key.lexicographicallyPrecedes($0) } ?? true
                }
                #expect(try keys(store, from: lower, to: upper) == inRange)
                #expect(try keys(store, from: lower, to: upper, direction: .backward) == inRange.reversed())
            }
        }
    }
}
