import Foundation
import MetricsTestKit
import Testing

@testable import Eddy

// The capacity metrics of tables and global indexes, named as CloudWatch names DynamoDB's metrics (Developer
// Guide, "DynamoDB Metrics and dimensions"), after known operations on a manual clock.

@Suite(.timeLimit(.minutes(5))) struct CapacityMetricsTests {
    private static func labels(_ table: String, index: String = "", _ metric: String) -> [(String, String)] {
        [("table", table), ("index", index), ("metric", metric)]
    }

    @Test func consumedAndProvisionedUnitsPerTableAndGlobalIndex() async throws {
        try await withTemporaryDirectory { path in
            let metrics = TestMetrics()
            let clock = ManualWallClock(milliseconds: 1_750_000_000_000)
            let db = try Database(path: path + "/db", configuration: .init(clock: clock, metricsFactory: metrics))
            try await createCapacityTable(db, "Orders", read: 5, write: 7, indexUnits: 3)
            #expect(try metrics.expectGauge("eddy_capacity_provisioned_units", Self.labels("Orders", "ProvisionedReadCapacityUnits")).lastValue == 5)
            #expect(try metrics.expectGauge("eddy_capacity_provisioned_units", Self.labels("Orders", "ProvisionedWriteCapacityUnits")).lastValue == 7)
            #expect(
                try metrics.expectGauge("eddy_capacity_provisioned_units", Self.labels("Orders", index: "byOwner", "ProvisionedWriteCapacityUnits"))
                    .lastValue == 3)
            // Two puts of small items with an owner: one write unit each on the table and on the index.
            try await db.putItem(PutItemInput(tableName: "Orders", item: ["pk": "a", "owner": "ada"]))
            try await db.putItem(PutItemInput(tableName: "Orders", item: ["pk": "b", "owner": "bob"]))
            // A 2 KB item without an owner: two units on the table only.
            try await db.putItem(PutItemInput(tableName: "Orders", item: ["pk": "c", "body": .s(String(repeating: "x", count: 2000))]))
            // A strongly consistent read: one read unit.
            _ = try await db.getItem(GetItemInput(tableName: "Orders", key: ["pk": "a"], consistentRead: true))
            let tableWrites = try metrics.expectCounter("eddy_capacity_units_total", Self.labels("Orders", "ConsumedWriteCapacityUnits"))
            #expect(tableWrites.totalValue == 4)
            let indexWrites = try metrics.expectCounter(
                "eddy_capacity_units_total", Self.labels("Orders", index: "byOwner", "ConsumedWriteCapacityUnits"))
            #expect(indexWrites.totalValue == 2)
            let tableReads = try metrics.expectCounter("eddy_capacity_units_total", Self.labels("Orders", "ConsumedReadCapacityUnits"))
            #expect(tableReads.totalValue == 1)
            // The same sums for the minute in progress; a minute later, they are the last minute's.
            let now = try db.describeCapacity(tableName: "Orders")
            #expect(now.resources.map(\.indexName) == [nil, "byOwner"])
            #expect(now.resources.map(\.currentMinute.consumedWriteCapacityUnits) == [4, 2])
            #expect(now.resources[0].currentMinute.consumedReadCapacityUnits == 1)
            #expect(now.resources[0].provisionedThroughput == ProvisionedThroughput(readCapacityUnits: 5, writeCapacityUnits: 7))
            clock.advance(bySeconds: 60)
            let later = try db.describeCapacity(tableName: "Orders")
            #expect(later.resources.map(\.lastMinute.consumedWriteCapacityUnits) == [4, 2])
            #expect(later.resources.map(\.currentMinute) == [CapacityMinute(), CapacityMinute()])
            clock.advance(bySeconds: 60)
            #expect(try db.describeCapacity(tableName: "Orders").resources[0].lastMinute == CapacityMinute())
            try await db.updateTable(
                UpdateTableInput(tableName: "Orders", provisionedThroughput: ProvisionedThroughput(readCapacityUnits: 10, writeCapacityUnits: 7)))
            #expect(try metrics.expectGauge("eddy_capacity_provisioned_units", Self.labels("Orders", "ProvisionedReadCapacityUnits")).lastValue == 10)
            // A deleted index's metrics go with it.
            try await db.updateTable(
                UpdateTableInput(
                    tableName: "Orders", globalSecondaryIndexUpdates: [GlobalSecondaryIndexUpdate(delete: DeleteGlobalSecondaryIndexAction(indexName: "byOwner"))]))
            #expect(throws: (any Error).self) {
                try metrics.expectCounter("eddy_capacity_units_total", Self.labels("Orders", index: "byOwner", "ConsumedWriteCapacityUnits"))
            }
            #expect(try db.describeCapacity(tableName: "Orders").resources.map(\.indexName) == [nil])
            await db.close()
        }
    }

    /// Runs `body` with a database on a manual clock counting into `metrics`, whose 1-WCU table `Orders` has
    /// just spent its 300 units of burst.
    private static func withSpentTable(_ body: (Database, TestMetrics, ManualWallClock) async throws -> Void) async throws {
        try await withTemporaryDirectory { path in
            let metrics = TestMetrics()
            let clock = ManualWallClock(milliseconds: 1_750_000_000_000)
            let db = try Database(path: path + "/db", configuration: .init(clock: clock, metricsFactory: metrics))
            try await createCapacityTable(db, "Orders", read: 1, write: 1)
            for n in 0..<300 {
                try await db.putItem(PutItemInput(tableName: "Orders", item: ["pk": .s("item-\(n)")]))
            }
            try await body(db, metrics, clock)
            await db.close()
        }
    }

    @Test func throttleEventsCountOnTheTableThatRefused() async throws {
        try await Self.withSpentTable { (db, metrics, _) async throws in
            for _ in 0..<2 {
                await #expect(throws: EddyError.self) { _ = try await db.putItem(PutItemInput(tableName: "Orders", item: ["pk": "late"])) }
            }
            #expect(try metrics.expectCounter("eddy_throttle_events_total", Self.labels("Orders", "WriteThrottleEvents")).totalValue == 2)
            #expect(try metrics.expectCounter("eddy_throttle_events_total", Self.labels("Orders", "ThrottledRequests")).totalValue == 2)
            #expect(try metrics.expectCounter("eddy_throttle_events_total", Self.labels("Orders", "ReadThrottleEvents")).totalValue == 0)
            #expect(try db.describeCapacity(tableName: "Orders").resources[0].currentMinute.writeThrottleEvents == 2)
            // A refused request consumed nothing.
            #expect(try metrics.expectCounter("eddy_capacity_units_total", Self.labels("Orders", "ConsumedWriteCapacityUnits")).totalValue == 300)
        }
    }

    @Test func aBatchOrATransactionIsOneThrottledRequestOnlyWhenRefused() async throws {
        try await Self.withSpentTable { (db, metrics, clock) async throws in
            func put(_ key: String) -> WriteRequest { WriteRequest(putRequest: PutRequest(item: ["pk": .s(key)])) }
            func counted(_ metric: String) throws -> Int64 {
                try metrics.expectCounter("eddy_throttle_events_total", Self.labels("Orders", metric)).totalValue
            }
            // Nothing left: the whole batch is refused, two throttle events and one throttled request.
            await expectEddyError("ProvisionedThroughputExceededException") {
                _ = try await db.batchWriteItem(BatchWriteItemInput(requestItems: ["Orders": [put("a"), put("b")]]))
            }
            #expect(try counted("WriteThrottleEvents") == 2)
            #expect(try counted("ThrottledRequests") == 1)
            // One unit back: the first item is written, the other two are throttle events of a request that
            // was not throttled (CloudWatch: "ThrottledRequests is only incremented if every request in the batch
            // is throttled").
            clock.advance(bySeconds: 1)
            let output = try await db.batchWriteItem(BatchWriteItemInput(requestItems: ["Orders": [put("c"), put("d"), put("e")]]))
            #expect(output.unprocessedItems["Orders"]?.count == 2)
            #expect(try counted("WriteThrottleEvents") == 4)
            #expect(try counted("ThrottledRequests") == 1)
            // A cancelled transaction of two items is one throttled request too.
            await expectEddyError("TransactionCanceledException") {
                try await db.transactWriteItems(
                    TransactWriteItemsInput(transactItems: [
                        TransactWriteItem(put: TransactPut(tableName: "Orders", item: ["pk": "f"])),
                        TransactWriteItem(put: TransactPut(tableName: "Orders", item: ["pk": "g"])),
                    ]))
            }
            #expect(try counted("WriteThrottleEvents") == 6)
            #expect(try counted("ThrottledRequests") == 2)
        }
    }
}
