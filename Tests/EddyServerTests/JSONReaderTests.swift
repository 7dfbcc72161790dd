import Eddy
import Testing

/// ``JSONReader``: RFC 8259's grammar, strictly.
@Suite("JSON reader")
struct JSONReaderTests {
    static func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue {
        try JSONReader.parse(Array(text.utf8))
    }

    @Test("Values of every type, members in order with duplicates, numbers as their text")
    func values() throws {
        let value = try Self.parse(#" {"a": [1, -0.5e+3, 0, 1E9, true, false, null, "", {}], "a": "two", "": []} "#)
        #expect(
            value
                == .object([
                    JSONMember(
                        name: "a",
                        value: .array([
                            .number("1"), .number("-0.5e+3"), .number("0"), .number("1E9"), .bool(true), .bool(false), .null, .string(""),
                            .object([]),
                        ])),
                    JSONMember(name: "a", value: .string("two")), JSONMember(name: "", value: .array([])),
                ]))
    }

    @Test(
        "Every escape, and \\u surrogate pairs",
        arguments: [
            (#""\"\\\/\b\f\n\r\t""#, "\"\\/\u{8}\u{C}\n\r\t"), (#""\u0041\u00e9\u20AC""#, "Aé€"), (#""\ud83d\ude00x""#, "😀x"),
            (#""a\u0000b""#, "a\u{0}b"), (#""plain é 😀""#, "plain é 😀"),
        ])
    func escapes(json: String, text: String) throws {
        #expect(try Self.parse(json) == .string(text))
    }

    @Test(
        "Text that is not JSON is refused",
        arguments: [
            "", " ", "{", "[1,]", #"{"a":1,}"#, "[,1]", "{,}", "01", "-", "1.", ".5", "+1", "1e", "1e+", "--1", "0x1", "NaN", "tru", "nul",
            #""\x""#, #""\u12""#, #""\U0041""#, #""\ud800""#, #""\udc00""#, #""\ud800\u0041""#, "\"a\tb\"", "\"open", "{'a':1}", "{a:1}",
            #"{"a" 1}"#, #"{"a":1 "b":2}"#, "[1 2]", "1 2", "{}}", "\u{FEFF}\u{FEFF}1",
        ])
    func refused(json: String) {
        #expect(throws: JSONSyntaxError.self) { try Self.parse(json) }
    }

    @Test(
        "Bytes that are not UTF-8 are refused inside strings",
        arguments: [[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xE2, 0x82], [0xF4, 0x90, 0x80, 0x80], [0x80]] as [[UInt8]])
    func notUTF8(bytes: [UInt8]) {
        #expect(throws: JSONSyntaxError.self) { try JSONReader.parse([0x22] + bytes + [0x22]) }
    }

    @Test("A byte order mark before the value is skipped")
    func byteOrderMark() throws {
        #expect(try JSONReader.parse([0xEF, 0xBB, 0xBF] + Array("[]".utf8)) == .array([]))
    }

    @Test("Nesting up to the limit is read, one level more refused")
    func nesting() throws {
        let deepest = String(repeating: "[", count: 4) + String(repeating: "]", count: 4)
        #expect(try JSONReader.parse(Array(deepest.utf8), maximumNesting: 4) != .null)
        let tooDeep = "[" + deepest + "]"
        let error = #expect(throws: JSONSyntaxError.self) { try JSONReader.parse(Array(tooDeep.utf8), maximumNesting: 4) }
        #expect(error?.reason == "arrays and objects nest deeper than 4 levels")
        #expect(error?.offset == 4)
    }
}
