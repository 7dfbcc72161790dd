import Eddy
import EddyKafka
import Foundation
import Testing

// The Kafka trigger sink, written from the issue and the Kinesis Data Streams for DynamoDB record format: table
// changes reach a real broker as Kinesis-shaped JSON, keyed by partition key, in order per item, read back with
// kcat.

/// One message of the sink as kcat printed it.
struct SinkMessage {
    var key: String
    var record: KinesisChangeRecord
    var headers: [String: String]
}

@Suite(.serialized) struct KafkaSinkTests {
    /// A database with table Users (streaming new and old images) whose changes a running `to-kafka` mapping
    /// sends to topic `users-changes` of `broker`; `body` writes and checks.
    private func withSink(_ broker: KafkaBroker, _ body: (Database) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("eddy-sink-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let db = try Database(path: directory)
        let table = try await db.createTable(CreateTableInput(
            tableName: "Users", keySchema: [KeySchemaElement(attributeName: "pk", keyType: .hash)],
            attributeDefinitions: [AttributeDefinition(attributeName: "pk", attributeType: .s)], billingMode: .payPerRequest,
            streamSpecification: StreamSpecification(streamEnabled: true, streamViewType: .newAndOldImages)))
        let arn = try #require(table.latestStreamArn)
        let producer = try KafkaProducer.sink(configuration: ["bootstrap.servers": broker.bootstrapServers])
        var settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
        settings.batchSize = 7
        let runtime = TriggerRuntime(database: db)
        try await runtime.registerKafka(name: "to-kafka", configuration: settings, producer: producer, topic: "users-changes")
        let running = Task { await runtime.run() }
        do {
            try await body(db)
        } catch {
            running.cancel()
            await running.value
            producer.close()
            throw error
        }
        running.cancel()
        await running.value
        producer.close()
    }

    /// The topic's messages once there are at least `count` distinct changes (by sequence number) or 60
    /// seconds have passed, in partition order.
    private func consume(_ broker: KafkaBroker, atLeast count: Int) async throws -> [SinkMessage] {
        var messages: [SinkMessage] = []
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            // Until the first message, the topic does not exist and kcat fails: read again.
            let output = (try? await offThePool { try broker.kcat(["-C", "-t", "users-changes", "-e", "-q", "-f", "%k\t%s\t%h\n"]) }) ?? ""
            messages = try output.split(separator: "\n").map { line in
                let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
                try #require(fields.count == 3)
                let headers = Dictionary(uniqueKeysWithValues: fields[2].split(separator: ",").map {
                    let parts = $0.split(separator: "=", maxSplits: 1)
                    return (String(parts[0]), String(parts[1]))
                })
                return SinkMessage(
                    key: String(fields[0]), record: try JSONDecoder().decode(KinesisChangeRecord.self, from: Data(fields[1].utf8)),
                    headers: headers)
            }
            if Set(messages.compactMap { $0.headers[KafkaSinkHeader.sequenceNumber] }).count >= count { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        return messages
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
            try await withSink(broker) { db in
                try await write(db, versions: 0..<5, users: 0..<6)
                for user in 0..<2 { try await db.deleteItem(DeleteItemInput(tableName: "Users", key: ["pk": .s("u\(user)")])) }
                let messages = try await consume(broker, atLeast: 32)
                #expect(messages.count == 32)
                for message in messages {
                    let record = message.record
                    #expect(record.recordFormat == "application/json" && record.eventSource == "aws:dynamodb")
                    #expect(record.tableName == "Users" && record.awsRegion == "us-east-1")
                    #expect(record.dynamodb.keys["pk"] == .s(message.key))
                    #expect(record.dynamodb.approximateCreationDateTime > 1_700_000_000_000)
                    #expect(message.headers[KafkaSinkHeader.table] == "Users")
                    let expected: StreamEventName = record.dynamodb.oldImage == nil ? .insert : (record.dynamodb.newImage == nil ? .remove : .modify)
                    #expect(record.eventName == expected)
                }
                // Every change once, and each item's changes in commit order.
                #expect(Set(messages.compactMap { $0.headers[KafkaSinkHeader.sequenceNumber] }).count == 32)
                let versions = versionsByItem(messages)
                for user in 0..<6 { #expect(versions["u\(user)"] == Array(0..<5) + (user < 2 ? [104] : [])) }
            }
        }
    }

    @Test func aBrokerRestartLosesNothingAndKeepsEachItemsOrder() async throws {
        try await KafkaBroker.with { broker in
            try await withSink(broker) { db in
                try await write(db, versions: 0..<3, users: 0..<5)
                #expect(Set(try await consume(broker, atLeast: 15).compactMap { $0.headers[KafkaSinkHeader.sequenceNumber] }).count == 15)
                // The broker goes away while changes keep coming, then comes back with its data.
                try await broker.stop()
                let metadata = try? await offThePool { try broker.kcat(["-L", "-m", "2"]) }
                #expect(metadata == nil, "the broker still answers")
                try await write(db, versions: 3..<6, users: 0..<5)
                try await Task.sleep(for: .milliseconds(500))
                try await broker.start()
                try await write(db, versions: 6..<8, users: 0..<5)
                let messages = try await consume(broker, atLeast: 40)
                #expect(Set(messages.compactMap { $0.headers[KafkaSinkHeader.sequenceNumber] }).count == 40)
                let versions = versionsByItem(messages)
                for user in 0..<5 { #expect(versions["u\(user)"] == Array(0..<8)) }
            }
        }
    }
}
