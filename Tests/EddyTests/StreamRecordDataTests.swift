import Foundation
import Synchronization
import Testing

@testable import Eddy

/// Stream records that keep their stored bytes (`StreamRecordData` over `EncodedStreamImages`): each image is
/// decoded at most once and only when asked for, and the record reads, compares, encodes and writes its JSON
/// exactly as the same record built from values does.
@Suite(.timeLimit(.minutes(3))) struct StreamRecordDataTests {
    private static let keys: Item = ["pk": "a\u{0}b", "sk": 7]
    private static let old: Item = [
        "pk": "a\u{0}b", "sk": 7, "text": "before \"quoted\"", "list": .l([.s("x"), .null, .bool(true)]), "bytes": .b([0, 255]),
    ]
    private static let new: Item = [
        "pk": "a\u{0}b", "sk": 7, "text": "after é 😀", "set": .ss(["p", "q"]), "numbers": .ns([DecimalNumber(1), try! DecimalNumber("-0.25")]),
        "map": .m(["deep": .m(["n": .n(try! DecimalNumber("1E+30"))])]),
    ]

    /// Counts the decodes of the items it reads, as Eddy's codec reads them.
    private struct CountingCodec: StreamImageCodec {
        let decodes = Counter()

        final class Counter: Sendable {
            let count = Atomic(0)
        }

        func decode(_ bytes: [UInt8], in range: Range<Int>) -> Item {
            decodes.count.add(1, ordering: .relaxed)
            return StoredItemCodec().decode(bytes, in: range)
        }

        func writeJSON(_ bytes: [UInt8], in range: Range<Int>, style: ItemJSONStyle, to json: inout JSONWriter) {
            StoredItemCodec().writeJSON(bytes, in: range, style: style, to: &json)
        }

        func attribute(_ name: String, of bytes: [UInt8], in range: Range<Int>) -> AttributeValue? {
            StoredItemCodec().attribute(name, of: bytes, in: range)
        }
    }

    /// A MODIFY record stored with both images, read with the images `old` and `new` asked for, its items read
    /// by `codec`.
    private static func storedRecord(old: Bool = true, new: Bool = true, codec: any StreamImageCodec = StoredItemCodec()) throws -> StreamRecord {
        let value = StreamRecordEncoding.encode(
            eventName: .modify, byService: false, keys: ItemEncoding.encode(keys), old: ItemEncoding.encode(Self.old),
            new: ItemEncoding.encode(Self.new))
        let read = try StreamRecordEncoding.read(value, old: old, new: new)
        let images = EncodedStreamImages(
            bytes: value, keys: read.images.keysRange, newImage: read.images.range(of: .newImage),
            oldImage: read.images.range(of: .oldImage), codec: codec)
        return record(
            StreamRecordData(
                approximateCreationDateTime: 1_750_000_000, images: images, sequenceNumber: "000000000000000000042",
                sizeBytes: read.sizeBytes, streamViewType: .newAndOldImages))
    }

    /// The same record built from values.
    private static func valuesRecord(old: Bool = true, new: Bool = true) -> StreamRecord {
        let oldImage = old ? Self.old : nil
        let newImage = new ? Self.new : nil
        return record(
            StreamRecordData(
                approximateCreationDateTime: 1_750_000_000, keys: keys, newImage: newImage, oldImage: oldImage,
                sequenceNumber: "000000000000000000042",
                sizeBytes: ItemSize.of(keys) + (oldImage.map(ItemSize.of) ?? 0) + (newImage.map(ItemSize.of) ?? 0),
                streamViewType: .newAndOldImages))
    }

    private static func record(_ data: StreamRecordData) -> StreamRecord {
        StreamRecord(
            eventID: "e1", eventName: .modify, eventVersion: "1.1", eventSource: "aws:dynamodb", awsRegion: "us-east-1",
            dynamodb: data)
    }

    private static func parsed(_ bytes: some Sequence<UInt8>) throws -> NSDictionary {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? NSDictionary)
    }

    @Test func imagesAreDecodedOnceAndOnlyWhenAskedFor() async throws {
        let codec = CountingCodec()
        let record = try Self.storedRecord(codec: codec)
        var json = JSONWriter()
        GetRecordsOutput(records: [record], nextShardIterator: "next").write(to: &json)
        _ = TriggerEvent(records: [TriggerEventRecord(record, streamArn: "arn")]).jsonBytes
        #expect(record.dynamodb.attribute("pk", of: .keys) == Self.keys["pk"])
        #expect(record.dynamodb.attribute("text", of: .oldImage) == Self.old["text"])
        #expect(record.dynamodb.attribute("missing", of: .newImage) == nil)
        #expect(codec.decodes.count.load(ordering: .relaxed) == 0)

        #expect(record.dynamodb.keys == Self.keys)
        #expect(record.dynamodb.keys == Self.keys)
        #expect(codec.decodes.count.load(ordering: .relaxed) == 1)
        // Copies share the decoded image, and racing readers decode it once between them.
        let copy = record
        #expect(copy.dynamodb.keys == Self.keys)
        await withTaskGroup { group in
            for _ in 0..<8 {
                group.addTask { #expect(copy.dynamodb.newImage == Self.new) }
            }
        }
        #expect(codec.decodes.count.load(ordering: .relaxed) == 2)
        #expect(record.dynamodb.oldImage == Self.old)
        #expect(record.dynamodb.oldImage == Self.old)
        #expect(codec.decodes.count.load(ordering: .relaxed) == 3)
    }

    @Test(arguments: [(true, true), (true, false), (false, true), (false, false)])
    func readsComparesAndEncodesAsTheRecordOfValues(_ carried: (old: Bool, new: Bool)) throws {
        let stored = try Self.storedRecord(old: carried.old, new: carried.new)
        let values = Self.valuesRecord(old: carried.old, new: carried.new)
        // Compared before anything is decoded, then after.
        #expect(stored == values && values == stored)
        #expect(stored.dynamodb.sizeBytes == values.dynamodb.sizeBytes)
        #expect(stored.dynamodb.carries(.oldImage) == carried.old && stored.dynamodb.carries(.newImage) == carried.new)
        #expect(try Self.parsed(JSONEncoder().encode(stored)) == Self.parsed(JSONEncoder().encode(values)))
        for (written, expected) in [(stored, values), (values, values)] {
            var json = JSONWriter()
            GetRecordsOutput(records: [written], nextShardIterator: nil).write(to: &json)
            #expect(try Self.parsed(json.bytes) == Self.parsed(JSONEncoder().encode(GetRecordsOutput(records: [expected]))))
            let event = TriggerEvent(records: [TriggerEventRecord(written, streamArn: "arn")])
            let expectedEvent = TriggerEvent(records: [TriggerEventRecord(expected, streamArn: "arn")])
            #expect(try Self.parsed(event.jsonBytes) == Self.parsed(JSONEncoder().encode(expectedEvent)))
        }
        // An image the view type does not carry is nowhere: not in the values, not in the JSON.
        let json = try Self.parsed(JSONEncoder().encode(stored))
        let dynamodb = try #require(json["dynamodb"] as? NSDictionary)
        #expect((dynamodb["OldImage"] != nil) == carried.old && (dynamodb["NewImage"] != nil) == carried.new)
        #expect(stored.dynamodb.oldImage == (carried.old ? Self.old : nil))
        #expect(stored.dynamodb.newImage == (carried.new ? Self.new : nil))
        #expect(stored.dynamodb.attribute("text", of: .oldImage) == (carried.old ? Self.old["text"] : nil))
        for (name, value) in Self.keys { #expect(stored.dynamodb.attribute(name, of: .keys) == value) }
        #expect(try JSONDecoder().decode(StreamRecord.self, from: JSONEncoder().encode(stored)) == stored)
    }

    @Test func recordsWithDifferentImagesDiffer() throws {
        let stored = try Self.storedRecord()
        #expect(stored != Self.valuesRecord(old: false, new: true))
        var other = Self.valuesRecord()
        other.dynamodb.keys["sk"] = 8
        #expect(stored != other)
        #expect(try stored == Self.storedRecord())
        #expect(try stored != Self.storedRecord(old: false))
    }

    @Test func settersStoreValuesFromThenOn() throws {
        let original = try Self.storedRecord()
        var changed = original
        changed.dynamodb.newImage?["text"] = .s("changed")
        #expect(changed.dynamodb.encodedImages == nil)
        #expect(original.dynamodb.encodedImages != nil)
        #expect(changed.dynamodb.newImage?["text"] == .s("changed"))
        #expect(changed.dynamodb.keys == Self.keys && changed.dynamodb.oldImage == Self.old)
        #expect(original.dynamodb.newImage == Self.new)
        #expect(changed != original)
        let event = TriggerEvent(records: [TriggerEventRecord(changed, streamArn: "arn")])
        let newImage = try #require(((Self.parsed(event.jsonBytes)["Records"] as? NSArray)?.firstObject as? NSDictionary)?["dynamodb"] as? NSDictionary)
        #expect((newImage["NewImage"] as? NSDictionary)?["text"] as? NSDictionary == ["S": "changed"])

        var removed = original
        removed.dynamodb.oldImage = nil
        #expect(!removed.dynamodb.carries(.oldImage) && removed.dynamodb.newImage == Self.new)
        var rekeyed = original
        rekeyed.dynamodb.keys = ["pk": "z"]
        #expect(rekeyed.dynamodb.keys == ["pk": "z"] && rekeyed.dynamodb.oldImage == Self.old && rekeyed.dynamodb.newImage == Self.new)
    }
}
