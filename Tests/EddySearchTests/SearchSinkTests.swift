import ChildProcessSupport
import Foundation
import MetricsTestKit
import Synchronization
import Testing

@testable import Eddy
@testable import EddySearch

// The search-index sink against a real Elasticsearch service (noida-db's), written from the issue and
// Elasticsearch's documentation: one document per item, plain JSON, deletes on REMOVE, external versions that
// keep the newest change whatever order changes come in, retries while the service is away. Documents are read
// back with `_search`.

@Suite(.serialized, .timeLimit(.minutes(5))) struct SearchSinkTests {
    /// A database with table Items (partition key pk S, sort key sk N, stream NEW_AND_OLD_IMAGES) whose
    /// changes a running `to-search` mapping (BatchSize 5, then `adjust`) writes to index `items` of
    /// `service`; records the mapping drops go to `failures`. `body` writes
    /// and checks. Requests time out after 5 seconds, so that one caught by the service's stop fails soon.
    private func withMapping(
        _ service: SearchService, failures: TriggerFailureDestination? = nil,
        adjust: (inout TriggerMappingConfiguration) -> Void = { _ in },
        _ body: (Database, TriggerRuntime, TestMetrics) async throws -> Void
    ) async throws {
        try await withItemsTable { db, arn in
            let sink = try SearchSink(endpoint: service.endpoint, index: "items", requestTimeout: .seconds(5))
            var settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
            settings.batchSize = 5
            adjust(&settings)
            let metrics = TestMetrics()
            let runtime = TriggerRuntime(database: db, metricsFactory: metrics)
            try await runtime.registerSearch(name: "to-search", configuration: settings, sink: sink, onFailure: failures)
            let running = Task { await runtime.run() }
            var failure: (any Error)?
            do {
                try await body(db, runtime, metrics)
            } catch {
                failure = error
            }
            running.cancel()
            await running.value
            if let failure { throw failure }
        }
    }

    /// A database with table Items, and its stream's ARN, for `body`.
    private func withItemsTable(_ body: (Database, String) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("eddy-search-db-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let db = try Database(path: directory)
        let table = try await db.createTable(CreateTableInput(
            tableName: "Items",
            keySchema: [KeySchemaElement(attributeName: "pk", keyType: .hash), KeySchemaElement(attributeName: "sk", keyType: .range)],
            attributeDefinitions: [
                AttributeDefinition(attributeName: "pk", attributeType: .s), AttributeDefinition(attributeName: "sk", attributeType: .n),
            ],
            billingMode: .payPerRequest, streamSpecification: StreamSpecification(streamEnabled: true, streamViewType: .newAndOldImages)))
        try await body(db, try #require(table.latestStreamArn))
        await db.close()
    }

    private func waitUntilSent(_ runtime: TriggerRuntime) async throws {
        try #require(try await waitUntil { try runtime.isCaughtUp("to-search") }, "the mapping did not catch up with the stream")
    }

    private func number(_ text: String) -> JSONValue { .number(Double(text)!) }

    @Test func insertsUpdatesAndDeletesReachTheIndex() async throws {
        try await SearchService.with { service in
            try await withMapping(service) { db, runtime, _ in
                for index in 1...12 {
                    try await db.putItem(PutItemInput(tableName: "Items", item: ["pk": .s("p\(index % 3)"), "sk": .n(DecimalNumber(index)), "v": 1]))
                }
                try await db.updateItem(UpdateItemInput(
                    tableName: "Items", key: ["pk": "p1", "sk": 4], updateExpression: "SET v = :v, note = :n",
                    expressionAttributeValues: [":v": 2, ":n": "updated"]))
                try await db.deleteItem(DeleteItemInput(tableName: "Items", key: ["pk": "p2", "sk": 5]))
                try await db.deleteItem(DeleteItemInput(tableName: "Items", key: ["pk": "p0", "sk": 6]))
                try await waitUntilSent(runtime)
                let documents = try await service.documents("items")
                #expect(documents.count == 10)
                #expect(documents["p2|5"] == nil)
                #expect(documents["p0|6"] == nil)
                #expect(documents["p1|4"] == .object(["pk": .string("p1"), "sk": number("4"), "v": number("2"), "note": .string("updated")]))
                #expect(documents["p0|12"] == .object(["pk": .string("p0"), "sk": number("12"), "v": number("1")]))
            }
        }
    }

    /// A search mapping that begins with a snapshot (issue 25): the table's items, written to while the snapshot
    /// is read and across a restart in the middle of it, end as the index's documents, one for each item, as
    /// `_search` finds them.
    @Test func aSnapshotThenTheStreamLeaveTheIndexEqualToTheTable() async throws {
        try await SearchService.with { service in
            try await withItemsTable { db, arn in
                let loaded = 2_000
                for start in stride(from: 0, to: loaded, by: 25) {
                    let requests = (start..<start + 25).map { number in
                        WriteRequest(putRequest: PutRequest(item: ["pk": .s("p\(number % 40)"), "sk": .n(DecimalNumber(number)), "v": 1]))
                    }
                    _ = try await db.batchWriteItem(BatchWriteItemInput(requestItems: ["Items": requests]))
                }
                var settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .latest)
                settings.batchSize = 50
                settings.snapshot = true
                // Writes over the whole key range: updates, deletes and new items.
                func write(round: Int) async throws {
                    for number in stride(from: round, to: loaded + 100, by: 7) {
                        let key: Item = ["pk": .s("p\(number % 40)"), "sk": .n(DecimalNumber(number))]
                        if (number + round) % 3 == 0 {
                            try await db.deleteItem(DeleteItemInput(tableName: "Items", key: key))
                        } else {
                            try await db.putItem(PutItemInput(tableName: "Items", item: key.merging(["v": .n(DecimalNumber(round + 1))]) { $1 }))
                        }
                    }
                }
                let sink = try SearchSink(endpoint: service.endpoint, index: "items", requestTimeout: .seconds(5))
                let first = TriggerRuntime(database: db)
                try await first.registerSearch(name: "to-search", configuration: settings, sink: sink)
                var running = Task { await first.run() }
                try await waitUntil("a tenth of the snapshot") { (try first.mapping("to-search").snapshotProgress?.itemsDone ?? 0) >= loaded / 10 }
                try await write(round: 1)
                running.cancel()
                await running.value
                let stopped = try #require(try first.mapping("to-search").snapshotProgress)
                #expect(!stopped.complete, "the snapshot ended before the restart: nothing was stopped midway")

                try await write(round: 2)
                let second = TriggerRuntime(database: db)
                try await second.registerSearch(name: "to-search", configuration: settings, sink: sink)
                running = Task { await second.run() }
                try await write(round: 3)
                try #require(try await waitUntil { try second.isCaughtUp("to-search") }, "the mapping did not catch up with the stream")
                running.cancel()
                await running.value
                #expect(try #require(try second.mapping("to-search").snapshotProgress).complete)

                var expected: [String: JSONValue] = [:]
                for item in try await scanEveryItem(db, "Items") {
                    guard case .s(let pk)? = item["pk"], case .n(let sk)? = item["sk"], case .n(let v)? = item["v"] else {
                        Issue.record("an unexpected item: \(item)")
                        continue
                    }
                    expected["\(pk)|\(sk)"] = .object(["pk": .string(pk), "sk": number("\(sk)"), "v": number("\(v)")])
                }
                let documents = try await service.documents("items")
                #expect(documents.count == expected.count)
                #expect(documents == expected)
            }
        }
    }

    /// Each DynamoDB type as plain JSON: numbers as JSON numbers where exact, else as their text.
    @Test func everyAttributeTypeIsPlainJSON() async throws {
        try await SearchService.with { service in
            try await withMapping(service) { db, runtime, _ in
                let item: Item = [
                    "pk": "all", "sk": .n(try DecimalNumber("-2.5")), "s": "text \"quoted\"\n", "n": .n(try DecimalNumber("1234.5678")),
                    "big": .n(try DecimalNumber("12345678901234567890123456789012345678")), "b": .b([1, 2, 3]), "yes": .bool(true),
                    "nothing": .null, "m": .m(["inner": .n(DecimalNumber(7)), "deep": .m(["x": "y"])]),
                    "l": .l([.n(DecimalNumber(1)), .n(try DecimalNumber("2.5"))]), "lm": .l([.m(["a": "b"]), .m(["a": "c"])]),
                    "ss": .ss(["x", "y"]), "ns": .ns([DecimalNumber(1), DecimalNumber(2)]),
                    "bs": .bs([[0], [255]]),
                ]
                try await db.putItem(PutItemInput(tableName: "Items", item: item))
                try await waitUntilSent(runtime)
                let document = try #require(try await service.documents("items")["all|-2.5"])
                guard case .object(let fields) = document else { Issue.record("not an object: \(document)"); return }
                #expect(fields["pk"] == .string("all"))
                #expect(fields["sk"] == number("-2.5"))
                #expect(fields["s"] == .string("text \"quoted\"\n"))
                #expect(fields["n"] == number("1234.5678"))
                #expect(fields["big"] == .string("12345678901234567890123456789012345678"))
                #expect(fields["b"] == .string("AQID"))
                #expect(fields["yes"] == .bool(true))
                #expect(fields["nothing"] == .null)
                #expect(fields["m"] == .object(["inner": number("7"), "deep": .object(["x": .string("y")])]))
                #expect(fields["l"] == .array([number("1"), number("2.5")]))
                #expect(fields["lm"] == .array([.object(["a": .string("b")]), .object(["a": .string("c")])]))
                #expect(fields["ss"] == .array([.string("x"), .string("y")]))
                #expect(fields["ns"] == .array([number("1"), number("2")]))
                #expect(fields["bs"] == .array([.string("AA=="), .string("/w==")]))
                #expect(fields.count == 14)
            }
        }
    }

    /// Changes delivered again, or older after newer, leave the newest version: the records of one item
    /// (put v1, update v2, update v3) sent newest first, then each older one, then all again.
    @Test func outOfOrderRedeliveryNeverLeavesAnOlderVersion() async throws {
        try await SearchService.with { service in
            try await withItemsTable { db, arn in
                for version in 1...3 {
                    try await db.putItem(PutItemInput(tableName: "Items", item: ["pk": "k", "sk": 1, "v": .n(DecimalNumber(version))]))
                }
                try await db.putItem(PutItemInput(tableName: "Items", item: ["pk": "gone", "sk": 1, "v": 1]))
                try await db.deleteItem(DeleteItemInput(tableName: "Items", key: ["pk": "gone", "sk": 1]))
                let records = try await readStream(db, arn).map { TriggerEventRecord($0.record, streamArn: arn) }
                try #require(records.count == 5)
                let sink = try SearchSink(endpoint: service.endpoint, index: "items")
                let keys = SearchIndexKeys(
                    partitionKey: AttributeDefinition(attributeName: "pk", attributeType: .s),
                    sortKey: AttributeDefinition(attributeName: "sk", attributeType: .n))
                try await sink.prepareIndex(keys: keys, deletedVersionsKeptSeconds: 172_800)
                try await sink.store([records[2]], keys: keys)
                try await sink.store([records[0]], keys: keys)
                try await sink.store([records[1]], keys: keys)
                try await sink.store(records, keys: keys)
                try await sink.store(Array(records.reversed().dropFirst(2)), keys: keys)
                let documents = try await service.documents("items")
                #expect(documents["k|1"] == .object(["pk": .string("k"), "sk": number("1"), "v": number("3")]))
                #expect(documents["gone|1"] == nil)
                #expect(documents.count == 1)
            }
        }
    }

    /// While Elasticsearch is stopped the batches fail and are retried; once it is back the mapping catches up
    /// with every change, nothing lost.
    @Test func batchesAreRetriedUntilTheStoppedServiceIsBack() async throws {
        try await SearchService.with { service in
            try await withMapping(service) { db, runtime, metrics in
                for index in 1...5 {
                    try await db.putItem(PutItemInput(tableName: "Items", item: ["pk": "before", "sk": .n(DecimalNumber(index))]))
                }
                try await waitUntilSent(runtime)
                try await service.pause()
                let failedBefore = (try? metrics.expectCounter("eddy_trigger_errors", [("mapping", "to-search")]).totalValue) ?? 0
                for index in 1...7 {
                    try await db.putItem(PutItemInput(tableName: "Items", item: ["pk": "during", "sk": .n(DecimalNumber(index)), "v": 1]))
                }
                try await db.updateItem(UpdateItemInput(
                    tableName: "Items", key: ["pk": "during", "sk": 2], updateExpression: "SET v = :v", expressionAttributeValues: [":v": 2]))
                try await db.deleteItem(DeleteItemInput(tableName: "Items", key: ["pk": "before", "sk": 3]))
                try await waitUntil("a batch failing while Elasticsearch is stopped") {
                    ((try? metrics.expectCounter("eddy_trigger_errors", [("mapping", "to-search")]).totalValue) ?? 0) > failedBefore + 1
                }
                #expect(try !runtime.isCaughtUp("to-search"))
                try await service.resume()
                try await waitUntilSent(runtime)
                let documents = try await service.documents("items")
                #expect(Set(documents.keys) == Set((1...5).filter { $0 != 3 }.map { "before|\($0)" } + (1...7).map { "during|\($0)" }))
                #expect(documents["during|2"] == .object(["pk": .string("during"), "sk": number("2"), "v": number("2")]))
            }
        }
    }

    /// A document Elasticsearch refuses (a map where the field is text) fails its batch; once the retries are
    /// used up the record goes to the on-failure destination, and the mapping goes on with the next changes.
    @Test func aRefusedDocumentGoesToTheOnFailureDestinationAfterItsRetries() async throws {
        let dropped = Mutex<[TriggerFailureRecord]>([])
        try await SearchService.with { service in
            try await withMapping(
                service, failures: .handler { record in dropped.withLock { $0.append(record) } },
                adjust: { $0.maximumRetryAttempts = 2 }
            ) { db, runtime, _ in
                try await db.putItem(PutItemInput(tableName: "Items", item: ["pk": "text", "sk": 1, "x": "words"]))
                try await waitUntilSent(runtime)
                try await db.putItem(PutItemInput(tableName: "Items", item: ["pk": "map", "sk": 1, "x": .m(["a": "b"])]))
                try await waitUntil("the refused record reaching the on-failure destination") { dropped.withLock { !$0.isEmpty } }
                try await db.putItem(PutItemInput(tableName: "Items", item: ["pk": "after", "sk": 1, "x": "more words"]))
                try await waitUntilSent(runtime)
                let failure = try #require(dropped.withLock { $0.first })
                #expect(failure.requestContext.condition == .retryAttemptsExhausted)
                #expect(failure.requestContext.approximateInvokeCount == 3)
                #expect(failure.batchInfo.batchSize == 1)
                #expect(Set(try await service.documents("items").keys) == ["text|1", "after|1"])
            }
        }
    }

    @Test func theIndexIsCreatedWithItsMappingAndDeletedVersionsKept() async throws {
        try await SearchService.with { service in
            try await withMapping(service) { _, _, _ in
                let settings = try await service.settings("items")
                #expect(settings["index.gc_deletes"] == .string("172800s"))
                let mapping = try await service.request(.GET, "/items/_mapping")
                let object = try JSONDecoder().decode(JSONValue.self, from: Data(mapping.body.utf8))
                guard case .object(let indices) = object, case .object(let index)? = indices["items"],
                    case .object(let mappings)? = index["mappings"], case .object(let properties)? = mappings["properties"]
                else { Issue.record("no mapping: \(mapping.body)"); return }
                #expect(properties["pk"] == .object(["type": .string("keyword")]))
                #expect(properties["sk"] == .object(["type": .string("double")]))
                #expect(mappings["date_detection"] == .bool(false))
            }
        }
    }

    /// An index that exists keeps its mapping; its `gc_deletes` is raised, never lowered.
    @Test func anExistingIndexHasItsDeletedVersionsRaisedOnly() async throws {
        try await SearchService.with { service in
            try await service.request(.PUT, "/short", body: #"{"settings":{"index":{"gc_deletes":"60s"}}}"#)
            try await service.request(.PUT, "/long", body: #"{"settings":{"index":{"gc_deletes":"30d"}}}"#)
            let keys = SearchIndexKeys(partitionKey: AttributeDefinition(attributeName: "pk", attributeType: .s))
            try await SearchSink(endpoint: service.endpoint, index: "short").prepareIndex(keys: keys, deletedVersionsKeptSeconds: 90_000)
            try await SearchSink(endpoint: service.endpoint, index: "long").prepareIndex(keys: keys, deletedVersionsKeptSeconds: 90_000)
            #expect(try await service.settings("short")["index.gc_deletes"] == .string("90000s"))
            #expect(try await service.settings("long")["index.gc_deletes"] == .string("30d"))
        }
    }

    @Test func aMappingToAnEndpointThatDoesNotAnswerIsRefused() async throws {
        try await withItemsTable { db, arn in
            let port = try freeLoopbackPort()
            let sink = try SearchSink(endpoint: "http://127.0.0.1:\(port)", index: "items", requestTimeout: .seconds(5))
            let runtime = TriggerRuntime(database: db)
            let error = await #expect(throws: EddyError.self) {
                try await runtime.registerSearch(
                    name: "to-search", configuration: TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .latest), sink: sink)
            }
            guard case .validation(let message)? = error else {
                Issue.record("not a ValidationException: \(String(describing: error))")
                return
            }
            #expect(message.contains("127.0.0.1:\(port)"))
        }
    }
}
