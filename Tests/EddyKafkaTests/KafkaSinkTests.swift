import Eddy
import EddyKafka
import Foundation
import Testing

// The Kafka trigger sink, written from the issue and the Kinesis Data Streams for DynamoDB record format: table
// changes reach a real broker as Kinesis-shaped JSON, keyed by partition key, in order per item, read back with
// kcat.

@Suite(.serialized) struct KafkaSinkTests {
    @Test func tableChangesArriveAsKinesisRecordsInOrderPerItem() async throws {
        try await KafkaBroker.with { broker in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("eddy-sink-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let db = try Database(path: directory)
            let table = try await db.createTable(CreateTableInput(
                tableName: "Users", keySchema: [KeySchemaElement(attributeName: "pk", keyType: .hash)],
                attributeDefinitions: [AttributeDefinition(attributeName: "pk", attributeType: .s)], billingMode: .payPerRequest,
                streamSpecification: StreamSpecification(streamEnabled: true, streamViewType: .newAndOldImages)))
            let arn = try #require(table.latestStreamArn)
            let producer = try KafkaProducer(configuration: ["bootstrap.servers": broker.bootstrapServers, "enable.idempotence": "true"])
            var settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
            settings.batchSize = 7
            let runtime = TriggerRuntime(database: db)
            try await runtime.registerKafka(name: "to-kafka", configuration: settings, producer: producer, topic: "users-changes")
            let running = Task { await runtime.run() }
            for version in 0..<5 {
                for user in 0..<6 {
                    try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": .s("u\(user)"), "v": .n(DecimalNumber(version))]))
                }
            }
            for user in 0..<2 { try await db.deleteItem(DeleteItemInput(tableName: "Users", key: ["pk": .s("u\(user)")])) }

            var lines: [[Substring]] = []
            let deadline = ContinuousClock.now + .seconds(60)
            while lines.count < 32, ContinuousClock.now < deadline {
                // Until the first message, the topic does not exist and kcat fails: read again.
                let output = (try? await offThePool { try broker.kcat(["-C", "-t", "users-changes", "-e", "-q", "-f", "%k\t%s\t%h\n"]) }) ?? ""

                lines = output.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false) }
                if lines.count < 32 { try await Task.sleep(for: .milliseconds(200)) }
            }
            running.cancel()
            await running.value
            producer.close()

            #expect(lines.count == 32)
            var versionsByItem: [String: [Int]] = [:]
            var sequenceNumbers: Set<String> = []
            for line in lines {
                try #require(line.count == 3)
                let record = try JSONDecoder().decode(KinesisChangeRecord.self, from: Data(line[1].utf8))
                #expect(record.recordFormat == "application/json" && record.eventSource == "aws:dynamodb")
                #expect(record.tableName == "Users" && record.awsRegion == "us-east-1")
                guard case .s(let pk)? = record.dynamodb.keys["pk"] else { Issue.record("no key"); continue }
                #expect(String(line[0]) == pk)
                #expect(record.dynamodb.approximateCreationDateTime > 1_700_000_000_000)
                let headers = Dictionary(uniqueKeysWithValues: line[2].split(separator: ",").map {
                    let parts = $0.split(separator: "=", maxSplits: 1)
                    return (String(parts[0]), String(parts[1]))
                })
                #expect(headers[KafkaSinkHeader.table] == "Users")
                let sequence = try #require(headers[KafkaSinkHeader.sequenceNumber])
                sequenceNumbers.insert(sequence)
                let image = record.eventName == .remove ? record.dynamodb.oldImage : record.dynamodb.newImage
                guard case .n(let version)? = image?["v"] else { Issue.record("no version"); continue }
                versionsByItem[pk, default: []].append(Int(version.description)! + (record.eventName == .remove ? 100 : 0))
                #expect(record.eventName == (record.dynamodb.oldImage == nil ? .insert : (record.dynamodb.newImage == nil ? .remove : .modify)))
            }
            // Every change once, and each item's changes in commit order.
            #expect(sequenceNumbers.count == 32)
            for user in 0..<6 {
                let expected = Array(0..<5) + (user < 2 ? [104] : [])
                #expect(versionsByItem["u\(user)"] == expected)
            }
        }
    }
}
