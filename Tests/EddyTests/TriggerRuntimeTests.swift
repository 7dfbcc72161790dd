import ChildProcessSupport
import Foundation
import MetricsTestKit
import Synchronization
import Testing

@testable import Eddy

// The trigger runtime with Swift handlers, written from the Lambda developer guide's "Using Lambda with
// DynamoDB" (batches in order per shard, retries, filtering, starting positions) and the issue's
// restart-without-gap requirement.

/// What an on-failure destination received, shared with the test.
final class ReceivedFailures: Sendable {
    private let failures = Mutex<[TriggerFailureRecord]>([])

    func append(_ failure: TriggerFailureRecord) { failures.withLock { $0.append(failure) } }
    var all: [TriggerFailureRecord] { failures.withLock { $0 } }
}

/// What a handler received, shared with the test.
final class ReceivedEvents: Sendable {
    private let events = Mutex<[TriggerEvent]>([])

    func append(_ event: TriggerEvent) { events.withLock { $0.append(event) } }
    var all: [TriggerEvent] { events.withLock { $0 } }
    var records: [TriggerEventRecord] { all.flatMap(\.records) }

    /// Waits until `count` records have arrived; throws ``WaitTimedOut`` if they do not.
    func waitFor(records count: Int) async throws {
        try await waitUntil("\(count) records; \(records.count) arrived") { records.count >= count }
    }
}

extension TriggerRuntime {
    /// Waits until mapping `name` has checkpointed past every record committed so far (``isCaughtUp(_:)``):
    /// then nothing more is on its way, and a test can check exact counts. Throws ``WaitTimedOut`` if it
    /// does not.
    func waitUntilCaughtUp(_ name: String) async throws {
        try await waitUntil("mapping \(name) to catch up with its stream") { try isCaughtUp(name) }
    }
}

@Suite(.timeLimit(.minutes(5))) struct TriggerRuntimeTests {
    @Test func everyRecordArrivesOnceInOrderInBatches() async throws {
        try await withStreamDatabase(shardCount: 2) { db, _ in
            let arn = try #require(try await createStreamTable(db, "Users").latestStreamArn)
            let received = ReceivedEvents()
            var settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
            settings.batchSize = 4
            let runtime = TriggerRuntime(database: db)
            let mapping = try await runtime.register(name: "all", configuration: settings) { received.append($0) }
            #expect(mapping.uuid.count == 36)
            let running = Task { await runtime.run() }
            for round in 0..<10 {
                for user in 0..<3 {
                    try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": .s("u\(user)"), "round": .n(DecimalNumber(round))]))
                }
            }
            try await runtime.waitUntilCaughtUp("all")
            running.cancel()
            await running.value
            #expect(received.records.count == 30)
            #expect(received.all.allSatisfy { $0.records.count <= 4 })
            #expect(received.records.allSatisfy { $0.eventSourceARN == arn })
            for user in 0..<3 {
                let rounds = received.records.filter { $0.dynamodb.keys == ["pk": .s("u\(user)")] }.map { $0.dynamodb.newImage?["round"] }
                #expect(rounds == (0..<10).map { AttributeValue.n(DecimalNumber($0)) })
            }
        }
    }

    @Test func latestSkipsWhatCommittedBeforeRegistration() async throws {
        try await withStreamDatabase { db, _ in
            let arn = try #require(try await createStreamTable(db, "Users").latestStreamArn)
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "before"]))
            let received = ReceivedEvents()
            let runtime = TriggerRuntime(database: db)
            try await runtime.register(name: "new", configuration: .init(eventSourceArn: arn, startingPosition: .latest)) { received.append($0) }
            let running = Task { await runtime.run() }
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "after"]))
            try await runtime.waitUntilCaughtUp("new")
            running.cancel()
            await running.value
            #expect(received.records.map(\.dynamodb.keys) == [["pk": "after"]])
        }
    }

    @Test func filteredRecordsAreSkippedAndCheckpointed() async throws {
        try await withTemporaryDirectory { path in
            let arn: String
            let received = ReceivedEvents()
            var settings: TriggerMappingConfiguration
            do {
                let db = try Database(path: path + "/db")
                arn = try #require(try await createStreamTable(db, "Users").latestStreamArn)
                settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
                settings.filterCriteria = try FilterCriteria(patterns: [#"{"eventName": ["INSERT"]}"#])
                let runtime = TriggerRuntime(database: db)
                try await runtime.register(name: "signups", configuration: settings) { received.append($0) }
                let running = Task { await runtime.run() }
                try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "u1", "v": 1]))
                try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "u1", "v": 2]))
                try await db.deleteItem(DeleteItemInput(tableName: "Users", key: ["pk": "u1"]))
                try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "u2"]))
                // Caught up: the rejected MODIFY and REMOVE are checkpointed too.
                try await runtime.waitUntilCaughtUp("signups")
                running.cancel()
                await running.value
            }
            #expect(received.records.map(\.eventName) == [.insert, .insert])
            // A restart registers the same mapping and resumes at its checkpoint: nothing arrives twice.
            let db = try Database(path: path + "/db")
            let runtime = TriggerRuntime(database: db)
            try await runtime.register(name: "signups", configuration: settings) { received.append($0) }
            let running = Task { await runtime.run() }
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "u3"]))
            try await runtime.waitUntilCaughtUp("signups")
            running.cancel()
            await running.value
            // Records of different items may arrive in either order (they can be in different shards).
            let keys = received.records.compactMap { record -> String? in
                guard case .s(let key)? = record.dynamodb.keys["pk"] else { return nil }
                return key
            }
            #expect(keys.sorted() == ["u1", "u2", "u3"])
        }
    }

    @Test func aFailingBatchIsRetriedThenSkipped() async throws {
        try await withStreamDatabase(shardCount: 1) { db, _ in
            let arn = try #require(try await createStreamTable(db, "Users").latestStreamArn)
            let attempts = ReceivedEvents()
            var settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
            settings.batchSize = 1
            settings.maximumRetryAttempts = 2
            struct Refused: Error {}
            let runtime = TriggerRuntime(database: db)
            let failures = ReceivedFailures()
            try await runtime.register(name: "flaky", configuration: settings, onFailure: .handler { failures.append($0) }) { event in
                attempts.append(event)
                if event.records.first?.dynamodb.keys == ["pk": "poison"] { throw Refused() }
            }
            let running = Task { await runtime.run() }
            for key in ["a", "poison", "b"] { try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": .s(key)])) }
            try await runtime.waitUntilCaughtUp("flaky")
            running.cancel()
            await running.value
            // One call for "a", three (one and two retries) for "poison", then "b": the shard goes on.
            #expect(attempts.records.map(\.dynamodb.keys) == [["pk": "a"], ["pk": "poison"], ["pk": "poison"], ["pk": "poison"], ["pk": "b"]])
            // The on-failure destination learns what was dropped, why, and after how many calls.
            let poison = try #require(attempts.records.first { $0.dynamodb.keys == ["pk": "poison"] })
            let shard = try #require(try await allShards(db, arn).first).shardId
            #expect(failures.all.count == 1)
            let failure = try #require(failures.all.first)
            #expect(failure.requestContext.condition == .retryAttemptsExhausted)
            #expect(failure.requestContext.approximateInvokeCount == 3)
            #expect(failure.batchInfo.startSequenceNumber == poison.dynamodb.sequenceNumber)
            #expect(failure.batchInfo.endSequenceNumber == poison.dynamodb.sequenceNumber)
            #expect(failure.batchInfo.batchSize == 1)
            #expect(failure.batchInfo.shardId == shard)
            #expect(failure.batchInfo.streamArn == arn)
            let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(failure)) as? [String: Any]
            #expect(Set(json?.keys.map { $0 } ?? []) == ["requestContext", "responseContext", "version", "timestamp", "DDBStreamBatchInfo"])
        }
    }

    /// The keys (`pk` strings) of each call's records.
    private func calls(_ received: ReceivedEvents) -> [[String]] {
        received.all.map { event in
            event.records.compactMap { record in
                guard case .s(let key)? = record.dynamodb.keys["pk"] else { return nil }
                return key
            }
        }
    }

    /// Writes items `keys` in one BatchWriteItem, so that they commit together and form one batch.
    private func writeTogether(_ db: Database, _ keys: [String]) async throws {
        try await db.batchWriteItem(BatchWriteItemInput(requestItems: [
            "Users": keys.map { WriteRequest(putRequest: PutRequest(item: ["pk": .s($0)])) }
        ]))
    }

    @Test func aPartialBatchResponseRetriesFromTheFirstFailedRecord() async throws {
        try await withStreamDatabase(shardCount: 1) { db, _ in
            let arn = try #require(try await createStreamTable(db, "Users").latestStreamArn)
            var settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
            settings.functionResponseTypes = [.reportBatchItemFailures]
            let received = ReceivedEvents()
            let runtime = TriggerRuntime(database: db)
            try await runtime.registerReportingFailures(name: "partial", configuration: settings) { event in
                received.append(event)
                switch received.all.count {
                case 1:
                    // The second and fourth records fail: the retry starts at the second.
                    let failed = [event.records[3], event.records[1]].map { $0.dynamodb.sequenceNumber }
                    return TriggerBatchResponse(batchItemFailures: failed.map { .init(itemIdentifier: $0) })
                case 2:
                    // An empty identifier fails the whole batch.
                    return TriggerBatchResponse(batchItemFailures: [.init(itemIdentifier: "")])
                default:
                    return .success
                }
            }
            try await writeTogether(db, ["a", "b", "c", "d", "e"])
            let running = Task { await runtime.run() }
            try await runtime.waitUntilCaughtUp("partial")
            running.cancel()
            await running.value
            let sorted = { (keys: [String]) in keys.sorted() }
            #expect(calls(received).map(sorted) == [["a", "b", "c", "d", "e"], ["b", "c", "d", "e"], ["b", "c", "d", "e"]].map(sorted))
        }
    }

    @Test func bisectingSplitsAFailingBatchDownToTheFailingRecord() async throws {
        try await withStreamDatabase(shardCount: 1) { db, _ in
            let arn = try #require(try await createStreamTable(db, "Users").latestStreamArn)
            var settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
            settings.bisectBatchOnFunctionError = true
            settings.maximumRetryAttempts = 0
            struct Refused: Error {}
            let received = ReceivedEvents()
            let runtime = TriggerRuntime(database: db)
            try await writeTogether(db, ["a", "b", "c", "d"])
            let order = try await readStream(db, arn).compactMap { read -> String? in
                guard case .s(let key)? = read.record.dynamodb.keys["pk"] else { return nil }
                return key
            }
            let poison = order[2]
            try await runtime.register(name: "bisect", configuration: settings) { event in
                received.append(event)
                if event.records.contains(where: { $0.dynamodb.keys["pk"] == .s(poison) }) { throw Refused() }
            }
            let running = Task { await runtime.run() }
            try await runtime.waitUntilCaughtUp("bisect")
            running.cancel()
            await running.value
            // Bisecting is not a retry: with no retries allowed the halves are still tried, down to the
            // failing record, which is then skipped.
            #expect(calls(received) == [order, Array(order[0..<2]), Array(order[2..<4]), [order[2]], [order[3]]])
        }
    }

    @Test func recordsOlderThanTheMaximumAgeAreSkipped() async throws {
        try await withStreamDatabase { db, clock in
            let arn = try #require(try await createStreamTable(db, "Users").latestStreamArn)
            var settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
            settings.maximumRecordAgeInSeconds = 60
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "old"]))
            clock.advance(bySeconds: 61)
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "young"]))
            let received = ReceivedEvents()
            let failures = ReceivedFailures()
            let runtime = TriggerRuntime(database: db)
            try await runtime.register(name: "recent", configuration: settings, onFailure: .handler { failures.append($0) }) {
                received.append($0)
            }
            let running = Task { await runtime.run() }
            try await runtime.waitUntilCaughtUp("recent")
            running.cancel()
            await running.value
            #expect(calls(received) == [["young"]])
            #expect(failures.all.map(\.requestContext.condition) == [.recordAgeExceeded])
            #expect(failures.all.first?.requestContext.approximateInvokeCount == 0)
            #expect(failures.all.first?.batchInfo.batchSize == 1)
        }
    }

    @Test func aBatchRetriedUntilItsRecordsAreTooOldIsDroppedThenTheMappingGoesOn() async throws {
        try await withStreamDatabase(shardCount: 1) { db, clock in
            let arn = try #require(try await createStreamTable(db, "Users").latestStreamArn)
            var settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
            settings.maximumRecordAgeInSeconds = 60
            settings.batchSize = 10
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "a"]))
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "b"]))
            let received = ReceivedEvents()
            let failures = ReceivedFailures()
            let runtime = TriggerRuntime(database: db)
            struct Refused: Error {}
            // Retried without end (MaximumRetryAttempts -1) while it fails: until its records are too old.
            try await runtime.register(name: "failing", configuration: settings, onFailure: .handler { failures.append($0) }) { event in
                received.append(event)
                if event.records.contains(where: { $0.dynamodb.keys["pk"] != .s("c") }) { throw Refused() }
            }
            let running = Task { await runtime.run() }
            try await received.waitFor(records: 2 * 3)
            #expect(failures.all.isEmpty)
            clock.advance(bySeconds: 61)
            #expect(try await waitUntil { failures.all.count == 1 })
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "c"]))
            #expect(try await waitUntil { calls(received).last == ["c"] })
            running.cancel()
            await running.value
            let failure = try #require(failures.all.first)
            #expect(failure.requestContext.condition == .recordAgeExceeded)
            #expect(failure.batchInfo.batchSize == 2)
            #expect(failure.requestContext.approximateInvokeCount >= 3)
            #expect(calls(received).dropLast().allSatisfy { $0 == ["a", "b"] })
        }
    }

    @Test func aBatchingWindowGathersRecordsIntoOneBatch() async throws {
        // The window is timed on the database's clock, which stands still until the test moves it: however
        // slowly the machine runs, the window ends when the test says, not before.
        try await withStreamDatabase(shardCount: 1) { db, clock in
            let arn = try #require(try await createStreamTable(db, "Users").latestStreamArn)
            var settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
            settings.batchSize = 10
            settings.maximumBatchingWindowInSeconds = 1
            let received = ReceivedEvents()
            let metrics = TestMetrics()
            let runtime = TriggerRuntime(database: db, metricsFactory: metrics)
            try await runtime.register(name: "window", configuration: settings) { received.append($0) }
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "a"]))
            let running = Task { await runtime.run() }
            // A round ends by recording the lag: the first one has read "a", and held it back for the window.
            try await waitUntil("the first round to end") {
                (try? metrics.expectGauge("eddy_trigger_lag", [("mapping", "window")]).lastValue) != nil
            }
            #expect(received.all.isEmpty, "a short batch went before its window ended")
            // Records committed while the window is open join the batch.
            for key in ["b", "c"] { try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": .s(key)])) }
            clock.advance(bySeconds: 1)
            try await runtime.waitUntilCaughtUp("window")
            #expect(calls(received) == [["a", "b", "c"]])
            // Ten records fill a batch: they go at once, while the clock still shows the window open.
            try await writeTogether(db, (0..<10).map { "full\($0)" })
            try await runtime.waitUntilCaughtUp("window")
            running.cancel()
            await running.value
            #expect(received.all.map(\.records.count) == [3, 10])
        }
    }

    @Test func registrationIsValidated() async throws {
        try await withStreamDatabase { db, _ in
            let arn = try #require(try await createStreamTable(db, "Users").latestStreamArn)
            let runtime = TriggerRuntime(database: db)
            var settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .latest)
            settings.batchSize = 0
            await expectValidation { try await runtime.register(name: "bad", configuration: settings) { _ in } }
            let missing = "arn:aws:dynamodb:us-east-1:000000000000:table/Users/stream/2000-01-01T00:00:00.000"
            await expectEddyError("ResourceNotFoundException") {
                try await runtime.register(name: "lost", configuration: .init(eventSourceArn: missing, startingPosition: .latest)) { _ in }
            }
            try await createStreamTable(db, "Orders")
            let orders = try #require(try await db.describeTable(tableName: "Orders").latestStreamArn)
            try await runtime.register(name: "one", configuration: .init(eventSourceArn: arn, startingPosition: .latest)) { _ in }
            await expectEddyError("ResourceInUseException") {
                try await runtime.register(name: "one", configuration: .init(eventSourceArn: orders, startingPosition: .latest)) { _ in }
            }
        }
    }
}
