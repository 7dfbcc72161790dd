import ChildProcessSupport
import EddyKafka
import Foundation
import Testing

@testable import Eddy

/// The Kafka sink under `kill -9`: after a restart the mapping resumes at its checkpoint, which advanced only
/// after the broker acknowledged a batch, so no change is missing from the topic and each item's changes
/// first arrive in commit order (a batch in flight at the kill may come twice: at least once).
///
/// Each round runs `KafkaSinkWorker` (Tests/KafkaSinkWorker) on one data directory: three tasks write items
/// with growing versions while mapping `to-kafka` (ParallelizationFactor 2) sends the stream to a topic of 3
/// partitions. The worker is killed with SIGKILL at a random moment. After the last round the test opens the
/// database, takes the mapping up again, lets it drain, and checks the topic, read with kcat, against the
/// table's whole stream read with the Streams API.
@Suite(.serialized, .timeLimit(.minutes(10))) struct KafkaCrashTests {
    private static let rounds = 10

    @Test func aKilledSinkLosesNoChangeAndKeepsEachItemsOrder() async throws {
        try await KafkaBroker.with { broker in
            try await broker.createTopic("source-changes", partitions: 3)
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("eddy-kafka-crash-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            var random = SystemRandomNumberGenerator()
            var acknowledged = 0
            var changing = 0
            var schedule = KillSchedule()
            for round in 0..<Self.rounds {
                let moment = schedule.moment(ofRound: round, using: &random)
                let child = try await offThePool {
                    try runChild("KafkaSinkWorker", arguments: [path, String(round), broker.bootstrapServers, "source-changes"], killingAt: moment)
                }
                schedule.record(child)
                #expect(child.problemAsKilledRound == nil, "round \(round), killed \(moment): \(child.problemAsKilledRound ?? "")")
                acknowledged += child.lines.count { $0.hasPrefix("ACK ") }
                changing += child.lines.count { $0.hasPrefix("ACK put ") || $0.hasPrefix("ACK update ") }
            }
            #expect(acknowledged > 500, "the workers acknowledged too few writes to test anything: \(acknowledged)")
            #expect(schedule.roundsKilledWhileOpening >= 1, "no round killed the worker while it opened the database")

            let db = try Database(path: path)
            let arn = try #require(try await db.describeTable(tableName: "Source").latestStreamArn)
            // Nothing writes to Source from here on: this is its whole stream (every acknowledged put and
            // update changed an item; a delete of a missing item changes nothing).
            let stream = try await readStream(db, arn).map(\.record)
            #expect(stream.count >= changing)
            let sink = try await KafkaSink(configuration: ["bootstrap.servers": broker.bootstrapServers], topic: "source-changes")
            var settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
            settings.parallelizationFactor = 2
            settings.batchSize = 10
            let triggers = TriggerRuntime(database: db)
            try await triggers.registerKafka(name: "to-kafka", configuration: settings, sink: sink)
            let running = Task { await triggers.run() }
            let expected = Set(stream.map(\.dynamodb.sequenceNumber))
            // Caught up, the mapping has had every change acknowledged by the broker (its checkpoint follows the
            // acknowledgements): the topic then holds them all.
            let caughtUp = try await waitUntil { try triggers.isCaughtUp("to-kafka") }
            running.cancel()
            await running.value
            sink.close()
            #expect(caughtUp, "the mapping did not catch up with the stream within \(waitBound)")
            let messages = try await readTopic(broker)

            // No change missing, and nothing that is not a change.
            let sent = Set(messages.map(\.sequence))
            #expect(expected.subtracting(sent).isEmpty, "\(expected.subtracting(sent).count) of \(expected.count) changes never reached the topic")
            #expect(sent.subtracting(expected).isEmpty)
            // Each message says what its change was.
            let bySequence = Dictionary(uniqueKeysWithValues: stream.map { ($0.dynamodb.sequenceNumber, $0) })
            for (sequence, record) in messages {
                guard let change = bySequence[sequence] else { continue }
                #expect(record.eventName == change.eventName && record.dynamodb.keys == change.dynamodb.keys)
                #expect(record.dynamodb.newImage == change.dynamodb.newImage && record.dynamodb.oldImage == change.dynamodb.oldImage)
            }
            // Each item's changes first arrive in commit order; a repeat is the same change again.
            var seen: Set<String> = []
            var lastByItem: [String: UInt64] = [:]
            for (sequence, record) in messages where seen.insert(sequence).inserted {
                let number = try #require(UInt64(sequence))
                guard case .s(let pk)? = record.dynamodb.keys["pk"] else { continue }
                #expect(number > lastByItem[pk] ?? 0, "change \(sequence) of \(pk) came after a later one")
                lastByItem[pk] = number
            }
            #expect(messages.count >= expected.count)
        }
    }

    /// Every message of topic `source-changes`, partition by partition, each with its sequence-number header.
    private func readTopic(_ broker: KafkaBroker) async throws -> [(sequence: String, record: KinesisChangeRecord)] {
        let output = try await offThePool {
            try broker.kcat(["-C", "-t", "source-changes", "-e", "-q", "-f", "%h\t%s\n"])
        }
        return try output.split(separator: "\n").map { line in
            let fields = line.split(separator: "\t", maxSplits: 1)
            try #require(fields.count == 2)
            let header = try #require(fields[0].split(separator: ",").first { $0.hasPrefix(KafkaSinkHeader.sequenceNumber + "=") })
            let record = try JSONDecoder().decode(KinesisChangeRecord.self, from: Data(fields[1].utf8))
            return (String(header.dropFirst(KafkaSinkHeader.sequenceNumber.count + 1)), record)
        }
    }
}
