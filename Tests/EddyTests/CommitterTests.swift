import ChildProcessSupport
import EddyStorage
import Foundation
import Testing

@testable import Eddy

/// The write path under concurrency: group commit, both durability modes, and the committer's check that a
/// table still exists.
@Suite(.timeLimit(.minutes(5))) struct CommitterTests {
    private func makeTable(_ db: Database, _ name: String = "Tbl") async throws {
        try await db.createTable(CreateTableInput(
            tableName: name,
            keySchema: [KeySchemaElement(attributeName: "id", keyType: .hash)],
            attributeDefinitions: [AttributeDefinition(attributeName: "id", attributeType: .n)],
            billingMode: .payPerRequest))
    }

    @Test(arguments: [Durability.processCrashSafe, Durability.machineCrashSafe])
    func concurrentPutsAllCommitAndSurviveReopening(durability: EddyStorage.Durability) async throws {
        try await withTemporaryDirectory { path in
            let writers = 16
            let perWriter = 50
            do {
                let db = try Database(path: path, configuration: .init(durability: durability))
                try await makeTable(db)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for writer in 0..<writers {
                        group.addTask {
                            for index in 0..<perWriter {
                                let id = writer * perWriter + index
                                try await db.putItem(PutItemInput(tableName: "Tbl", item: ["id": .n(DecimalNumber(id)), "w": .n(DecimalNumber(writer))]))
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            let reopened = try Database(path: path, configuration: .init(durability: durability))
            let count = try await reopened.scan(ScanInput(tableName: "Tbl", select: .count)).count
            #expect(count == writers * perWriter)
            for id in [0, 1, writers * perWriter - 1] {
                let item = try await reopened.getItem(GetItemInput(tableName: "Tbl", key: ["id": .n(DecimalNumber(id))])).item
                #expect(item?["w"] == .n(DecimalNumber(id / perWriter)))
            }
        }
    }

    /// A write racing DeleteTable either commits before the deletion (and is then deleted with the table) or
    /// fails with ResourceNotFoundException; it never leaves an item behind for a new table of that name.
    @Test func writesRacingDeleteTableLeaveNoOrphans() async throws {
        try await withDatabase { db in
            try await makeTable(db)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<4 {
                    group.addTask {
                        // Writes until the deletion refuses one, so that writes straddle the deletion.
                        for index in 0..<1_000_000 {
                            do {
                                try await db.putItem(PutItemInput(tableName: "Tbl", item: ["id": .n(DecimalNumber(writer * 1_000_000 + index))]))
                            } catch let error as EddyError {
                                #expect(error.errorType == "ResourceNotFoundException")
                                return
                            }
                        }
                        Issue.record("writer \(writer) never saw the table deleted")
                    }
                }
                group.addTask {
                    // Every writer has committed its first item before the deletion, and goes on writing after it.
                    try await waitUntil("every writer's first item") {
                        for writer in 0..<4 {
                            let first = GetItemInput(tableName: "Tbl", key: ["id": .n(DecimalNumber(writer * 1_000_000))])
                            guard try await db.getItem(first).item != nil else { return false }
                        }
                        return true
                    }
                    try await db.deleteTable(tableName: "Tbl")
                }
                try await group.waitForAll()
            }
            try await makeTable(db)
            #expect(try await db.scan(ScanInput(tableName: "Tbl", select: .count)).count == 0)
            let cursor = try db.store.scan(in: .items, from: nil, to: nil, direction: .forward, snapshot: nil)
            #expect(try cursor.next() == nil, "items of the deleted table remain in storage")
        }
    }
}

/// The committer's own thread and the bounds of a commit group, seen through a store that holds writes back.
@Suite(.timeLimit(.minutes(5))) struct CommitGroupTests {
    /// Runs `body` with a database on a ``ControlledStore`` and a table `Tbl` keyed by `id` (S).
    private func withControlledDatabase(
        durability: EddyStorage.Durability = .processCrashSafe, _ body: (Database, ControlledStore) async throws -> Void
    ) async throws {
        try await withTemporaryDirectory { path in
            let store = ControlledStore(try RocksDBStore(path: path + "/db"))
            let db = try Database(store: store, configuration: .init(durability: durability))
            try await db.createTable(CreateTableInput(
                tableName: "Tbl", keySchema: [KeySchemaElement(attributeName: "id", keyType: .hash)],
                attributeDefinitions: [AttributeDefinition(attributeName: "id", attributeType: .s)], billingMode: .payPerRequest))
            try await body(db, store)
            await db.close()
        }
    }

    /// Holds the store's writes, starts one put and waits until its group's write is held, then starts
    /// `items` puts and waits until they all wait for a group behind it; returns the tasks of all the puts.
    private func queueBehindHeldWrite(_ db: Database, _ store: ControlledStore, _ items: [Item]) async throws -> [Task<Void, any Error>] {
        store.hold()
        let first = Task { _ = try await db.putItem(PutItemInput(tableName: "Tbl", item: ["id": "first"])) }
        try await waitUntil("the first group's write to be held") { store.heldWriterCount == 1 }
        let rest = items.map { item in Task { _ = try await db.putItem(PutItemInput(tableName: "Tbl", item: item)) } }
        try await waitUntil("every put to wait for a group") { db.committer.queuedCount == items.count }
        return [first] + rest
    }

    /// With fsync every group is written on the committer's thread; with the default durability a writer
    /// writes its group itself, as long as RocksDB does not stall it (see the next test).
    @Test(arguments: [Durability.processCrashSafe, Durability.machineCrashSafe])
    func groupsThatWouldBlockAreWrittenOnTheCommitterThread(durability: EddyStorage.Durability) async throws {
        try await withControlledDatabase(durability: durability) { db, store in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<4 {
                    group.addTask {
                        for index in 0..<20 {
                            try await db.putItem(PutItemInput(tableName: "Tbl", item: ["id": .s("w\(writer)-\(index)")]))
                        }
                    }
                }
                try await group.waitForAll()
            }
            // (Opening the database writes from the caller's thread, before the committer exists.)
            let threads = Set(store.writes.filter { $0.itemPuts > 0 }.map(\.threadName))
            if durability == .machineCrashSafe {
                #expect(threads == ["eddy-committer"], "writes ran on \(threads)")
            } else {
                #expect(!threads.contains("eddy-committer"), "writes ran on \(threads)")
            }
        }
    }

    @Test func aGroupTakesAtMostTheWriteLimitAndTheRestFollow() async throws {
        try await withControlledDatabase { db, store in
            let count = Committer.groupWritesMax + 500
            let puts = try await queueBehindHeldWrite(db, store, (0..<count).map { ["id": .s("i\($0)")] as Item })
            store.release()
            for put in puts { try await put.value }
            // The held write, then one full group, then the rest.
            let groups = store.writes.filter { $0.itemPuts > 0 }.suffix(3).map(\.itemPuts)
            #expect(groups == [1, Committer.groupWritesMax, 500], "\(groups)")
            #expect(try await db.scan(ScanInput(tableName: "Tbl", select: .count)).count == count + 1)
        }
    }

    @Test func aGroupTakesAtMostTheByteLimitUnlessOneWriteIsLarger() async throws {
        try await withControlledDatabase { db, store in
            // 300 KB each: 13 of them pass 4 MiB.
            let payload = String(repeating: "x", count: 300_000)
            let items: [Item] = (0..<40).map { ["id": .s("big\($0)"), "payload": .s(payload)] }
            let puts = try await queueBehindHeldWrite(db, store, items)
            store.release()
            for put in puts { try await put.value }
            let groups = store.writes.filter { $0.itemPuts > 0 }.dropFirst()
            #expect(groups.map(\.itemPuts).reduce(0, +) == items.count)
            #expect(groups.count >= 3, "\(groups.map(\.itemPuts))")
            #expect(groups.allSatisfy { $0.bytes <= Committer.groupBytesMax }, "\(groups.map(\.bytes))")
            for item in items {
                let stored = try await db.getItem(GetItemInput(tableName: "Tbl", key: ["id": item["id"]!])).item
                #expect(stored?["payload"] == .s(payload))
            }
        }
    }

    /// Concurrent updates of the same items, queued behind a held write: each item's updates all apply, none
    /// lost to another.
    @Test func updatesOfOneItemQueuedInSeveralGroupsAllApplyInOrder() async throws {
        try await withControlledDatabase { db, store in
            let itemCount = 10
            let updatesPerItem = 300
            store.hold()
            let first = Task { _ = try await db.putItem(PutItemInput(tableName: "Tbl", item: ["id": "first"])) }
            try await waitUntil("the first group's write to be held") { store.heldWriterCount == 1 }
            let released = Task {
                // Lets the updates pile up in the queue (each item's next update waits for its lock), then
                // releases them.
                try await waitUntil("updates to queue") { db.committer.queuedCount >= itemCount }
                store.release()
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for item in 0..<itemCount {
                    for _ in 0..<updatesPerItem {
                        group.addTask {
                            _ = try await db.updateItem(UpdateItemInput(
                                tableName: "Tbl", key: ["id": .s("item\(item)")],
                                updateExpression: "SET n = if_not_exists(n, :zero) + :one",
                                expressionAttributeValues: [":zero": .n(DecimalNumber(0)), ":one": .n(DecimalNumber(1))]))
                        }
                    }
                }
                try await group.waitForAll()
            }
            try await first.value
            try await released.value
            for item in 0..<itemCount {
                let stored = try await db.getItem(GetItemInput(tableName: "Tbl", key: ["id": .s("item\(item)")])).item
                #expect(stored?["n"] == .n(DecimalNumber(updatesPerItem)))
            }
        }
    }

    /// A write stall (here a write held in the store) blocks the committer's thread only: the writer's
    /// group, refused by the store rather than stalled, goes to that thread, and reads go on.
    @Test(arguments: [Durability.processCrashSafe, Durability.machineCrashSafe])
    func getItemAnswersWhileAGroupIsHeldInItsWrite(durability: EddyStorage.Durability) async throws {
        try await withControlledDatabase(durability: durability) { db, store in
            try await db.putItem(PutItemInput(tableName: "Tbl", item: ["id": "old", "v": "1"]))
            store.hold()
            let stalled = Task { _ = try await db.putItem(PutItemInput(tableName: "Tbl", item: ["id": "new"])) }
            try await waitUntil("the write to be held") { store.heldWriterCount == 1 }
            for _ in 0..<100 {
                let item = try await db.getItem(GetItemInput(tableName: "Tbl", key: ["id": "old"])).item
                #expect(item?["v"] == "1")
            }
            #expect(try await db.getItem(GetItemInput(tableName: "Tbl", key: ["id": "new"])).item == nil)
            store.release()
            try await stalled.value
            #expect(try await db.getItem(GetItemInput(tableName: "Tbl", key: ["id": "new"])).item != nil)
            #expect(store.writes.last?.threadName == "eddy-committer")
            #expect(store.refusedWriteCount == (durability == .processCrashSafe ? 1 : 0))
        }
    }
}

/// The sequence numbers the committer gives stream records, across a failed write and a reopening.
@Suite(.timeLimit(.minutes(5))) struct SequenceReservationTests {
    /// The committer persists a bound ahead of the sequence numbers it gives, once per reservation: a
    /// database that opens starts from it, so no number is given twice, even by a group whose write failed.
    @Test func sequenceNumbersStayBelowThePersistedBound() async throws {
        try await withTemporaryDirectory { path in
            func sequence(of key: String, in db: Database, _ arn: String) async throws -> UInt64 {
                let record = try #require(try await readStream(db, arn).first { $0.record.dynamodb.keys == ["pk": .s(key)] })
                return UInt64(record.record.dynamodb.sequenceNumber)!
            }
            let arn: String
            let firstBound: UInt64
            do {
                let store = try RocksDBStore(path: path + "/db")
                let db = try Database(store: store, configuration: .init())
                arn = try #require(try await createStreamTable(db, "Things").latestStreamArn)
                try await db.putItem(PutItemInput(tableName: "Things", item: ["pk": "first"]))
                firstBound = try StreamStorage.load(from: store).nextSequence
                #expect(firstBound > (try await sequence(of: "first", in: db, arn)))
                for index in 0..<50 { try await db.putItem(PutItemInput(tableName: "Things", item: ["pk": .s("k\(index)")])) }
                #expect(try StreamStorage.load(from: store).nextSequence == firstBound, "the bound is written with every group")
                #expect(try await sequence(of: "k49", in: db, arn) < firstBound)
                await db.close()
            }
            let store = ControlledStore(try RocksDBStore(path: path + "/db"))
            let db = try Database(store: store, configuration: .init())
            store.failWrites(true)
            await #expect(throws: EddyError.self) {
                try await db.putItem(PutItemInput(tableName: "Things", item: ["pk": "failed"]))
            }
            store.failWrites(false)
            try await db.putItem(PutItemInput(tableName: "Things", item: ["pk": "reopened"]))
            let reopened = try await sequence(of: "reopened", in: db, arn)
            #expect(reopened >= firstBound)
            #expect(try StreamStorage.load(from: store).nextSequence > reopened, "a number was given above the persisted bound")
            await db.close()
        }
    }
}
