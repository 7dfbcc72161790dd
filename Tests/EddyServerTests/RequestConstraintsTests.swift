import Eddy
import Foundation
import Testing

@testable import EddyServer

/// ``RequestConstraints``: how the server answers a request member outside DynamoDB's enumeration (the Coral
/// `ValidationException`, counting every violation), and that it leaves JSON of the wrong type, and valid
/// requests, to the request's decoding.
@Suite("Request constraints", .timeLimit(.minutes(5)))
struct RequestConstraintsTests {
    private static let dynamodb = "DynamoDB_20120810."

    private static func enumViolation(_ value: String, _ path: String, _ allowed: [String]) -> String {
        "Value '\(value)' at '\(path)' failed to satisfy constraint: Member must satisfy enum value set: [\(allowed.joined(separator: ", "))]"
    }

    private static func detected(_ violations: [String]) -> String {
        "\(violations.count) validation error\(violations.count == 1 ? "" : "s") detected: " + violations.joined(separator: "; ")
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var target: String
        var body: String
        var violations: [String]
        var testDescription: String { "\(target) \(body)" }
    }

    static let cases: [Case] = [
        Case(
            target: "PutItem", body: #"{"TableName":"Tbl","Item":{"pk":{"S":"a"}},"ReturnValues":"BOTH"}"#,
            violations: [enumViolation("BOTH", "returnValues", EnumValueSets.returnValues)]),
        Case(
            target: "UpdateItem",
            body: #"{"TableName":"Tbl","Key":{"pk":{"S":"a"}},"AttributeUpdates":{"n":{"Action":"add"}},"ReturnItemCollectionMetrics":"ALL"}"#,
            violations: [
                enumViolation("ALL", "returnItemCollectionMetrics", EnumValueSets.returnItemCollectionMetrics),
                enumViolation("add", "attributeUpdates.n.member.action", EnumValueSets.attributeAction),
            ]),
        Case(
            target: "DeleteItem",
            body: #"{"TableName":"Tbl","Key":{"pk":{"S":"a"}},"Expected":{"b":{"ComparisonOperator":"LIKE"},"a":{"ComparisonOperator":"NULL"}}}"#,
            violations: [enumViolation("LIKE", "expected.b.member.comparisonOperator", EnumValueSets.comparisonOperator)]),
        Case(
            target: "Query", body: #"{"TableName":"Tbl","KeyConditions":{"pk":{"AttributeValueList":[{"S":"a"}]}},"Select":"NONE"}"#,
            violations: [
                enumViolation("NONE", "select", EnumValueSets.select),
                "Value null at 'keyConditions.pk.member.comparisonOperator' failed to satisfy constraint: Member must not be null",
            ]),
        Case(
            target: "Scan", body: #"{"TableName":"a;b","ReturnConsumedCapacity":"ALL"}"#,
            violations: [
                enumViolation("ALL", "returnConsumedCapacity", EnumValueSets.returnConsumedCapacity),
                "Value 'a;b' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
            ]),
        Case(
            target: "CreateTable",
            body: #"{"TableName":"Tbl","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"range"}],"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"BOOL"}],"BillingMode":"PAY_PER_REQUEST","LocalSecondaryIndexes":[{"IndexName":"lsi","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"Projection":{"ProjectionType":"NONE"}}]}"#,
            violations: [
                enumViolation("BOOL", "attributeDefinitions.2.member.attributeType", EnumValueSets.attributeType),
                enumViolation("range", "keySchema.2.member.keyType", EnumValueSets.keyType),
                enumViolation("NONE", "localSecondaryIndexes.1.member.projection.projectionType", EnumValueSets.projectionType),
            ]),
        Case(
            target: "TransactWriteItems",
            body: #"{"TransactItems":[{"ConditionCheck":{"TableName":"Tbl","Key":{"pk":{"S":"a"}},"ConditionExpression":"attribute_exists(pk)","ReturnValuesOnConditionCheckFailure":"YES"}},{"Update":{"TableName":"Tbl","UpdateExpression":"REMOVE a"}}],"ReturnItemCollectionMetrics":"NO"}"#,
            violations: [
                enumViolation("NO", "returnItemCollectionMetrics", EnumValueSets.returnItemCollectionMetrics),
                enumViolation(
                    "YES", "transactItems.1.member.conditionCheck.returnValuesOnConditionCheckFailure",
                    EnumValueSets.returnValuesOnConditionCheckFailure),
                "Value null at 'transactItems.2.member.update.key' failed to satisfy constraint: Member must not be null",
            ]),
    ]

    @Test("A member outside its enumeration is a ValidationException counting every violation", arguments: cases)
    func enumViolations(_ testCase: Case) async throws {
        try await withServer { server in
            let error = try #require(await server.handle(target: Self.dynamodb + testCase.target, body: Array(testCase.body.utf8)).failure)
            #expect(error.type == "ValidationException")
            #expect(error.qualifiedType == "com.amazon.coral.validate#ValidationException")
            #expect(error.message == Self.detected(testCase.violations))
        }
    }

    @Test(
        "A valid value beside an invalid one, a member name inside a value, or an escaped value are all judged on the JSON",
        arguments: [
            (#"{"TableName":"Tbl","Item":{"pk":{"S":"a"}},"ReturnConsumedCapacity":"TOTAL","ReturnValues":"BAD"}"#, "BAD"),
            (#"{"TableName":"Tbl","Item":{"pk":{"S":"ReturnValues"},"ReturnValues":{"S":"x"}},"ReturnValues" : "ALL_OLDER"}"#, "ALL_OLDER"),
            (#"{"TableName":"Tbl","Item":{"pk":{"S":"a"}},"ReturnValues":"ALL_NEW!"}"#, "ALL_NEW!"),
        ])
    func judgedOnTheJSON(body: String, value: String) async throws {
        try await withServer { server in
            let error = try #require(await server.handle(target: Self.dynamodb + "PutItem", body: Array(body.utf8)).failure)
            #expect(error.message == Self.detected([Self.enumViolation(value, "returnValues", EnumValueSets.returnValues)]))
        }
    }

    @Test("An escaped value in the set is accepted")
    func escapedValidValue() async throws {
        try await withServer { server in
            let body = #"{"TableName":"Tbl","Item":{"pk":{"S":"a"}},"ReturnValues":"ALL_OLD"}"#
            let error = try #require(await server.handle(target: Self.dynamodb + "PutItem", body: Array(body.utf8)).failure)
            #expect(error.type == "ResourceNotFoundException", "\(error.type): \(error.message)")
        }
    }

    @Test("Every operation with enum members is guarded, each set listed in DynamoDB's order")
    func everyOperationIsGuarded() {
        let guarded = Set(RequestConstraints.byTarget.keys.map { $0.split(separator: ".").last.map(String.init) ?? $0 })
        #expect(
            guarded == [
                "CreateTable", "UpdateTable", "PutItem", "UpdateItem", "DeleteItem", "GetItem", "BatchGetItem", "BatchWriteItem",
                "Query", "Scan", "TransactWriteItems", "TransactGetItems", "GetShardIterator", "DescribeStream",
                "UpdateContributorInsights",
            ])
        #expect(RequestConstraints.byTarget.keys.allSatisfy { Operations().operation($0) != nil })
        #expect(EnumValueSets.returnValues == ["ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW"])
        #expect(Set(EnumValueSets.returnValues) == Set(ReturnValue.allCases.map(\.rawValue)))
        #expect(Set(EnumValueSets.comparisonOperator) == Set(ComparisonOperator.allCases.map(\.rawValue)))
        #expect(Set(EnumValueSets.select) == Set(Select.allCases.map(\.rawValue)))
        #expect(Set(EnumValueSets.keyType) == Set(KeyType.allCases.map(\.rawValue)))
        #expect(Set(EnumValueSets.attributeType) == Set(ScalarAttributeType.allCases.map(\.rawValue)))
        #expect(Set(EnumValueSets.projectionType) == Set(ProjectionType.allCases.map(\.rawValue)))
        #expect(Set(EnumValueSets.billingMode) == Set(BillingMode.allCases.map(\.rawValue)))
        #expect(Set(EnumValueSets.streamViewType) == Set(StreamViewType.allCases.map(\.rawValue)))
        #expect(Set(EnumValueSets.tableClass) == Set(TableClass.allCases.map(\.rawValue)))
        #expect(Set(EnumValueSets.shardIteratorType) == Set(ShardIteratorType.allCases.map(\.rawValue)))
        #expect(Set(EnumValueSets.shardFilterType) == Set(ShardFilterType.allCases.map(\.rawValue)))
        #expect(Set(EnumValueSets.conditionalOperator) == Set(ConditionalOperator.allCases.map(\.rawValue)))
        #expect(Set(EnumValueSets.attributeAction) == Set(AttributeAction.allCases.map(\.rawValue)))
        #expect(Set(EnumValueSets.contributorInsightsAction) == Set(ContributorInsightsAction.allCases.map(\.rawValue)))
        #expect(Set(EnumValueSets.contributorInsightsMode) == Set(ContributorInsightsMode.allCases.map(\.rawValue)))
        #expect(Set(EnumValueSets.returnItemCollectionMetrics) == Set(ReturnItemCollectionMetrics.allCases.map(\.rawValue)))
        #expect(
            Set(EnumValueSets.returnValuesOnConditionCheckFailure) == Set(ReturnValuesOnConditionCheckFailure.allCases.map(\.rawValue)))
    }

    @Test(
        "An enum member of the wrong JSON type, or beside a body that is not JSON, stays a SerializationException",
        arguments: [
            #"{"TableName":"Tbl","Key":{"pk":{"S":"a"}},"ReturnValues":1}"#,
            #"{"TableName":"Tbl","Key":{"pk":{"S":"a"}},"ReturnValues":{"ALL_OLD":true}}"#,
            #"{"TableName":"Tbl","Key":{"pk":{"S":"a"}},"ReturnValues":"BAD""#,
        ])
    func wrongJSONType(body: String) async throws {
        try await withServer { server in
            let error = try #require(await server.handle(target: Self.dynamodb + "DeleteItem", body: Array(body.utf8)).failure)
            #expect(error.type == "SerializationException", "\(error.message)")
        }
    }

    @Test("A request whose enum members are all in their sets runs")
    func validEnumsRun() async throws {
        try await withServer { server in
            let create =
                #"{"TableName":"Tbl","KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST","TableClass":"STANDARD_INFREQUENT_ACCESS"}"#
            _ = try await server.handle(target: Self.dynamodb + "CreateTable", body: Array(create.utf8)).get()
            let put =
                #"{"TableName":"Tbl","Item":{"pk":{"S":"a"},"note":{"S":"ReturnValues"}},"ReturnValues":"ALL_OLD","ReturnConsumedCapacity":"NONE","ReturnItemCollectionMetrics":"NONE"}"#
            _ = try await server.handle(target: Self.dynamodb + "PutItem", body: Array(put.utf8)).get()
            let get = #"{"TableName":"Tbl","Key":{"pk":{"S":"a"}},"ReturnConsumedCapacity":"TOTAL"}"#
            let item = try #require(jsonObject(try await server.handle(target: Self.dynamodb + "GetItem", body: Array(get.utf8)).get()))
            #expect((item["Item"] as? [String: Any])?["note"] != nil)
        }
    }
}
