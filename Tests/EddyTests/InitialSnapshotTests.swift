import ChildProcessSupport
import Foundation
import InMemoryLogging
import Logging
import Synchronization
import Testing

@testable import Eddy

/// A trigger mapping that begins with a snapshot of its table (`Snapshot`, issue 25): every item as an INSERT
/// record, then the stream from where the snapshot was read, while writers change the table, and across a
/// restart in the middle of the snapshot.
@Suite(.timeLimit(.minutes(3))) struct InitialSnapshotTests {
    /// What the handler made of its events: the items as the sink sees them, and what did not add up.
    final class Sink: Sendable {
        private struct State {
            var items: [String: Item] = [:]
            var snapshotItems = 0
            var lastMarks = 0
            var problems: [String] = []
            var streamRecords = 0
            var unacknowledged: Set<String> = []
        }

        private let state = Mutex(State())

        /// Keys of a snapshot batch the handler was called with but that never reached the sink: a resumed
        /// snapshot delivers the deletes of that batch's items deleted since, and may so remove one the sink
        /// never held (at least once allows it).
        func neverReached(_ keys: [String]) {
            state.withLock { $0.unacknowledged.formUnion(keys) }
        }

        /// Applies `event`: a snapshot item must be new to the sink; a stream record's old image must be what
        /// the sink holds for its item (so no change is missed or applied twice), but for the REMOVE of an
        /// item of a batch that ``neverReached(_:)`` it.
        func apply(_ event: TriggerEvent) {
            state.withLock { state in
                if let snapshot = event.snapshot, snapshot.isLast { state.lastMarks += 1 }
                for record in event.records {
                    guard case .s(let key) = record.dynamodb.keys["pk"] else {
                        state.problems.append("a record without its key")
                        continue
                    }
                    if event.snapshot != nil {
                        if record.eventName != .insert { state.problems.append("snapshot record \(key) is \(record.eventName)") }
                        state.snapshotItems += 1
                        state.items[key] = record.dynamodb.newImage
                        continue
                    }
                    state.streamRecords += 1
                    let unseen = record.eventName == .remove && state.items[key] == nil && state.unacknowledged.contains(key)
                    if record.dynamodb.oldImage != state.items[key], !unseen {
                        state.problems.append("record \(record.dynamodb.sequenceNumber) of \(key): old image \(String(describing: record.dynamodb.oldImage)), sink has \(String(describing: state.items[key]))")
                    }
                    state.items[key] = record.eventName == .remove ? nil : record.dynamodb.newImage
                }
            }
        }

        var items: [String: Item] { state.withLock { $0.items } }
        var snapshotItems: Int { state.withLock { $0.snapshotItems } }
        var lastMarks: Int { state.withLock { $0.lastMarks } }
        var streamRecords: Int { state.withLock { $0.streamRecords } }
        var problems: [String] { state.withLock { $0.problems } }
    }

    private static func write(_ db: Database, key: Int, version: Int) async throws {
        let keyValue: AttributeValue = .s("item-\(key)")
        switch (key + version) % 5 {
        case 0: try await db.deleteItem(DeleteItemInput(tableName: "Orders", key: ["pk": keyValue]))
        default: try await db.putItem(PutItemInput(tableName: "Orders", item: ["pk": keyValue, "version": num("\(version)")]))
        }
    }

    /// The partition keys of `event`'s records.
    private static func keys(of event: TriggerEvent) -> [String] {
        event.records.compactMap { record in
            guard case .s(let key)? = record.dynamodb.keys["pk"] else { return nil }
            return key
        }
    }

    private static func tableItems(_ db: Database) async throws -> [String: Item] {
        var items: [String: Item] = [:]
        var start: Item?
        repeat {
            let page = try await db.scan(ScanInput(tableName: "Orders", exclusiveStartKey: start))
            for item in page.items ?? [] {
                if case .s(let key) = item["pk"] { items[key] = item }
            }
            start = page.lastEvaluatedKey
        } while start != nil
        return items
    }

    private static func settings(_ arn: String) -> TriggerMappingConfiguration {
        var settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .latest)
        settings.batchSize = 7
        settings.snapshot = true
        return settings
    }

    @Test func theSinkEndsEqualToTheTableWrittenDuringTheSnapshot() async throws {
        try await withStreamDatabase(shardCount: 3, recordLimit: 200) { db, _ in
            let arn = try #require(try await createStreamTable(db, "Orders").latestStreamArn)
            for key in 0..<300 {
                try await Self.write(db, key: key, version: 1)
            }
            let sink = Sink()
            let calls = Atomic(0)
            let runtime = TriggerRuntime(database: db)
            try await runtime.register(name: "load", configuration: Self.settings(arn)) { event in
                sink.apply(event)
                calls.add(1, ordering: .relaxed)
                // A slow sink: the writers below change the table while the snapshot is delivered.
                try await Task.sleep(for: .milliseconds(2))
            }
            let running = Task { await runtime.run() }
            try await waitUntil("the snapshot's first batch") { calls.load(ordering: .relaxed) > 0 }
            for version in 2...4 {
                for key in stride(from: version, to: 330, by: 3) {
                    try await Self.write(db, key: key, version: version)
                }
            }
            try await runtime.waitUntilCaughtUp("load")
            running.cancel()
            await running.value
            #expect(sink.problems == [])
            #expect(sink.items == (try await Self.tableItems(db)))
            #expect(sink.lastMarks == 1)
            let progress = try #require(try runtime.mapping("load").snapshotProgress)
            #expect(progress.complete && progress.itemsDone == progress.itemsTotal && progress.itemsDone == sink.snapshotItems)
            #expect(sink.snapshotItems > 0 && sink.streamRecords > 0, "the snapshot is followed by the stream")
        }
    }

    @Test func aSnapshotStoppedMidwayGoesOnAfterTheLastItemDeliveredWithoutGapOrRepeat() async throws {
        try await withStreamDatabase(shardCount: 2) { db, _ in
            let arn = try #require(try await createStreamTable(db, "Orders").latestStreamArn)
            for key in 0..<200 {
                try await Self.write(db, key: key, version: 1)
            }
            let sink = Sink()
            let batches = Atomic(0)
            let first = TriggerRuntime(database: db)
            try await first.register(name: "load", configuration: Self.settings(arn)) { event in
                // The sixth batch never returns, nor reaches the sink: the runtime is stopped while it waits.
                if batches.add(1, ordering: .relaxed).newValue == 6 {
                    sink.neverReached(Self.keys(of: event))
                    try await Task.sleep(for: .seconds(3600))
                }
                sink.apply(event)
            }
            let running = Task { await first.run() }
            try await waitUntil("five batches") { batches.load(ordering: .relaxed) >= 6 }
            running.cancel()
            await running.value
            let stopped = try #require(try first.mapping("load").snapshotProgress)
            #expect(!stopped.complete && stopped.itemsDone == 35)
            // Changes on both sides of the last item delivered, new items, deletes.
            for key in stride(from: 0, to: 220, by: 2) {
                try await Self.write(db, key: key, version: 2)
            }
            let second = TriggerRuntime(database: db)
            try await second.register(name: "load", configuration: Self.settings(arn)) { event in sink.apply(event) }
            let resumed = Task { await second.run() }
            for key in stride(from: 1, to: 220, by: 3) {
                try await Self.write(db, key: key, version: 3)
            }
            try await second.waitUntilCaughtUp("load")
            resumed.cancel()
            await resumed.value
            #expect(sink.problems == [])
            #expect(sink.items == (try await Self.tableItems(db)))
            #expect(sink.lastMarks == 1)
            let progress = try #require(try second.mapping("load").snapshotProgress)
            #expect(progress.complete && progress.itemsDone == sink.snapshotItems)
        }
    }

    @Test func snapshotRecordsThatExhaustTheirRetriesAreReportedWithTheirKeysAndTheStreamGoesOn() async throws {
        try await withStreamDatabase(shardCount: 1) { db, _ in
            let arn = try #require(try await createStreamTable(db, "Orders").latestStreamArn)
            _ = try await db.createTable(CreateTableInput(
                tableName: "Dropped", keySchema: [KeySchemaElement(attributeName: "id", keyType: .hash)],
                attributeDefinitions: [AttributeDefinition(attributeName: "id", attributeType: .s)], billingMode: .payPerRequest))
            for key in 0..<20 {
                try await db.putItem(PutItemInput(tableName: "Orders", item: ["pk": .s("item-\(key)")]))
            }
            var settings = Self.settings(arn)
            settings.maximumRetryAttempts = 0
            struct Refused: Error {}
            let snapshotBatches = Mutex<[[Item]]>([])
            let streamKeys = Mutex<[Item]>([])
            let runtime = TriggerRuntime(database: db)
            let mapping = try await runtime.register(name: "load", configuration: settings, onFailure: .table("Dropped")) { event in
                guard event.snapshot != nil else {
                    streamKeys.withLock { $0 += event.records.map(\.dynamodb.keys) }
                    return
                }
                snapshotBatches.withLock { $0.append(event.records.map(\.dynamodb.keys)) }
                throw Refused()
            }
            let running = Task { await runtime.run() }
            try await waitUntil("the snapshot's three batches") { snapshotBatches.withLock { $0.count } == 3 }
            try await db.putItem(PutItemInput(tableName: "Orders", item: ["pk": "after"]))
            try await runtime.waitUntilCaughtUp("load")
            running.cancel()
            await running.value

            // Each batch dropped is one record in the table, told apart from the others, naming its items' keys.
            let batches = snapshotBatches.withLock { $0 }
            #expect(batches.map(\.count) == [7, 7, 6])
            let dropped = try await scanEveryItem(db, "Dropped")
            #expect(dropped.count == 3)
            for item in dropped {
                guard case .s(let json)? = item["record"] else {
                    Issue.record("no record JSON")
                    continue
                }
                let record = try JSONDecoder().decode(TriggerFailureRecord.self, from: Data(json.utf8))
                #expect(record.requestContext.condition == .retryAttemptsExhausted)
                #expect(record.batchInfo.shardId == TriggerFailureRecord.snapshotShardId)
                let range = try #require(record.snapshotBatchInfo)
                let batch = batches.first { $0.first == range.firstKey }
                #expect(batch?.last == range.lastKey && batch?.count == record.batchInfo.batchSize)
                #expect(item["snapshotFirstKey"] == .m(range.firstKey) && item["snapshotLastKey"] == .m(range.lastKey))
                #expect(item["id"] == .s("\(mapping.uuid)/snapshot/\(record.batchInfo.startSequenceNumber)/\(record.requestContext.requestId)"))
            }
            // The mapping moved past them to the stream.
            #expect(streamKeys.withLock { $0 } == [["pk": "after"]])
            let progress = try #require(try runtime.mapping("load").snapshotProgress)
            #expect(progress.complete && progress.itemsDone == 20)
        }
    }

    /// Loads 100 items into "Orders" and runs mapping "load" until its third batch reached `sink`, whose call
    /// never returns: the runtime is stopped meanwhile, so that batch is in the sink without its progress.
    /// Then deletes the first `count` items of that batch and returns their keys.
    private static func stopWithABatchUnacknowledged(
        _ db: Database, _ arn: String, _ sink: Sink, deletingItsFirst count: Int
    ) async throws -> [String] {
        for key in 0..<100 {
            try await db.putItem(PutItemInput(tableName: "Orders", item: ["pk": .s("item-\(key)"), "version": 1]))
        }
        let batches = Atomic(0)
        let unacknowledged = Mutex<[String]>([])
        let first = TriggerRuntime(database: db)
        try await first.register(name: "load", configuration: Self.settings(arn)) { event in
            sink.apply(event)
            if batches.add(1, ordering: .relaxed).newValue == 3 {
                unacknowledged.withLock { $0 = Self.keys(of: event) }
                try await Task.sleep(for: .seconds(3600))
            }
        }
        let running = Task { await first.run() }
        try await waitUntil("three batches") { batches.load(ordering: .relaxed) >= 3 }
        running.cancel()
        await running.value
        #expect(try #require(try first.mapping("load").snapshotProgress).itemsDone == 14)
        let deleted = unacknowledged.withLock { Array($0.prefix(count)) }
        try #require(deleted.count == count)
        for key in deleted {
            try await db.deleteItem(DeleteItemInput(tableName: "Orders", key: ["pk": .s(key)]))
        }
        return deleted
    }

    /// Resumes mapping "load" into `sink`, logging to `logger`, until it has caught up with the stream.
    private static func resume(_ db: Database, _ arn: String, _ sink: Sink, logger: Logger = Logger(label: "test")) async throws {
        let second = TriggerRuntime(database: db, logger: logger)
        try await second.register(name: "load", configuration: Self.settings(arn)) { event in sink.apply(event) }
        let resumed = Task { await second.run() }
        try await second.waitUntilCaughtUp("load")
        resumed.cancel()
        await resumed.value
    }

    /// A batch can reach the sink without the snapshot's progress following it (the sink took it, the
    /// acknowledgement was lost to a crash): the next run reads it again after the last item stored as
    /// delivered, but an item of it deleted in between is in neither that run's snapshot nor the lanes' stream
    /// (the delete precedes the new snapshot), so its delete is delivered when the run begins.
    @Test func anItemOfABatchDeliveredWithoutItsProgressAndDeletedSinceLeavesTheSink() async throws {
        try await withStreamDatabase(shardCount: 2) { db, _ in
            let arn = try #require(try await createStreamTable(db, "Orders").latestStreamArn)
            let sink = Sink()
            let deleted = try await Self.stopWithABatchUnacknowledged(db, arn, sink, deletingItsFirst: 4)
            // One of them comes back: the sink ends with it.
            try await db.putItem(PutItemInput(tableName: "Orders", item: ["pk": .s(deleted[0]), "version": 2]))
            try await Self.resume(db, arn, sink)
            #expect(sink.problems == [])
            #expect(sink.items == (try await Self.tableItems(db)))
            #expect(sink.items[deleted[0]]?["version"] == 2)
        }
    }

    /// When the stream's retention already removed the deletes the resumption reads, it cannot tell which items
    /// of the unacknowledged batch are gone: it says so in the log, and those items stay in the sink.
    @Test func aResumptionWhoseDeletesRetentionRemovedSaysSo() async throws {
        try await withStreamDatabase(shardCount: 2) { db, clock in
            let arn = try #require(try await createStreamTable(db, "Orders").latestStreamArn)
            let sink = Sink()
            let deleted = try await Self.stopWithABatchUnacknowledged(db, arn, sink, deletingItsFirst: 2)
            clock.advance(bySeconds: 25 * 3600)
            try await db.trimExpiredStreamRecords()
            let log = InMemoryLogHandler()
            try await Self.resume(db, arn, sink, logger: Logger(label: "test") { _ in log })
            let warnings = log.entries.filter { $0.level == .warning && "\($0.message)".contains("retention removed") }
            #expect(warnings.count == 1)
            #expect(warnings.first?.metadata["stream"] == .string(arn))
            let table = try await Self.tableItems(db)
            #expect(Set(sink.items.keys).subtracting(table.keys) == Set(deleted))
        }
    }

    /// A snapshot record carries what the stream's own record of the same INSERT carries for a reader in the
    /// same form: the key attributes alone as Keys, the item as NewImage where the view type (or the Kinesis
    /// form, which carries both images) has one, no OldImage, and the DynamoDB size of what it carries.
    @Test(arguments: [
        (StreamViewType.keysOnly, StreamRecordForm.streams), (.newImage, .streams), (.oldImage, .streams),
        (.newAndOldImages, .streams), (.keysOnly, .kinesis),
    ])
    func aSnapshotRecordCarriesWhatTheStreamsRecordOfTheInsertCarries(viewType: StreamViewType, form: StreamRecordForm) async throws {
        try await withStreamDatabase { db, _ in
            let arn = try #require(try await createStreamTable(db, "Orders", viewType: viewType).latestStreamArn)
            let item: Item = [
                "total": num("12.50"), "pk": .s("order-1"), "lines": .l([.s("a"), .m(["qty": num("2"), "note": .null])]),
                "paid": .bool(true), "tags": .ss(["x", "y"]), "blob": .b([0, 255, 7]),
            ]
            try await db.putItem(PutItemInput(tableName: "Orders", item: item))
            let received = Mutex<[String: TriggerEventRecord]>([:])
            let runtime = TriggerRuntime(database: db)
            var fromStream = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
            fromStream.batchSize = 1
            for (name, configuration) in [("stream", fromStream), ("load", Self.settings(arn))] {
                try await runtime.registerReportingFailures(name: name, configuration: configuration, onFailure: nil, recordForm: form) { event in
                    received.withLock { $0[name] = event.records.first }
                    return .success
                }
            }
            let running = Task { await runtime.run() }
            try await waitUntil("both records") { received.withLock { $0.count } == 2 }
            running.cancel()
            await running.value
            let (inserted, loaded) = try received.withLock { (try #require($0["stream"]), try #require($0["load"])) }
            #expect(loaded.eventName == .insert)
            #expect(loaded.dynamodb.keys == ["pk": .s("order-1")])
            #expect(loaded.dynamodb.keys == inserted.dynamodb.keys)
            #expect(loaded.dynamodb.newImage == inserted.dynamodb.newImage)
            #expect(loaded.dynamodb.newImage == (viewType == .newImage || viewType == .newAndOldImages || form == .kinesis ? item : nil))
            #expect(loaded.dynamodb.oldImage == nil)
            #expect(loaded.dynamodb.sizeBytes == inserted.dynamodb.sizeBytes)
            #expect(loaded.dynamodb.streamViewType == viewType)
            #expect((loaded.dynamodb.approximateCreationDateTimeMilliseconds != nil) == (form == .kinesis))
        }
    }

    @Test func aSnapshotCannotHaveATumblingWindow() async throws {
        try await withStreamDatabase { db, _ in
            let arn = try #require(try await createStreamTable(db, "Orders").latestStreamArn)
            var settings = Self.settings(arn)
            settings.tumblingWindowInSeconds = 60
            await expectValidation("Snapshot cannot be combined with TumblingWindowInSeconds: a snapshot's items belong to no window") {
                try await TriggerRuntime(database: db).registerReportingFailures(name: "windowed", configuration: settings) { _ in
                    .success
                }
            }
        }
    }
}
