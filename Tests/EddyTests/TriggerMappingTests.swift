import ChildProcessSupport
import Foundation
import Logging
import MetricsTestKit
import ServiceLifecycle
import Synchronization
import Testing

@testable import Eddy

// Trigger mappings' life (states, list, update, enable, disable, delete), ParallelizationFactor, tumbling
// windows, the table on-failure destination, metrics and the Service, written from Lambda's
// CreateEventSourceMapping / UpdateEventSourceMapping references and the guide's "Using Lambda with DynamoDB"
// (parallelization factor, tumbling windows, on-failure destinations).

/// A gate a handler waits at until the test opens it.
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>], arrivals: Int)>((false, [], 0))

    func wait() async {
        await withCheckedContinuation { continuation in
            let resume = state.withLock { state -> Bool in
                state.arrivals += 1
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if resume { continuation.resume() }
        }
    }

    var arrivals: Int { state.withLock { $0.arrivals } }

    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// Expects a `ValidationException` whose message contains `text`.
func expectValidation(
    containing text: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void
) async {
    let error = await expectValidation(nil, sourceLocation: sourceLocation, body)
    #expect(error?.message.contains(text) == true, "\(String(describing: error))", sourceLocation: sourceLocation)
}

@Suite(.timeLimit(.minutes(5))) struct TriggerMappingTests {
    private func keys(_ records: [TriggerEventRecord]) -> [String] {
        records.compactMap { record in
            guard case .s(let key)? = record.dynamodb.keys["pk"] else { return nil }
            return key
        }
    }

    @Test func mappingsAreListedUpdatedDisabledEnabledAndDeleted() async throws {
        try await withStreamDatabase(shardCount: 1) { db, _ in
            let arn = try #require(try await createStreamTable(db, "Users").latestStreamArn)
            let received = ReceivedEvents()
            let gate = Gate()
            let runtime = TriggerRuntime(database: db)
            let running = Task { await runtime.run() }
            // The mapping's state whenever "b" is delivered: it must be Enabled by then, whenever that is.
            let stateAtB = Mutex<[TriggerMappingState]>([])
            // A mapping registered while the runtime runs starts at once.
            var settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
            settings.batchSize = 1
            let created = try await runtime.register(name: "audit", configuration: settings) { event in
                received.append(event)
                if self.keys(event.records) == ["b"] { try stateAtB.withLock { $0.append(try runtime.mapping("audit").state) } }
                if self.keys(event.records) == ["slow"] { await gate.wait() }
            }
            #expect(created.state == .enabled)
            #expect(try runtime.mapping("audit") == created)
            #expect(try runtime.mapping(created.uuid) == created)
            #expect(try runtime.mappings().map(\.name) == ["audit"])
            #expect(try runtime.mappings(eventSourceArn: arn + "x").isEmpty)
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "a"]))
            try await received.waitFor(records: 1)

            // Disabling waits for the batch in flight: the mapping is Disabling meanwhile.
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "slow"]))
            #expect(try await waitUntil { gate.arrivals == 1 })
            let disabling = Task { try await runtime.disable("audit") }
            #expect(try await waitUntil { try runtime.mapping("audit").state == .disabling })
            gate.open()
            #expect(try await disabling.value.state == .disabled)
            #expect(try runtime.mapping("audit").state == .disabled)

            // Nothing arrives while disabled (disabling returned once the worker had stopped, and the handler
            // checks the state whenever "b" comes); enabling resumes at the checkpoint: the slow batch finished
            // and was checkpointed, so it does not come again.
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "b"]))
            #expect(keys(received.records) == ["a", "slow"])
            #expect(try !runtime.isCaughtUp("audit"))
            var enabled = try await runtime.enable(created.uuid)
            #expect(enabled.state == .enabled)
            try await runtime.waitUntilCaughtUp("audit")
            #expect(keys(received.records) == ["a", "slow", "b"])
            #expect(stateAtB.withLock { $0 } == [.enabled])

            // An update takes effect from the checkpoint: bigger batches now.
            settings.batchSize = 10
            enabled = try await runtime.update("audit", configuration: settings)
            #expect(enabled.configuration.batchSize == 10)
            try await db.batchWriteItem(BatchWriteItemInput(requestItems: [
                "Users": ["c", "d", "e"].map { WriteRequest(putRequest: PutRequest(item: ["pk": .s($0)])) }
            ]))
            try await received.waitFor(records: 6)
            #expect(received.all.last?.records.count == 3)
            var other = settings
            other.startingPosition = .latest
            await expectValidation(containing: "cannot change") { _ = try await runtime.update("audit", configuration: other) }
            settings.batchSize = 0
            await expectValidation(containing: "batchSize") { _ = try await runtime.update("audit", configuration: settings) }

            // Deleting forgets the mapping and its checkpoints: the same name starts afresh with a new UUID.
            let deleted = try await runtime.delete("audit")
            #expect(deleted.state == .deleting)
            #expect(try runtime.mappings().isEmpty)
            await expectEddyError("ResourceNotFoundException") { _ = try runtime.mapping("audit") }
            settings.batchSize = 100
            let again = try await runtime.register(name: "audit", configuration: settings) { received.append($0) }
            #expect(again.uuid != created.uuid)
            try await runtime.waitUntilCaughtUp("audit")
            #expect(received.records.count == 12)
            #expect(keys(received.records).suffix(6).sorted() == ["a", "b", "c", "d", "e", "slow"])
            running.cancel()
            await running.value
        }
    }

    @Test func aDisabledMappingDoesNotRunUntilEnabled() async throws {
        try await withStreamDatabase(shardCount: 1) { db, _ in
            let arn = try #require(try await createStreamTable(db, "Users").latestStreamArn)
            var settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
            settings.enabled = false
            let received = ReceivedEvents()
            let runtime = TriggerRuntime(database: db)
            // The mapping's state at each delivery: Enabled, whenever a delivery comes.
            let states = Mutex<[TriggerMappingState]>([])
            let registered = try await runtime.register(name: "later", configuration: settings) { event in
                try states.withLock { $0.append(try runtime.mapping("later").state) }
                received.append(event)
            }
            #expect(registered.state == .disabled)
            let running = Task { await runtime.run() }
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "a"]))
            #expect(received.records.isEmpty)
            #expect(try !runtime.isCaughtUp("later"))
            try await runtime.enable("later")
            try await runtime.waitUntilCaughtUp("later")
            #expect(keys(received.records) == ["a"])
            #expect(states.withLock { $0 } == [.enabled])
            running.cancel()
            await running.value
        }
    }

    @Test func parallelLanesKeepEachItemsOrder() async throws {
        try await withStreamDatabase(shardCount: 1) { db, _ in
            let arn = try #require(try await createStreamTable(db, "Users").latestStreamArn)
            var settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
            settings.batchSize = 3
            settings.parallelizationFactor = 4
            let received = ReceivedEvents()
            let concurrent = Mutex((now: 0, most: 0, calls: 0))
            let runtime = TriggerRuntime(database: db)
            try await runtime.register(name: "lanes", configuration: settings) { event in
                let call = concurrent.withLock { $0.now += 1; $0.most = Swift.max($0.most, $0.now); $0.calls += 1; return $0.calls }
                // The first call waits for a second one beside it, so that concurrent lanes show however the
                // threads are scheduled; sequential lanes would never bring one, and fail below.
                if call == 1 { try await waitUntil("a second call beside the first") { concurrent.withLock { $0.most } > 1 } }
                received.append(event)
                concurrent.withLock { $0.now -= 1 }
            }
            for version in 0..<8 {
                try await db.batchWriteItem(BatchWriteItemInput(requestItems: [
                    "Users": (0..<20).map { WriteRequest(putRequest: PutRequest(item: ["pk": .s("u\($0)"), "v": .n(DecimalNumber(version))])) }
                ]))
            }
            let running = Task { await runtime.run() }
            try await runtime.waitUntilCaughtUp("lanes")
            running.cancel()
            await running.value
            #expect(received.records.count == 160)
            // One shard, yet several batches ran at once; each item's versions arrived in order, each once.
            #expect(concurrent.withLock { $0.most } > 1)
            for user in 0..<20 {
                let versions = received.records.filter { $0.dynamodb.keys == ["pk": .s("u\(user)")] }.map { $0.dynamodb.newImage?["v"] }
                #expect(versions == (0..<8).map { AttributeValue.n(DecimalNumber($0)) })
            }
            // A batch holds one lane's records: its items all hash to the same lane.
            for event in received.all {
                let lanes = Set(event.records.map { ShardProgress.lane(of: ShardProgress.partitionHash(ofKey: $0.dynamodb.keys["pk"]), factor: 4) })
                #expect(lanes.count == 1, "a batch mixed lanes \(lanes.sorted())")
            }
        }
    }

    @Test func changingTheParallelizationFactorKeepsDerivativeTablesExact() async throws {
        try await withStreamDatabase(shardCount: 2) { db, _ in
            let arn = try #require(try await createStreamTable(db, "Events").latestStreamArn)
            _ = try await db.createTable(CreateTableInput(
                tableName: "Counts", keySchema: [KeySchemaElement(attributeName: "pk", keyType: .hash)],
                attributeDefinitions: [AttributeDefinition(attributeName: "pk", attributeType: .s)], billingMode: .payPerRequest))
            let count: DerivativeTransform = { record in
                [.update(
                    tableName: "Counts", key: ["pk": record.dynamodb.keys["pk"]!], updateExpression: "ADD changes :one",
                    expressionAttributeValues: [":one": 1])]
            }
            var settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
            settings.batchSize = 2
            let runtime = TriggerRuntime(database: db)
            let running = Task { await runtime.run() }
            var written: [String: Int] = [:]
            var random = SplitMix64(seed: 7)
            // Each round writes, lets the mapping run a little, and changes the factor while it is mid-stream.
            for factor in [3, 1, 7, 2, 10, 4] {
                for _ in 0..<60 {
                    let key = "k\(random.next() % 15)"
                    written[key, default: 0] += 1
                    try await db.putItem(PutItemInput(tableName: "Events", item: ["pk": .s(key), "n": .n(DecimalNumber(written[key]!))]))
                }
                if try runtime.mappings().isEmpty {
                    try await runtime.registerDerivative(name: "counts", configuration: settings, targetTables: ["Counts"], transform: count)
                }
                try await Task.sleep(for: .milliseconds(Int(random.next() % 20)))
                settings.parallelizationFactor = factor
                try await runtime.update("counts", configuration: settings)
            }
            // Once every change is checkpointed, each must have been counted exactly once.
            try await runtime.waitUntilCaughtUp("counts")
            running.cancel()
            await running.value
            var counts: [String: Int] = [:]
            for item in try await scanEveryItem(db, "Counts") {
                guard case .s(let key)? = item["pk"], case .n(let value)? = item["changes"] else { continue }
                counts[key] = Int(value.description)
            }
            #expect(counts == written)
        }
    }

    @Test func tumblingWindowsCarryStateAndEndWithAFinalCall() async throws {
        // Windows follow the database's clock, which moves only when the test moves it: each group of clicks
        // falls in one window, and a window ends when the test says.
        try await withStreamDatabase(shardCount: 1) { db, clock in
            let arn = try #require(try await createStreamTable(db, "Clicks").latestStreamArn)
            var settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
            settings.batchSize = 2
            settings.tumblingWindowInSeconds = 1
            let received = ReceivedEvents()
            let runtime = TriggerRuntime(database: db)
            try await runtime.registerReportingFailures(name: "clicks", configuration: settings) { event in
                received.append(event)
                let seen = Int(event.state?["count"] ?? "0")! + event.records.count
                return TriggerBatchResponse(state: ["count": "\(seen)"])
            }
            let running = Task { await runtime.run() }
            let finalCount = { received.all.filter { $0.isFinalInvokeForWindow == true }.count }
            for click in 0..<5 { try await db.putItem(PutItemInput(tableName: "Clicks", item: ["pk": .s("c\(click)")])) }
            // The window stays open while its second lasts, however long the records take to arrive.
            try await received.waitFor(records: 5)
            #expect(finalCount() == 0)
            // Once its second is over, the final call carries the whole count.
            clock.advance(bySeconds: 1)
            try await waitUntil("the first window's final call") { finalCount() == 1 }
            for click in 5..<8 { try await db.putItem(PutItemInput(tableName: "Clicks", item: ["pk": .s("c\(click)")])) }
            try await received.waitFor(records: 8)
            clock.advance(bySeconds: 1)
            try await waitUntil("the second window's final call") { finalCount() == 2 }
            try await runtime.waitUntilCaughtUp("clicks")
            running.cancel()
            await running.value

            // Every click counted once, in the window of its commit; state went from batch to batch.
            let finals = received.all.filter { $0.isFinalInvokeForWindow == true }
            #expect(finals.map { Int($0.state?["count"] ?? "0")! } == [5, 3])
            #expect(finals.allSatisfy { $0.records.isEmpty && $0.isWindowTerminatedEarly == false })
            // Lambda's DynamodbTimeWindowEvent shape.
            let json = try JSONSerialization.jsonObject(with: try #require(finals.first).json) as? [String: Any]
            #expect(json?.keys.sorted() == [
                "Records", "eventSourceARN", "isFinalInvokeForWindow", "isWindowTerminatedEarly", "shardId", "state", "window",
            ])
            #expect((json?["window"] as? [String: String])?.keys.sorted() == ["end", "start"])
            for event in received.all {
                #expect(event.window != nil && event.shardId != nil && event.eventSourceARN == arn)
                #expect(event.records.count <= 2)
                if let window = event.window, let first = event.records.first {
                    let start = Int64(first.dynamodb.approximateCreationDateTime)
                    #expect(window.start == StreamNames.label(milliseconds: (start - start % 1) * 1000) + "Z")
                }
            }
            let batches = received.all.filter { $0.isFinalInvokeForWindow == false }
            #expect(batches.count >= 4)
            #expect(batches.first?.state == [:])
        }
    }

    @Test func aWindowWhoseStatePassesOneMegabyteEndsEarly() async throws {
        try await withStreamDatabase(shardCount: 1) { db, _ in
            let arn = try #require(try await createStreamTable(db, "Clicks").latestStreamArn)
            var settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
            settings.batchSize = 1
            settings.tumblingWindowInSeconds = 900
            let received = ReceivedEvents()
            let runtime = TriggerRuntime(database: db)
            try await runtime.registerReportingFailures(name: "big", configuration: settings) { event in
                received.append(event)
                guard !event.records.isEmpty else { return TriggerBatchResponse(state: [:]) }
                let size = (event.state?["blob"]?.count ?? 0) + 400_000
                return TriggerBatchResponse(state: ["blob": String(repeating: "x", count: size)])
            }
            let running = Task { await runtime.run() }
            for click in 0..<4 { try await db.putItem(PutItemInput(tableName: "Clicks", item: ["pk": .s("c\(click)")])) }
            #expect(try await waitUntil { received.all.contains { $0.isWindowTerminatedEarly == true } })
            try await received.waitFor(records: 4)
            running.cancel()
            await running.value
            // The third call's state (1.2 MB) ends the window early; the next call starts again from nothing.
            let early = try #require(received.all.first { $0.isWindowTerminatedEarly == true })
            #expect(early.isFinalInvokeForWindow == true && early.records.isEmpty)
            #expect(early.state?["blob"]?.count == 1_200_000)
            let afterEarly = received.all.drop { $0 != early }.dropFirst().first
            #expect(afterEarly?.state == [:])
        }
    }

    @Test func handlersWithoutStateCannotHaveWindowsNorCanDerivativeTables() async throws {
        try await withStreamDatabase { db, _ in
            let arn = try #require(try await createStreamTable(db, "Users").latestStreamArn)
            var settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
            settings.tumblingWindowInSeconds = 60
            let runtime = TriggerRuntime(database: db)
            await expectValidation(containing: "tumbling window") { try await runtime.register(name: "w", configuration: settings) { _ in } }
            await expectValidation(containing: "tumbling window") {
                try await runtime.registerDerivative(name: "d", configuration: settings, targetTables: ["Users"]) { _ in [] }
            }
        }
    }

    @Test func droppedRecordsAreWrittenToAnOnFailureTable() async throws {
        try await withStreamDatabase(shardCount: 1) { db, _ in
            let arn = try #require(try await createStreamTable(db, "Users").latestStreamArn)
            _ = try await db.createTable(CreateTableInput(
                tableName: "Dropped", keySchema: [KeySchemaElement(attributeName: "id", keyType: .hash)],
                attributeDefinitions: [AttributeDefinition(attributeName: "id", attributeType: .s)], billingMode: .payPerRequest))
            _ = try await db.createTable(CreateTableInput(
                tableName: "NumberKeyed", keySchema: [KeySchemaElement(attributeName: "id", keyType: .hash)],
                attributeDefinitions: [AttributeDefinition(attributeName: "id", attributeType: .n)], billingMode: .payPerRequest))
            var settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
            settings.batchSize = 1
            settings.maximumRetryAttempts = 1
            struct Refused: Error {}
            let runtime = TriggerRuntime(database: db)
            await expectValidation(containing: "string key") {
                try await runtime.register(name: "bad", configuration: settings, onFailure: .table("NumberKeyed")) { _ in }
            }
            let mapping = try await runtime.register(name: "strict", configuration: settings, onFailure: .table("Dropped")) { event in
                if self.keys(event.records) == ["poison"] { throw Refused() }
            }
            let running = Task { await runtime.run() }
            for key in ["a", "poison", "b"] { try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": .s(key)])) }
            let poison = try #require(try await readStream(db, arn).map(\.record).first { $0.dynamodb.keys == ["pk": "poison"] })
            try await runtime.waitUntilCaughtUp("strict")
            running.cancel()
            await running.value
            let items = try await scanEveryItem(db, "Dropped")
            #expect(items.count == 1)
            let item = try #require(items.first)
            let shard = try #require(try await allShards(db, arn).first).shardId
            #expect(item["id"] == .s("\(mapping.uuid)/\(shard)/\(poison.dynamodb.sequenceNumber)"))
            #expect(item["mappingUUID"] == .s(mapping.uuid))
            #expect(item["functionArn"] == "arn:aws:lambda:us-east-1:000000000000:function:strict")
            #expect(item["condition"] == "RetryAttemptsExhausted")
            #expect(item["approximateInvokeCount"] == 2)
            #expect(item["statusCode"] == 200)
            #expect(item["executedVersion"] == "$LATEST")
            #expect(item["functionError"] == "Unhandled")
            #expect(item["startSequenceNumber"] == .s(poison.dynamodb.sequenceNumber))
            #expect(item["streamArn"] == .s(arn))
            guard case .s(let json)? = item["record"] else { Issue.record("no record JSON"); return }
            let record = try JSONDecoder().decode(TriggerFailureRecord.self, from: Data(json.utf8))
            #expect(record.batchInfo.batchSize == 1)
            // The attributes are the record's fields.
            #expect(item["requestId"] == .s(record.requestContext.requestId))
            #expect(item["timestamp"] == .s(record.timestamp))
        }
    }

    @Test func metricsCountCallsErrorsRetriesAndBatchSizes() async throws {
        try await withStreamDatabase(shardCount: 1) { db, _ in
            let arn = try #require(try await createStreamTable(db, "Users").latestStreamArn)
            let metrics = TestMetrics()
            var settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
            settings.maximumRetryAttempts = 2
            struct Refused: Error {}
            let received = ReceivedEvents()
            let runtime = TriggerRuntime(database: db, metricsFactory: metrics)
            try await runtime.register(name: "measured", configuration: settings) { event in
                received.append(event)
                if received.all.count == 1 { throw Refused() }
            }
            try await db.batchWriteItem(BatchWriteItemInput(requestItems: [
                "Users": ["a", "b", "c"].map { WriteRequest(putRequest: PutRequest(item: ["pk": .s($0)])) }
            ]))
            let running = Task { await runtime.run() }
            let dimensions = [("mapping", "measured")]
            try await runtime.waitUntilCaughtUp("measured")
            // The round that handled the batch ends by recording the lag: nothing left.
            try await waitUntil("a lag of 0") { try metrics.expectGauge("eddy_trigger_lag", dimensions).lastValue == 0 }
            running.cancel()
            await running.value
            // One failed call with three records, then one retry that succeeded.
            #expect(try metrics.expectCounter("eddy_trigger_invocations", dimensions).totalValue == 2)
            #expect(try metrics.expectCounter("eddy_trigger_errors", dimensions).totalValue == 1)
            #expect(try metrics.expectCounter("eddy_trigger_retries", dimensions).totalValue == 1)
            #expect(try metrics.expectRecorder("eddy_trigger_batch_size", dimensions).values == [3, 3])
            #expect(try metrics.expectGauge("eddy_trigger_iterator_age_milliseconds", dimensions).lastValue != nil)
        }
    }

    @Test func aGracefulShutdownStopsTheRuntimeAfterTheBatchInFlight() async throws {
        try await withStreamDatabase(shardCount: 1) { db, _ in
            let arn = try #require(try await createStreamTable(db, "Users").latestStreamArn)
            let gate = Gate()
            let received = ReceivedEvents()
            let runtime = TriggerRuntime(database: db)
            var settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
            settings.batchSize = 1
            try await runtime.register(name: "service", configuration: settings) { event in
                // The first batch is in flight until the shutdown reaches it (cancelling it), then finishes.
                await gate.wait()
                let cancelled = Gate()
                await withTaskCancellationHandler { await cancelled.wait() } onCancel: { cancelled.open() }
                received.append(event)
            }
            let group = ServiceGroup(services: [runtime], logger: Logger(label: "test"))
            let running = Task { try await group.run() }
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "a"]))
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "b"]))
            #expect(try await waitUntil { gate.arrivals == 1 })
            await group.triggerGracefulShutdown()
            gate.open()
            try await running.value
            // The batch in flight finished and was checkpointed; the next one did not start.
            #expect(keys(received.records) == ["a"])
            let again = ReceivedEvents()
            let restarted = TriggerRuntime(database: db)
            try await restarted.register(name: "service", configuration: settings) { again.append($0) }
            let resumed = Task { await restarted.run() }
            try await restarted.waitUntilCaughtUp("service")
            resumed.cancel()
            await resumed.value
            #expect(keys(again.records) == ["b"])
        }
    }
}
