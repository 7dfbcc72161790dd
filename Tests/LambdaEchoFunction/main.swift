import EddyLambdaRuntime
import Foundation

// A Lambda function on DynamoDB stream events, for the tests that run a function as a child process under a
// Runtime API (EddyLambdaRuntimeTests; Eddy's function runtime). For each event it:
// - answers the records' eventIDs, in order, in `eventIDs`;
// - fails each record whose NewImage has `fail` = true through `batchItemFailures` (ReportBatchItemFailures),
//   by its sequence number;
// - fails the whole invocation, by throwing, if a record's NewImage has `throw` = true;
// - with a tumbling window, counts the window's records in its state (`{"records":"N"}`);
// - prints `ECHO <request id> <records>` on standard output.
// With ECHO_FAIL_SETUP set, its set-up throws: the runtime reports an init error and the process exits.

/// The function's response: Lambda's `TimeWindowEventResponse` fields and the echoed event ids.
struct EchoResponse: Encodable {
    var batchItemFailures: [TriggerBatchResponse.BatchItemFailure]
    var state: [String: String]?
    var eventIDs: [String]
}

enum EchoError: Error {
    case setUpFailed(String)
    case thrownFor(eventID: String)
}

await LambdaFunction.run(setUp: { _ in
    if let reason = ProcessInfo.processInfo.environment["ECHO_FAIL_SETUP"] {
        throw EchoError.setUpFailed(reason)
    }
    return { (event: TriggerEvent, context: LambdaContext) -> EchoResponse in
        FileHandle.standardOutput.write(Data("ECHO \(context.requestId) \(event.records.count)\n".utf8))
        if let record = event.records.first(where: { $0.dynamodb.newImage?["throw"] == .bool(true) }) {
            throw EchoError.thrownFor(eventID: record.eventID)
        }
        var response = EchoResponse(
            batchItemFailures: event.records.filter { $0.dynamodb.newImage?["fail"] == .bool(true) }
                .map { .init(itemIdentifier: $0.dynamodb.sequenceNumber) },
            eventIDs: event.records.map(\.eventID))
        if event.window != nil {
            let counted = event.state?["records"].flatMap { Int($0) } ?? 0
            response.state = ["records": String(counted + event.records.count)]
        }
        return response
    }
})
