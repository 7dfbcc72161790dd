import ChildProcessSupport
import EddyStorage
import Foundation
import MetricsTestKit
import Testing

@testable import Eddy

/// Retention plans made by the Streams side and applied by the committer, which applies a plan only as far as
/// it still holds, and the background job that runs them.
@Suite(.timeLimit(.minutes(5))) struct StreamRetentionTests {
    private func apply(_ plan: RetentionPlan, to db: Database) async throws {
        try await db.committer.commitCatalogChange(PreparedWrite(batch: StorageBatch(), effects: [.trimStreams(plan)]))
    }

    /// The keys of the records of the stream of `db`'s only table, every shard from its trim horizon.
    private func records(_ db: Database) async throws -> [String] {
        let stream = try #require(db.streams.snapshot.streams.values.first)
        let arn = db.streamArn(of: stream)
        var keys: [String] = []
        for shard in try await allShards(db, arn) {
            let iterator = try #require(try await db.getShardIterator(
                GetShardIteratorInput(streamArn: arn, shardId: shard.shardId, shardIteratorType: .trimHorizon)).shardIterator)
            keys += try await db.getRecords(GetRecordsInput(shardIterator: iterator)).records.compactMap {
                if case .s(let key) = $0.dynamodb.keys["pk"] { key } else { nil }
            }
        }
        return keys
    }

    @Test func aStalePlanNeitherMovesTheHorizonBackNorRecordsWhatItTrimsTwice() async throws {
        try await withStreamDatabase(shardCount: 1) { db, clock in
            try await createStreamTable(db, "Users")
            for key in ["a", "b", "c"] { try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": .s(key)])) }
            clock.advance(bySeconds: 25 * 3600)
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "live"]))
            let first = try db.streamRetention.plan()
            // Made from the same horizon as `first`, so stale once `first` has committed; what it would record
            // of the trim is marked, to see whether it is written.
            var stale = try db.streamRetention.plan()
            let marker = Array("stale-plan-marker".utf8)
            stale.trim.put(marker, [1], in: .triggers)
            #expect(first.horizon > first.previousHorizon)
            try await apply(first, to: db)
            #expect(db.streams.trimmedBelowWritten == first.horizon)
            #expect(try await records(db) == ["live"])
            try await apply(stale, to: db)
            #expect(db.streams.trimmedBelowWritten == first.horizon)
            #expect(try db.store.get(marker, in: .triggers, snapshot: nil) == nil)
            // A plan whose horizon lies behind the committer's moves nothing back either.
            var behind = try db.streamRetention.plan()
            behind.horizon = first.horizon - 1
            behind.trim.put(marker, [1], in: .triggers)
            try await apply(behind, to: db)
            #expect(db.streams.trimmedBelowWritten == first.horizon)
            #expect(try db.store.get(marker, in: .triggers, snapshot: nil) == nil)
            #expect(try await records(db) == ["live"])
        }
    }

    @Test func aPlanRemovesNoShardStillOpenAndNoStreamStillEnabled() async throws {
        try await withStreamDatabase(shardCount: 2) { db, clock in
            try await createStreamTable(db, "Users")
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "a"]))
            let stream = try #require(db.streams.snapshot.streams.values.first)
            // A plan that claims every shard and the stream itself expired: none of it holds.
            let plan = RetentionPlan(
                previousHorizon: db.streams.trimmedBelowWritten, horizon: db.streams.trimmedBelowWritten, trim: StorageBatch(),
                expiredBeforeMilliseconds: clock.nowMilliseconds(),
                expiredShards: stream.shards.map { ShardRef(stream: stream.id, index: $0.index) }, expiredStreams: [stream.id])
            try await apply(plan, to: db)
            #expect(db.streams.snapshot.streams[stream.id] == stream)
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "b"]))
            let shards = try await allShards(db, db.streamArn(of: stream))
            #expect(shards.count == 2)
        }
    }

    @Test func aFailedBackgroundPassIsCountedAndTheJobGoesOn() async throws {
        try await withTemporaryDirectory { path in
            let store = ControlledStore(try RocksDBStore(path: path + "/db"))
            let clock = ManualWallClock(milliseconds: 1_750_000_000_000)
            let metrics = TestMetrics()
            let db = try Database(
                store: store, configuration: .init(
                    clock: clock, streamShardCount: 1, streamTrimInterval: .milliseconds(10), metricsFactory: metrics))
            try await createStreamTable(db, "Users")
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "old"]))
            let failedPasses = try metrics.expectCounter("eddy_stream_trim_failed_passes_total")
            #expect(failedPasses.totalValue == 0)
            store.failScans(of: .streams)
            // Two failed passes: the job went on after the first.
            try await waitUntil("two failed passes") { failedPasses.totalValue >= 2 }
            store.failScans(of: nil)
            clock.advance(bySeconds: 25 * 3600)
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "live"]))
            try await waitUntil("a pass to trim the expired record") {
                // A pass may trim between the iterator and the read: that read fails, the next one sees.
                (try? await records(db)) == ["live"]
            }
            await db.close()
        }
    }
}
