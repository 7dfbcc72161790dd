import EddyStorage
import Foundation
import Synchronization

/// The persistent list of tables, cached in memory.
///
/// Layout in the `catalog` key space: `table/<name>` → the ``TableDefinition`` as JSON (written rarely, read
/// once at open), and `next-table-id` → the next table id, 8 bytes big-endian. A definition and the id
/// counter change in the same batch as the rest of their change.
final class Catalog: Sendable {
    private let tables: Mutex<[String: ResolvedTable]>
    private let nextTableId: Mutex<UInt64>
    /// The database clock, which each table's ``ExpiryRule`` reads.
    private let clock: any WallClock
    /// Makes each table's ``TableMeter``, which the table keeps while it lives.
    private let ledger: CapacityLedger

    private static let tablePrefix = Array("table/".utf8)
    private static let nextTableIdKey = Array("next-table-id".utf8)

    /// Reads the catalog from `store`; `clock` is the database clock, `ledger` makes the tables' meters.
    init(store: any OrderedKeyValueStore, clock: any WallClock, ledger: CapacityLedger) throws(EddyError) {
        self.clock = clock
        self.ledger = ledger
        var tables: [String: ResolvedTable] = [:]
        do {
            let cursor = try store.scan(
                in: .catalog, from: Self.tablePrefix, to: Self.tablePrefix.prefixSuccessor,
                direction: .forward, snapshot: nil)
            while let (_, value) = try cursor.next() {
                let definition = try JSONDecoder().decode(TableDefinition.self, from: Data(value))
                tables[definition.name] = ResolvedTable(definition, clock: clock, meter: ledger.meter(for: definition))
            }
            let counter = try store.get(Self.nextTableIdKey, in: .catalog, snapshot: nil)
            var reader = ByteReader(counter ?? [0, 0, 0, 0, 0, 0, 0, 1])
            nextTableId = Mutex(try reader.readBigEndianUInt64())
        } catch let error as StorageError {
            throw .internalServerError("Cannot read the catalog: \(error.message)")
        } catch {
            throw .internalServerError("The catalog is damaged: \(error)")
        }
        self.tables = Mutex(tables)
    }

    /// Every table's id with its active stream and index version, for the committer's checks.
    var stamps: [UInt64: TableStamp] {
        tables.withLock { Dictionary(uniqueKeysWithValues: $0.values.map { ($0.id, TableStamp($0)) }) }
    }

    /// The table named `name`, or nil.
    func table(named name: String) -> ResolvedTable? {
        tables.withLock { $0[name] }
    }

    /// Every table name, in ascending order.
    func tableNames() -> [String] {
        tables.withLock { $0.keys.sorted() }
    }

    var tableCount: Int {
        tables.withLock { $0.count }
    }

    /// Takes a fresh id, for a table or a stream, and adds its counter update to `batch`.
    func allocateId(into batch: inout StorageBatch) -> UInt64 {
        nextTableId.withLock { next in
            let id = next
            next += 1
            var writer = ByteWriter(capacity: 8)
            writer.writeBigEndian(next)
            batch.put(Self.nextTableIdKey, writer.bytes, in: .catalog)
            return id
        }
    }

    /// Adds the storage of `definition` to `batch`.
    func store(_ definition: TableDefinition, into batch: inout StorageBatch) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let value = try! encoder.encode(definition)
        batch.put(Self.key(of: definition.name), Array(value), in: .catalog)
    }

    /// Adds the removal of table `name` to `batch`.
    func remove(_ name: String, into batch: inout StorageBatch) {
        batch.delete(Self.key(of: name), in: .catalog)
    }

    /// Records in memory what a committed batch stored. A table keeps its meter, which follows the new
    /// settings at once.
    func didStore(_ definition: TableDefinition) {
        tables.withLock { [clock, ledger] tables in
            let meter: TableMeter
            if let previous = tables[definition.name], previous.id == definition.id {
                meter = previous.meter
                ledger.follow(meter, definition)
            } else {
                meter = ledger.meter(for: definition)
            }
            tables[definition.name] = ResolvedTable(definition, clock: clock, meter: meter)
        }
    }

    /// Records in memory what a committed batch removed; the table's capacity metrics go with it.
    func didRemove(_ name: String) {
        tables.withLock { $0.removeValue(forKey: name) }?.meter.retire()
    }

    private static func key(of name: String) -> [UInt8] {
        tablePrefix + Array(name.utf8)
    }
}
