import ChildProcessSupport
import Foundation
import Testing

@testable import Eddy

/// The trigger runtime under `kill -9`: after a restart a mapping resumes at its checkpoint, so no record is
/// skipped; each item's records still arrive in the order of its commits; a Swift handler may see a record
/// again (at least once), a derivative table never (exactly once).
///
/// Each round runs `TriggerCrashWorker` (Tests/TriggerCrashWorker) on one data directory, three tasks writing
/// items with growing versions while two mappings with a parallelization factor of 3 read the stream: `log`
/// appends each delivered record to a file (one write and an fsync per batch, before the handler returns),
/// `applied` counts each item's applied records in table Applied. The worker is killed with SIGKILL at a
/// random moment. Every few rounds, and after the last, the test opens the database, registers both
/// mappings under the same names with the same behaviour, lets them drain, and checks them against the whole
/// stream of the source table read with the Streams API.
@Suite(.timeLimit(.minutes(10))) struct TriggerCrashTests {
    /// A stream record as the log and the checks see it.
    private struct Delivery: Equatable, CustomStringConvertible {
        var pk: String
        var sequence: UInt64
        var eventName: String
        var version: String
        var description: String { "\(pk) \(sequence) \(eventName) \(version)" }
    }

    private static let rounds = 20

    @Test func mappingsSkipNothingKeepItemOrderAndApplyDerivativesExactlyOnce() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/db"
            let logPath = directory + "/delivered.log"
            var random = SystemRandomNumberGenerator()
            var acknowledged = 0
            var schedule = KillSchedule()
            for round in 0..<Self.rounds {
                let moment = schedule.moment(ofRound: round, using: &random)
                let child = try await offThePool {
                    try runChild("TriggerCrashWorker", arguments: [path, String(round), logPath], killingAt: moment)
                }
                schedule.record(child)
                #expect(child.problemAsKilledRound == nil, "round \(round), killed \(moment): \(child.problemAsKilledRound ?? "")")
                acknowledged += child.lines.count { $0.hasPrefix("ACK ") }
                // A mapping gone wrong stays wrong: the first failed check ends the test.
                if round % 5 == 4, try await !verify(path, logPath: logPath, after: "round \(round) (killed \(moment))") {
                    return
                }
            }
            #expect(acknowledged > 1_000, "the workers acknowledged too few writes to test anything: \(acknowledged)")
            #expect(schedule.roundsKilledWhileOpening >= 1, "no round killed the worker while it opened the database")
        }
    }

    /// Drains both mappings in this process, then checks the log and Applied against the source stream;
    /// returns whether they passed.
    private func verify(_ path: String, logPath: String, after context: String) async throws -> Bool {
        try await withDatabase(at: path) { db in try await verify(db, logPath: logPath, after: context) }
    }

    private func verify(_ db: Database, logPath: String, after context: String) async throws -> Bool {
        let arn = try #require(try await db.describeTable(tableName: "Source").latestStreamArn)
        // Nothing writes to Source from here on: this is its whole stream, in the order of its commits.
        let stream = try await readStream(db, arn)
            .map { try delivery($0.record.eventName, $0.record.dynamodb) }
            .sorted { $0.sequence < $1.sequence }
        let expectedApplied = recomputedApplied(stream)

        try endWithNewline(logPath)
        let log = open(logPath, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        try #require(log >= 0)
        defer { close(log) }
        var settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
        settings.parallelizationFactor = 3
        settings.batchSize = 5
        let triggers = TriggerRuntime(database: db)
        try await triggers.register(name: "log", configuration: settings) { event in
            let lines = try event.records.map { try self.delivery($0.eventName, $0.dynamodb) }
            let text = lines.map { "\($0.pk) \($0.sequence) \($0.eventName) \($0.version) .\n" }.joined()
            let bytes = Array(text.utf8)
            let written = bytes.withUnsafeBytes { write(log, $0.baseAddress, $0.count) }
            guard written == bytes.count, fsync(log) == 0 else { throw LogNotWritten() }
        }
        settings.batchSize = 7
        try await triggers.registerDerivative(name: "applied", configuration: settings, targetTables: ["Applied"], transform: Self.appliedWrites)
        let running = Task { await triggers.run() }
        let streamSequences = Set(stream.map(\.sequence))
        let caughtUp = try await waitUntil {
            let delivered = Set(try readLog(logPath).deliveries.map(\.sequence))
            let applied = try await storedApplied(db)
            return streamSequences.isSubset(of: delivered) && applied == expectedApplied
        }
        running.cancel()
        await running.value

        #expect(caughtUp, "after \(context): the mappings did not catch up within \(waitBound)")
        #expect(stream.count > 100, "after \(context): only \(stream.count) stream records")
        let (deliveries, torn) = try readLog(logPath)
        // A kill can cut a write short, once per handler call running then (4 shards, 3 batches each) at most.
        let tornFew = torn.count <= 12 * Self.rounds
        #expect(tornFew, "after \(context): \(torn.count) malformed log lines: \(torn.prefix(5))")
        let logRight = checkLog(deliveries, against: stream, context: context)
        let appliedRight = checkApplied(try await storedApplied(db), expected: expectedApplied, context: context)
        return caughtUp && tornFew && logRight && appliedRight
    }

    private struct LogNotWritten: Error {}

    /// No record skipped, none invented, and each item's records first delivered in the order of its commits.
    private func checkLog(_ deliveries: [Delivery], against stream: [Delivery], context: String) -> Bool {
        var problems: [String] = []
        let bySequence = Dictionary(uniqueKeysWithValues: stream.map { ($0.sequence, $0) })
        for delivery in deliveries where bySequence[delivery.sequence] != delivery {
            problems.append("delivered \(delivery), but the stream has \(bySequence[delivery.sequence].map(\.description) ?? "no such record")")
        }
        let delivered = Set(deliveries.map(\.sequence))
        let skipped = stream.filter { !delivered.contains($0.sequence) }
        if !skipped.isEmpty { problems.append("\(skipped.count) records never delivered: \(skipped.prefix(5))") }
        // Duplicates are allowed (at least once), but no record may arrive for the first time before an
        // earlier record of its item has.
        var firstTime: Set<UInt64> = []
        var lastFirst: [String: UInt64] = [:]
        for delivery in deliveries where firstTime.insert(delivery.sequence).inserted {
            if let previous = lastFirst[delivery.pk], previous > delivery.sequence {
                problems.append("\(delivery.pk): record \(delivery.sequence) first delivered after record \(previous)")
            }
            lastFirst[delivery.pk] = max(lastFirst[delivery.pk] ?? 0, delivery.sequence)
        }
        #expect(
            problems.isEmpty,
            "after \(context), \(stream.count) records, \(deliveries.count) deliveries: \(problems.count) problems: \(problems.prefix(10))")
        return problems.isEmpty
    }

    /// What Applied holds for one item.
    private struct Applied: Equatable, CustomStringConvertible {
        var changes: Int
        var sequenceSum: UInt64
        var lastSequence: UInt64
        var lastVersion: String
        var description: String { "\(changes) changes, sequence sum \(sequenceSum), last \(lastSequence) v\(lastVersion)" }
    }

    /// Applied as the stream says it should be: each record applied once, in order.
    private func recomputedApplied(_ stream: [Delivery]) -> [String: Applied] {
        var result: [String: Applied] = [:]
        for delivery in stream {
            var row = result[delivery.pk] ?? Applied(changes: 0, sequenceSum: 0, lastSequence: 0, lastVersion: "")
            row.changes += 1
            row.sequenceSum += delivery.sequence
            row.lastSequence = delivery.sequence
            row.lastVersion = delivery.version
            result[delivery.pk] = row
        }
        return result
    }

    private func storedApplied(_ db: Database) async throws -> [String: Applied] {
        var result: [String: Applied] = [:]
        for item in try await scanEveryItem(db, "Applied") {
            guard case .s(let pk)? = item["pk"], case .n(let changes)? = item["changes"], case .n(let sum)? = item["sequenceSum"],
                case .n(let last)? = item["lastSequence"], case .n(let version)? = item["lastVersion"],
                let count = Int(changes.description), let sequenceSum = UInt64(sum.description),
                let lastSequence = UInt64(last.description)
            else {
                Issue.record("a malformed Applied item: \(item)")
                continue
            }
            result[pk] = Applied(changes: count, sequenceSum: sequenceSum, lastSequence: lastSequence, lastVersion: version.description)
        }
        return result
    }

    /// Applied holds what the stream says, item by item.
    private func checkApplied(_ stored: [String: Applied], expected: [String: Applied], context: String) -> Bool {
        let items = Set(stored.keys).union(expected.keys).filter { stored[$0] != expected[$0] }.sorted()
        let problems = items.map { "\($0): Applied holds \(stored[$0].map(\.description) ?? "nothing"), the stream says \(expected[$0].map(\.description) ?? "nothing")" }
        #expect(problems.isEmpty, "after \(context): \(problems.count) items differ: \(problems.prefix(10))")
        return problems.isEmpty
    }

    /// The derivative mapping, as the worker defines it.
    private static let appliedWrites: DerivativeTransform = { record in
        let sequence = AttributeValue.n(try DecimalNumber(record.dynamodb.sequenceNumber))
        let version = (record.dynamodb.newImage ?? record.dynamodb.oldImage)?["version"] ?? .n(DecimalNumber(-1))
        return [.update(
            tableName: "Applied", key: record.dynamodb.keys,
            updateExpression: "SET #last = :sequence, #version = :version ADD #changes :one, #sum :sequence",
            expressionAttributeNames: [
                "#last": "lastSequence", "#version": "lastVersion", "#changes": "changes", "#sum": "sequenceSum",
            ],
            expressionAttributeValues: [":sequence": sequence, ":version": version, ":one": 1])]
    }

    /// A record of Source, as the log writes it.
    private func delivery(_ eventName: StreamEventName, _ data: StreamRecordData) throws -> Delivery {
        guard case .s(let pk)? = data.keys["pk"], let sequence = UInt64(data.sequenceNumber),
            case .n(let version)? = (data.newImage ?? data.oldImage)?["version"]
        else { throw MalformedRecord(data: data) }
        return Delivery(pk: pk, sequence: sequence, eventName: eventName.rawValue, version: version.description)
    }

    private struct MalformedRecord: Error {
        var data: StreamRecordData
    }

    /// The log's deliveries in the order they were appended, and the lines a kill cut short.
    private func readLog(_ path: String) throws -> (deliveries: [Delivery], torn: [Substring]) {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var deliveries: [Delivery] = []
        var torn: [Substring] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 5, fields[4] == ".", let sequence = UInt64(fields[1]),
                ["INSERT", "MODIFY", "REMOVE"].contains(fields[2])
            else {
                torn.append(line)
                continue
            }
            deliveries.append(Delivery(pk: String(fields[0]), sequence: sequence, eventName: String(fields[2]), version: String(fields[3])))
        }
        return (deliveries, torn)
    }

    /// Ends a last line a kill cut short, as the worker does when it starts.
    private func endWithNewline(_ path: String) throws {
        guard let data = FileManager.default.contents(atPath: path), let last = data.last, last != UInt8(ascii: "\n") else { return }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("\n".utf8))
        try handle.close()
    }
}
