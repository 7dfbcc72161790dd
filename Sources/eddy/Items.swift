import ArgumentParser
import Eddy
import EddyServer

/// `eddy items …`: PutItem, GetItem, Query and Scan.
struct Items: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Put, get, query and scan items.",
        subcommands: [Put.self, Get.self, Update.self, Query.self, Scan.self]
    )

    struct Put: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a whole item (PutItem).")
        @OptionGroup var target: TargetOptions
        @Option(help: "The table name.") var tableName: String
        @Option(help: #"The item as DynamoDB JSON, e.g. {"id":{"S":"u1"}}, or file://PATH."#) var item: String
        @Option(help: "NONE or ALL_OLD.") var returnValues: String?

        func run() async throws {
            let connection = try target.connect()
            try await runOperation("PutItem") {
                let item = try readRequest(item, as: Item.self)
                let returnValues = try returnValues.map { try parseEnum(ReturnValue.self, $0, field: "returnValues", allowed: EnumValueSets.returnValues) }
                let input = PutItemInput(tableName: tableName, item: item, returnValues: returnValues)
                try printJSON(try await connection.call(.dynamoDB, "PutItem", input) { try await $0.putItem(input) })
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Read an item by key (GetItem).")
        @OptionGroup var target: TargetOptions
        @Option(help: "The table name.") var tableName: String
        @Option(help: #"The key as DynamoDB JSON, e.g. {"id":{"S":"u1"}}, or file://PATH."#) var key: String

        func run() async throws {
            let connection = try target.connect()
            try await runOperation("GetItem") {
                let key = try readRequest(key, as: Item.self)
                let input = GetItemInput(tableName: tableName, key: key)
                try printJSON(try await connection.call(.dynamoDB, "GetItem", input) { try await $0.getItem(input) })
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change an item's attributes (UpdateItem).",
            discussion: """
                The request is UpdateItem's JSON, e.g.
                {"TableName":"Users","Key":{"id":{"S":"u1"}},"UpdateExpression":"SET visits = visits + :one",
                 "ConditionExpression":"attribute_exists(id)","ExpressionAttributeValues":{":one":{"N":"1"}},
                 "ReturnValues":"UPDATED_NEW"}
                """)
        @OptionGroup var target: TargetOptions
        @Option(help: "The request JSON, or file://PATH; standard input when absent.") var cliInputJson: String?

        func run() async throws {
            let connection = try target.connect()
            try await runOperation("UpdateItem") {
                let input = try readRequest(cliInputJson, as: UpdateItemInput.self)
                try printJSON(try await connection.call(.dynamoDB, "UpdateItem", input) { try await $0.updateItem(input) })
            }
        }
    }

    struct Query: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read a partition (Query).",
            discussion: """
                The request is Query's JSON, e.g.
                {"TableName":"Music","KeyConditionExpression":"Artist = :a","FilterExpression":"#y > :y",
                 "ExpressionAttributeNames":{"#y":"Year"},"ExpressionAttributeValues":{":a":{"S":"Acme Band"},":y":{"N":"2020"}}}
                """)
        @OptionGroup var target: TargetOptions
        @Option(help: "The request JSON, or file://PATH; standard input when absent.") var cliInputJson: String?

        func run() async throws {
            let connection = try target.connect()
            try await runOperation("Query") {
                let input = try readRequest(cliInputJson, as: QueryInput.self)
                try printJSON(try await connection.call(.dynamoDB, "Query", input) { try await $0.query(input) })
            }
        }
    }

    struct Scan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Read a table, or one segment of it (Scan).")
        @OptionGroup var target: TargetOptions
        @Option(help: "The table name.") var tableName: String
        @Option(help: "Scan this secondary index of the table instead of the table.") var indexName: String?
        @Option(help: "At most this many items.") var limit: Int?
        @Option(help: "The segment of a parallel scan.") var segment: Int?
        @Option(help: "The number of segments of a parallel scan.") var totalSegments: Int?
        @Option(help: "Continue after this key (a page's LastEvaluatedKey JSON).") var exclusiveStartKey: String?
        @Option(help: "Return only the items that match this condition.") var filterExpression: String?
        @Option(help: "Return only these attributes or paths.") var projectionExpression: String?
        @Option(help: ##"Placeholders for names, e.g. {"#s":"status"}."##) var expressionAttributeNames: String?
        @Option(help: #"Placeholders for values, e.g. {":v":{"N":"1"}}."#) var expressionAttributeValues: String?

        func run() async throws {
            let connection = try target.connect()
            try await runOperation("Scan") {
                let start = try exclusiveStartKey.map { try readRequest($0, as: Item.self) }
                let names = try expressionAttributeNames.map { try readRequest($0, as: [String: String].self) }
                let values = try expressionAttributeValues.map { try readRequest($0, as: Item.self) }
                let input = ScanInput(
                    tableName: tableName, indexName: indexName, limit: limit, exclusiveStartKey: start,
                    segment: segment, totalSegments: totalSegments,
                    filterExpression: filterExpression, projectionExpression: projectionExpression,
                    expressionAttributeNames: names, expressionAttributeValues: values)
                try printJSON(try await connection.call(.dynamoDB, "Scan", input) { try await $0.scan(input) })
            }
        }
    }
}

/// Parses an enumeration value of the wire protocol, refusing others with DynamoDB's wording, which lists
/// `allowed` (DynamoDB's set, in DynamoDB's order: ``EnumValueSets``).
func parseEnum<Value: RawRepresentable>(_ type: Value.Type, _ text: String, field: String, allowed: [String]) throws -> Value
where Value.RawValue == String {
    guard let value = Value(rawValue: text) else {
        throw EddyError.validation(
            "1 validation error detected: Value '\(text)' at '\(field)' failed to satisfy constraint: Member must satisfy enum value set: [\(allowed.joined(separator: ", "))]")
    }
    return value
}
