import Eddy
import Foundation
import Testing

@testable import EddyServer

/// A binary value (`B`, an element of `BS`, a binary key) that is not Base64 cannot be deserialized: DynamoDB
/// answers a `SerializationException` saying why, before it looks at the table.
@Suite("Binary values that are not Base64", .timeLimit(.minutes(5)))
struct BinaryDeserializationTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var target: String
        var body: String
        var message: String
        var testDescription: String { "\(target) \(body)" }
    }

    static let cases: [Case] = [
        Case(
            target: "PutItem", body: #"{"TableName":"Tbl","Item":{"pk":{"S":"a"},"b":{"B":"QQ="}}}"#,
            message: "'QQ=' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 3"),
        Case(
            target: "PutItem", body: #"{"TableName":"Tbl","Item":{"pk":{"S":"a"},"b":{"BS":["QQ==","QQ!="]}}}"#,
            message: "'QQ!=' can not be converted to a Blob: Invalid Base64 character: '!'"),
        Case(
            target: "GetItem", body: #"{"TableName":"Tbl","Key":{"pk":{"B":"Q=Q="}}}"#,
            message: "'Q=Q=' can not be converted to a Blob: Invalid Base64 character: '='"),
        Case(
            target: "DeleteItem", body: #"{"TableName":"Tbl","Key":{"pk":{"B":"QR=="}}}"#,
            message: "'QR==' can not be converted to a Blob: Invalid last non-pad Base64 character dectected"),
        Case(
            target: "Query",
            body: #"{"TableName":"Tbl","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"B":"é123"}}}"#,
            message: "'é123' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 5"),
    ]

    @Test("A binary value that is not Base64 is a SerializationException with DynamoDB's reason", arguments: cases)
    func notBase64(_ testCase: Case) async throws {
        try await withServer { server in
            let error = try #require(
                await server.handle(target: "DynamoDB_20120810." + testCase.target, body: Array(testCase.body.utf8)).failure)
            #expect(error.type == "SerializationException")
            #expect(error.qualifiedType == "com.amazon.coral.service#SerializationException")
            #expect(error.message == testCase.message)
        }
    }

    @Test("Canonical Base64 of any length decodes to its bytes", arguments: [0, 1, 2, 3, 4, 5, 64])
    func canonicalBase64(length: Int) throws {
        let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        let json = #"{"B":""# + Data(bytes).base64EncodedString() + #""}"#
        #expect(try JSONDecoder().decode(AttributeValue.self, from: Data(json.utf8)) == .b(bytes))
    }
}
