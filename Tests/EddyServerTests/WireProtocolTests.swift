import Eddy
import Foundation
import Testing

@testable import EddyServer

/// The wire protocol's own pieces, from the AWS docs: the `x-amz-crc32` checksum, error bodies and their
/// `__type` namespaces, and how ``EddyServer/handle(target:body:)`` answers requests it cannot run.
@Suite("Wire protocol", .timeLimit(.minutes(5)))
struct WireProtocolTests {
    private static let validate = "com.amazon.coral.validate#"
    private static let service = "com.amazon.coral.service#"
    private static let dynamodb = "com.amazonaws.dynamodb.v20120810#"

    @Test("CRC-32 matches the IEEE check value and is 0 for no bytes")
    func crc32CheckValues() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([]) == 0)
    }

    @Test("CRC-32 changes when one bit of the body changes")
    func crc32SeesOneBit() {
        let body = Array(#"{"TableNames":[]}"#.utf8)
        var flipped = body
        flipped[3] ^= 0x01
        #expect(CRC32.checksum(body) != CRC32.checksum(flipped))
    }

    @Test(
        "Each error type carries the namespace DynamoDB sends",
        arguments: [
            (WireError(type: "ValidationException", message: "bad"), validate + "ValidationException"),
            (WireError.serialization("not JSON"), service + "SerializationException"),
            (WireError.unknownOperation("DynamoDB_20120810.Nope"), service + "UnknownOperationException"),
            (WireError(EddyError.resourceNotFound("Requested resource not found")), dynamodb + "ResourceNotFoundException"),
            (WireError(EddyError.conditionalCheckFailed("The conditional request failed", item: nil)),
             dynamodb + "ConditionalCheckFailedException"),
        ])
    func errorNamespaces(error: WireError, qualifiedType: String) throws {
        let body = try #require(jsonObject(error.body))
        #expect(body["__type"] as? String == qualifiedType)
        #expect(body["message"] as? String == error.message)
        #expect(body["Item"] == nil)
        #expect(error.status == 400)
    }

    @Test("A failed condition's error carries the item it saw, in DynamoDB's JSON")
    func conditionalCheckFailedCarriesItem() throws {
        let item: Item = ["pk": .s("a\"b"), "n": .n(try DecimalNumber("12.5")), "tags": .ss(["x", "y"])]
        let error = WireError(EddyError.conditionalCheckFailed("The conditional request failed", item: item))
        let body = try #require(jsonObject(error.body))
        #expect(body["__type"] as? String == Self.dynamodb + "ConditionalCheckFailedException")
        #expect(body["message"] as? String == "The conditional request failed")
        let encoded = try JSONSerialization.data(withJSONObject: try #require(body["Item"]))
        #expect(try JSONDecoder().decode(Item.self, from: encoded) == item)
    }

    @Test("A throttling error carries its ThrottlingReasons, and ThrottlingException the availability namespace")
    func throttlingErrorsCarryTheirReasons() throws {
        let arn = "arn:aws:dynamodb:us-east-1:000000000000:table/Orders"
        let cases: [(EddyError, String)] = [
            (.provisionedThroughputExceeded("exceeded", reasons: [ThrottlingReason(reason: "TableWriteProvisionedThroughputExceeded", resource: arn)]),
             Self.dynamodb + "ProvisionedThroughputExceededException"),
            (.throttling("throttled", reasons: [ThrottlingReason(reason: "TableWriteMaxOnDemandThroughputExceeded", resource: arn)]),
             "com.amazon.coral.availability#ThrottlingException"),
            (.requestLimitExceeded("quota", reasons: [ThrottlingReason(reason: "TableReadAccountLimitExceeded", resource: arn)]),
             Self.dynamodb + "RequestLimitExceeded"),
        ]
        for (error, qualifiedType) in cases {
            let body = try #require(jsonObject(WireError(error).body))
            #expect(body["__type"] as? String == qualifiedType)
            #expect(body["message"] as? String == error.message)
            // ThrottlingException's member is `throttlingReasons` in the API model; the others' `ThrottlingReasons`.
            let member = error.errorType == "ThrottlingException" ? "throttlingReasons" : "ThrottlingReasons"
            let reasons = try #require(body[member] as? [[String: String]])
            #expect(reasons == error.throttlingReasons.map { ["reason": $0.reason, "resource": $0.resource] })
        }
    }

    @Test("A message with quotes, backslashes and control characters stays valid JSON")
    func messageIsEscaped() throws {
        let message = "a \"quoted\" \\ back\nslash\u{01} é"
        let body = try #require(jsonObject(WireError(type: "ValidationException", message: message).body))
        #expect(body["message"] as? String == message)
    }

    @Test(
        "An unknown or missing target is an UnknownOperationException",
        arguments: [
            "DynamoDB_20120810.NoSuchOperation", "Bogus.ListTables", "DynamoDB_20120810.listtables",
            "DynamoDBStreams_20120810.ListTables", "", nil,
        ] as [String?])
    func unknownTarget(target: String?) async throws {
        try await withServer { server in
            let error = try #require(await server.handle(target: target, body: Array("{}".utf8)).failure)
            #expect(error.type == "UnknownOperationException")
            #expect(error.status == 400)
            let body = try #require(jsonObject(error.body))
            #expect(body["__type"] as? String == Self.service + "UnknownOperationException")
        }
    }

    @Test(
        "A body that is not JSON is a SerializationException",
        arguments: [#"{"TableName": "x", "Key": "#, "{", "not json", #"{"TableName":"abc"}}"#, #"{'TableName':'abc'}"#, "{\"TableName\":\"a\u{1}b\"}"])
    func malformedJSON(body: String) async throws {
        try await withServer { server in
            let error = try #require(await server.handle(target: "DynamoDB_20120810.GetItem", body: Array(body.utf8)).failure)
            #expect(error.type == "SerializationException")
            #expect(error.status == 400)
        }
    }

    /// JSON (RFC 8259) has no trailing commas, and DynamoDB's parser refuses them; Foundation's
    /// `JSONDecoder` accepts them, so Eddy decodes the body and answers for its members instead.
    @Test(
        "A trailing comma is not JSON: SerializationException",
        arguments: [#"{"TableName":"Users",}"#, #"{"TableName":"Users","AttributesToGet":["a",],"Key":{"id":{"S":"1"}}}"#])
    func trailingComma(body: String) async throws {
        try await withServer { server in
            let error = try #require(await server.handle(target: "DynamoDB_20120810.GetItem", body: Array(body.utf8)).failure)
            #expect(error.type == "SerializationException", "\(error.type): \(error.message)")
        }
    }

    @Test("A member of the wrong JSON type is a SerializationException")
    func wrongMemberType() async throws {
        try await withServer { server in
            let error = try #require(
                await server.handle(target: "DynamoDB_20120810.DescribeTable", body: Array(#"{"TableName":42}"#.utf8)).failure)
            #expect(error.type == "SerializationException")
        }
    }

    @Test("A missing TableName is a ValidationException naming tableName")
    func missingTableName() async throws {
        try await withServer { server in
            for target in ["DescribeTable", "GetItem", "PutItem", "Scan"] {
                let error = try #require(await server.handle(target: "DynamoDB_20120810." + target, body: Array("{}".utf8)).failure)
                #expect(error.type == "ValidationException", "\(target)")
                #expect(error.message.contains("tableName"), "\(target): \(error.message)")
                let body = try #require(jsonObject(error.body))
                #expect(body["__type"] as? String == Self.validate + "ValidationException")
            }
        }
    }

    @Test("An empty body is an empty request: ListTables answers with no tables")
    func emptyBodyIsEmptyRequest() async throws {
        try await withServer { server in
            let answer = try #require(await server.handle(target: "DynamoDB_20120810.ListTables", body: []).success)
            let body = try #require(jsonObject(answer))
            #expect((body["TableNames"] as? [Any])?.isEmpty == true)
        }
    }
}
