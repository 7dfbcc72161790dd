import Eddy
import Foundation
import NIOHTTP1

/// Eddy's own REST-JSON API on the server's port, for what no AWS API covers, signed with AWS Signature
/// Version 4 for service `eddy`:
///
/// | request | answer |
/// |---|---|
/// | `GET /eddy/2026-12-01/triggers` | `{"Triggers": [TriggerDescription…]}`, every mapping of the database |
/// | `POST /eddy/2026-12-01/triggers` | 201 and the new mapping; the body is one ``DeclaredTrigger`` (`Kafka`, `Elasticsearch` or `Derivative`) |
/// | `GET /eddy/2026-12-01/triggers/{name or UUID}` | the mapping |
/// | `DELETE /eddy/2026-12-01/triggers/{name or UUID}` | the mapping as it was, in state `Deleting` |
/// | `POST /eddy/2026-12-01/triggers/{name or UUID}/enable`, `…/disable` | the mapping |
/// | `GET /eddy/2026-12-01/tables/{name}/check` | the ``IndexCheckReport`` of `Database.checkIndexes(tableName:)` |
/// | `GET /eddy/2026-12-01/tables/{name}/capacity` | the ``TableCapacityDescription`` of `Database.describeCapacity(tableName:)` |
/// | `GET /eddy/2026-12-01/tables/{name}/contributor-insights`, `…/tables/{name}/indexes/{index}/contributor-insights` | the ``ContributorInsightsReport`` of the table or global index: its top keys over the last minute (400 when Contributor Insights is not enabled there) |
///
/// Errors are `{"__type": "<type>", "message": "…"}` with DynamoDB's type names: 400 for
/// `ValidationException` (a malformed declaration, a mapping to a function, a table without a stream, Kafka
/// brokers that do not answer or lack the topic, an Elasticsearch endpoint that does not answer…), 404 for
/// `ResourceNotFoundException` and `UnknownOperationException` (a path or method the API does not have), 409
/// for `ResourceInUseException` (a name in use, a mapping of the configuration file, a change in progress),
/// 403 for a refused signature (`InvalidSignatureException`, …), 500 for Eddy's own failures
/// (`InternalServerError`).
struct AdminAPI: Sendable {
    let database: Database
    /// The declared trigger mappings, if the server runs a trigger runtime.
    let triggers: DeclaredTriggers?

    static let prefix = "/eddy/2026-12-01/"

    /// The operations, as the server's metrics name them (`Eddy.AddTrigger`).
    static let targets = [
        "ListTriggers", "AddTrigger", "GetTrigger", "RemoveTrigger", "EnableTrigger", "DisableTrigger", "CheckIndexes",
        "DescribeCapacity", "GetContributorInsights",
    ].map { "Eddy.\($0)" }

    /// Whether `path` is one of this API's.
    static func serves(_ path: String) -> Bool {
        path.hasPrefix(prefix)
    }

    /// The answer to a request of this API, and the name of its operation.
    func answer(method: HTTPMethod, path: String, body: [UInt8]) async -> (operation: String, reply: Reply) {
        let segments = path.dropFirst(Self.prefix.count).split(separator: "/", omittingEmptySubsequences: false)
            .map { String($0).removingPercentEncoding ?? String($0) }
        let route = Self.route(method, segments)
        do {
            return (route.operation, try await run(route, body: body))
        } catch let error as AdminError {
            return (route.operation, Self.reply(error))
        } catch let error as EddyError {
            return (route.operation, Self.reply(AdminError(error)))
        } catch {
            return (route.operation, Self.reply(AdminError(.internalServerError("\(error)"))))
        }
    }

    private enum Route {
        case listTriggers, addTrigger, getTrigger(String), removeTrigger(String), enableTrigger(String), disableTrigger(String)
        case checkIndexes(String)
        case contributorInsights(table: String, index: String?)
        case describeCapacity(String)
        case unknown(String)

        var operation: String {
            switch self {
            case .listTriggers: "ListTriggers"
            case .addTrigger: "AddTrigger"
            case .getTrigger: "GetTrigger"
            case .removeTrigger: "RemoveTrigger"
            case .enableTrigger: "EnableTrigger"
            case .disableTrigger: "DisableTrigger"
            case .checkIndexes: "CheckIndexes"
            case .contributorInsights: "GetContributorInsights"
            case .describeCapacity: "DescribeCapacity"
            case .unknown: "Unknown"
            }
        }
    }

    private static func route(_ method: HTTPMethod, _ path: [String]) -> Route {
        switch (method, path.first, path.count) {
        case (.GET, "triggers", 1): .listTriggers
        case (.POST, "triggers", 1): .addTrigger
        case (.GET, "triggers", 2) where !path[1].isEmpty: .getTrigger(path[1])
        case (.DELETE, "triggers", 2) where !path[1].isEmpty: .removeTrigger(path[1])
        case (.POST, "triggers", 3) where path[2] == "enable": .enableTrigger(path[1])
        case (.POST, "triggers", 3) where path[2] == "disable": .disableTrigger(path[1])
        case (.GET, "tables", 3) where path[2] == "check": .checkIndexes(path[1])
        case (.GET, "tables", 3) where path[2] == "capacity": .describeCapacity(path[1])
        case (.GET, "tables", 3) where path[2] == "contributor-insights": .contributorInsights(table: path[1], index: nil)
        case (.GET, "tables", 5) where path[2] == "indexes" && path[4] == "contributor-insights":
            .contributorInsights(table: path[1], index: path[3])
        default: .unknown("\(method.rawValue) \(prefix)\(path.joined(separator: "/"))")
        }
    }

    private func run(_ route: Route, body: [UInt8]) async throws -> Reply {
        switch route {
        case .listTriggers:
            return try Self.json(TriggerList(triggers: try declared().list()))
        case .addTrigger:
            return try Self.json(try await declared().add(try Self.declaration(body)), status: 201)
        case .getTrigger(let name):
            return try Self.json(try declared().describe(name))
        case .removeTrigger(let name):
            return try Self.json(try await declared().remove(name))
        case .enableTrigger(let name):
            return try Self.json(try await declared().enable(name))
        case .disableTrigger(let name):
            return try Self.json(try await declared().disable(name))
        case .checkIndexes(let table):
            return try Self.json(try await database.checkIndexes(tableName: table))
        case .describeCapacity(let table):
            return try Self.json(try database.describeCapacity(tableName: table))
        case .contributorInsights(let table, let index):
            guard let report = try database.contributorInsightsReport(tableName: table, indexName: index) else {
                throw AdminError(
                    type: "ValidationException", message: "Contributor Insights is not enabled for \(table)\(index.map { " index " + $0 } ?? "")",
                    status: 400)
            }
            return try Self.json(report)
        case .unknown(let request):
            throw AdminError(type: "UnknownOperationException", message: "Unknown operation \(request)", status: 404)
        }
    }

    private func declared() throws(AdminError) -> DeclaredTriggers {
        guard let triggers else {
            throw AdminError(type: "UnknownOperationException", message: "This server runs no trigger mappings", status: 404)
        }
        return triggers
    }

    /// The body of `POST …/triggers`: one trigger declaration, its failures sorted as DynamoDB's requests' are.
    private static func declaration(_ body: [UInt8]) throws(AdminError) -> DeclaredTrigger {
        do {
            return try RequestDecoding.decode(body)
        } catch {
            throw AdminError(type: error.type, message: error.message, status: error.status)
        }
    }

    private static func json<Value: Encodable>(_ value: Value, status: Int = 200) throws(EddyError) -> Reply {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        do {
            return reply(status: status, body: Array(try encoder.encode(value)))
        } catch {
            throw .internalServerError("Cannot encode the answer: \(error)")
        }
    }

    /// The answer to a failed request; its `x-amzn-ErrorType` header names the error for the server's metrics.
    static func reply(_ error: AdminError) -> Reply {
        var reply = reply(status: error.status, body: Array(error.body.utf8))
        reply.headers.add(name: "x-amzn-ErrorType", value: error.type)
        return reply
    }

    private static func reply(status: Int, body: [UInt8]) -> Reply {
        var headers = HTTPHeaders()
        headers.add(name: "Server", value: "Eddy")
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "x-amzn-RequestId", value: UUID().uuidString.lowercased())
        return Reply(status: HTTPResponseStatus(statusCode: status), headers: headers, body: body)
    }
}

/// An error of the admin API: a DynamoDB error type, its message, and the HTTP status that goes with it.
struct AdminError: Error {
    var type: String
    var message: String
    var status: Int

    init(type: String, message: String, status: Int) {
        self.type = type
        self.message = message
        self.status = status
    }

    init(_ error: EddyError) {
        let status =
            switch error {
            case .resourceNotFound: 404
            case .resourceInUse: 409
            case .internalServerError: 500
            default: 400
            }
        self.init(type: error.errorType, message: error.message, status: status)
    }

    /// `{"__type": type, "message": message}`.
    var body: String {
        let object = ["__type": type, "message": message]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
