import Foundation
import Testing

@testable import Eddy

/// `TriggerEvent.json`, written with `JSONWriter`, is the JSON of the event's `Codable` conformance (Lambda's
/// DynamoDB event): same members, same values, and it decodes back to the event.
@Suite struct TriggerEventJSONTests {
    private static func record(_ name: StreamEventName, keys: Item, new: Item?, old: Item?, identity: StreamIdentity?) -> TriggerEventRecord {
        TriggerEventRecord(
            StreamRecord(
                eventID: "e-\(UUID().uuidString)", eventName: name, eventVersion: "1.1", eventSource: "aws:dynamodb",
                awsRegion: "us-east-1",
                dynamodb: StreamRecordData(
                    approximateCreationDateTime: 1_765_048_000, keys: keys, newImage: new, oldImage: old,
                    sequenceNumber: "000000000000000000042", sizeBytes: 123, streamViewType: .newAndOldImages),
                userIdentity: identity),
            streamArn: "arn:aws:dynamodb:us-east-1:000000000000:table/T/stream/2026-12-06T00:00:00.000")
    }

    private static let everyType: Item = [
        "s": .s("quote \" backslash \\ newline \n tab \t control \u{01} é 😀"), "n": .n(try! DecimalNumber("-12.5e3")),
        "b": .b([0, 1, 255]), "bool": .bool(false), "null": .null, "l": .l([.s("x"), .n(DecimalNumber(1)), .l([])]),
        "m": .m(["inner": .m(["deep": .bool(true)])]), "ss": .ss(["a", "b"]), "ns": .ns([DecimalNumber(1), try! DecimalNumber("2.5")]),
        "bs": .bs([[1], [2, 3]]), "empty": .s(""),
    ]

    private static func sameJSON(_ event: TriggerEvent) throws {
        let written = try JSONSerialization.jsonObject(with: Data(event.jsonBytes)) as? NSDictionary
        let encoded = try JSONSerialization.jsonObject(with: JSONEncoder().encode(event)) as? NSDictionary
        #expect(written != nil && written == encoded)
        #expect(try JSONDecoder().decode(TriggerEvent.self, from: event.json) == event)
    }

    @Test func recordsOfEveryKindAreWrittenAsTheirCodableJSON() throws {
        let key: Item = ["id": .s("k1"), "sort": .n(DecimalNumber(7))]
        try Self.sameJSON(TriggerEvent(records: [
            Self.record(.insert, keys: key, new: key.merging(Self.everyType) { a, _ in a }, old: nil, identity: nil),
            Self.record(.modify, keys: key, new: key, old: key.merging(Self.everyType) { a, _ in a }, identity: nil),
            Self.record(.remove, keys: key, new: nil, old: key, identity: StreamIdentity(principalId: "dynamodb.amazonaws.com", type: "Service")),
        ]))
        try Self.sameJSON(TriggerEvent(records: []))
    }

    @Test func tumblingWindowFieldsAreWrittenToo() throws {
        var event = TriggerEvent(records: [Self.record(.insert, keys: ["id": .s("w")], new: ["id": .s("w")], old: nil, identity: nil)])
        event.window = TriggerWindow(start: "2026-12-06T18:00:00Z", end: "2026-12-06T18:01:00Z")
        event.state = ["count": "3", "quote\"": "back\\slash"]
        event.shardId = "shardId-00000001-00000002"
        event.eventSourceARN = "arn:aws:dynamodb:us-east-1:000000000000:table/T/stream/2026-12-06T00:00:00.000"
        event.isFinalInvokeForWindow = false
        event.isWindowTerminatedEarly = true
        try Self.sameJSON(event)
    }
}
