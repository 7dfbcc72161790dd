// What DescribeTable costs as a table grows (issue 22's figure: on a 1,000,000-item table under 1 ms, and
// within 2× of the same call on a 1,000-item table), and what keeping the counters costs PutItem. See
// ../../README.md, "Table metadata", for the command and how the figures are read.
//
//     DescribeTable.1K      1,000 DescribeTable calls per iteration on a table of 1,000 items
//     DescribeTable.1M      the same on a table of 1,000,000 items, in the same run
//     TableMetadata.PutItem 1,000 PutItems of new 100-byte items per iteration into a fresh table (the
//                           counters move in each write's batch), to compare with ItemThroughput's PutItem of
//                           the main branch measured in the same session
//
// The tables are loaded once, in each benchmark's setup, with BatchWriteItem from 8 tasks.
import Benchmark
import BenchmarkSupport
import Eddy
import Foundation

/// Calls (or puts) per iteration; equals the `.kilo` scaling factor.
let operationsPerIteration = 1_000

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(
        metrics: [.throughput, .wallClock],
        warmupIterations: 5,
        scalingFactor: .kilo,
        maxDuration: .seconds(30),
        maxIterations: 200)
    precondition(configuration.scalingFactor.rawValue == operationsPerIteration)
    for (name, items) in [("1K", 1_000), ("1M", 1_000_000)] {
        let box = Box<LoadedTable>()
        Benchmark("DescribeTable.\(name)", configuration: configuration) { benchmark in
            let table = box.value!
            benchmark.startMeasurement()
            for _ in 0..<operationsPerIteration {
                let description = try await table.db.describeTable(tableName: EddyLayout.tableName)
                blackHole(description)
            }
            benchmark.stopMeasurement()
        } setup: {
            let table = try await LoadedTable()
            try await table.load(items)
            let count = try await table.db.describeTable(tableName: EddyLayout.tableName).itemCount
            guard count == Int64(items) else { fatalError("DescribeTable counts \(count) items of \(items)") }
            box.value = table
        } teardown: {
            box.take()?.close()
        }
    }

    let box = Box<LoadedTable>()
    Benchmark("TableMetadata.PutItem", configuration: configuration) { benchmark in
        let table = box.value!
        let inputs = table.next(operationsPerIteration).map { PutItemInput(tableName: EddyLayout.tableName, item: $0) }
        benchmark.startMeasurement()
        for input in inputs {
            try await table.db.putItem(input)
        }
        benchmark.stopMeasurement()
    } setup: {
        box.value = try await LoadedTable()
    } teardown: {
        box.take()?.close()
    }
}

/// A fresh database with the benchmark table, and the benchmark items in order.
final class LoadedTable: @unchecked Sendable {
    let directory = TemporaryDirectory()
    private(set) var db: Database!
    private var nextItem = 0

    init() async throws {
        db = try Database(path: directory.path, configuration: EddyFixture.configuration)
        try await db.createTable(CreateTableInput(
            tableName: EddyLayout.tableName, keySchema: [KeySchemaElement(attributeName: "id", keyType: .hash)],
            attributeDefinitions: [AttributeDefinition(attributeName: "id", attributeType: .s)], billingMode: .payPerRequest))
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

    /// Closes the database and deletes the directory.
    func close() {
        db = nil
        directory.remove()
    }
}
