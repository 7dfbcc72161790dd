// The child process of the crash test (Tests/EddyTests/CrashTests.swift): writes to an Eddy database from
// several tasks and prints one line per acknowledged write, until it is killed with SIGKILL.
//
//   CrashWriter DATA_DIR ROUND [wal|fsync]
//
// The database is opened with the durability named (`Durability`'s raw value; `wal`, process-crash safe, by
// default).
// Lines: `PUT <id>` after PutItem of item <id> returned; `DEL <id>` after DeleteItem of item <id> returned
// (every fifth item is deleted right after its put); `ADD <writer> <value>` after UpdateItem returned the
// counter of <writer> as <value>. Each line is written with one write(2) once the call has returned, so a
// line on stdout means the write was acknowledged.
//
// The table has a stream (new and old images), so every change also writes a stream record. In odd rounds
// shards hold few records (fewer still with fsync, which commits fewer a second), so they roll over (and a kill can land on a roll-over); in even rounds, round 0
// included, they never do, so the stream as CreateTable stored it must survive on its own.
//
// `OPENING` and `OPENED` come before and after it opens the database; an error is reported as `ERROR ...`
// and ends it with status 1.
import ChildProcessSupport
import Eddy
import Foundation

let arguments = CommandLine.arguments
guard arguments.count == 3 || arguments.count == 4, let round = Int(arguments[2]),
    let durability = arguments.count == 4 ? Durability(rawValue: arguments[3]) : .processCrashSafe
else {
    FileHandle.standardError.write(Data("usage: CrashWriter DATA_DIR ROUND [wal|fsync]\n".utf8))
    exit(2)
}
let table = "Crash"
/// Creates the table unless an earlier round did.
func createTableIfMissing(_ db: Database) async throws(EddyError) {
    do {
        try await db.createTable(CreateTableInput(
            tableName: table,
            keySchema: [KeySchemaElement(attributeName: "id", keyType: .hash)],
            attributeDefinitions: [AttributeDefinition(attributeName: "id", attributeType: .s)],
            billingMode: .payPerRequest,
            streamSpecification: StreamSpecification(streamEnabled: true, streamViewType: .newAndOldImages)))
    } catch {
        guard case .resourceInUse = error else { throw error }
    }
}

/// The payload of item `id`, recomputable by the checker: a torn or mixed-up item would not match.
func payload(of id: String) -> String {
    let length = 50 + id.utf8.reduce(0) { ($0 &* 31 &+ Int($1)) & 0xFFFF } % 2000
    return String(repeating: id, count: length / id.count + 1)
}

let db = await openOrExit(
    path: arguments[1],
    configuration: Database.Configuration(
        durability: durability, streamShardRecordLimit: round % 2 == 1 ? (durability == .machineCrashSafe ? 40 : 250) : nil),
    prepare: createTableIfMissing)

let writers = 4
await withTaskGroup(of: Void.self) { group in
    for writer in 0..<writers {
        group.addTask {
            var sequence = 0
            while true {
                sequence += 1
                let id = "r\(round)-w\(writer)-\(sequence)"
                do {
                    try await db.putItem(PutItemInput(tableName: table, item: [
                        "id": .s(id), "payload": .s(payload(of: id)), "sequence": .n(DecimalNumber(sequence)),
                    ]))
                    writeLine("PUT \(id)")
                    if sequence % 5 == 0 {
                        try await db.deleteItem(DeleteItemInput(tableName: table, key: ["id": .s(id)]))
                        writeLine("DEL \(id)")
                    }
                    let counter = try await db.updateItem(UpdateItemInput(
                        tableName: table, key: ["id": .s("counter-\(writer)")],
                        attributeUpdates: ["value": AttributeValueUpdate(value: 1, action: .add)],
                        returnValues: .updatedNew))
                    if case .n(let value)? = counter.attributes?["value"] {
                        writeLine("ADD \(writer) \(value)")
                    }
                } catch {
                    writeLine("ERROR \(error)")
                    exit(1)
                }
            }
        }
    }
}
