// The child process of the snapshot crash test (Tests/EddyKafkaTests/SnapshotCrashTests.swift): takes up a
// Kafka trigger mapping that begins with a snapshot of its table, and writes to the table while the mapping
// runs, until it is killed with SIGKILL.
//
//   SnapshotSinkWorker DATA_DIR ROUND BOOTSTRAP_SERVERS TOPIC
//
// Table Catalog (partition key `pk`, sort key `sk`), loaded by the test beforehand, holds the items numbered
// below SnapshotWorkload.loadedItems. Mapping `catalog-cdc` (SnapshotWorkload.settings: Snapshot, BatchSize 100)
// sends Debezium events keyed by the primary key, with tombstones, to TOPIC. Three tasks write items all
// over the table's key range (each its own items, so that an item's versions grow in commit order): puts,
// updates and deletes of loaded items and of new ones. Stdout gets, each with one write(2): `OPENING` and
// `OPENED` around the opening of the database; `SNAPSHOT <done> <total> <complete>` when the snapshot's progress
// changes (looked at every 5 ms); `WRITE <operation> <number> <version>` before each write and `ACK …` (the
// same) after it returns. An error is reported as `ERROR ...` and ends it with status 1.
import ChildProcessSupport
import Eddy
import EddyKafka
import Foundation

let (arguments, round) = childArguments(usage: "SnapshotSinkWorker DATA_DIR ROUND BOOTSTRAP_SERVERS TOPIC")

do {
    let db = try openAnnounced(path: arguments[1])
    guard let streamArn = try await db.describeTable(tableName: SnapshotWorkload.table).latestStreamArn else {
        throw EddyError.validation("\(SnapshotWorkload.table) has no stream")
    }
    let sink = try await KafkaSink(configuration: ["bootstrap.servers": arguments[3]], topic: arguments[4])
    let triggers = TriggerRuntime(database: db)
    try await triggers.registerKafka(
        name: SnapshotWorkload.mapping, configuration: SnapshotWorkload.settings(streamArn), sink: sink,
        format: KafkaMessageFormat(value: .debezium, key: .primaryKey, tombstones: true))
    let running = Task { await triggers.run() }
    defer { running.cancel() }
    let watching = Task {
        var last: TriggerSnapshotProgress?
        while !Task.isCancelled {
            let progress = try triggers.mapping(SnapshotWorkload.mapping).snapshotProgress
            if let progress, progress != last {
                writeLine("SNAPSHOT \(progress.itemsDone) \(progress.itemsTotal) \(progress.complete)")
                last = progress
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
    defer { watching.cancel() }

    try await withThrowingTaskGroup(of: Void.self) { group in
        for writer in 0..<SnapshotWorkload.writers {
            group.addTask {
                var random = SystemRandomNumberGenerator()
                var writes = 0
                while true {
                    writes += 1
                    let number = SnapshotWorkload.writers * Int.random(in: 0..<SnapshotWorkload.writtenItems / SnapshotWorkload.writers, using: &random) + writer
                    let version = round * 1_000_000 + writes
                    let operation = SnapshotWorkload.Operation.random(using: &random)
                    writeLine("WRITE \(operation) \(number) \(version)")
                    try await SnapshotWorkload.write(operation, number: number, version: version, round: round, in: db)
                    writeLine("ACK \(operation) \(number) \(version)")
                    try await Task.sleep(for: .milliseconds(Int.random(in: 0...2, using: &random)))
                }
            }
        }
        try await group.waitForAll()
    }
} catch {
    writeLine("ERROR \(error)")
    exit(1)
}
