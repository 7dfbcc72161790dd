// PutItem on an in-memory database (`Database(inMemory:)`, RocksDB's in-memory environment) against PutItem on
// a database in a directory, in the same run (issue 22's figure: reported, no target). See ../../README.md,
// "In-memory", for the command and how the ratio is read.
//
//     InMemory.PutItem.InMemory    1,000 new 100-byte items per iteration, one writer, in memory
//     InMemory.PutItem.OnDisk      the same on a database in a temporary directory
//
// One iteration is 1,000 items (`scalingFactor: .kilo`), so both report items written per second. Each
// benchmark gets a fresh database with the benchmark table (no stream) in its setup, closed in its teardown;
// building the requests is outside the measurement.
import Benchmark
import BenchmarkSupport
import Eddy
import Foundation

/// Items per iteration; equals the `.kilo` scaling factor.
let itemsPerIteration = 1_000

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(
        metrics: [.throughput, .wallClock, .mallocCountTotal],
        warmupIterations: 5,
        scalingFactor: .kilo,
        maxDuration: .seconds(60),
        maxIterations: 200)
    precondition(configuration.scalingFactor.rawValue == itemsPerIteration)

    for placement in [Placement.inMemory, .onDisk] {
        let source = Box<PutSource>()
        Benchmark("InMemory.PutItem.\(placement.rawValue)", configuration: configuration) { benchmark in
            let source = source.value!
            let inputs = source.next(itemsPerIteration).map { PutItemInput(tableName: EddyLayout.tableName, item: $0) }
            benchmark.startMeasurement()
            for input in inputs {
                try await source.db.putItem(input)
            }
            benchmark.stopMeasurement()
        } setup: {
            source.value = try await PutSource(placement)
        } teardown: {
            await source.take()?.close()
        }
    }
}

/// Where a benchmark's database lives.
enum Placement: String {
    case inMemory = "InMemory"
    case onDisk = "OnDisk"
}

/// A fresh database with the benchmark table, in memory or in a temporary directory, and the benchmark items
/// in order.
final class PutSource: @unchecked Sendable {
    private let directory: TemporaryDirectory?
    let db: Database
    private var nextItem = 0

    init(_ placement: Placement) async throws {
        switch placement {
        case .inMemory:
            directory = nil
            db = try Database(inMemory: EddyFixture.configuration)
            try await db.createTable(CreateTableInput(
                tableName: EddyLayout.tableName,
                keySchema: [KeySchemaElement(attributeName: "id", keyType: .hash)],
                attributeDefinitions: [AttributeDefinition(attributeName: "id", attributeType: .s)],
                billingMode: .payPerRequest))
        case .onDisk:
            let directory = TemporaryDirectory()
            self.directory = directory
            db = try await EddyFixture.openDatabase(at: directory.path)
        }
    }

    /// The next `count` items.
    func next(_ count: Int) -> [Item] {
        defer { nextItem += count }
        return (nextItem..<nextItem + count).map(EddyLayout.item)
    }

    /// Closes the database and deletes its directory, if any.
    func close() async {
        await db.close()
        directory?.remove()
    }
}
