import EddyStorage
import PropertyBased
import Testing

@testable import Eddy

/// Key and item encodings: round trips, and order preservation (`compare(encode(a), encode(b)) ==
/// compare(a, b)`) against DynamoDB's order for each key type.
@Suite(.timeLimit(.minutes(3))) struct KeyEncodingTests {
    private static func encode(_ value: AttributeValue) -> [UInt8] {
        var writer = ByteWriter()
        KeyEncoding.append(value, to: &writer)
        return writer.bytes
    }

    private static func decode(_ bytes: [UInt8], as type: ScalarAttributeType) throws -> AttributeValue {
        var reader = ByteReader(bytes)
        let value = try KeyEncoding.read(type, from: &reader)
        #expect(reader.isAtEnd, "the encoding must end itself exactly")
        return value
    }

    static let numberText = Gen<String>.oneOf(
        Gen.int(in: -1_000_000...1_000_000).map { "\($0)" },
        Gen.int(in: -99_999...99_999).map { n in "\(n < 0 ? "-" : "")\(abs(n) / 1000).\(abs(n) % 1000)" },
        zip(Gen.int(in: -9_999...9_999), Gen.int(in: -120...120)).map { mantissa, exponent in "\(mantissa)E\(exponent)" },
        Gen.number.string(of: 1...38).map { "0.\($0)" }
    )

    @Test func numbersEncodeInNumericOrder() async {
        await propertyCheck(count: 2000, input: Self.numberText, Self.numberText) { a, b in
            let x = try! DecimalNumber(a)
            let y = try! DecimalNumber(b)
            let ex = Self.encode(.n(x))
            let ey = Self.encode(.n(y))
            #expect(ex.lexicographicallyPrecedes(ey) == (x < y), "\(a) vs \(b)")
            #expect((ex == ey) == (x == y), "\(a) vs \(b)")
            #expect((try? Self.decode(ex, as: .n)) == .n(x))
        }
    }

    @Test(arguments: [
        ("-9.9999999999999999999999999999999999999E+125", "-1"),
        ("-1", "-0.5"),
        ("-1E-130", "0"),
        ("0", "1E-130"),
        ("1E-130", "1.0000000000000000000000000000000000001E-130"),
        ("9", "10"),
        ("10", "10.5"),
        ("99999999999999999999999999999999999999", "1E+38"),
        ("1E+125", "9.9999999999999999999999999999999999999E+125"),
    ])
    func numberBoundariesOrder(smaller: String, larger: String) throws {
        let a = Self.encode(.n(try DecimalNumber(smaller)))
        let b = Self.encode(.n(try DecimalNumber(larger)))
        #expect(a.lexicographicallyPrecedes(b))
    }

    @Test func stringsEncodeInUTF8ByteOrder() async {
        let text = Gen<Character>.oneOf(Gen.letterOrNumber, Gen.always("\u{0}"), Gen.always("é"), Gen.always("\u{10FFFF}")).string(of: 0...12)
        await propertyCheck(count: 2000, input: text, text) { a, b in
            let ea = Self.encode(.s(a))
            let eb = Self.encode(.s(b))
            #expect(ea.lexicographicallyPrecedes(eb) == Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8)), "\(a.debugDescription) vs \(b.debugDescription)")
            #expect((try? Self.decode(ea, as: .s)) == .s(a))
        }
    }

    @Test func binariesEncodeInUnsignedByteOrder() async {
        let bytes = Gen<UInt8>.oneOf(Gen.uint8(), Gen.always(0), Gen.always(0xFF), Gen.always(1)).array(of: 0...10)
        await propertyCheck(count: 2000, input: bytes, bytes) { a, b in
            let ea = Self.encode(.b(a))
            let eb = Self.encode(.b(b))
            #expect(ea.lexicographicallyPrecedes(eb) == a.lexicographicallyPrecedes(b), "\(a) vs \(b)")
            #expect((try? Self.decode(ea, as: .b)) == .b(a))
        }
    }

    /// A composite key is partition key then sort key: encodings are self-delimiting, so the order of
    /// (partition, sort) pairs is the order of the partition, then of the sort key.
    @Test func compositeKeysOrderByPartitionThenSort() async {
        let text = Gen<Character>.oneOf(Gen.always("a"), Gen.always("\u{0}"), Gen.always("b")).string(of: 0...4)
        await propertyCheck(count: 1000, input: text, text, text, text) { p1, s1, p2, s2 in
            let k1 = Self.encode(.s(p1)) + Self.encode(.s(s1))
            let k2 = Self.encode(.s(p2)) + Self.encode(.s(s2))
            let expected = Array(p1.utf8) == Array(p2.utf8)
                ? Array(s1.utf8).lexicographicallyPrecedes(Array(s2.utf8))
                : Array(p1.utf8).lexicographicallyPrecedes(Array(p2.utf8))
            #expect(k1.lexicographicallyPrecedes(k2) == expected)
        }
    }

    @Test func beginsWithPrefixBoundsEveryStringWithThePrefix() async {
        let text = Gen<Character>.oneOf(Gen.always("a"), Gen.always("\u{0}"), Gen.always("ÿ")).string(of: 0...5)
        await propertyCheck(count: 1000, input: text, text) { prefix, candidate in
            let lower = KeyEncoding.prefixBytes(.s(prefix))
            let encoded = Self.encode(.s(candidate))
            let inRange = !encoded.lexicographicallyPrecedes(lower)
                && (lower.prefixSuccessor.map { encoded.lexicographicallyPrecedes($0) } ?? true)
            #expect(inRange == candidate.utf8.starts(with: prefix.utf8), "\(prefix.debugDescription) / \(candidate.debugDescription)")
        }
    }
}

@Suite(.timeLimit(.minutes(3))) struct ItemEncodingTests {
    @Test func everyTypeRoundTrips() throws {
        let item: Item = [
            "s": .s("text"), "empty": .s(""), "n": .n(try DecimalNumber("-12.5E-3")), "b": .b([0, 1, 255]),
            "emptyBinary": .b([]), "t": .bool(true), "f": .bool(false), "null": .null,
            "m": .m(["inner": .l([.s("x"), .n(DecimalNumber(1)), .m([:]), .l([])])]),
            "ss": .ss(["a", "", "c"]), "ns": .ns([DecimalNumber(1), try DecimalNumber("1E+125")]),
            "bs": .bs([[1], [], [2, 3]]), "ünïcødé": .s("🦆"),
        ]
        #expect((try? ItemEncoding.decode(ItemEncoding.encode(item))) == item)
    }

    @Test func everyTypeIsSizedFromItsStoredBytes() throws {
        let item: Item = [
            "s": .s("text"), "n": .n(try DecimalNumber("-12.5E-3")), "zero": .n(DecimalNumber(0)),
            "even": .n(DecimalNumber(1234)), "b": .b([0, 1, 255]), "t": .bool(true), "null": .null,
            "m": .m(["inner": .l([.s("x"), .n(DecimalNumber(1)), .m([:]), .l([])])]),
            "ss": .ss(["a", "", "c"]), "ns": .ns([DecimalNumber(1), try DecimalNumber("1E+125")]), "bs": .bs([[1], [], [2, 3]]),
        ]
        #expect(try ItemEncoding.size(ofStored: ItemEncoding.encode(item)) == ItemSize.of(item))
    }

    /// Items of every type, nested two deep, with numbers of any digit count (odd and even, which end their
    /// encoding differently), negative, zero and fractional, survive the round trip; and the size the write
    /// path reads from their bytes for the table's counters is DynamoDB's size of the item.
    @Test func randomItemsRoundTripAndAreSizedFromTheirBytes() async {
        let number = KeyEncodingTests.numberText.map { try! DecimalNumber($0) }
        let scalar = Gen<AttributeValue>.oneOf(
            Gen.letterOrNumber.string(of: 0...20).map { AttributeValue.s($0) },
            Gen.int(in: Int.min...Int.max).map { AttributeValue.n(DecimalNumber($0)) },
            number.map { AttributeValue.n($0) },
            Gen.uint8().array(of: 0...20).map { AttributeValue.b($0) },
            Gen.bool.map { AttributeValue.bool($0) },
            Gen.always(AttributeValue.null),
            Gen.letterOrNumber.string(of: 0...6).array(of: 1...4).map { AttributeValue.ss($0) },
            number.array(of: 1...4).map { AttributeValue.ns($0) },
            Gen.uint8().array(of: 0...6).array(of: 1...4).map { AttributeValue.bs($0) }
        )
        let nested = Gen<AttributeValue>.oneOf(
            scalar,
            scalar.array(of: 0...5).map { AttributeValue.l($0) },
            zip(Gen.letterOrNumber.string(of: 1...8), scalar).array(of: 0...5).map { pairs in
                AttributeValue.m(Dictionary(pairs, uniquingKeysWith: { first, _ in first }))
            }
        )
        let item = zip(Gen.letterOrNumber.string(of: 1...10), nested).array(of: 0...10).map { pairs in
            Item(pairs, uniquingKeysWith: { first, _ in first })
        }
        await propertyCheck(count: 500, input: item) { item in
            let bytes = ItemEncoding.encode(item)
            #expect((try? ItemEncoding.decode(bytes)) == item)
            #expect((try? ItemEncoding.size(ofStored: bytes)) == ItemSize.of(item))
        }
    }

    /// A projection of random items on some of their attribute names (and a name none has) decodes to those
    /// attributes of the decoded item, and nothing else.
    @Test func aProjectionHoldsTheNamedAttributesAlone() async {
        let value = Gen<AttributeValue>.oneOf(
            Gen.letterOrNumber.string(of: 0...20).map { AttributeValue.s($0) },
            Gen.int(in: Int.min...Int.max).map { AttributeValue.n(DecimalNumber($0)) },
            Gen.uint8().array(of: 0...20).map { AttributeValue.b($0) },
            Gen.letterOrNumber.string(of: 0...6).array(of: 0...4).map { AttributeValue.l($0.map(AttributeValue.s)) }
        )
        let item = zip(Gen.letterOrNumber.string(of: 1...3), value).array(of: 0...8).map { pairs in
            Item(pairs, uniquingKeysWith: { first, _ in first })
        }
        let names = Gen.letterOrNumber.string(of: 1...3).array(of: 0...3)
        await propertyCheck(count: 500, input: item, names) { item, names in
            let named = names + Array(item.keys.prefix(2))
            let projected = try? ItemEncoding.projection(named, of: ItemEncoding.encode(item))
            #expect(projected.flatMap { try? ItemEncoding.decode($0) } == item.filter { named.contains($0.key) })
        }
    }

    @Test func aProjectionOfCorruptBytesThrows() throws {
        let bytes = ItemEncoding.encode(["id": .s("abc"), "n": .n(DecimalNumber(42))])
        for length in 0..<bytes.count {
            #expect(throws: EncodingError.self) { try ItemEncoding.projection(["id"], of: Array(bytes.prefix(length))) }
        }
        #expect(throws: EncodingError.self) { try ItemEncoding.projection(["id"], of: bytes + [0]) }
    }

    @Test func corruptBytesThrowInsteadOfCrashing() throws {
        let bytes = ItemEncoding.encode(["id": .s("abc"), "n": .n(DecimalNumber(42))])
        for length in 0..<bytes.count {
            #expect(throws: EncodingError.self) { try ItemEncoding.decode(Array(bytes.prefix(length))) }
        }
        #expect(throws: EncodingError.self) { try ItemEncoding.decode([9, 0]) }
        for length in 0..<bytes.count {
            #expect(throws: EncodingError.self) { try ItemEncoding.size(ofStored: Array(bytes.prefix(length))) }
        }
        #expect(throws: EncodingError.self) { try ItemEncoding.size(ofStored: bytes + [0]) }
    }
}
