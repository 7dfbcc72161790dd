import Foundation
import Testing

@testable import EddyFunctions

/// Invoke with `Event` (Lambda developer guide, "Asynchronous invocation"): a function error is retried twice,
/// then the invocation is dropped, and that is said, not silent. The retry delays are shortened from Lambda's
/// one and two minutes. The function is a real Python process under awslambdaric.
@Suite(.timeLimit(.minutes(2))) struct AsynchronousInvocationTests {
    @Test func anInvocationThatKeepsFailingIsTriedThreeTimesThenDroppedWithATrace() async throws {
        let root = try TemporaryDirectory()
        let code = root.url("code").path
        try FileManager.default.createDirectory(atPath: code, withIntermediateDirectories: true)
        try Data("def handler(event, context):\n    raise RuntimeError('always')\n".utf8)
            .write(to: URL(fileURLWithPath: "\(code)/app.py"))
        let functions = try Functions(configuration: .init(
            directory: root.url("functions").path, asynchronousRetryDelays: [.milliseconds(50), .milliseconds(50)]))
        defer { functions.shutdown() }
        _ = try await functions.create(CreateFunctionRequest(
            functionName: "failing", runtime: "python3.12", handler: "app.handler", zipFile: try FunctionCode.zip(directory: code)))

        let requestId = try functions.invokeAsynchronously("failing", payload: Array(#"{"n":1}"#.utf8))
        let logPath = root.url("functions/failing/logs/function.log").path
        let dropped = "Asynchronous invocation \(requestId) of failing failed 3 times and is dropped"
        let deadline = ContinuousClock.now + .seconds(100)
        var log = ""
        while ContinuousClock.now < deadline {
            log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            if log.contains(dropped) { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(log.contains(dropped), "\(log)")
        #expect(log.components(separatedBy: "START RequestId: ").count - 1 == 3, "\(log)")
        #expect(log.components(separatedBy: "RuntimeError").count > 3, "each attempt's error is in the log: \(log)")
    }
}
