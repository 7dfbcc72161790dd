import EddyLambdaRuntime
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

// A Lambda function in Swift for the server tests (Tests/server/test_function_mappings.py), the counterpart of
// their Python handler on aws-lambda-powertools' batch utility: for each DynamoDB stream record of an event it
// writes `{sk: <the record's sk>, requestId: <the invocation's request id>}` to the table RESULTS_TABLE of the
// server at AWS_ENDPOINT_URL (DynamoDB's JSON protocol), and the first time it sees a record whose NewImage has
// `failOnce` = true it reports that record as failed (ReportBatchItemFailures), remembering it with a
// conditional put of `failed-<sk>`. The server runs without --credentials, so the requests carry a well-formed
// SigV4 header whose signature is not checked.

/// Eddy's (or DynamoDB's) JSON API at one endpoint.
struct DynamoDBClient: Sendable {
    var endpoint: URL
    var accessKeyId: String
    var region: String

    /// Calls `operation` with `body`; the HTTP status and the answer's JSON object.
    func call(_ operation: String, _ body: [String: Any]) async throws -> (status: Int, answer: [String: Any]) {
        var request = URLRequest(url: endpoint)
        request.httpMethod = "POST"
        request.httpBody = try JSONSerialization.data(withJSONObject: body)
        let now = Date()
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let stamp = formatter.string(from: now)
        request.setValue("application/x-amz-json-1.0", forHTTPHeaderField: "Content-Type")
        request.setValue("DynamoDB_20120810.\(operation)", forHTTPHeaderField: "X-Amz-Target")
        request.setValue(stamp, forHTTPHeaderField: "X-Amz-Date")
        request.setValue(
            "AWS4-HMAC-SHA256 Credential=\(accessKeyId)/\(stamp.prefix(8))/\(region)/dynamodb/aws4_request, "
                + "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=\(String(repeating: "0", count: 64))",
            forHTTPHeaderField: "Authorization")
        let (data, response) = try await URLSession.shared.data(for: request)
        let answer = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, answer)
    }
}

struct WriteFailed: Error, CustomStringConvertible {
    var description: String
}

await LambdaFunction.run(setUp: { environment in
    let variables = ProcessInfo.processInfo.environment
    guard let table = variables["RESULTS_TABLE"], let endpoint = variables["AWS_ENDPOINT_URL"].flatMap(URL.init(string:)) else {
        throw WriteFailed(description: "RESULTS_TABLE and AWS_ENDPOINT_URL must be set")
    }
    let client = DynamoDBClient(endpoint: endpoint, accessKeyId: variables["AWS_ACCESS_KEY_ID"] ?? "eddy", region: environment.region)
    return { (event: TriggerEvent, context: LambdaContext) -> TriggerBatchResponse in
        var failures: [TriggerBatchResponse.BatchItemFailure] = []
        for record in event.records {
            guard case .s(let key)? = record.dynamodb.newImage?["sk"] else { continue }
            let written = try await client.call("PutItem", [
                "TableName": table, "Item": ["sk": ["S": key], "requestId": ["S": context.requestId]],
            ])
            guard written.status == 200 else { throw WriteFailed(description: "PutItem answered \(written)") }
            guard record.dynamodb.newImage?["failOnce"] == .bool(true) else { continue }
            let marked = try await client.call("PutItem", [
                "TableName": table, "Item": ["sk": ["S": "failed-\(key)"], "requestId": ["S": "-"]],
                "ConditionExpression": "attribute_not_exists(sk)",
            ])
            if marked.status == 200 {
                failures.append(.init(itemIdentifier: record.dynamodb.sequenceNumber))
            } else if !"\(marked.answer["__type"] ?? "")".hasSuffix("ConditionalCheckFailedException") {
                throw WriteFailed(description: "PutItem answered \(marked)")
            }
        }
        return TriggerBatchResponse(batchItemFailures: failures)
    }
})
