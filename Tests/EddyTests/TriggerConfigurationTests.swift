import ChildProcessSupport
import Foundation
import Testing

@testable import Eddy

// Trigger mapping settings and the handler's event, written from AWS Lambda's CreateEventSourceMapping
// reference (ranges and defaults for DynamoDB streams) and the "Using Lambda with DynamoDB" event example.

@Suite(.timeLimit(.minutes(5))) struct TriggerConfigurationTests {
    private let arn = "arn:aws:dynamodb:us-east-1:000000000000:table/Users/stream/2026-01-01T00:00:00.000"

    @Test func defaultsAreLambdas() throws {
        let settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .latest)
        try settings.validate()
        #expect(settings.resolved == TriggerMappingConfiguration.Resolved(
            batchSize: 100, maximumBatchingWindowInSeconds: 0, parallelizationFactor: 1, maximumRetryAttempts: -1,
            maximumRecordAgeInSeconds: -1, bisectBatchOnFunctionError: false, reportsBatchItemFailures: false,
            tumblingWindowInSeconds: 0, enabled: true))
    }

    @Test(arguments: [
        ("batchSize", 1, 10_000), ("maximumBatchingWindowInSeconds", 0, 300), ("parallelizationFactor", 1, 10),
        ("maximumRetryAttempts", -1, 10_000), ("maximumRecordAgeInSeconds", -1, 604_800),
        ("tumblingWindowInSeconds", 0, 900),
    ])
    func rangesAreEnforcedAtBothEnds(name: String, low: Int, high: Int) async throws {
        func settings(_ value: Int) -> TriggerMappingConfiguration {
            var settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
            switch name {
            case "batchSize": settings.batchSize = value
            case "maximumBatchingWindowInSeconds": settings.maximumBatchingWindowInSeconds = value
            case "parallelizationFactor": settings.parallelizationFactor = value
            case "maximumRetryAttempts": settings.maximumRetryAttempts = value
            case "maximumRecordAgeInSeconds": settings.maximumRecordAgeInSeconds = value
            default: settings.tumblingWindowInSeconds = value
            }
            return settings
        }
        try settings(low).validate()
        try settings(high).validate()
        await expectValidation(
            "1 validation error detected: Value '\(low - 1)' at '\(name)' failed to satisfy constraint: Member must have value greater than or equal to \(low)"
        ) { try settings(low - 1).validate() }
        await expectValidation(
            "1 validation error detected: Value '\(high + 1)' at '\(name)' failed to satisfy constraint: Member must have value less than or equal to \(high)"
        ) { try settings(high + 1).validate() }
    }

    @Test func aRecordAgeUnderAMinuteIsRefused() async throws {
        var settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
        for age in [0, 59] {
            settings.maximumRecordAgeInSeconds = age
            await expectEddyError("InvalidParameterValueException") { try settings.validate() }
        }
        settings.maximumRecordAgeInSeconds = 60
        try settings.validate()
    }

    @Test func settingsUseLambdasWireNames() throws {
        var settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
        settings.batchSize = 10
        settings.functionResponseTypes = [.reportBatchItemFailures]
        settings.bisectBatchOnFunctionError = true
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(settings)) as? [String: Any]
        #expect(json?["EventSourceArn"] as? String == arn)
        #expect(json?["StartingPosition"] as? String == "TRIM_HORIZON")
        #expect(json?["BatchSize"] as? Int == 10)
        #expect(json?["FunctionResponseTypes"] as? [String] == ["ReportBatchItemFailures"])
        #expect(json?["BisectBatchOnFunctionError"] as? Bool == true)
        let decoded = try JSONDecoder().decode(TriggerMappingConfiguration.self, from: JSONEncoder().encode(settings))
        #expect(decoded == settings)
        #expect(decoded.resolved.reportsBatchItemFailures)
    }

    /// The handler's event has the shape of Lambda's DynamoDB event: `Records`, each with the stream record's
    /// fields and `eventSourceARN`.
    @Test func eventsHaveLambdasShape() async throws {
        try await withStreamDatabase { db, _ in
            let streamArn = try #require(try await createStreamTable(db, "Users").latestStreamArn)
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "u1", "email": "ada@example.com"]))
            let record = try #require(try await readStream(db, streamArn).first?.record)
            let event = TriggerEvent(records: [TriggerEventRecord(record, streamArn: streamArn)])
            let json = try JSONSerialization.jsonObject(with: event.json) as? [String: Any]
            let records = try #require(json?["Records"] as? [[String: Any]])
            #expect(json?.keys.sorted() == ["Records"])
            #expect(records.count == 1)
            #expect(Set(records[0].keys) == ["eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb", "eventSourceARN"])
            #expect(records[0]["eventSourceARN"] as? String == streamArn)
            #expect(records[0]["eventName"] as? String == "INSERT")
            let dynamodb = try #require(records[0]["dynamodb"] as? [String: Any])
            #expect((dynamodb["NewImage"] as? [String: Any])?["email"] as? [String: String] == ["S": "ada@example.com"])
            #expect(try JSONDecoder().decode(TriggerEvent.self, from: event.json) == event)
        }
    }
}
