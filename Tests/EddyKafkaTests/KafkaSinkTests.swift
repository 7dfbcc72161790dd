import ChildProcessSupport
import Foundation
import MetricsTestKit
import Synchronization
import Testing

@testable import Eddy
@testable import EddyKafka

// The Kafka trigger sink, written from the issue and the Kinesis Data Streams for DynamoDB record format: table
// changes reach a real broker as Kinesis-shaped JSON, keyed by partition key, in order per item, read back with
// kcat.

/// One message of the sink as kcat printed it.
struct SinkMessage {
    var key: String
    var record: KinesisChangeRecord
    var headers: [String: String]
    /// The message's value, as sent.
    var json: String
}

/// A running `to-kafka` mapping, as ``KafkaSinkTests`` hands it to a test.
struct RunningSink {
    var db: Database
    var runtime: TriggerRuntime
    var metrics: TestMetrics
    var kafka: KafkaSink

    /// Waits until the mapping has sent every change committed so far and the broker has acknowledged it
    /// (the checkpoint follows the acknowledgements): the topic then holds them all.
    func waitUntilSent() async throws {
        try #require(try await waitUntil { try runtime.isCaughtUp("to-kafka") }, "the mapping did not catch up with the stream")
    }

    /// How many batches the mapping has handed to the sink so far, retries included.
    var batchesHanded: Int64 {
        (try? metrics.expectCounter("eddy_trigger_invocations", [("mapping", "to-kafka")]).totalValue) ?? 0
    }

    /// How many of those batches failed.
    var failedBatches: Int64 {
        (try? metrics.expectCounter("eddy_trigger_errors", [("mapping", "to-kafka")]).totalValue) ?? 0
    }
}

@Suite(.serialized, .timeLimit(.minutes(5))) struct KafkaSinkTests {
    /// A database (on `clock`) with table Users (whose stream has `viewType`) whose changes a running
    /// `to-kafka` mapping (BatchSize 7, then `adjust`) sends to topic `users-changes` (3 partitions) of
    /// `broker`; records the mapping drops go to `failures`. `body` writes and checks.
    private func withSink(
        _ broker: KafkaBroker, clock: any WallClock = SystemWallClock(), viewType: StreamViewType = .newAndOldImages,
        producer: [String: String] = [:], failures: TriggerFailureDestination? = nil,
        adjust: (inout TriggerMappingConfiguration) -> Void = { _ in },
        _ body: (RunningSink) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("eddy-sink-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let db = try Database(path: directory, configuration: Database.Configuration(clock: clock))
        let table = try await db.createTable(CreateTableInput(
            tableName: "Users", keySchema: [KeySchemaElement(attributeName: "pk", keyType: .hash)],
            attributeDefinitions: [AttributeDefinition(attributeName: "pk", attributeType: .s)], billingMode: .payPerRequest,
            streamSpecification: StreamSpecification(streamEnabled: true, streamViewType: viewType)))
        let arn = try #require(table.latestStreamArn)
        try await broker.createTopic("users-changes", partitions: 3)
        let sink = try await KafkaSink(
            configuration: producer.merging(["bootstrap.servers": broker.bootstrapServers]) { _, given in given }, topic: "users-changes")
        var settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
        settings.batchSize = 7
        adjust(&settings)
        let metrics = TestMetrics()
        let runtime = TriggerRuntime(database: db, metricsFactory: metrics)
        try await runtime.registerKafka(name: "to-kafka", configuration: settings, sink: sink, onFailure: failures)
        let running = Task { await runtime.run() }
        var failure: (any Error)?
        do {
            try await body(RunningSink(db: db, runtime: runtime, metrics: metrics, kafka: sink))
        } catch {
            failure = error
        }
        running.cancel()
        await running.value
        sink.close()
        if let failure { throw failure }
    }

    /// Every message of the topic, read to its end with kcat, in partition order.
    private func consume(_ broker: KafkaBroker) async throws -> [SinkMessage] {
        let output = try await offThePool { try broker.kcat(["-C", "-t", "users-changes", "-e", "-q", "-f", "%k\t%s\t%h\n"]) }
        return try output.split(separator: "\n").map { line in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            try #require(fields.count == 3)
            let headers = Dictionary(uniqueKeysWithValues: fields[2].split(separator: ",").map {
                let parts = $0.split(separator: "=", maxSplits: 1)
                return (String(parts[0]), String(parts[1]))
            })
            return SinkMessage(
                key: String(fields[0]), record: try JSONDecoder().decode(KinesisChangeRecord.self, from: Data(fields[1].utf8)),
                headers: headers, json: String(fields[1]))
        }
    }

    /// The distinct changes among `messages`, by sequence number.
    private func changes(_ messages: [SinkMessage]) -> Set<String> {
        Set(messages.compactMap { $0.headers[KafkaSinkHeader.sequenceNumber] })
    }

    /// Each item's versions in the order their first messages arrived (a REMOVE counts as version 100 + the
    /// removed one).
    private func versionsByItem(_ messages: [SinkMessage]) -> [String: [Int]] {
        var seen: Set<String> = []
        var versions: [String: [Int]] = [:]
        for message in messages {
            guard let sequence = message.headers[KafkaSinkHeader.sequenceNumber], seen.insert(sequence).inserted,
                case .s(let pk)? = message.record.dynamodb.keys["pk"]
            else { continue }
            let removed = message.record.eventName == .remove
            guard case .n(let version)? = (removed ? message.record.dynamodb.oldImage : message.record.dynamodb.newImage)?["v"] else { continue }
            versions[pk, default: []].append(Int(version.description)! + (removed ? 100 : 0))
        }
        return versions
    }

    private func write(_ db: Database, versions: Range<Int>, users: Range<Int>) async throws {
        for version in versions {
            for user in users {
                try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": .s("u\(user)"), "v": .n(DecimalNumber(version))]))
            }
        }
    }

    @Test func tableChangesArriveAsKinesisRecordsInOrderPerItem() async throws {
        try await KafkaBroker.with { broker in
            try await withSink(broker) { sink in
                try await write(sink.db, versions: 0..<5, users: 0..<6)
                for user in 0..<2 { try await sink.db.deleteItem(DeleteItemInput(tableName: "Users", key: ["pk": .s("u\(user)")])) }
                try await sink.waitUntilSent()
                let messages = try await consume(broker)
                #expect(messages.count == 32)
                for message in messages {
                    let record = message.record
                    #expect(record.recordFormat == "application/json" && record.eventSource == "aws:dynamodb")
                    #expect(record.tableName == "Users" && record.awsRegion == "us-east-1")
                    #expect(record.dynamodb.keys["pk"] == .s(message.key))
                    #expect(record.dynamodb.approximateCreationDateTime > 1_700_000_000_000)
                    #expect(message.headers[KafkaSinkHeader.table] == "Users")
                    #expect(message.headers[KafkaSinkHeader.shardId]?.hasPrefix("shardId-") == true)
                    let expected: StreamEventName = record.dynamodb.oldImage == nil ? .insert : (record.dynamodb.newImage == nil ? .remove : .modify)
                    #expect(record.eventName == expected)
                }
                // Every change once, and each item's changes in commit order.
                #expect(changes(messages).count == 32)
                let versions = versionsByItem(messages)
                for user in 0..<6 { #expect(versions["u\(user)"] == Array(0..<5) + (user < 2 ? [104] : [])) }
            }
        }
    }

    @Test func aBrokerRestartLosesNothingAndKeepsEachItemsOrder() async throws {
        try await KafkaBroker.with { broker in
            try await withSink(broker) { sink in
                try await write(sink.db, versions: 0..<3, users: 0..<5)
                try await sink.waitUntilSent()
                #expect(changes(try await consume(broker)).count == 15)
                // The broker goes away while changes keep coming, then comes back with its data.
                try await broker.stop()
                let metadata = try? await offThePool { try broker.kcat(["-L", "-m", "2"]) }
                #expect(metadata == nil, "the broker still answers")
                let handed = sink.batchesHanded
                try await write(sink.db, versions: 3..<6, users: 0..<5)
                #expect(try await waitUntil { sink.batchesHanded > handed }, "no batch went to the sink while the broker was away")
                try await broker.start()
                try await write(sink.db, versions: 6..<8, users: 0..<5)
                try await sink.waitUntilSent()
                let messages = try await consume(broker)
                #expect(changes(messages).count == 40)
                let versions = versionsByItem(messages)
                for user in 0..<5 { #expect(versions["u\(user)"] == Array(0..<8)) }
            }
        }
    }

    @Test func recordsOlderThanMaximumRecordAgeAreDroppedWhileTheBrokerIsAway() async throws {
        let clock = ManualWallClock()
        let dropped = Mutex<[TriggerFailureRecord]>([])
        try await KafkaBroker.with { broker in
            try await withSink(
                broker, clock: clock, failures: .handler { record in dropped.withLock { $0.append(record) } },
                adjust: { $0.maximumRecordAgeInSeconds = 60 }
            ) { sink in
                try await write(sink.db, versions: 0..<1, users: 0..<4)
                try await sink.waitUntilSent()
                #expect(changes(try await consume(broker)).count == 4)
                try await broker.stop()
                let handed = sink.batchesHanded
                try await write(sink.db, versions: 1..<2, users: 0..<4)
                // A batch waits for the broker until its records are older than a minute, then is dropped.
                #expect(try await waitUntil { sink.batchesHanded > handed }, "no batch went to the sink while the broker was away")
                #expect(dropped.withLock { $0.isEmpty })
                clock.advance(bySeconds: 61)
                #expect(try await waitUntil { dropped.withLock { $0.map(\.batchInfo.batchSize).reduce(0, +) } == 4 })
                #expect(dropped.withLock { $0.allSatisfy { $0.requestContext.condition == .recordAgeExceeded } })
                // The batch that waited for the broker was dropped after its call, not before it.
                #expect(dropped.withLock { $0.contains { $0.requestContext.approximateInvokeCount >= 1 } })
                try await broker.start()
                try await write(sink.db, versions: 2..<3, users: 0..<4)
                try await sink.waitUntilSent()
                let messages = try await consume(broker)
                let versions = versionsByItem(messages)
                for user in 0..<4 { #expect(versions["u\(user)"] == [0, 2]) }
            }
        }
    }

    /// Kinesis Data Streams for DynamoDB records whatever the stream keeps: both images that exist, the commit
    /// time in milliseconds (the database clock stands at a non-whole second), a null `userIdentity` for
    /// requests and the TTL service's for an expiry, and none of DynamoDB Streams' own fields.
    @Test(arguments: StreamViewType.allCases)
    func everyViewTypeSendsBothImagesTheCommitMillisecondsAndWhoMadeTheChange(_ viewType: StreamViewType) async throws {
        let start: Int64 = 1_750_000_000_123
        let clock = ManualWallClock(milliseconds: start)
        try await KafkaBroker.with { broker in
            try await withSink(broker, clock: clock, viewType: viewType) { sink in
                let db = sink.db
                try await db.updateTimeToLive(UpdateTimeToLiveInput(
                    tableName: "Users", timeToLiveSpecification: TimeToLiveSpecification(enabled: true, attributeName: "expiresAt")))
                try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "u1", "v": 1]))
                clock.advance(bySeconds: 0.25)
                try await db.updateItem(UpdateItemInput(
                    tableName: "Users", key: ["pk": "u1"], updateExpression: "SET v = :v", expressionAttributeValues: [":v": 2]))
                clock.advance(bySeconds: 0.25)
                try await db.deleteItem(DeleteItemInput(tableName: "Users", key: ["pk": "u1"]))
                // Expires one second later.
                let expiring: Item = ["pk": "u2", "v": 1, "expiresAt": .n(DecimalNumber(Int(start / 1000 + 1)))]
                try await db.putItem(PutItemInput(tableName: "Users", item: expiring))
                clock.advance(bySeconds: 1)
                try await db.deleteExpiredItems()
                try await sink.waitUntilSent()
                let messages = try await consume(broker).sorted {
                    UInt64($0.headers[KafkaSinkHeader.sequenceNumber]!)! < UInt64($1.headers[KafkaSinkHeader.sequenceNumber]!)!
                }
                let service = KinesisChangeRecord.Identity(type: "Service", principalId: "dynamodb.amazonaws.com")
                let expected: [(StreamEventName, Item, Item?, Item?, Int64, KinesisChangeRecord.Identity?)] = [
                    (.insert, ["pk": "u1"], ["pk": "u1", "v": 1], nil, start, nil),
                    (.modify, ["pk": "u1"], ["pk": "u1", "v": 2], ["pk": "u1", "v": 1], start + 250, nil),
                    (.remove, ["pk": "u1"], nil, ["pk": "u1", "v": 2], start + 500, nil),
                    (.insert, ["pk": "u2"], expiring, nil, start + 500, nil),
                    (.remove, ["pk": "u2"], nil, expiring, start + 1500, service),
                ]
                try #require(messages.count == expected.count)
                for (message, (eventName, keys, newImage, oldImage, milliseconds, identity)) in zip(messages, expected) {
                    let change = message.record.dynamodb
                    #expect(message.record.eventName == eventName)
                    #expect(change.keys == keys)
                    #expect(change.newImage == newImage)
                    #expect(change.oldImage == oldImage)
                    #expect(change.approximateCreationDateTime == milliseconds)
                    #expect(change.sizeBytes == ItemSize.of(keys) + (newImage.map(ItemSize.of) ?? 0) + (oldImage.map(ItemSize.of) ?? 0))
                    #expect(message.record.userIdentity == identity)
                    // Kinesis' fields only: no SequenceNumber, StreamViewType, eventVersion or eventSourceARN.
                    let json = try #require(try JSONSerialization.jsonObject(with: Data(message.json.utf8)) as? [String: Any])
                    #expect(Set(json.keys) == ["awsRegion", "eventID", "eventName", "userIdentity", "recordFormat", "tableName", "dynamodb", "eventSource"])
                    #expect(identity != nil || json["userIdentity"] is NSNull)
                    let dynamodb = try #require(json["dynamodb"] as? [String: Any])
                    #expect(Set(dynamodb.keys) == Set(["ApproximateCreationDateTime", "Keys", "SizeBytes"] + (newImage == nil ? [] : ["NewImage"]) + (oldImage == nil ? [] : ["OldImage"])))
                }
            }
        }
    }

    /// A fatal producer error (forced, as librdkafka 2.0.2's idempotence error on a disconnect would come) is
    /// noticed at once. Between batches, the next batch goes out on a new producer; in flight (the broker is
    /// away, so the batch waits for it), the batch fails at once, the sink replaces its producer, and the
    /// runtime's retry resends the batch from the checkpoint. Every change arrives, each item's in order, and
    /// the mapping goes on.
    @Test func aFatalProducerErrorReplacesTheProducerAndTheBatchIsResentInOrder() async throws {
        try await KafkaBroker.with { broker in
            try await withSink(broker) { sink in
                try await write(sink.db, versions: 0..<3, users: 0..<5)
                try await sink.waitUntilSent()
                let first = try #require(sink.kafka.currentProducer)
                first.raiseFatalErrorForTesting("forced between batches")
                #expect(try await waitUntil { first.fatalError != nil }, "the fatal error went unnoticed")
                #expect(first.fatalError?.message.contains("forced between batches") == true)
                try await write(sink.db, versions: 3..<5, users: 0..<5)
                try await sink.waitUntilSent()
                let second = try #require(sink.kafka.currentProducer)
                #expect(second !== first)
                #expect(second.fatalError == nil)

                try await broker.stop()
                let handed = sink.batchesHanded
                try await write(sink.db, versions: 5..<7, users: 0..<5)
                #expect(try await waitUntil { sink.batchesHanded > handed }, "no batch went to the sink while the broker was away")
                let failed = sink.failedBatches
                second.raiseFatalErrorForTesting("forced in flight")
                #expect(try await waitUntil { sink.failedBatches > failed }, "the batch in flight did not fail")
                #expect(sink.kafka.currentProducer !== second, "the sink kept its failed producer")
                try await broker.start()
                try await write(sink.db, versions: 7..<9, users: 0..<5)
                try await sink.waitUntilSent()
                let messages = try await consume(broker)
                #expect(changes(messages).count == 45)
                let versions = versionsByItem(messages)
                for user in 0..<5 { #expect(versions["u\(user)"] == Array(0..<9)) }
            }
        }
    }

    @Test func aRecordTheProducerRefusesHoldsBackOnlyItsOwnShard() async throws {
        try await KafkaBroker.with { broker in
            // The poison: a change whose message is larger than the producer takes, refused at every retry.
            try await withSink(broker, producer: ["message.max.bytes": "4000"]) { sink in
                try await sink.db.putItem(PutItemInput(tableName: "Users", item: ["pk": "poison", "blob": .s(String(repeating: "x", count: 6000))]))
                try await waitUntil("the poison's batch to fail") { sink.failedBatches > 0 }
                let keys = (0..<40).map { "user\($0)" }
                for key in keys { try await sink.db.putItem(PutItemInput(tableName: "Users", item: ["pk": .s(key)])) }
                // Eddy's default four shards, by partition hash.
                func shard(_ key: String) -> UInt32 { ShardProgress.partitionHash(ofKey: .s(key)) % 4 }
                let free = Set(keys.filter { shard($0) != shard("poison") })
                #expect(free.count >= 20 && free.count < keys.count, "the keys spread over the shards")
                var delivered: Set<String> = []
                try await waitUntil("every change outside the poison's shard on the topic") {
                    delivered = Set(try await consume(broker).compactMap { if case .s(let key)? = $0.record.dynamodb.keys["pk"] { key } else { nil } })
                    return delivered.isSuperset(of: free)
                }
                #expect(delivered == free, "nothing behind the poison went")
                let failed = sink.failedBatches
                try await waitUntil("the poison to be retried") { sink.failedBatches > failed }
                #expect(!(try sink.runtime.isCaughtUp("to-kafka")))
            }
        }
    }

    @Test func aMissingTopicAnUnreachableBrokerOrAnUnknownPropertyIsAClearErrorNotAHang() async throws {
        try await KafkaBroker.with { broker in
            let started = ContinuousClock.now
            await #expect {
                _ = try await KafkaSink(configuration: ["bootstrap.servers": broker.bootstrapServers], topic: "no-such-topic")
            } throws: { error in
                let error = error as? KafkaError
                return error?.message == "Topic \"no-such-topic\" does not exist on the Kafka cluster at \"\(broker.bootstrapServers)\""
            }
            // Asking did not create it.
            let topics = try await offThePool { try broker.kcat(["-L"]) }
            #expect(!topics.contains("no-such-topic"))
            #expect(ContinuousClock.now - started < .seconds(10))
        }
        let started = ContinuousClock.now
        await #expect {
            _ = try await KafkaSink(configuration: ["bootstrap.servers": "127.0.0.1:1"], topic: "t", timeout: .seconds(2))
        } throws: { error in
            (error as? KafkaError)?.message.hasPrefix("No Kafka broker of bootstrap.servers \"127.0.0.1:1\" answered within 2.0 seconds") == true
        }
        #expect(ContinuousClock.now - started < .seconds(10))
        await #expect {
            _ = try await KafkaSink(configuration: ["bootstrap.servers": "127.0.0.1:1", "no.such.property": "1"], topic: "t")
        } throws: { error in
            (error as? KafkaError)?.message.contains("No such configuration property: \"no.such.property\"") == true
        }
    }

    @Test func theSinksProducerIsIdempotentAndNeverTimesOutUnlessToldOtherwise() async throws {
        try await KafkaBroker.with { broker in
            try await broker.createTopic("t", partitions: 1)
            let sink = try await KafkaSink(configuration: ["bootstrap.servers": broker.bootstrapServers], topic: "t")
            #expect(sink.configurationValue("enable.idempotence") == "true")
            #expect(sink.configurationValue("acks") == "-1")
            #expect(sink.configurationValue("message.timeout.ms") == "0")
            sink.close()
            #expect(sink.configurationValue("acks") == nil)
            let plain = try await KafkaSink(
                configuration: ["bootstrap.servers": broker.bootstrapServers, "enable.idempotence": "false", "acks": "1"], topic: "t")
            #expect(plain.configurationValue("enable.idempotence") == "false")
            #expect(plain.configurationValue("acks") == "1")
            #expect(plain.configurationValue("no.such.property") == nil)
            plain.close()
        }
    }
}
