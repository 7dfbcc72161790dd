import AsyncHTTPClient
import ChildProcessSupport
import Foundation
import NIOCore
import NIOHTTP1

/// An Elasticsearch service for the tests: noida-db's (`pip install noida-db==0.2.3`, installed by
/// `scripts/install-deps.sh`) on 127.0.0.1, on a free port, with its data in a temporary directory.
struct SearchService {
    let port: Int
    let dataDirectory: String
    var endpoint: String { "http://127.0.0.1:\(port)" }

    /// Starts a service, runs `body` with it, and stops it whatever `body` does.
    static func with<Result: Sendable>(_ body: (SearchService) async throws -> Result) async throws -> Result {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("eddy-search-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let service = SearchService(port: try freeLoopbackPort(), dataDirectory: directory)
        let outcome: Swift.Result<Result, any Error>
        do {
            try await service.noida(["up", "--only", "elasticsearch", "--elasticsearch-port", String(service.port)])
            outcome = .success(try await body(service))
        } catch {
            outcome = .failure(error)
        }
        try? await service.noida(["down"])
        try? FileManager.default.removeItem(atPath: directory)
        return try outcome.get()
    }

    /// Stops Elasticsearch, keeping its data: requests to it are refused until ``resume()``.
    func pause() async throws {
        try await noida(["stop", "elasticsearch"])
    }

    /// Starts Elasticsearch again after ``pause()``, with its data.
    func resume() async throws {
        try await noida(["start", "elasticsearch"])
    }

    /// Sends `method` `path` with the JSON `body`; the answer's status and body.
    @discardableResult
    func request(_ method: HTTPMethod, _ path: String, body: String? = nil) async throws -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: endpoint + path)
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return (Int(response.status.code), String(buffer: bytes))
    }

    /// Every document of `index` by `_id`, read with `_search` after a `_refresh`.
    func documents(_ index: String) async throws -> [String: JSONValue] {
        try await request(.POST, "/\(index)/_refresh")
        let answer = try await request(.POST, "/\(index)/_search?size=10000", body: #"{"query":{"match_all":{}}}"#)
        guard answer.status == 200 else { throw CommandFailed(output: answer.body) }
        let result = try JSONDecoder().decode(SearchAnswer.self, from: Data(answer.body.utf8))
        return Dictionary(uniqueKeysWithValues: result.hits.hits.map { ($0.id, $0.source) })
    }

    /// The flat settings of `index`.
    func settings(_ index: String) async throws -> [String: JSONValue] {
        let answer = try await request(.GET, "/\(index)/_settings?flat_settings=true")
        guard answer.status == 200, case .object(let indices) = try JSONDecoder().decode(JSONValue.self, from: Data(answer.body.utf8)),
            case .object(let entry)? = indices[index], case .object(let settings)? = entry["settings"]
        else { throw CommandFailed(output: answer.body) }
        return settings
    }

    private struct SearchAnswer: Decodable {
        var hits: Hits

        struct Hits: Decodable {
            var hits: [Hit]
        }

        struct Hit: Decodable {
            var id: String
            var source: JSONValue

            enum CodingKeys: String, CodingKey { case id = "_id", source = "_source" }
        }
    }

    /// Runs noida-db `arguments` on this service's data directory, off the cooperative pool.
    private func noida(_ arguments: [String]) async throws {
        let all = arguments + ["--data-dir", dataDirectory]
        let result = try await offThePool { try runCommand("noida-db", all) }
        guard result.status == 0 else { throw CommandFailed(output: result.output) }
    }
}

/// A JSON value, compared exactly: numbers by their decimal value.
enum JSONValue: Decodable, Equatable {
    case null
    case bool(Bool)
    case number(Decimal)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let number = try? container.decode(Decimal.self) {
            self = .number(number)
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else if let elements = try? container.decode([JSONValue].self) {
            self = .array(elements)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }
}
