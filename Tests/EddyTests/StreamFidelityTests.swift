import Testing

@testable import Eddy

// DynamoDB Streams as the API reference describes it (issue 21, point 6): DescribeStream's ShardFilter
// (CHILD_SHARDS with a ShardId: the children of that shard), DescribeStream paging after a shard that has
// since expired, GetShardIterator at any sequence number within a shard's range, and UpdateTable's wording
// for disabling a stream the table does not have.

/// A table whose one-slot stream has three shards: the first two closed (each continued by the next), the
/// third open; one record each. Returns the stream ARN and the shards, oldest first.
private func withThreeShards(_ body: (Database, ManualWallClock, String, [Shard]) async throws -> Void) async throws {
    try await withTemporaryDirectory { path in
        let clock = ManualWallClock(milliseconds: 1_750_000_000_000)
        let db = try Database(
            path: path + "/db", configuration: .init(clock: clock, streamShardCount: 1, streamShardLifetime: .seconds(3600)))
        let arn = try #require(try await createStreamTable(db, "Things").latestStreamArn)
        for key in ["a", "b", "c"] {
            try await db.putItem(PutItemInput(tableName: "Things", item: ["pk": .s(key)]))
            if key != "c" { clock.advance(bySeconds: 3601) }
        }
        let shards = try await allShards(db, arn)
        try #require(shards.count == 3)
        try await body(db, clock, arn, shards)
    }
}

struct ShardFilterCase: CustomTestStringConvertible, Sendable {
    let label: String
    let filter: ShardFilter
    let message: String
    var testDescription: String { label }
}

private let badShardFilters: [ShardFilterCase] = [
    ShardFilterCase(
        label: "no ShardId", filter: ShardFilter(type: .childShards, shardId: nil),
        message: "1 validation error detected: Value null at 'shardFilter.shardId' failed to satisfy constraint: Member must not be null"),
    ShardFilterCase(
        label: "no Type", filter: ShardFilter(type: nil, shardId: "shardId-00000001750000000000-00000000"),
        message: "1 validation error detected: Value null at 'shardFilter.type' failed to satisfy constraint: Member must not be null"),
    ShardFilterCase(
        label: "a ShardId too short", filter: ShardFilter(type: .childShards, shardId: "shardId-1"),
        message: "1 validation error detected: Value 'shardId-1' at 'shardFilter.shardId' failed to satisfy constraint: Member must have length greater than or equal to 28"),
]

@Suite(.timeLimit(.minutes(5))) struct StreamFidelityTests {
    @Test func childShardsFilterDescribesTheShardsThatContinueAClosedShard() async throws {
        try await withThreeShards { db, _, arn, shards in
            for (parent, child) in zip(shards, shards.dropFirst()) {
                let described = try await db.describeStream(
                    DescribeStreamInput(streamArn: arn, shardFilter: ShardFilter(type: .childShards, shardId: parent.shardId)))
                #expect(described.streamDescription.shards == [child])
                #expect(described.streamDescription.shards.allSatisfy { $0.parentShardId == parent.shardId })
                #expect(described.streamDescription.lastEvaluatedShardId == nil)
            }
            let open = try await db.describeStream(
                DescribeStreamInput(streamArn: arn, shardFilter: ShardFilter(type: .childShards, shardId: shards[2].shardId)))
            #expect(open.streamDescription.shards.isEmpty, "an open shard has no children yet")
            #expect(open.streamDescription.streamStatus == .enabled)
        }
    }

    @Test(arguments: badShardFilters) func badShardFiltersAreRefused(_ testCase: ShardFilterCase) async throws {
        try await withThreeShards { db, _, arn, _ in
            await expectValidation(testCase.message) {
                _ = try await db.describeStream(DescribeStreamInput(streamArn: arn, shardFilter: testCase.filter))
            }
        }
    }

    @Test func childShardsOfAShardTheStreamDoesNotHaveAreNotFound() async throws {
        try await withThreeShards { db, _, arn, _ in
            let unknown = "shardId-00000000000000000001-000000ff"
            await expectEddyError(
                "ResourceNotFoundException", "Requested resource not found: Shard: \(unknown) in Stream: \(arn) not found"
            ) {
                _ = try await db.describeStream(
                    DescribeStreamInput(streamArn: arn, shardFilter: ShardFilter(type: .childShards, shardId: unknown)))
            }
        }
    }

    @Test func pagingGoesOnAfterAShardThatHasExpired() async throws {
        try await withThreeShards { db, clock, arn, shards in
            // The first shard closed an hour before the second: 24 hours after its closing only it has expired.
            clock.advance(bySeconds: 24 * 3600 - 1800)
            try await db.trimExpiredStreamRecords()
            let remaining = try await allShards(db, arn)
            #expect(remaining.map(\.shardId) == shards.dropFirst().map(\.shardId))
            let afterExpired = try await db.describeStream(
                DescribeStreamInput(streamArn: arn, limit: 1, exclusiveStartShardId: shards[0].shardId))
            #expect(afterExpired.streamDescription.shards.map(\.shardId) == [shards[1].shardId])
            #expect(afterExpired.streamDescription.lastEvaluatedShardId == shards[1].shardId)
            // A shard id that sorts before every shard starts at the first; one after every shard ends the paging.
            let first = try await db.describeStream(
                DescribeStreamInput(streamArn: arn, exclusiveStartShardId: "shardId-00000000000000000000-00000000"))
            #expect(first.streamDescription.shards.map(\.shardId) == remaining.map(\.shardId))
            let none = try await db.describeStream(
                DescribeStreamInput(streamArn: arn, exclusiveStartShardId: "shardId-99999999999999999999-ffffffff"))
            #expect(none.streamDescription.shards.isEmpty)
            #expect(none.streamDescription.lastEvaluatedShardId == nil)
        }
    }

    @Test func iteratorsStartAtAnySequenceNumberOfTheShardsRange() async throws {
        try await withThreeShards { db, _, arn, shards in
            let middle = shards[1]
            let start = try #require(UInt64(middle.sequenceNumberRange.startingSequenceNumber))
            let end = try #require(middle.sequenceNumberRange.endingSequenceNumber.flatMap { UInt64($0) })
            func iterator(_ type: ShardIteratorType, _ sequence: UInt64, shard: Shard) async throws -> String? {
                try await db.getShardIterator(
                    GetShardIteratorInput(
                        streamArn: arn, shardId: shard.shardId, shardIteratorType: type,
                        sequenceNumber: StreamNames.sequenceNumber(sequence))
                ).shardIterator
            }
            for sequence in Set([start, end, (start + end) / 2]) {
                let at = try #require(try await iterator(.atSequenceNumber, sequence, shard: middle))
                let records = try await db.getRecords(GetRecordsInput(shardIterator: at)).records
                #expect(records.allSatisfy { UInt64($0.dynamodb.sequenceNumber)! >= sequence })
                #expect(records.map(\.dynamodb.keys).allSatisfy { $0 == ["pk": "b"] })
            }
            let afterEnd = try #require(try await iterator(.afterSequenceNumber, end, shard: middle))
            let past = try await db.getRecords(GetRecordsInput(shardIterator: afterEnd))
            #expect(past.records.isEmpty)
            #expect(past.nextShardIterator == nil, "after the end of a closed shard there is nothing more")
            for outside in [start - 1, end + 1] {
                await expectValidation(
                    "Invalid SequenceNumber: \(StreamNames.sequenceNumber(outside)) is not in the range of shard \(middle.shardId)"
                ) {
                    _ = try await iterator(.atSequenceNumber, outside, shard: middle)
                }
            }
            // The open shard admits numbers up to its latest record.
            let open = shards[2]
            let latest = try await db.getRecords(GetRecordsInput(
                shardIterator: try #require(try await db.getShardIterator(
                    GetShardIteratorInput(streamArn: arn, shardId: open.shardId, shardIteratorType: .trimHorizon)).shardIterator)))
            let last = try #require(latest.records.last.flatMap { UInt64($0.dynamodb.sequenceNumber) })
            let atLast = try #require(try await iterator(.atSequenceNumber, last, shard: open))
            #expect(try await db.getRecords(GetRecordsInput(shardIterator: atLast)).records.map(\.dynamodb.keys) == [["pk": "c"]])
            await expectValidation {
                _ = try await iterator(.atSequenceNumber, last + 1, shard: open)
            }
        }
    }

    @Test func disablingAStreamTheTableDoesNotHaveIsRefusedInDynamoDBsWords() async throws {
        try await withStreamDatabase { db, _ in
            try await createTable(db, "Plain")
            await expectValidation("Table has no stream to disable: TableName: Plain") {
                try await db.updateTable(UpdateTableInput(tableName: "Plain", streamSpecification: StreamSpecification(streamEnabled: false)))
            }
            try await createStreamTable(db, "Streamed")
            try await db.updateTable(UpdateTableInput(tableName: "Streamed", streamSpecification: StreamSpecification(streamEnabled: false)))
            await expectValidation("Table has no stream to disable: TableName: Streamed") {
                try await db.updateTable(UpdateTableInput(tableName: "Streamed", streamSpecification: StreamSpecification(streamEnabled: false)))
            }
            let arn = try #require(try await db.describeTable(tableName: "Streamed").latestStreamArn)
            #expect(try await db.describeStream(DescribeStreamInput(streamArn: arn)).streamDescription.streamStatus == .disabled)
        }
    }
}
