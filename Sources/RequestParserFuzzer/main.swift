import EddyModel
import Foundation

#if REQUEST_PARSER_FUZZER
/// libFuzzer's driver (`FuzzerInterface.h`), linked in by `-sanitize=fuzzer`. SwiftPM gives an executable its
/// own `main`, so libFuzzer's is not used: this one hands the command line to the driver.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

var argc = CommandLine.argc
var argv = CommandLine.unsafeArgv
exit(runFuzzerDriver(&argc, &argv, fuzzOneInput))
#else
print("Build and run this fuzzer with scripts/fuzz.sh [seconds].")
#endif

/// libFuzzer's entry: ``JSONReader`` and the attribute values' ``JSONDecodable`` on arbitrary bytes.
///
/// Built with `-sanitize=fuzzer -D REQUEST_PARSER_FUZZER` (`scripts/fuzz.sh`), libFuzzer calls it with each
/// input it makes; an ordinary build makes an executable that says so. Besides not crashing, it checks:
/// - a parsed value, written again as JSON, parses to the same value;
/// - a body read as an item, written again with ``JSONWriter``, reads as the same item;
/// - what it reads as an item, Foundation's `JSONDecoder` (through `AttributeValue`'s `Decodable`
///   conformance, which the server used before) reads as the same item.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let value = try? JSONReader.parse(bytes) else { return 0 }
    let written = json(value)
    guard let reread = try? JSONReader.parse(written), reread == value else {
        fatalError("\(value) is written as \(String(decoding: written, as: UTF8.self)), which does not read back")
    }
    guard let item = try? Item(json: value) else { return 0 }
    var writer = JSONWriter()
    writer.item(item)
    guard let itemJSON = try? JSONReader.parse(writer.bytes), let itemAgain = try? Item(json: itemJSON), itemAgain == item else {
        fatalError("\(item) is written as \(String(decoding: writer.bytes, as: UTF8.self)), which does not read back")
    }
    guard let decoded = try? JSONDecoder().decode(Item.self, from: Data(bytes)), decoded == item else {
        fatalError("JSONDecoder does not read \(String(decoding: bytes, as: UTF8.self)) as \(item)")
    }
    return 0
}

/// `value` as JSON text: members in their order, duplicates kept, numbers as their text.
func json(_ value: JSONValue) -> [UInt8] {
    var bytes: [UInt8] = []
    func string(_ text: String) {
        var writer = JSONWriter(capacity: text.utf8.count + 2)
        writer.string(text)
        bytes += writer.bytes
    }
    func write(_ value: JSONValue) {
        switch value {
        case .null: bytes += "null".utf8
        case .bool(let flag): bytes += (flag ? "true" : "false").utf8
        case .number(let text): bytes += text.utf8
        case .string(let text): string(text)
        case .array(let elements):
            bytes.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                write(element)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            bytes.append(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                string(member.name)
                bytes.append(UInt8(ascii: ":"))
                write(member.value)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }
    write(value)
    return bytes
}
