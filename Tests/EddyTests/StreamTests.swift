import ChildProcessSupport
import Foundation
import Testing

@testable import Eddy

// DynamoDB Streams semantics, written from the DynamoDB Streams developer guide and API reference:
// StreamSpecification on CreateTable/UpdateTable, the records of each kind of change, the Streams API and
// its errors, shard roll-over, retention and the AsyncSequence readers.

/// Opens a database in a temporary directory with a manual clock.
func withStreamDatabase(
    shardCount: Int = 4, recordLimit: Int? = nil, durability: Durability = .processCrashSafe,
    _ body: (Database, ManualWallClock) async throws -> Void
) async throws {
    try await withTemporaryDirectory { path in
        let clock = ManualWallClock(milliseconds: 1_750_000_000_000)
        let database = try Database(
            path: path + "/db",
            configuration: .init(
                durability: durability, clock: clock, streamShardCount: shardCount, streamShardRecordLimit: recordLimit))
        try await body(database, clock)
    }
}

/// Creates an on-demand table keyed by `pk` (S) with a stream of `viewType`.
@discardableResult
func createStreamTable(_ database: Database, _ name: String, viewType: StreamViewType = .newAndOldImages) async throws -> TableDescription {
    try await database.createTable(
        CreateTableInput(
            tableName: name, keySchema: [KeySchemaElement(attributeName: "pk", keyType: .hash)],
            attributeDefinitions: [AttributeDefinition(attributeName: "pk", attributeType: .s)], billingMode: .payPerRequest,
            streamSpecification: StreamSpecification(streamEnabled: true, streamViewType: viewType)))
}

/// Every shard of stream `arn`, over all DescribeStream pages.
func allShards(_ database: Database, _ arn: String) async throws -> [Shard] {
    var shards: [Shard] = []
    var start: String?
    repeat {
        let page = try await database.describeStream(DescribeStreamInput(streamArn: arn, limit: 2, exclusiveStartShardId: start))
        shards += page.streamDescription.shards
        start = page.streamDescription.lastEvaluatedShardId
    } while start != nil
    return shards
}

@Suite(.timeLimit(.minutes(5))) struct StreamSpecificationTests {
    @Test func createTableWithStreamIsDescribedAndListed() async throws {
        try await withStreamDatabase { db, _ in
            let created = try await createStreamTable(db, "Users", viewType: .newImage)
            #expect(created.streamSpecification == StreamSpecification(streamEnabled: true, streamViewType: .newImage))
            let arn = try #require(created.latestStreamArn)
            let label = try #require(created.latestStreamLabel)
            #expect(arn == "arn:aws:dynamodb:us-east-1:000000000000:table/Users/stream/\(label)")
            #expect(label.count == 23 && label.contains("T"))
            let described = try await db.describeTable(tableName: "Users")
            #expect(described.latestStreamArn == arn)
            let listed = try await db.listStreams(ListStreamsInput(tableName: "Users"))
            #expect(listed.streams == [StreamSummary(streamArn: arn, tableName: "Users", streamLabel: label)])
            let stream = try await db.describeStream(DescribeStreamInput(streamArn: arn)).streamDescription
            #expect(stream.streamStatus == .enabled)
            #expect(stream.streamViewType == .newImage)
            #expect(stream.tableName == "Users")
            #expect(stream.keySchema == [KeySchemaElement(attributeName: "pk", keyType: .hash)])
            #expect(stream.shards.count == 4)
            #expect(stream.shards.allSatisfy { $0.sequenceNumberRange.endingSequenceNumber == nil && $0.parentShardId == nil })
            #expect(Set(stream.shards.map(\.shardId)).count == 4)
        }
    }

    @Test func tableWithoutStreamHasNone() async throws {
        try await withStreamDatabase { db, _ in
            let created = try await createTable(db, "Plain")
            #expect(created.streamSpecification == nil && created.latestStreamArn == nil)
            #expect(try await db.listStreams().streams.isEmpty)
            await expectValidation("Table: Plain has no stream") { _ = try db.streamChanges(tableName: "Plain") }
        }
    }

    @Test func streamSpecificationIsValidated() async throws {
        try await withStreamDatabase { db, _ in
            let key = [KeySchemaElement(attributeName: "pk", keyType: .hash)]
            let definitions = [AttributeDefinition(attributeName: "pk", attributeType: .s)]
            await expectValidation(
                "One or more parameter values were invalid: Table is being created with a stream disabled, UpdateViewType should not be specified"
            ) {
                try await db.createTable(CreateTableInput(
                    tableName: "Things", keySchema: key, attributeDefinitions: definitions, billingMode: .payPerRequest,
                    streamSpecification: StreamSpecification(streamEnabled: false, streamViewType: .keysOnly)))
            }
            await expectValidation("One or more parameter values were invalid: StreamViewType is required when the stream is enabled") {
                try await db.createTable(CreateTableInput(
                    tableName: "Things", keySchema: key, attributeDefinitions: definitions, billingMode: .payPerRequest,
                    streamSpecification: StreamSpecification(streamEnabled: true)))
            }
            #expect(try await db.listTables().tableNames.isEmpty)
            try await createStreamTable(db, "Things")
            await expectValidation("Table already has an enabled stream: TableName: Things") {
                try await db.updateTable(UpdateTableInput(
                    tableName: "Things", streamSpecification: StreamSpecification(streamEnabled: true, streamViewType: .keysOnly)))
            }
            try await db.updateTable(UpdateTableInput(tableName: "Things", streamSpecification: StreamSpecification(streamEnabled: false)))
            await expectValidation("Table has no stream to disable: TableName: Things") {
                try await db.updateTable(UpdateTableInput(tableName: "Things", streamSpecification: StreamSpecification(streamEnabled: false)))
            }
        }
    }

    @Test func disablingKeepsTheStreamReadableAndReenablingMakesANewOne() async throws {
        try await withStreamDatabase { db, clock in
            let first = try #require(try await createStreamTable(db, "Things").latestStreamArn)
            try await db.putItem(PutItemInput(tableName: "Things", item: ["pk": "a"]))
            let disabled = try await db.updateTable(
                UpdateTableInput(tableName: "Things", streamSpecification: StreamSpecification(streamEnabled: false)))
            #expect(disabled.streamSpecification == nil)
            #expect(disabled.latestStreamArn == first)
            try await db.putItem(PutItemInput(tableName: "Things", item: ["pk": "b"]))
            let old = try await db.describeStream(DescribeStreamInput(streamArn: first)).streamDescription
            #expect(old.streamStatus == .disabled)
            #expect(old.shards.allSatisfy { $0.sequenceNumberRange.endingSequenceNumber != nil })
            #expect(try await readStream(db, first).map { $0.record.dynamodb.keys } == [["pk": "a"]])

            let enabled = try await db.updateTable(UpdateTableInput(
                tableName: "Things", streamSpecification: StreamSpecification(streamEnabled: true, streamViewType: .keysOnly)))
            let second = try #require(enabled.latestStreamArn)
            #expect(second != first)
            #expect(enabled.streamSpecification == StreamSpecification(streamEnabled: true, streamViewType: .keysOnly))
            try await db.putItem(PutItemInput(tableName: "Things", item: ["pk": "c"]))
            #expect(try await readStream(db, second).map { $0.record.dynamodb.keys } == [["pk": "c"]])
            #expect(try await db.listStreams(ListStreamsInput(tableName: "Things")).streams.map(\.streamArn) == [first, second])

            clock.advance(bySeconds: 24 * 3600 + 2)
            try await db.trimExpiredStreamRecords()
            #expect(try await db.listStreams().streams.map(\.streamArn) == [second])
            await expectEddyError("ResourceNotFoundException") {
                _ = try await db.describeStream(DescribeStreamInput(streamArn: first))
            }
        }
    }

    @Test func deletingTheTableDisablesItsStream() async throws {
        try await withStreamDatabase { db, _ in
            let arn = try #require(try await createStreamTable(db, "Things").latestStreamArn)
            try await db.putItem(PutItemInput(tableName: "Things", item: ["pk": "a"]))
            try await db.deleteTable(tableName: "Things")
            let stream = try await db.describeStream(DescribeStreamInput(streamArn: arn)).streamDescription
            #expect(stream.streamStatus == .disabled)
            #expect(try await readStream(db, arn).count == 1)
        }
    }

    @Test func streamsSurviveReopening() async throws {
        try await withTemporaryDirectory { path in
            let arn: String
            do {
                let db = try Database(path: path + "/db")
                arn = try #require(try await createStreamTable(db, "Things").latestStreamArn)
                for index in 0..<20 { try await db.putItem(PutItemInput(tableName: "Things", item: ["pk": .s("k\(index)")])) }
            }
            let db = try Database(path: path + "/db")
            try await db.putItem(PutItemInput(tableName: "Things", item: ["pk": "after"]))
            let records = try await readStream(db, arn)
            #expect(records.count == 21)
            let sequences = records.map { UInt64($0.record.dynamodb.sequenceNumber)! }
            #expect(Set(sequences).count == 21, "sequence numbers are reused after reopening")
            let after = try #require(records.first { $0.record.dynamodb.keys == ["pk": "after"] })
            #expect(sequences.allSatisfy { $0 <= UInt64(after.record.dynamodb.sequenceNumber)! })
        }
    }
}

@Suite(.timeLimit(.minutes(5))) struct StreamRecordTests {
    @Test(arguments: StreamViewType.allCases)
    func changesAreRecordedWithTheImagesOfTheViewType(_ viewType: StreamViewType) async throws {
        try await withStreamDatabase { db, clock in
            let arn = try #require(try await createStreamTable(db, "Things", viewType: viewType).latestStreamArn)
            try await db.putItem(PutItemInput(tableName: "Things", item: ["pk": "a", "n": 1]))
            clock.advance(bySeconds: 5)
            try await db.updateItem(UpdateItemInput(
                tableName: "Things", key: ["pk": "a"], updateExpression: "SET n = n + :one", expressionAttributeValues: [":one": 1]))
            try await db.deleteItem(DeleteItemInput(tableName: "Things", key: ["pk": "a"]))
            let records = try await readStream(db, arn).map(\.record)
            #expect(records.map(\.eventName) == [.insert, .modify, .remove])
            let wantsNew = viewType == .newImage || viewType == .newAndOldImages
            let wantsOld = viewType == .oldImage || viewType == .newAndOldImages
            #expect(records.map(\.dynamodb.newImage) == (wantsNew ? [["pk": "a", "n": 1], ["pk": "a", "n": 2], nil] : [nil, nil, nil]))
            #expect(records.map(\.dynamodb.oldImage) == (wantsOld ? [nil, ["pk": "a", "n": 1], ["pk": "a", "n": 2]] : [nil, nil, nil]))
            for record in records {
                #expect(record.eventVersion == "1.1")
                #expect(record.eventSource == "aws:dynamodb")
                #expect(record.awsRegion == "us-east-1")
                #expect(record.dynamodb.keys == ["pk": "a"])
                #expect(record.dynamodb.streamViewType == viewType)
                #expect(record.eventID.count == 32)
                #expect(record.dynamodb.sequenceNumber.count >= 21)
                #expect(record.userIdentity == nil)
                let size = ItemSize.of(record.dynamodb.keys) + (record.dynamodb.newImage.map(ItemSize.of) ?? 0)
                    + (record.dynamodb.oldImage.map(ItemSize.of) ?? 0)
                #expect(record.dynamodb.sizeBytes == size)
            }
            #expect(Set(records.map(\.eventID)).count == 3)
            #expect(records[0].dynamodb.approximateCreationDateTime == 1_750_000_000)
            #expect(records[1].dynamodb.approximateCreationDateTime == 1_750_000_005)
            let sequences = records.map { UInt64($0.dynamodb.sequenceNumber)! }
            #expect(sequences == sequences.sorted() && Set(sequences).count == 3)
        }
    }

    /// Records keep both images whatever the view type; read in the Kinesis form (the Kafka sink's) they carry
    /// both (absent only where the item did not exist), a `SizeBytes` that counts them, and the commit time
    /// in milliseconds, which the GetRecords JSON never shows.
    @Test(arguments: StreamViewType.allCases)
    func theKinesisFormReadsBothImagesAndTheCommitMilliseconds(_ viewType: StreamViewType) async throws {
        try await withStreamDatabase { db, clock in
            try await createStreamTable(db, "Things", viewType: viewType)
            clock.advance(bySeconds: 0.123)
            try await db.putItem(PutItemInput(tableName: "Things", item: ["pk": "a", "n": 1]))
            clock.advance(bySeconds: 0.5)
            try await db.updateItem(UpdateItemInput(
                tableName: "Things", key: ["pk": "a"], updateExpression: "SET n = n + :one", expressionAttributeValues: [":one": 1]))
            try await db.deleteItem(DeleteItemInput(tableName: "Things", key: ["pk": "a"]))
            let snapshot = db.streams.snapshot
            let stream = try #require(snapshot.streams.values.first { $0.tableName == "Things" })
            var kinesis: [(UInt64, StreamRecord)] = []
            var streams: [(UInt64, StreamRecord)] = []
            for shard in stream.shards {
                kinesis += try db.readShard(stream, shard, from: 0, in: snapshot, limit: 100, maxBytes: 1 << 20, form: .kinesis).records
                streams += try db.readShard(stream, shard, from: 0, in: snapshot, limit: 100, maxBytes: 1 << 20).records
            }
            let records = kinesis.sorted { $0.0 < $1.0 }.map(\.1)
            #expect(records.map(\.eventName) == [.insert, .modify, .remove])
            #expect(records.map(\.dynamodb.newImage) == [["pk": "a", "n": 1], ["pk": "a", "n": 2], nil])
            #expect(records.map(\.dynamodb.oldImage) == [nil, ["pk": "a", "n": 1], ["pk": "a", "n": 2]])
            #expect(records.map(\.dynamodb.approximateCreationDateTimeMilliseconds) == [1_750_000_000_123, 1_750_000_000_623, 1_750_000_000_623])
            #expect(records.map(\.dynamodb.approximateCreationDateTime) == [1_750_000_000, 1_750_000_000, 1_750_000_000])
            for record in records {
                #expect(record.dynamodb.streamViewType == viewType)
                let size = ItemSize.of(record.dynamodb.keys) + (record.dynamodb.newImage.map(ItemSize.of) ?? 0)
                    + (record.dynamodb.oldImage.map(ItemSize.of) ?? 0)
                #expect(record.dynamodb.sizeBytes == size)
            }
            // The DynamoDB Streams form of the same records is GetRecords': no milliseconds, in the record or its JSON.
            #expect(streams.count == 3 && streams.allSatisfy { $0.1.dynamodb.approximateCreationDateTimeMilliseconds == nil })
            let json = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(records[0].dynamodb)) as? [String: Any])
            #expect(Set(json.keys) == ["ApproximateCreationDateTime", "Keys", "NewImage", "SequenceNumber", "SizeBytes", "StreamViewType"])
            #expect(json["ApproximateCreationDateTime"] as? Double == 1_750_000_000)
        }
    }

    @Test func writesThatChangeNothingOrFailRecordNothing() async throws {
        try await withStreamDatabase { db, _ in
            let arn = try #require(try await createStreamTable(db, "Things").latestStreamArn)
            try await db.putItem(PutItemInput(tableName: "Things", item: ["pk": "a", "set": .ss(["x", "y", "z"]), "m": .m(["p": 1, "q": 2])]))
            // The same item again, its set and map spelled in another order.
            try await db.putItem(PutItemInput(tableName: "Things", item: ["m": .m(["q": 2, "p": 1]), "set": .ss(["z", "x", "y"]), "pk": "a"]))
            try await db.deleteItem(DeleteItemInput(tableName: "Things", key: ["pk": "absent"]))
            try await db.updateItem(UpdateItemInput(
                tableName: "Things", key: ["pk": "a"], updateExpression: "SET m.p = :one", expressionAttributeValues: [":one": 1]))
            await expectEddyError("ConditionalCheckFailedException") {
                try await db.putItem(PutItemInput(tableName: "Things", item: ["pk": "a", "v": 2], conditionExpression: "attribute_not_exists(pk)"))
            }
            await expectEddyError("ConditionalCheckFailedException") {
                try await db.deleteItem(DeleteItemInput(tableName: "Things", key: ["pk": "a"], conditionExpression: "attribute_not_exists(pk)"))
            }
            await expectValidation {
                try await db.updateItem(UpdateItemInput(
                    tableName: "Things", key: ["pk": "a"], updateExpression: "SET n = n + :one", expressionAttributeValues: [":one": 1]))
            }
            await expectValidation {
                try await db.batchWriteItem(BatchWriteItemInput(requestItems: ["Things": [
                    WriteRequest(putRequest: PutRequest(item: ["pk": "b"])), WriteRequest(putRequest: PutRequest(item: ["pk": 1])),
                ]]))
            }
            let records = try await readStream(db, arn)
            #expect(records.map(\.record.eventName) == [.insert])
        }
    }

    @Test func batchWritesRecordOneRecordPerChangedItem() async throws {
        try await withStreamDatabase { db, _ in
            let arn = try #require(try await createStreamTable(db, "Things").latestStreamArn)
            try await db.putItem(PutItemInput(tableName: "Things", item: ["pk": "same", "v": 1]))
            try await db.putItem(PutItemInput(tableName: "Things", item: ["pk": "gone", "v": 1]))
            try await db.batchWriteItem(BatchWriteItemInput(requestItems: ["Things": [
                WriteRequest(putRequest: PutRequest(item: ["pk": "new", "v": 1])),
                WriteRequest(putRequest: PutRequest(item: ["pk": "same", "v": 1])),
                WriteRequest(deleteRequest: DeleteRequest(key: ["pk": "gone"])),
                WriteRequest(deleteRequest: DeleteRequest(key: ["pk": "never"])),
            ]]))
            let records = try await readStream(db, arn).map(\.record)
            #expect(records.count == 4)
            let batch = records.filter { !($0.eventName == .insert && ($0.dynamodb.keys == ["pk": "same"] || $0.dynamodb.keys == ["pk": "gone"])) }
            #expect(Set(batch.map { "\($0.eventName.rawValue) \($0.dynamodb.keys)" }) == [
                "INSERT \(["pk": AttributeValue.s("new")])", "REMOVE \(["pk": AttributeValue.s("gone")])",
            ])
        }
    }

    @Test func oneItemsRecordsStayInOneShardInCommitOrder() async throws {
        try await withStreamDatabase(shardCount: 8) { db, _ in
            let arn = try #require(try await createStreamTable(db, "Things").latestStreamArn)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<4 {
                    group.addTask {
                        for _ in 0..<50 {
                            for item in 0..<5 {
                                try await db.updateItem(UpdateItemInput(
                                    tableName: "Things", key: ["pk": .s("item\(item)")],
                                    updateExpression: "ADD n :one SET w = :w",
                                    expressionAttributeValues: [":one": 1, ":w": .n(DecimalNumber(writer))]))
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let records = try await readStream(db, arn)
            #expect(records.count == 1000)
            for item in 0..<5 {
                let mine = records.filter { $0.record.dynamodb.keys == ["pk": .s("item\(item)")] }
                #expect(Set(mine.map(\.shard)).count == 1)
                // ADD makes the counter a commit counter: the records must show 1, 2, …, 200 in order.
                #expect(mine.map { $0.record.dynamodb.newImage?["n"] } == (1...200).map { AttributeValue.n(DecimalNumber($0)) })
                #expect(mine.dropFirst().map { $0.record.dynamodb.oldImage?["n"] } == (1...199).map { AttributeValue.n(DecimalNumber($0)) })
            }
        }
    }
}

@Suite(.timeLimit(.minutes(5))) struct StreamsAPITests {
    @Test func iteratorTypesStartWhereTheySay() async throws {
        try await withStreamDatabase(shardCount: 1) { db, _ in
            let arn = try #require(try await createStreamTable(db, "Things").latestStreamArn)
            for index in 0..<5 { try await db.putItem(PutItemInput(tableName: "Things", item: ["pk": .s("k\(index)")])) }
            let shard = try #require(try await allShards(db, arn).first).shardId
            func records(_ type: ShardIteratorType, _ sequence: String? = nil, limit: Int? = nil) async throws -> GetRecordsOutput {
                let iterator = try #require(try await db.getShardIterator(GetShardIteratorInput(
                    streamArn: arn, shardId: shard, shardIteratorType: type, sequenceNumber: sequence)).shardIterator)
                return try await db.getRecords(GetRecordsInput(shardIterator: iterator, limit: limit))
            }
            let all = try await records(.trimHorizon).records
            #expect(all.map(\.dynamodb.keys) == (0..<5).map { ["pk": .s("k\($0)")] })
            #expect(try await records(.latest).records.isEmpty)
            let third = all[2].dynamodb.sequenceNumber
            #expect(try await records(.atSequenceNumber, third).records.map(\.dynamodb.sequenceNumber) == all[2...].map(\.dynamodb.sequenceNumber))
            #expect(try await records(.afterSequenceNumber, third).records.map(\.dynamodb.sequenceNumber) == all[3...].map(\.dynamodb.sequenceNumber))
            let limited = try await records(.trimHorizon, limit: 2)
            #expect(limited.records.count == 2)
            let rest = try await db.getRecords(GetRecordsInput(shardIterator: try #require(limited.nextShardIterator)))
            #expect(rest.records.map(\.dynamodb.sequenceNumber) == all[2...].map(\.dynamodb.sequenceNumber))
            // An open shard read to its end answers no records and an iterator that sees later writes.
            let empty = try await db.getRecords(GetRecordsInput(shardIterator: try #require(rest.nextShardIterator)))
            #expect(empty.records.isEmpty)
            try await db.putItem(PutItemInput(tableName: "Things", item: ["pk": "later"]))
            let later = try await db.getRecords(GetRecordsInput(shardIterator: try #require(empty.nextShardIterator)))
            #expect(later.records.map(\.dynamodb.keys) == [["pk": "later"]])
        }
    }

    @Test func getRecordsStopsAtOneMegabyte() async throws {
        try await withStreamDatabase(shardCount: 1) { db, _ in
            let arn = try #require(try await createStreamTable(db, "Things", viewType: .newImage).latestStreamArn)
            let big = String(repeating: "x", count: 300_000)
            for index in 0..<5 { try await db.putItem(PutItemInput(tableName: "Things", item: ["pk": .s("k\(index)"), "v": .s(big)])) }
            let shard = try #require(try await allShards(db, arn).first).shardId
            let iterator = try #require(try await db.getShardIterator(
                GetShardIteratorInput(streamArn: arn, shardId: shard, shardIteratorType: .trimHorizon)).shardIterator)
            let page = try await db.getRecords(GetRecordsInput(shardIterator: iterator))
            #expect(page.records.count == 3)
            #expect(page.records.reduce(0) { $0 + $1.dynamodb.sizeBytes } <= 1_048_576)
        }
    }

    @Test func errorsAreDynamoDBStreams() async throws {
        try await withStreamDatabase(shardCount: 1) { db, clock in
            let arn = try #require(try await createStreamTable(db, "Things").latestStreamArn)
            try await db.putItem(PutItemInput(tableName: "Things", item: ["pk": "a"]))
            let shard = try #require(try await allShards(db, arn).first).shardId
            let missingArn = "arn:aws:dynamodb:us-east-1:000000000000:table/Things/stream/2000-01-01T00:00:00.000"
            await expectEddyError("ResourceNotFoundException", "Requested resource not found: Stream: \(missingArn) not found") {
                _ = try await db.describeStream(DescribeStreamInput(streamArn: missingArn))
            }
            await expectValidation { _ = try await db.describeStream(DescribeStreamInput(streamArn: "not an arn")) }
            await expectValidation { _ = try await db.describeStream(DescribeStreamInput(streamArn: arn, limit: 0)) }
            await expectValidation { _ = try await db.listStreams(ListStreamsInput(limit: 101)) }
            await expectEddyError("ResourceNotFoundException") { _ = try await db.listStreams(ListStreamsInput(tableName: "Nope")) }
            await expectEddyError("ResourceNotFoundException") {
                _ = try await db.getShardIterator(GetShardIteratorInput(
                    streamArn: arn, shardId: "shardId-00000000000000000000-0000abcd", shardIteratorType: .latest))
            }
            await expectValidation {
                _ = try await db.getShardIterator(GetShardIteratorInput(streamArn: arn, shardId: shard, shardIteratorType: .atSequenceNumber))
            }
            await expectValidation {
                _ = try await db.getShardIterator(GetShardIteratorInput(
                    streamArn: arn, shardId: shard, shardIteratorType: .atSequenceNumber, sequenceNumber: "12x"))
            }
            await expectValidation {
                _ = try await db.getShardIterator(GetShardIteratorInput(
                    streamArn: arn, shardId: shard, shardIteratorType: .afterSequenceNumber,
                    sequenceNumber: "999999999999999999999"))
            }
            await expectValidation { _ = try await db.getRecords(GetRecordsInput(shardIterator: "garbage")) }
            let iterator = try #require(try await db.getShardIterator(
                GetShardIteratorInput(streamArn: arn, shardId: shard, shardIteratorType: .trimHorizon)).shardIterator)
            await expectValidation { _ = try await db.getRecords(GetRecordsInput(shardIterator: iterator, limit: 1001)) }
            clock.advance(bySeconds: 15 * 60 - 1)
            #expect(try await db.getRecords(GetRecordsInput(shardIterator: iterator)).records.count == 1)
            clock.advance(bySeconds: 2)
            await expectEddyError("ExpiredIteratorException") { _ = try await db.getRecords(GetRecordsInput(shardIterator: iterator)) }
        }
    }

    @Test func retentionTrimsRecordsOlderThan24Hours() async throws {
        try await withStreamDatabase(shardCount: 1) { db, clock in
            let arn = try #require(try await createStreamTable(db, "Things").latestStreamArn)
            try await db.putItem(PutItemInput(tableName: "Things", item: ["pk": "old"]))
            let shard = try #require(try await allShards(db, arn).first).shardId
            let oldSequence = try await readStream(db, arn)[0].record.dynamodb.sequenceNumber
            clock.advance(bySeconds: 12 * 3600)
            try await db.putItem(PutItemInput(tableName: "Things", item: ["pk": "young"]))
            try await db.trimExpiredStreamRecords()
            #expect(try await readStream(db, arn).count == 2, "nothing is 24 hours old yet")
            clock.advance(bySeconds: 12 * 3600 - 300)
            let early = try #require(try await db.getShardIterator(
                GetShardIteratorInput(streamArn: arn, shardId: shard, shardIteratorType: .trimHorizon)).shardIterator)
            clock.advance(bySeconds: 302)
            try await db.trimExpiredStreamRecords()
            #expect(try await readStream(db, arn).map(\.record.dynamodb.keys) == [["pk": "young"]])
            // An iterator positioned before the trim horizon is refused, never silently moved on.
            await expectEddyError("TrimmedDataAccessException") { _ = try await db.getRecords(GetRecordsInput(shardIterator: early)) }
            await expectEddyError("TrimmedDataAccessException") {
                _ = try await db.getShardIterator(GetShardIteratorInput(
                    streamArn: arn, shardId: shard, shardIteratorType: .atSequenceNumber, sequenceNumber: oldSequence))
            }
            clock.advance(bySeconds: 12 * 3600 + 60)
            try await db.trimExpiredStreamRecords()
            #expect(try await readStream(db, arn).isEmpty)
            try await db.putItem(PutItemInput(tableName: "Things", item: ["pk": "new"]))
            #expect(try await readStream(db, arn).map(\.record.dynamodb.keys) == [["pk": "new"]])
        }
    }

    @Test func listStreamsPages() async throws {
        try await withStreamDatabase { db, _ in
            for name in ["Aaa", "Bbb", "Ccc"] { try await createStreamTable(db, name) }
            let first = try await db.listStreams(ListStreamsInput(limit: 2))
            #expect(first.streams.map(\.tableName) == ["Aaa", "Bbb"])
            let start = try #require(first.lastEvaluatedStreamArn)
            let next = try await db.listStreams(ListStreamsInput(limit: 2, exclusiveStartStreamArn: start))
            #expect(next.streams.map(\.tableName) == ["Ccc"])
            #expect(next.lastEvaluatedStreamArn == nil)
        }
    }
}

@Suite(.timeLimit(.minutes(5))) struct ShardRollOverTests {
    @Test func readersFollowParentsToChildrenWithoutGapOrDuplicate() async throws {
        try await withStreamDatabase(shardCount: 2, recordLimit: 7) { db, _ in
            let arn = try #require(try await createStreamTable(db, "Things").latestStreamArn)
            let changes = try db.streamChanges(tableName: "Things", from: .trimHorizon)
            for round in 0..<20 {
                for item in 0..<3 {
                    try await db.putItem(PutItemInput(tableName: "Things", item: ["pk": .s("item\(item)"), "round": .n(DecimalNumber(round))]))
                }
            }
            let shards = try await allShards(db, arn)
            #expect(shards.count > 4, "shards rolled over")
            for shard in shards where shard.sequenceNumberRange.endingSequenceNumber != nil {
                #expect(shards.contains { $0.parentShardId == shard.shardId }, "a closed shard has a child")
            }
            let viaGetRecords = try await readStream(db, arn, limit: 3)
            var viaSequence: [StreamChange] = []
            for try await change in changes {
                viaSequence.append(change)
                if viaSequence.count == 60 { break }
            }
            for records in [viaGetRecords.map(\.record), viaSequence.map(\.record)] {
                #expect(records.count == 60)
                for item in 0..<3 {
                    let rounds = records.filter { $0.dynamodb.keys == ["pk": .s("item\(item)")] }.map { $0.dynamodb.newImage?["round"] }
                    #expect(rounds == (0..<20).map { AttributeValue.n(DecimalNumber($0)) })
                }
            }
        }
    }

    @Test func shardsRollOverAfterTheirLifetime() async throws {
        try await withTemporaryDirectory { path in
            let clock = ManualWallClock(milliseconds: 1_750_000_000_000)
            let db = try Database(
                path: path + "/db", configuration: .init(clock: clock, streamShardCount: 1, streamShardLifetime: .seconds(3600)))
            let arn = try #require(try await createStreamTable(db, "Things").latestStreamArn)
            try await db.putItem(PutItemInput(tableName: "Things", item: ["pk": "a"]))
            clock.advance(bySeconds: 3601)
            try await db.putItem(PutItemInput(tableName: "Things", item: ["pk": "b"]))
            let shards = try await allShards(db, arn)
            #expect(shards.count == 2)
            #expect(shards[1].parentShardId == shards[0].shardId)
            let parentEnd = try #require(shards[0].sequenceNumberRange.endingSequenceNumber)
            #expect(UInt64(parentEnd)! < UInt64(shards[1].sequenceNumberRange.startingSequenceNumber)!)
            let parentIterator = try #require(try await db.getShardIterator(
                GetShardIteratorInput(streamArn: arn, shardId: shards[0].shardId, shardIteratorType: .trimHorizon)).shardIterator)
            let parent = try await db.getRecords(GetRecordsInput(shardIterator: parentIterator))
            #expect(parent.records.map(\.dynamodb.keys) == [["pk": "a"]])
            #expect(parent.nextShardIterator == nil, "a closed shard read to its end has no next iterator")
            // A one-shard reader of the closed parent ends after its last record; the child's reader goes on.
            var parentKeys: [Item] = []
            for try await change in try db.streamChanges(streamArn: arn, shardId: shards[0].shardId) {
                parentKeys.append(change.record.dynamodb.keys)
            }
            #expect(parentKeys == [["pk": "a"]])
            for try await change in try db.streamChanges(streamArn: arn, shardId: shards[1].shardId) {
                #expect(change.shardId == shards[1].shardId)
                #expect(change.record.dynamodb.keys == ["pk": "b"])
                break
            }
        }
    }
}

@Suite(.timeLimit(.minutes(5))) struct StreamChangesTests {
    @Test func readersWakeOnAppend() async throws {
        try await withStreamDatabase { db, _ in
            try await createStreamTable(db, "Things")
            try await db.putItem(PutItemInput(tableName: "Things", item: ["pk": "before"]))
            let changes = try db.streamChanges(tableName: "Things", from: .latest)
            let reader = Task {
                var keys: [Item] = []
                for try await change in changes {
                    keys.append(change.record.dynamodb.keys)
                    if keys.count == 3 { break }
                }
                return keys
            }
            for key in ["x", "y", "z"] {
                // The reader has read everything and waits: the append is what wakes it.
                try await waitUntil("the reader to wait") { db.streams.signal.waiterCount == 1 }
                try await db.putItem(PutItemInput(tableName: "Things", item: ["pk": .s(key)]))
            }
            #expect(try await reader.value == [["pk": "x"], ["pk": "y"], ["pk": "z"]])
        }
    }

    @Test func cancellingTheReaderEndsTheSequence() async throws {
        try await withStreamDatabase { db, _ in
            try await createStreamTable(db, "Things")
            let changes = try db.streamChanges(tableName: "Things", from: .latest)
            let reader = Task {
                var count = 0
                for try await _ in changes { count += 1 }
                return count
            }
            // Cancelled while it waits for a commit, not before it starts.
            try await waitUntil("the reader to wait") { db.streams.signal.waiterCount == 1 }
            reader.cancel()
            #expect(try await reader.value == 0)
        }
    }

    @Test func aDisabledStreamEndsAfterItsLastRecord() async throws {
        try await withStreamDatabase { db, _ in
            try await createStreamTable(db, "Things")
            for key in ["a", "b"] { try await db.putItem(PutItemInput(tableName: "Things", item: ["pk": .s(key)])) }
            try await db.updateTable(UpdateTableInput(tableName: "Things", streamSpecification: StreamSpecification(streamEnabled: false)))
            var seen: [Item] = []
            for try await change in try db.streamChanges(tableName: "Things") { seen.append(change.record.dynamodb.keys) }
            #expect(Set(seen) == [["pk": "a"], ["pk": "b"]])
        }
    }

    /// DESIGN.md, "Visibility": many writers on different items of one shard; a reader following the
    /// stream as it grows must never pass a record that commits later with a lower sequence number.
    @Test(arguments: Durability.allCases)
    func concurrentWritersToOneShardAreSeenWithoutGaps(durability: Durability) async throws {
        try await withStreamDatabase(shardCount: 1, durability: durability) { db, _ in
            let arn = try #require(try await createStreamTable(db, "Things", viewType: .keysOnly).latestStreamArn)
            let total = 8 * 150
            let changes = try db.streamChanges(tableName: "Things", from: .trimHorizon)
            let reader = Task {
                var sequences: [String] = []
                for try await change in changes {
                    sequences.append(change.record.dynamodb.sequenceNumber)
                    if sequences.count == total { break }
                }
                return sequences
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<8 {
                    group.addTask {
                        for index in 0..<150 {
                            try await db.putItem(PutItemInput(tableName: "Things", item: ["pk": .s("w\(writer)-\(index)")]))
                        }
                    }
                }
                try await group.waitForAll()
            }
            let live = try await reader.value
            let afterwards = try await readStream(db, arn).map(\.record.dynamodb.sequenceNumber)
            #expect(live == afterwards, "the live reader saw the stream as it is once every write has committed")
            #expect(live.count == total)
        }
    }
}

/// The issue's property: a random workload of puts, updates, deletes and batch writes — with no-op writes,
/// failing conditions and failing validations among them — from several tasks on shared items; the stream,
/// read back and replayed in shard order, gives exactly the final table, holds one record per effective
/// change, and nothing for a failed or no-op write.
@Suite(.timeLimit(.minutes(5))) struct StreamReplayPropertyTests {
    /// What one task saw: how many of its writes changed an item.
    private struct Outcome: Sendable {
        var effective = 0
    }

    @Test(arguments: 0..<6)
    func streamReplaysToTheTable(seed: UInt64) async throws {
        try await withStreamDatabase(shardCount: 3, recordLimit: 15) { db, _ in
            let arn = try #require(try await createStreamTable(db, "Replay").latestStreamArn)
            let outcomes = try await withThrowingTaskGroup(of: Outcome.self) { group in
                for task in 0..<4 {
                    group.addTask { try await Self.workload(db, task: task, seed: seed &* 31 &+ UInt64(task)) }
                }
                return try await group.reduce(into: [Outcome]()) { $0.append($1) }
            }
            let expected = outcomes.reduce(0) { $0 + $1.effective }
            let records = try await readStream(db, arn)
            #expect(records.count == expected, "one record per effective change")

            var replayed: [Item: Item] = [:]
            for (_, record) in records {
                let keys = record.dynamodb.keys
                #expect(record.dynamodb.oldImage == replayed[keys], "each record starts where the item's previous one ended")
                #expect(record.dynamodb.oldImage != record.dynamodb.newImage, "no record for a write that changed nothing")
                switch record.eventName {
                case .insert: #expect(record.dynamodb.oldImage == nil)
                case .modify: #expect(record.dynamodb.oldImage != nil && record.dynamodb.newImage != nil)
                case .remove: #expect(record.dynamodb.newImage == nil)
                }
                replayed[keys] = record.dynamodb.newImage
            }
            let table = try await db.scan(ScanInput(tableName: "Replay")).items ?? []
            #expect(Set(replayed.values) == Set(table))
            #expect(replayed.values.count == table.count)
        }
    }

    private static let sharedKeys = (0..<5).map { "shared\($0)" }

    private static func value(_ random: inout SplitMix64) -> AttributeValue {
        .n(DecimalNumber(Int.random(in: 0..<3, using: &random)))
    }

    /// Runs `body`: true if it succeeded, false if it failed with error type `expected` (a failing
    /// condition or validation is an outcome of the workload, not an error of the test).
    private static func attempt(failingWith expected: String, _ body: () async throws -> Void) async throws -> Bool {
        do {
            try await body()
            return true
        } catch let error as EddyError where error.errorType == expected {
            return false
        }
    }

    /// Random writes; shared items report their old and new state through return values, the task's own
    /// items (written by batches) are tracked locally.
    private static func workload(_ db: Database, task: Int, seed: UInt64) async throws -> Outcome {
        var random = SplitMix64(seed: seed)
        var outcome = Outcome()
        var own: [String: Item] = [:]
        for _ in 0..<60 {
            let key = sharedKeys.randomElement(using: &random)!
            let v = value(&random)
            switch Int.random(in: 0..<7, using: &random) {
            case 0:
                let item: Item = ["pk": .s(key), "v": v]
                let old = try await db.putItem(PutItemInput(tableName: "Replay", item: item, returnValues: .allOld)).attributes
                if old != item { outcome.effective += 1 }
            case 1:
                let put = PutItemInput(
                    tableName: "Replay", item: ["pk": .s(key), "v": v], conditionExpression: "attribute_not_exists(pk)")
                if try await attempt(failingWith: "ConditionalCheckFailedException", { try await db.putItem(put) }) {
                    outcome.effective += 1
                }
            case 2:
                let old = try await db.deleteItem(DeleteItemInput(tableName: "Replay", key: ["pk": .s(key)], returnValues: .allOld)).attributes
                if old != nil { outcome.effective += 1 }
            case 3:
                // Deletes only when `v` has the value drawn; an absent item fails the condition too.
                let delete = DeleteItemInput(
                    tableName: "Replay", key: ["pk": .s(key)], conditionExpression: "v = :v", expressionAttributeValues: [":v": v])
                if try await attempt(failingWith: "ConditionalCheckFailedException", { try await db.deleteItem(delete) }) {
                    outcome.effective += 1
                }
            case 4:
                let old = try await db.updateItem(UpdateItemInput(
                    tableName: "Replay", key: ["pk": .s(key)], returnValues: .allOld, updateExpression: "SET v = :v",
                    expressionAttributeValues: [":v": v])).attributes
                if old?["v"] != v { outcome.effective += 1 }
            case 5:
                // Fails validation when the item has no `v`; the item must then be left as it was.
                let update = UpdateItemInput(
                    tableName: "Replay", key: ["pk": .s(key)], updateExpression: "SET v = v + :one",
                    expressionAttributeValues: [":one": 1])
                if try await attempt(failingWith: "ValidationException", { try await db.updateItem(update) }) {
                    outcome.effective += 1
                }
            default:
                var requests: [WriteRequest] = []
                for index in 0..<3 {
                    let ownKey = "task\(task)-\(index)"
                    if Bool.random(using: &random) {
                        let item: Item = ["pk": .s(ownKey), "v": value(&random)]
                        if own[ownKey] != item { outcome.effective += 1 }
                        own[ownKey] = item
                        requests.append(WriteRequest(putRequest: PutRequest(item: item)))
                    } else {
                        if own[ownKey] != nil { outcome.effective += 1 }
                        own[ownKey] = nil
                        requests.append(WriteRequest(deleteRequest: DeleteRequest(key: ["pk": .s(ownKey)])))
                    }
                }
                try await db.batchWriteItem(BatchWriteItemInput(requestItems: ["Replay": requests]))
            }
        }
        return outcome
    }
}
