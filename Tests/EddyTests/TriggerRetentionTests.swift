import ChildProcessSupport
import Foundation
import MetricsTestKit
import Synchronization
import Testing

@testable import Eddy

// Issue 19: records stream retention removes before a mapping handled them are never skipped silently: the
// mapping moves on from the horizon, and the records are counted (`eddy_trigger_lost_records`), logged,
// shown in `lastProcessingResult` and sent to the on-failure destination with their shard and sequence range.

@Suite(.timeLimit(.minutes(5))) struct TriggerRetentionTests {
    private func sequence(_ record: StreamRecord) -> UInt64 {
        StreamNames.parseSequenceNumber(record.dynamodb.sequenceNumber)!
    }

    /// Every record of stream `arn` now, in sequence-number order.
    private func written(_ db: Database, _ arn: String) async throws -> [StreamRecord] {
        try await readStream(db, arn).map(\.record).sorted { sequence($0) < sequence($1) }
    }

    private func range(_ failure: TriggerFailureRecord) -> ClosedRange<UInt64> {
        StreamNames.parseSequenceNumber(failure.batchInfo.startSequenceNumber)!...StreamNames.parseSequenceNumber(failure.batchInfo.endSequenceNumber)!
    }

    @Test func aBatchRetriedPastRetentionEndsAndEveryLostRecordIsReported() async throws {
        try await withStreamDatabase(shardCount: 1) { db, clock in
            let arn = try #require(try await createStreamTable(db, "Users").latestStreamArn)
            var settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
            // One record per batch: the poison is in memory, retried; the records behind it are not read.
            settings.batchSize = 1
            let failures = ReceivedFailures()
            let received = ReceivedEvents()
            let metrics = TestMetrics()
            let runtime = TriggerRuntime(database: db, metricsFactory: metrics)
            let poisonCalls = Atomic(0)
            try await runtime.register(name: "retained", configuration: settings, onFailure: .handler { failures.append($0) }) { event in
                if event.records.contains(where: { $0.dynamodb.keys["pk"] == .s("poison") }) {
                    poisonCalls.add(1, ordering: .relaxed)
                    throw CancellationError()
                }
                received.append(event)
            }
            let running = Task { await runtime.run() }
            for key in ["poison", "behind1", "behind2", "behind3"] {
                try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": .s(key)]))
            }
            let written = try await written(db, arn)
            try await waitUntil("the poison to fail") { poisonCalls.load(ordering: .relaxed) > 1 }
            #expect(try runtime.mapping("retained").lastProcessingResult == TriggerProcessingResult.functionCallFailed)
            // A day and an hour later, retention removes all four records.
            clock.advance(bySeconds: 25 * 3600)
            try await db.trimExpiredStreamRecords()
            try await waitUntil("every lost record to be reported") { failures.all.map(\.batchInfo.batchSize).reduce(0, +) >= 4 }
            // One record for the retried batch (from memory, after its calls), one for the range never read.
            let all = failures.all.sorted { range($0).lowerBound < range($1).lowerBound }
            #expect(all.count == 2)
            #expect(all.allSatisfy { $0.requestContext.condition == .recordAgeExceeded })
            #expect(all.first?.requestContext.approximateInvokeCount ?? 0 > 0)
            #expect(all.last?.requestContext.approximateInvokeCount == 0)
            #expect(all.map(\.batchInfo.batchSize) == [1, 3])
            #expect(all.map(range) == [sequence(written[0])...sequence(written[0]), sequence(written[1])...sequence(written[3])])
            let dimensions = [("mapping", "retained")]
            try await waitUntil("the lost records counted") { try metrics.expectCounter("eddy_trigger_lost_records", dimensions).totalValue == 4 }
            #expect(try metrics.expectCounter("eddy_trigger_dropped_records", dimensions).totalValue == 4)
            #expect(try runtime.mapping("retained").lastProcessingResult.hasPrefix("PROBLEM: "))
            // The mapping goes on from the horizon.
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "after"]))
            try await received.waitFor(records: 1)
            try await runtime.waitUntilCaughtUp("retained")
            #expect(received.records.map { $0.dynamodb.keys["pk"] } == [.s("after")])
            #expect(try runtime.mapping("retained").lastProcessingResult == TriggerProcessingResult.ok)
            #expect(try db.lostRanges(of: runtime.mapping("retained").uuid).isEmpty)
            running.cancel()
            await running.value
        }
    }

    @Test func aMappingStoppedLongerThanRetentionReportsTheGapWhenItResumes() async throws {
        try await withStreamDatabase(shardCount: 2) { db, clock in
            let arn = try #require(try await createStreamTable(db, "Users").latestStreamArn)
            var settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .latest)
            settings.parallelizationFactor = 2
            // Only the records the filter lets through are owed: the others are not lost.
            settings.filterCriteria = try FilterCriteria(patterns: [#"{"dynamodb":{"NewImage":{"kind":{"S":["wanted"]}}}}"#])
            let failures = ReceivedFailures()
            let received = ReceivedEvents()
            let metrics = TestMetrics()
            let runtime = TriggerRuntime(database: db, metricsFactory: metrics)
            try await runtime.register(name: "stopped", configuration: settings, onFailure: .handler { failures.append($0) }) {
                received.append($0)
            }
            // The runtime does not run: the mapping is stopped while twenty records come and go.
            for index in 0..<20 {
                try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": .s("u\(index)"), "kind": .s(index % 4 == 0 ? "other" : "wanted")]))
            }
            let written = try await written(db, arn)
            clock.advance(bySeconds: 25 * 3600)
            try await db.trimExpiredStreamRecords()
            let running = Task { await runtime.run() }
            try await waitUntil("the gap to be reported") { failures.all.map(\.batchInfo.batchSize).reduce(0, +) >= 15 }
            // One record per lost range: a range per lane that lost records, within one shard each.
            let wanted = written.filter { $0.dynamodb.newImage?["kind"] == .s("wanted") }
            #expect(failures.all.map(\.batchInfo.batchSize).reduce(0, +) == wanted.count)
            #expect(failures.all.count <= 4)
            for failure in failures.all {
                #expect(failure.requestContext.condition == .recordAgeExceeded)
                #expect(failure.requestContext.approximateInvokeCount == 0)
                let inRange = wanted.filter { range(failure).contains(sequence($0)) }
                #expect(inRange.count >= failure.batchInfo.batchSize, "the range holds the records it counts")
            }
            let dimensions = [("mapping", "stopped")]
            try await waitUntil("the lost records counted") { try metrics.expectCounter("eddy_trigger_lost_records", dimensions).totalValue == Int64(wanted.count) }
            #expect(try runtime.mapping("stopped").lastProcessingResult.hasPrefix("PROBLEM: "))
            // Then it goes on from the horizon.
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "after", "kind": "wanted"]))
            try await received.waitFor(records: 1)
            try await runtime.waitUntilCaughtUp("stopped")
            #expect(received.records.map { $0.dynamodb.keys["pk"] } == [.s("after")])
            running.cancel()
            await running.value
        }
    }
}
