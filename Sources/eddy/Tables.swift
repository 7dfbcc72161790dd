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
        @OptionGroup var database: DatabaseOptions
        @Option(help: "At most this many names.") var limit: Int?
        @Option(help: "Start after this table name.") var exclusiveStartTableName: String?

        func run() async throws {
            let db = try database.open()
            try await runOperation("ListTables") {
                try printJSON(try await db.listTables(ListTablesInput(exclusiveStartTableName: exclusiveStartTableName, limit: limit)))
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
        @OptionGroup var database: DatabaseOptions
        @Option(help: "The request JSON, or file://PATH; standard input when absent.") var cliInputJson: String?

        func run() async throws {
            let db = try database.open()
            try await runOperation("CreateTable") {
                let input = try readRequest(cliInputJson, as: CreateTableInput.self)
                try printJSON(["TableDescription": try await db.createTable(input)])
            }
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Describe a table (DescribeTable).")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The table name.") var tableName: String

        func run() async throws {
            let db = try database.open()
            try await runOperation("DescribeTable") {
                try printJSON(["Table": try await db.describeTable(tableName: tableName)])
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a table's settings or stream (UpdateTable).",
            discussion: """
                The request is UpdateTable's JSON, e.g. to enable a stream:
                {"TableName":"Users","StreamSpecification":{"StreamEnabled":true,"StreamViewType":"NEW_AND_OLD_IMAGES"}}
                """)
        @OptionGroup var database: DatabaseOptions
        @Option(help: "The request JSON, or file://PATH; standard input when absent.") var cliInputJson: String?

        func run() async throws {
            let db = try database.open()
            try await runOperation("UpdateTable") {
                let input = try readRequest(cliInputJson, as: UpdateTableInput.self)
                try printJSON(["TableDescription": try await db.updateTable(input)])
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a table and its items (DeleteTable).")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The table name.") var tableName: String

        func run() async throws {
            let db = try database.open()
            try await runOperation("DeleteTable") {
                try printJSON(["TableDescription": try await db.deleteTable(tableName: tableName)])
            }
        }
    }
}
