import ArgumentParser
import Eddy
import Foundation

/// `eddy stream …`: read tables' change streams.
struct Stream: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read tables' change streams.",
        subcommands: [Tail.self, List.self, Describe.self]
    )

    struct Tail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a table's stream records as JSON lines, as they arrive.",
            discussion: """
                Reads the table's latest stream, every shard, parents before children. Each line is one record in \
                DynamoDB Streams' GetRecords shape. A data directory is open in one process at a time: tail it \
                while nothing else has it open, or from the process that writes, or tail the server that has it \
                open with --endpoint-url (which polls GetRecords every quarter of a second when nothing is new).
                """)
        @OptionGroup var target: TargetOptions
        @Argument(help: "The table name.") var tableName: String
        @Option(help: "Where to start: trim-horizon (the oldest record kept) or latest (new records only).")
        var from: StartingPoint = .trimHorizon
        @Flag(help: "Print the records committed so far and stop, instead of waiting for more.")
        var noFollow = false

        enum StartingPoint: String, ExpressibleByArgument {
            case trimHorizon = "trim-horizon"
            case latest
        }

        /// How long following a server waits before it asks again for records, when none came.
        private static let pollInterval = Duration.milliseconds(250)

        func run() async throws {
            let connection = try target.connect()
            try await runOperation("GetRecords") {
                try await tail(connection)
            }
        }

        private func tail(_ connection: Connection) async throws {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            func printLine(_ record: StreamRecord) throws {
                var line = try encoder.encode(record)
                line.append(UInt8(ascii: "\n"))
                FileHandle.standardOutput.write(line)
            }
            if noFollow {
                for record in try await recordsSoFar(connection) { try printLine(record) }
                return
            }
            switch connection {
            case .database(let db):
                for try await change in try db.streamChanges(tableName: tableName, from: from == .latest ? .latest : .trimHorizon) {
                    try printLine(change.record)
                }
            case .server:
                try await follow(connection, printLine)
            }
        }

        /// Every record committed so far, read with GetRecords shard by shard, parents before children.
        private func recordsSoFar(_ connection: Connection) async throws -> [StreamRecord] {
            guard from == .trimHorizon, let arn = try await connection.describeTable(tableName).latestStreamArn else { return [] }
            var records: [StreamRecord] = []
            for shard in try await connection.shards(of: arn) {
                var iterator = try await connection.shardIterator(arn, shard.shardId, .trimHorizon)
                while let current = iterator {
                    let page = try await connection.records(current)
                    records += page.records
                    iterator = page.records.isEmpty ? nil : page.nextShardIterator
                }
            }
            return records.sorted { $0.dynamodb.sequenceNumber < $1.dynamodb.sequenceNumber }
        }

        /// Follows the stream through a server's GetRecords: every shard, a child once its parent is read to
        /// its end (or gone); each open shard is asked again for records, and the stream for new shards, every
        /// ``pollInterval`` while nothing is new.
        private func follow(_ connection: Connection, _ printLine: (StreamRecord) throws -> Void) async throws {
            guard let arn = try await connection.describeTable(tableName).latestStreamArn else {
                throw EddyError.validation("Table: \(tableName) has no stream")
            }
            var iterators: [String: String] = [:]
            var finished: Set<String> = []
            if from == .latest {
                // New records only: closed shards have none, open ones start at their end.
                for shard in try await connection.shards(of: arn) {
                    if shard.sequenceNumberRange.endingSequenceNumber == nil,
                        let iterator = try await connection.shardIterator(arn, shard.shardId, .latest)
                    {
                        iterators[shard.shardId] = iterator
                    } else {
                        finished.insert(shard.shardId)
                    }
                }
            }
            while true {
                let shards = try await connection.shards(of: arn)
                let known = Set(shards.map(\.shardId))
                finished.formIntersection(known)
                for shard in shards where iterators[shard.shardId] == nil && !finished.contains(shard.shardId) {
                    if let parent = shard.parentShardId, known.contains(parent), !finished.contains(parent) { continue }
                    if let iterator = try await connection.shardIterator(arn, shard.shardId, .trimHorizon) {
                        iterators[shard.shardId] = iterator
                    } else {
                        finished.insert(shard.shardId)
                    }
                }
                var moved = false
                for (shardId, iterator) in iterators.sorted(by: { $0.key < $1.key }) {
                    let page = try await connection.records(iterator)
                    for record in page.records { try printLine(record) }
                    moved = moved || !page.records.isEmpty
                    if let next = page.nextShardIterator {
                        iterators[shardId] = next
                    } else {
                        iterators[shardId] = nil
                        finished.insert(shardId)
                        moved = true
                    }
                }
                if !moved { try await Task.sleep(for: Self.pollInterval) }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List streams (ListStreams).")
        @OptionGroup var target: TargetOptions
        @Option(help: "Only the streams of this table.") var tableName: String?

        func run() async throws {
            let connection = try target.connect()
            try await runOperation("ListStreams") {
                let input = ListStreamsInput(tableName: tableName)
                try printJSON(try await connection.call(.streams, "ListStreams", input) { try await $0.listStreams(input) })
            }
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Describe a stream and its shards (DescribeStream).")
        @OptionGroup var target: TargetOptions
        @Argument(help: "The stream ARN.") var streamArn: String

        func run() async throws {
            let connection = try target.connect()
            try await runOperation("DescribeStream") {
                let input = DescribeStreamInput(streamArn: streamArn)
                try printJSON(try await connection.call(.streams, "DescribeStream", input) { try await $0.describeStream(input) })
            }
        }
    }
}

extension Connection {
    /// DescribeTable's table.
    func describeTable(_ name: String) async throws -> TableDescription {
        let output = try await call(.dynamoDB, "DescribeTable", ["TableName": name]) { ["Table": try await $0.describeTable(tableName: name)] }
        guard let table = output["Table"] else { throw ServerError(type: "InternalServerError", message: "DescribeTable answered no Table") }
        return table
    }

    /// Every shard of stream `arn`, all of DescribeStream's pages, in its order (parents before children).
    func shards(of arn: String) async throws -> [Shard] {
        var shards: [Shard] = []
        var start: String?
        repeat {
            let input = DescribeStreamInput(streamArn: arn, exclusiveStartShardId: start)
            let page = try await call(.streams, "DescribeStream", input) { try await $0.describeStream(input) }.streamDescription
            shards += page.shards
            start = page.lastEvaluatedShardId
        } while start != nil
        return shards
    }

    /// GetShardIterator's iterator.
    func shardIterator(_ arn: String, _ shardId: String, _ type: ShardIteratorType) async throws -> String? {
        let input = GetShardIteratorInput(streamArn: arn, shardId: shardId, shardIteratorType: type)
        return try await call(.streams, "GetShardIterator", input) { try await $0.getShardIterator(input) }.shardIterator
    }

    /// GetRecords' page.
    func records(_ iterator: String) async throws -> GetRecordsOutput {
        let input = GetRecordsInput(shardIterator: iterator)
        return try await call(.streams, "GetRecords", input) { try await $0.getRecords(input) }
    }
}
