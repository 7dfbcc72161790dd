import Eddy
import Foundation

/// The operations the server answers, by `X-Amz-Target`: each decodes its request body with the AWS API
/// reference's member names (the `Codable` shapes of Eddy's inputs), calls the ``Database``, and encodes its
/// result the same way.
struct Operations: Sendable {
    typealias Run = @Sendable (Database, [UInt8]) async throws(WireError) -> [UInt8]

    private let runs: [String: Run]

    init() {
        let dynamodb = "DynamoDB_20120810."
        let streams = "DynamoDBStreams_20120810."
        runs = RequestConstraints.guarding([
            dynamodb + "CreateTable": Self.operation { (db, input: CreateTableInput) in
                TableDescriptionOutput(tableDescription: try await db.createTable(input))
            },
            dynamodb + "DescribeTable": Self.operation { (db, input: TableNameInput) in
                DescribeTableOutput(table: try await db.describeTable(tableName: input.tableName))
            },
            dynamodb + "DeleteTable": Self.operation { (db, input: TableNameInput) in
                TableDescriptionOutput(tableDescription: try await db.deleteTable(tableName: input.tableName))
            },
            dynamodb + "UpdateTable": Self.operation { (db, input: UpdateTableInput) in
                TableDescriptionOutput(tableDescription: try await db.updateTable(input))
            },
            dynamodb + "TransactWriteItems": Self.operation { (db, input: TransactWriteItemsInput) in try await db.transactWriteItems(input) },
            dynamodb + "TransactGetItems": Self.operation { (db, input: TransactGetItemsInput) in try await db.transactGetItems(input) },
            dynamodb + "UpdateTimeToLive": Self.operation { (db, input: UpdateTimeToLiveInput) in try await db.updateTimeToLive(input) },
            dynamodb + "DescribeTimeToLive": Self.operation { (db, input: DescribeTimeToLiveInput) in try await db.describeTimeToLive(input) },
            dynamodb + "ListTables": Self.operation { (db, input: ListTablesInput) in try await db.listTables(input) },
            dynamodb + "PutItem": Self.operation(parsing: { (db, input: PutItemInput) in try await db.putItem(input) }),
            dynamodb + "GetItem": Self.operation(parsing: { (db, input: GetItemInput) in try await db.getItem(input) }),
            dynamodb + "UpdateItem": Self.operation(parsing: { (db, input: UpdateItemInput) in try await db.updateItem(input) }),
            dynamodb + "DeleteItem": Self.operation(parsing: { (db, input: DeleteItemInput) in try await db.deleteItem(input) }),
            dynamodb + "BatchGetItem": Self.operation(parsing: { (db, input: BatchGetItemInput) in try await db.batchGetItem(input) }),
            dynamodb + "BatchWriteItem": Self.operation(parsing: { (db, input: BatchWriteItemInput) in try await db.batchWriteItem(input) }),
            dynamodb + "Query": Self.operation(parsing: { (db, input: QueryInput) in try await db.query(input) }),
            dynamodb + "Scan": Self.operation { (db, input: ScanInput) in try await db.scan(input) },
            dynamodb + "TagResource": Self.operation { (db, input: TagResourceInput) in try await db.tagResource(input) },
            dynamodb + "UntagResource": Self.operation { (db, input: UntagResourceInput) in try await db.untagResource(input) },
            dynamodb + "ListTagsOfResource": Self.operation { (db, input: ListTagsOfResourceInput) in try await db.listTagsOfResource(input) },
            dynamodb + "DescribeContinuousBackups": Self.operation { (db, input: DescribeContinuousBackupsInput) in
                try await db.describeContinuousBackups(input)
            },
            dynamodb + "UpdateContinuousBackups": Self.operation { (db, input: UpdateContinuousBackupsInput) in
                try await db.updateContinuousBackups(input)
            },
            dynamodb + "UpdateContributorInsights": Self.operation { (db, input: UpdateContributorInsightsInput) in
                try await db.updateContributorInsights(input)
            },
            dynamodb + "DescribeContributorInsights": Self.operation { (db, input: DescribeContributorInsightsInput) in
                try await db.describeContributorInsights(input)
            },
            dynamodb + "ListContributorInsights": Self.operation { (db, input: ListContributorInsightsInput) in
                try await db.listContributorInsights(input)
            },
            dynamodb + "DescribeLimits": Self.operation { (db, _: NoMembersInput) in db.describeLimits() },
            dynamodb + "DescribeEndpoints": Self.operation { (_, _: NoMembersInput) in DescribeEndpointsOutput.current() },
            streams + "ListStreams": Self.operation { (db, input: ListStreamsInput) in try await db.listStreams(input) },
            streams + "DescribeStream": Self.operation { (db, input: DescribeStreamInput) in try await db.describeStream(input) },
            streams + "GetShardIterator": Self.operation { (db, input: GetShardIteratorInput) in try await db.getShardIterator(input) },
            streams + "GetRecords": Self.operation(parsing: { (db, input: GetRecordsInput) in try await db.getRecords(input) }),
        ])
    }

    /// The operation `target` names, if the server has it.
    func operation(_ target: String) -> Run? {
        runs[target]
    }

    /// The `X-Amz-Target` values served.
    var targets: [String] { runs.keys.sorted() }

    /// An operation that decodes `Input`, calls `body` and encodes its output with `JSONEncoder`.
    static func operation<Input: Decodable & Sendable, Output: Encodable & Sendable>(
        _ body: @escaping @Sendable (Database, Input) async throws -> Output
    ) -> Run {
        operation(body, decode: RequestDecoding.decode, encode: encodedWithFoundation)
    }

    /// An operation whose output is written without `JSONEncoder`.
    private static func operation<Input: Decodable & Sendable, Output: JSONWritable & Sendable>(
        _ body: @escaping @Sendable (Database, Input) async throws -> Output
    ) -> Run {
        operation(body, decode: RequestDecoding.decode) { output in output.jsonBytes }
    }

    /// An operation whose request is read without `JSONDecoder` (``RequestDecoding/parse(_:)``) and whose
    /// output is written without `JSONEncoder`.
    private static func operation<Input: JSONDecodable & Sendable, Output: JSONWritable & Sendable>(
        parsing body: @escaping @Sendable (Database, Input) async throws -> Output
    ) -> Run {
        operation(body, decode: RequestDecoding.parse) { output in output.jsonBytes }
    }

    /// An operation whose request is read without `JSONDecoder` and whose output is encoded with `JSONEncoder`.
    private static func operation<Input: JSONDecodable & Sendable, Output: Encodable & Sendable>(
        parsing body: @escaping @Sendable (Database, Input) async throws -> Output
    ) -> Run {
        operation(body, decode: RequestDecoding.parse, encode: encodedWithFoundation)
    }

    private static func encodedWithFoundation<Output: Encodable>(_ output: Output) throws(WireError) -> [UInt8] {
        do {
            return Array(try JSONEncoder().encode(output))
        } catch {
            throw WireError(type: "InternalServerError", message: "The response does not encode: \(error)", status: 500)
        }
    }

    private static func operation<Input: Sendable, Output: Sendable>(
        _ body: @escaping @Sendable (Database, Input) async throws -> Output,
        decode: @escaping @Sendable ([UInt8]) throws(WireError) -> Input,
        encode: @escaping @Sendable (Output) throws(WireError) -> [UInt8]
    ) -> Run {
        { (db, bytes) async throws(WireError) -> [UInt8] in
            let input = try decode(bytes)
            let output: Output
            do {
                output = try await body(db, input)
            } catch {
                throw RequestDecoding.wireError(error)
            }
            return try encode(output)
        }
    }
}

/// Decoding a request body, and how its failures are answered.
enum RequestDecoding {
    /// `bytes` read as `Input` by ``JSONReader`` and ``JSONDecodable``, with the answers of
    /// ``decode(_:)``: the same error types always, the same messages except for bodies that are not JSON.
    static func parse<Input: JSONDecodable>(_ bytes: [UInt8]) throws(WireError) -> Input {
        let json: JSONValue
        do {
            // An empty body is an empty request, as in `decode(_:)`.
            json = bytes.isEmpty ? .object([]) : try JSONReader.parse(bytes, maximumNesting: maximumNestingDepth)
        } catch {
            throw notJSON(error.reason)
        }
        do {
            return try Input(json: json)
        } catch {
            throw wireError(error)
        }
    }

    /// `bytes` decoded as `Input`: malformed JSON and members of the wrong JSON type are a
    /// `SerializationException` (with a message saying what is wrong, where DynamoDB sends none), a missing required member
    /// a `ValidationException`, and a value Eddy's types refuse while decoding (a malformed number, an empty
    /// `AttributeValue`) the error they throw.
    static func decode<Input: Decodable>(_ bytes: [UInt8]) throws(WireError) -> Input {
        // An empty body is an empty request, as the AWS SDKs send `{}` for operations without members.
        let data = bytes.isEmpty ? Data("{}".utf8) : Data(bytes)
        // What Foundation's JSONDecoder gets wrong is refused first: it traps on some bodies nesting past its
        // 512 levels, and it accepts trailing commas, which JSON (and DynamoDB) does not.
        let shape = JSONShape(of: bytes)
        guard shape.deepestNesting <= maximumNestingDepth else {
            throw notJSON("arrays and objects nest deeper than \(maximumNestingDepth) levels")
        }
        guard !shape.hasTrailingComma else {
            throw notJSON("a comma before a closing bracket or brace")
        }
        do {
            return try JSONDecoder().decode(Input.self, from: data)
        } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
            throw notJSON(context.debugDescription)
        } catch {
            throw wireError(error)
        }
    }

    private static func notJSON(_ reason: String) -> WireError {
        .serialization("The request body is not valid JSON: \(reason)")
    }

    /// The deepest nesting of arrays and objects a request body may have: far more than any valid request
    /// needs (attribute values nest at most 32 levels), well under what Foundation's decoder survives.
    static let maximumNestingDepth = 256

    /// `error`, thrown while decoding a request or running it, as the wire answers it.
    static func wireError(_ error: any Error) -> WireError {
        if let error = error as? WireError { return error }
        if let error = error as? EddyError { return WireError(error) }
        if let error = error as? SerializationError { return .serialization(error.message) }
        guard let error = error as? DecodingError else {
            return WireError(type: "InternalServerError", message: "Internal server error: \(error)", status: 500)
        }
        switch error {
        case .keyNotFound(let key, let context):
            return wireError(.missing(path(context.codingPath + [key])))
        case .valueNotFound(_, let context):
            return wireError(.missing(path(context.codingPath)))
        case .typeMismatch(let type, let context):
            return wireError(.typeMismatch(path(context.codingPath), expected: jsonType(type)))
        case .dataCorrupted(let context):
            return wireError(.invalidValue(path(context.codingPath), context.debugDescription))
        @unknown default:
            return .serialization("The request body does not decode: \(error)")
        }
    }

    /// `failure`, met while reading a request, as the wire answers it.
    static func wireError(_ failure: JSONDecodingFailure) -> WireError {
        switch failure {
        case .missing(let path):
            WireError(
                type: "ValidationException",
                message: "1 validation error detected: Value null at '\(path)' failed to satisfy constraint: Member must not be null")
        case .typeMismatch(let path, let expected):
            .serialization("Unexpected value at '\(path)': expected \(expected)")
        case .invalidValue(let path, let description):
            .serialization("Unexpected value at '\(path)': \(description)")
        case .refused(let error):
            WireError(error)
        case .undeserializable(let error):
            .serialization(error.message)
        }
    }

    /// A coding path as a ``JSONPath``: keys with an integer value are positions.
    private static func path(_ codingPath: [any CodingKey]) -> JSONPath {
        JSONPath(codingPath.map { key in key.intValue.map(JSONPath.Component.index) ?? .name(key.stringValue) })
    }

    private static func jsonType(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is Int64.Type, is Double.Type: "a number"
        default: "\(type)"
        }
    }
}

/// `{"TableName": …}`: the request of DescribeTable and DeleteTable.
struct TableNameInput: Decodable, Sendable {
    var tableName: String
    enum CodingKeys: String, CodingKey { case tableName = "TableName" }
}

/// CreateTable's, UpdateTable's and DeleteTable's response.
struct TableDescriptionOutput: Encodable, Sendable {
    var tableDescription: TableDescription
    enum CodingKeys: String, CodingKey { case tableDescription = "TableDescription" }
}

/// DescribeTable's response.
struct DescribeTableOutput: Encodable, Sendable {
    var table: TableDescription
    enum CodingKeys: String, CodingKey { case table = "Table" }
}

/// What one pass over a request body's bytes, outside strings, tells before it is decoded (the bytes need not
/// be valid JSON).
struct JSONShape {
    /// How deep arrays and objects nest.
    private(set) var deepestNesting = 0
    /// Whether a `,` comes right before a `]` or `}` (whitespace between them aside).
    private(set) var hasTrailingComma = false

    init(of bytes: [UInt8]) {
        var (depth, inString, escaped) = (0, false, false)
        var previous: UInt8 = 0  // the last byte outside strings that is not whitespace
        for byte in bytes {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                continue
            case UInt8(ascii: "\""):
                inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                deepestNesting = max(deepestNesting, depth)
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth -= 1
                if previous == UInt8(ascii: ",") { hasTrailingComma = true }
            default:
                break
            }
            previous = byte
        }
    }
}
