import ChildProcessSupport
import Foundation
import Testing

@testable import Eddy

// Derivative tables kept by a trigger mapping: each source change applied exactly once, with the
// checkpoint in the same batch, and the target's own stream recording what changed.

@Suite(.timeLimit(.minutes(5))) struct DerivativeTableTests {
    /// Per-customer order count and total, from the Orders stream's old and new images.
    private static let totals: DerivativeTransform = { record in
        func contribution(_ image: Item?) -> (customer: AttributeValue, amount: AttributeValue)? {
            guard let image, let customer = image["customer"], let amount = image["amount"] else { return nil }
            return (customer, amount)
        }
        var writes: [DerivativeWrite] = []
        if let old = contribution(record.dynamodb.oldImage), case .n(let amount) = old.amount {
            writes.append(.update(
                tableName: "Totals", key: ["pk": old.customer], updateExpression: "ADD orders :minus, amountSum :amount",
                expressionAttributeValues: [":minus": -1, ":amount": .n(try DecimalNumber("-" + amount.description))]))
        }
        if let new = contribution(record.dynamodb.newImage) {
            writes.append(.update(
                tableName: "Totals", key: ["pk": new.customer], updateExpression: "ADD orders :one, amountSum :amount",
                expressionAttributeValues: [":one": 1, ":amount": new.amount]))
        }
        return writes
    }

    /// The totals recomputed from Orders, as the Totals table should hold them (customers with no orders
    /// keep an item with zeros).
    private func recomputed(_ db: Database) async throws -> [String: (Int, Int)] {
        var result: [String: (Int, Int)] = [:]
        for order in try await db.scan(ScanInput(tableName: "Orders")).items ?? [] {
            guard case .s(let customer)? = order["customer"], case .n(let amount)? = order["amount"] else { continue }
            let (count, total) = result[customer] ?? (0, 0)
            result[customer] = (count + 1, total + Int(amount.description)!)
        }
        return result
    }

    private func stored(_ db: Database) async throws -> [String: (Int, Int)] {
        var result: [String: (Int, Int)] = [:]
        for item in try await db.scan(ScanInput(tableName: "Totals")).items ?? [] {
            guard case .s(let customer)? = item["pk"], case .n(let orders)? = item["orders"], case .n(let total)? = item["amountSum"]
            else { continue }
            let (count, sum) = (Int(orders.description)!, Int(total.description)!)
            if count != 0 || sum != 0 { result[customer] = (count, sum) }
        }
        return result
    }

    private func equal(_ a: [String: (Int, Int)], _ b: [String: (Int, Int)]) -> Bool {
        a.count == b.count && a.allSatisfy { key, value in b[key].map { $0 == value } ?? false }
    }

    private func randomOrders(_ db: Database, seed: UInt64, count: Int) async throws {
        var random = SplitMix64(seed: seed)
        for _ in 0..<count {
            let order = "o\(Int.random(in: 0..<40, using: &random))"
            if Int.random(in: 0..<4, using: &random) == 0 {
                try await db.deleteItem(DeleteItemInput(tableName: "Orders", key: ["pk": .s(order)]))
            } else {
                try await db.putItem(PutItemInput(tableName: "Orders", item: [
                    "pk": .s(order), "customer": .s("c\(Int.random(in: 0..<5, using: &random))"),
                    "amount": .n(DecimalNumber(Int.random(in: 1..<100, using: &random))),
                ]))
            }
        }
    }

    @Test func totalsEqualTheirRecomputationAcrossARestart() async throws {
        try await withTemporaryDirectory { path in
            var settings: TriggerMappingConfiguration
            do {
                let db = try Database(path: path + "/db")
                let arn = try #require(try await createStreamTable(db, "Orders").latestStreamArn)
                try await createStreamTable(db, "Totals")
                settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
                settings.batchSize = 7
                let runtime = TriggerRuntime(database: db)
                try await runtime.registerDerivative(name: "totals", configuration: settings, targetTables: ["Totals"], transform: Self.totals)
                let running = Task { await runtime.run() }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for writer in 0..<3 { group.addTask { try await self.randomOrders(db, seed: UInt64(writer), count: 80) } }
                    try await group.waitForAll()
                }
                // Stop while records may still be waiting: the restart must pick up exactly where it stopped.
                running.cancel()
                await running.value
            }
            try await resumeAndCompare(path: path, settings: settings, seed: 99)
        }
    }

    /// Opens the database in `path` again, takes mapping `totals` up with `settings` while orders are written
    /// (`seed`), and, once every order change is checkpointed, expects Totals to equal its recomputation: each
    /// change applied once, none left out. Returns the runtime, stopped.
    @discardableResult
    private func resumeAndCompare(path: String, settings: TriggerMappingConfiguration, seed: UInt64) async throws -> TriggerRuntime {
        let db = try Database(path: path + "/db")
        let runtime = TriggerRuntime(database: db)
        try await runtime.registerDerivative(name: "totals", configuration: settings, targetTables: ["Totals"], transform: Self.totals)
        let running = Task { await runtime.run() }
        try await randomOrders(db, seed: seed, count: 60)
        try await runtime.waitUntilCaughtUp("totals")
        running.cancel()
        await running.value
        let (totals, expected) = (try await stored(db), try await recomputed(db))
        #expect(equal(totals, expected), "Totals \(totals) differs from the recomputation \(expected)")
        return runtime
    }

    /// A derivative mapping with `Snapshot`, added to a table that already holds orders, while writers go on:
    /// the snapshot's items and the later changes each count once (the snapshot's progress commits with its
    /// writes), across a restart that may fall in the middle of the snapshot.
    @Test func totalsFromASnapshotThenTheStreamEqualTheirRecomputation() async throws {
        try await withTemporaryDirectory { path in
            var settings: TriggerMappingConfiguration
            do {
                let db = try Database(path: path + "/db")
                let arn = try #require(try await createStreamTable(db, "Orders").latestStreamArn)
                try await createStreamTable(db, "Totals")
                for writer in 0..<3 { try await randomOrders(db, seed: UInt64(10 + writer), count: 60) }
                settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .latest)
                settings.batchSize = 3
                settings.snapshot = true
                let runtime = TriggerRuntime(database: db)
                try await runtime.registerDerivative(name: "totals", configuration: settings, targetTables: ["Totals"], transform: Self.totals)
                let running = Task { await runtime.run() }
                try await randomOrders(db, seed: 20, count: 40)
                running.cancel()
                await running.value
            }
            let runtime = try await resumeAndCompare(path: path, settings: settings, seed: 30)
            #expect(try runtime.mapping("totals").snapshotProgress?.complete == true)
        }
    }

    @Test func targetTablesRecordTheirOwnChanges() async throws {
        try await withStreamDatabase { db, _ in
            let arn = try #require(try await createStreamTable(db, "Orders").latestStreamArn)
            let totalsArn = try #require(try await createStreamTable(db, "Totals").latestStreamArn)
            let runtime = TriggerRuntime(database: db)
            try await runtime.registerDerivative(
                name: "totals", configuration: .init(eventSourceArn: arn, startingPosition: .trimHorizon), targetTables: ["Totals"],
                transform: Self.totals)
            let received = ReceivedEvents()
            try await runtime.register(name: "chained", configuration: .init(eventSourceArn: totalsArn, startingPosition: .trimHorizon)) {
                received.append($0)
            }
            let running = Task { await runtime.run() }
            try await db.putItem(PutItemInput(tableName: "Orders", item: ["pk": "o1", "customer": "c1", "amount": 5]))
            try await db.putItem(PutItemInput(tableName: "Orders", item: ["pk": "o2", "customer": "c1", "amount": 7]))
            // Totals' records are committed once "totals" has caught up; "chained" then catches up with them.
            try await runtime.waitUntilCaughtUp("totals")
            try await runtime.waitUntilCaughtUp("chained")
            running.cancel()
            await running.value
            #expect(received.records.map(\.eventName) == [.insert, .modify])
            #expect(received.records.last?.dynamodb.newImage == ["pk": "c1", "orders": 2, "amountSum": 12])
        }
    }

    @Test func aCycleOfDerivativeTablesIsRefused() async throws {
        try await withStreamDatabase { db, _ in
            let a = try #require(try await createStreamTable(db, "Aaa").latestStreamArn)
            let b = try #require(try await createStreamTable(db, "Bbb").latestStreamArn)
            let runtime = TriggerRuntime(database: db)
            try await runtime.registerDerivative(
                name: "a-to-b", configuration: .init(eventSourceArn: a, startingPosition: .latest), targetTables: ["Bbb"]) { _ in [] }
            await expectValidation {
                try await runtime.registerDerivative(
                    name: "b-to-a", configuration: .init(eventSourceArn: b, startingPosition: .latest), targetTables: ["Aaa"]) { _ in [] }
            }
            await expectValidation {
                try await runtime.registerDerivative(
                    name: "a-to-a", configuration: .init(eventSourceArn: a, startingPosition: .latest), targetTables: ["Aaa"]) { _ in [] }
            }
            await expectValidation("The derivative table Nope does not exist") {
                try await runtime.registerDerivative(
                    name: "lost", configuration: .init(eventSourceArn: a, startingPosition: .latest), targetTables: ["Nope"]) { _ in [] }
            }
        }
    }

    @Test func anInvalidWriteWritesNothingAndIsReported() async throws {
        try await withStreamDatabase(shardCount: 1) { db, _ in
            let arn = try #require(try await createStreamTable(db, "Orders").latestStreamArn)
            try await createStreamTable(db, "Totals")
            var settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
            settings.maximumRetryAttempts = 1
            settings.batchSize = 1
            let failures = ReceivedFailures()
            let runtime = TriggerRuntime(database: db)
            try await runtime.registerDerivative(
                name: "strict", configuration: settings, targetTables: ["Totals"], onFailure: .handler { failures.append($0) }
            ) { record in
                // The second write has a key of the wrong type: the whole batch must write nothing.
                [.put(tableName: "Totals", item: ["pk": "written"]), .put(tableName: "Totals", item: ["pk": 1])]
            }
            let running = Task { await runtime.run() }
            try await db.putItem(PutItemInput(tableName: "Orders", item: ["pk": "o1"]))
            try await runtime.waitUntilCaughtUp("strict")
            running.cancel()
            await running.value
            #expect(failures.all.map(\.requestContext.condition) == [.retryAttemptsExhausted])
            #expect(failures.all.first?.requestContext.approximateInvokeCount == 2)
            #expect(try await db.scan(ScanInput(tableName: "Totals")).items?.isEmpty == true)
        }
    }
}
