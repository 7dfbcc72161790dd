import AsyncHTTPClient
import ChildProcessSupport
import Foundation
import NIOCore
import NIOHTTP1

@testable import Eddy

/// An Elasticsearch service for the tests: noida-db's (``NoidaService``).
struct SearchService {
    let noida: NoidaService
    var endpoint: String { "http://127.0.0.1:\(noida.port)" }

    /// Starts a service, runs `body` with it, and stops it whatever `body` does.
    static func with<Result: Sendable>(_ body: (SearchService) async throws -> Result) async throws -> Result {
        try await NoidaService.with("elasticsearch") { try await body(SearchService(noida: $0)) }
    }

    /// Stops Elasticsearch, keeping its data: requests to it are refused until ``resume()``.
    func pause() async throws {
        try await noida.run(["stop", "elasticsearch"])
    }

    /// Starts Elasticsearch again after ``pause()``, with its data.
    func resume() async throws {
        try await noida.run(["start", "elasticsearch"])
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
}
