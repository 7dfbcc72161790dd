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
                Reads the table's latest stream, every shard, parents before children. Each line is one record in
                DynamoDB Streams' GetRecords shape. A data directory is open in one process at a time: tail it
                while nothing else has it open, or from the process that writes.
                """)
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The table name.") var tableName: String
        @Option(help: "Where to start: trim-horizon (the oldest record kept) or latest (new records only).")
        var from: StartingPoint = .trimHorizon
        @Flag(help: "Print the records committed so far and stop, instead of waiting for more.")
        var noFollow = false

        enum StartingPoint: String, ExpressibleByArgument {
            case trimHorizon = "trim-horizon"
            case latest
        }

        func run() async throws {
            let db = try database.open()
            try await runOperation("GetRecords") {
                try await tail(db)
            }
        }

        private func tail(_ db: Database) async throws {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            func printLine(_ record: StreamRecord) throws {
                var line = try encoder.encode(record)
                line.append(UInt8(ascii: "\n"))
                FileHandle.standardOutput.write(line)
            }
            if noFollow {
                for record in try await recordsSoFar(db) { try printLine(record) }
                return
            }
            for try await change in try db.streamChanges(tableName: tableName, from: from == .latest ? .latest : .trimHorizon) {
                try printLine(change.record)
            }
        }

        /// Every record committed so far, read with GetRecords shard by shard, parents before children.
        private func recordsSoFar(_ db: Database) async throws -> [StreamRecord] {
            guard from == .trimHorizon, let arn = try await db.describeTable(tableName: tableName).latestStreamArn else { return [] }
            var shards: [Shard] = []
            var start: String?
            repeat {
                let page = try await db.describeStream(DescribeStreamInput(streamArn: arn, exclusiveStartShardId: start)).streamDescription
                shards += page.shards
                start = page.lastEvaluatedShardId
            } while start != nil
            var records: [StreamRecord] = []
            for shard in shards {
                var iterator = try await db.getShardIterator(
                    GetShardIteratorInput(streamArn: arn, shardId: shard.shardId, shardIteratorType: .trimHorizon)).shardIterator
                while let current = iterator {
                    let page = try await db.getRecords(GetRecordsInput(shardIterator: current))
                    records += page.records
                    iterator = page.records.isEmpty ? nil : page.nextShardIterator
                }
            }
            return records.sorted { $0.dynamodb.sequenceNumber < $1.dynamodb.sequenceNumber }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List streams (ListStreams).")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Only the streams of this table.") var tableName: String?

        func run() async throws {
            let db = try database.open()
            try await runOperation("ListStreams") {
                try printJSON(try await db.listStreams(ListStreamsInput(tableName: tableName)))
            }
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Describe a stream and its shards (DescribeStream).")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The stream ARN.") var streamArn: String

        func run() async throws {
            let db = try database.open()
            try await runOperation("DescribeStream") {
                try printJSON(try await db.describeStream(DescribeStreamInput(streamArn: streamArn)))
            }
        }
    }
}
