import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing

@testable import Eddy

/// What `Database.close()` guarantees: later operations fail clearly, background jobs stop, commits queued
/// before it are written, RocksDB lets go of the directory, and calling it again is harmless.
@Suite(.timeLimit(.minutes(5))) struct DatabaseCloseTests {
    @Test func closeReleasesTheDirectoryForANewDatabaseInTheSameProcess() async throws {
        try await withTemporaryDirectory { path in
            let db = try Database(path: path + "/db")
            try await createTable(db, "Users")
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "u1", "name": "Ada"]))
            // While the database is open, RocksDB's lock keeps a second one out.
            await expectEddyError("InternalServerError") { _ = try Database(path: path + "/db") }
            await db.close()
            let again = try Database(path: path + "/db")
            let item = try await again.getItem(GetItemInput(tableName: "Users", key: ["pk": "u1"])).item
            #expect(item == ["pk": "u1", "name": "Ada"])
            await again.close()
        }
    }

    /// Every kind of operation after close: InternalServerError "The database is closed".
    @Test(arguments: [
        "CreateTable", "DescribeTable", "ListTables", "DeleteTable", "PutItem", "GetItem", "UpdateItem", "DeleteItem",
        "Query", "Scan", "BatchWriteItem", "BatchGetItem", "TransactWriteItems", "TransactGetItems", "ListStreams",
        "DescribeStream", "GetShardIterator", "UpdateTable", "TagResource", "UntagResource", "ListTagsOfResource",
        "UpdateTimeToLive", "DescribeTimeToLive", "DescribeContinuousBackups", "UpdateContinuousBackups",
        "CheckIndexes", "StreamChanges",
    ])
    func anOperationAfterCloseFailsSayingTheDatabaseIsClosed(operation: String) async throws {
        try await withTemporaryDirectory { path in
            let db = try Database(path: path + "/db")
            let arn = try #require(try await createStreamTable(db, "Users").latestStreamArn)
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "u1"]))
            await db.close()
            let key: Item = ["pk": "u1"]
            let tableArn = "arn:aws:dynamodb:us-east-1:000000000000:table/Users"
            await expectEddyError("InternalServerError", "The database is closed") {
                switch operation {
                case "CreateTable": _ = try await createTable(db, "Other")
                case "DescribeTable": _ = try await db.describeTable(tableName: "Users")
                case "ListTables": _ = try await db.listTables()
                case "DeleteTable": _ = try await db.deleteTable(tableName: "Users")
                case "PutItem": _ = try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "u2"]))
                case "GetItem": _ = try await db.getItem(GetItemInput(tableName: "Users", key: key))
                case "UpdateItem":
                    _ = try await db.updateItem(UpdateItemInput(
                        tableName: "Users", key: key, updateExpression: "SET n = :one", expressionAttributeValues: [":one": num("1")]))
                case "DeleteItem": _ = try await db.deleteItem(DeleteItemInput(tableName: "Users", key: key))
                case "Query":
                    _ = try await db.query(QueryInput(
                        tableName: "Users", keyConditionExpression: "pk = :k", expressionAttributeValues: [":k": "u1"]))
                case "Scan": _ = try await db.scan(ScanInput(tableName: "Users"))
                case "BatchWriteItem":
                    _ = try await db.batchWriteItem(BatchWriteItemInput(requestItems: [
                        "Users": [WriteRequest(putRequest: PutRequest(item: ["pk": "u3"]))]
                    ]))
                case "BatchGetItem":
                    _ = try await db.batchGetItem(BatchGetItemInput(requestItems: ["Users": KeysAndAttributes(keys: [key])]))
                case "TransactWriteItems":
                    _ = try await db.transactWriteItems(TransactWriteItemsInput(transactItems: [
                        TransactWriteItem(put: TransactPut(tableName: "Users", item: ["pk": "u4"]))
                    ]))
                case "TransactGetItems":
                    _ = try await db.transactGetItems(TransactGetItemsInput(transactItems: [
                        TransactGetItem(get: TransactGet(tableName: "Users", key: key))
                    ]))
                case "ListStreams": _ = try await db.listStreams()
                case "DescribeStream": _ = try await db.describeStream(DescribeStreamInput(streamArn: arn))
                case "GetShardIterator":
                    _ = try await db.getShardIterator(GetShardIteratorInput(
                        streamArn: arn, shardId: "shardId-00000000000000000000-0000abcd", shardIteratorType: .trimHorizon))
                case "UpdateTable": _ = try await db.updateTable(UpdateTableInput(tableName: "Users", deletionProtectionEnabled: true))
                case "TagResource":
                    _ = try await db.tagResource(TagResourceInput(resourceArn: tableArn, tags: [Tag(key: "k", value: "v")]))
                case "UntagResource": _ = try await db.untagResource(UntagResourceInput(resourceArn: tableArn, tagKeys: ["k"]))
                case "ListTagsOfResource": _ = try await db.listTagsOfResource(ListTagsOfResourceInput(resourceArn: tableArn))
                case "UpdateTimeToLive":
                    _ = try await db.updateTimeToLive(UpdateTimeToLiveInput(
                        tableName: "Users", timeToLiveSpecification: TimeToLiveSpecification(enabled: true, attributeName: "ttl")))
                case "DescribeTimeToLive": _ = try await db.describeTimeToLive(DescribeTimeToLiveInput(tableName: "Users"))
                case "DescribeContinuousBackups":
                    _ = try await db.describeContinuousBackups(DescribeContinuousBackupsInput(tableName: "Users"))
                case "UpdateContinuousBackups":
                    _ = try await db.updateContinuousBackups(UpdateContinuousBackupsInput(
                        tableName: "Users", pointInTimeRecoverySpecification: PointInTimeRecoverySpecification(pointInTimeRecoveryEnabled: true)))
                case "CheckIndexes": _ = try await db.checkIndexes(tableName: "Users")
                case "StreamChanges": _ = try db.streamChanges(tableName: "Users")
                default: Issue.record("no case for \(operation)")
                }
            }
            // Nothing the refused operation tried reached the directory.
            let again = try Database(path: path + "/db")
            #expect(try await again.scan(ScanInput(tableName: "Users")).items == [["pk": "u1"]])
            #expect(try await again.listTables().tableNames == ["Users"])
            await again.close()
        }
    }

    @Test func closingTwiceOrFromSeveralTasksAtOnceIsHarmless() async throws {
        try await withTemporaryDirectory { path in
            let db = try Database(path: path + "/db")
            try await createTable(db, "Users")
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<4 { group.addTask { await db.close() } }
            }
            await db.close()
            await expectEddyError("InternalServerError", "The database is closed") { _ = try await db.listTables() }
            let again = try Database(path: path + "/db")
            #expect(try await again.listTables().tableNames == ["Users"])
            await again.close()
        }
    }

    /// Writers racing close: each write either is acknowledged, and then is in the database opened afterwards,
    /// or fails saying the database is closed, and then is not.
    @Test func commitsQueuedBeforeCloseAreWrittenAndLaterOnesRefused() async throws {
        for durability in [Durability.processCrashSafe, .machineCrashSafe] {
            try await withTemporaryDirectory { path in
                let db = try Database(path: path + "/db", configuration: .init(durability: durability))
                try await createStreamTable(db, "Users")
                let outcomes = WriteOutcomes()
                let (acknowledged, refused, unexpected) = (outcomes.acknowledged, outcomes.refused, outcomes.unexpected)
                await withTaskGroup(of: Void.self) { group in
                    for writer in 0..<8 {
                        group.addTask {
                            for index in 0..<40 {
                                let key = "w\(writer)-\(index)"
                                do {
                                    try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": .s(key)]))
                                    acknowledged.withLock { _ = $0.insert(key) }
                                } catch let error as EddyError where error.message == "The database is closed" {
                                    refused.withLock { _ = $0.insert(key) }
                                } catch {
                                    unexpected.withLock { $0.append("\(key): \(error)") }
                                }
                            }
                        }
                    }
                    group.addTask {
                        await Task.yield()
                        await db.close()
                    }
                }
                #expect(unexpected.withLock { $0 }.isEmpty, "\(unexpected.withLock { $0 })")
                let again = try Database(path: path + "/db")
                var stored: Set<String> = []
                var start: Item?
                repeat {
                    let page = try await again.scan(ScanInput(tableName: "Users", exclusiveStartKey: start))
                    for item in page.items ?? [] { if case .s(let key) = item["pk"] { stored.insert(key) } }
                    start = page.lastEvaluatedKey
                } while start != nil
                #expect(stored == acknowledged.withLock { $0 }, "\(durability)")
                #expect(stored.isDisjoint(with: refused.withLock { $0 }))
                #expect(stored.count + refused.withLock { $0.count } == 8 * 40)
                await again.close()
            }
        }
    }

    @Test func closeCancelsTheBackgroundJobsAndWaitsForTheRunInProgress() async throws {
        try await withTemporaryDirectory { path in
            let db = try Database(path: path + "/db")
            let runs = Mutex<(started: Int, finished: Int)>((0, 0))
            let firstStarted = AsyncStream<Void>.makeStream()
            db.repeatInBackground { _ in
                runs.withLock { $0.started += 1 }
                firstStarted.continuation.yield()
                // The step finishes even when the job is cancelled meanwhile.
                try? await Task.sleep(for: .milliseconds(20))
                runs.withLock { $0.finished += 1 }
                return true
            }
            var started = firstStarted.stream.makeAsyncIterator()
            _ = await started.next()
            await db.close()
            let afterClose = runs.withLock { $0 }
            #expect(afterClose.started == afterClose.finished, "close returned during a run: \(afterClose)")
            // A job added after close never runs, and the cancelled one starts no further run.
            let late = Mutex(false)
            db.repeatInBackground { _ in
                late.withLock { $0 = true }
                return false
            }
            try await Task.sleep(for: .milliseconds(100))
            #expect(runs.withLock { $0 } == afterClose)
            #expect(!late.withLock { $0 })
        }
    }

    /// A `streamChanges` reader waiting for new records delivers what it read, then ends with the closed error.
    @Test func aStreamReaderWaitingForRecordsEndsWhenTheDatabaseCloses() async throws {
        try await withTemporaryDirectory { path in
            let db = try Database(path: path + "/db")
            try await createStreamTable(db, "Users")
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "u1"]))
            let changes = try db.streamChanges(tableName: "Users")
            let reader = Task { () -> (keys: [AttributeValue], error: EddyError?) in
                var keys: [AttributeValue] = []
                do {
                    for try await change in changes { keys += change.record.dynamodb.keys.values }
                    return (keys, nil)
                } catch {
                    return (keys, error as? EddyError)
                }
            }
            // Close once the reader is parked, waiting for a commit.
            while db.streams.signal.waiterCount == 0 { try await Task.sleep(for: .milliseconds(1)) }
            await db.close()
            let (keys, error) = await reader.value
            #expect(keys == ["u1"])
            #expect(error?.errorType == "InternalServerError" && error?.message == "The database is closed", "\(String(describing: error))")
        }
    }

    @Test func asAServiceTheDatabaseClosesOnGracefulShutdown() async throws {
        try await withTemporaryDirectory { path in
            let db = try Database(path: path + "/db")
            try await createTable(db, "Users")
            let group = ServiceGroup(services: [db], logger: Logger(label: "test"))
            let running = Task { try await group.run() }
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "u1"]))
            await group.triggerGracefulShutdown()
            try await running.value
            await expectEddyError("InternalServerError", "The database is closed") {
                _ = try await db.getItem(GetItemInput(tableName: "Users", key: ["pk": "u1"]))
            }
            let again = try Database(path: path + "/db")
            #expect(try await again.getItem(GetItemInput(tableName: "Users", key: ["pk": "u1"])).item == ["pk": "u1"])
            await again.close()
        }
    }

    /// An embedder that never calls close: the database closes when its last reference goes.
    @Test func aDatabaseNeverClosedClosesWhenItsLastReferenceGoes() async throws {
        try await withTemporaryDirectory { path in
            try await putOneItem(at: path + "/db")
            let again = try Database(path: path + "/db")
            #expect(try await again.getItem(GetItemInput(tableName: "Users", key: ["pk": "u1"])).item == ["pk": "u1"])
        }
    }

    private func putOneItem(at path: String) async throws {
        let db = try Database(path: path)
        try await createTable(db, "Users")
        try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "u1"]))
    }
}

/// What happened to each write of writers racing close.
private final class WriteOutcomes: Sendable {
    let acknowledged = Locked<Set<String>>([])
    let refused = Locked<Set<String>>([])
    let unexpected = Locked<[String]>([])
}

/// A value behind a lock, shareable between tasks.
private final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) {
        mutex = Mutex(value)
    }

    func withLock<Result>(_ body: (inout Value) -> Result) -> Result {
        mutex.withLock { body(&$0) }
    }
}
