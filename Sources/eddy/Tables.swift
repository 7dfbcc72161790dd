import ArgumentParser
import Eddy

/// `eddy tables …`: CreateTable, DescribeTable, ListTables and DeleteTable.
struct Tables: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, describe, list, update and delete tables.",
        subcommands: [List.self, Create.self, Describe.self, Update.self, Delete.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List table names (ListTables).")
        @OptionGroup var target: TargetOptions
        @Option(help: "At most this many names.") var limit: Int?
        @Option(help: "Start after this table name.") var exclusiveStartTableName: String?

        func run() async throws {
            let connection = try target.connect()
            try await runOperation("ListTables") {
                let input = ListTablesInput(exclusiveStartTableName: exclusiveStartTableName, limit: limit)
                try printJSON(try await connection.call(.dynamoDB, "ListTables", input) { try await $0.listTables(input) })
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a table (CreateTable).",
            discussion: """
                The request is CreateTable's JSON, e.g.
                {"TableName":"Users","KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],
                 "AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"}
                """)
        @OptionGroup var target: TargetOptions
        @Option(help: "The request JSON, or file://PATH; standard input when absent.") var cliInputJson: String?

        func run() async throws {
            let connection = try target.connect()
            try await runOperation("CreateTable") {
                let input = try readRequest(cliInputJson, as: CreateTableInput.self)
                try printJSON(try await connection.call(.dynamoDB, "CreateTable", input) { ["TableDescription": try await $0.createTable(input)] })
            }
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Describe a table (DescribeTable).",
            discussion: """
                With --capacity, also the table's and each global index's provisioned throughput, the units consumed \
                and the throttle events of the last minute and of the minute in progress, and the Contributor \
                Insights status ("Capacity"). Against a data directory, nothing was consumed yet: what is counted \
                lives in the process that served the requests.
                """)
        @OptionGroup var target: TargetOptions
        @Argument(help: "The table name.") var tableName: String
        @Flag(help: "Show the capacity: provisioned, consumed, throttled, Contributor Insights.") var capacity = false

        func run() async throws {
            let connection = try target.connect()
            try await runOperation("DescribeTable") {
                let described = try await connection.call(.dynamoDB, "DescribeTable", ["TableName": tableName]) {
                    ["Table": try await $0.describeTable(tableName: tableName)]
                }
                guard capacity, let table = described["Table"] else { return try printJSON(described) }
                let usage = try await connection.admin("GET", ["tables", tableName, "capacity"]) { try $0.describeCapacity(tableName: tableName) }
                try printJSON(DescribedCapacity(table: table, capacity: usage))
            }
        }
    }

    /// `eddy tables describe --capacity`'s answer.
    struct DescribedCapacity: Encodable {
        var table: TableDescription
        var capacity: TableCapacityDescription

        enum CodingKeys: String, CodingKey { case table = "Table", capacity = "Capacity" }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a table's settings or stream (UpdateTable).",
            discussion: """
                The request is UpdateTable's JSON, e.g. to enable a stream:
                {"TableName":"Users","StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_AND_OLD_IMAGES"}}
                """)
        @OptionGroup var target: TargetOptions
        @Option(help: "The request JSON, or file://PATH; standard input when absent.") var cliInputJson: String?

        func run() async throws {
            let connection = try target.connect()
            try await runOperation("UpdateTable") {
                let input = try readRequest(cliInputJson, as: UpdateTableInput.self)
                try printJSON(try await connection.call(.dynamoDB, "UpdateTable", input) { ["TableDescription": try await $0.updateTable(input)] })
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a table and its items (DeleteTable).")
        @OptionGroup var target: TargetOptions
        @Argument(help: "The table name.") var tableName: String

        func run() async throws {
            let connection = try target.connect()
            try await runOperation("DeleteTable") {
                try printJSON(
                    try await connection.call(.dynamoDB, "DeleteTable", ["TableName": tableName]) {
                        ["TableDescription": try await $0.deleteTable(tableName: tableName)]
                    })
            }
        }
    }
}
