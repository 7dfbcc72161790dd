import Foundation
import Testing

@testable import Eddy

// CreateTable, DescribeTable, ListTables, DeleteTable and UpdateTable, written from the DynamoDB API
// Reference (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/). Expected messages are
// DynamoDB's, spelled out here so that a changed message fails.

private let hashOnly = [KeySchemaElement(attributeName: "id", keyType: .hash)]
private let hashOnlyDefinitions = [AttributeDefinition(attributeName: "id", attributeType: .s)]

private func input(
    _ name: String = "Things",
    keySchema: [KeySchemaElement] = hashOnly,
    definitions: [AttributeDefinition] = hashOnlyDefinitions,
    billingMode: BillingMode? = .payPerRequest,
    throughput: ProvisionedThroughput? = nil,
    deletionProtection: Bool? = nil
) -> CreateTableInput {
    CreateTableInput(
        tableName: name, keySchema: keySchema, attributeDefinitions: definitions, billingMode: billingMode,
        provisionedThroughput: throughput, deletionProtectionEnabled: deletionProtection)
}

private func constraint(_ value: String, _ field: String, _ rule: String) -> String {
    "1 validation error detected: Value '\(value)' at '\(field)' failed to satisfy constraint: \(rule)"
}

/// An invalid CreateTable request and DynamoDB's answer.
struct CreateTableCase: CustomTestStringConvertible, Sendable {
    let label: String
    let input: CreateTableInput
    let message: String
    var testDescription: String { label }
}

private let hashA = KeySchemaElement(attributeName: "a", keyType: .hash)
private let rangeA = KeySchemaElement(attributeName: "a", keyType: .range)
private let hashB = KeySchemaElement(attributeName: "b", keyType: .hash)
private let rangeB = KeySchemaElement(attributeName: "b", keyType: .range)
private let rangeC = KeySchemaElement(attributeName: "c", keyType: .range)
private let defA = AttributeDefinition(attributeName: "a", attributeType: .s)
private let defB = AttributeDefinition(attributeName: "b", attributeType: .n)
private let defC = AttributeDefinition(attributeName: "c", attributeType: .b)

private let invalidCreateCases: [CreateTableCase] = [
    CreateTableCase(
        label: "name of 2 characters", input: input("ab"),
        message: constraint("ab", "tableName", "Member must have length greater than or equal to 3")),
    CreateTableCase(
        label: "empty name", input: input(""),
        message: constraint("", "tableName", "Member must have length greater than or equal to 3")),
    CreateTableCase(
        label: "name of 256 characters", input: input(ascii(256, "t")),
        message: constraint(ascii(256, "t"), "tableName", "Member must have length less than or equal to 255")),
    CreateTableCase(
        label: "space in name", input: input("my table"),
        message: constraint("my table", "tableName", "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")),
    CreateTableCase(
        label: "slash in name", input: input("a/b/c"),
        message: constraint("a/b/c", "tableName", "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")),
    CreateTableCase(
        label: "non-ASCII letter in name", input: input("tablé"),
        message: constraint("tablé", "tableName", "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")),
    CreateTableCase(
        label: "empty key schema", input: input(keySchema: []),
        message: constraint("[]", "keySchema", "Member must have length greater than or equal to 1")),
    CreateTableCase(
        label: "three key schema elements", input: input(keySchema: [hashA, rangeB, rangeC], definitions: [defA, defB, defC]),
        message: constraint(
            "[KeySchemaElement(attributeName=a, keyType=HASH), KeySchemaElement(attributeName=b, keyType=RANGE), KeySchemaElement(attributeName=c, keyType=RANGE)]",
            "keySchema", "Member must have length less than or equal to 2")),
    CreateTableCase(
        label: "empty key attribute name",
        input: input(keySchema: [KeySchemaElement(attributeName: "", keyType: .hash)], definitions: [AttributeDefinition(attributeName: "", attributeType: .s)]),
        message: constraint("", "keySchema.1.member.attributeName", "Member must have length greater than or equal to 1")),
    CreateTableCase(
        label: "key attribute name of 256 bytes",
        input: input(keySchema: [KeySchemaElement(attributeName: ascii(256), keyType: .hash)], definitions: [AttributeDefinition(attributeName: ascii(256), attributeType: .s)]),
        message: constraint(ascii(256), "keySchema.1.member.attributeName", "Member must have length less than or equal to 255")),
    CreateTableCase(
        label: "only a RANGE key", input: input(keySchema: [rangeA], definitions: [defA]),
        message: "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"),
    CreateTableCase(
        label: "RANGE before HASH", input: input(keySchema: [rangeA, hashB], definitions: [defA, defB]),
        message: "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"),
    CreateTableCase(
        label: "two HASH keys", input: input(keySchema: [hashA, hashB], definitions: [defA, defB]),
        message: "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type"),
    CreateTableCase(
        label: "HASH and RANGE of the same name", input: input(keySchema: [hashA, rangeA], definitions: [defA]),
        message: "Both the Hash Key and the Range Key element in the KeySchema have the same name"),
    CreateTableCase(
        label: "key attribute not defined", input: input(keySchema: [hashA], definitions: [defB]),
        message: "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [a], AttributeDefinitions: [b]"),
    CreateTableCase(
        label: "sort key not defined", input: input(keySchema: [hashA, rangeB], definitions: [defA]),
        message: "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [a, b], AttributeDefinitions: [a]"),
    CreateTableCase(
        label: "definition not used by the key", input: input(keySchema: [hashA], definitions: [defA, defB]),
        message: "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions"),
    CreateTableCase(
        label: "PROVISIONED without throughput", input: input(billingMode: .provisioned),
        message: "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED"),
    CreateTableCase(
        label: "default billing (PROVISIONED) without throughput", input: input(billingMode: nil),
        message: "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED"),
    CreateTableCase(
        label: "PAY_PER_REQUEST with throughput",
        input: input(billingMode: .payPerRequest, throughput: ProvisionedThroughput(readCapacityUnits: 5, writeCapacityUnits: 5)),
        message: "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"),
    CreateTableCase(
        label: "read capacity 0",
        input: input(billingMode: .provisioned, throughput: ProvisionedThroughput(readCapacityUnits: 0, writeCapacityUnits: 5)),
        message: constraint("0", "provisionedThroughput.readCapacityUnits", "Member must have value greater than or equal to 1")),
    CreateTableCase(
        label: "write capacity 0",
        input: input(billingMode: .provisioned, throughput: ProvisionedThroughput(readCapacityUnits: 5, writeCapacityUnits: 0)),
        message: constraint("0", "provisionedThroughput.writeCapacityUnits", "Member must have value greater than or equal to 1")),
    CreateTableCase(
        label: "negative read capacity",
        input: input(billingMode: nil, throughput: ProvisionedThroughput(readCapacityUnits: -1, writeCapacityUnits: 1)),
        message: constraint("-1", "provisionedThroughput.readCapacityUnits", "Member must have value greater than or equal to 1")),
]

@Suite(.timeLimit(.minutes(5))) struct TableOperationsTests {
    // MARK: CreateTable

    @Test func createHashOnlyOnDemandTable() async throws {
        try await withDatabase { db in
            let created = try await db.createTable(input("Users"))
            #expect(created.tableName == "Users")
            #expect(created.tableStatus == .active)
            #expect(created.tableArn == "arn:aws:dynamodb:us-east-1:000000000000:table/Users")
            #expect(created.keySchema == hashOnly)
            #expect(created.attributeDefinitions == hashOnlyDefinitions)
            #expect(created.billingModeSummary.billingMode == .payPerRequest)
            #expect(created.provisionedThroughput.readCapacityUnits == 0)
            #expect(created.provisionedThroughput.writeCapacityUnits == 0)
            #expect(created.itemCount == 0)
            #expect(created.tableSizeBytes == 0)
            #expect(created.deletionProtectionEnabled == false)
            #expect(created.tableClassSummary.tableClass == .standard)
            #expect(UUID(uuidString: created.tableId) != nil)
            let now = Date().timeIntervalSince1970
            #expect(abs(created.creationDateTime - now) < 60)

            let described = try await db.describeTable(tableName: "Users")
            #expect(described == created)
        }
    }

    @Test func createCompositeProvisionedTable() async throws {
        try await withDatabase { db in
            let keySchema = [
                KeySchemaElement(attributeName: "customer", keyType: .hash),
                KeySchemaElement(attributeName: "orderedAt", keyType: .range),
            ]
            // Definitions in another order than the key schema are fine.
            let definitions = [
                AttributeDefinition(attributeName: "orderedAt", attributeType: .n),
                AttributeDefinition(attributeName: "customer", attributeType: .b),
            ]
            let created = try await db.createTable(
                input("Orders.2024-v_1", keySchema: keySchema, definitions: definitions, billingMode: .provisioned,
                      throughput: ProvisionedThroughput(readCapacityUnits: 7, writeCapacityUnits: 3), deletionProtection: true))
            #expect(created.tableArn == "arn:aws:dynamodb:us-east-1:000000000000:table/Orders.2024-v_1")
            #expect(created.keySchema == keySchema)
            #expect(created.attributeDefinitions == definitions)
            #expect(created.billingModeSummary.billingMode == .provisioned)
            #expect(created.provisionedThroughput.readCapacityUnits == 7)
            #expect(created.provisionedThroughput.writeCapacityUnits == 3)
            #expect(created.deletionProtectionEnabled)

            // The key schema is in force: the sort key is required, with its type.
            try await db.putItem(PutItemInput(tableName: "Orders.2024-v_1", item: ["customer": .b([1]), "orderedAt": 5]))
            await expectValidation("One or more parameter values were invalid: Missing the key orderedAt in the item") {
                try await db.putItem(PutItemInput(tableName: "Orders.2024-v_1", item: ["customer": .b([1])]))
            }
        }
    }

    @Test func billingModeDefaultsToProvisioned() async throws {
        try await withDatabase { db in
            let created = try await db.createTable(
                input("Defaulted", billingMode: nil, throughput: ProvisionedThroughput(readCapacityUnits: 1, writeCapacityUnits: 1)))
            #expect(created.billingModeSummary.billingMode == .provisioned)
            #expect(created.provisionedThroughput.readCapacityUnits == 1)
        }
    }

    @Test(arguments: [3, 255])
    func tableNameLengthBoundariesAccepted(length: Int) async throws {
        try await withDatabase { db in
            let name = ascii(length, "n")
            let created = try await db.createTable(input(name))
            #expect(created.tableName == name)
            #expect(try await db.listTables().tableNames == [name])
        }
    }

    @Test func keyAttributeNameOf255BytesAccepted() async throws {
        try await withDatabase { db in
            let name = ascii(255, "k")
            try await db.createTable(
                input(keySchema: [KeySchemaElement(attributeName: name, keyType: .hash)],
                      definitions: [AttributeDefinition(attributeName: name, attributeType: .s)]))
            try await db.putItem(PutItemInput(tableName: "Things", item: [name: "v"]))
            #expect(try await db.getItem(GetItemInput(tableName: "Things", key: [name: "v"])).item == [name: "v"])
        }
    }

    @Test(arguments: invalidCreateCases)
    func invalidCreateTableRefused(_ testCase: CreateTableCase) async throws {
        try await withDatabase { db in
            await expectValidation(testCase.message) { try await db.createTable(testCase.input) }
            // Nothing was created.
            let names = try await db.listTables().tableNames
            #expect(names == [])
        }
    }

    @Test func duplicateTableRefused() async throws {
        try await withDatabase { db in
            let first = try await db.createTable(input("Users"))
            await expectEddyError("ResourceInUseException", "Table already exists: Users") {
                try await db.createTable(input("Users", billingMode: .provisioned,
                                               throughput: ProvisionedThroughput(readCapacityUnits: 1, writeCapacityUnits: 1)))
            }
            // The first table is unchanged.
            let described = try await db.describeTable(tableName: "Users")
            #expect(described.tableId == first.tableId)
            #expect(described.billingModeSummary.billingMode == .payPerRequest)
            // Names are case-sensitive: "users" is another table.
            try await db.createTable(input("users"))
            #expect(try await db.listTables().tableNames == ["Users", "users"])
        }
    }

    // MARK: DescribeTable

    @Test func describeCountsItemsAndSizes() async throws {
        try await withDatabase { db in
            try await db.createTable(input("Sized"))
            // Sizes by DynamoDB's rules: name bytes + value bytes.
            // "id"(2) + "a"(1) = 3
            try await db.putItem(PutItemInput(tableName: "Sized", item: ["id": "a"]))
            // "id"(2) + "bb"(2) + "name"(4) + "Zoë"(4 UTF-8 bytes) = 12
            try await db.putItem(PutItemInput(tableName: "Sized", item: ["id": "bb", "name": "Zoë"]))
            // "id"(2) + "c"(1) + "b"(1) + 3 bytes + "f"(1) + 1 (bool) = 9
            try await db.putItem(PutItemInput(tableName: "Sized", item: ["id": "c", "b": .b([1, 2, 3]), "f": true]))
            var description = try await db.describeTable(tableName: "Sized")
            #expect(description.itemCount == 3)
            #expect(description.tableSizeBytes == 24)

            // Overwriting replaces the old size; deleting removes it.
            try await db.putItem(PutItemInput(tableName: "Sized", item: ["id": "a", "x": "12345"]))
            try await db.deleteItem(DeleteItemInput(tableName: "Sized", key: ["id": "bb"]))
            description = try await db.describeTable(tableName: "Sized")
            #expect(description.itemCount == 2)
            #expect(description.tableSizeBytes == 9 + 9)
        }
    }

    @Test func describeCountsOnlyItsOwnTable() async throws {
        try await withDatabase { db in
            try await db.createTable(input("First"))
            try await db.createTable(input("Second"))
            for index in 0..<5 {
                try await db.putItem(PutItemInput(tableName: "First", item: ["id": .s("k\(index)")]))
            }
            try await db.putItem(PutItemInput(tableName: "Second", item: ["id": "only"]))
            #expect(try await db.describeTable(tableName: "First").itemCount == 5)
            #expect(try await db.describeTable(tableName: "Second").itemCount == 1)
            #expect(try await db.describeTable(tableName: "Second").tableSizeBytes == 6)
        }
    }

    @Test func describeUnknownTable() async throws {
        try await withDatabase { db in
            await expectEddyError("ResourceNotFoundException", "Requested resource not found: Table: Nope not found") {
                _ = try await db.describeTable(tableName: "Nope")
            }
            await expectValidation(constraint("x", "tableName", "Member must have length greater than or equal to 3")) {
                _ = try await db.describeTable(tableName: "x")
            }
        }
    }

    // MARK: ListTables

    @Test func listTablesEmpty() async throws {
        try await withDatabase { db in
            let page = try await db.listTables()
            #expect(page.tableNames == [])
            #expect(page.lastEvaluatedTableName == nil)
        }
    }

    @Test(arguments: [1, 2, 3, 7, 23, 24, 100])
    func listTablesPagingVisitsEveryTableOnce(limit: Int) async throws {
        try await withDatabase { db in
            // Names whose order is byte order: capitals before lower case, digits before letters.
            var names: [String] = []
            for index in 0..<8 {
                names += ["Tab\(index)", "tab_\(index)", "0-\(index).x"]
            }
            for name in names.shuffled() {
                try await db.createTable(input(name))
            }
            var seen: [String] = []
            var start: String? = nil
            var pages = 0
            repeat {
                let page = try await db.listTables(ListTablesInput(exclusiveStartTableName: start, limit: limit))
                #expect(page.tableNames.count <= limit)
                #expect(!page.tableNames.isEmpty || page.lastEvaluatedTableName == nil)
                if let last = page.lastEvaluatedTableName {
                    #expect(last == page.tableNames.last)
                }
                seen += page.tableNames
                start = page.lastEvaluatedTableName
                pages += 1
            } while start != nil && pages < 100
            #expect(seen == names.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }))
            #expect(Set(seen).count == names.count)
            #expect(pages >= (names.count + limit - 1) / limit)
        }
    }

    @Test func listTablesStartNameNeedNotExist() async throws {
        try await withDatabase { db in
            for name in ["aaa", "bbb", "ccc", "ddd"] {
                try await db.createTable(input(name))
            }
            let page = try await db.listTables(ListTablesInput(exclusiveStartTableName: "bba"))
            #expect(page.tableNames == ["bbb", "ccc", "ddd"])
            #expect(page.lastEvaluatedTableName == nil)
            let after = try await db.listTables(ListTablesInput(exclusiveStartTableName: "ddd"))
            #expect(after.tableNames == [])
            #expect(after.lastEvaluatedTableName == nil)
            let limited = try await db.listTables(ListTablesInput(exclusiveStartTableName: "aaa", limit: 2))
            #expect(limited.tableNames == ["bbb", "ccc"])
            #expect(limited.lastEvaluatedTableName == "ccc")
        }
    }

    @Test func listTablesDefaultPageIs100() async throws {
        try await withDatabase { db in
            for index in 0..<101 {
                try await db.createTable(input(String(format: "t%03d", index)))
            }
            let first = try await db.listTables()
            #expect(first.tableNames.count == 100)
            #expect(first.lastEvaluatedTableName == "t099")
            let second = try await db.listTables(ListTablesInput(exclusiveStartTableName: first.lastEvaluatedTableName))
            #expect(second.tableNames == ["t100"])
            #expect(second.lastEvaluatedTableName == nil)
        }
    }

    @Test(arguments: [
        (0, constraint("0", "limit", "Member must have value greater than or equal to 1")),
        (-5, constraint("-5", "limit", "Member must have value greater than or equal to 1")),
        (101, constraint("101", "limit", "Member must have value less than or equal to 100")),
    ])
    func listTablesLimitOutOfRange(limit: Int, message: String) async throws {
        try await withDatabase { db in
            try await db.createTable(input("Some"))
            await expectValidation(message) { _ = try await db.listTables(ListTablesInput(limit: limit)) }
        }
    }

    @Test func listTablesBadStartName() async throws {
        try await withDatabase { db in
            await expectValidation(constraint("ab", "exclusiveStartTableName", "Member must have length greater than or equal to 3")) {
                _ = try await db.listTables(ListTablesInput(exclusiveStartTableName: "ab"))
            }
        }
    }

    // MARK: DeleteTable

    @Test func deleteTableRemovesItems() async throws {
        try await withDatabase { db in
            let original = try await db.createTable(input("Gone"))
            try await db.createTable(input("Kept"))
            for index in 0..<10 {
                try await db.putItem(PutItemInput(tableName: "Gone", item: ["id": .s("k\(index)"), "v": .n(DecimalNumber(index))]))
                try await db.putItem(PutItemInput(tableName: "Kept", item: ["id": .s("k\(index)")]))
            }
            let deleted = try await db.deleteTable(tableName: "Gone")
            #expect(deleted.tableStatus == .deleting)
            #expect(deleted.tableName == "Gone")
            #expect(deleted.itemCount == 10)
            #expect(deleted.tableArn == "arn:aws:dynamodb:us-east-1:000000000000:table/Gone")

            #expect(try await db.listTables().tableNames == ["Kept"])
            await expectEddyError("ResourceNotFoundException", "Requested resource not found: Table: Gone not found") {
                _ = try await db.describeTable(tableName: "Gone")
            }
            await expectEddyError("ResourceNotFoundException", "Requested resource not found") {
                _ = try await db.getItem(GetItemInput(tableName: "Gone", key: ["id": "k1"]))
            }
            await expectEddyError("ResourceNotFoundException", "Requested resource not found: Table: Gone not found") {
                try await db.deleteTable(tableName: "Gone")
            }

            // A new table of the same name starts empty, even with the same key schema.
            let recreated = try await db.createTable(input("Gone"))
            #expect(recreated.tableId != original.tableId)
            #expect(try await db.getItem(GetItemInput(tableName: "Gone", key: ["id": "k1"])).item == nil)
            #expect(try await db.scan(ScanInput(tableName: "Gone")).count == 0)
            #expect(try await db.describeTable(tableName: "Gone").itemCount == 0)
            // The other table kept its items.
            #expect(try await db.describeTable(tableName: "Kept").itemCount == 10)
        }
    }

    @Test func deleteUnknownTable() async throws {
        try await withDatabase { db in
            await expectEddyError("ResourceNotFoundException", "Requested resource not found: Table: Nope not found") {
                try await db.deleteTable(tableName: "Nope")
            }
        }
    }

    @Test func deletionProtectionRefusesDelete() async throws {
        try await withDatabase { db in
            try await db.createTable(input("Guarded", deletionProtection: true))
            try await db.putItem(PutItemInput(tableName: "Guarded", item: ["id": "a"]))
            await expectValidation(
                "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first."
            ) {
                try await db.deleteTable(tableName: "Guarded")
            }
            #expect(try await db.getItem(GetItemInput(tableName: "Guarded", key: ["id": "a"])).item == ["id": "a"])

            let updated = try await db.updateTable(UpdateTableInput(tableName: "Guarded", deletionProtectionEnabled: false))
            #expect(updated.deletionProtectionEnabled == false)
            try await db.deleteTable(tableName: "Guarded")
            #expect(try await db.listTables().tableNames == [])
        }
    }

    // MARK: UpdateTable

    @Test func updateBillingModeBothWays() async throws {
        try await withDatabase { db in
            try await db.createTable(input("Billed"))
            let provisioned = try await db.updateTable(
                UpdateTableInput(tableName: "Billed", billingMode: .provisioned,
                                 provisionedThroughput: ProvisionedThroughput(readCapacityUnits: 4, writeCapacityUnits: 2)))
            #expect(provisioned.billingModeSummary.billingMode == .provisioned)
            #expect(provisioned.provisionedThroughput.readCapacityUnits == 4)
            #expect(provisioned.provisionedThroughput.writeCapacityUnits == 2)
            #expect(try await db.describeTable(tableName: "Billed") == provisioned)

            // Throughput alone on a provisioned table.
            let raised = try await db.updateTable(
                UpdateTableInput(tableName: "Billed", provisionedThroughput: ProvisionedThroughput(readCapacityUnits: 10, writeCapacityUnits: 2)))
            #expect(raised.billingModeSummary.billingMode == .provisioned)
            #expect(raised.provisionedThroughput.readCapacityUnits == 10)
            #expect(raised.provisionedThroughput.writeCapacityUnits == 2)

            let onDemand = try await db.updateTable(UpdateTableInput(tableName: "Billed", billingMode: .payPerRequest))
            #expect(onDemand.billingModeSummary.billingMode == .payPerRequest)
            #expect(onDemand.provisionedThroughput.readCapacityUnits == 0)
            #expect(onDemand.provisionedThroughput.writeCapacityUnits == 0)
            #expect(try await db.describeTable(tableName: "Billed").billingModeSummary.billingMode == .payPerRequest)
        }
    }

    @Test func updateKeepsItemsAndSchema() async throws {
        try await withDatabase { db in
            let created = try await db.createTable(input("Stable"))
            try await db.putItem(PutItemInput(tableName: "Stable", item: ["id": "a", "v": 1]))
            let updated = try await db.updateTable(UpdateTableInput(tableName: "Stable", deletionProtectionEnabled: true))
            #expect(updated.deletionProtectionEnabled)
            #expect(updated.itemCount == 1)
            #expect(updated.keySchema == created.keySchema)
            #expect(updated.tableId == created.tableId)
            #expect(updated.billingModeSummary.billingMode == .payPerRequest)
            #expect(try await db.getItem(GetItemInput(tableName: "Stable", key: ["id": "a"])).item == ["id": "a", "v": 1])
        }
    }

    @Test func updateSameThroughputRefused() async throws {
        try await withDatabase { db in
            let throughput = ProvisionedThroughput(readCapacityUnits: 5, writeCapacityUnits: 6)
            try await db.createTable(input("Fixed", billingMode: .provisioned, throughput: throughput))
            await expectValidation(
                "The provisioned throughput for the table will not change. The requested value equals the current value. Current ReadCapacityUnits provisioned for the table: 5. Requested ReadCapacityUnits: 5. Current WriteCapacityUnits provisioned for the table: 6. Requested WriteCapacityUnits: 6. Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits."
            ) {
                try await db.updateTable(UpdateTableInput(tableName: "Fixed", provisionedThroughput: throughput))
            }
        }
    }

    @Test func updateWithNothingRefused() async throws {
        try await withDatabase { db in
            try await db.createTable(input("Idle"))
            await expectValidation(
                "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required"
            ) {
                try await db.updateTable(UpdateTableInput(tableName: "Idle"))
            }
        }
    }

    @Test func updateInvalidBillingRefused() async throws {
        try await withDatabase { db in
            try await db.createTable(input("OnDemand"))
            // Throughput on an on-demand table.
            await expectValidation(
                "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST"
            ) {
                try await db.updateTable(UpdateTableInput(
                    tableName: "OnDemand", provisionedThroughput: ProvisionedThroughput(readCapacityUnits: 1, writeCapacityUnits: 1)))
            }
            // Switching to PROVISIONED needs throughput.
            await expectValidation {
                try await db.updateTable(UpdateTableInput(tableName: "OnDemand", billingMode: .provisioned))
            }
            // Capacity below 1.
            await expectValidation(constraint("0", "provisionedThroughput.writeCapacityUnits", "Member must have value greater than or equal to 1")) {
                try await db.updateTable(UpdateTableInput(
                    tableName: "OnDemand", billingMode: .provisioned,
                    provisionedThroughput: ProvisionedThroughput(readCapacityUnits: 1, writeCapacityUnits: 0)))
            }
            // Nothing changed.
            let described = try await db.describeTable(tableName: "OnDemand")
            #expect(described.billingModeSummary.billingMode == .payPerRequest)
            #expect(described.provisionedThroughput.readCapacityUnits == 0)
        }
    }

    @Test func updateUnknownTable() async throws {
        try await withDatabase { db in
            await expectEddyError("ResourceNotFoundException", "Requested resource not found: Table: Nope not found") {
                try await db.updateTable(UpdateTableInput(tableName: "Nope", deletionProtectionEnabled: true))
            }
        }
    }

    // MARK: Persistence

    @Test func catalogPersistsAcrossReopen() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/db"
            var created: [TableDescription] = []
            do {
                let db = try Database(path: path)
                created.append(try await db.createTable(input("Alpha")))
                created.append(try await db.createTable(input(
                    "Beta",
                    keySchema: [KeySchemaElement(attributeName: "p", keyType: .hash), KeySchemaElement(attributeName: "s", keyType: .range)],
                    definitions: [AttributeDefinition(attributeName: "p", attributeType: .n), AttributeDefinition(attributeName: "s", attributeType: .b)],
                    billingMode: .provisioned, throughput: ProvisionedThroughput(readCapacityUnits: 3, writeCapacityUnits: 4),
                    deletionProtection: true)))
                try await db.createTable(input("Doomed"))
                try await db.putItem(PutItemInput(tableName: "Doomed", item: ["id": "x"]))
                try await db.deleteTable(tableName: "Doomed")
                try await db.putItem(PutItemInput(tableName: "Alpha", item: ["id": "a", "v": "1"]))
                try await db.putItem(PutItemInput(tableName: "Beta", item: ["p": 1, "s": .b([9]), "v": "2"]))
                try await db.updateTable(UpdateTableInput(
                    tableName: "Alpha", billingMode: .provisioned,
                    provisionedThroughput: ProvisionedThroughput(readCapacityUnits: 2, writeCapacityUnits: 2)))
            }

            // Every reference to the first Database is gone: open the directory again.
            let db = try Database(path: path)
            #expect(try await db.listTables().tableNames == ["Alpha", "Beta"])
            let alpha = try await db.describeTable(tableName: "Alpha")
            #expect(alpha.tableId == created[0].tableId)
            #expect(alpha.creationDateTime == created[0].creationDateTime)
            #expect(alpha.billingModeSummary.billingMode == .provisioned)
            #expect(alpha.provisionedThroughput.readCapacityUnits == 2)
            #expect(alpha.itemCount == 1)
            var beta = try await db.describeTable(tableName: "Beta")
            beta.itemCount = 0
            beta.tableSizeBytes = 0
            #expect(beta == { var expected = created[1]; expected.tableStatus = .active; return expected }())
            #expect(try await db.getItem(GetItemInput(tableName: "Alpha", key: ["id": "a"])).item == ["id": "a", "v": "1"])
            #expect(try await db.getItem(GetItemInput(tableName: "Beta", key: ["p": 1, "s": .b([9])])).item == ["p": 1, "s": .b([9]), "v": "2"])

            // The deleted table stays deleted; a new one of its name is empty and gets a new identity.
            await expectEddyError("ResourceNotFoundException") { _ = try await db.describeTable(tableName: "Doomed") }
            let doomed = try await db.createTable(input("Doomed"))
            #expect(try await db.getItem(GetItemInput(tableName: "Doomed", key: ["id": "x"])).item == nil)
            #expect(!created.map(\.tableId).contains(doomed.tableId))
            // Deletion protection survived the reopen.
            await expectValidation { try await db.deleteTable(tableName: "Beta") }
        }
    }
}
