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
