import ChildProcessSupport
import Foundation
import MetricsTestKit
import Testing

@testable import Eddy

// Requests throttled as DynamoDB throttles them (Developer Guide, "Burst and adaptive capacity", "Error
// handling with DynamoDB"; API Reference, BatchWriteItem's and BatchGetItem's unprocessed items,
// TransactWriteItems' cancellation reasons), through the item operations, on a manual clock.

@Suite(.timeLimit(.minutes(5))) struct ThrottlingTests {
    /// Puts `item(n)` for n = 0, 1, … until a put is refused; returns how many were written and the refusal.
    private static func putUntilRefused(
        _ db: Database, _ table: String, item: (Int) -> Item
    ) async throws -> (written: Int, refusal: EddyError?) {
        var written = 0
        while written < 10_000 {
            do {
                try await db.putItem(PutItemInput(tableName: table, item: item(written)))
            } catch {
                return (written, error)
            }
            written += 1
        }
        return (written, nil)
    }

    @Test func aFiveUnitTableAbsorbsExactlyItsBurstThenThrottlesPutItem() async throws {
        try await withCapacityDatabase { db, clock in
            let table = try await createCapacityTable(db, "Orders", read: 5, write: 5)
            // Items of 1 KB or less: one write unit each; 300 seconds of 5 units are saved.
            let burst = try await Self.putUntilRefused(db, "Orders") { ["pk": .s("order-\($0)")] }
            #expect(burst.written == 1500)
            #expect(
                burst.refusal
                    == .provisionedThroughputExceeded(
                        ThrottlingMessages.provisionedTable,
                        reasons: [ThrottlingReason(reason: "TableWriteProvisionedThroughputExceeded", resource: table.tableArn)]))
            // A refused request consumed nothing: a second later the 5 units refilled are there to use.
            clock.advance(bySeconds: 1)
            let refill = try await Self.putUntilRefused(db, "Orders") { ["pk": .s("later-\($0)")] }
            #expect(refill.written == 5)
            // Reads have their bucket: still full.
            let read = try await db.getItem(GetItemInput(tableName: "Orders", key: ["pk": .s("order-0")]))
            #expect(read.item != nil)
        }
    }

    @Test func aLargeItemDrivesTheBalanceBelowZeroAndWaitsForTheRefill() async throws {
        try await withCapacityDatabase { db, clock in
            try await createCapacityTable(db, "Docs", read: 1, write: 1)
            // 300 units saved; an item of exactly 350 KB (names and values: "pk", "big", "body" and the body)
            // costs 350 of them: admitted while the bucket was not empty.
            let large: Item = ["pk": .s("big"), "body": .s(String(repeating: "x", count: 350 * 1024 - 9))]
            try await db.putItem(PutItemInput(tableName: "Docs", item: large))
            await #expect(throws: EddyError.self) { try await db.putItem(PutItemInput(tableName: "Docs", item: ["pk": .s("small")])) }
            // 50 units below zero: 50 seconds bring it back to zero, which is still empty.
            clock.advance(bySeconds: 50)
            await #expect(throws: EddyError.self) { try await db.putItem(PutItemInput(tableName: "Docs", item: ["pk": .s("small")])) }
            clock.advance(bySeconds: 1)
            try await db.putItem(PutItemInput(tableName: "Docs", item: ["pk": .s("small")]))
        }
    }

    @Test func everyItemOperationIsAdmittedOnItsBucket() async throws {
        try await withCapacityDatabase { db, clock in
            try await createCapacityTable(db, "Orders", read: 1, write: 1)
            try await db.putItem(PutItemInput(tableName: "Orders", item: ["pk": .s("a")]))
            // Strongly consistent reads of a small item: one unit each, 300 saved.
            for _ in 0..<299 {
                _ = try await db.getItem(GetItemInput(tableName: "Orders", key: ["pk": .s("a")], consistentRead: true))
            }
            _ = try await db.query(
                QueryInput(
                    tableName: "Orders", keyConditionExpression: "pk = :pk", consistentRead: true,
                    expressionAttributeValues: [":pk": .s("a")]))
            let reads: [(String, () async throws -> Void)] = [
                ("GetItem", { _ = try await db.getItem(GetItemInput(tableName: "Orders", key: ["pk": .s("a")])) }),
                ("Query", {
                    _ = try await db.query(
                        QueryInput(tableName: "Orders", keyConditionExpression: "pk = :pk", expressionAttributeValues: [":pk": .s("a")]))
                }),
                ("Scan", { _ = try await db.scan(ScanInput(tableName: "Orders")) }),
            ]
            for (name, read) in reads {
                await #expect(throws: EddyError.self, "\(name) on an empty read bucket") { try await read() }
            }
            // The write bucket: 299 more writes, then UpdateItem and DeleteItem are refused.
            for index in 0..<299 { try await db.putItem(PutItemInput(tableName: "Orders", item: ["pk": .s("w\(index)")])) }
            await #expect(throws: EddyError.self) {
                try await db.updateItem(
                    UpdateItemInput(
                        tableName: "Orders", key: ["pk": .s("a")], updateExpression: "SET n = :n", expressionAttributeValues: [":n": 1]))
            }
            await #expect(throws: EddyError.self) { try await db.deleteItem(DeleteItemInput(tableName: "Orders", key: ["pk": .s("a")])) }
            // Nothing refused was written.
            clock.advance(bySeconds: 10)
            let item = try await db.getItem(GetItemInput(tableName: "Orders", key: ["pk": .s("a")])).item
            #expect(item == ["pk": .s("a")])
        }
    }

    @Test func batchWriteItemReturnsTheRefusedItemsUnprocessedAndRaisesOnlyWhenNoneGotIn() async throws {
        try await withCapacityDatabase { db, clock in
            try await createCapacityTable(db, "Orders", read: 1, write: 1)
            for index in 0..<290 { try await db.putItem(PutItemInput(tableName: "Orders", item: ["pk": .s("seed-\(index)")])) }
            // 10 units left: admission lets a write in while the balance is above zero.
            let requests = (0..<25).map { WriteRequest(putRequest: PutRequest(item: ["pk": .s("batch-\($0)")])) }
            let output = try await db.batchWriteItem(BatchWriteItemInput(requestItems: ["Orders": requests]))
            let unprocessed = output.unprocessedItems["Orders"] ?? []
            #expect(unprocessed.count == 15)
            #expect(unprocessed == Array(requests[10...]))
            for index in 0..<25 {
                let item = try await db.getItem(GetItemInput(tableName: "Orders", key: ["pk": .s("batch-\(index)")])).item
                #expect((item != nil) == (index < 10), "batch-\(index)")
            }
            // With the bucket empty, no item gets in: the error itself.
            await #expect(throws: EddyError.self) {
                try await db.batchWriteItem(BatchWriteItemInput(requestItems: ["Orders": Array(requests[10...])]))
            }
            clock.advance(bySeconds: 15)
            let retried = try await db.batchWriteItem(BatchWriteItemInput(requestItems: ["Orders": unprocessed]))
            #expect(retried.unprocessedItems.isEmpty)
        }
    }

    @Test func batchGetItemReturnsTheRefusedKeysUnprocessed() async throws {
        try await withCapacityDatabase { db, _ in
            try await createCapacityTable(db, "Orders", read: 1, write: 10)
            let keys: [Item] = (0..<20).map { ["pk": .s("k\($0)")] }
            for key in keys { try await db.putItem(PutItemInput(tableName: "Orders", item: key)) }
            // Eventually consistent gets: half a unit each, 300 saved; leave 5 units (10 gets).
            for _ in 0..<590 { _ = try await db.getItem(GetItemInput(tableName: "Orders", key: keys[0])) }
            let output = try await db.batchGetItem(BatchGetItemInput(requestItems: ["Orders": KeysAndAttributes(keys: keys)]))
            #expect(output.responses["Orders"]?.count == 10)
            #expect(output.unprocessedKeys["Orders"]?.keys == Array(keys[10...]))
            await #expect(throws: EddyError.self) {
                try await db.batchGetItem(BatchGetItemInput(requestItems: ["Orders": KeysAndAttributes(keys: keys)]))
            }
        }
    }

    @Test func aThrottledTransactionIsCancelledWithTheThrottledItemsReason() async throws {
        try await withCapacityDatabase { db, _ in
            try await createCapacityTable(db, "Slow", read: 1, write: 1)
            try await createCapacityTable(db, "Fast", read: 100, write: 100)
            for index in 0..<300 { try await db.putItem(PutItemInput(tableName: "Slow", item: ["pk": .s("seed-\(index)")])) }
            let input = TransactWriteItemsInput(transactItems: [
                TransactWriteItem(put: TransactPut(tableName: "Fast", item: ["pk": .s("f")])),
                TransactWriteItem(put: TransactPut(tableName: "Slow", item: ["pk": .s("s")])),
            ])
            do throws(EddyError) {
                try await db.transactWriteItems(input)
                Issue.record("a transaction on an empty bucket committed")
            } catch {
                guard case .transactionCanceled(_, let reasons) = error else {
                    Issue.record("expected TransactionCanceledException, got \(error)")
                    return
                }
                #expect(reasons.map(\.code) == ["None", "ProvisionedThroughputExceeded"])
                #expect(reasons[1].message == ThrottlingMessages.provisionedTable)
            }
            let fast = try await db.getItem(GetItemInput(tableName: "Fast", key: ["pk": .s("f")])).item
            #expect(fast == nil)
        }
    }

    @Test func aHotPartitionKeyThrottlesWhileAnotherKeyOfTheTableDoesNot() async throws {
        try await withCapacityDatabase { db, clock in
            // On demand: no provisioned limit, but a partition key value takes 1,000 write units a second.
            try await createCapacityTable(db, "Counters")
            let hot = try await Self.putUntilRefused(db, "Counters") { ["pk": .s("hot"), "n": .n(DecimalNumber($0))] }
            #expect(hot.written == 1000)
            guard case .throttling(_, let reasons) = hot.refusal else {
                Issue.record("expected ThrottlingException, got \(String(describing: hot.refusal))")
                return
            }
            #expect(reasons.map(\.reason) == ["TableWriteKeyRangeThroughputExceeded"])
            try await db.putItem(PutItemInput(tableName: "Counters", item: ["pk": .s("cold")]))
            // Burst does not lift it; the next second does.
            clock.advance(bySeconds: 1)
            try await db.putItem(PutItemInput(tableName: "Counters", item: ["pk": .s("hot"), "n": 0]))
        }
    }

    @Test func aGlobalIndexReadIsAdmittedOnTheIndexsBucket() async throws {
        try await withCapacityDatabase { db, _ in
            try await createCapacityTable(db, "Orders", read: 100, write: 100, indexUnits: 1)
            try await db.putItem(PutItemInput(tableName: "Orders", item: ["pk": .s("o1"), "owner": .s("ada")]))
            let byOwner = QueryInput(
                tableName: "Orders", indexName: "byOwner", keyConditionExpression: "#o = :o",
                expressionAttributeNames: ["#o": "owner"], expressionAttributeValues: [":o": .s("ada")])
            // Half a unit a page (eventually consistent): 600 pages use the index's 300 saved units.
            for _ in 0..<600 { _ = try await db.query(byOwner) }
            do throws(EddyError) {
                _ = try await db.query(byOwner)
                Issue.record("a query on an index with an empty bucket was answered")
            } catch {
                #expect(error.message == ThrottlingMessages.provisionedIndex)
            }
            // The table's own reads are not the index's.
            _ = try await db.getItem(GetItemInput(tableName: "Orders", key: ["pk": .s("o1")]))
        }
    }

    @Test func withThrottlingOffNothingIsRefused() async throws {
        try await withCapacityDatabase(throttling: false) { db, _ in
            try await createCapacityTable(db, "Orders", read: 1, write: 1)
            let written = try await Self.putUntilRefused(db, "Orders") { ["pk": .s("pk-\($0 % 10)"), "n": .n(DecimalNumber($0))] }
            #expect(written.written == 10_000)
        }
    }
}

// Derivative tables consume their capacity too (issue 23, point 7): a throttled batch is tried again as it
// is, without breaking exactly-once, and the trigger metrics count it.
@Suite(.timeLimit(.minutes(5))) struct DerivativeThrottlingTests {
    @Test func aThrottledDerivativeBatchIsAppliedOnceWhenCapacityIsBack() async throws {
        try await withStreamDatabase(shardCount: 1) { db, clock in
            let arn = try #require(try await createStreamTable(db, "Orders").latestStreamArn)
            // One write unit a second: 300 saved.
            try await createCapacityTable(db, "Seen", read: 1, write: 1)
            let metrics = TestMetrics()
            let runtime = TriggerRuntime(database: db, metricsFactory: metrics)
            try await runtime.registerDerivative(
                name: "seen", configuration: .init(eventSourceArn: arn, startingPosition: .trimHorizon), targetTables: ["Seen"]
            ) { record in
                [.update(tableName: "Seen", key: ["pk": record.dynamodb.keys["pk"]!], updateExpression: "ADD n :one", expressionAttributeValues: [":one": 1])]
            }
            for order in 0..<400 {
                try await db.putItem(PutItemInput(tableName: "Orders", item: ["pk": .s("o\(order)")]))
            }
            let running = Task { await runtime.run() }
            try await waitUntil("a throttled derivative batch") {
                ((try? metrics.expectCounter("eddy_trigger_throttles", [("mapping", "seen")]))?.totalValue ?? 0) > 0
            }
            let applied = try await db.scan(ScanInput(tableName: "Seen")).items ?? []
            #expect(applied.count >= 300 && applied.count < 400)
            // Throttling is not a failure: nothing was retried as an error or dropped.
            #expect(try metrics.expectCounter("eddy_trigger_errors", [("mapping", "seen")]).totalValue == 0)
            clock.advance(bySeconds: 200)
            try await runtime.waitUntilCaughtUp("seen")
            running.cancel()
            await running.value
            let items = try await db.scan(ScanInput(tableName: "Seen")).items ?? []
            #expect(items.count == 400)
            #expect(items.allSatisfy { $0["n"] == 1 }, "every order applied exactly once")
        }
    }

    @Test func recordsThatGrowTooOldWhileTheTargetThrottlesAreReportedAndDropped() async throws {
        try await withStreamDatabase(shardCount: 1) { db, clock in
            let arn = try #require(try await createStreamTable(db, "Orders").latestStreamArn)
            try await createCapacityTable(db, "Seen", read: 1, write: 1)
            // A 390 KB item costs 390 units of the 300 saved: the target owes 90 before the mapping starts.
            try await db.putItem(PutItemInput(tableName: "Seen", item: ["pk": "big", "body": .s(String(repeating: "x", count: 390 * 1024))]))
            let metrics = TestMetrics()
            let runtime = TriggerRuntime(database: db, metricsFactory: metrics)
            var configuration = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
            configuration.maximumRecordAgeInSeconds = 60
            try await runtime.registerDerivative(name: "seen", configuration: configuration, targetTables: ["Seen"]) { record in
                [.update(tableName: "Seen", key: ["pk": record.dynamodb.keys["pk"]!], updateExpression: "ADD n :one", expressionAttributeValues: [":one": 1])]
            }
            for order in 0..<50 {
                try await db.putItem(PutItemInput(tableName: "Orders", item: ["pk": .s("o\(order)")]))
            }
            let running = Task { await runtime.run() }
            try await waitUntil("a throttled derivative batch") {
                ((try? metrics.expectCounter("eddy_trigger_throttles", [("mapping", "seen")]))?.totalValue ?? 0) > 0
            }
            // 61 seconds refill 61 units: the target still owes 29, and every record is now too old.
            clock.advance(bySeconds: 61)
            try await runtime.waitUntilCaughtUp("seen")
            running.cancel()
            await running.value
            #expect(try metrics.expectCounter("eddy_trigger_dropped_records", [("mapping", "seen")]).totalValue == 50)
            #expect(try metrics.expectCounter("eddy_trigger_errors", [("mapping", "seen")]).totalValue == 0)
            let items = try await db.scan(ScanInput(tableName: "Seen")).items ?? []
            #expect(items.map { $0["pk"] } == ["big"])
        }
    }
}
