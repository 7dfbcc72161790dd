import Foundation

/// The calls of the Lambda Runtime API, version 2018-06-01, that a runtime makes (AWS Lambda Developer Guide,
/// "Using the Lambda runtime API for custom runtimes"): take the next invocation, answer it with a response
/// or an error, report a failed initialization.
///
/// Every call blocks: the runtime makes them from its ``BlockingCallThread`` only, one at a time, which is
/// why the class may be shared with that thread although it has mutable state (its connection).
final class RuntimeAPIClient: @unchecked Sendable {
    /// The version segment of every path.
    static let apiVersion = "2018-06-01"
    /// The largest event accepted: four times Lambda's 6 MB synchronous payload limit, so that a batch that
    /// Eddy sizes by DynamoDB's item sizes, not by JSON bytes, still fits; it bounds what a broken server can
    /// make the function hold.
    static let eventBytesMax = 24 * 1_048_576

    private let connection: HTTPConnection

    /// A client of the Runtime API at `endpoint`, `host:port` as `AWS_LAMBDA_RUNTIME_API` gives it (an IPv6
    /// host in brackets). Opens no connection yet.
    init(endpoint: String) throws(LambdaRuntimeError) {
        let (host, port) = try Self.hostAndPort(endpoint)
        connection = HTTPConnection(host: host, port: port, bodyBytesMax: Self.eventBytesMax)
    }

    /// The host and port of `endpoint`, `host:port` or `[IPv6 address]:port`.
    static func hostAndPort(_ endpoint: String) throws(LambdaRuntimeError) -> (host: String, port: UInt16) {
        let host: Substring
        let portText: Substring
        if endpoint.hasPrefix("["), let close = endpoint.firstIndex(of: "]") {
            host = endpoint[endpoint.index(after: endpoint.startIndex)..<close]
            let rest = endpoint[endpoint.index(after: close)...]
            guard rest.hasPrefix(":") else { throw .invalidEndpoint(endpoint) }
            portText = rest.dropFirst()
        } else if let colon = endpoint.lastIndex(of: ":") {
            host = endpoint[..<colon]
            portText = endpoint[endpoint.index(after: colon)...]
        } else {
            throw .invalidEndpoint(endpoint)
        }
        guard !host.isEmpty, !host.contains(":") || endpoint.hasPrefix("["), let port = UInt16(portText), port > 0 else {
            throw .invalidEndpoint(endpoint)
        }
        return (String(host), port)
    }

    /// Waits for the next invocation (`GET /runtime/invocation/next`, a long poll without a timeout).
    ///
    /// - Throws: ``LambdaRuntimeError`` when the connection fails or the answer is not an invocation: the
    ///   runtime cannot go on.
    func nextInvocation() throws(LambdaRuntimeError) -> Invocation {
        let response = try send("GET", "/runtime/invocation/next")
        guard response.status == 200 else {
            throw .unexpectedAnswer("GET /runtime/invocation/next answered \(response.status): \(Self.text(response.body))")
        }
        guard let requestId = response.header("lambda-runtime-aws-request-id"), !requestId.isEmpty else {
            throw .unexpectedAnswer("the next invocation has no Lambda-Runtime-Aws-Request-Id")
        }
        guard let deadline = response.header("lambda-runtime-deadline-ms").flatMap(Int64.init) else {
            throw .unexpectedAnswer("the next invocation has no valid Lambda-Runtime-Deadline-Ms")
        }
        return Invocation(
            requestId: requestId, deadlineMillisecondsSince1970: deadline,
            invokedFunctionArn: response.header("lambda-runtime-invoked-function-arn") ?? "",
            traceId: response.header("lambda-runtime-trace-id") ?? "",
            clientContext: response.header("lambda-runtime-client-context"),
            cognitoIdentity: response.header("lambda-runtime-cognito-identity"),
            event: response.body)
    }

    /// Answers invocation `requestId` with `body` (`POST /runtime/invocation/{id}/response`).
    ///
    /// - Returns: The Runtime API's refusal (4xx, such as 413 for a response over Lambda's size limit), nil if
    ///   it accepted the response.
    /// - Throws: ``LambdaRuntimeError`` when the connection fails or the Runtime API answers 5xx (its
    ///   "container error": the runtime must exit).
    func sendResponse(requestId: String, body: [UInt8]) throws(LambdaRuntimeError) -> Refusal? {
        try post("/runtime/invocation/\(Self.pathSegment(requestId))/response", body: body, headers: [])
    }

    /// Answers invocation `requestId` with `report` (`POST /runtime/invocation/{id}/error`), its error type in
    /// `Lambda-Runtime-Function-Error-Type` too.
    ///
    /// - Returns: The Runtime API's refusal (4xx), nil if it accepted the report.
    /// - Throws: As ``sendResponse(requestId:body:)``.
    func sendError(requestId: String, report: FunctionErrorReport) throws(LambdaRuntimeError) -> Refusal? {
        try post(
            "/runtime/invocation/\(Self.pathSegment(requestId))/error", body: report.json,
            headers: report.headers)
    }

    /// Reports that the function failed to initialize (`POST /runtime/init/error`); the runtime exits next.
    ///
    /// - Returns: The Runtime API's refusal (4xx), nil if it accepted the report.
    /// - Throws: As ``sendResponse(requestId:body:)``.
    func sendInitError(_ report: FunctionErrorReport) throws(LambdaRuntimeError) -> Refusal? {
        try post("/runtime/init/error", body: report.json, headers: report.headers)
    }

    private func post(_ path: String, body: [UInt8], headers: [(String, String)]) throws(LambdaRuntimeError) -> Refusal? {
        let response = try send("POST", path, headers: headers, body: body)
        switch response.status {
        case 200..<300:
            return nil
        case 400..<500:
            return Refusal(status: response.status, message: Self.text(response.body))
        default:
            throw .unexpectedAnswer("POST \(path) answered \(response.status): \(Self.text(response.body))")
        }
    }

    private func send(
        _ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8] = []
    ) throws(LambdaRuntimeError) -> HTTPResponse {
        do {
            return try connection.request(method, "/\(Self.apiVersion)\(path)", headers: headers, body: body)
        } catch {
            throw .connection(error)
        }
    }

    /// A request id as a path segment: Lambda's are UUIDs, but a `/` or a space must not change the path.
    private static func pathSegment(_ requestId: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove("/")
        return requestId.addingPercentEncoding(withAllowedCharacters: allowed) ?? requestId
    }

    /// A body as text for a message, shortened.
    private static func text(_ body: [UInt8]) -> String {
        String(decoding: body.prefix(512), as: UTF8.self)
    }

    /// The Runtime API's 4xx answer to a response or error report.
    struct Refusal: CustomStringConvertible {
        var status: Int
        var message: String

        var description: String { "\(status) \(message)" }
    }
}

/// One invocation as `GET /runtime/invocation/next` delivers it.
struct Invocation: Sendable {
    var requestId: String
    /// When the function times out (`Lambda-Runtime-Deadline-Ms`).
    var deadlineMillisecondsSince1970: Int64
    var invokedFunctionArn: String
    /// The X-Ray tracing header (`Lambda-Runtime-Trace-Id`); empty if absent.
    var traceId: String
    var clientContext: String?
    var cognitoIdentity: String?
    /// The event: the response's body.
    var event: [UInt8]
}

/// What the runtime reports of a failed invocation or initialization: Lambda's error document
/// (`{"errorMessage":…,"errorType":…,"stackTrace":[]}`), its type also sent in the
/// `Lambda-Runtime-Function-Error-Type` header.
struct FunctionErrorReport: Encodable, Sendable {
    var errorMessage: String
    var errorType: String
    /// Swift errors carry no stack trace: always empty, present because Lambda's document has it.
    var stackTrace: [String] = []

    init(errorType: String, errorMessage: String) {
        self.errorType = errorType
        self.errorMessage = errorMessage
    }

    /// A report of `error`: an ``InvocationFailure`` as it names itself; any other error by its Swift type's
    /// name and its description.
    init(_ error: any Error) {
        if let failure = error as? InvocationFailure {
            self.init(errorType: failure.errorType, errorMessage: failure.message)
        } else {
            self.init(errorType: String(describing: type(of: error)), errorMessage: String(describing: error))
        }
    }

    var json: [UInt8] {
        // Three strings and an array of strings: encoding cannot fail.
        Array(try! JSONEncoder().encode(self))
    }

    var headers: [(String, String)] {
        [("Content-Type", "application/json"), ("Lambda-Runtime-Function-Error-Type", errorType)]
    }
}

/// A failure of the runtime's own work around the handler, named as Lambda's runtimes name theirs: the event
/// did not decode (`Runtime.UnmarshalError`), the output did not encode (`Runtime.MarshalError`).
struct InvocationFailure: Error {
    var errorType: String
    var message: String
}

/// Why the runtime cannot go on; the process exits with status 1 after printing it.
enum LambdaRuntimeError: Error, CustomStringConvertible {
    /// `AWS_LAMBDA_RUNTIME_API` is not set: the process does not run under a Lambda runtime.
    case missingEndpoint
    /// `AWS_LAMBDA_RUNTIME_API` is not `host:port`.
    case invalidEndpoint(String)
    /// The Runtime API cannot be reached, or its connection broke.
    case connection(HTTPConnectionError)
    /// The Runtime API answered what a runtime cannot go on from (a 5xx, an invocation without a request id).
    case unexpectedAnswer(String)
    /// The function's set-up threw; the Runtime API has been told.
    case initializationFailed(FunctionErrorReport)

    var description: String {
        switch self {
        case .missingEndpoint: "AWS_LAMBDA_RUNTIME_API is not set: run the function under a Lambda runtime"
        case .invalidEndpoint(let endpoint): "AWS_LAMBDA_RUNTIME_API is not host:port: \(endpoint.debugDescription)"
        case .connection(let error): "the Runtime API is gone: \(error)"
        case .unexpectedAnswer(let detail): "the Runtime API answered unexpectedly: \(detail)"
        case .initializationFailed(let report): "initialization failed: \(report.errorType): \(report.errorMessage)"
        }
    }
}
