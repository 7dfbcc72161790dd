import Eddy
import Foundation
import Testing

@testable import EddyServer

/// A request body that is not JSON is answered with DynamoDB's type, HTTP 400, `__type`
/// `com.amazon.coral.service#SerializationException`, and (where DynamoDB sends no message) a message saying
/// what is wrong, as every malformed request gets one from Eddy.
@Suite("Bodies that are not JSON", .timeLimit(.minutes(5)))
struct MalformedJSONTests {
    @Test(
        "A body that is not JSON is a SerializationException saying so",
        arguments: [
            #"{"TableName": "x", "Key": "#, "{", "not json", #"{"TableName":"abc"}}"#, #"{'TableName':'abc'}"#,
            #"{"TableName":"Users",}"#, String(repeating: "[", count: 300) + String(repeating: "]", count: 300),
        ])
    func notJSON(body: String) async throws {
        try await withServer { server in
            let error = try #require(await server.handle(target: "DynamoDB_20120810.GetItem", body: Array(body.utf8)).failure)
            #expect(error.type == "SerializationException")
            #expect(error.status == 400)
            let answer = try #require(jsonObject(error.body))
            #expect(answer["__type"] as? String == "com.amazon.coral.service#SerializationException")
            #expect((answer["message"] as? String)?.hasPrefix("The request body is not valid JSON") == true)
        }
    }

    @Test("The message says what is not JSON")
    func explained() throws {
        #expect(throws: WireError.serialization("The request body is not valid JSON: a comma before a closing bracket or brace")) {
            let _: [String: String] = try RequestDecoding.decode(Array(#"{"a":"b",}"#.utf8))
        }
    }

    @Test("A member of the wrong JSON type keeps its message")
    func wrongTypeKeepsMessage() async throws {
        try await withServer { server in
            let error = try #require(
                await server.handle(target: "DynamoDB_20120810.DescribeTable", body: Array(#"{"TableName":42}"#.utf8)).failure)
            #expect(error.type == "SerializationException")
            #expect(jsonObject(error.body)?["message"] as? String == error.message)
            #expect(!error.message.isEmpty)
        }
    }
}
