import ChildProcessSupport
import EddyStorage
import Foundation
import Testing

@testable import Eddy

// Issue 22: no state is kept only because nothing deletes it. Each test here checks, at the level of the key
// spaces, one row of "What is kept, and for how long" in docs/ARCHITECTURE.md: once its owner is gone (or its
// time is over) nothing of it is left.

/// Every key of `space` that starts with `prefix`.
private func keys(_ db: Database, in space: KeySpace, prefix: String = "") throws -> [[UInt8]] {
    let start = Array(prefix.utf8)
    let cursor = try db.store.scan(in: space, from: start, to: start.isEmpty ? nil : start.prefixSuccessor, direction: .forward, snapshot: nil)
    var found: [[UInt8]] = []
    while let (key, _) = try cursor.next() { found.append(key) }
    return found
}

@Suite(.timeLimit(.minutes(5))) struct StateBoundsTests {
    @Test func aDisabledStreamLeavesNothingOnceRetentionHasPassed() async throws {
        try await withStreamDatabase(shardCount: 2) { db, clock in
            try await createStreamTable(db, "Things")
            for index in 0..<10 {
                try await db.putItem(PutItemInput(tableName: "Things", item: ["pk": .s("k\(index)")]))
                clock.advance(bySeconds: 1.5)
            }
            #expect(try !keys(db, in: .streams).isEmpty)
            _ = try await db.updateTable(UpdateTableInput(tableName: "Things", streamSpecification: StreamSpecification(streamEnabled: false)))
            clock.advance(bySeconds: 24 * 3600 - 60)
            try await db.trimExpiredStreamRecords()
            #expect(try keys(db, in: .catalog, prefix: "stream/").count == 1)
            clock.advance(bySeconds: 120)
            try await db.trimExpiredStreamRecords()
            // Records, commit-time marks and the stream's definition are all gone.
            #expect(try keys(db, in: .streams).isEmpty)
            #expect(try keys(db, in: .catalog, prefix: "stream/").isEmpty)
        }
    }

    @Test func aDeletedTableLeavesNoItemsNoDefinitionAndItsStreamGoesWithRetention() async throws {
        try await withStreamDatabase(shardCount: 1) { db, clock in
            try await createStreamTable(db, "Gone")
            try await createTable(db, "Kept")
            for index in 0..<5 {
                try await db.putItem(PutItemInput(tableName: "Gone", item: ["pk": .s("g\(index)")]))
            }
            try await db.putItem(PutItemInput(tableName: "Kept", item: ["pk": "k"]))
            _ = try await db.deleteTable(tableName: "Gone")
            #expect(try keys(db, in: .items).count == 1)
            #expect(try keys(db, in: .catalog, prefix: "table/").count == 1)
            clock.advance(bySeconds: 24 * 3600 + 2)
            try await db.trimExpiredStreamRecords()
            #expect(try keys(db, in: .streams).isEmpty)
            #expect(try keys(db, in: .catalog, prefix: "stream/").isEmpty)
        }
    }

    @Test func aDeletedMappingLeavesNoCheckpoints() async throws {
        try await withStreamDatabase(shardCount: 2) { db, _ in
            let arn = try #require(try await createStreamTable(db, "Users").latestStreamArn)
            let runtime = TriggerRuntime(database: db)
            _ = try await runtime.register(
                name: "forgotten", configuration: TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)) { _ in }
            let running = Task { await runtime.run() }
            for index in 0..<6 {
                try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": .s("u\(index)")]))
            }
            try await runtime.waitUntilCaughtUp("forgotten")
            #expect(try !keys(db, in: .triggers, prefix: "checkpoint/").isEmpty)
            try await runtime.delete("forgotten")
            try await waitUntil("the mapping's state to be deleted") { try keys(db, in: .triggers).isEmpty }
            running.cancel()
            await running.value
        }
    }
}
