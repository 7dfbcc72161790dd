import Eddy
import EddyStorage
import Foundation

/// The benchmark items, and the exact RocksDB key and value bytes Eddy stores for each.
///
/// An item is four string attributes whose DynamoDB size (attribute names plus values) is exactly 100 bytes:
///
///     id      "item-00000042"                 2 + 13 = 15
///     name    "customer-00000042-abc"         4 + 21 = 25
///     email   "00000042@example.com"          5 + 20 = 25
///     payload 28 bytes                        7 + 28 = 35
///
/// Eddy stores it in the `items` column family under a 27-byte key (table id, partition hash, escaped
/// partition key) with a 114-byte value (`ItemEncoding`). `EddyLayout` rebuilds those bytes for the raw
/// baseline, and ``verify()`` checks them against what `Database.putItem` really wrote, so the raw baseline
/// writes the same bytes as Eddy.
public enum EddyLayout {
    /// The name of the benchmark table.
    public static let tableName = "Bench"
    /// The id of the first table of a fresh database (checked by ``verify()``).
    public static let tableId: UInt64 = 1

    /// The partition key value of item `index`: `item-` and eight digits.
    public static func itemId(_ index: Int) -> String {
        "item-" + digits8(index)
    }

    /// Benchmark item `index` (`0 ..< 100_000_000`), 100 bytes.
    public static func item(_ index: Int) -> Item {
        let number = digits8(index)
        return [
            "id": .s("item-" + number),
            "name": .s("customer-" + number + "-abc"),
            "email": .s(number + "@example.com"),
            "payload": .s("0123456789abcdefghijklmnopqr"),
        ]
    }

    /// Writes `items` to the benchmark table of `db` with BatchWriteItem, 25 at a time from 8 tasks.
    public static func batchWrite(_ items: [Item], into db: Database) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in 0..<8 {
                group.addTask {
                    for start in stride(from: client * 25, to: items.count, by: 8 * 25) {
                        let requests = items[start..<min(start + 25, items.count)].map { WriteRequest(putRequest: PutRequest(item: $0)) }
                        _ = try await db.batchWriteItem(BatchWriteItemInput(requestItems: [tableName: requests]))
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// The `items` key of item `index`.
    public static func key(_ index: Int) -> [UInt8] {
        keyBytes(id: itemId(index))
    }

    private static func digits8(_ value: Int) -> String {
        precondition(value >= 0 && value < 100_000_000)
        let text = String(value)
        return String(repeating: "0", count: 8 - text.count) + text
    }

    /// The `items` key of an item of table `tableId` whose partition key is the string `id`: big-endian table
    /// id, FNV-1a partition hash, escaped UTF-8 with terminator (Eddy's `ItemKey`, `KeyEncoding`, `PartitionHash`).
    public static func keyBytes(id: String) -> [UInt8] {
        var partition: [UInt8] = []
        for byte in id.utf8 {
            partition.append(byte)
            if byte == 0 { partition.append(0xFF) }
        }
        partition.append(0x00)
        partition.append(0x01)
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in partition {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        let folded = UInt32(truncatingIfNeeded: hash ^ (hash >> 32))
        var key: [UInt8] = []
        key.reserveCapacity(12 + partition.count)
        withUnsafeBytes(of: tableId.bigEndian) { key.append(contentsOf: $0) }
        withUnsafeBytes(of: folded.bigEndian) { key.append(contentsOf: $0) }
        key.append(contentsOf: partition)
        return key
    }

    /// The stored value of an item of string attributes (Eddy's `ItemEncoding`): format byte 1, attribute count,
    /// then each name length-prefixed and its value as tag 1 plus length-prefixed UTF-8, in the item's own
    /// iteration order (as Eddy iterates the same dictionary).
    public static func valueBytes(_ item: Item) -> [UInt8] {
        var bytes: [UInt8] = [1]
        bytes.reserveCapacity(128)
        appendVarint(item.count, to: &bytes)
        for (name, value) in item {
            guard case .s(let string) = value else { fatalError("benchmark items hold strings only") }
            appendVarint(name.utf8.count, to: &bytes)
            bytes.append(contentsOf: name.utf8)
            bytes.append(1)
            appendVarint(string.utf8.count, to: &bytes)
            bytes.append(contentsOf: string.utf8)
        }
        return bytes
    }

    private static func appendVarint(_ value: Int, to bytes: inout [UInt8]) {
        var rest = UInt(value)
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    /// Writes a few items through `Database.putItem`, then reads Eddy's `items` column family back and checks
    /// that every stored key and value is byte for byte what ``keyBytes(id:)`` and ``valueBytes(_:)`` build.
    public static func verify() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let sample = [0, 1, 42, 99_999, 12_345_678]
        var expected: [[UInt8]: [UInt8]] = [:]
        do {
            let db = try await EddyFixture.openDatabase(at: directory.path)
            for index in sample {
                let item = item(index)
                precondition(ItemSize.of(item) == 100, "benchmark item is \(ItemSize.of(item)) bytes, not 100")
                try await db.putItem(PutItemInput(tableName: tableName, item: item))
                expected[keyBytes(id: itemId(index))] = valueBytes(item)
            }
        }  // the Database closes here
        let store = try RocksDBStore(path: directory.path)
        let cursor = try store.scan(in: .items, from: nil, to: nil, direction: .forward, snapshot: nil)
        var seen = 0
        while let (key, value) = try cursor.next() {
            guard let want = expected[key] else { fatalError("Eddy stored an unexpected key \(key)") }
            guard want == value else {
                fatalError("Eddy stored value \(value) (\(value.count) B), the baseline builds \(want) (\(want.count) B)")
            }
            seen += 1
        }
        precondition(seen == sample.count, "Eddy stored \(seen) items, expected \(sample.count)")
    }
}

/// A fresh directory under the system's temporary directory, for one benchmark's data.
public struct TemporaryDirectory: Sendable {
    /// The directory's path; nothing is created there until a database opens it.
    public let path: String

    /// A new, unique path.
    public init() {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("eddy-bench-\(UUID().uuidString)").path
    }

    /// Deletes the directory and everything in it.
    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// The Eddy databases of the benchmarks.
public enum EddyFixture {
    /// Eddy's default configuration without throttling: the benchmarks write faster than DynamoDB's default
    /// quota of an on-demand table (40,000 write units a second), as DynamoDB only allows once the quota is
    /// raised. Capacity accounting still runs: every operation works out what it consumed.
    public static var configuration: Database.Configuration {
        Database.Configuration(throttlingEnabled: false)
    }

    /// A database with Eddy's default configuration (durability `.processCrashSafe` unless `durability` says
    /// otherwise, streams of four shards) but without throttling (``configuration``), and the benchmark table,
    /// whose partition key is the string `id`; the table has a stream recording `streamViewType` if one is
    /// given, and none otherwise.
    public static func openDatabase(
        at path: String, streamViewType: StreamViewType? = nil, durability: Durability = .processCrashSafe
    ) async throws -> Database {
        var configuration = Self.configuration
        configuration.durability = durability
        let db = try Database(path: path, configuration: configuration)
        try await db.createTable(CreateTableInput(
            tableName: EddyLayout.tableName,
            keySchema: [KeySchemaElement(attributeName: "id", keyType: .hash)],
            attributeDefinitions: [AttributeDefinition(attributeName: "id", attributeType: .s)],
            billingMode: .payPerRequest,
            streamSpecification: streamViewType.map { StreamSpecification(streamEnabled: true, streamViewType: $0) }))
        return db
    }
}
