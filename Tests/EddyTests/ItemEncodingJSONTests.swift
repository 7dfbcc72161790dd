import Foundation
import Testing

@testable import Eddy

/// `ItemEncoding.writeJSON`, the transcoder from stored item bytes to DynamoDB JSON and to plain JSON, checked
/// against the decoded path: for every item, the JSON it writes parses to the same value as `JSONWriter.item`
/// (or `plainItem`) of the decoded item (the attribute order of either is not fixed), and DynamoDB's JSON reads
/// back as the same item.
@Suite(.timeLimit(.minutes(3))) struct ItemEncodingJSONTests {
    /// Text that needs escaping, multi-byte UTF-8 and characters outside the Basic Multilingual Plane.
    private static let texts = [
        "", "a", "quote \" backslash \\ slash /", "newline \n return \r tab \t", "control \u{01}\u{1F}\u{7F}", "é ß 日本語",
        "😀 👩‍👩‍👧", "\u{2028}\u{2029}", "nul \u{0} inside", String(repeating: "long ", count: 100),
    ]

    /// Numbers at the edges of DynamoDB's range and precision, with points, leading and trailing zeros.
    private static let numberTexts = [
        "0", "-0", "1", "-1", "10", "100", "1E2", "0.5", "-0.0025", "12.5", "1.000", "123456789012345678901234567890123456.78",
        "99999999999999999999999999999999999999", "9.9999999999999999999999999999999999999E+125", "1E-130", "-1E-130",
        "-9.9999999999999999999999999999999999999E+125", "0.1", "3.14159", "1234500000", "1E+20", "-12.5e3", "0.000100",
    ]

    private static func number(_ text: String) -> DecimalNumber { try! DecimalNumber(text) }

    private static func randomText(_ random: inout SplitMix64) -> String {
        if Int.random(in: 0..<3, using: &random) == 0 { return texts.randomElement(using: &random)! }
        let scalars = (0..<Int.random(in: 0...12, using: &random)).map { _ -> Character in
            switch Int.random(in: 0..<4, using: &random) {
            case 0: Character(Unicode.Scalar(UInt8.random(in: 0...0x7F, using: &random)))
            case 1: Character(Unicode.Scalar(UInt32.random(in: 0x80...0x7FF, using: &random))!)
            case 2: Character(Unicode.Scalar(UInt32.random(in: 0x3000...0x9FFF, using: &random))!)
            default: Character(Unicode.Scalar(UInt32.random(in: 0x1F300...0x1F6FF, using: &random))!)
            }
        }
        return String(scalars)
    }

    /// A number of 1 to 38 random digits at a random scale that stays in DynamoDB's range.
    private static func randomNumber(_ random: inout SplitMix64) -> DecimalNumber {
        if Int.random(in: 0..<3, using: &random) == 0 { return number(numberTexts.randomElement(using: &random)!) }
        let count = Int.random(in: 1...38, using: &random)
        var digits = String(Int.random(in: 1...9, using: &random))
        for _ in 1..<count { digits += String(Int.random(in: 0...9, using: &random)) }
        let exponent = Int.random(in: -130...125, using: &random)
        let sign = Bool.random(using: &random) ? "-" : ""
        return number("\(sign)\(digits)E\(exponent - (count - 1))")
    }

    private static func randomBinary(_ random: inout SplitMix64) -> [UInt8] {
        (0..<Int.random(in: 0...10, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
    }

    private static func randomValue(_ random: inout SplitMix64, depth: Int) -> AttributeValue {
        switch Int.random(in: 0..<(depth < 3 ? 10 : 7), using: &random) {
        case 0: .s(randomText(&random))
        case 1: .n(randomNumber(&random))
        case 2: .b(randomBinary(&random))
        case 3: .bool(Bool.random(using: &random))
        case 4: .null
        case 5: .ss(Array(Set((0..<Int.random(in: 1...4, using: &random)).map { _ in randomText(&random) })))
        case 6:
            // A set's members are distinct values: deduplicate by value, as `1` and `1.0` are one number.
            .ns(Array(Set((0..<Int.random(in: 1...4, using: &random)).map { _ in randomNumber(&random) })))
        case 7: .m(randomItem(&random, depth: depth + 1))
        case 8: .l((0..<Int.random(in: 0...4, using: &random)).map { _ in randomValue(&random, depth: depth + 1) })
        default: .bs(Array(Set((0..<Int.random(in: 1...3, using: &random)).map { _ in randomBinary(&random) })))
        }
    }

    private static func randomItem(_ random: inout SplitMix64, depth: Int = 0) -> Item {
        var item: Item = [:]
        for _ in 0..<Int.random(in: 0...8, using: &random) {
            item[randomText(&random)] = randomValue(&random, depth: depth)
        }
        return item
    }

    /// The item stored as `bytes` (possibly inside a larger value, at `range`), transcoded.
    private static func transcoded(_ bytes: [UInt8], in range: Range<Int>, style: ItemJSONStyle = .typed) throws -> [UInt8] {
        var json = JSONWriter()
        try ItemEncoding.writeJSON(bytes, in: range, style: style, to: &json)
        return json.bytes
    }

    private static func decodedJSON(_ item: Item, style: ItemJSONStyle = .typed) -> [UInt8] {
        var json = JSONWriter()
        switch style {
        case .typed: json.item(item)
        case .plain: json.plainItem(item)
        }
        return json.bytes
    }

    private static func parsed(_ bytes: [UInt8]) throws -> NSDictionary {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? NSDictionary)
    }

    /// Transcodes `item` stored on its own and embedded between other bytes, and checks both against the
    /// decoded path.
    private static func check(_ item: Item, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let stored = ItemEncoding.encode(item)
        let expected = try parsed(decodedJSON(item))
        let alone = try transcoded(stored, in: stored.indices)
        #expect(try parsed(alone) == expected, "\(String(decoding: alone, as: UTF8.self))", sourceLocation: sourceLocation)
        #expect(try JSONDecoder().decode(Item.self, from: Data(alone)) == item, sourceLocation: sourceLocation)
        let embedded = [7, 7, 7] + stored + [9]
        #expect(try parsed(transcoded(embedded, in: 3..<(3 + stored.count))) == expected, sourceLocation: sourceLocation)
        let plain = try transcoded(embedded, in: 3..<(3 + stored.count), style: .plain)
        #expect(
            try parsed(plain) == parsed(decodedJSON(item, style: .plain)), "\(String(decoding: plain, as: UTF8.self))",
            sourceLocation: sourceLocation)
    }

    @Test func everyTypeWithEscapesAndUnicode() throws {
        try Self.check([:])
        var item: Item = [
            "s": .s("x"), "n": .n(Self.number("-12.5e3")), "b": .b([0, 1, 2, 254, 255]), "t": .bool(true), "f": .bool(false),
            "null": .null, "ss": .ss(Self.texts.filter { !$0.isEmpty }), "ns": .ns(Self.numberTexts.map(Self.number)),
            "bs": .bs([[], [0], [0, 1], [0, 1, 2], [0xFF, 0xFE, 0xFD, 0xFC]]), "empty list": .l([]), "empty map": .m([:]),
            "nested": .m(["list": .l([.m(["deep": .l([.s("x"), .null, .n(Self.number("0"))])]), .bs([[9]])])]),
        ]
        for (index, text) in Self.texts.enumerated() { item[text.isEmpty ? "empty" : text] = .s(Self.texts[(index + 1) % Self.texts.count]) }
        try Self.check(item)
    }

    @Test func everyNumberReadsAsItsCanonicalText() throws {
        for text in Self.numberTexts {
            let number = Self.number(text)
            let stored = ItemEncoding.encode(["n": .n(number)])
            let json = try Self.transcoded(stored, in: stored.indices)
            #expect(String(decoding: json, as: UTF8.self) == #"{"n":{"N":"\#(number.description)"}}"#)
        }
    }

    /// Plain JSON writes a number bare where a reader gets it exactly (an integer that fits 64 bits, or at most
    /// 15 significant digits), else as the string of its text; and zero as `0`.
    @Test func plainNumbersAreBareWhereExact() throws {
        let expectations: [(String, String)] = [
            ("0", "0"), ("-0", "0"), ("12", "12"), ("-1", "-1"), ("1E2", "100"), ("0.5", "0.5"), ("-0.0025", "-0.0025"),
            ("123456789012345678", "123456789012345678"), ("-999999999999999999", "-999999999999999999"),
            ("1234567890123456789", "\"1234567890123456789\""), ("1E+20", "\"100000000000000000000\""),
            ("3.14159", "3.14159"), ("1.23456789012345", "1.23456789012345"), ("1.234567890123456", "\"1.234567890123456\""),
            ("12.5e-3", "0.0125"),
        ]
        for (text, expected) in expectations {
            let item: Item = ["n": .n(Self.number(text)), "ns": .ns([Self.number(text)])]
            let stored = ItemEncoding.encode(["n": .n(Self.number(text))])
            #expect(String(decoding: try Self.transcoded(stored, in: stored.indices, style: .plain), as: UTF8.self) == #"{"n":\#(expected)}"#)
            var json = JSONWriter()
            json.plainValue(item["ns"]!)
            #expect(String(decoding: json.bytes, as: UTF8.self) == "[\(expected)]")
        }
    }

    @Test func plainJSONHasNoTypeDescriptors() throws {
        let item: Item = [
            "s": .s("x"), "b": .b([0, 1, 2]), "t": .bool(true), "null": .null, "ss": .ss(["a"]), "bs": .bs([[255]]),
            "l": .l([.n(Self.number("1")), .m(["deep": .bool(false)])]),
        ]
        let stored = ItemEncoding.encode(item)
        let plain = try Self.parsed(Self.transcoded(stored, in: stored.indices, style: .plain))
        let expected: NSDictionary = [
            "s": "x", "b": "AAEC", "t": true, "null": NSNull(), "ss": ["a"], "bs": ["/w=="], "l": [1, ["deep": false]],
        ]
        #expect(plain == expected)
    }

    @Test func binariesOfEveryLengthInBase64() throws {
        for length in 0...9 {
            let binary = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 200) }
            let stored = ItemEncoding.encode(["b": .b(binary)])
            let json = try Self.transcoded(stored, in: stored.indices)
            #expect(String(decoding: json, as: UTF8.self) == #"{"b":{"B":"\#(Data(binary).base64EncodedString())"}}"#)
        }
    }

    @Test(arguments: [UInt64(1), 2, 3, 4, 5, 6, 7, 8])
    func generatedItemsMatchTheDecodedPath(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        for _ in 0..<250 {
            try Self.check(Self.randomItem(&random))
        }
    }

    @Test func damagedBytesAreAnError() {
        let stored = ItemEncoding.encode(["s": .s("text"), "n": .n(Self.number("12.5"))])
        let damaged: [[UInt8]] = [Array(stored.dropLast()), stored + [0], [2] + Array(stored.dropFirst())]
        for bytes in damaged {
            #expect(throws: Eddy.EncodingError.self) { try Self.transcoded(bytes, in: bytes.indices) }
        }
    }
}
