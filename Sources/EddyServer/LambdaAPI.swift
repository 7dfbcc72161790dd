import Eddy
import EddyFunctions
import Foundation
import NIOHTTP1

/// Lambda's REST-JSON API on Eddy's port: functions under `/2015-03-31/functions`, their concurrency under
/// `/2017-10-31/` and `/2019-09-30/`, event source mappings under `/2015-03-31/event-source-mappings`. Routed by
/// method and path (never by Content-Type: botocore sends none with Invoke's payload); requests are signed
/// for service `lambda`.
struct LambdaAPI: Sendable {
    let mappings: EventSourceMappings
    var functions: Functions { mappings.functions }

    /// Lambda's limit on a request carrying a zip (a 50 MB zip, base64 in JSON).
    static let maximumRequestBytes = 69_905_067
    /// Lambda's payload limits: 6 MB for a synchronous invocation, 1 MB for an asynchronous one.
    static let maximumSynchronousPayload = 6 * 1024 * 1024
    static let maximumAsynchronousPayload = 1024 * 1024

    /// The operations, as the server's metrics name them (`Lambda.Invoke`).
    static let targets = [
        "CreateFunction", "ListFunctions", "GetFunction", "GetFunctionConfiguration", "UpdateFunctionCode",
        "UpdateFunctionConfiguration", "DeleteFunction", "Invoke", "PutFunctionConcurrency", "DeleteFunctionConcurrency",
        "GetFunctionConcurrency", "CreateEventSourceMapping", "ListEventSourceMappings", "GetEventSourceMapping",
        "UpdateEventSourceMapping", "DeleteEventSourceMapping",
    ].map { "Lambda.\($0)" }

    /// Whether `path` is one of Lambda's.
    static func serves(_ path: String) -> Bool {
        path.hasPrefix("/2015-03-31/") || path.hasPrefix("/2017-10-31/") || path.hasPrefix("/2019-09-30/")
    }

    /// The answer to a Lambda request; the operation's name (for metrics and logs) beside it.
    func answer(method: HTTPMethod, path: String, query: String, headers: HTTPHeaders, body: [UInt8]) async -> (String, Reply) {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).map { String($0).removingPercentEncoding ?? String($0) }
        let parameters = Self.parameters(query)
        let route = Self.route(method, segments)
        do {
            return (route.operation, try await run(route, parameters: parameters, headers: headers, body: body))
        } catch {
            return (route.operation, Self.reply(error))
        }
    }

    private enum Route {
        case createFunction, listFunctions
        case getFunction(String), getConfiguration(String), updateCode(String), updateConfiguration(String), deleteFunction(String)
        case invoke(String)
        case putConcurrency(String), deleteConcurrency(String), getConcurrency(String)
        case createMapping, listMappings, getMapping(String), updateMapping(String), deleteMapping(String)
        case unknown(String)

        var operation: String {
            switch self {
            case .createFunction: "CreateFunction"
            case .listFunctions: "ListFunctions"
            case .getFunction: "GetFunction"
            case .getConfiguration: "GetFunctionConfiguration"
            case .updateCode: "UpdateFunctionCode"
            case .updateConfiguration: "UpdateFunctionConfiguration"
            case .deleteFunction: "DeleteFunction"
            case .invoke: "Invoke"
            case .putConcurrency: "PutFunctionConcurrency"
            case .deleteConcurrency: "DeleteFunctionConcurrency"
            case .getConcurrency: "GetFunctionConcurrency"
            case .createMapping: "CreateEventSourceMapping"
            case .listMappings: "ListEventSourceMappings"
            case .getMapping: "GetEventSourceMapping"
            case .updateMapping: "UpdateEventSourceMapping"
            case .deleteMapping: "DeleteEventSourceMapping"
            case .unknown: "Unknown"
            }
        }
    }

    private static func route(_ method: HTTPMethod, _ path: [String]) -> Route {
        switch (method, path.first, path.dropFirst().first, path.count) {
        case (.POST, "2015-03-31", "functions", 2): return .createFunction
        case (.GET, "2015-03-31", "functions", 2): return .listFunctions
        case (.GET, "2015-03-31", "functions", 3): return .getFunction(path[2])
        case (.DELETE, "2015-03-31", "functions", 3): return .deleteFunction(path[2])
        case (.GET, "2015-03-31", "functions", 4) where path[3] == "configuration": return .getConfiguration(path[2])
        case (.PUT, "2015-03-31", "functions", 4) where path[3] == "configuration": return .updateConfiguration(path[2])
        case (.PUT, "2015-03-31", "functions", 4) where path[3] == "code": return .updateCode(path[2])
        case (.POST, "2015-03-31", "functions", 4) where path[3] == "invocations": return .invoke(path[2])
        case (.PUT, "2017-10-31", "functions", 4) where path[3] == "concurrency": return .putConcurrency(path[2])
        case (.DELETE, "2017-10-31", "functions", 4) where path[3] == "concurrency": return .deleteConcurrency(path[2])
        case (.GET, "2019-09-30", "functions", 4) where path[3] == "concurrency": return .getConcurrency(path[2])
        case (.POST, "2015-03-31", "event-source-mappings", 2): return .createMapping
        case (.GET, "2015-03-31", "event-source-mappings", 2): return .listMappings
        case (.GET, "2015-03-31", "event-source-mappings", 3): return .getMapping(path[2])
        case (.PUT, "2015-03-31", "event-source-mappings", 3): return .updateMapping(path[2])
        case (.DELETE, "2015-03-31", "event-source-mappings", 3): return .deleteMapping(path[2])
        default: return .unknown("\(method.rawValue) /\(path.joined(separator: "/"))")
        }
    }

    private func run(_ route: Route, parameters: [String: String], headers: HTTPHeaders, body: [UInt8]) async throws(LambdaError) -> Reply {
        switch route {
        case .createFunction:
            return try Self.json(await functions.create(Self.decode(CreateFunctionRequest.self, body)), status: 201)
        case .listFunctions:
            let all = functions.list()
            let page = try Self.page(all, key: \.functionName, marker: parameters["Marker"], maxItems: parameters["MaxItems"], limit: 10_000)
            return try Self.json(FunctionList(functions: page.items, nextMarker: page.next))
        case .getFunction(let name):
            let configuration = try functions.configuration(of: name)
            let concurrency = try functions.reservedConcurrency(of: name)
            return try Self.json(GetFunctionResponse(
                configuration: configuration,
                code: FunctionCodeLocation(repositoryType: "S3", location: "file://\(functions.configuration.directory)/\(configuration.functionName)/code"),
                concurrency: concurrency.map { Concurrency(reservedConcurrentExecutions: $0) }, tags: [:]))
        case .getConfiguration(let name):
            return try Self.json(functions.configuration(of: name))
        case .updateCode(let name):
            return try Self.json(await functions.updateCode(name, Self.decode(UpdateFunctionCodeRequest.self, body)))
        case .updateConfiguration(let name):
            return try Self.json(await functions.updateConfiguration(name, Self.decode(UpdateFunctionConfigurationRequest.self, body)))
        case .deleteFunction(let name):
            try functions.delete(name)
            return Self.reply(status: 204, body: [])
        case .invoke(let name):
            return try await invoke(name, parameters: parameters, headers: headers, body: body)
        case .putConcurrency(let name):
            let request = try Self.decode(Concurrency.self, body)
            guard let count = request.reservedConcurrentExecutions else {
                throw .constraint(value: "null", field: "reservedConcurrentExecutions", "Member must not be null")
            }
            return try Self.json(Concurrency(reservedConcurrentExecutions: try functions.putConcurrency(name, count)))
        case .deleteConcurrency(let name):
            try functions.deleteConcurrency(name)
            return Self.reply(status: 204, body: [])
        case .getConcurrency(let name):
            return try Self.json(Concurrency(reservedConcurrentExecutions: try functions.reservedConcurrency(of: name)))
        case .createMapping:
            return try Self.json(await mappings.create(Self.decode(EventSourceMappingRequest.self, body)), status: 202)
        case .listMappings:
            let all = try mappings.list(eventSourceArn: parameters["EventSourceArn"], functionName: parameters["FunctionName"])
            let page = try Self.page(all, key: \.uuid, marker: parameters["Marker"], maxItems: parameters["MaxItems"], limit: 10_000)
            return try Self.json(MappingList(eventSourceMappings: page.items, nextMarker: page.next))
        case .getMapping(let uuid):
            return try Self.json(mappings.get(uuid))
        case .updateMapping(let uuid):
            return try Self.json(await mappings.update(uuid, Self.decode(EventSourceMappingRequest.self, body)), status: 202)
        case .deleteMapping(let uuid):
            return try Self.json(await mappings.delete(uuid), status: 202)
        case .unknown(let request):
            throw LambdaError(type: "UnknownOperationException", message: "Unknown operation \(request)", status: 404)
        }
    }

    /// Invoke: `X-Amz-Invocation-Type` (RequestResponse, Event, DryRun), `X-Amz-Log-Type` (None, Tail),
    /// `X-Amz-Client-Context`, and `Qualifier` (`$LATEST` only).
    private func invoke(_ name: String, parameters: [String: String], headers: HTTPHeaders, body: [UInt8]) async throws(LambdaError) -> Reply {
        let typeName = headers.first(name: "X-Amz-Invocation-Type") ?? "RequestResponse"
        guard let type = InvocationType(rawValue: typeName) else {
            throw .constraint(value: typeName, field: "invocationType", "Member must satisfy enum value set: [Event, RequestResponse, DryRun]")
        }
        let logType = headers.first(name: "X-Amz-Log-Type") ?? "None"
        guard ["None", "Tail"].contains(logType) else {
            throw .constraint(value: logType, field: "logType", "Member must satisfy enum value set: [None, Tail]")
        }
        let function = parameters["Qualifier"].map { "\(name):\($0)" } ?? name
        let limit = type == .event ? Self.maximumAsynchronousPayload : Self.maximumSynchronousPayload
        guard body.count <= limit else {
            throw LambdaError(
                type: "RequestTooLargeException", message: "Request must be smaller than \(limit) bytes for the InvokeFunction operation",
                status: 413)
        }
        var replyHeaders = HTTPHeaders()
        switch type {
        case .dryRun:
            try functions.checkInvocation(function, payload: body)
            return Self.reply(status: 204, body: [])
        case .event:
            let requestId = try functions.invokeAsynchronously(function, payload: body)
            replyHeaders.add(name: "x-amzn-RequestId", value: requestId)
            return Self.reply(status: 202, body: [], headers: replyHeaders)
        case .requestResponse:
            let result = try await functions.invoke(
                function, payload: body, clientContext: headers.first(name: "X-Amz-Client-Context"), logTail: logType == "Tail")
            replyHeaders.add(name: "x-amzn-RequestId", value: result.requestId)
            replyHeaders.add(name: "X-Amz-Executed-Version", value: result.executedVersion)
            if let error = result.functionError { replyHeaders.add(name: "X-Amz-Function-Error", value: error) }
            if let tail = result.logTail { replyHeaders.add(name: "X-Amz-Log-Result", value: Data(tail).base64EncodedString()) }
            return Self.reply(status: 200, body: result.payload, headers: replyHeaders)
        }
    }

    // MARK: Shapes

    private struct FunctionList: Encodable {
        var functions: [FunctionConfiguration]
        var nextMarker: String?
        enum CodingKeys: String, CodingKey { case functions = "Functions", nextMarker = "NextMarker" }
    }

    private struct MappingList: Encodable {
        var eventSourceMappings: [EventSourceMappingConfiguration]
        var nextMarker: String?
        enum CodingKeys: String, CodingKey { case eventSourceMappings = "EventSourceMappings", nextMarker = "NextMarker" }
    }

    private struct GetFunctionResponse: Encodable {
        var configuration: FunctionConfiguration
        var code: FunctionCodeLocation
        var concurrency: Concurrency?
        var tags: [String: String]
        enum CodingKeys: String, CodingKey { case configuration = "Configuration", code = "Code", concurrency = "Concurrency", tags = "Tags" }
    }

    private struct FunctionCodeLocation: Encodable {
        var repositoryType: String
        var location: String
        enum CodingKeys: String, CodingKey { case repositoryType = "RepositoryType", location = "Location" }
    }

    private struct Concurrency: Codable {
        var reservedConcurrentExecutions: Int?
        enum CodingKeys: String, CodingKey { case reservedConcurrentExecutions = "ReservedConcurrentExecutions" }
    }

    // MARK: Helpers

    /// One page of `items` (in `key` order) after `marker`, with the marker of the next page.
    private static func page<Item>(
        _ items: [Item], key: KeyPath<Item, String>, marker: String?, maxItems: String?, limit: Int
    ) throws(LambdaError) -> (items: [Item], next: String?) {
        var count = 50
        if let maxItems {
            guard let value = Int(maxItems), (1...limit).contains(value) else {
                throw .constraint(value: maxItems, field: "maxItems", "Member must have value between 1 and \(limit)")
            }
            count = value
        }
        let after = marker.flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) }
        if marker != nil, after == nil { throw .invalidParameterValue("Invalid marker: \(marker!)") }
        let remaining = items.filter { after == nil || $0[keyPath: key] > after! }
        let page = Array(remaining.prefix(count))
        let next = remaining.count > count ? page.last.map { Data($0[keyPath: key].utf8).base64EncodedString() } : nil
        return (page, next)
    }

    private static func parameters(_ query: String) -> [String: String] {
        var parameters: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0]).removingPercentEncoding ?? String(parts[0])
            let value = parts.count > 1 ? (String(parts[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(parts[1])) : ""
            parameters[name] = value
        }
        return parameters
    }

    private static func decode<Value: Decodable>(_ type: Value.Type, _ body: [UInt8]) throws(LambdaError) -> Value {
        do {
            return try JSONDecoder().decode(type, from: Data(body.isEmpty ? Array("{}".utf8) : body))
        } catch let error as EddyError {
            throw LambdaError(error)
        } catch let error as LambdaError {
            throw error
        } catch DecodingError.keyNotFound(let key, _) {
            throw .constraint(value: "null", field: Self.memberName(key.stringValue), "Member must not be null")
        } catch {
            throw .invalidRequestContent("Could not parse request body into json: \(error)")
        }
    }

    private static func memberName(_ name: String) -> String {
        name.prefix(1).lowercased() + name.dropFirst()
    }

    private static func json<Value: Encodable>(_ value: Value, status: Int = 200) throws(LambdaError) -> Reply {
        do {
            return reply(status: status, body: Array(try JSONEncoder().encode(value)))
        } catch {
            throw .service("Cannot encode the answer: \(error)")
        }
    }

    static func reply(_ error: LambdaError) -> Reply {
        var object = ["Type": error.origin, "Message": error.message]
        if let reason = error.reason { object["Reason"] = reason }
        var headers = HTTPHeaders()
        headers.add(name: "x-amzn-ErrorType", value: error.type)
        let body = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return reply(status: error.status, body: Array(body), headers: headers)
    }

    private static func reply(status: Int, body: [UInt8], headers extra: HTTPHeaders = HTTPHeaders()) -> Reply {
        var headers = HTTPHeaders()
        headers.add(name: "Server", value: "Eddy")
        headers.add(name: "Content-Type", value: "application/json")
        if !extra.contains(name: "x-amzn-RequestId") { headers.add(name: "x-amzn-RequestId", value: UUID().uuidString.lowercased()) }
        headers.add(contentsOf: extra)
        return Reply(status: HTTPResponseStatus(statusCode: status), headers: headers, body: body)
    }
}
