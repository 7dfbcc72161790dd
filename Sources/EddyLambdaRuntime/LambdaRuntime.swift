import Foundation

/// A handler on bytes: the event's bytes in, the response's bytes out.
typealias RawHandler = @Sendable ([UInt8], LambdaContext) async throws -> [UInt8]

/// The invocation loop over the Runtime API: set up the handler (or report why not), then forever take the
/// next invocation, run the handler and post its response or error. ``LambdaFunction`` runs it and exits when
/// it throws; tests run it in their own process.
struct LambdaRuntime: Sendable {
    let environment: LambdaEnvironment
    private let client: RuntimeAPIClient
    private let io = BlockingCallThread(name: "lambda-runtime-api")

    /// A runtime for the process whose environment is `variables`: the Runtime API at
    /// `AWS_LAMBDA_RUNTIME_API`, the function's settings from the other variables Lambda sets.
    init(variables: [String: String]) throws(LambdaRuntimeError) {
        guard let endpoint = variables["AWS_LAMBDA_RUNTIME_API"] else { throw .missingEndpoint }
        client = try RuntimeAPIClient(endpoint: endpoint)
        environment = LambdaEnvironment(variables)
    }

    /// Runs `setUp` once, then the handler it returns for every invocation, one at a time.
    ///
    /// - Throws: ``LambdaRuntimeError/initializationFailed(_:)`` once `setUp` threw and the Runtime API was
    ///   told (`/runtime/init/error`); any other ``LambdaRuntimeError`` when the Runtime API is gone or answers
    ///   what the loop cannot go on from. A handler's error is not one: it becomes the invocation's error.
    func run(setUp: @Sendable (LambdaEnvironment) async throws -> RawHandler) async throws(LambdaRuntimeError) -> Never {
        let handler: RawHandler
        do {
            handler = try await setUp(environment)
        } catch {
            let report = FunctionErrorReport(error)
            Self.log("Init error: \(report.errorType): \(report.errorMessage)")
            let refusal = try await onIOThread { client throws(LambdaRuntimeError) in try client.sendInitError(report) }
            if let refusal {
                Self.log("The Runtime API refused the init error: \(refusal)")
            }
            throw .initializationFailed(report)
        }
        while true {
            let invocation = try await onIOThread { client throws(LambdaRuntimeError) in try client.nextInvocation() }
            // Lambda's custom-runtime contract: the X-Ray SDKs read the trace header from this variable.
            if invocation.traceId.isEmpty {
                unsetenv("_X_AMZN_TRACE_ID")
            } else {
                setenv("_X_AMZN_TRACE_ID", invocation.traceId, 1)
            }
            let context = LambdaContext(
                requestId: invocation.requestId,
                deadline: Date(timeIntervalSince1970: Double(invocation.deadlineMillisecondsSince1970) / 1000),
                invokedFunctionArn: invocation.invokedFunctionArn, traceId: invocation.traceId,
                clientContext: invocation.clientContext, cognitoIdentity: invocation.cognitoIdentity,
                environment: environment)
            let output: Result<[UInt8], any Error>
            do {
                output = .success(try await handler(invocation.event, context))
            } catch {
                output = .failure(error)
            }
            let refusal: RuntimeAPIClient.Refusal?
            switch output {
            case .success(let body):
                refusal = try await onIOThread { client throws(LambdaRuntimeError) in
                    try client.sendResponse(requestId: invocation.requestId, body: body)
                }
            case .failure(let error):
                let report = FunctionErrorReport(error)
                Self.log("Invoke error \(invocation.requestId): \(report.errorType): \(report.errorMessage)")
                refusal = try await onIOThread { client throws(LambdaRuntimeError) in
                    try client.sendError(requestId: invocation.requestId, report: report)
                }
            }
            if let refusal { Self.log("The Runtime API refused the answer to \(invocation.requestId): \(refusal)") }
        }
    }

    private func onIOThread<Value: Sendable>(
        _ body: @escaping @Sendable (RuntimeAPIClient) throws(LambdaRuntimeError) -> Value
    ) async throws(LambdaRuntimeError) -> Value {
        try await io.call { [client] () throws(LambdaRuntimeError) -> Value in try body(client) }
    }

    /// Writes `line` to standard error, which Lambda sends to the function's log stream, with one write(2).
    static func log(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
