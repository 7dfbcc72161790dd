// TransactWriteItems of 4 Puts against the same 4 items written by four single PutItems, in the same run
// (issue 9's figure, as ERRATA words it: the transaction costs at most 1.25 times the four PutItems). See
// ../../README.md, "Transactions", for the command and how the ratio is read.
//
//     TransactWriteItems.4Puts           250 transactions of 4 new 100-byte items per iteration
//     TransactWriteItems.4PutItems       the same 1,000 items as 1,000 single PutItems per iteration
//
// One iteration is 1,000 items (`scalingFactor: .kilo`), so both report items written per second; the ratio
// 4PutItems / 4Puts is what a transaction costs relative to its four PutItems. Each benchmark gets a fresh
// database (the benchmark table, no stream) in its setup; building the requests is outside the measurement.
import Benchmark
import BenchmarkSupport
import Eddy
import Foundation

/// Items per iteration; equals the `.kilo` scaling factor.
let itemsPerIteration = 1_000
/// Puts per transaction.
let putsPerTransaction = 4

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(
        metrics: [.throughput, .wallClock, .mallocCountTotal],
        warmupIterations: 5,
        scalingFactor: .kilo,
        maxDuration: .seconds(60),
        maxIterations: 200)
    precondition(configuration.scalingFactor.rawValue == itemsPerIteration)

    let transactions = Box<ItemSource>()
    Benchmark("TransactWriteItems.4Puts", configuration: configuration) { benchmark in
        let source = transactions.value!
        let inputs = stride(from: 0, to: itemsPerIteration, by: putsPerTransaction).map { _ in
            TransactWriteItemsInput(transactItems: source.next(putsPerTransaction).map {
                TransactWriteItem(put: TransactPut(tableName: EddyLayout.tableName, item: $0))
            })
        }
        benchmark.startMeasurement()
        for input in inputs {
            try await source.db.transactWriteItems(input)
        }
        benchmark.stopMeasurement()
    } setup: {
        transactions.value = try await ItemSource()
    } teardown: {
        transactions.take()?.close()
    }

    let singles = Box<ItemSource>()
    Benchmark("TransactWriteItems.4PutItems", configuration: configuration) { benchmark in
        let source = singles.value!
        let inputs = source.next(itemsPerIteration).map { PutItemInput(tableName: EddyLayout.tableName, item: $0) }
        benchmark.startMeasurement()
        for input in inputs {
            try await source.db.putItem(input)
        }
        benchmark.stopMeasurement()
    } setup: {
        singles.value = try await ItemSource()
    } teardown: {
        singles.take()?.close()
    }
}

/// A fresh database with the benchmark table, and the benchmark items in order.
final class ItemSource: @unchecked Sendable {
    let directory = TemporaryDirectory()
    private(set) var db: Database!
    private var nextItem = 0

    init() async throws {
        db = try await EddyFixture.openDatabase(at: directory.path)
    }

    /// The next `count` items.
    func next(_ count: Int) -> [Item] {
        defer { nextItem += count }
        return (nextItem..<nextItem + count).map(EddyLayout.item)
    }

    /// Closes the database and deletes the directory.
    func close() {
        db = nil
        directory.remove()
    }
}
