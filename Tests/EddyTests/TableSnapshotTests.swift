import ChildProcessSupport
import Foundation
import Synchronization
import Testing

@testable import Eddy

/// `Database.tableSnapshot(streamArn:)`: a table's items as one storage snapshot holds them, and the stream's
/// sequence number where they end, taken while writers change the table.
@Suite(.timeLimit(.minutes(3))) struct TableSnapshotTests {
    /// Every record of stream `arn`, over all shards (parents first), each with its sequence number.
    private static func records(_ database: Database, _ arn: String) async throws -> [(sequence: UInt64, record: StreamRecord)] {
        var records: [(UInt64, StreamRecord)] = []
        for shard in try await allShards(database, arn) {
            var iterator = try await database.getShardIterator(
                GetShardIteratorInput(streamArn: arn, shardId: shard.shardId, shardIteratorType: .trimHorizon)
            ).shardIterator
            while let current = iterator {
                let page = try await database.getRecords(GetRecordsInput(shardIterator: current))
                records += page.records.map { (UInt64($0.dynamodb.sequenceNumber)!, $0) }
                iterator = page.records.isEmpty ? nil : page.nextShardIterator
            }
        }
        return records
    }

    /// How far the writers are, shared with them.
    private final class WritersProgress: Sendable {
        /// Writers that have made half their changes.
        let halfDone = Atomic(0)
        /// The snapshot has been taken: the writers go on.
        let taken = Atomic(false)
    }

    /// One of the writers' changes to item `key`: a put with a new version, an update, or a delete.
    private static func change(_ database: Database, key: Int, version: Int, random: inout SplitMix64) async throws {
        let keyValue: AttributeValue = .s("item-\(key)")
        switch random.next() % 4 {
        case 0:
            try await database.deleteItem(DeleteItemInput(tableName: "Orders", key: ["pk": keyValue]))
        case 1:
            try await database.updateItem(
                UpdateItemInput(
                    tableName: "Orders", key: ["pk": keyValue], updateExpression: "SET version = :v ADD changes :one",
                    expressionAttributeValues: [":v": num("\(version)"), ":one": num("1")]))
        default:
            try await database.putItem(PutItemInput(tableName: "Orders", item: ["pk": keyValue, "version": num("\(version)")]))
        }
    }

    /// Items from the snapshot, then every record at or after its sequence number, give the table's final
    /// items; each such record's old image is exactly what the items (so far) hold for its key, so the
    /// snapshot reflects every record below its number and none at or above it. Taken while four writers
    /// change 100 items (two of them have made half their changes, the others may still be writing), the
    /// snapshot read in pages of 7.
    @Test func snapshotThenStreamRebuildsTheTableExactly() async throws {
        try await withStreamDatabase(shardCount: 3, recordLimit: 150) { db, _ in
            let arn = try #require(try await createStreamTable(db, "Orders").latestStreamArn)
            var seeds = SplitMix64(seed: 7)
            for key in 0..<100 {
                try await Self.change(db, key: key, version: 0, random: &seeds)
            }
            // The writers make half their changes, then the rest once the snapshot is being taken.
            let progress = WritersProgress()
            let snapshot = try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<4 {
                    group.addTask {
                        var random = SplitMix64(seed: UInt64(writer + 1))
                        for version in 1...150 {
                            if version == 76 {
                                progress.halfDone.add(1, ordering: .relaxed)
                                try await waitUntil("the snapshot") { progress.taken.load(ordering: .relaxed) }
                            }
                            try await Self.change(db, key: Int(random.next() % 100), version: version, random: &random)
                        }
                    }
                }
                try await waitUntil("the writers' first half") { progress.halfDone.load(ordering: .relaxed) >= 2 }
                let snapshot = try db.tableSnapshot(streamArn: arn)
                progress.taken.store(true, ordering: .relaxed)
                try await group.waitForAll()
                return snapshot
            }
            var items: [String: Item] = [:]
            var after: [UInt8]?
            var page: [TableSnapshot.Entry]
            repeat {
                page = try snapshot.items(after: after, limit: 7)
                for entry in page {
                    let item = try ItemEncoding.decodeStored(entry.bytes)
                    guard case .s(let key) = item["pk"] else { Issue.record("an item without its key"); return }
                    items[key] = item
                }
                after = page.last?.key
            } while !page.isEmpty
            #expect(items.count == snapshot.itemCount)
            let records = try await Self.records(db, arn)
            #expect(records.contains { $0.sequence < snapshot.streamSequence }, "no change before the snapshot")
            let later = records.filter { $0.sequence >= snapshot.streamSequence }
            #expect(!later.isEmpty, "no change after the snapshot")
            // Shards hold each item's records in order; across shards an item's records follow its shards' order.
            for (_, record) in later {
                guard case .s(let key) = record.dynamodb.keys["pk"] else { Issue.record("a record without its key"); return }
                #expect(record.dynamodb.oldImage == items[key], "record \(record.dynamodb.sequenceNumber) of \(key)")
                items[key] = record.eventName == .remove ? nil : record.dynamodb.newImage
            }
            let final = try await db.scan(ScanInput(tableName: "Orders")).items ?? []
            #expect(items.count == final.count)
            for item in final {
                guard case .s(let key) = item["pk"] else { continue }
                #expect(items[key] == item)
            }
        }
    }

    @Test func aDisabledStreamHasNoSnapshot() async throws {
        try await withStreamDatabase { db, _ in
            let arn = try #require(try await createStreamTable(db, "Orders").latestStreamArn)
            _ = try await db.updateTable(UpdateTableInput(tableName: "Orders", streamSpecification: StreamSpecification(streamEnabled: false)))
            await expectValidation("Stream \(arn) is disabled: a snapshot needs the stream its table's changes reach") {
                _ = try db.tableSnapshot(streamArn: arn)
            }
            await expectEddyError("ResourceNotFoundException") {
                _ = try db.tableSnapshot(streamArn: arn.replacingOccurrences(of: "Orders", with: "Missing"))
            }
        }
    }
}
