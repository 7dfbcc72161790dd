import Foundation
import Testing

@testable import Eddy
@testable import EddySearch

// The bulk requests and the reading of their answers, written from Elasticsearch's bulk API documentation
// (`version_type=external`; per-item statuses, 409 `version_conflict_engine_exception`, a delete's 404
// `not_found`) and the issue.

@Suite struct SearchBulkTests {
    private let keys = SearchIndexKeys(
        partitionKey: AttributeDefinition(attributeName: "pk", attributeType: .s),
        sortKey: AttributeDefinition(attributeName: "sk", attributeType: .n))

    private func record(_ name: StreamEventName, pk: String, sk: Int, sequence: String, image: Item? = nil) -> TriggerEventRecord {
        let keys: Item = ["pk": .s(pk), "sk": .n(DecimalNumber(sk))]
        let data = StreamRecordData(
            approximateCreationDateTime: 1_700_000_000, keys: keys, newImage: image, sequenceNumber: sequence, sizeBytes: 50,
            streamViewType: .newAndOldImages)
        return TriggerEventRecord(
            StreamRecord(eventID: sequence, eventName: name, eventVersion: "1.1", eventSource: "aws:dynamodb", awsRegion: "us-east-1", dynamodb: data),
            streamArn: "arn")
    }

    @Test func indexAndDeleteActionsCarryTheSequenceNumberAsExternalVersion() throws {
        let image: Item = ["pk": .s("a"), "sk": .n(DecimalNumber(1)), "name": .s("Ann")]
        let bodies = try SearchBulk.bodies(
            [
                record(.insert, pk: "a", sk: 1, sequence: "000000000000000000042", image: image),
                record(.remove, pk: "a", sk: 1, sequence: "000000000000000000043"),
            ], keys: keys)
        #expect(bodies.count == 1)
        #expect(bodies[0].actions == 2)
        let lines = String(decoding: bodies[0].bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 4)
        #expect(lines[0] == #"{"index":{"_id":"a|1","version":42,"version_type":"external"}}"#)
        let document = try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any]
        #expect(document?["name"] as? String == "Ann")
        #expect((document?["sk"] as? NSNumber)?.intValue == 1)
        #expect(lines[2] == #"{"delete":{"_id":"a|1","version":43,"version_type":"external"}}"#)
        #expect(lines[3] == "")
    }

    @Test func versionsAreNonNegative63BitIntegers() throws {
        #expect(try SearchBulk.version("000000000000000000001") == 1)
        #expect(try SearchBulk.version("09223372036854775807") == Int64.max)
        #expect(throws: SearchSinkError.self) { try SearchBulk.version("09223372036854775808") }
        #expect(throws: SearchSinkError.self) { try SearchBulk.version("18446744073709551615") }
    }

    @Test func aLargeBatchIsSplitIntoBodiesInOrder() throws {
        let records = (1...10).map { index in
            record(.insert, pk: "p\(index)", sk: index, sequence: String(format: "%021d", index), image: ["pk": .s("p\(index)"), "pad": .s(String(repeating: "x", count: 100))])
        }
        let bodies = try SearchBulk.bodies(records, keys: keys, bytesMax: 500)
        #expect(bodies.count > 1)
        #expect(bodies.map(\.actions).reduce(0, +) == 10)
        #expect(bodies.allSatisfy { $0.bytes.count <= 500 })
        let ids = bodies.flatMap { body in
            String(decoding: body.bytes, as: UTF8.self).split(separator: "\n").filter { $0.hasPrefix("{\"index\"") }
        }.map { $0.split(separator: "\"")[5] }
        #expect(ids == (1...10).map { "p\($0)|\($0)" })
    }

    @Test func aRecordWithoutItsKeyFailsTheBatch() {
        let stray = TriggerEventRecord(
            StreamRecord(
                eventID: "1", eventName: .insert, eventVersion: "1.1", eventSource: "aws:dynamodb", awsRegion: "us-east-1",
                dynamodb: StreamRecordData(
                    approximateCreationDateTime: 0, keys: ["other": .s("x")], newImage: [:], sequenceNumber: "000000000000000000001",
                    sizeBytes: 1, streamViewType: .newAndOldImages)),
            streamArn: "arn")
        #expect(throws: SearchSinkError.self) { try SearchBulk.bodies([stray], keys: keys) }
    }

    @Test func answersThatCountAsDone() throws {
        let answer = #"""
            {"errors":true,"items":[{"index":{"_id":"a","status":201}},
            {"index":{"_id":"b","status":409,"error":{"type":"version_conflict_engine_exception","reason":"[b]: version conflict"}}},
            {"delete":{"_id":"c","status":404}},{"delete":{"_id":"d","status":200}}]}
            """#
        try SearchBulk.check(Array(answer.utf8), actions: 4)
        try SearchBulk.check(Array(#"{"errors":false,"items":[{"index":{"status":200}}]}"#.utf8), actions: 1)
    }

    @Test(arguments: [
        #"{"errors":true,"items":[{"index":{"_id":"a","status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse"}}}]}"#,
        #"{"errors":true,"items":[{"index":{"_id":"a","status":404,"error":{"type":"index_not_found_exception","reason":"no such index"}}}]}"#,
        #"{"errors":true,"items":[{"delete":{"_id":"a","status":404,"error":{"type":"index_not_found_exception","reason":"no such index"}}}]}"#,
        #"{"errors":true,"items":[{"index":{"_id":"a","status":409,"error":{"type":"other_conflict","reason":"?"}}}]}"#,
        #"{"errors":true,"items":[{"index":{"_id":"a","status":429,"error":{"type":"es_rejected_execution_exception","reason":"queue full"}}}]}"#,
        #"{"errors":false,"items":[]}"#,
        #"not json"#,
    ])
    func answersThatFailTheBatch(_ answer: String) {
        #expect(throws: SearchSinkError.self) { try SearchBulk.check(Array(answer.utf8), actions: 1) }
    }

    @Test func theFailureNamesTheDocumentAndElasticsearchsReason() {
        let answer = #"{"errors":true,"items":[{"index":{"_id":"a|1","status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse field [n]"}}}]}"#
        let error = #expect(throws: SearchSinkError.self) { try SearchBulk.check(Array(answer.utf8), actions: 1) }
        #expect(error?.status == 400)
        #expect(error?.message.contains("a|1") == true)
        #expect(error?.message.contains("mapper_parsing_exception: failed to parse field [n]") == true)
    }
}

@Suite struct SearchSinkSettingsTests {
    @Test(arguments: [("60s", 60.0), ("2d", 172_800), ("1.5h", 5400), ("500ms", 0.5), ("10m", 600), ("3000000micros", 3)])
    func timeValues(_ text: String, _ seconds: Double) {
        #expect(SearchSink.seconds(ofTimeValue: text) == seconds)
    }

    @Test func deletedVersionsKeptAreTheShortestAmongIndicesAndSixtySecondsByDefault() {
        let answer = #"{"a":{"settings":{"index.gc_deletes":"2d"}},"b":{"settings":{"index.number_of_shards":"1"}}}"#
        #expect(SearchSink.deletedVersionsKeptSeconds(settings: Array(answer.utf8)) == 60)
        #expect(SearchSink.deletedVersionsKeptSeconds(settings: Array(#"{"a":{"settings":{"index.gc_deletes":"7d"}}}"#.utf8)) == 604_800)
        #expect(SearchSink.deletedVersionsKeptSeconds(settings: Array("{}".utf8)) == 0)
    }

    @Test func deletedVersionsOutliveEveryRedelivery() {
        var settings = TriggerMappingConfiguration(eventSourceArn: "arn", startingPosition: .trimHorizon)
        #expect(TriggerRuntime.deletedVersionsKeptSeconds(settings) == 2 * 86_400)
        settings.maximumRecordAgeInSeconds = 3600
        #expect(TriggerRuntime.deletedVersionsKeptSeconds(settings) == 86_400 + 3600)
    }

    @Test(arguments: ["localhost:9200", "ftp://host:21", "http://", "http://host:9200?x=1", "http://u:p@host:9200", "not a url"])
    func badEndpointsAreRefused(_ endpoint: String) {
        #expect(throws: SearchSinkError.self) { try SearchSink(endpoint: endpoint, index: "items") }
    }

    @Test(arguments: ["Items", "_items", "-items", "it ems", "it*ems", "a:b", ".", ""])
    func badIndexNamesAreRefused(_ index: String) {
        #expect(throws: SearchSinkError.self) { try SearchSink(endpoint: "http://127.0.0.1:9200", index: index) }
    }

    @Test func anEndpointMayEndWithASlash() throws {
        #expect(try SearchSink(endpoint: "http://127.0.0.1:9200/", index: "items").endpoint == "http://127.0.0.1:9200")
    }
}
