import Foundation
import Testing

@testable import EddyServer

/// A body that ends with the `[` opening its 513th nesting level, such as a truncated deeply nested
/// request, must be refused like any other malformed body. Foundation's `JSONDecoder` traps on it (its
/// nesting limit is 512, and building the error's location runs past the end of the body), so each case runs
/// in a child process: a crash fails the test without taking the test run down.
@Suite("Deep nesting at the end of a body", .timeLimit(.minutes(5)))
struct NestingCrashTests {
    @Test("A PutItem body cut at the '[' opening its 513th level is a SerializationException")
    func truncatedPutItem() async {
        await #expect(processExitsWith: .success) {
            let body = Array(#"{"TableName":"Fuzz_Hash","Item":"#.utf8) + [UInt8](repeating: UInt8(ascii: "["), count: 512)
            guard await isRefusedAsNotJSON(target: "DynamoDB_20120810.PutItem", body: body) else { exit(EXIT_FAILURE) }
        }
    }

    @Test("A body of 513 '[' is a SerializationException")
    func bareBrackets() async {
        await #expect(processExitsWith: .success) {
            let body = [UInt8](repeating: UInt8(ascii: "["), count: 513)
            guard await isRefusedAsNotJSON(target: "DynamoDB_20120810.ListTables", body: body) else { exit(EXIT_FAILURE) }
        }
    }

    @Test("One '[' less or more is refused as well, in this process")
    func neighboursOfTheCrash() async throws {
        try await withServer { server in
            for count in [511, 512, 514, 2_000] {
                let body = [UInt8](repeating: UInt8(ascii: "["), count: count)
                let error = try #require(await server.handle(target: "DynamoDB_20120810.ListTables", body: body).failure)
                #expect(error.type == "SerializationException", "\(count) '['")
            }
        }
    }
}

/// Whether a server over a new database answers `body` with a SerializationException.
private func isRefusedAsNotJSON(target: String, body: [UInt8]) async -> Bool {
    var refused = false
    try? await withServer { server in
        refused = await server.handle(target: target, body: body).failure?.type == "SerializationException"
    }
    return refused
}
