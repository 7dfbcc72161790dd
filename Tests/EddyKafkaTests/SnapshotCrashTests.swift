import ChildProcessSupport
import EddyKafka
import Foundation
import Testing

@testable import Eddy

/// A Kafka mapping that begins with a snapshot of a table of 50,000 items, under `kill -9` while the table
/// takes writes (issue 25's must-hold test): the topic, replayed by key, ends equal to the table.
///
/// The test loads table Catalog (``SnapshotWorkload``), then runs rounds of `SnapshotSinkWorker`
/// (Tests/SnapshotSinkWorker) on its data directory, each killed with SIGKILL at a random moment: the
/// worker takes up mapping `catalog-cdc` (Debezium events keyed by the primary key, tombstones after deletes)
/// and writes items all over the key range, so that changes land before and after the snapshot's position.
/// Rounds go on until a few have run past the snapshot's end. Then the test takes the mapping up in-process,
/// lets it catch up, and reads the topic with kcat.
@Suite(.serialized, .timeLimit(.minutes(10))) struct SnapshotCrashTests {
    private static let topic = "catalog-changes"
    /// Rounds that saw the snapshot complete (the one it ended in and those after it): kills while the lanes
    /// follow the stream.
    private static let roundsAfterSnapshot = 3
    /// At most this many rounds, should the snapshot outlast them (the last run in-process completes it).
    private static let roundsMax = 32

    @Test func aSnapshotKilledMidwayWhileTheTableTakesWritesLeavesTheTopicEqualToTheTable() async throws {
        try await KafkaBroker.with { broker in
            try await broker.createTopic(Self.topic, partitions: 3)
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("eddy-snapshot-crash-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            try await withDatabase(at: path) { db in
                try await SnapshotWorkload.createTable(in: db)
                for start in stride(from: 0, to: SnapshotWorkload.loadedItems, by: Limits.batchWriteItemRequestsMax) {
                    let requests = (start..<min(start + Limits.batchWriteItemRequestsMax, SnapshotWorkload.loadedItems)).map {
                        WriteRequest(putRequest: PutRequest(item: SnapshotWorkload.loaded($0)))
                    }
                    let output = try await db.batchWriteItem(BatchWriteItemInput(requestItems: [SnapshotWorkload.table: requests]))
                    try #require(output.unprocessedItems.isEmpty)
                }
            }

            var random = SystemRandomNumberGenerator()
            var schedule = KillSchedule()
            var written: Set<Int> = []
            var acknowledged = 0
            var roundsKilledDuringSnapshot = 0
            var roundsAfterCompletion = 0
            var round = 0
            while round < Self.roundsMax, roundsAfterCompletion < Self.roundsAfterSnapshot {
                let moment = schedule.moment(ofRound: round, using: &random)
                let arguments = [path, String(round), broker.bootstrapServers, Self.topic]
                let child = try await offThePool { try runChild("SnapshotSinkWorker", arguments: arguments, killingAt: moment) }
                schedule.record(child)
                #expect(child.problemAsKilledRound == nil, "round \(round), killed \(moment): \(child.problemAsKilledRound ?? "")")
                for line in child.lines where line.hasPrefix("WRITE ") {
                    written.insert(try #require(Int(line.split(separator: " ")[2])))
                }
                acknowledged += child.lines.count { $0.hasPrefix("ACK ") }
                let progress = try child.lines.filter { $0.hasPrefix("SNAPSHOT ") }.map(SnapshotLine.init)
                // The snapshot went on in this round, and had not ended when the last look at it (5 ms at most
                // before the kill) was taken.
                if let first = progress.first, let last = progress.last, !last.complete, last.done > first.done {
                    roundsKilledDuringSnapshot += 1
                }
                if progress.contains(where: \.complete) { roundsAfterCompletion += 1 }
                round += 1
            }
            #expect(roundsKilledDuringSnapshot >= 2, "only \(roundsKilledDuringSnapshot) of \(round) rounds were killed during the snapshot")
            #expect(acknowledged > 500, "the workers acknowledged too few writes to test anything: \(acknowledged)")

            let db = try Database(path: path)
            let arn = try #require(try await db.describeTable(tableName: SnapshotWorkload.table).latestStreamArn)
            let sink = try await KafkaSink(configuration: ["bootstrap.servers": broker.bootstrapServers], topic: Self.topic)
            let triggers = TriggerRuntime(database: db)
            try await triggers.registerKafka(
                name: SnapshotWorkload.mapping, configuration: SnapshotWorkload.settings(arn), sink: sink,
                format: KafkaMessageFormat(value: .debezium, key: .primaryKey, tombstones: true))
            let running = Task { await triggers.run() }
            // Caught up, the mapping has had the whole snapshot and every later change acknowledged by the broker.
            let caughtUp = try await waitUntil { try triggers.isCaughtUp(SnapshotWorkload.mapping) }
            running.cancel()
            await running.value
            sink.close()
            try #require(caughtUp, "the mapping did not catch up within \(waitBound)")
            let progress = try #require(try triggers.mapping(SnapshotWorkload.mapping).snapshotProgress)
            #expect(progress.complete)

            var table: [Int: Item] = [:]
            for item in try await scanEveryItem(db, SnapshotWorkload.table) {
                table[try Self.number(of: item)] = item
            }
            let messages = try await offThePool { try broker.kcat(["-C", "-t", Self.topic, "-e", "-q", "-J"]) }
                .split(separator: "\n").map { try JSONDecoder().decode(KcatMessage.self, from: Data($0.utf8)) }

            // Replayed by key (each key's messages are in one partition, in the order sent): the last event of
            // each item, a delete or a tombstone removing it.
            var replayed: [Int: [String: Any]] = [:]
            var operations: [Int: [String]] = [:]
            var lastMarks = 0
            // The highest version each item's events carried so far, and the events already seen (a batch
            // in flight at a kill is sent again).
            var versions: [Int: Int] = [:]
            var seen: Set<String> = []
            var regressions: [String] = []
            for message in messages {
                let number = try Self.number(ofKey: try #require(message.key))
                guard message.payload != nil else {
                    #expect(operations[number]?.last == "d", "a tombstone of item \(number) follows no delete")
                    operations[number, default: []].append("tombstone")
                    replayed[number] = nil
                    continue
                }
                let event = try message.event()
                let operation = try #require(event["op"] as? String)
                let source = try #require(event["source"] as? [String: Any])
                let sequence = try #require(source["sequence"] as? String)
                let snapshot = try #require(source["snapshot"] as? String)
                #expect(source["table"] as? String == SnapshotWorkload.table)
                #expect(operation == "r" ? ["true", "last"].contains(snapshot) : snapshot == "false", "event \(operation) marked \(snapshot)")
                if snapshot == "last" { lastMarks += 1 }
                operations[number, default: []].append(operation)
                guard operation != "d" else {
                    replayed[number] = nil
                    continue
                }
                let after = try #require(event["after"] as? [String: Any], "event \(operation) \(sequence) of item \(number) has no after")
                replayed[number] = after
                guard seen.insert("\(number) \(operation) \(sequence)").inserted else { continue }
                let version = try #require(after["version"] as? Int)
                // A snapshot may read an item again, unchanged, after a kill; a change always carries a new version.
                if let highest = versions[number], operation == "r" ? version < highest : version <= highest {
                    regressions.append("item \(number): \(operation) \(sequence) has version \(version) after \(highest)")
                }
                versions[number] = max(version, versions[number] ?? version)
            }
            #expect(regressions.isEmpty, "\(regressions.count) events older than an earlier one: \(regressions.prefix(5))")
            #expect(lastMarks >= 1, "no event marked the snapshot's last")

            // The topic replayed equals the table, item for item, attribute for attribute.
            #expect(Set(replayed.keys) == Set(table.keys), """
                items missing from the topic: \(Set(table.keys).subtracting(replayed.keys).sorted().prefix(10)), \
                deleted items left in it: \(Set(replayed.keys).subtracting(table.keys).sorted().prefix(10))
                """)
            var differing: [String] = []
            for (number, item) in table {
                guard let event = replayed[number] else { continue }
                if try !DebeziumChangeEventTests.sameJSON(event, try Self.plain(item)) { differing.append("\(number): \(event) ≠ \(item)") }
            }
            #expect(differing.isEmpty, "\(differing.count) items differ from the topic's: \(differing.prefix(5))")

            // An item no round wrote is still as loaded, and the topic has it from the snapshot alone.
            let untouched = (0..<SnapshotWorkload.loadedItems).filter { !written.contains($0) }
            #expect(untouched.count > SnapshotWorkload.loadedItems / 2)
            for number in untouched {
                #expect(table[number] == SnapshotWorkload.loaded(number), "item \(number), never written, is \(String(describing: table[number]))")
                let events = operations[number] ?? []
                #expect(!events.isEmpty && events.allSatisfy { $0 == "r" }, "item \(number), never written, has events \(events)")
            }
        }
    }

    /// A `SNAPSHOT <done> <total> <complete>` line of the worker.
    private struct SnapshotLine {
        var done: Int
        var complete: Bool

        init(_ line: Substring) throws {
            let fields = line.split(separator: " ")
            try #require(fields.count == 4)
            done = try #require(Int(fields[1]))
            complete = fields[3] == "true"
        }
    }

    /// The number of `item` (``SnapshotWorkload/key(_:)``).
    private static func number(of item: Item) throws -> Int {
        var pk: String?
        var sk: String?
        if case .s(let text)? = item["pk"] { pk = text }
        if case .n(let value)? = item["sk"] { sk = value.description }
        return try number(pk: try #require(pk, "item \(item)"), sk: try #require(sk, "item \(item)"))
    }

    /// The number of the item whose message key is `key`: `{"pk":"p<n / 4>","sk":<n % 4>}`.
    private static func number(ofKey key: String) throws -> Int {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(key.utf8)) as? [String: Any])
        #expect(object.count == 2, "key \(key) is not the primary key alone")
        return try number(pk: try #require(object["pk"] as? String), sk: String(try #require(object["sk"] as? Int)))
    }

    private static func number(pk: String, sk: String) throws -> Int {
        let partition = try #require(Int(pk.dropFirst()), "partition key \(pk)")
        return partition * 4 + (try #require(Int(sk), "sort key \(sk)"))
    }

    /// `item` (strings and whole numbers, as the workload writes) in plain JSON, as the Debezium events carry it.
    private static func plain(_ item: Item) throws -> [String: Any] {
        try item.mapValues { value -> Any in
            switch value {
            case .s(let text):
                return text
            case .n(let number):
                return try #require(Int(number.description))
            default:
                Issue.record("item \(item) has an attribute the workload does not write: \(value)")
                return "\(value)"
            }
        }
    }
}
