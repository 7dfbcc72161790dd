import Foundation
import Testing

@testable import Eddy

// Issue 21, point 3: UpdateItem's answer and effect as DynamoDB gives them, from the API Reference (UpdateItem,
// "ReturnValues": UPDATED_OLD/UPDATED_NEW return only the updated attributes; ALL_OLD returns the item as it
// was, so nothing for an item that did not exist) and the Developer Guide ("Update expressions": REMOVE and
// DELETE take away; an update that only takes away creates no item).

/// The records of every shard of stream `arn`, from its trim horizon.
private func streamRecords(_ db: Database, _ arn: String) async throws -> [StreamRecord] {
    var records: [StreamRecord] = []
    for shard in try await allShards(db, arn) {
        let iterator = try #require(
            try await db.getShardIterator(
                GetShardIteratorInput(streamArn: arn, shardId: shard.shardId, shardIteratorType: .trimHorizon)
            ).shardIterator)
        records += try await db.getRecords(GetRecordsInput(shardIterator: iterator)).records
    }
    return records
}

@Suite(.timeLimit(.minutes(5))) struct UpdateFidelityTests {
    /// Updates that only take away, each on an item that does not exist.
    static let onlyRemoving: [(label: String, input: UpdateItemInput)] = [
        ("REMOVE", UpdateItemInput(tableName: "Tbl", key: ["pk": "k"], updateExpression: "REMOVE a, b.c[1]")),
        (
            "DELETE",
            UpdateItemInput(
                tableName: "Tbl", key: ["pk": "k"], updateExpression: "DELETE s :s",
                expressionAttributeValues: [":s": .ss(["x"])])
        ),
        (
            "REMOVE and DELETE",
            UpdateItemInput(
                tableName: "Tbl", key: ["pk": "k"], updateExpression: "REMOVE a DELETE s :s",
                expressionAttributeValues: [":s": .ns([DecimalNumber(1)])])
        ),
        (
            "AttributeUpdates DELETE",
            UpdateItemInput(tableName: "Tbl", key: ["pk": "k"], attributeUpdates: ["a": AttributeValueUpdate(action: .delete)])
        ),
        (
            "AttributeUpdates DELETE with a value",
            UpdateItemInput(
                tableName: "Tbl", key: ["pk": "k"], attributeUpdates: ["s": AttributeValueUpdate(value: .ss(["x"]), action: .delete)])
        ),
    ]

    @Test(arguments: onlyRemoving, ReturnValue.allCases)
    func onlyRemovingCreatesNothingAndWritesNoRecord(
        update: (label: String, input: UpdateItemInput), returnValues: ReturnValue
    ) async throws {
        try await withDatabase { db in
            let arn = try #require(try await createStreamTable(db, "Tbl").latestStreamArn)
            var input = update.input
            input.returnValues = returnValues
            let output = try await db.updateItem(input)
            #expect(output.attributes == nil, "\(update.label)")
            #expect(try await db.getItem(GetItemInput(tableName: "Tbl", key: ["pk": "k"])).item == nil, "\(update.label)")
            #expect(try await db.scan(ScanInput(tableName: "Tbl")).count == 0)
            #expect(try await streamRecords(db, arn).isEmpty, "\(update.label)")
        }
    }

    /// An update without actions, or one that sets or adds, creates the item (and its INSERT record).
    static let creating: [(label: String, input: UpdateItemInput, item: Item)] = [
        ("no update", UpdateItemInput(tableName: "Tbl", key: ["pk": "k"]), ["pk": "k"]),
        ("empty AttributeUpdates", UpdateItemInput(tableName: "Tbl", key: ["pk": "k"], attributeUpdates: [:]), ["pk": "k"]),
        (
            "SET and REMOVE",
            UpdateItemInput(
                tableName: "Tbl", key: ["pk": "k"], updateExpression: "SET a = :v REMOVE b", expressionAttributeValues: [":v": 1]),
            ["pk": "k", "a": 1]
        ),
        (
            "ADD and DELETE",
            UpdateItemInput(
                tableName: "Tbl", key: ["pk": "k"], updateExpression: "ADD n :n DELETE s :s",
                expressionAttributeValues: [":n": 2, ":s": .ss(["x"])]),
            ["pk": "k", "n": 2]
        ),
    ]

    @Test(arguments: creating)
    func otherUpdatesCreateTheItem(update: (label: String, input: UpdateItemInput, item: Item)) async throws {
        try await withDatabase { db in
            let arn = try #require(try await createStreamTable(db, "Tbl").latestStreamArn)
            var input = update.input
            input.returnValues = .allNew
            #expect(try await db.updateItem(input).attributes == update.item, "\(update.label)")
            #expect(try await db.getItem(GetItemInput(tableName: "Tbl", key: ["pk": "k"])).item == update.item)
            #expect(try await streamRecords(db, arn).map(\.eventName) == [.insert], "\(update.label)")
        }
    }

    @Test func aTransactionsUpdateThatOnlyRemovesCreatesNothing() async throws {
        try await withDatabase { db in
            let arn = try #require(try await createStreamTable(db, "Tbl").latestStreamArn)
            _ = try await db.transactWriteItems(
                TransactWriteItemsInput(transactItems: [
                    TransactWriteItem(update: TransactUpdate(tableName: "Tbl", key: ["pk": "k"], updateExpression: "REMOVE a")),
                    TransactWriteItem(put: TransactPut(tableName: "Tbl", item: ["pk": "other"])),
                ]))
            #expect(try await db.getItem(GetItemInput(tableName: "Tbl", key: ["pk": "k"])).item == nil)
            #expect(try await streamRecords(db, arn).map(\.dynamodb.keys) == [["pk": "other"]])
        }
    }

    /// What each ReturnValues returns for an existing item `{pk, a: 1, b: 2, m: {x: 1}}` after
    /// `SET a = :two, m.y = :two REMOVE b`.
    static let returned: [(ReturnValue, Item?)] = [
        (.none, nil),
        (.allOld, ["pk": "k", "a": 1, "b": 2, "m": .m(["x": 1])]),
        (.updatedOld, ["a": 1, "b": 2]),
        (.allNew, ["pk": "k", "a": 2, "m": .m(["x": 1, "y": 2])]),
        (.updatedNew, ["a": 2, "m": .m(["y": 2])]),
    ]

    @Test(arguments: returned)
    func returnValuesOfAnExistingItem(returnValues: ReturnValue, expected: Item?) async throws {
        try await withDatabase { db in
            try await createTable(db, "Tbl")
            try await db.putItem(PutItemInput(tableName: "Tbl", item: ["pk": "k", "a": 1, "b": 2, "m": .m(["x": 1])]))
            let output = try await db.updateItem(
                UpdateItemInput(
                    tableName: "Tbl", key: ["pk": "k"], returnValues: returnValues, updateExpression: "SET a = :two, m.y = :two REMOVE b",
                    expressionAttributeValues: [":two": 2]))
            #expect(output.attributes == expected)
        }
    }

    /// A new item has no old attributes: ALL_OLD and UPDATED_OLD return no `Attributes`.
    @Test(arguments: [(ReturnValue.allOld, nil), (.updatedOld, nil), (.allNew, ["pk": "k", "a": 1]), (.updatedNew, ["a": 1])] as [(ReturnValue, Item?)])
    func returnValuesOfANewItem(returnValues: ReturnValue, expected: Item?) async throws {
        try await withDatabase { db in
            try await createTable(db, "Tbl")
            let output = try await db.updateItem(
                UpdateItemInput(
                    tableName: "Tbl", key: ["pk": "k"], returnValues: returnValues, updateExpression: "SET a = :v",
                    expressionAttributeValues: [":v": 1]))
            #expect(output.attributes == expected)
        }
    }

    /// ReturnValuesOnConditionCheckFailure ALL_OLD returns the item only when there is one.
    @Test(arguments: [true, false])
    func conditionFailureReturnsTheItemThatExists(itemExists: Bool) async throws {
        try await withDatabase { db in
            try await createTable(db, "Tbl")
            if itemExists { try await db.putItem(PutItemInput(tableName: "Tbl", item: ["pk": "k", "a": 1])) }
            let error = await expectEddyError("ConditionalCheckFailedException", "The conditional request failed") {
                try await db.updateItem(
                    UpdateItemInput(
                        tableName: "Tbl", key: ["pk": "k"], updateExpression: "REMOVE a", conditionExpression: "a = :two",
                        expressionAttributeValues: [":two": 2], returnValuesOnConditionCheckFailure: .allOld))
            }
            guard case .conditionalCheckFailed(_, let item)? = error else {
                Issue.record("expected a ConditionalCheckFailedException, got \(String(describing: error))")
                return
            }
            #expect(item == (itemExists ? ["pk": "k", "a": 1] : nil))
        }
    }

    @Test(arguments: [ReturnValue.updatedOld, .allNew, .updatedNew])
    func putAndDeleteRefuseWhatOnlyUpdateAllows(returnValues: ReturnValue) async throws {
        try await withDatabase { db in
            try await createTable(db, "Tbl")
            await expectValidation("Return values set to invalid value") {
                try await db.putItem(PutItemInput(tableName: "Tbl", item: ["pk": "k"], returnValues: returnValues))
            }
            await expectValidation("Return values set to invalid value") {
                try await db.deleteItem(DeleteItemInput(tableName: "Tbl", key: ["pk": "k"], returnValues: returnValues))
            }
            #expect(try await db.getItem(GetItemInput(tableName: "Tbl", key: ["pk": "k"])).item == nil)
        }
    }

    /// Paths that do not fit the item's shape: a dot into a list, an index into a map or a scalar.
    static let misshapenPaths: [(String, [String: AttributeValue]?)] = [
        ("SET l.x = :v", [":v": 1]), ("SET m[0] = :v", [":v": 1]), ("SET s.x = :v", [":v": 1]),
        ("REMOVE l.x", nil), ("REMOVE m[0]", nil), ("REMOVE s[0]", nil), ("REMOVE l[0].x[1]", nil),
        ("ADD l.x :v", [":v": 1]), ("ADD m[0] :v", [":v": 1]),
        ("DELETE l.x :v", [":v": .ss(["a"])]), ("DELETE m[0] :v", [":v": .ss(["a"])]),
    ]

    @Test(arguments: misshapenPaths)
    func pathsThatDoNotFitTheItemAreRefused(update: String, values: [String: AttributeValue]?) async throws {
        try await withDatabase { db in
            try await createTable(db, "Tbl")
            let item: Item = ["pk": "k", "l": .l([1, 2]), "m": .m(["x": 1]), "s": "text"]
            try await db.putItem(PutItemInput(tableName: "Tbl", item: item))
            await expectValidation("The document path provided in the update expression is invalid for update") {
                try await db.updateItem(
                    UpdateItemInput(tableName: "Tbl", key: ["pk": "k"], updateExpression: update, expressionAttributeValues: values))
            }
            #expect(try await db.getItem(GetItemInput(tableName: "Tbl", key: ["pk": "k"])).item == item)
        }
    }

    /// Paths that fit but name nothing: REMOVE and DELETE change nothing.
    @Test(arguments: ["REMOVE m.y", "REMOVE l[5]", "REMOVE q.x", "REMOVE m.y.z", "DELETE m.y :v", "DELETE l[7] :v"])
    func pathsToNothingChangeNothing(update: String) async throws {
        try await withDatabase { db in
            try await createTable(db, "Tbl")
            let item: Item = ["pk": "k", "l": .l([1, 2]), "m": .m(["x": 1])]
            try await db.putItem(PutItemInput(tableName: "Tbl", item: item))
            try await db.updateItem(
                UpdateItemInput(
                    tableName: "Tbl", key: ["pk": "k"], updateExpression: update,
                    expressionAttributeValues: update.hasPrefix("DELETE") ? [":v": .ss(["a"])] : nil))
            #expect(try await db.getItem(GetItemInput(tableName: "Tbl", key: ["pk": "k"])).item == item)
        }
    }

    /// `SET a[N]` past the end of a list appends, one element per action in index order.
    @Test(arguments: [
        ("SET l[2] = :x", [1, 2, "x"]), ("SET l[99] = :x", [1, 2, "x"]),
        ("SET l[10] = :x, l[20] = :y", [1, 2, "x", "y"]), ("SET l[0] = :x, l[50] = :y", ["x", 2, "y"]),
    ] as [(String, [AttributeValue])])
    func settingPastTheEndAppends(update: String, list: [AttributeValue]) async throws {
        try await withDatabase { db in
            try await createTable(db, "Tbl")
            try await db.putItem(PutItemInput(tableName: "Tbl", item: ["pk": "k", "l": .l([1, 2])]))
            try await db.updateItem(
                UpdateItemInput(
                    tableName: "Tbl", key: ["pk": "k"], updateExpression: update, expressionAttributeValues: update.contains(":y") ? [":x": "x", ":y": "y"] : [":x": "x"]))
            #expect(try await db.getItem(GetItemInput(tableName: "Tbl", key: ["pk": "k"])).item?["l"] == .l(list))
        }
    }
}
