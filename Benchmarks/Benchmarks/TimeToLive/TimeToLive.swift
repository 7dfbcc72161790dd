// What a Time to Live sweep costs on a large table (issue 22's figures: on a 1,000,000-item table with 1,000
// expired items, at most 2× the time of deleting those 1,000 items directly; with none expired, under 5 ms).
// See ../../README.md, "Time to Live", for the command and how the figures are read.
//
//     TimeToLive.Sweep.1M        one sweep per iteration, deleting the 1,000 expired items written (unmeasured)
//                                before it, in a table of 1,000,000 items that expire tomorrow
//     TimeToLive.DeleteItem.1M   the same 1,000 items deleted with 1,000 DeleteItem calls instead, same table
//     TimeToLive.Sweep.None.1M   one sweep per iteration that finds nothing expired, same table
//
// Each benchmark loads its own table in its setup (BatchWriteItem from 8 tasks), with Time to Live enabled
// before the load, so that every write files its item in the expiry index. The database clock stands still.
import Benchmark
import BenchmarkSupport
import Eddy
import Foundation

/// Expired items written, then swept or deleted, per iteration; equals the `.kilo` scaling factor.
let expiredPerIteration = 1_000
let tableItems = 1_000_000

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(
        metrics: [.throughput, .wallClock],
        warmupIterations: 2,
        scalingFactor: .kilo,
        maxDuration: .seconds(20),
        maxIterations: 50)
    precondition(configuration.scalingFactor.rawValue == expiredPerIteration)

    let sweep = Box<ExpiringTable>()
    Benchmark("TimeToLive.Sweep.1M", configuration: configuration) { benchmark in
        let table = sweep.value!
        try await table.writeExpired()
        benchmark.startMeasurement()
        let deleted = try await table.db.deleteExpiredItems()
        benchmark.stopMeasurement()
        guard deleted == expiredPerIteration else { fatalError("the sweep deleted \(deleted) items of \(expiredPerIteration)") }
    } setup: {
        sweep.value = try await ExpiringTable()
    } teardown: {
        sweep.take()?.close()
    }

    let delete = Box<ExpiringTable>()
    Benchmark("TimeToLive.DeleteItem.1M", configuration: configuration) { benchmark in
        let table = delete.value!
        let keys = try await table.writeExpired()
        benchmark.startMeasurement()
        for key in keys {
            try await table.db.deleteItem(DeleteItemInput(tableName: EddyLayout.tableName, key: key))
        }
        benchmark.stopMeasurement()
    } setup: {
        delete.value = try await ExpiringTable()
    } teardown: {
        delete.take()?.close()
    }

    let none = Box<ExpiringTable>()
    Benchmark(
        "TimeToLive.Sweep.None.1M",
        configuration: .init(metrics: [.wallClock], warmupIterations: 5, maxDuration: .seconds(10), maxIterations: 200)
    ) { benchmark in
        let deleted = try await none.value!.db.deleteExpiredItems()
        guard deleted == 0 else { fatalError("the sweep deleted \(deleted) items, none had expired") }
    } setup: {
        none.value = try await ExpiringTable()
    } teardown: {
        none.take()?.close()
    }
}

/// A fresh database whose benchmark table has Time to Live on `expiresAt` and 1,000,000 items expiring a day
/// after the database clock, which stands still.
final class ExpiringTable: @unchecked Sendable {
    private static let nowSeconds = 1_750_000_000
    let directory = TemporaryDirectory()
    private(set) var db: Database!
    private var nextItem = 0

    init() async throws {
        var configuration = EddyFixture.configuration
        configuration.clock = ManualWallClock(milliseconds: Int64(Self.nowSeconds) * 1000)
        db = try Database(path: directory.path, configuration: configuration)
        try await db.createTable(CreateTableInput(
            tableName: EddyLayout.tableName, keySchema: [KeySchemaElement(attributeName: "id", keyType: .hash)],
            attributeDefinitions: [AttributeDefinition(attributeName: "id", attributeType: .s)], billingMode: .payPerRequest))
        try await db.updateTimeToLive(UpdateTimeToLiveInput(
            tableName: EddyLayout.tableName, timeToLiveSpecification: TimeToLiveSpecification(enabled: true, attributeName: "expiresAt")))
        // The backfill of the empty table ends at once; until it does the sweep would read the items instead.
        while try await db.checkIndexes(tableName: EddyLayout.tableName).expiryIndex.backfilling {
            try await Task.sleep(for: .milliseconds(10))
        }
        _ = try await write(tableItems, expiringInSeconds: 86_400)
    }

    /// Writes `expiredPerIteration` new items that expired ten seconds ago; returns their keys.
    @discardableResult
    func writeExpired() async throws -> [Item] {
        try await write(expiredPerIteration, expiringInSeconds: -10)
    }

    /// Writes the next `count` benchmark items with `expiresAt` `seconds` after the clock; returns their keys.
    private func write(_ count: Int, expiringInSeconds seconds: Int) async throws -> [Item] {
        defer { nextItem += count }
        let items = (nextItem..<nextItem + count).map { index in
            var item = EddyLayout.item(index)
            item["expiresAt"] = .n(DecimalNumber(Self.nowSeconds + seconds))
            return item
        }
        try await EddyLayout.batchWrite(items, into: db)
        return items.map { ["id": $0["id"]!] }
    }

    /// Closes the database and deletes the directory.
    func close() {
        db = nil
        directory.remove()
    }
}
