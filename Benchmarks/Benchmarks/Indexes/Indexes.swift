// What global secondary indexes cost (issue 9's figures): PutItem into a table with 0, 1 and 2 GSIs of
// projection ALL, in the same run (each GSI may add at most 40 % to PutItem's cost), and the rate at which
// UpdateTable's backfill fills a new GSI from a 1,000,000-item table. See ../../README.md, "Indexes", for the
// command and how the figures are read.
//
//     IndexWrite.PutItem.NoIndex     1,000 PutItems of new 100-byte items per iteration, no index
//     IndexWrite.PutItem.1GSI        the same into a table with the GSI `byEmail` (email; ALL)
//     IndexWrite.PutItem.2GSI        the same with `byEmail` and `byName` (name; ALL)
//     IndexWrite.RawRocksDB.Item     raw RocksDB, the physical bound: the item's put alone, then (ReadItemAnd1Entry,
//     IndexWrite.RawRocksDB.ReadItemAnd1Entry / .ReadItemAnd2Entries)   ...And2Entries) a get of its key (a
//                                    write to an indexed table reads the item it replaces) and one batch of the
//                                    item and one or two index entries of Eddy's sizes (ALL: the item's bytes)
//     IndexBackfill.1M               UpdateTable adds a GSI (email; ALL) to a table of 1,000,000 items; the
//                                    iteration ends when a Query on the index is served (it is refused while
//                                    the index is CREATING); "Items (# / s)" is 1,000,000 / that time
//
// Each write benchmark gets a fresh database in its setup; the backfill benchmark loads its table once in
// its setup and deletes the index after each iteration (a range deletion), so every iteration backfills the
// same 1,000,000 items.
import Benchmark
import BenchmarkSupport
import Eddy
import Foundation

/// Items per iteration of the write benchmarks; equals their `.kilo` scaling factor.
let itemsPerIteration = 1_000
/// Items of the backfilled table.
let backfillItems = 1_000_000

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(
        metrics: [.throughput, .wallClock],
        warmupIterations: 5,
        scalingFactor: .kilo,
        maxDuration: .seconds(60),
        maxIterations: 200)
    precondition(configuration.scalingFactor.rawValue == itemsPerIteration)
    for (name, indexes) in [("NoIndex", [String]()), ("1GSI", ["email"]), ("2GSI", ["email", "name"])] {
        let box = Box<IndexedTable>()
        Benchmark("IndexWrite.PutItem.\(name)", configuration: configuration) { benchmark in
            let table = box.value!
            let inputs = table.next(itemsPerIteration).map { PutItemInput(tableName: EddyLayout.tableName, item: $0) }
            benchmark.startMeasurement()
            for input in inputs {
                try await table.db.putItem(input)
            }
            benchmark.stopMeasurement()
        } setup: {
            box.value = try await IndexedTable(indexedAttributes: indexes)
        } teardown: {
            box.take()?.close()
        }
    }

    for (name, entries) in [("Item", -1), ("ReadItemAnd1Entry", 1), ("ReadItemAnd2Entries", 2)] {
        let box = Box<RawIndexedTable>()
        Benchmark("IndexWrite.RawRocksDB.\(name)", configuration: configuration) { benchmark in
            let table = box.value!
            let writes = table.next(itemsPerIteration, entries: max(entries, 0))
            benchmark.startMeasurement()
            for write in writes {
                if entries < 0 {
                    table.db.put(write.key, write.value)
                } else {
                    _ = table.db.get(write.key)
                    table.db.putWithEntries(write.key, write.value, entries: write.entries)
                }
            }
            benchmark.stopMeasurement()
        } setup: {
            box.value = RawIndexedTable()
        } teardown: {
            box.take()?.close()
        }
    }

    let itemsPerSecond = BenchmarkMetric.custom("Items (# / s)", polarity: .prefersLarger, useScalingFactor: false)
    let backfill = Benchmark.Configuration(
        metrics: [.wallClock, itemsPerSecond], warmupIterations: 0, scalingFactor: .one, maxDuration: .seconds(600), maxIterations: 3)
    let box = Box<IndexedTable>()
    Benchmark("IndexBackfill.1M", configuration: backfill) { benchmark in
        let table = box.value!
        let indexName = "byEmail\(table.nextIndex())"
        benchmark.startMeasurement()
        let start = monotonicNanoseconds()
        try await table.db.updateTable(UpdateTableInput(
            tableName: EddyLayout.tableName, attributeDefinitions: [AttributeDefinition(attributeName: "email", attributeType: .s)],
            globalSecondaryIndexUpdates: [GlobalSecondaryIndexUpdate(create: GlobalSecondaryIndex(
                indexName: indexName, keySchema: [KeySchemaElement(attributeName: "email", keyType: .hash)],
                projection: Projection(projectionType: .all)))]))
        while try await !table.isReadable(indexName) {
            try await Task.sleep(for: .milliseconds(1))
        }
        let elapsed = monotonicNanoseconds() - start
        benchmark.stopMeasurement()
        let entries = try await table.db.scan(ScanInput(tableName: EddyLayout.tableName, indexName: indexName, select: .count)).count
        guard entries > 0 else { fatalError("the backfilled index is empty") }
        benchmark.measurement(itemsPerSecond, Int(Double(backfillItems) * 1e9 / Double(elapsed)))
        try await table.db.updateTable(UpdateTableInput(
            tableName: EddyLayout.tableName,
            globalSecondaryIndexUpdates: [GlobalSecondaryIndexUpdate(delete: DeleteGlobalSecondaryIndexAction(indexName: indexName))]))
    } setup: {
        let table = try await IndexedTable(indexedAttributes: [])
        try await table.load(backfillItems)
        box.value = table
    } teardown: {
        box.take()?.close()
    }
}

/// A fresh database whose benchmark table has one GSI (projection ALL) per attribute of `indexedAttributes`,
/// and the benchmark items in order.
final class IndexedTable: @unchecked Sendable {
    let directory = TemporaryDirectory()
    private(set) var db: Database!
    private var nextItem = 0
    private var indexCount = 0

    init(indexedAttributes: [String]) async throws {
        db = try Database(path: directory.path, configuration: EddyFixture.configuration)
        try await db.createTable(CreateTableInput(
            tableName: EddyLayout.tableName,
            keySchema: [KeySchemaElement(attributeName: "id", keyType: .hash)],
            attributeDefinitions: (["id"] + indexedAttributes).map { AttributeDefinition(attributeName: $0, attributeType: .s) },
            billingMode: .payPerRequest,
            globalSecondaryIndexes: indexedAttributes.isEmpty ? nil : indexedAttributes.map { attribute in
                GlobalSecondaryIndex(
                    indexName: "by-\(attribute)", keySchema: [KeySchemaElement(attributeName: attribute, keyType: .hash)],
                    projection: Projection(projectionType: .all))
            }))
    }

    /// The next `count` items.
    func next(_ count: Int) -> [Item] {
        defer { nextItem += count }
        return (nextItem..<nextItem + count).map(EddyLayout.item)
    }

    /// Writes the next `count` items with BatchWriteItem, from 8 tasks.
    func load(_ count: Int) async throws {
        try await EddyLayout.batchWrite(next(count), into: db)
    }

    /// A fresh index number.
    func nextIndex() -> Int {
        indexCount += 1
        return indexCount
    }

    /// Whether a Query on index `name` is served: it is refused while the index is being created.
    func isReadable(_ name: String) async throws -> Bool {
        do {
            _ = try await db.query(QueryInput(
                tableName: EddyLayout.tableName, indexName: name, keyConditionExpression: "email = :e", limit: 1,
                expressionAttributeValues: [":e": "none"]))
            return true
        } catch {
            guard case .validation = error else { throw error }
            return false
        }
    }

    /// Closes the database and deletes the directory.
    func close() {
        db = nil
        directory.remove()
    }
}

/// Raw RocksDB with Eddy's options, and the bytes of the benchmark items with their index entries.
final class RawIndexedTable: @unchecked Sendable {
    let directory = TemporaryDirectory()
    private(set) var db: RawRocksDB!
    private var nextItem = 0

    init() {
        db = RawRocksDB(path: directory.path)
    }

    /// The next `count` items' keys and values, each with `entries` index entries: keyed by the email (then
    /// the name) and the item's id as Eddy keys an entry, holding the item's bytes as projection ALL does.
    func next(_ count: Int, entries: Int) -> [(key: [UInt8], value: [UInt8], entries: [(key: [UInt8], value: [UInt8])])] {
        defer { nextItem += count }
        return (nextItem..<nextItem + count).map { index in
            let item = EddyLayout.item(index)
            let id = EddyLayout.itemId(index)
            let key = EddyLayout.keyBytes(id: id)
            let value = EddyLayout.valueBytes(item)
            let indexed = ["email", "name"].prefix(entries).map { attribute -> (key: [UInt8], value: [UInt8]) in
                guard case .s(let text)? = item[attribute] else { fatalError("benchmark items have a string \(attribute)") }
                return (EddyLayout.keyBytes(id: text) + key.dropFirst(12), value)
            }
            return (key, value, indexed)
        }
    }

    /// Closes the database and deletes the directory.
    func close() {
        db = nil
        directory.remove()
    }
}
