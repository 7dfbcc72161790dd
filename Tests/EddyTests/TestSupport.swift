import Foundation
import Testing

@testable import Eddy

// Shared helpers of the operation test suites: a fresh database directory per test, table shortcuts and
// an error expectation that checks DynamoDB's error type and message.

/// Runs `body` with the path of a new, empty temporary directory, removed afterwards.
func withTemporaryDirectory(_ body: (String) async throws -> Void) async throws {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("eddy-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    try await body(url.path)
}

/// Runs `body` with a database opened in its own temporary directory, removed afterwards; with `throttling`
/// false, for a test that writes faster than DynamoDB's capacity allows and is about something else.
func withDatabase(throttling: Bool = true, _ body: (Database) async throws -> Void) async throws {
    try await withTemporaryDirectory { path in
        let database = try Database(path: path + "/db", configuration: .init(throttlingEnabled: throttling))
        try await body(database)
    }
}

/// Expects `body` to throw an ``EddyError`` of DynamoDB error type `errorType` and, when given, exactly
/// `message`. Returns the error for further checks.
@discardableResult
func expectEddyError(
    _ errorType: String,
    _ message: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async -> EddyError? {
    do {
        try await body()
        Issue.record("Expected \(errorType) but the call succeeded", sourceLocation: sourceLocation)
        return nil
    } catch let error as EddyError {
        #expect(error.errorType == errorType, "\(error)", sourceLocation: sourceLocation)
        if let message {
            #expect(error.message == message, sourceLocation: sourceLocation)
        }
        return error
    } catch {
        Issue.record("Expected EddyError \(errorType), got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// Expects a `ValidationException` with exactly `message`.
@discardableResult
func expectValidation(
    _ message: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async -> EddyError? {
    await expectEddyError("ValidationException", message, sourceLocation: sourceLocation, body)
}

/// Creates an on-demand table keyed by `hash` (type `hashType`) and optionally `range` (type `rangeType`).
@discardableResult
func createTable(
    _ database: Database,
    _ name: String,
    hash: String = "pk",
    _ hashType: ScalarAttributeType = .s,
    range: String? = nil,
    _ rangeType: ScalarAttributeType = .s
) async throws -> TableDescription {
    var keySchema = [KeySchemaElement(attributeName: hash, keyType: .hash)]
    var definitions = [AttributeDefinition(attributeName: hash, attributeType: hashType)]
    if let range {
        keySchema.append(KeySchemaElement(attributeName: range, keyType: .range))
        definitions.append(AttributeDefinition(attributeName: range, attributeType: rangeType))
    }
    return try await database.createTable(
        CreateTableInput(
            tableName: name, keySchema: keySchema, attributeDefinitions: definitions, billingMode: .payPerRequest))
}

/// The number `text`, which must parse.
func num(_ text: String) -> AttributeValue {
    .n(try! DecimalNumber(text))
}

/// `count` bytes of `byte`.
func bytes(_ count: Int, _ byte: UInt8 = 0x61) -> [UInt8] {
    [UInt8](repeating: byte, count: count)
}

/// A string of `count` ASCII characters (`count` UTF-8 bytes).
func ascii(_ count: Int, _ character: Character = "x") -> String {
    String(repeating: character, count: count)
}

/// A small seeded generator, so that a failing randomized run can be replayed from the seed it reports.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
