import ArgumentParser
import Eddy
import EddyServer
import Foundation

/// Where a command's requests go, given by exactly one of `--data-dir` (a data directory the command opens)
/// and `--endpoint-url` (a running `eddy serve`, which the command sends the same requests to).
struct TargetOptions: ParsableArguments {
    @Option(help: "The database directory to open (created if missing).")
    var dataDir: String?
    @Option(help: ArgumentHelp(
        "Send the requests to the eddy serve at this URL instead (http://HOST:PORT), signed with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.",
        valueName: "url"))
    var endpointUrl: String?
    @Option(help: "With --endpoint-url, the Region the requests are signed for (default: AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1).")
    var region: String?

    func validate() throws {
        switch (dataDir, endpointUrl) {
        case (nil, nil):
            throw ValidationError("Give --data-dir DIR to open a data directory, or --endpoint-url URL to use a running eddy serve")
        case (.some, .some):
            throw ValidationError("--data-dir and --endpoint-url exclude each other: give one of them")
        case (.some, nil) where region != nil:
            throw ValidationError("--region goes with --endpoint-url: it names the Region the requests are signed for")
        default:
            _ = try client()
        }
    }

    /// The data directory opened, or a client of the server.
    func connect() throws -> Connection {
        if let client = try client() { return .server(client) }
        return .database(try Database(path: dataDir!))
    }

    /// A client of the server at `--endpoint-url`, if given.
    private func client() throws -> EddyClient? {
        guard let endpointUrl else { return nil }
        let environment = ProcessInfo.processInfo.environment
        let credentials = SigV4Credentials(
            accessKeyId: environment["AWS_ACCESS_KEY_ID"] ?? "eddy", secretAccessKey: environment["AWS_SECRET_ACCESS_KEY"] ?? "eddy")
        let region = region ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1"
        do {
            return try EddyClient(endpointURL: endpointUrl, credentials: credentials, region: region)
        } catch {
            throw ValidationError(error.description)
        }
    }
}

/// A command's connection: its requests run against an opened database, or go to a server, which answers
/// them the same way; the results are the same values either way, so the command prints the same output.
enum Connection {
    case database(Database)
    case server(EddyClient)

    /// Which of the server's APIs an operation belongs to.
    enum API {
        case dynamoDB, streams

        var targetPrefix: String {
            switch self {
            case .dynamoDB: "DynamoDB_20120810."
            case .streams: "DynamoDBStreams_20120810."
            }
        }
    }

    /// Runs `operation` with `input`: `locally` against the database, or as the server's operation of that
    /// name, whose answer decodes as `locally`'s result.
    func call<Input: Encodable, Output: Decodable>(
        _ api: API, _ operation: String, _ input: Input, locally: (Database) async throws -> Output
    ) async throws -> Output {
        switch self {
        case .database(let db):
            return try await locally(db)
        case .server(let client):
            return try await Self.result(of: client.send(.target(api.targetPrefix + operation, body: Array(try JSONEncoder().encode(input)))))
        }
    }

    /// Runs an admin API operation: `locally` with the data directory's trigger mappings, or as `method` on
    /// the admin API's path `segments`, whose answer decodes as `locally`'s result.
    func admin<Output: Decodable>(
        _ method: String, _ segments: [String], body: (any Encodable)? = nil, locally: (Database) async throws -> Output
    ) async throws -> Output {
        switch self {
        case .database(let db):
            return try await locally(db)
        case .server(let client):
            let bytes = try body.map { Array(try JSONEncoder().encode($0)) } ?? []
            return try await Self.result(of: client.send(.admin(method, segments, body: bytes)))
        }
    }

    /// The decoded body of a successful answer, or the error the server answered.
    private static func result<Output: Decodable>(of response: EddyClient.Response) throws -> Output {
        guard (200..<300).contains(response.status) else {
            throw ServerError(response)
        }
        do {
            return try JSONDecoder().decode(Output.self, from: Data(response.body))
        } catch {
            throw ServerError(type: "InternalServerError", message: "The server's answer does not decode: \(error)")
        }
    }
}

/// An error a server answered: its type (without the namespace DynamoDB's protocol puts before a `#`) and
/// its message.
struct ServerError: Error {
    var type: String
    var message: String

    init(type: String, message: String) {
        self.type = type
        self.message = message
    }

    init(_ response: EddyClient.Response) {
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        let type = (object["__type"] as? String) ?? response.header("x-amzn-ErrorType") ?? "HTTP \(response.status)"
        self.init(
            type: String(type.split(separator: "#").last ?? Substring(type)),
            message: (object["message"] as? String) ?? (object["Message"] as? String) ?? String(decoding: response.body, as: UTF8.self))
    }
}
