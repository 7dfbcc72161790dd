import Testing

@testable import Eddy

/// Stream record values: what is encoded reads back, with only the images asked for (the bytes of the others
/// are skipped, so a reader still lands on the record's end), sized and decoded from the stored bytes.
@Suite(.timeLimit(.minutes(3))) struct StreamRecordEncodingTests {
    private static let keys: Item = ["pk": "a", "sk": 7]
    private static let old: Item = ["pk": "a", "sk": 7, "text": "before", "list": .l([.s("x"), .null, .bool(true)])]
    private static let new: Item = ["pk": "a", "sk": 7, "text": "after", "set": .ss(["p", "q"]), "bytes": .b([0, 255])]

    @Test(arguments: [(true, true), (true, false), (false, true), (false, false)])
    func recordsRoundTripWithTheImagesAskedFor(_ wanted: (old: Bool, new: Bool)) throws {
        let cases: [(StreamEventName, Bool, Item?, Item?)] = [
            (.insert, false, nil, Self.new), (.modify, false, Self.old, Self.new), (.remove, true, Self.old, nil),
        ]
        for (eventName, byService, old, new) in cases {
            let value = StreamRecordEncoding.encode(
                eventName: eventName, byService: byService, keys: ItemEncoding.encode(Self.keys),
                old: old.map(ItemEncoding.encode), new: new.map(ItemEncoding.encode))
            let read = try StreamRecordEncoding.read(value, old: wanted.old, new: wanted.new)
            let carriedOld = wanted.old ? old : nil
            let carriedNew = wanted.new ? new : nil
            #expect(read.eventName == eventName)
            #expect(read.byService == byService)
            #expect(read.images.decoded(.keys) == Self.keys)
            #expect(read.images.decoded(.oldImage) == carriedOld)
            #expect(read.images.decoded(.newImage) == carriedNew)
            #expect(read.sizeBytes == ItemSize.of(Self.keys) + (carriedOld.map(ItemSize.of) ?? 0) + (carriedNew.map(ItemSize.of) ?? 0))
        }
    }

    @Test func aDamagedRecordIsAnErrorWhetherItsImagesAreDecodedOrSkipped() {
        let value = StreamRecordEncoding.encode(
            eventName: .modify, byService: false, keys: ItemEncoding.encode(Self.keys),
            old: ItemEncoding.encode(Self.old), new: ItemEncoding.encode(Self.new))
        for wanted in [true, false] {
            #expect(throws: Eddy.EncodingError.self) { try StreamRecordEncoding.read(Array(value.dropLast()), old: wanted, new: wanted) }
            #expect(throws: Eddy.EncodingError.self) { try StreamRecordEncoding.read(value + [0], old: wanted, new: wanted) }
        }
    }
}
