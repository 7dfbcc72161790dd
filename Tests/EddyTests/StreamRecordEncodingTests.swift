import Testing

@testable import Eddy

/// Stream record values: what is encoded decodes back, with each image decoded only when asked for (the
/// bytes of the others are skipped, so a reader still lands on the record's end).
@Suite(.timeLimit(.minutes(3))) struct StreamRecordEncodingTests {
    private static let keys: Item = ["pk": "a", "sk": 7]
    private static let old: Item = ["pk": "a", "sk": 7, "text": "before", "list": .l([.s("x"), .null, .bool(true)])]
    private static let new: Item = ["pk": "a", "sk": 7, "text": "after", "set": .ss(["p", "q"]), "bytes": .b([0, 255])]

    @Test(arguments: [(true, true), (true, false), (false, true), (false, false)])
    func recordsRoundTripDecodingTheImagesAskedFor(_ wanted: (old: Bool, new: Bool)) throws {
        let cases: [(StreamEventName, Bool, Item?, Item?)] = [
            (.insert, false, nil, Self.new), (.modify, false, Self.old, Self.new), (.remove, true, Self.old, nil),
        ]
        for (eventName, byService, old, new) in cases {
            let value = StreamRecordEncoding.encode(
                eventName: eventName, byService: byService, keys: ItemEncoding.encode(Self.keys),
                old: old.map(ItemEncoding.encode), new: new.map(ItemEncoding.encode))
            let decoded = try StreamRecordEncoding.decode(value, old: wanted.old, new: wanted.new)
            #expect(decoded.eventName == eventName)
            #expect(decoded.byService == byService)
            #expect(decoded.keys == Self.keys)
            #expect(decoded.oldImage == (wanted.old ? old : nil))
            #expect(decoded.newImage == (wanted.new ? new : nil))
        }
    }

    @Test func aDamagedRecordIsAnErrorWhetherItsImagesAreDecodedOrSkipped() {
        let value = StreamRecordEncoding.encode(
            eventName: .modify, byService: false, keys: ItemEncoding.encode(Self.keys),
            old: ItemEncoding.encode(Self.old), new: ItemEncoding.encode(Self.new))
        for wanted in [true, false] {
            #expect(throws: Eddy.EncodingError.self) { try StreamRecordEncoding.decode(Array(value.dropLast()), old: wanted, new: wanted) }
            #expect(throws: Eddy.EncodingError.self) { try StreamRecordEncoding.decode(value + [0], old: wanted, new: wanted) }
        }
    }
}
