import ChildProcessSupport
import Foundation
import Synchronization
import Testing

@testable import Eddy

// Issue 19: a failing batch holds back only the records behind it in its own shard (Lambda processes each
// shard on its own) or lane (ParallelizationFactor); a handler may change its own mapping; a long-lived
// mapping's state stays bounded as shards roll over.

/// Counts a handler's calls for one poison key and collects everything else it was given.
private final class PoisonedHandler: Sendable {
    let poison: String
    let received = ReceivedEvents()
    private let poisonCalls = Atomic(0)

    init(poison: String) {
        self.poison = poison
    }

    var poisonCallCount: Int { poisonCalls.load(ordering: .relaxed) }

    /// Fails every batch that holds the poison key; takes the others.
    func handle(_ event: TriggerEvent) throws {
        if event.records.contains(where: { $0.dynamodb.keys["pk"] == .s(poison) }) {
            poisonCalls.add(1, ordering: .relaxed)
            throw PoisonError()
        }
        received.append(event)
    }

    struct PoisonError: Error {}
}

/// The slot (shard of a new stream) or lane a partition key `key` goes to, out of `count`.
private func bucket(_ key: String, of count: Int, lanes: Bool) -> Int {
    let hash = ShardProgress.partitionHash(ofKey: .s(key))
    return lanes ? ShardProgress.lane(of: hash, factor: count) : Int(hash % UInt32(count))
}

@Suite(.timeLimit(.minutes(5))) struct TriggerIsolationTests {
    /// Writes a poison record, then `count` healthy ones, and checks that the mapping delivers every healthy
    /// record outside the poison's shard or lane while the poison keeps failing, and none behind it.
    private func checkIsolation(shards: Int, factor: Int) async throws {
        try await withStreamDatabase(shardCount: shards) { db, _ in
            let arn = try #require(try await createStreamTable(db, "Users").latestStreamArn)
            var settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
            settings.batchSize = 5
            settings.parallelizationFactor = factor
            let handler = PoisonedHandler(poison: "poison")
            let runtime = TriggerRuntime(database: db)
            try await runtime.register(name: "isolated", configuration: settings) { try handler.handle($0) }
            let running = Task { await runtime.run() }
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "poison"]))
            try await waitUntil("the poison's first failure") { handler.poisonCallCount > 0 }
            // Split by shard with one lane, by lane with one shard.
            let lanes = factor > 1
            let blocked = bucket("poison", of: lanes ? factor : shards, lanes: lanes)
            let keys = (0..<40).map { "user\($0)" }
            let start = ContinuousClock.now
            for key in keys { try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": .s(key)])) }
            let free = Set(keys.filter { bucket($0, of: lanes ? factor : shards, lanes: lanes) != blocked })
            #expect(free.count >= 20 && free.count < keys.count, "the keys spread over the buckets")
            try await handler.received.waitFor(records: free.count)
            let elapsed = ContinuousClock.now - start
            let delivered = handler.received.records.compactMap { $0.dynamodb.keys["pk"].flatMap { if case .s(let key) = $0 { key } else { nil } } }
            #expect(Set(delivered) == free, "every record outside the poison's \(lanes ? "lane" : "shard") arrived, nothing behind it")
            #expect(delivered.count == free.count)
            let callsBefore = handler.poisonCallCount
            try await waitUntil("the poison to be retried again") { handler.poisonCallCount > callsBefore }
            print("Isolation (\(shards) shards, factor \(factor)): \(free.count) records delivered in \(elapsed) while the poison failed \(handler.poisonCallCount) times")
            #expect(!(try runtime.isCaughtUp("isolated")), "the records behind the poison wait")
            running.cancel()
            await running.value
        }
    }

    @Test func aPoisonRecordHoldsBackOnlyItsOwnShard() async throws {
        try await checkIsolation(shards: 4, factor: 1)
    }

    @Test func aPoisonRecordHoldsBackOnlyItsOwnLane() async throws {
        try await checkIsolation(shards: 1, factor: 4)
    }

    @Test func aPoisonRecordHoldsBackOnlyItsOwnShardOfADerivativeMapping() async throws {
        try await withStreamDatabase(shardCount: 4) { db, _ in
            let arn = try #require(try await createStreamTable(db, "Users").latestStreamArn)
            try await createTable(db, "Copies")
            var settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
            settings.batchSize = 5
            let runtime = TriggerRuntime(database: db)
            try await runtime.registerDerivative(name: "copies", configuration: settings, targetTables: ["Copies"]) { record in
                guard let key = record.dynamodb.keys["pk"], key != .s("poison") else { throw PoisonedHandler.PoisonError() }
                return [.put(tableName: "Copies", item: ["pk": key])]
            }
            let running = Task { await runtime.run() }
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "poison"]))
            let keys = (0..<40).map { "user\($0)" }
            for key in keys { try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": .s(key)])) }
            let blocked = bucket("poison", of: 4, lanes: false)
            let free = Set(keys.filter { bucket($0, of: 4, lanes: false) != blocked })
            func copied() async throws -> Set<String> {
                let items = try await db.scan(ScanInput(tableName: "Copies")).items
                return Set((items ?? []).compactMap { if case .s(let key) = $0["pk"] { key } else { nil } })
            }
            try await waitUntil("the other shards' records in the derivative table") { try await copied().count >= free.count }
            #expect(try await copied() == free)
            running.cancel()
            await running.value
        }
    }

    // MARK: Changing one's own mapping

    @Test func aHandlerThatDisablesItsOwnMappingReturns() async throws {
        try await withStreamDatabase { db, _ in
            let arn = try #require(try await createStreamTable(db, "Users").latestStreamArn)
            let runtime = TriggerRuntime(database: db)
            let returned = Atomic(false)
            try await runtime.register(name: "self", configuration: .init(eventSourceArn: arn, startingPosition: .trimHorizon)) { _ in
                let mapping = try await runtime.disable("self")
                #expect(mapping.state == .disabling, "the change ends once the handler has returned")
                returned.store(true, ordering: .relaxed)
            }
            let running = Task { await runtime.run() }
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "a"]))
            try await waitUntil("the handler to return") { returned.load(ordering: .relaxed) }
            try await waitUntil("the mapping to be Disabled") { try runtime.mapping("self").state == .disabled }
            // The batch that disabled it was checkpointed: enabling it again delivers nothing twice.
            try await runtime.waitUntilCaughtUp("self")
            running.cancel()
            await running.value
        }
    }

    @Test func aHandlerThatUpdatesItsOwnMappingGoesOnWithTheNewSettings() async throws {
        try await withStreamDatabase { db, _ in
            let arn = try #require(try await createStreamTable(db, "Users").latestStreamArn)
            let runtime = TriggerRuntime(database: db)
            let received = ReceivedEvents()
            var settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
            settings.batchSize = 10
            let original = settings
            try await runtime.register(name: "self", configuration: settings) { event in
                if received.all.isEmpty {
                    var updated = original
                    updated.batchSize = 7
                    let mapping = try await runtime.update("self", configuration: updated)
                    #expect(mapping.state == .updating)
                }
                received.append(event)
            }
            let running = Task { await runtime.run() }
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "a"]))
            try await waitUntil("the mapping to run with the new settings") {
                let mapping = try runtime.mapping("self")
                return mapping.state == .enabled && mapping.configuration.batchSize == 7
            }
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "b"]))
            try await received.waitFor(records: 2)
            try await runtime.waitUntilCaughtUp("self")
            #expect(received.records.map { $0.dynamodb.keys["pk"] } == [.s("a"), .s("b")])
            running.cancel()
            await running.value
        }
    }

    @Test func aHandlerThatDeletesItsOwnMappingReturns() async throws {
        try await withStreamDatabase { db, _ in
            let arn = try #require(try await createStreamTable(db, "Users").latestStreamArn)
            let runtime = TriggerRuntime(database: db)
            let returned = Atomic(false)
            let mapping = try await runtime.register(name: "self", configuration: .init(eventSourceArn: arn, startingPosition: .trimHorizon)) { _ in
                let deleted = try await runtime.delete("self")
                #expect(deleted.state == .deleting)
                returned.store(true, ordering: .relaxed)
            }
            let running = Task { await runtime.run() }
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "a"]))
            try await waitUntil("the handler to return") { returned.load(ordering: .relaxed) }
            await expectEddyError("ResourceNotFoundException") { _ = try runtime.mapping("self") }
            let streamId = try #require(db.streams.snapshot.streams.values.first?.id)
            try await waitUntil("the deleted mapping's positions to go") { try db.triggerProgress(mapping.uuid, stream: streamId).isEmpty }
            running.cancel()
            await running.value
        }
    }

    @Test func aSecondChangeWhileOneIsInProgressIsRefused() async throws {
        try await withStreamDatabase { db, _ in
            let arn = try #require(try await createStreamTable(db, "Users").latestStreamArn)
            let runtime = TriggerRuntime(database: db)
            let outcome = Mutex<String?>(nil)
            try await runtime.register(name: "self", configuration: .init(eventSourceArn: arn, startingPosition: .trimHorizon)) { _ in
                _ = try await runtime.disable("self")
                do {
                    _ = try await runtime.enable("self")
                    outcome.withLock { $0 = "enabled" }
                } catch {
                    outcome.withLock { $0 = (error as? EddyError)?.errorType ?? "\(error)" }
                }
            }
            let running = Task { await runtime.run() }
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "a"]))
            try await waitUntil("the handler's second change") { outcome.withLock { $0 } != nil }
            #expect(outcome.withLock { $0 } == "ResourceInUseException")
            try await waitUntil("the mapping to be Disabled") { try runtime.mapping("self").state == .disabled }
            running.cancel()
            await running.value
        }
    }

    // MARK: Bounded state

    @Test func tenThousandShardRollOversLeaveTheMappingsStateBounded() async throws {
        // One slot and one record per shard: every write rolls the shard over. The clock moves 20 minutes a
        // write, so retention (24 hours) keeps about 72 shards.
        try await withStreamDatabase(shardCount: 1, recordLimit: 1) { db, clock in
            let arn = try #require(try await createStreamTable(db, "Users").latestStreamArn)
            let runtime = TriggerRuntime(database: db)
            let count = Atomic(0)
            let mapping = try await runtime.register(name: "long-lived", configuration: .init(eventSourceArn: arn, startingPosition: .trimHorizon)) { event in
                count.add(event.records.count, ordering: .relaxed)
            }
            let running = Task { await runtime.run() }
            let streamId = try #require(db.streams.snapshot.streams.values.first?.id)
            var most = (stored: 0, shards: 0, lanes: 0, live: 0)
            for round in 0..<200 {
                for index in 0..<50 {
                    clock.advance(bySeconds: 20 * 60)
                    try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": .s("u\(round * 50 + index)")]))
                }
                try await runtime.waitUntilCaughtUp("long-lived")
                try await db.trimExpiredStreamRecords()
                let live = db.streams.snapshot.streams[streamId]?.shards.count ?? 0
                let stored = try db.triggerProgress(mapping.uuid, stream: streamId).count
                let tracked = try #require(runtime.trackedState(of: "long-lived"))
                most = (Swift.max(most.stored, stored), Swift.max(most.shards, tracked.shards), Swift.max(most.lanes, tracked.lanes), Swift.max(most.live, live))
            }
            #expect(count.load(ordering: .relaxed) == 10_000)
            print("10,000 roll-overs: at most \(most.live) live shards, \(most.stored) shards with stored positions, \(most.shards) shards in memory, \(most.lanes) lanes running")
            // Bounded by what retention keeps (72 shards, and the 50 written between two trims), not by 10,000.
            #expect(most.live <= 130)
            #expect(most.stored <= 130)
            #expect(most.shards <= 130)
            #expect(most.lanes <= 2)
            running.cancel()
            await running.value
        }
    }
}
