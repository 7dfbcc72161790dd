import ChildProcessSupport
import Testing

@testable import Eddy

// The lanes of ParallelizationFactor: a shard's progress is kept per lane, and after the factor changes the
// earlier lanes' positions still say which records are done (the ERRATA: the checkpoint never passes a record
// some lane has not finished, so exactly-once derivative tables stay exact).
@Suite(.timeLimit(.minutes(3))) struct ShardProgressTests {
    @Test func aShardWithoutProgressStartsEveryLaneAtTheInitialPosition() {
        let progress = ShardProgress(stored: [:], factor: 3, initial: 40)
        #expect(progress.positions == [40, 40, 40])
        #expect(progress.earlier.isEmpty)
        #expect(progress.differs(from: [:]))
    }

    @Test func storedLanesOfTheCurrentFactorAreKept() {
        let stored: [Int: [Int: UInt64]] = [2: [0: 10, 1: 25]]
        let progress = ShardProgress(stored: stored, factor: 2, initial: 0)
        #expect(progress.positions == [10, 25])
        #expect(progress.floor == 10)
        #expect(!progress.differs(from: stored))
        // A record is handled when it is below its own lane's position.
        for hash in UInt32(0)..<200 {
            #expect(progress.isHandled(15, hash: hash) == (ShardProgress.lane(of: hash, factor: 2) == 1))
        }
    }

    @Test func afterAFactorChangeRecordsDoneByTheOldLanesStayDone() {
        // Two lanes: lane 0 handled everything below 50, lane 1 everything below 20.
        let stored: [Int: [Int: UInt64]] = [2: [0: 50, 1: 20]]
        let progress = ShardProgress(stored: stored, factor: 3, initial: 0)
        // The new lanes start where every record below is done: 20.
        #expect(progress.positions == [20, 20, 20])
        #expect(progress.earlier[2] == [50, 20])
        #expect(progress.obsolete(stored: stored).isEmpty)
        for hash in UInt32(0)..<200 {
            let oldLane = ShardProgress.lane(of: hash, factor: 2)
            #expect(progress.isHandled(30, hash: hash) == (oldLane == 0))
            #expect(!progress.isHandled(60, hash: hash))
            #expect(progress.isHandled(19, hash: hash))
        }
    }

    @Test func anEarlierLayoutTheCurrentLanesHavePassedIsDropped() {
        let stored: [Int: [Int: UInt64]] = [2: [0: 50, 1: 20], 3: [0: 60, 1: 70, 2: 55]]
        let progress = ShardProgress(stored: stored, factor: 3, initial: 0)
        #expect(progress.positions == [60, 70, 55])
        #expect(progress.earlier.isEmpty)
        #expect(progress.obsolete(stored: stored) == [2])
    }

    @Test func aStaleLayoutOfTheCurrentFactorMovesUpToTheFloor() {
        // Factor 1 (from a LATEST registration, or an earlier run) reached 80; factor 2's lanes are older.
        let stored: [Int: [Int: UInt64]] = [1: [0: 80], 2: [0: 30, 1: 90]]
        let progress = ShardProgress(stored: stored, factor: 2, initial: 0)
        #expect(progress.positions == [80, 90])
        #expect(progress.differs(from: stored))
        #expect(progress.obsolete(stored: stored) == [1])
    }

    @Test func lanesSpreadPartitionsAndKeepEachInOneLane() {
        for factor in 1...10 {
            var used = Set<Int>()
            for hash in UInt32(0)..<1000 {
                let lane = ShardProgress.lane(of: hash &* 4, factor: factor)
                #expect(lane == ShardProgress.lane(of: hash &* 4, factor: factor))
                #expect((0..<factor).contains(lane))
                used.insert(lane)
            }
            // Hashes that all fell in one shard (multiples of the slot count) still use every lane.
            #expect(used.count == factor)
        }
    }

    /// A record read from a stream hashes its partition key straight from the stored keys: the same hash as
    /// the decoded key's (which `LostRecords` and every earlier layout used), for strings, numbers and binaries
    /// (zero bytes included, which the ordered encoding escapes), with and without a sort key.
    @Test(arguments: [ScalarAttributeType.s, .n, .b])
    func storedKeysHashAsTheirDecodedValue(_ type: ScalarAttributeType) async throws {
        let values: [AttributeValue] =
            switch type {
            case .s: ["a", "a\u{0}b", "\u{0}", "é 😀", String(repeating: "long", count: 100)].map(AttributeValue.s)
            case .n: ["0", "-1", "12.5", "1E+125", "-1E-130", "123456789012345678901234567890123456.78"].map { .n(try! DecimalNumber($0)) }
            case .b: [[0], [0, 0, 255], [1, 2, 3], Array(repeating: 0xFF, count: 40)].map(AttributeValue.b)
            }
        try await withStreamDatabase { db, _ in
            let table = try await db.createTable(
                CreateTableInput(
                    tableName: "Keys",
                    keySchema: [KeySchemaElement(attributeName: "id", keyType: .hash), KeySchemaElement(attributeName: "sk", keyType: .range)],
                    attributeDefinitions: [AttributeDefinition(attributeName: "id", attributeType: type), AttributeDefinition(attributeName: "sk", attributeType: .s)],
                    billingMode: .payPerRequest, streamSpecification: StreamSpecification(streamEnabled: true, streamViewType: .keysOnly)))
            for value in values {
                try await db.putItem(PutItemInput(tableName: "Keys", item: ["sk": "first", "id": value, "other": "x"]))
            }
            let records = try await readStream(db, try #require(table.latestStreamArn)).map(\.record)
            #expect(records.count == values.count)
            for record in records {
                #expect(record.dynamodb.encodedImages != nil)
                let stored = ShardProgress.partitionHash(of: record, partitionKey: "id")
                #expect(stored == ShardProgress.partitionHash(ofKey: record.dynamodb.keys["id"]))
                #expect(values.contains(try #require(record.dynamodb.keys["id"])))
                #expect(ShardProgress.partitionHash(of: record, partitionKey: "absent") == ShardProgress.partitionHash(ofKey: nil))
            }
        }
    }
}
