import Foundation

/// Makes a Swift executable a Lambda function: its `main` calls one of the `run` methods, which loops over
/// the Lambda Runtime API (at `AWS_LAMBDA_RUNTIME_API`) and hands each invocation's event to a closure.
///
/// ```swift
/// import EddyLambdaRuntime
///
/// await LambdaFunction.run { (event: TriggerEvent, context: LambdaContext) in
///     var failures: [TriggerBatchResponse.BatchItemFailure] = []
///     for record in event.records where record.dynamodb.newImage?["email"] == nil {
///         failures.append(.init(itemIdentifier: record.dynamodb.sequenceNumber))
///     }
///     return TriggerBatchResponse(batchItemFailures: failures)
/// }
/// ```
///
/// The process speaks the public Runtime API (version 2018-06-01) only, so the same executable runs under any
/// runtime that offers that API: AWS Lambda's `provided.al2023` once it is built for Amazon Linux 2023 (as
/// `bootstrap`, with `--static-swift-stdlib`).
///
/// - Invocations run one at a time, in the order Lambda gives them; the handler's closure is awaited before
///   the runtime asks for the next one.
/// - A handler that throws fails its invocation: the runtime posts Lambda's error document with the error's
///   Swift type name as `errorType` and its description as `errorMessage`. An event that does not decode
///   fails it with `Runtime.UnmarshalError`, an output that does not encode with `Runtime.MarshalError`.
/// - A set-up closure that throws is reported as an initialization error, and the process exits with
///   status 1, as Lambda expects of a runtime whose initialization failed.
/// - When the Runtime API cannot be reached, or answers what a runtime cannot go on from (a 5xx), the
///   process exits with status 1: Lambda then starts a new one. It never retries in a loop.
///
/// The Runtime API's calls block (the next invocation is a long poll), so they run on a thread of their own,
/// never on the cooperative pool that runs the handler.
public enum LambdaFunction {
    /// Runs `handler` for every invocation: the event decoded from JSON as `Event`, the returned `Output`
    /// encoded as the response's JSON. Never returns.
    ///
    /// ```swift
    /// await LambdaFunction.run { (event: TriggerEvent, context: LambdaContext) -> TriggerBatchResponse in
    ///     print("\(event.records.count) records, \(context.remainingTime) left")
    ///     return .success
    /// }
    /// ```
    ///
    /// With a tumbling window, the event's `window`, `state` and `isFinalInvokeForWindow` are Lambda's
    /// `DynamodbTimeWindowEvent` fields, and the returned ``TriggerBatchResponse/state`` is carried to the
    /// window's next call (Lambda's `TimeWindowEventResponse`).
    ///
    /// - Parameter handler: Handles one invocation; what it throws fails the invocation.
    public static func run<Event: Decodable & Sendable, Output: Encodable & Sendable>(
        _ handler: @escaping @Sendable (Event, LambdaContext) async throws -> Output
    ) async -> Never {
        await runRaw(setUp: { _ in typed(handler) })
    }

    /// Runs `setUp` once, before the first invocation, then the handler it returns for every invocation, as
    /// ``run(_:)`` does. Never returns.
    ///
    /// Set-up is where a function opens what every invocation shares (a client, a connection pool), as
    /// Lambda's init phase:
    ///
    /// ```swift
    /// await LambdaFunction.run(setUp: { environment in
    ///     let sink = try Sink(region: environment.region)
    ///     return { (event: TriggerEvent, context: LambdaContext) -> TriggerBatchResponse in
    ///         try await sink.send(event.records)
    ///         return .success
    ///     }
    /// })
    /// ```
    ///
    /// - Parameter setUp: Receives the function's settings and returns the handler. If it throws, the
    ///   runtime reports an initialization error (`/runtime/init/error`) and the process exits with status 1.
    public static func run<Event: Decodable & Sendable, Output: Encodable & Sendable>(
        setUp: @escaping @Sendable (LambdaEnvironment) async throws -> @Sendable (Event, LambdaContext) async throws -> Output
    ) async -> Never {
        await runRaw(setUp: { environment in typed(try await setUp(environment)) })
    }

    /// Runs `handler` for every invocation on the event's bytes as Lambda sends them, its result posted as
    /// the response's bytes: for handlers that parse and write JSON themselves, without `Codable`'s cost.
    /// Never returns.
    ///
    /// ```swift
    /// await LambdaFunction.runRaw { event, context in
    ///     Array(#"{"batchItemFailures":[]}"#.utf8)
    /// }
    /// ```
    ///
    /// - Parameter handler: Handles one invocation; what it throws fails the invocation.
    public static func runRaw(
        _ handler: @escaping @Sendable ([UInt8], LambdaContext) async throws -> [UInt8]
    ) async -> Never {
        await runRaw(setUp: { _ in handler })
    }

    /// Runs `setUp` once, then the bytes handler it returns for every invocation, as ``runRaw(_:)`` does.
    /// Never returns.
    ///
    /// ```swift
    /// await LambdaFunction.runRaw(setUp: { environment in
    ///     let prefix = Array("\(environment.functionName):".utf8)
    ///     return { event, context in prefix + event }
    /// })
    /// ```
    ///
    /// - Parameter setUp: Receives the function's settings and returns the handler. If it throws, the
    ///   runtime reports an initialization error (`/runtime/init/error`) and the process exits with status 1.
    public static func runRaw(
        setUp: @escaping @Sendable (LambdaEnvironment) async throws -> @Sendable ([UInt8], LambdaContext) async throws -> [UInt8]
    ) async -> Never {
        do {
            let runtime = try LambdaRuntime(variables: ProcessInfo.processInfo.environment)
            try await runtime.run(setUp: setUp)
        } catch {
            LambdaRuntime.log("EddyLambdaRuntime: \(error)")
            exit(1)
        }
    }

    /// `handler` on bytes: the event decoded from JSON, the output encoded as JSON, each failure named as
    /// Lambda's runtimes name it.
    static func typed<Event: Decodable & Sendable, Output: Encodable & Sendable>(
        _ handler: @escaping @Sendable (Event, LambdaContext) async throws -> Output
    ) -> RawHandler {
        { bytes, context in
            let event: Event
            do {
                event = try JSONDecoder().decode(Event.self, from: Data(bytes))
            } catch {
                throw InvocationFailure(errorType: "Runtime.UnmarshalError", message: "Unable to unmarshal input: \(error)")
            }
            let output = try await handler(event, context)
            do {
                return Array(try JSONEncoder().encode(output))
            } catch {
                throw InvocationFailure(errorType: "Runtime.MarshalError", message: "Unable to marshal response: \(error)")
            }
        }
    }
}
