import Eddy
import Testing

@testable import EddyServer

/// One of the tables the fuzzed requests aim at.
struct FuzzTable: Sendable {
    var name: String
    /// Whether the key has a sort key `sk` (a number) besides the partition key `pk` (a string).
    var hasSortKey: Bool
    var indexes: [FuzzIndex]
}

/// A secondary index of a data table. Its key attributes are among ``FuzzFixture/indexKeyTypes``.
struct FuzzIndex: Sendable {
    var name: String
    var isGlobal: Bool
    var partitionKey: String
    var sortKey: String?
    /// `ALL`, `KEYS_ONLY` or `INCLUDE`.
    var projectionType: String
    /// With `INCLUDE`, the other attributes projected.
    var nonKeyAttributes: [String] = []

    /// Whether a Query or Scan of the index may ask for every attribute: the index projects them all, or it
    /// is local and the rest is read from the table.
    var readsAllAttributes: Bool { projectionType == "ALL" || !isGlobal }

    /// The index as CreateTable's `GlobalSecondaryIndexes` or `LocalSecondaryIndexes` name it.
    var definition: FuzzJSON {
        var projection = [member("ProjectionType", .string(projectionType))]
        if !nonKeyAttributes.isEmpty { projection.append(member("NonKeyAttributes", .array(nonKeyAttributes.map(FuzzJSON.string)))) }
        var keySchema: [FuzzJSON] = [.object(["AttributeName": .string(partitionKey), "KeyType": "HASH"])]
        if let sortKey { keySchema.append(.object(["AttributeName": .string(sortKey), "KeyType": "RANGE"])) }
        return .object(["IndexName": .string(name), "KeySchema": .array(keySchema), "Projection": .object(projection)])
    }

    /// The index's key attributes, partition key first.
    var keyAttributes: [String] { [partitionKey] + (sortKey.map { [$0] } ?? []) }
}

/// A shard of the range table's stream, as the fixture found it after loading.
struct FuzzShard: Sendable {
    var id: String
    var sequenceNumbers: [String]
    /// A `TRIM_HORIZON` iterator, valid for the 15 minutes a fuzz run has.
    var iterator: String
}

/// The data set the fuzzed requests run against: a table keyed by `pk` with a global secondary index, and a
/// table keyed by `pk` and `sk` with a global and a local secondary index and a `NEW_AND_OLD_IMAGES` stream,
/// each holding ``itemsPerTable`` items of every attribute type, most of them with entries in the indexes.
struct FuzzFixture: Sendable {
    static let hashTable = FuzzTable(name: "Fuzz_Hash", hasSortKey: false, indexes: [
        FuzzIndex(name: "ByGroup", isGlobal: true, partitionKey: "gpk", sortKey: "gsk", projectionType: "INCLUDE", nonKeyAttributes: ["name", "age"]),
    ])
    static let rangeTable = FuzzTable(name: "Fuzz_Range", hasSortKey: true, indexes: [
        FuzzIndex(name: "ByGroup", isGlobal: true, partitionKey: "gpk", sortKey: "gsk", projectionType: "ALL"),
        FuzzIndex(name: "ByLabel", isGlobal: false, partitionKey: "pk", sortKey: "lsk", projectionType: "KEYS_ONLY"),
    ])
    static let dataTables = [hashTable, rangeTable]
    /// A table name that never exists: where table-level writes aim when they must not change anything.
    static let absentTableName = "Fuzz_Absent"
    /// The tables that requests allowed to succeed create, change and delete.
    static let poolTableNames = (0..<3).map { "Fuzz_Pool_\($0)" }
    static let itemsPerTable = 25
    /// The attributes an item may have besides its key and its index keys.
    static let attributeNames = ["name", "age", "tags", "profile", "history", "flags", "nothing", "visits"]
    /// The index key attributes of the data tables, with their types.
    static let indexKeyTypes: KeyValuePairs<String, String> = ["gpk": "S", "gsk": "N", "lsk": "S"]

    /// A fixture not loaded yet.
    static let unloaded = FuzzFixture(streamArn: "", shards: [])

    var streamArn: String
    var shards: [FuzzShard]

    /// Creates the two tables and their items through `server`, with items from `fuzzer`, and reads back
    /// the stream's shards.
    static func load(into server: EddyServer, using fuzzer: inout Fuzzer) async throws -> FuzzFixture {
        for table in dataTables {
            try await send(server, .createTable, createTableRequest(table))
        }
        for table in dataTables {
            for index in 0..<itemsPerTable {
                try await send(server, .putItem, .object(["TableName": .string(table.name), "Item": fuzzer.item(table, index)]))
            }
        }
        return try await readStream(of: server.database)
    }

    /// The CreateTable request of a data table: on demand, with its indexes, and a stream for the range table.
    private static func createTableRequest(_ table: FuzzTable) -> FuzzJSON {
        var keys: [(String, String)] = [("pk", "S")]
        if table.hasSortKey { keys.append(("sk", "N")) }
        let indexKeys = Set(table.indexes.flatMap(\.keyAttributes))
        let definitions = keys + indexKeyTypes.filter { indexKeys.contains($0.key) }.map { ($0.key, $0.value) }
        var members = [
            member("TableName", .string(table.name)),
            member("KeySchema", .array(keys.enumerated().map { position, key in
                .object(["AttributeName": .string(key.0), "KeyType": position == 0 ? "HASH" : "RANGE"])
            })),
            member("AttributeDefinitions", .array(definitions.map { .object(["AttributeName": .string($0.0), "AttributeType": .string($0.1)]) })),
            member("BillingMode", "PAY_PER_REQUEST"),
        ]
        let globals = table.indexes.filter(\.isGlobal).map(\.definition)
        let locals = table.indexes.filter { !$0.isGlobal }.map(\.definition)
        if !globals.isEmpty { members.append(member("GlobalSecondaryIndexes", .array(globals))) }
        if !locals.isEmpty { members.append(member("LocalSecondaryIndexes", .array(locals))) }
        if table.hasSortKey {
            members.append(member("StreamSpecification", .object(["StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"])))
        }
        return .object(members)
    }

    /// Sends a request that must succeed.
    private static func send(_ server: EddyServer, _ operation: FuzzOperation, _ body: FuzzJSON) async throws {
        let result = await server.handle(target: operation.target, body: body.bytes)
        if case .failure(let error) = result {
            Issue.record("Loading the fixture: \(operation.rawValue) failed with \(error.type): \(error.message)")
            throw error
        }
    }

    /// The range table's stream, its shards and the sequence numbers in each.
    private static func readStream(of database: Database) async throws -> FuzzFixture {
        let streamArn = try #require(try await database.describeTable(tableName: rangeTable.name).latestStreamArn)
        var shards: [FuzzShard] = []
        for shard in try await DatabaseSnapshot.shards(of: streamArn, in: database) {
            let iterator = try #require(
                try await database.getShardIterator(
                    GetShardIteratorInput(streamArn: streamArn, shardId: shard.shardId, shardIteratorType: .trimHorizon)
                ).shardIterator)
            let records = try await DatabaseSnapshot.records(of: streamArn, shardId: shard.shardId, in: database)
            shards.append(FuzzShard(id: shard.shardId, sequenceNumbers: records.map(\.dynamodb.sequenceNumber), iterator: iterator))
        }
        #expect(shards.map(\.sequenceNumbers.count).reduce(0, +) == itemsPerTable)
        return FuzzFixture(streamArn: streamArn, shards: shards)
    }
}

/// Everything a request could change, read through the database's public API: every table's key schema,
/// settings, indexes, Time to Live and items (a Scan over all pages), every readable index's entries (a Scan
/// of the index), and the records of every stream, or of each table's latest stream, in every shard.
struct DatabaseSnapshot: Equatable {
    /// Which streams a snapshot reads, and how.
    enum Streams {
        /// Every stream, those of deleted tables included (they are kept for a day), from its trim horizon.
        case all
        /// Each table's latest stream: the only ones a request writes to, far fewer to read when many
        /// tables have come and gone. A shard's records that the `since` snapshot holds are taken from it,
        /// and only the newer ones read: a stream's records are only ever appended (and expire after a day).
        case latest(since: DatabaseSnapshot?)
    }

    struct Table: Equatable {
        var keySchema: [KeySchemaElement]
        var attributeDefinitions: [AttributeDefinition]
        var billingMode: BillingMode
        var provisionedThroughput: ProvisionedThroughputDescription
        var tableClass: TableClass
        var streamSpecification: StreamSpecification?
        var latestStreamArn: String?
        var deletionProtectionEnabled: Bool
        var globalSecondaryIndexes: [GlobalSecondaryIndexDescription]?
        var localSecondaryIndexes: [LocalSecondaryIndexDescription]?
        var timeToLive: TimeToLiveDescription
        var tags: [Eddy.Tag]
        var items: [Item]
        /// Index name to the index's entries, for every index that can be read (not one being created).
        var indexEntries: [String: [Item]]
    }

    var tables: [String: Table]
    /// Stream ARN, then shard id, to the shard's records.
    var streams: [String: [String: [StreamRecord]]]

    /// The number of items over all tables.
    var itemCount: Int { tables.values.map(\.items.count).reduce(0, +) }

    /// The number of stream records over all streams.
    var streamRecordCount: Int { streams.values.flatMap(\.values).map(\.count).reduce(0, +) }

    /// Whether a global secondary index is being created: its backfill runs in the background, so the
    /// database may change while no request does.
    var isBackfilling: Bool {
        tables.values.contains { table in table.globalSecondaryIndexes?.contains { $0.indexStatus == .creating } ?? false }
    }

    /// The snapshot of `database` now, with the records of `streams`.
    static func take(_ database: Database, streams scope: Streams = .all) async throws -> DatabaseSnapshot {
        var tables: [String: Table] = [:]
        for name in try await tableNames(database) {
            let description = try await database.describeTable(tableName: name)
            let globals = description.globalSecondaryIndexes ?? []
            var indexEntries: [String: [Item]] = [:]
            for index in globals where index.indexStatus == .active {
                // A global index cannot be read consistently.
                indexEntries[index.indexName] = try await items(of: name, index: index.indexName, consistentRead: false, in: database)
            }
            for index in description.localSecondaryIndexes ?? [] {
                indexEntries[index.indexName] = try await items(of: name, index: index.indexName, in: database)
            }
            tables[name] = Table(
                keySchema: description.keySchema, attributeDefinitions: description.attributeDefinitions,
                billingMode: description.billingModeSummary.billingMode, provisionedThroughput: description.provisionedThroughput,
                tableClass: description.tableClassSummary.tableClass, streamSpecification: description.streamSpecification,
                latestStreamArn: description.latestStreamArn, deletionProtectionEnabled: description.deletionProtectionEnabled,
                globalSecondaryIndexes: description.globalSecondaryIndexes, localSecondaryIndexes: description.localSecondaryIndexes,
                timeToLive: try await database.describeTimeToLive(DescribeTimeToLiveInput(tableName: name)).timeToLiveDescription,
                tags: try await tags(of: description.tableArn, in: database),
                items: try await items(of: name, in: database), indexEntries: indexEntries)
        }
        var streams: [String: [String: [StreamRecord]]] = [:]
        let (arns, since): ([String], DatabaseSnapshot?) = switch scope {
        case .all: (try await streamArns(database), nil)
        case .latest(let since): (tables.values.compactMap(\.latestStreamArn), since)
        }
        for arn in arns {
            for shard in try await shards(of: arn, in: database) {
                let known = since?.streams[arn]?[shard.shardId] ?? []
                let newer = try await records(of: arn, shardId: shard.shardId, after: known.last?.dynamodb.sequenceNumber, in: database)
                streams[arn, default: [:]][shard.shardId] = known + newer
            }
        }
        return DatabaseSnapshot(tables: tables, streams: streams)
    }

    /// The snapshot of `database`, with the records of `streams`, once no index is being created, so that
    /// it changes only by requests.
    ///
    /// - Throws: if an index is still being created after ``backfillWaitMax``.
    static func settled(_ database: Database, streams: Streams) async throws -> DatabaseSnapshot {
        let deadline = ContinuousClock.now + backfillWaitMax
        var snapshot = try await take(database, streams: streams)
        while snapshot.isBackfilling, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
            snapshot = try await take(database, streams: streams)
        }
        try #require(!snapshot.isBackfilling, "An index is still being created after \(backfillWaitMax)")
        return snapshot
    }

    /// How long an index added to a pool table may take to be created: the pool tables hold few items, but
    /// the whole suite on two busy cores stalls up to about 80 s, so the other suites' wait bound.
    static let backfillWaitMax = Duration.seconds(240)

    private static func tableNames(_ database: Database) async throws -> [String] {
        var names: [String] = []
        var page = try await database.listTables()
        names += page.tableNames
        while let last = page.lastEvaluatedTableName {
            page = try await database.listTables(ListTablesInput(exclusiveStartTableName: last))
            names += page.tableNames
        }
        return names
    }

    /// The tags of the table `arn` names, over all pages.
    private static func tags(of arn: String, in database: Database) async throws -> [Eddy.Tag] {
        var page = try await database.listTagsOfResource(ListTagsOfResourceInput(resourceArn: arn))
        var tags = page.tags
        while let token = page.nextToken {
            page = try await database.listTagsOfResource(ListTagsOfResourceInput(resourceArn: arn, nextToken: token))
            tags += page.tags
        }
        return tags
    }

    /// Every item of `table`, or with `index` every entry of that index of it, over all pages.
    private static func items(
        of table: String, index: String? = nil, consistentRead: Bool = true, in database: Database
    ) async throws -> [Item] {
        var items: [Item] = []
        var start: Item?
        repeat {
            let page = try await database.scan(
                ScanInput(tableName: table, indexName: index, exclusiveStartKey: start, consistentRead: consistentRead))
            items += page.items ?? []
            start = page.lastEvaluatedKey
        } while start != nil
        return items
    }

    private static func streamArns(_ database: Database) async throws -> [String] {
        var arns: [String] = []
        var page = try await database.listStreams()
        arns += page.streams.map(\.streamArn)
        while let last = page.lastEvaluatedStreamArn {
            page = try await database.listStreams(ListStreamsInput(exclusiveStartStreamArn: last))
            arns += page.streams.map(\.streamArn)
        }
        return arns
    }

    /// Every shard of the stream `arn`, over all pages.
    static func shards(of arn: String, in database: Database) async throws -> [Shard] {
        var shards: [Shard] = []
        var page = try await database.describeStream(DescribeStreamInput(streamArn: arn)).streamDescription
        shards += page.shards
        while let last = page.lastEvaluatedShardId {
            page = try await database.describeStream(DescribeStreamInput(streamArn: arn, exclusiveStartShardId: last)).streamDescription
            shards += page.shards
        }
        return shards
    }

    /// Every record of a shard from its trim horizon, or after the record with sequence number `after`, to
    /// the newest.
    static func records(of arn: String, shardId: String, after: String? = nil, in database: Database) async throws -> [StreamRecord] {
        var records: [StreamRecord] = []
        let start = after.map { GetShardIteratorInput(streamArn: arn, shardId: shardId, shardIteratorType: .afterSequenceNumber, sequenceNumber: $0) }
            ?? GetShardIteratorInput(streamArn: arn, shardId: shardId, shardIteratorType: .trimHorizon)
        var iterator = try await database.getShardIterator(start).shardIterator
        while let current = iterator {
            let page = try await database.getRecords(GetRecordsInput(shardIterator: current))
            if page.records.isEmpty { break }
            records += page.records
            iterator = page.nextShardIterator
        }
        return records
    }
}
