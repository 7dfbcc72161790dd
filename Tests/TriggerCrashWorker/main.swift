// The child process of the trigger crash test (Tests/EddyTests/TriggerCrashTests.swift): writes to a table
// with a stream from several tasks while two trigger mappings read that stream, until it is killed with
// SIGKILL.
//
//   TriggerCrashWorker DATA_DIR ROUND LOG_PATH
//
// Table Source (key `pk`) holds items `w<writer>-<n>`, each written by one task only, with a `version` that
// grows with every write of the item, across rounds too (ROUND × 1,000,000 + the task's write count): items
// are put, updated (which creates a missing one) and deleted. The mappings, both with a parallelization
// factor of 3 and small batches:
// - `log`, a Swift handler (at least once): appends one line per delivered record, `<pk> <sequence number>
//   <event name> <version> .` (a REMOVE's version is its old image's), with one write(2) per batch and an
//   fsync before it returns;
// - `applied`, a derivative mapping (exactly once): keeps in table Applied, per source item, the number of
//   records applied (`changes`), the sum of their sequence numbers (`sequenceSum`), and the sequence number
//   and version of the last one (`lastSequence`, `lastVersion`).
// Stdout gets `ACK <operation> <pk> <version>` after each write returns, with one write(2), after `OPENING` and
// `OPENED` around the opening of the database; an error is reported as `ERROR ...` and ends it with status 1.
//
// In odd rounds shards hold few records, so they roll over while the mappings read them.
import ChildProcessSupport
import Eddy
import Foundation

let arguments = CommandLine.arguments
guard arguments.count == 4, let round = Int(arguments[2]) else {
    FileHandle.standardError.write(Data("usage: TriggerCrashWorker DATA_DIR ROUND LOG_PATH\n".utf8))
    exit(2)
}
let logPath = arguments[3]

/// Creates table `name` keyed by the string `pk`, unless an earlier round did.
func createTableIfMissing(_ db: Database, _ name: String, stream: StreamSpecification?) async throws(EddyError) {
    do {
        try await db.createTable(CreateTableInput(
            tableName: name,
            keySchema: [KeySchemaElement(attributeName: "pk", keyType: .hash)],
            attributeDefinitions: [AttributeDefinition(attributeName: "pk", attributeType: .s)],
            billingMode: .payPerRequest,
            streamSpecification: stream))
    } catch {
        guard case .resourceInUse = error else { throw error }
    }
}

/// A failed write(2) or fsync of the log: the batch fails and is delivered again.
struct LogWriteFailed: Error {
    var errno: Int32
}

/// Appends `text` to the log with one write(2), then fsyncs it.
@Sendable func appendToLog(_ descriptor: Int32, _ text: String) throws {
    let bytes = Array(text.utf8)
    let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    guard written == bytes.count, fsync(descriptor) == 0 else { throw LogWriteFailed(errno: errno) }
}

/// The version a record carries: its new image's, or for a REMOVE its old image's.
@Sendable func recordVersion(of data: StreamRecordData) -> AttributeValue {
    (data.newImage ?? data.oldImage)?["version"] ?? .n(DecimalNumber(-1))
}

/// The writes of mapping `applied` for one record of Source.
@Sendable func appliedWrites(for record: StreamRecord) throws -> [DerivativeWrite] {
    let sequence = AttributeValue.n(try DecimalNumber(record.dynamodb.sequenceNumber))
    guard let pk = record.dynamodb.keys["pk"] else { return [] }
    return [.update(
        tableName: "Applied", key: ["pk": pk],
        updateExpression: "SET #last = :sequence, #version = :version ADD #changes :one, #sum :sequence",
        expressionAttributeNames: [
            "#last": "lastSequence", "#version": "lastVersion", "#changes": "changes", "#sum": "sequenceSum",
        ],
        expressionAttributeValues: [":sequence": sequence, ":version": recordVersion(of: record.dynamodb), ":one": 1])]
}

do {
    let db = try openAnnounced(path: arguments[1], configuration: Database.Configuration(streamShardRecordLimit: round % 2 == 1 ? 150 : nil))
    try await createTableIfMissing(db, "Source", stream: StreamSpecification(streamEnabled: true, streamViewType: .newAndOldImages))
    try await createTableIfMissing(db, "Applied", stream: nil)
    guard let streamArn = try await db.describeTable(tableName: "Source").latestStreamArn else {
        throw EddyError.validation("Source has no stream")
    }

    // A kill may have cut the log's last write short: end that fragment so that it stays a line of its own.
    if let log = FileManager.default.contents(atPath: logPath), let last = log.last, last != UInt8(ascii: "\n") {
        guard let handle = FileHandle(forWritingAtPath: logPath) else { throw LogWriteFailed(errno: errno) }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("\n".utf8))
        try handle.close()
    }
    let log = open(logPath, O_WRONLY | O_APPEND | O_CREAT, 0o644)
    guard log >= 0 else { throw LogWriteFailed(errno: errno) }

    let triggers = TriggerRuntime(database: db)
    var settings = TriggerMappingConfiguration(eventSourceArn: streamArn, startingPosition: .trimHorizon)
    settings.parallelizationFactor = 3
    settings.batchSize = 5
    try await triggers.register(name: "log", configuration: settings) { event in
        var text = ""
        for record in event.records {
            guard case .s(let pk)? = record.dynamodb.keys["pk"], case .n(let version) = recordVersion(of: record.dynamodb) else { continue }
            text += "\(pk) \(record.dynamodb.sequenceNumber) \(record.eventName.rawValue) \(version) .\n"
        }
        try appendToLog(log, text)
    }
    settings.batchSize = 7
    try await triggers.registerDerivative(name: "applied", configuration: settings, targetTables: ["Applied"], transform: appliedWrites)
    let running = Task { await triggers.run() }
    defer { running.cancel() }

    // Paced so that the mappings, whose handler fsyncs each batch, stay within reach.
    try await writeWithoutEnd(db, table: "Source", round: round, itemsPerWriter: 6, maximumPauseMilliseconds: 3, report: writeLine)
} catch {
    writeLine("ERROR \(error)")
    exit(1)
}
