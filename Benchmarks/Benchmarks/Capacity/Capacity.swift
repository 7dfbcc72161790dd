// What capacity enforcement costs PutItem and GetItem (issue 23's figure: at most 5 %): the same operations on
// the same PROVISIONED table, with throttling on (each request admitted on its table's bucket and partition key
// value, and its consumed capacity spent there) and off, in the same run. See ../../README.md, "Capacity".
//
//     Capacity.GetItem.Enforced      1,000 GetItems of prefilled 100-byte items per iteration, one reader
//     Capacity.GetItem.Unenforced    the same with throttling off
//     Capacity.PutItem.Enforced      1,000 new 100-byte items per iteration, one writer
//     Capacity.PutItem.Unenforced    the same with throttling off
//
// The table is provisioned far above the load (a billion units each way) and every key is read or written a
// few times a second at most, so no request is throttled: what is measured is the accounting and the checks.
// Consumed capacity is worked out in both (every operation does); throttling off skips the ledger.
import Benchmark
import BenchmarkSupport
import Eddy
import Foundation

/// Operations per iteration; equals the `.kilo` scaling factor.
let operationsPerIteration = 1_000
/// Items written before the GetItem benchmarks start.
let prefillCount = 10_000

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(
        metrics: [.throughput, .wallClock],
        warmupIterations: 5,
        scalingFactor: .kilo,
        maxDuration: .seconds(60),
        maxIterations: 200)
    precondition(configuration.scalingFactor.rawValue == operationsPerIteration)

    for enforcement in [Enforcement.enforced, .unenforced] {
        let reads = Box<CapacityFixture>()
        Benchmark("Capacity.GetItem.\(enforcement.rawValue)", configuration: configuration) { benchmark in
            let fixture = reads.value!
            let inputs = fixture.nextGets(operationsPerIteration)
            benchmark.startMeasurement()
            for input in inputs {
                _ = try await fixture.db.getItem(input)
            }
            benchmark.stopMeasurement()
        } setup: {
            reads.value = try await CapacityFixture(enforcement, prefilled: true)
        } teardown: {
            await reads.take()?.close()
        }

        let writes = Box<CapacityFixture>()
        Benchmark("Capacity.PutItem.\(enforcement.rawValue)", configuration: configuration) { benchmark in
            let fixture = writes.value!
            let inputs = fixture.nextPuts(operationsPerIteration)
            benchmark.startMeasurement()
            for input in inputs {
                try await fixture.db.putItem(input)
            }
            benchmark.stopMeasurement()
        } setup: {
            writes.value = try await CapacityFixture(enforcement, prefilled: false)
        } teardown: {
            await writes.take()?.close()
        }
    }
}

/// Whether the database throttles.
enum Enforcement: String {
    case enforced = "Enforced"
    case unenforced = "Unenforced"
}

/// A fresh database in a temporary directory with the benchmark table, provisioned far above the load.
final class CapacityFixture: @unchecked Sendable {
    private let directory = TemporaryDirectory()
    let db: Database
    private var nextItem = 0
    private var nextRead = 0

    init(_ enforcement: Enforcement, prefilled: Bool) async throws {
        var configuration = EddyFixture.configuration
        configuration.throttlingEnabled = enforcement == .enforced
        db = try Database(path: directory.path, configuration: configuration)
        try await db.createTable(CreateTableInput(
            tableName: EddyLayout.tableName,
            keySchema: [KeySchemaElement(attributeName: "id", keyType: .hash)],
            attributeDefinitions: [AttributeDefinition(attributeName: "id", attributeType: .s)],
            billingMode: .provisioned,
            provisionedThroughput: ProvisionedThroughput(readCapacityUnits: 1_000_000_000, writeCapacityUnits: 1_000_000_000)))
        if prefilled {
            for index in 0..<prefillCount {
                try await db.putItem(PutItemInput(tableName: EddyLayout.tableName, item: EddyLayout.item(index)))
            }
        }
    }

    /// PutItem requests of the next `count` new items.
    func nextPuts(_ count: Int) -> [PutItemInput] {
        defer { nextItem += count }
        return (nextItem..<nextItem + count).map { PutItemInput(tableName: EddyLayout.tableName, item: EddyLayout.item(prefillCount + $0)) }
    }

    /// GetItem requests of the next `count` prefilled items, in a fixed scattered order.
    func nextGets(_ count: Int) -> [GetItemInput] {
        defer { nextRead += count }
        return (nextRead..<nextRead + count).map { read in
            GetItemInput(tableName: EddyLayout.tableName, key: ["id": .s(EddyLayout.itemId(read * 7_919 % prefillCount))])
        }
    }

    /// Closes the database and deletes its directory.
    func close() async {
        await db.close()
        directory.remove()
    }
}
