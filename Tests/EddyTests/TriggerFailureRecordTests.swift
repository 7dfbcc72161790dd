import ChildProcessSupport
import Foundation
import Testing

@testable import Eddy

// The on-failure record, written from the Lambda developer guide's "Retaining discarded records for a
// DynamoDB event source" (its example invocation record gives the fields, their nesting and their types) and
// checked with the model Lambda users parse these records with, aws-lambda-powertools'
// DynamoDBStreamLambdaOnFailureDestinationModel.

/// Opens a database of region `eu-west-3` and account `123456789012` (so that ARNs show where they come
/// from) with one stream shard and a clock that stands still until the test moves it.
private func withFailureDatabase(_ body: (Database, ManualWallClock) async throws -> Void) async throws {
    try await withTemporaryDirectory { path in
        let clock = ManualWallClock(milliseconds: 1_750_000_000_000)
        let database = try Database(
            path: path + "/db",
            configuration: .init(region: "eu-west-3", accountId: "123456789012", clock: clock, streamShardCount: 1))
        try await body(database, clock)
    }
}

/// Runs mapping `name` of `runtime` until it has caught up with everything written by `write`, and returns
/// what its on-failure destination received.
private func failuresOf(
    _ name: String, in runtime: TriggerRuntime, _ failures: ReceivedFailures, after write: () async throws -> Void
) async throws -> [TriggerFailureRecord] {
    let running = Task { await runtime.run() }
    try await write()
    try await runtime.waitUntilCaughtUp(name)
    running.cancel()
    await running.value
    return failures.all
}

/// A mapping of table `Users` whose handler fails on every record keyed `poison`, retried
/// `maximumRetryAttempts` times; returns the records its on-failure destination got after
/// `a`, `poison`, `b` were written.
private func recordsOfAFailingHandler(_ db: Database, name: String, maximumRetryAttempts: Int) async throws -> (
    failures: [TriggerFailureRecord], poison: StreamRecord, streamArn: String
) {
    let arn = try #require(try await createStreamTable(db, "Users").latestStreamArn)
    var settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
    settings.batchSize = 1
    settings.maximumRetryAttempts = maximumRetryAttempts
    struct Refused: Error {}
    let runtime = TriggerRuntime(database: db)
    let received = ReceivedFailures()
    try await runtime.register(name: name, configuration: settings, onFailure: .handler { received.append($0) }) { event in
        if event.records.contains(where: { $0.dynamodb.keys == ["pk": "poison"] }) { throw Refused() }
    }
    let failures = try await failuresOf(name, in: runtime, received) {
        for key in ["a", "poison", "b"] { try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": .s(key)])) }
    }
    let poison = try #require(try await readStream(db, arn).map(\.record).first { $0.dynamodb.keys == ["pk": "poison"] })
    return (failures, poison, arn)
}

/// A mapping of table `Users` with a maximum record age of a minute, which finds a record two minutes old
/// and never hands it to its handler; returns what its on-failure destination got.
private func recordsOfAnAgeDrop(_ db: Database, _ clock: ManualWallClock, name: String) async throws -> (
    failures: [TriggerFailureRecord], old: StreamRecord, streamArn: String
) {
    let arn = try #require(try await createStreamTable(db, "Users").latestStreamArn)
    var settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
    settings.maximumRecordAgeInSeconds = 60
    try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "old"]))
    clock.advance(bySeconds: 120)
    let runtime = TriggerRuntime(database: db)
    let received = ReceivedFailures()
    try await runtime.register(name: name, configuration: settings, onFailure: .handler { received.append($0) }) { _ in }
    let failures = try await failuresOf(name, in: runtime, received) {
        try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "young"]))
    }
    let old = try #require(try await readStream(db, arn).map(\.record).first { $0.dynamodb.keys == ["pk": "old"] })
    return (failures, old, arn)
}

/// `record` as the JSON object a destination's reader parses.
private func jsonObject(_ record: TriggerFailureRecord) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(record)) as? [String: Any])
}

/// Whether `text` is a lowercase UUID, as Lambda's request ids are.
private func isLowercaseUUID(_ text: String?) -> Bool {
    guard let text, let uuid = UUID(uuidString: text) else { return false }
    return uuid.uuidString.lowercased() == text
}

/// Whether `text` is an ISO 8601 UTC time with milliseconds, as `2019-11-14T00:13:49.717Z`.
private func isISO8601(_ text: String?) -> Bool {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return text.flatMap(formatter.date(from:)) != nil
}

/// Checks that `json` has exactly the fields of Lambda's invocation record for a DynamoDB stream, nested as
/// the developer guide's example nests them, each with the example's JSON type; returns its three objects.
private func expectLambdaShape(_ json: [String: Any]) throws -> (
    request: [String: Any], response: [String: Any], batch: [String: Any]
) {
    #expect(Set(json.keys) == ["requestContext", "responseContext", "version", "timestamp", "DDBStreamBatchInfo"])
    let request = try #require(json["requestContext"] as? [String: Any])
    let response = try #require(json["responseContext"] as? [String: Any])
    let batch = try #require(json["DDBStreamBatchInfo"] as? [String: Any])
    #expect(Set(request.keys) == ["requestId", "functionArn", "condition", "approximateInvokeCount"])
    #expect(Set(response.keys) == ["statusCode", "executedVersion", "functionError"])
    #expect(Set(batch.keys) == [
        "shardId", "startSequenceNumber", "endSequenceNumber", "approximateArrivalOfFirstRecord",
        "approximateArrivalOfLastRecord", "batchSize", "streamArn",
    ])
    for key in ["requestId", "functionArn", "condition"] { #expect(request[key] is String, "requestContext.\(key)") }
    #expect(request["approximateInvokeCount"] is Int)
    #expect(response["statusCode"] is Int)
    #expect(response["executedVersion"] is String)
    #expect(response["functionError"] is String)
    #expect(json["version"] as? String == "1.0")
    #expect(isISO8601(json["timestamp"] as? String))
    for key in ["shardId", "startSequenceNumber", "endSequenceNumber", "streamArn"] {
        #expect(batch[key] is String, "DDBStreamBatchInfo.\(key)")
    }
    #expect(isISO8601(batch["approximateArrivalOfFirstRecord"] as? String))
    #expect(isISO8601(batch["approximateArrivalOfLastRecord"] as? String))
    #expect(batch["batchSize"] is Int)
    #expect(isLowercaseUUID(request["requestId"] as? String))
    return (request, response, batch)
}

@Suite(.timeLimit(.minutes(5))) struct TriggerFailureRecordTests {
    @Test(arguments: [0, 1]) func exhaustedRetriesAreReportedInLambdasShape(maximumRetryAttempts: Int) async throws {
        try await withFailureDatabase { db, clock in
            let (failures, poison, arn) = try await recordsOfAFailingHandler(
                db, name: "welcome", maximumRetryAttempts: maximumRetryAttempts)
            #expect(failures.count == 1)
            let failure = try #require(failures.first)
            let (request, response, batch) = try expectLambdaShape(try jsonObject(failure))
            // An in-process mapping is the function named after it, in the database's region and account.
            #expect(request["functionArn"] as? String == "arn:aws:lambda:eu-west-3:123456789012:function:welcome")
            #expect(request["condition"] as? String == "RetryAttemptsExhausted")
            #expect(request["approximateInvokeCount"] as? Int == maximumRetryAttempts + 1)
            // What Lambda answers for a function that threw.
            #expect(response["statusCode"] as? Int == 200)
            #expect(response["executedVersion"] as? String == "$LATEST")
            #expect(response["functionError"] as? String == "Unhandled")
            let shard = try #require(try await allShards(db, arn).first).shardId
            #expect(batch["shardId"] as? String == shard)
            #expect(batch["startSequenceNumber"] as? String == poison.dynamodb.sequenceNumber)
            #expect(batch["endSequenceNumber"] as? String == poison.dynamodb.sequenceNumber)
            #expect(batch["batchSize"] as? Int == 1)
            #expect(batch["streamArn"] as? String == arn)
            let committed = StreamNames.label(milliseconds: Int64(poison.dynamodb.approximateCreationDateTime * 1000)) + "Z"
            #expect(batch["approximateArrivalOfFirstRecord"] as? String == committed)
            #expect(batch["approximateArrivalOfLastRecord"] as? String == committed)
            #expect(failure.timestamp == StreamNames.label(milliseconds: clock.nowMilliseconds()) + "Z")
            // The Swift value reads back from its JSON.
            #expect(try JSONDecoder().decode(TriggerFailureRecord.self, from: JSONEncoder().encode(failure)) == failure)
        }
    }

    @Test func recordsTooOldToHandAreReportedAsNeverInvoked() async throws {
        try await withFailureDatabase { db, clock in
            let (failures, old, _) = try await recordsOfAnAgeDrop(db, clock, name: "recent")
            #expect(failures.count == 1)
            let failure = try #require(failures.first)
            let (request, response, batch) = try expectLambdaShape(try jsonObject(failure))
            #expect(request["condition"] as? String == "RecordAgeExceeded")
            #expect(request["approximateInvokeCount"] as? Int == 0)
            #expect(request["functionArn"] as? String == "arn:aws:lambda:eu-west-3:123456789012:function:recent")
            // No call was made: no HTTP status and no function error, but every field is there.
            #expect(response["statusCode"] as? Int == 0)
            #expect(response["executedVersion"] as? String == "$LATEST")
            #expect(response["functionError"] as? String == "")
            #expect(batch["startSequenceNumber"] as? String == old.dynamodb.sequenceNumber)
            #expect(batch["batchSize"] as? Int == 1)
        }
    }

    @Test func everyReportHasItsOwnRequestId() async throws {
        try await withFailureDatabase { db, _ in
            let arn = try #require(try await createStreamTable(db, "Users").latestStreamArn)
            var settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
            settings.batchSize = 1
            settings.maximumRetryAttempts = 0
            struct Refused: Error {}
            let runtime = TriggerRuntime(database: db)
            let received = ReceivedFailures()
            try await runtime.register(name: "refuses", configuration: settings, onFailure: .handler { received.append($0) }) { _ in
                throw Refused()
            }
            let failures = try await failuresOf("refuses", in: runtime, received) {
                for key in ["a", "b", "c"] { try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": .s(key)])) }
            }
            #expect(failures.count == 3)
            #expect(failures.allSatisfy { isLowercaseUUID($0.requestContext.requestId) })
            #expect(Set(failures.map(\.requestContext.requestId)).count == 3)
        }
    }

    @Test func aLostRangeIsDescribedWithoutItsRecords() throws {
        // Records trimmed by retention cannot be read: the record is built from what the mapping knows of
        // the range. Its JSON is the developer guide's example with Eddy's values.
        let lost = TriggerFailureRecord(
            .recordAgeExceeded, invokeCount: 0, requestId: "316aa6d0-8154-4a3e-9af7-85d5f4a6bc81",
            functionArn: "arn:aws:lambda:us-east-2:123456789012:function:myfunction",
            shardId: "shardId-00000001573689847184-0000000a", startSequenceNumber: "000000000000000000101",
            endSequenceNumber: "000000000000000000150", firstArrivalMilliseconds: 1_573_690_399_000,
            lastArrivalMilliseconds: 1_573_690_400_250, count: 50,
            streamArn: "arn:aws:dynamodb:us-east-2:123456789012:table/mytable/stream/2019-11-14T00:04:06.388",
            nowMilliseconds: 1_573_690_429_717)
        let json = try jsonObject(lost)
        let (request, response, batch) = try expectLambdaShape(json)
        #expect(request["requestId"] as? String == "316aa6d0-8154-4a3e-9af7-85d5f4a6bc81")
        #expect(request["functionArn"] as? String == "arn:aws:lambda:us-east-2:123456789012:function:myfunction")
        #expect(request["condition"] as? String == "RecordAgeExceeded")
        #expect(response["statusCode"] as? Int == 0)
        #expect(json["timestamp"] as? String == "2019-11-14T00:13:49.717Z")
        #expect(batch["shardId"] as? String == "shardId-00000001573689847184-0000000a")
        #expect(batch["startSequenceNumber"] as? String == "000000000000000000101")
        #expect(batch["endSequenceNumber"] as? String == "000000000000000000150")
        #expect(batch["approximateArrivalOfFirstRecord"] as? String == "2019-11-14T00:13:19.000Z")
        #expect(batch["approximateArrivalOfLastRecord"] as? String == "2019-11-14T00:13:20.250Z")
        #expect(batch["batchSize"] as? Int == 50)
        #expect(batch["streamArn"] as? String == "arn:aws:dynamodb:us-east-2:123456789012:table/mytable/stream/2019-11-14T00:04:06.388")
        // Without a request id, the record gets a fresh one.
        let fresh = TriggerFailureRecord(
            .recordAgeExceeded, invokeCount: 0, functionArn: "f", shardId: "s", startSequenceNumber: "1",
            endSequenceNumber: "2", firstArrivalMilliseconds: 0, lastArrivalMilliseconds: 0, count: 2, streamArn: "a",
            nowMilliseconds: 0)
        #expect(isLowercaseUUID(fresh.requestContext.requestId))
    }

    @Test func powertoolsParsesTheRecordsOfARealMapping() async throws {
        var records: [TriggerFailureRecord] = []
        try await withFailureDatabase { db, _ in
            records += try await recordsOfAFailingHandler(db, name: "welcome", maximumRetryAttempts: 1).failures
        }
        try await withFailureDatabase { db, clock in
            records += try await recordsOfAnAgeDrop(db, clock, name: "recent").failures
        }
        #expect(records.count == 2)
        let lines = try records.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        let parsed = try await parseWithPowertools(lines)
        #expect(parsed == [
            "RetryAttemptsExhausted 2 200 $LATEST Unhandled 1 arn:aws:lambda:eu-west-3:123456789012:function:welcome",
            "RecordAgeExceeded 0 0 $LATEST  1 arn:aws:lambda:eu-west-3:123456789012:function:recent",
        ])
    }
}

/// Parses each of `lines` (one on-failure record's JSON each) with aws-lambda-powertools'
/// `DynamoDBStreamLambdaOnFailureDestinationModel.model_validate_json`, and returns, for each, the fields the
/// model read. Fails the test if python3 or the package is missing, or if the model refuses a record.
private func parseWithPowertools(_ lines: [String]) async throws -> [String] {
    let script = #"""
        import sys
        try:
            from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamLambdaOnFailureDestinationModel
        except ImportError as error:
            sys.stderr.write(f"aws-lambda-powertools' parser is missing ({error}): run scripts/install-deps.sh\n")
            sys.exit(3)
        for line in sys.stdin.read().splitlines():
            record = DynamoDBStreamLambdaOnFailureDestinationModel.model_validate_json(line)
            request, response = record.request_context, record.response_context
            print(request.condition, request.approximate_invoke_count, response.status_code, response.executed_version,
                  response.function_error, record.ddb_stream_batch_info.batch_size, request.function_arn)
        """#
    let input = Data(lines.map { $0 + "\n" }.joined().utf8)
    let (status, output, errors) = try await offThePool { () throws -> (Int32, String, String) in
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        // Python reads all of its input before it writes, so writing first cannot deadlock.
        try stdin.fileHandleForWriting.write(contentsOf: input)
        try stdin.fileHandleForWriting.close()
        let output = try stdout.fileHandleForReading.readToEnd() ?? Data()
        let errors = try stderr.fileHandleForReading.readToEnd() ?? Data()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: errors, as: UTF8.self))
    }
    try #require(status != 127, "python3 is missing: run scripts/install-deps.sh")
    try #require(status != 3, "\(errors)")
    try #require(status == 0, "DynamoDBStreamLambdaOnFailureDestinationModel refused a record:\n\(errors)")
    return output.split(separator: "\n").map(String.init)
}
