import ChildProcessSupport
import Foundation
import Testing

/// LambdaEchoFunction, a Swift executable built on EddyLambdaRuntime, run as a child process under the test's
/// Runtime API, as Lambda runs a function's `bootstrap`: what it answers, and how the process ends.
@Suite struct LambdaEchoFunctionTests {
    /// Runs the function under `api` (with `environment` besides the endpoint) until it exits.
    func runFunction(_ api: FakeRuntimeAPI?, environment: [String: String] = [:]) async throws -> ChildRun {
        try await runFunction(endpoint: api?.endpoint, environment: environment)
    }

    /// Runs the function against the Runtime API at `endpoint` (nil: none set).
    func runFunction(endpoint: String?, environment: [String: String] = [:]) async throws -> ChildRun {
        let variables = environment.merging(endpoint.map { ["AWS_LAMBDA_RUNTIME_API": $0] } ?? [:]) { $1 }
        let run = try await offThePool {
            try runChild("LambdaEchoFunction", arguments: [], environment: variables, waitingAtMost: 30)
        }
        #expect(!run.killedByTest, "the function did not exit: \(run.errorOutput)")
        return run
    }

    @Test func itEchoesEventIDsFailsMarkedRecordsCountsItsWindowAndExitsOnceTheRuntimeAPIIsGone() async throws {
        let api = try await FakeRuntimeAPI.start([
            .init(requestId: "r1", event: Array(LambdaEvents.inserts([
                #"{"pk":{"S":"k1"}}"#, #"{"pk":{"S":"k2"},"fail":{"BOOL":true}}"#, #"{"pk":{"S":"k3"},"fail":{"BOOL":false}}"#,
            ]).utf8)),
            .init(requestId: "r2", event: Array(LambdaEvents.windowed.utf8)),
        ])
        let run = try await runFunction(api)

        #expect(run.exitStatus == 1)
        #expect(run.errorOutput.contains("the Runtime API is gone"))
        #expect(run.lines == ["ECHO r1 3", "ECHO r2 3"])
        let requests = api.requests
        #expect(requests.map { "\($0.method) \($0.uri)" } == [
            "GET /2018-06-01/runtime/invocation/next", "POST /2018-06-01/runtime/invocation/r1/response",
            "GET /2018-06-01/runtime/invocation/next", "POST /2018-06-01/runtime/invocation/r2/response",
            "GET /2018-06-01/runtime/invocation/next",
        ])
        let first = try #require(requests[1].json)
        #expect(first["eventIDs"] as? [String] == ["e1", "e2", "e3"])
        #expect(first["batchItemFailures"] as? [[String: String]] == [["itemIdentifier": "2"]])
        #expect(first["state"] == nil)
        let second = try #require(requests[3].json)
        #expect(second["eventIDs"] as? [String] == ["1", "2", "3"])
        #expect(second["batchItemFailures"] as? [[String: String]] == [["itemIdentifier": "222"]])
        #expect(second["state"] as? [String: String] == ["records": "7"])
    }

    @Test func aRecordThatAsksToThrowFailsTheInvocationWithTheErrorsType() async throws {
        let api = try await FakeRuntimeAPI.start([
            .init(requestId: "r1", event: Array(LambdaEvents.inserts([#"{"pk":{"S":"k1"}}"#, #"{"throw":{"BOOL":true}}"#]).utf8))
        ])
        let run = try await runFunction(api)

        #expect(run.exitStatus == 1)
        let report = try #require(api.requests.first { $0.uri == "/2018-06-01/runtime/invocation/r1/error" })
        #expect(report.headers["Lambda-Runtime-Function-Error-Type"] == ["EchoError"])
        #expect(report.json?["errorType"] as? String == "EchoError")
        #expect(report.json?["errorMessage"] as? String == #"thrownFor(eventID: "e2")"#)
        #expect(run.errorOutput.contains("Invoke error r1: EchoError"))
    }

    @Test func aSetUpThatThrowsIsReportedAndTheProcessExitsWithStatus1() async throws {
        let api = try await FakeRuntimeAPI.start([.init(requestId: "r1", event: Array(LambdaEvents.windowed.utf8))])
        let run = try await runFunction(api, environment: ["ECHO_FAIL_SETUP": "no table"])

        #expect(run.exitStatus == 1)
        let requests = api.requests
        #expect(requests.map { "\($0.method) \($0.uri)" } == ["POST /2018-06-01/runtime/init/error"])
        #expect(requests.first?.headers["Lambda-Runtime-Function-Error-Type"] == ["EchoError"])
        #expect(requests.first?.json?["errorMessage"] as? String == #"setUpFailed("no table")"#)
        #expect(run.lines.isEmpty)
        await api.stop()
    }

    /// A runtime whose Runtime API is gone exits at once, with a non-zero status, rather than trying again
    /// and again: Lambda then starts a new execution environment.
    @Test func theProcessExitsAtOnceWhenNothingAnswersAtTheRuntimeAPI() async throws {
        // A port held bound without listening: a stopped server's port could be taken by a test running
        // beside this one, whose server would keep the function waiting.
        let held = try HeldPort()
        // `runFunction` kills a function still running after 30 seconds, and fails the test then.
        let run = try await runFunction(endpoint: "127.0.0.1:\(held.port)")

        #expect(run.exitStatus == 1)
        // One refused connection, said once: no attempt after it.
        #expect(run.errorOutput.components(separatedBy: "cannot connect to 127.0.0.1:\(held.port)").count - 1 == 1, "\(run.errorOutput)")
    }

    @Test func theProcessExitsWhenItRunsWithoutARuntimeAPI() async throws {
        let run = try await runFunction(nil)

        #expect(run.exitStatus == 1)
        #expect(run.errorOutput.contains("AWS_LAMBDA_RUNTIME_API is not set"))
    }
}
