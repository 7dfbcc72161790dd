import Foundation
import Testing

@testable import EddyLambdaRuntime

/// The invocation loop against a Runtime API in the test's process: what it asks for, what it posts, what
/// the handler receives, and when it gives up. The loop throws where ``LambdaFunction`` would exit.
///
/// Serialized: the loop sets the process-wide `_X_AMZN_TRACE_ID`, which one test reads.
@Suite(.serialized) struct LambdaRuntimeTests {
    static let variables = [
        "AWS_LAMBDA_FUNCTION_NAME": "echo", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512", "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/echo",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]abc", "_HANDLER": "echo.handler", "AWS_REGION": "eu-west-1",
    ]

    /// Runs the loop over `api` with `setUp` until it throws; returns what it threw.
    func runUntilItEnds(
        _ api: FakeRuntimeAPI, setUp: @escaping @Sendable (LambdaEnvironment) async throws -> RawHandler
    ) async throws -> LambdaRuntimeError {
        let runtime = try LambdaRuntime(variables: Self.variables.merging(["AWS_LAMBDA_RUNTIME_API": api.endpoint]) { $1 })
        return await Self.runUntilItEnds(runtime, setUp: setUp)
    }

    static func runUntilItEnds(
        _ runtime: LambdaRuntime, setUp: @escaping @Sendable (LambdaEnvironment) async throws -> RawHandler
    ) async -> LambdaRuntimeError {
        do {
            try await runtime.run(setUp: setUp)
        } catch {
            return error
        }
    }

    @Test func aTypedHandlerGetsLambdasDynamoDBEventDecodedAndItsResponseIsPosted() async throws {
        let api = try await FakeRuntimeAPI.start([
            .init(
                requestId: "8476a536-e9f4-11e8-9739-2dfe598c3fcd", event: Array(LambdaEvents.windowed.utf8),
                headers: ["Lambda-Runtime-Deadline-Ms": "1542409706888", "Lambda-Runtime-Client-Context": #"{"client":{}}"#])
        ])
        let seen = Seen<(TriggerEvent, LambdaContext, String?)>()
        let ending = try await runUntilItEnds(api) { _ in
            LambdaFunction.typed { (event: TriggerEvent, context: LambdaContext) -> TriggerBatchResponse in
                seen.append((event, context, ProcessInfo.processInfo.environment["_X_AMZN_TRACE_ID"]))
                let failed = event.records.filter { $0.dynamodb.newImage?["fail"] == .bool(true) }
                return TriggerBatchResponse(
                    batchItemFailures: failed.map { .init(itemIdentifier: $0.dynamodb.sequenceNumber) },
                    state: ["records": String(Int(event.state?["records"] ?? "0")! + event.records.count)])
            }
        }
        guard case .connection = ending else { Issue.record("ended with \(ending)"); return }

        let (event, context, traceVariable) = try #require(seen.values.first)
        #expect(event.records.map(\.eventID) == ["1", "2", "3"])
        #expect(event.records.map(\.eventName) == [.insert, .modify, .remove])
        #expect(event.records[0].dynamodb.newImage == ["Message": "New item!", "Id": .n(DecimalNumber(101))])
        #expect(event.records[1].dynamodb.oldImage?["Message"] == "New item!")
        #expect(event.records[2].dynamodb.oldImage?["Tags"] == .ss(["b", "a"]))
        #expect(event.records[2].userIdentity?.principalId == "dynamodb.amazonaws.com")
        #expect(event.records[2].dynamodb.approximateCreationDateTime == 1_479_499_742)
        #expect(event.window == TriggerWindow(start: "2020-07-30T17:00:00Z", end: "2020-07-30T17:05:00Z"))
        #expect(event.state == ["records": "4"])
        #expect(event.shardId == "shard123456789")
        #expect(event.isFinalInvokeForWindow == false)
        #expect(event.isWindowTerminatedEarly == false)

        #expect(context.requestId == "8476a536-e9f4-11e8-9739-2dfe598c3fcd")
        #expect(context.deadline == Date(timeIntervalSince1970: 1_542_409_706.888))
        #expect(context.remainingTime < .zero)
        #expect(context.invokedFunctionArn == "arn:aws:lambda:us-east-1:000000000000:function:echo")
        #expect(context.traceId == "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1")
        #expect(traceVariable == context.traceId)
        #expect(context.clientContext == #"{"client":{}}"#)
        #expect(context.cognitoIdentity == nil)
        #expect(context.functionName == "echo")
        #expect(context.functionVersion == "$LATEST")
        #expect(context.memoryLimitInMB == 512)
        #expect(context.logGroupName == "/aws/lambda/echo")
        #expect(context.logStreamName == "2026/01/01/[$LATEST]abc")
        #expect(context.environment.handler == "echo.handler")
        #expect(context.environment.region == "eu-west-1")

        let requests = api.requests
        #expect(requests.map { "\($0.method) \($0.uri)" } == [
            "GET /2018-06-01/runtime/invocation/next",
            "POST /2018-06-01/runtime/invocation/8476a536-e9f4-11e8-9739-2dfe598c3fcd/response",
            "GET /2018-06-01/runtime/invocation/next",
        ])
        #expect(requests[0].headers["Host"] == [api.endpoint])
        #expect(requests[1].headers["Content-Length"] == [String(requests[1].body.count)])
        // Lambda's TimeWindowEventResponse: the failures and the state to carry to the window's next call.
        let response = try #require(requests[1].json)
        #expect(response["batchItemFailures"] as? [[String: String]] == [["itemIdentifier": "222"]])
        #expect(response["state"] as? [String: String] == ["records": "7"])
        #expect(response.count == 2)
        #expect(
            try JSONDecoder().decode(TriggerBatchResponse.self, from: Data(requests[1].body))
                == TriggerBatchResponse(batchItemFailures: [.init(itemIdentifier: "222")], state: ["records": "7"]))
        // One keep-alive connection for every call.
        #expect(api.connections == 1)
    }

    @Test func aHandlersErrorIsPostedAsLambdasErrorDocumentAndTheLoopGoesOn() async throws {
        struct OrderRejected: Error, CustomStringConvertible {
            var description: String { "order 7 has no total" }
        }
        let api = try await FakeRuntimeAPI.start([
            .init(requestId: "r1", event: Array(LambdaEvents.inserts([#"{"pk":{"S":"k1"}}"#]).utf8)),
            .init(requestId: "r2", event: Array(LambdaEvents.inserts([#"{"pk":{"S":"k1"}}"#]).utf8)),
        ])
        let ending = try await runUntilItEnds(api) { _ in
            LambdaFunction.typed { (event: TriggerEvent, context: LambdaContext) -> TriggerBatchResponse in
                if context.requestId == "r1" { throw OrderRejected() }
                return .success
            }
        }
        guard case .connection = ending else { Issue.record("ended with \(ending)"); return }
        let requests = api.requests
        #expect(requests.map(\.uri) == [
            "/2018-06-01/runtime/invocation/next", "/2018-06-01/runtime/invocation/r1/error",
            "/2018-06-01/runtime/invocation/next", "/2018-06-01/runtime/invocation/r2/response",
            "/2018-06-01/runtime/invocation/next",
        ])
        #expect(requests[1].headers["Lambda-Runtime-Function-Error-Type"] == ["OrderRejected"])
        let document = try #require(requests[1].json)
        #expect(document["errorType"] as? String == "OrderRejected")
        #expect(document["errorMessage"] as? String == "order 7 has no total")
        #expect(document["stackTrace"] as? [String] == [])
        #expect(requests[3].text == #"{"batchItemFailures":[]}"#)
    }

    @Test(arguments: [
        "not JSON",
        #"{"Records":[{"eventID":"e1"}]}"#,
        #"{"Records":[{"eventID":"e1","eventName":"INSERT","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"us-east-1","eventSourceARN":"a","dynamodb":{"ApproximateCreationDateTime":1,"Keys":{"pk":{"N":"x"}},"SequenceNumber":"1","SizeBytes":1,"StreamViewType":"KEYS_ONLY"}}]}"#,
    ])
    func anEventThatDoesNotDecodeFailsTheInvocationAsAnUnmarshalError(event: String) async throws {
        let api = try await FakeRuntimeAPI.start([.init(requestId: "r1", event: Array(event.utf8))])
        let called = Seen<Void>()
        _ = try await runUntilItEnds(api) { _ in
            LambdaFunction.typed { (_: TriggerEvent, _: LambdaContext) -> TriggerBatchResponse in
                called.append(())
                return .success
            }
        }
        #expect(called.values.isEmpty)
        let report = try #require(api.requests.first { $0.uri == "/2018-06-01/runtime/invocation/r1/error" })
        #expect(report.headers["Lambda-Runtime-Function-Error-Type"] == ["Runtime.UnmarshalError"])
        #expect(report.json?["errorType"] as? String == "Runtime.UnmarshalError")
        #expect((report.json?["errorMessage"] as? String)?.hasPrefix("Unable to unmarshal input: ") == true)
    }

    @Test func anOutputThatDoesNotEncodeFailsTheInvocationAsAMarshalError() async throws {
        struct Unencodable: Encodable {
            func encode(to encoder: any Encoder) throws {
                throw EncodingError.invalidValue(0, .init(codingPath: [], debugDescription: "no JSON for this"))
            }
        }
        let api = try await FakeRuntimeAPI.start([.init(requestId: "r1", event: Array(LambdaEvents.windowed.utf8))])
        _ = try await runUntilItEnds(api) { _ in
            LambdaFunction.typed { (_: TriggerEvent, _: LambdaContext) in Unencodable() }
        }
        let report = try #require(api.requests.first { $0.uri == "/2018-06-01/runtime/invocation/r1/error" })
        #expect(report.headers["Lambda-Runtime-Function-Error-Type"] == ["Runtime.MarshalError"])
        #expect((report.json?["errorMessage"] as? String)?.contains("no JSON for this") == true)
    }

    @Test func aRawHandlerGetsTheEventsBytesAndItsBytesArePostedAsTheyAre() async throws {
        let event: [UInt8] = Array("not JSON at all \u{1}".utf8)
        let api = try await FakeRuntimeAPI.start([.init(requestId: "r1", event: event)])
        _ = try await runUntilItEnds(api) { _ in
            { bytes, _ in bytes.reversed() + [0xFF] }
        }
        let response = try #require(api.requests.first { $0.uri == "/2018-06-01/runtime/invocation/r1/response" })
        #expect(response.body == event.reversed() + [0xFF])
    }

    @Test func aSetUpThatThrowsIsReportedAsAnInitErrorAndNoInvocationIsTaken() async throws {
        struct MissingTable: Error {}
        let api = try await FakeRuntimeAPI.start([.init(requestId: "r1", event: Array(LambdaEvents.windowed.utf8))])
        let received = Seen<LambdaEnvironment>()
        let ending = try await runUntilItEnds(api) { environment in
            received.append(environment)
            throw MissingTable()
        }
        guard case .initializationFailed(let report) = ending else { Issue.record("ended with \(ending)"); return }
        #expect(report.errorType == "MissingTable")
        #expect(received.values.map(\.functionName) == ["echo"])
        let requests = api.requests
        #expect(requests.map { "\($0.method) \($0.uri)" } == ["POST /2018-06-01/runtime/init/error"])
        #expect(requests[0].headers["Lambda-Runtime-Function-Error-Type"] == ["MissingTable"])
        #expect(requests[0].json?["errorType"] as? String == "MissingTable")
        #expect(requests[0].json?["errorMessage"] as? String == "MissingTable()")
        await api.stop()
    }

    @Test func aRuntimeAPIThatRefusesConnectionsEndsTheLoopAtOnce() async throws {
        let api = try await FakeRuntimeAPI.start()
        await api.stop()
        let started = ContinuousClock.now
        let ending = try await runUntilItEnds(api) { _ in { bytes, _ in bytes } }
        guard case .connection(.connectFailed) = ending else { Issue.record("ended with \(ending)"); return }
        // Not after retrying for long: a bound far above an exit's milliseconds, for a machine busy with other tests.
        #expect(ContinuousClock.now - started < .seconds(30))
    }

    @Test func aContainerErrorOnAResponseEndsTheLoop() async throws {
        var behaviour = FakeRuntimeAPI.Behaviour()
        behaviour.postStatus = .internalServerError
        let api = try await FakeRuntimeAPI.start(
            [.init(requestId: "r1", event: []), .init(requestId: "r2", event: [])], behaviour: behaviour)
        let ending = try await runUntilItEnds(api) { _ in { bytes, _ in bytes } }
        guard case .unexpectedAnswer = ending else { Issue.record("ended with \(ending)"); return }
        #expect(api.requests.map(\.uri) == ["/2018-06-01/runtime/invocation/next", "/2018-06-01/runtime/invocation/r1/response"])
        await api.stop()
    }

    @Test func aRefusedResponseIsLoggedAndTheLoopGoesOn() async throws {
        var behaviour = FakeRuntimeAPI.Behaviour()
        behaviour.postStatus = .payloadTooLarge
        let api = try await FakeRuntimeAPI.start(
            [.init(requestId: "r1", event: []), .init(requestId: "r2", event: [])], behaviour: behaviour)
        let ending = try await runUntilItEnds(api) { _ in { bytes, _ in bytes } }
        guard case .connection = ending else { Issue.record("ended with \(ending)"); return }
        #expect(api.requests.map(\.uri).filter { $0.hasSuffix("/response") } == [
            "/2018-06-01/runtime/invocation/r1/response", "/2018-06-01/runtime/invocation/r2/response",
        ])
    }

    @Test(arguments: [
        ["Lambda-Runtime-Aws-Request-Id": nil], ["Lambda-Runtime-Deadline-Ms": nil],
        ["Lambda-Runtime-Deadline-Ms": "tomorrow"],
    ] as [[String: String?]])
    func anInvocationWithoutItsRequiredHeadersEndsTheLoop(headers: [String: String?]) async throws {
        let api = try await FakeRuntimeAPI.start([.init(requestId: "r1", event: [], headers: headers)])
        let ending = try await runUntilItEnds(api) { _ in { bytes, _ in bytes } }
        guard case .unexpectedAnswer = ending else { Issue.record("ended with \(ending)"); return }
        #expect(api.requests.count == 1)
        await api.stop()
    }

    /// The next invocation is a long poll: the runtime waits for it however long it takes, on the connection
    /// it already has.
    @Test func theNextInvocationIsAwaitedWithoutATimeout() async throws {
        var behaviour = FakeRuntimeAPI.Behaviour()
        behaviour.finishWhenIdle = false
        let api = try await FakeRuntimeAPI.start(behaviour: behaviour)
        let runtime = try LambdaRuntime(variables: ["AWS_LAMBDA_RUNTIME_API": api.endpoint])
        let loop = Task { await Self.runUntilItEnds(runtime) { _ in { bytes, _ in bytes + bytes } } }
        #expect(try await waitUntil { api.requests.count == 1 })
        try await Task.sleep(for: .seconds(2))
        api.enqueue(.init(requestId: "late", event: Array("ab".utf8)))
        #expect(try await waitUntil { api.requests.count == 3 })
        #expect(api.requests[1].uri == "/2018-06-01/runtime/invocation/late/response")
        #expect(api.requests[1].text == "abab")
        #expect(api.connections == 1)
        await api.stop()
        guard case .connection = await loop.value else { Issue.record("the loop did not end on the lost connection"); return }
    }

    /// However the server frames its answers and whatever it does with the connection between them, every
    /// invocation is taken and answered once.
    @Test(arguments: ["chunked", "connection: close", "dropped after each post"])
    func invocationsFlowWhateverTheServerDoesWithTheConnection(variant: String) async throws {
        var behaviour = FakeRuntimeAPI.Behaviour()
        switch variant {
        case "chunked": behaviour.chunkedEvents = true
        case "connection: close": behaviour.connectionClose = true
        default: behaviour.dropConnectionAfterPost = true
        }
        let events = (1...3).map { LambdaEvents.inserts(Array(repeating: #"{"pk":{"S":"k"}}"#, count: $0)) }
        let api = try await FakeRuntimeAPI.start(
            events.enumerated().map { .init(requestId: "r\($0.offset + 1)", event: Array($0.element.utf8)) },
            behaviour: behaviour)
        let ending = try await runUntilItEnds(api) { _ in
            LambdaFunction.typed { (event: TriggerEvent, _: LambdaContext) in event.records.map(\.eventID) }
        }
        guard case .connection = ending else { Issue.record("ended with \(ending)"); return }
        let responses = api.requests.filter { $0.method == "POST" }
        #expect(responses.map(\.uri) == (1...3).map { "/2018-06-01/runtime/invocation/r\($0)/response" })
        #expect(responses.map(\.text) == [#"["e1"]"#, #"["e1","e2"]"#, #"["e1","e2","e3"]"#])
        switch variant {
        case "chunked": #expect(api.connections == 1)
        case "connection: close": #expect(api.connections == 7)
        default: #expect(api.connections == 4)
        }
    }

    @Test(arguments: [
        ("127.0.0.1:9001", "127.0.0.1", 9001), ("localhost:80", "localhost", 80), ("[::1]:9001", "::1", 9001),
    ] as [(String, String, UInt16)])
    func theEndpointIsHostAndPort(endpoint: String, host: String, port: UInt16) throws {
        let parsed = try RuntimeAPIClient.hostAndPort(endpoint)
        #expect(parsed.host == host)
        #expect(parsed.port == port)
    }

    @Test(arguments: ["localhost", ":9001", "localhost:", "localhost:0", "localhost:65536", "::1:9001", "[::1]9001", "[::1]"])
    func anEndpointThatIsNotHostAndPortIsRefused(endpoint: String) {
        #expect(throws: LambdaRuntimeError.self) { try RuntimeAPIClient.hostAndPort(endpoint) }
    }

    @Test func aProcessWithoutARuntimeAPIHasNoRuntime() {
        #expect(throws: LambdaRuntimeError.self) { try LambdaRuntime(variables: ["AWS_LAMBDA_FUNCTION_NAME": "f"]) }
    }

    @Test func theEnvironmentReadsLambdasVariablesAndDefaultsWhatIsMissing() {
        let environment = LambdaEnvironment(Self.variables)
        #expect(environment.functionName == "echo")
        #expect(environment.memoryLimitInMB == 512)
        #expect(environment.region == "eu-west-1")
        let empty = LambdaEnvironment([:])
        #expect(empty.functionName == "")
        #expect(empty.memoryLimitInMB == 0)
    }
}

/// Values a handler saw, appended from the runtime's task and read by the test.
final class Seen<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [Value] = []

    func append(_ value: Value) {
        lock.withLock { seen.append(value) }
    }

    var values: [Value] {
        lock.withLock { seen }
    }
}

/// Waits until `condition` holds, checking every 10 ms, for at most 10 seconds; whether it held.
func waitUntil(_ condition: () -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + .seconds(10)
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}
