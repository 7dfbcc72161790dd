// Eddy's streams: what a stream costs a write, how soon a committed change reaches a reader, and how fast a
// stream reads back. See ../../README.md for the command that runs them and prints the figures.
//
//     StreamWrite.PutItem.NoStream                 PutItem of new items, table without a stream, one writer
//     StreamWrite.PutItem.NewAndOldImages          the same on a table with a NEW_AND_OLD_IMAGES stream
//     StreamWrite.RawRocksDB.Item                  raw RocksDB: one put of the item's bytes per write
//     StreamWrite.RawRocksDB.ItemAndRecord         raw RocksDB: that put plus a 200-byte record put, one batch
//     StreamWrite.RawRocksDB.ReadItemAndRecord     diagnostic: a get of the item's key, then that batch
//     StreamWrite.8writers.*                       the same five with 8 concurrent writers
//     StreamDelivery.PutItem                       commit → `Database.streamChanges` delivery latency
//     StreamRead.GetRecords                        reading a 1,000,000-record stream back with GetRecords, one
//                                                  reader, then one reader per shard
//
// StreamWrites.swift, StreamDelivery.swift and StreamReads.swift hold the three kinds. Every benchmark gets
// a fresh temporary data directory in its setup and deletes it in its teardown.
import Benchmark
import BenchmarkSupport
import Eddy
import Foundation

/// Operations per iteration of the write benchmarks; equals their `.kilo` scaling factor.
let operationsPerIteration = 1_000
/// Writers of the concurrent write benchmarks.
let clientCount = 8

let benchmarks: @Sendable () -> Void = {
    registerWriteBenchmarks()
    registerDeliveryBenchmark()
    registerReadBenchmark()
}

/// Reads every record of stream `streamArn` as a DynamoDB Streams client does and returns how many there are:
/// every shard of every DescribeStream page, each from a TRIM_HORIZON shard iterator, then GetRecords of up
/// to 1,000 records at a time, following `nextShardIterator` until a call returns no records (an open shard
/// read to its committed end) or no next iterator (a closed shard read to its end). Each page goes to `page`.
func readAllRecords(of db: Database, streamArn: String, page handle: (GetRecordsOutput) -> Void = { _ in }) async throws -> Int {
    var count = 0
    var afterShard: String?
    repeat {
        let description = try await db.describeStream(
            DescribeStreamInput(streamArn: streamArn, exclusiveStartShardId: afterShard)
        ).streamDescription
        for shard in description.shards {
            var iterator = try await db.getShardIterator(
                GetShardIteratorInput(streamArn: streamArn, shardId: shard.shardId, shardIteratorType: .trimHorizon)
            ).shardIterator
            while let current = iterator {
                let page = try await db.getRecords(GetRecordsInput(shardIterator: current, limit: 1_000))
                if page.records.isEmpty { break }
                handle(page)
                count += page.records.count
                iterator = page.nextShardIterator
            }
        }
        afterShard = description.lastEvaluatedShardId
    } while afterShard != nil
    return count
}

/// The records of every shard of stream `streamArn`, each shard read by its own task, as consumers of
/// DynamoDB Streams read (one worker per shard); returns how many there were.
func readAllRecordsShardParallel(of db: Database, streamArn: String) async throws -> Int {
    var shards: [Shard] = []
    var afterShard: String?
    repeat {
        let description = try await db.describeStream(
            DescribeStreamInput(streamArn: streamArn, exclusiveStartShardId: afterShard)
        ).streamDescription
        shards += description.shards
        afterShard = description.lastEvaluatedShardId
    } while afterShard != nil
    return try await withThrowingTaskGroup(of: Int.self) { group in
        for shard in shards {
            group.addTask {
                var count = 0
                var iterator = try await db.getShardIterator(
                    GetShardIteratorInput(streamArn: streamArn, shardId: shard.shardId, shardIteratorType: .trimHorizon)
                ).shardIterator
                while let current = iterator {
                    let page = try await db.getRecords(GetRecordsInput(shardIterator: current, limit: 1_000))
                    if page.records.isEmpty { break }
                    count += page.records.count
                    iterator = page.nextShardIterator
                }
                return count
            }
        }
        return try await group.reduce(0, +)
    }
}
