import Eddy
import Testing

@testable import EddyServer

/// One of the tables the fuzzed requests aim at.
struct FuzzTable: Sendable {
    var name: String
    /// Whether the key has a sort key `sk` (a number) besides the partition key `pk` (a string).
    var hasSortKey: Bool
}

/// A shard of the range table's stream, as the fixture found it after loading.
struct FuzzShard: Sendable {
    var id: String
    var sequenceNumbers: [String]
    /// A `TRIM_HORIZON` iterator, valid for the 15 minutes a fuzz run has.
    var iterator: String
}

/// The data set the fuzzed requests run against: a table keyed by `pk`, and a table keyed by `pk` and `sk`
/// with a `NEW_AND_OLD_IMAGES` stream, each holding ``itemsPerTable`` items of every attribute type.
struct FuzzFixture: Sendable {
    static let hashTable = FuzzTable(name: "Fuzz_Hash", hasSortKey: false)
    static let rangeTable = FuzzTable(name: "Fuzz_Range", hasSortKey: true)
    /// A table name that never exists: where table-level writes aim when they must not change anything.
    static let absentTableName = "Fuzz_Absent"
    /// The tables that requests allowed to succeed create, change and delete.
    static let poolTableNames = (0..<3).map { "Fuzz_Pool_\($0)" }
    static let itemsPerTable = 25
    /// The attributes an item may have besides its key.
    static let attributeNames = ["name", "age", "tags", "profile", "history", "flags", "nothing", "visits"]

    /// A fixture not loaded yet.
    static let unloaded = FuzzFixture(streamArn: "", shards: [])

    var streamArn: String
    var shards: [FuzzShard]

    /// Creates the two tables and their items through `server`, with items from `fuzzer`, and reads back
    /// the stream's shards.
    static func load(into server: EddyServer, using fuzzer: inout Fuzzer) async throws -> FuzzFixture {
        try await send(server, .createTable, .object([
            "TableName": .string(hashTable.name),
            "KeySchema": .array([.object(["AttributeName": "pk", "KeyType": "HASH"])]),
            "AttributeDefinitions": .array([.object(["AttributeName": "pk", "AttributeType": "S"])]),
            "BillingMode": "PAY_PER_REQUEST",
        ]))
        try await send(server, .createTable, .object([
            "TableName": .string(rangeTable.name),
            "KeySchema": .array([.object(["AttributeName": "pk", "KeyType": "HASH"]), .object(["AttributeName": "sk", "KeyType": "RANGE"])]),
            "AttributeDefinitions": .array([.object(["AttributeName": "pk", "AttributeType": "S"]), .object(["AttributeName": "sk", "AttributeType": "N"])]),
            "BillingMode": "PAY_PER_REQUEST",
            "StreamSpecification": .object(["StreamEnabled": true, "StreamViewType": "NEW_AND_OLD_IMAGES"]),
        ]))
        for table in [hashTable, rangeTable] {
            for index in 0..<itemsPerTable {
                try await send(server, .putItem, .object(["TableName": .string(table.name), "Item": fuzzer.item(table, index)]))
            }
        }
        return try await readStream(of: server.database)
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
/// settings and items (a Scan over all pages), and every stream's records in every shard.
struct DatabaseSnapshot: Equatable {
    struct Table: Equatable {
        var keySchema: [KeySchemaElement]
        var attributeDefinitions: [AttributeDefinition]
        var billingMode: BillingMode
        var streamSpecification: StreamSpecification?
        var latestStreamArn: String?
        var deletionProtectionEnabled: Bool
        var items: [Item]
    }

    var tables: [String: Table]
    /// Stream ARN, then shard id, to the shard's records.
    var streams: [String: [String: [StreamRecord]]]

    /// The number of items over all tables.
    var itemCount: Int { tables.values.map(\.items.count).reduce(0, +) }

    /// The number of stream records over all streams.
    var streamRecordCount: Int { streams.values.flatMap(\.values).map(\.count).reduce(0, +) }

    /// The snapshot of `database` now.
    static func take(_ database: Database) async throws -> DatabaseSnapshot {
        var tables: [String: Table] = [:]
        for name in try await tableNames(database) {
            let description = try await database.describeTable(tableName: name)
            tables[name] = Table(
                keySchema: description.keySchema, attributeDefinitions: description.attributeDefinitions,
                billingMode: description.billingModeSummary.billingMode, streamSpecification: description.streamSpecification,
                latestStreamArn: description.latestStreamArn, deletionProtectionEnabled: description.deletionProtectionEnabled,
                items: try await items(of: name, in: database))
        }
        var streams: [String: [String: [StreamRecord]]] = [:]
        for arn in try await streamArns(database) {
            for shard in try await shards(of: arn, in: database) {
                streams[arn, default: [:]][shard.shardId] = try await records(of: arn, shardId: shard.shardId, in: database)
            }
        }
        return DatabaseSnapshot(tables: tables, streams: streams)
    }

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

    private static func items(of table: String, in database: Database) async throws -> [Item] {
        var items: [Item] = []
        var start: Item?
        repeat {
            let page = try await database.scan(ScanInput(tableName: table, exclusiveStartKey: start, consistentRead: true))
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

    /// Every record of a shard, from its trim horizon to the newest.
    static func records(of arn: String, shardId: String, in database: Database) async throws -> [StreamRecord] {
        var records: [StreamRecord] = []
        var iterator = try await database.getShardIterator(
            GetShardIteratorInput(streamArn: arn, shardId: shardId, shardIteratorType: .trimHorizon)
        ).shardIterator
        while let current = iterator {
            let page = try await database.getRecords(GetRecordsInput(shardIterator: current))
            if page.records.isEmpty { break }
            records += page.records
            iterator = page.nextShardIterator
        }
        return records
    }
}
