import ArgumentParser
import Eddy

/// `eddy items …`: PutItem, GetItem, Query and Scan.
struct Items: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Put, get, query and scan items.",
        subcommands: [Put.self, Get.self, Query.self, Scan.self]
    )

    struct Put: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a whole item (PutItem).")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "The table name.") var tableName: String
        @Option(help: #"The item as DynamoDB JSON, e.g. {"id":{"S":"u1"}}, or file://PATH."#) var item: String
        @Option(help: "NONE or ALL_OLD.") var returnValues: String?

        func run() async throws {
            let db = try database.open()
            try await runOperation("PutItem") {
                let item = try readRequest(item, as: Item.self)
                let returnValues = try returnValues.map { try parseEnum(ReturnValue.self, $0, field: "returnValues") }
                try printJSON(try await db.putItem(PutItemInput(tableName: tableName, item: item, returnValues: returnValues)))
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Read an item by key (GetItem).")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "The table name.") var tableName: String
        @Option(help: #"The key as DynamoDB JSON, e.g. {"id":{"S":"u1"}}, or file://PATH."#) var key: String

        func run() async throws {
            let db = try database.open()
            try await runOperation("GetItem") {
                let key = try readRequest(key, as: Item.self)
                try printJSON(try await db.getItem(GetItemInput(tableName: tableName, key: key)))
            }
        }
    }

    struct Query: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read a partition (Query with KeyConditions).",
            discussion: """
                The request is Query's JSON, e.g.
                {"TableName":"Music","KeyConditions":{"Artist":{"ComparisonOperator":"EQ","AttributeValueList":[{"S":"Acme Band"}]}}}
                """)
        @OptionGroup var database: DatabaseOptions
        @Option(help: "The request JSON, or file://PATH; standard input when absent.") var cliInputJson: String?

        func run() async throws {
            let db = try database.open()
            try await runOperation("Query") {
                try printJSON(try await db.query(try readRequest(cliInputJson, as: QueryInput.self)))
            }
        }
    }

    struct Scan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Read a table, or one segment of it (Scan).")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "The table name.") var tableName: String
        @Option(help: "At most this many items.") var limit: Int?
        @Option(help: "The segment of a parallel scan.") var segment: Int?
        @Option(help: "The number of segments of a parallel scan.") var totalSegments: Int?
        @Option(help: "Continue after this key (a page's LastEvaluatedKey JSON).") var exclusiveStartKey: String?

        func run() async throws {
            let db = try database.open()
            try await runOperation("Scan") {
                let start = try exclusiveStartKey.map { try readRequest($0, as: Item.self) }
                try printJSON(try await db.scan(ScanInput(
                    tableName: tableName, limit: limit, exclusiveStartKey: start,
                    segment: segment, totalSegments: totalSegments)))
            }
        }
    }
}

/// Parses an enumeration value of the wire protocol, refusing others with DynamoDB's wording.
func parseEnum<Value: RawRepresentable & CaseIterable>(_ type: Value.Type, _ text: String, field: String) throws -> Value
where Value.RawValue == String {
    guard let value = Value(rawValue: text) else {
        let allowed = Value.allCases.map(\.rawValue).joined(separator: ", ")
        throw EddyError.validation(
            "1 validation error detected: Value '\(text)' at '\(field)' failed to satisfy constraint: Member must satisfy enum value set: [\(allowed)]")
    }
    return value
}
