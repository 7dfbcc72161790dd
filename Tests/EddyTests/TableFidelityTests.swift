import Foundation
import Testing

@testable import Eddy

// Tables as the API reference describes them (issue 21, point 7): BillingModeSummary's
// LastUpdateToPayPerRequestDateTime (kept across restarts), DeleteTable's answer for a DELETING table, and
// CreateTable's messages for duplicate attribute names, key schemas naming one attribute twice and
// AttributeDefinitions no key uses.

private func key(_ name: String, _ type: KeyType) -> KeySchemaElement { KeySchemaElement(attributeName: name, keyType: type) }
private func string(_ name: String) -> AttributeDefinition { AttributeDefinition(attributeName: name, attributeType: .s) }

struct TableDefinitionCase: CustomTestStringConvertible, Sendable {
    let label: String
    let keySchema: [KeySchemaElement]
    let definitions: [AttributeDefinition]
    var globals: [GlobalSecondaryIndex]? = nil
    let message: String
    var testDescription: String { label }
}

private let byG = GlobalSecondaryIndex(indexName: "byG", keySchema: [key("g", .hash)], projection: Projection(projectionType: .all))

private let definitionCases: [TableDefinitionCase] = [
    TableDefinitionCase(
        label: "an attribute defined twice", keySchema: [key("pk", .hash)], definitions: [string("pk"), string("pk")],
        message: "Attribute Name is duplicated: pk"),
    TableDefinitionCase(
        label: "an attribute defined twice with two types", keySchema: [key("pk", .hash), key("sk", .range)],
        definitions: [string("pk"), string("sk"), AttributeDefinition(attributeName: "sk", attributeType: .n)],
        message: "Attribute Name is duplicated: sk"),
    TableDefinitionCase(
        label: "a key schema naming one attribute twice", keySchema: [key("pk", .hash), key("pk", .range)], definitions: [string("pk")],
        message: "Both the Hash Key and the Range Key element in the KeySchema have the same name"),
    TableDefinitionCase(
        label: "an unused definition", keySchema: [key("pk", .hash)], definitions: [string("pk"), string("extra")],
        message: "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions"),
    TableDefinitionCase(
        label: "an unused definition beside an index", keySchema: [key("pk", .hash)],
        definitions: [string("extra"), string("pk"), string("g")], globals: [byG],
        message: "One or more parameter values were invalid: Some AttributeDefinitions are not used. AttributeDefinitions: [extra, pk, g], keys used: [pk, g]"),
]

@Suite struct TableFidelityTests {
    @Test(arguments: definitionCases) func badDefinitionsAreRefusedInDynamoDBsWords(_ testCase: TableDefinitionCase) async throws {
        try await withDatabase { db in
            await expectValidation(testCase.message) {
                try await db.createTable(CreateTableInput(
                    tableName: "Tbl", keySchema: testCase.keySchema, attributeDefinitions: testCase.definitions,
                    billingMode: .payPerRequest, globalSecondaryIndexes: testCase.globals))
            }
            let names = try await db.listTables().tableNames
            #expect(names.isEmpty)
        }
    }

    @Test func lastUpdateToPayPerRequestIsSetWhenTheTableBecomesOnDemandAndSurvivesRestart() async throws {
        try await withTemporaryDirectory { path in
            let clock = ManualWallClock(milliseconds: 1_750_000_000_000)
            do {
                let db = try Database(path: path + "/db", configuration: .init(clock: clock))
                let onDemand = try await createTable(db, "OnDemand")
                #expect(onDemand.billingModeSummary.lastUpdateToPayPerRequestDateTime == 1_750_000_000)
                #expect(onDemand.billingModeSummary.lastUpdateToPayPerRequestDateTime == onDemand.creationDateTime)
                let provisioned = try await db.createTable(CreateTableInput(
                    tableName: "Provisioned", keySchema: [key("pk", .hash)], attributeDefinitions: [string("pk")],
                    billingMode: .provisioned, provisionedThroughput: ProvisionedThroughput(readCapacityUnits: 1, writeCapacityUnits: 1)))
                #expect(provisioned.billingModeSummary.lastUpdateToPayPerRequestDateTime == nil)
                clock.advance(bySeconds: 90.5)
                let switched = try await db.updateTable(UpdateTableInput(tableName: "Provisioned", billingMode: .payPerRequest))
                #expect(switched.billingModeSummary.billingMode == .payPerRequest)
                #expect(switched.billingModeSummary.lastUpdateToPayPerRequestDateTime == 1_750_000_090.5)
                clock.advance(bySeconds: 60)
                let back = try await db.updateTable(UpdateTableInput(
                    tableName: "Provisioned", billingMode: .provisioned,
                    provisionedThroughput: ProvisionedThroughput(readCapacityUnits: 2, writeCapacityUnits: 2)))
                #expect(back.billingModeSummary.billingMode == .provisioned)
                #expect(back.billingModeSummary.lastUpdateToPayPerRequestDateTime == 1_750_000_090.5, "the last time it was set stays")
            }
            let reopened = try Database(path: path + "/db", configuration: .init(clock: clock))
            #expect(try await reopened.describeTable(tableName: "OnDemand").billingModeSummary.lastUpdateToPayPerRequestDateTime == 1_750_000_000)
            #expect(try await reopened.describeTable(tableName: "Provisioned").billingModeSummary.lastUpdateToPayPerRequestDateTime == 1_750_000_090.5)
        }
    }

    @Test func summariesEncodeTheTimeOnlyWhenItIsSet() throws {
        let never = try JSONSerialization.jsonObject(with: JSONEncoder().encode(BillingModeSummary(billingMode: .provisioned))) as? [String: Any]
        #expect(never?.keys.sorted() == ["BillingMode"])
        let set = try JSONSerialization.jsonObject(
            with: JSONEncoder().encode(BillingModeSummary(billingMode: .payPerRequest, lastUpdateToPayPerRequestDateTime: 1.5))) as? [String: Any]
        #expect(set?["LastUpdateToPayPerRequestDateTime"] as? Double == 1.5)
    }

    @Test func deleteTableAnswersWithWhatDynamoDBReturnsForADeletingTable() async throws {
        try await withStreamDatabase { db, _ in
            try await db.createTable(CreateTableInput(
                tableName: "Doomed", keySchema: [key("pk", .hash)], attributeDefinitions: [string("pk"), string("g")],
                billingMode: .payPerRequest, streamSpecification: StreamSpecification(streamEnabled: true, streamViewType: .keysOnly),
                globalSecondaryIndexes: [byG]))
            try await db.putItem(PutItemInput(tableName: "Doomed", item: ["pk": "a", "g": "x"]))
            let full = try await db.describeTable(tableName: "Doomed")
            let described = try JSONSerialization.jsonObject(with: JSONEncoder().encode(full)) as? [String: Any]
            #expect(described?["KeySchema"] != nil && described?["GlobalSecondaryIndexes"] != nil, "DescribeTable keeps every member")
            #expect(try JSONDecoder().decode(TableDescription.self, from: JSONEncoder().encode(full)) == full)
            let deleted = try await db.deleteTable(tableName: "Doomed")
            #expect(deleted.tableStatus == .deleting)
            let json = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(deleted)) as? [String: Any])
            #expect(json.keys.sorted() == ["ItemCount", "ProvisionedThroughput", "TableArn", "TableName", "TableSizeBytes", "TableStatus"])
            #expect(json["TableStatus"] as? String == "DELETING")
            #expect(json["ItemCount"] as? Int == 1)
            #expect(json["TableArn"] as? String == "arn:aws:dynamodb:us-east-1:000000000000:table/Doomed")
            // A client reads the shorter answer back, and writes it as short again.
            let decoded = try JSONDecoder().decode(TableDescription.self, from: JSONEncoder().encode(deleted))
            #expect(decoded.tableStatus == .deleting && decoded.itemCount == 1 && decoded.tableName == "Doomed")
            let again = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(decoded)) as? [String: Any])
            #expect(again.keys.sorted() == json.keys.sorted())
        }
    }
}
