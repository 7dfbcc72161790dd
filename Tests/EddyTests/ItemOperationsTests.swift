import Foundation
import Testing

@testable import Eddy

// PutItem, GetItem, DeleteItem and UpdateItem (legacy AttributeUpdates), written from the DynamoDB API
// Reference and the Developer Guide ("Supported data types", "Item sizes and formats", "Quotas").

private let missingTable = "Requested resource not found"
private let keyMismatch = "The provided key element does not match the schema"
private let hashKeyTooLarge = "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes"
private let rangeKeyTooLarge = "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes"
private let itemTooLarge = "Item size has exceeded the maximum allowed size"
private let nestingTooDeep = "Nesting Levels have exceeded supported limits"

/// The deepest nesting accepted, counted in containers: a top-level map or list is level 1, a map or list
/// inside it level 2, and so on; the scalar at the bottom is not a level. The Developer Guide ("Quotas",
/// "Nested attribute depth") says only "up to 32 levels deep"; this is Eddy's reading of it.
private let deepestNesting = 32

/// A value nested `depth` containers deep: `depth` maps (or lists) around a string.
private func nested(_ depth: Int, list: Bool = false) -> AttributeValue {
    var value: AttributeValue = "leaf"
    for _ in 0..<depth {
        value = list ? .l([value]) : .m(["m": value])
    }
    return value
}

/// Alternating lists and maps, `depth` containers deep.
private func mixedNesting(_ depth: Int) -> AttributeValue {
    var value: AttributeValue = .n(DecimalNumber(1))
    for level in 0..<depth {
        value = level.isMultiple(of: 2) ? .l([value, "x"]) : .m(["k": value, "s": "y"])
    }
    return value
}

/// An item with an `id` key whose DynamoDB size is exactly `size` bytes, padded with an attribute of `kind`.
private func item(ofSize size: Int, kind: String) -> Item {
    // "id"(2) + "k"(1) = 3 bytes of key.
    switch kind {
    case "S":
        // "data" (4) + the string.
        return ["id": "k", "data": .s(ascii(size - 3 - 4))]
    case "B":
        return ["id": "k", "data": .b(bytes(size - 3 - 4))]
    case "multibyte":
        // "naïve" is 6 UTF-8 bytes; "é" is 2. Pad with one ASCII character when odd.
        let rest = size - 3 - 6
        var text = String(repeating: "é", count: rest / 2)
        if rest % 2 == 1 { text += "x" }
        return ["id": "k", "naïve": .s(text)]
    case "many":
        // Many small attributes: "aNNNNN"(6) + "v"(1) = 7 bytes each, then padding.
        var result: Item = ["id": "k"]
        var remaining = size - 3
        var index = 0
        while remaining >= 7 + 8 {
            result[String(format: "a%05d", index)] = "v"
            remaining -= 7
            index += 1
        }
        result["zz"] = .s(ascii(remaining - 2))
        return result
    case "list":
        // "l"(1) + 3 + per element 1 + "x"(1).
        let elements = (size - 3 - 1 - 3 - 100) / 2
        let used = 3 + 1 + 3 + elements * 2
        return ["id": "k", "l": .l(Array(repeating: "x", count: elements)), "p": .s(ascii(size - used - 1))]
    default:
        preconditionFailure(kind)
    }
}

@Suite(.timeLimit(.minutes(5))) struct ItemOperationsTests {
    // MARK: Round trips

    @Test func everyTypeRoundTrips() async throws {
        try await withDatabase { db in
            try await createTable(db, "Items")
            let item: Item = [
                "pk": "all-types",
                "s": "text with ünïcödé and 😀",
                "emptyS": "",
                "n": num("-123.456e-7"),
                "bigN": num("9.9999999999999999999999999999999999999E+125"),
                "tinyN": num("1E-130"),
                "b": .b([0, 1, 2, 0xFF]),
                "emptyB": .b([]),
                "t": true,
                "f": false,
                "null": .null,
                "m": .m([
                    "inner": .m(["deep": .l([.n(DecimalNumber(1)), "two", .null, .bool(false), .m([:]), .l([])])]),
                    "emptyS": "", "emptyB": .b([]), "set": .ss(["a", ""]),
                ]),
                "emptyM": .m([:]),
                "l": .l(["", .b([]), .ns([try DecimalNumber("1"), try DecimalNumber("-1")]), .l([.l([.s("x")])]), .bs([[]])]),
                "emptyL": .l([]),
                "ss": .ss(["b", "a", "", "ç"]),
                "ns": .ns([try DecimalNumber("0"), try DecimalNumber("-0.5"), try DecimalNumber("1E+100")]),
                "bs": .bs([[], [0], [0, 0], [0xFF]]),
            ]
            try await db.putItem(PutItemInput(tableName: "Items", item: item))
            let read = try await db.getItem(GetItemInput(tableName: "Items", key: ["pk": "all-types"])).item
            #expect(read == item)
            // Every one of the ten types is present with its own descriptor.
            let descriptors = Set(try #require(read).values.map(\.typeDescriptor))
            #expect(descriptors == ["S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"])
            // Numbers come back normalized, as DynamoDB returns them.
            if case .n(let number)? = read?["n"] { #expect(number.description == "-0.0000123456") } else { Issue.record("n lost") }
            // The JSON shape is DynamoDB's.
            let json = String(decoding: try JSONEncoder().encode(read?["null"]), as: UTF8.self)
            #expect(json == #"{"NULL":true}"#)
        }
    }

    @Test(arguments: [ScalarAttributeType.s, .n, .b])
    func keyTypesRoundTrip(type: ScalarAttributeType) async throws {
        try await withDatabase { db in
            try await createTable(db, "Keys", hash: "h", type, range: "r", type)
            let values: [AttributeValue] = switch type {
            case .s: ["a", "a\u{0}b", "b", "é"]
            case .n: [num("-1"), num("0"), num("1.5"), num("1e20")]
            case .b: [.b([0]), .b([0, 0]), .b([1]), .b([0xFF])]
            }
            for hash in values {
                for range in values {
                    try await db.putItem(PutItemInput(tableName: "Keys", item: ["h": hash, "r": range, "v": .s("\(hash)|\(range)")]))
                }
            }
            for hash in values {
                for range in values {
                    let read = try await db.getItem(GetItemInput(tableName: "Keys", key: ["h": hash, "r": range])).item
                    #expect(read == ["h": hash, "r": range, "v": .s("\(hash)|\(range)")])
                }
            }
            #expect(try await db.describeTable(tableName: "Keys").itemCount == Int64(values.count * values.count))
        }
    }

    @Test func numbersWrittenDifferentlyAreOneKey() async throws {
        try await withDatabase { db in
            try await createTable(db, "Numbers", hash: "n", .n)
            try await db.putItem(PutItemInput(tableName: "Numbers", item: ["n": num("1.50"), "v": "first"]))
            try await db.putItem(PutItemInput(tableName: "Numbers", item: ["n": num("15E-1"), "v": "second"]))
            #expect(try await db.getItem(GetItemInput(tableName: "Numbers", key: ["n": num("+001.5")])).item?["v"] == "second")
            #expect(try await db.describeTable(tableName: "Numbers").itemCount == 1)
        }
    }

    @Test func putReplacesWholeItem() async throws {
        try await withDatabase { db in
            try await createTable(db, "Items")
            try await db.putItem(PutItemInput(tableName: "Items", item: ["pk": "a", "x": 1, "y": 2]))
            try await db.putItem(PutItemInput(tableName: "Items", item: ["pk": "a", "z": 3]))
            #expect(try await db.getItem(GetItemInput(tableName: "Items", key: ["pk": "a"])).item == ["pk": "a", "z": 3])
        }
    }

    // MARK: ReturnValues of PutItem and DeleteItem

    @Test func putAndDeleteReturnAllOld() async throws {
        try await withDatabase { db in
            try await createTable(db, "Items")
            let first = try await db.putItem(PutItemInput(tableName: "Items", item: ["pk": "a", "v": 1], returnValues: .allOld))
            #expect(first.attributes == nil)
            let second = try await db.putItem(PutItemInput(tableName: "Items", item: ["pk": "a", "v": 2, "w": "x"], returnValues: .allOld))
            #expect(second.attributes == ["pk": "a", "v": 1])
            let quiet = try await db.putItem(PutItemInput(tableName: "Items", item: ["pk": "a", "v": 3], returnValues: ReturnValue.none))
            #expect(quiet.attributes == nil)
            let defaulted = try await db.putItem(PutItemInput(tableName: "Items", item: ["pk": "a", "v": 4]))
            #expect(defaulted.attributes == nil)

            let deleted = try await db.deleteItem(DeleteItemInput(tableName: "Items", key: ["pk": "a"], returnValues: .allOld))
            #expect(deleted.attributes == ["pk": "a", "v": 4])
            #expect(try await db.getItem(GetItemInput(tableName: "Items", key: ["pk": "a"])).item == nil)
            // Deleting an absent item succeeds and returns nothing.
            let again = try await db.deleteItem(DeleteItemInput(tableName: "Items", key: ["pk": "a"], returnValues: .allOld))
            #expect(again.attributes == nil)

            try await db.putItem(PutItemInput(tableName: "Items", item: ["pk": "b", "v": 1]))
            let silent = try await db.deleteItem(DeleteItemInput(tableName: "Items", key: ["pk": "b"]))
            #expect(silent.attributes == nil)
            #expect(try await db.getItem(GetItemInput(tableName: "Items", key: ["pk": "b"])).item == nil)
        }
    }

    @Test(arguments: [ReturnValue.updatedOld, .allNew, .updatedNew])
    func putAndDeleteRefuseOtherReturnValues(returnValues: ReturnValue) async throws {
        try await withDatabase { db in
            try await createTable(db, "Items")
            try await db.putItem(PutItemInput(tableName: "Items", item: ["pk": "a", "v": 1]))
            await expectValidation("Return values set to invalid value") {
                try await db.putItem(PutItemInput(tableName: "Items", item: ["pk": "a", "v": 2], returnValues: returnValues))
            }
            await expectValidation("Return values set to invalid value") {
                try await db.deleteItem(DeleteItemInput(tableName: "Items", key: ["pk": "a"], returnValues: returnValues))
            }
            // Neither write happened.
            #expect(try await db.getItem(GetItemInput(tableName: "Items", key: ["pk": "a"])).item == ["pk": "a", "v": 1])
        }
    }

    // MARK: GetItem

    @Test func getItemAttributesToGet() async throws {
        try await withDatabase { db in
            try await createTable(db, "Items")
            try await db.putItem(PutItemInput(tableName: "Items", item: ["pk": "a", "x": 1, "y": "two", "z": .m(["x": 1])]))
            let some = try await db.getItem(GetItemInput(tableName: "Items", key: ["pk": "a"], attributesToGet: ["y", "x", "absent"]))
            #expect(some.item == ["x": 1, "y": "two"])
            let withKey = try await db.getItem(GetItemInput(tableName: "Items", key: ["pk": "a"], attributesToGet: ["pk", "z"]))
            #expect(withKey.item == ["pk": "a", "z": .m(["x": 1])])
            let absentItem = try await db.getItem(GetItemInput(tableName: "Items", key: ["pk": "b"], attributesToGet: ["x"]))
            #expect(absentItem.item == nil)
            await expectValidation("One or more parameter values were invalid: Duplicate value in attribute name: x") {
                _ = try await db.getItem(GetItemInput(tableName: "Items", key: ["pk": "a"], attributesToGet: ["x", "x"]))
            }
            await expectValidation("1 validation error detected: Value '[]' at 'attributesToGet' failed to satisfy constraint: Member must have length greater than or equal to 1") {
                _ = try await db.getItem(GetItemInput(tableName: "Items", key: ["pk": "a"], attributesToGet: []))
            }
        }
    }

    // MARK: Keys

    /// A bad key for PutItem on a table keyed by `pk` (S) and `sk` (N), and DynamoDB's message.
    @Test(arguments: [
        (["sk": 1, "v": "x"] as Item, "One or more parameter values were invalid: Missing the key pk in the item"),
        (["pk": "a", "v": "x"] as Item, "One or more parameter values were invalid: Missing the key sk in the item"),
        (["pk": 1, "sk": 1] as Item, "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N"),
        (["pk": "a", "sk": "1"] as Item, "One or more parameter values were invalid: Type mismatch for key sk expected: N actual: S"),
        (["pk": .ss(["a"]), "sk": 1] as Item, "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: SS"),
        (["pk": .null, "sk": 1] as Item, "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: NULL"),
        (["pk": "", "sk": 1] as Item, "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk"),
    ])
    func putItemBadKeyRefused(item: Item, message: String) async throws {
        try await withDatabase { db in
            try await createTable(db, "Items", range: "sk", .n)
            await expectValidation(message) { try await db.putItem(PutItemInput(tableName: "Items", item: item)) }
            #expect(try await db.scan(ScanInput(tableName: "Items")).count == 0)
        }
    }

    @Test func emptyBinaryKeyRefused() async throws {
        try await withDatabase { db in
            try await createTable(db, "Bin", hash: "h", .b, range: "r", .b)
            await expectValidation("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty binary value. Key: h") {
                try await db.putItem(PutItemInput(tableName: "Bin", item: ["h": .b([]), "r": .b([1])]))
            }
            await expectValidation("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty binary value. Key: r") {
                try await db.putItem(PutItemInput(tableName: "Bin", item: ["h": .b([1]), "r": .b([])]))
            }
            await expectValidation("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty binary value. Key: r") {
                _ = try await db.getItem(GetItemInput(tableName: "Bin", key: ["h": .b([1]), "r": .b([])]))
            }
        }
    }

    /// A bad `Key` for GetItem, DeleteItem and UpdateItem on a table keyed by `pk` (S) and `sk` (N).
    @Test(arguments: [
        (["pk": "a"] as Item, keyMismatch),
        (["sk": 1] as Item, keyMismatch),
        (["pk": "a", "sk": 1, "extra": "x"] as Item, keyMismatch),
        (["pk": "a", "other": 1] as Item, keyMismatch),
        (["pk": 1, "sk": 1] as Item, keyMismatch),
        (["pk": "a", "sk": "1"] as Item, keyMismatch),
        ([:] as Item, keyMismatch),
        (["pk": "", "sk": 1] as Item, "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk"),
    ])
    func badKeyRefusedByEveryKeyedOperation(key: Item, message: String) async throws {
        try await withDatabase { db in
            try await createTable(db, "Items", range: "sk", .n)
            try await db.putItem(PutItemInput(tableName: "Items", item: ["pk": "a", "sk": 1, "v": "kept"]))
            await expectValidation(message) { _ = try await db.getItem(GetItemInput(tableName: "Items", key: key)) }
            await expectValidation(message) { try await db.deleteItem(DeleteItemInput(tableName: "Items", key: key)) }
            await expectValidation(message) {
                try await db.updateItem(UpdateItemInput(
                    tableName: "Items", key: key, attributeUpdates: ["v": AttributeValueUpdate(value: "changed", action: .put)]))
            }
            #expect(try await db.getItem(GetItemInput(tableName: "Items", key: ["pk": "a", "sk": 1])).item?["v"] == "kept")
            #expect(try await db.scan(ScanInput(tableName: "Items")).count == 1)
        }
    }

    @Test(arguments: [ScalarAttributeType.s, .b])
    func partitionKeySizeBoundary(type: ScalarAttributeType) async throws {
        try await withDatabase { db in
            try await createTable(db, "Big", hash: "h", type)
            func key(_ size: Int) -> AttributeValue { type == .s ? .s(ascii(size)) : .b(bytes(size)) }
            try await db.putItem(PutItemInput(tableName: "Big", item: ["h": key(2048), "v": 1]))
            #expect(try await db.getItem(GetItemInput(tableName: "Big", key: ["h": key(2048)])).item?["v"] == 1)
            await expectValidation(hashKeyTooLarge) { try await db.putItem(PutItemInput(tableName: "Big", item: ["h": key(2049)])) }
            await expectValidation(hashKeyTooLarge) { _ = try await db.getItem(GetItemInput(tableName: "Big", key: ["h": key(2049)])) }
            await expectValidation(hashKeyTooLarge) { try await db.deleteItem(DeleteItemInput(tableName: "Big", key: ["h": key(2049)])) }
            #expect(try await db.describeTable(tableName: "Big").itemCount == 1)
        }
    }

    @Test func keySizesCountUTF8Bytes() async throws {
        try await withDatabase { db in
            try await createTable(db, "Utf8", hash: "h", range: "r")
            // 1024 two-byte characters are 2048 bytes; 1025 are 2050.
            try await db.putItem(PutItemInput(tableName: "Utf8", item: ["h": .s(String(repeating: "é", count: 1024)), "r": "x"]))
            await expectValidation(hashKeyTooLarge) {
                try await db.putItem(PutItemInput(tableName: "Utf8", item: ["h": .s(String(repeating: "é", count: 1025)), "r": "x"]))
            }
            // 256 four-byte characters are 1024 bytes; 257 are 1028.
            try await db.putItem(PutItemInput(tableName: "Utf8", item: ["h": "x", "r": .s(String(repeating: "😀", count: 256))]))
            await expectValidation(rangeKeyTooLarge) {
                try await db.putItem(PutItemInput(tableName: "Utf8", item: ["h": "x", "r": .s(String(repeating: "😀", count: 257))]))
            }
            #expect(try await db.describeTable(tableName: "Utf8").itemCount == 2)
        }
    }

    @Test(arguments: [ScalarAttributeType.s, .b])
    func sortKeySizeBoundary(type: ScalarAttributeType) async throws {
        try await withDatabase { db in
            try await createTable(db, "Big", hash: "h", range: "r", type)
            func key(_ size: Int) -> AttributeValue { type == .s ? .s(ascii(size)) : .b(bytes(size)) }
            // The partition key of a composite key may still use 2048 bytes.
            try await db.putItem(PutItemInput(tableName: "Big", item: ["h": .s(ascii(2048)), "r": key(1024)]))
            #expect(try await db.getItem(GetItemInput(tableName: "Big", key: ["h": .s(ascii(2048)), "r": key(1024)])).item != nil)
            await expectValidation(rangeKeyTooLarge) { try await db.putItem(PutItemInput(tableName: "Big", item: ["h": "a", "r": key(1025)])) }
            await expectValidation(rangeKeyTooLarge) { _ = try await db.getItem(GetItemInput(tableName: "Big", key: ["h": "a", "r": key(1025)])) }
            await expectValidation(hashKeyTooLarge) { try await db.putItem(PutItemInput(tableName: "Big", item: ["h": .s(ascii(2049)), "r": key(1)])) }
            #expect(try await db.describeTable(tableName: "Big").itemCount == 1)
        }
    }

    // MARK: Value rules

    @Test(arguments: [
        (AttributeValue.ss([]), "One or more parameter values were invalid: An string set  may not be empty"),
        (.ns([]), "One or more parameter values were invalid: An number set  may not be empty"),
        (.bs([]), "One or more parameter values were invalid: Binary sets should not be empty"),
        (.m(["inner": .ss([])]), "One or more parameter values were invalid: An string set  may not be empty"),
        (.l([.l([.ns([])])]), "One or more parameter values were invalid: An number set  may not be empty"),
        (.ss(["a", "b", "a"]), "One or more parameter values were invalid: Input collection [a, b, a] contains duplicates."),
        (.ss(["", ""]), "One or more parameter values were invalid: Input collection [, ] contains duplicates."),
        // Numerically equal members are duplicates; how DynamoDB spells them back is not pinned ("…" below).
        (.ns([DecimalNumber(1), try! DecimalNumber("1.0")]), "One or more parameter values were invalid: Input collection […] contains duplicates."),
        (.m(["x": .ns([try! DecimalNumber("-2"), try! DecimalNumber("-2e0")])]), "One or more parameter values were invalid: Input collection […] contains duplicates."),
    ])
    func invalidSetsRefused(value: AttributeValue, message: String) async throws {
        try await withDatabase { db in
            try await createTable(db, "Items")
            try await db.putItem(PutItemInput(tableName: "Items", item: ["pk": "a", "v": "old"]))
            let parts = message.components(separatedBy: "…")
            let exact = parts.count == 1 ? message : nil
            let putError = await expectValidation(exact) { try await db.putItem(PutItemInput(tableName: "Items", item: ["pk": "a", "v": value])) }
            let updateError = await expectValidation(exact) {
                try await db.updateItem(UpdateItemInput(tableName: "Items", key: ["pk": "a"], attributeUpdates: ["v": AttributeValueUpdate(value: value, action: .put)]))
            }
            if parts.count == 2 {
                for error in [putError, updateError] {
                    #expect(error?.message.hasPrefix(parts[0]) == true && error?.message.hasSuffix(parts[1]) == true, "\(String(describing: error))")
                }
            }
            #expect(try await db.getItem(GetItemInput(tableName: "Items", key: ["pk": "a"])).item == ["pk": "a", "v": "old"])
        }
    }

    @Test func duplicateBinarySetMembersRefused() async throws {
        try await withDatabase { db in
            try await createTable(db, "Items")
            let error = await expectValidation {
                try await db.putItem(PutItemInput(tableName: "Items", item: ["pk": "a", "v": .bs([[1, 2], [3], [1, 2]])]))
            }
            #expect(error?.message.hasPrefix("One or more parameter values were invalid: Input collection [") == true)
            #expect(error?.message.hasSuffix("] contains duplicates.") == true)
            // Distinct members, one of them empty, are fine.
            try await db.putItem(PutItemInput(tableName: "Items", item: ["pk": "a", "v": .bs([[1, 2], [], [1]])]))
        }
    }

    /// 32 levels accepted, 33 refused (see `deepestNesting`).
    @Test(arguments: [false, true])
    func nestingDepthBoundary(useLists: Bool) async throws {
        try await withDatabase { db in
            try await createTable(db, "Deep")
            let deepest = nested(deepestNesting, list: useLists)
            try await db.putItem(PutItemInput(tableName: "Deep", item: ["pk": "deepest", "v": deepest]))
            #expect(try await db.getItem(GetItemInput(tableName: "Deep", key: ["pk": "deepest"])).item?["v"] == deepest)
            let error = await expectValidation {
                try await db.putItem(PutItemInput(tableName: "Deep", item: ["pk": "deeper", "v": nested(deepestNesting + 1, list: useLists)]))
            }
            #expect(error?.message.hasPrefix(nestingTooDeep) == true)
            #expect(try await db.getItem(GetItemInput(tableName: "Deep", key: ["pk": "deeper"])).item == nil)

            // The same through UpdateItem's PUT.
            try await db.updateItem(UpdateItemInput(tableName: "Deep", key: ["pk": "u"], attributeUpdates: ["v": AttributeValueUpdate(value: deepest, action: .put)]))
            await expectValidation {
                try await db.updateItem(UpdateItemInput(tableName: "Deep", key: ["pk": "u"], attributeUpdates: ["v": AttributeValueUpdate(value: nested(deepestNesting + 1, list: useLists), action: .put)]))
            }
            #expect(try await db.getItem(GetItemInput(tableName: "Deep", key: ["pk": "u"])).item?["v"] == deepest)
        }
    }

    @Test func mixedNestingDepthBoundary() async throws {
        try await withDatabase { db in
            try await createTable(db, "Deep")
            try await db.putItem(PutItemInput(tableName: "Deep", item: ["pk": "a", "v": mixedNesting(deepestNesting)]))
            await expectValidation { try await db.putItem(PutItemInput(tableName: "Deep", item: ["pk": "b", "v": mixedNesting(deepestNesting + 1)])) }
            // Depth is that of the deepest branch, wherever it is among shallow siblings.
            let wide: AttributeValue = .m(["shallow": .l([1]), "deep": .l([mixedNesting(deepestNesting - 2), "x"]), "s": "y"])
            try await db.putItem(PutItemInput(tableName: "Deep", item: ["pk": "c", "v": wide]))
            let tooDeep: AttributeValue = .m(["shallow": .l([1]), "deep": .l(["x", mixedNesting(deepestNesting - 1)])])
            await expectValidation { try await db.putItem(PutItemInput(tableName: "Deep", item: ["pk": "d", "v": tooDeep])) }
            #expect(try await db.scan(ScanInput(tableName: "Deep")).count == 2)
        }
    }

    @Test func emptyAttributeNameRefused() async throws {
        try await withDatabase { db in
            try await createTable(db, "Items")
            await expectValidation("One or more parameter values were invalid: Empty attribute name") {
                try await db.putItem(PutItemInput(tableName: "Items", item: ["pk": "a", "": "x"]))
            }
            await expectValidation("One or more parameter values were invalid: Empty attribute name") {
                try await db.updateItem(UpdateItemInput(tableName: "Items", key: ["pk": "a"], attributeUpdates: ["": AttributeValueUpdate(value: "x", action: .put)]))
            }
            #expect(try await db.getItem(GetItemInput(tableName: "Items", key: ["pk": "a"])).item == nil)
        }
    }

    /// Attribute names are 1 to 65,535 bytes ("less than 64 KB", Developer Guide, "Quotas").
    @Test func attributeNameLengthBoundary() async throws {
        try await withDatabase { db in
            try await createTable(db, "Items")
            let longest = ascii(65_535, "n")
            try await db.putItem(PutItemInput(tableName: "Items", item: ["pk": "a", longest: "x"]))
            #expect(try await db.getItem(GetItemInput(tableName: "Items", key: ["pk": "a"])).item?[longest] == "x")
            await expectValidation { try await db.putItem(PutItemInput(tableName: "Items", item: ["pk": "b", longest + "n": "x"])) }
            #expect(try await db.getItem(GetItemInput(tableName: "Items", key: ["pk": "b"])).item == nil)
        }
    }

    // MARK: Item size

    @Test(arguments: ["S", "B", "multibyte", "many", "list"])
    func itemSizeBoundary(kind: String) async throws {
        try await withDatabase { db in
            try await createTable(db, "Sized", hash: "id")
            let largest = item(ofSize: 409_600, kind: kind)
            #expect(ItemSize.of(largest) == 409_600)
            try await db.putItem(PutItemInput(tableName: "Sized", item: largest))
            #expect(try await db.getItem(GetItemInput(tableName: "Sized", key: ["id": "k"])).item == largest)
            #expect(try await db.describeTable(tableName: "Sized").tableSizeBytes == 409_600)

            let tooLarge = item(ofSize: 409_601, kind: kind)
            #expect(ItemSize.of(tooLarge) == 409_601)
            await expectValidation(itemTooLarge) { try await db.putItem(PutItemInput(tableName: "Sized", item: tooLarge)) }
            // The failed put left the stored item as it was.
            #expect(try await db.getItem(GetItemInput(tableName: "Sized", key: ["id": "k"])).item == largest)
        }
    }

    @Test func itemSizeIndependentOfImplementation() async throws {
        // Hand-computed sizes by the Developer Guide's rules, to pin the arithmetic itself.
        #expect(ItemSize.of(["ab": "cde"]) == 5)
        #expect(ItemSize.of(["é": "😀"]) == 2 + 4)
        #expect(ItemSize.of(["b": .b([1, 2, 3])]) == 4)
        #expect(ItemSize.of(["t": true, "n": .null]) == 4)
        // Numbers: 1 byte per two significant digits, plus 1.
        #expect(ItemSize.of(["n": num("12345")]) == 1 + 3 + 1)
        #expect(ItemSize.of(["n": num("1200")]) == 1 + 1 + 1)
        // Lists and maps: 3 bytes, plus 1 per element, plus the elements (map keys count).
        #expect(ItemSize.of(["l": .l([])]) == 1 + 3)
        #expect(ItemSize.of(["l": .l(["ab", "c"])]) == 1 + 3 + 2 + 3)
        #expect(ItemSize.of(["m": .m(["k": "vv"])]) == 1 + 3 + 1 + 1 + 2)
        #expect(ItemSize.of(["s": .ss(["a", "bc"]), "bs": .bs([[1], [2, 3]])]) == 1 + 3 + 2 + 3)
    }

    @Test func updateItemSizeLimit() async throws {
        try await withDatabase { db in
            try await createTable(db, "Sized", hash: "id")
            // "id"(2) + "k"(1) + "a"(1) + 409,590 = 409,594; adding "b"(1) + "xxxxx"(5) makes exactly 409,600.
            try await db.putItem(PutItemInput(tableName: "Sized", item: ["id": "k", "a": .s(ascii(409_590))]))
            try await db.updateItem(UpdateItemInput(tableName: "Sized", key: ["id": "k"], attributeUpdates: ["b": AttributeValueUpdate(value: "xxxxx", action: .put)]))
            let full = try await db.getItem(GetItemInput(tableName: "Sized", key: ["id": "k"])).item
            #expect(full?["b"] == "xxxxx")
            await expectValidation("Item size to update has exceeded the maximum allowed size") {
                try await db.updateItem(UpdateItemInput(tableName: "Sized", key: ["id": "k"], attributeUpdates: ["c": AttributeValueUpdate(value: "", action: .put)]))
            }
            #expect(try await db.getItem(GetItemInput(tableName: "Sized", key: ["id": "k"])).item == full)
        }
    }

    // MARK: UpdateItem

    @Test func updatePutCreatesItemAndAttributes() async throws {
        try await withDatabase { db in
            try await createTable(db, "Items", range: "sk", .n)
            let key: Item = ["pk": "a", "sk": 1]
            let output = try await db.updateItem(UpdateItemInput(
                tableName: "Items", key: key,
                attributeUpdates: ["x": AttributeValueUpdate(value: "one", action: .put), "y": AttributeValueUpdate(value: .l([1, "two"]))],
                returnValues: .allNew))
            #expect(output.attributes == ["pk": "a", "sk": 1, "x": "one", "y": .l([1, "two"])])
            try await db.updateItem(UpdateItemInput(tableName: "Items", key: key, attributeUpdates: ["x": AttributeValueUpdate(value: .ss(["p"]), action: .put)]))
            #expect(try await db.getItem(GetItemInput(tableName: "Items", key: key)).item == ["pk": "a", "sk": 1, "x": .ss(["p"]), "y": .l([1, "two"])])
        }
    }

    @Test func updateWithoutUpdatesCreatesKeyOnlyItem() async throws {
        try await withDatabase { db in
            try await createTable(db, "Items")
            try await db.updateItem(UpdateItemInput(tableName: "Items", key: ["pk": "bare"]))
            #expect(try await db.getItem(GetItemInput(tableName: "Items", key: ["pk": "bare"])).item == ["pk": "bare"])
        }
    }

    @Test func updateAddNumbers() async throws {
        try await withDatabase { db in
            try await createTable(db, "Items")
            let key: Item = ["pk": "a"]
            func add(_ value: String) async throws -> AttributeValue? {
                try await db.updateItem(UpdateItemInput(
                    tableName: "Items", key: key, attributeUpdates: ["n": AttributeValueUpdate(value: num(value), action: .add)],
                    returnValues: .updatedNew)).attributes?["n"]
            }
            // ADD on an absent item starts from 0 and creates the item.
            #expect(try await add("5") == num("5"))
            #expect(try await db.getItem(GetItemInput(tableName: "Items", key: key)).item == ["pk": "a", "n": 5])
            #expect(try await add("-7.5") == num("-2.5"))
            #expect(try await add("0.1") == num("-2.4"))
            #expect(try await add("2.4") == num("0"))
            #expect(try await add("1E+20") == num("100000000000000000000"))
            #expect(try await add("0.000001") == num("100000000000000000000.000001"))
            // Exact decimal arithmetic: 0.1 + 0.2 is 0.3.
            try await db.updateItem(UpdateItemInput(tableName: "Items", key: ["pk": "b"], attributeUpdates: ["n": AttributeValueUpdate(value: num("0.1"), action: .add)]))
            try await db.updateItem(UpdateItemInput(tableName: "Items", key: ["pk": "b"], attributeUpdates: ["n": AttributeValueUpdate(value: num("0.2"), action: .add)]))
            #expect(try await db.getItem(GetItemInput(tableName: "Items", key: ["pk": "b"])).item?["n"] == num("0.3"))
            // A sum past 38 significant digits is refused and changes nothing.
            await expectValidation {
                try await db.updateItem(UpdateItemInput(tableName: "Items", key: key, attributeUpdates: ["n": AttributeValueUpdate(value: num("1E-30"), action: .add)]))
            }
            #expect(try await db.getItem(GetItemInput(tableName: "Items", key: key)).item?["n"] == num("100000000000000000000.000001"))
        }
    }

    @Test func updateAddSets() async throws {
        try await withDatabase { db in
            try await createTable(db, "Items")
            let key: Item = ["pk": "a"]
            func add(_ name: String, _ value: AttributeValue) async throws {
                try await db.updateItem(UpdateItemInput(tableName: "Items", key: key, attributeUpdates: [name: AttributeValueUpdate(value: value, action: .add)]))
            }
            try await add("ss", .ss(["a", "b"]))
            try await add("ss", .ss(["b", "c", ""]))
            try await add("ns", .ns([DecimalNumber(1)]))
            try await add("ns", .ns([try DecimalNumber("1.0"), DecimalNumber(2)]))
            try await add("bs", .bs([[1]]))
            try await add("bs", .bs([[1], [2]]))
            let read = try #require(try await db.getItem(GetItemInput(tableName: "Items", key: key)).item)
            #expect(read["ss"] == .ss(["a", "b", "c", ""]))
            #expect(read["ns"] == .ns([DecimalNumber(1), DecimalNumber(2)]))
            #expect(read["bs"] == .bs([[1], [2]]))
            // Set equality ignores order but not multiplicity: the union has no duplicates.
            if case .ss(let members)? = read["ss"] { #expect(members.count == 4) }
            if case .ns(let members)? = read["ns"] { #expect(members.count == 2) }
        }
    }

    @Test func updateDeleteAttributesAndSetMembers() async throws {
        try await withDatabase { db in
            try await createTable(db, "Items")
            let key: Item = ["pk": "a"]
            try await db.putItem(PutItemInput(tableName: "Items", item: [
                "pk": "a", "gone": "x", "ss": .ss(["a", "b", "c"]), "ns": .ns([DecimalNumber(1), DecimalNumber(2)]),
                "bs": .bs([[1], [2]]), "keep": 1,
            ]))
            let output = try await db.updateItem(UpdateItemInput(
                tableName: "Items", key: key,
                attributeUpdates: [
                    "gone": AttributeValueUpdate(action: .delete),
                    "ss": AttributeValueUpdate(value: .ss(["a", "c", "zzz"]), action: .delete),
                    "ns": AttributeValueUpdate(value: .ns([try DecimalNumber("2.00")]), action: .delete),
                    "bs": AttributeValueUpdate(value: .bs([[1], [2]]), action: .delete),
                    "absent": AttributeValueUpdate(action: .delete),
                    "absentSet": AttributeValueUpdate(value: .ss(["q"]), action: .delete),
                ],
                returnValues: .allNew))
            // The emptied binary set disappears; absent attributes stay absent.
            let expected: Item = ["pk": "a", "ss": .ss(["b"]), "ns": .ns([DecimalNumber(1)]), "keep": 1]
            #expect(output.attributes == expected)
            #expect(try await db.getItem(GetItemInput(tableName: "Items", key: key)).item == expected)
        }
    }

    @Test func updateReturnValues() async throws {
        try await withDatabase { db in
            try await createTable(db, "Items")
            let key: Item = ["pk": "a"]
            let original: Item = ["pk": "a", "x": 1, "y": "why", "z": true]
            let updates: [String: AttributeValueUpdate] = [
                "x": AttributeValueUpdate(value: 2, action: .add),
                "y": AttributeValueUpdate(action: .delete),
                "new": AttributeValueUpdate(value: "n", action: .put),
            ]
            let after: Item = ["pk": "a", "x": 3, "z": true, "new": "n"]
            let cases: [(ReturnValue?, Item?)] = [
                (nil, nil),
                (ReturnValue.none, nil),
                (.allOld, original),
                (.updatedOld, ["x": 1, "y": "why"]),
                (.allNew, after),
                (.updatedNew, ["x": 3, "new": "n"]),
            ]
            for (returnValues, expected) in cases {
                try await db.putItem(PutItemInput(tableName: "Items", item: original))
                let output = try await db.updateItem(UpdateItemInput(tableName: "Items", key: key, attributeUpdates: updates, returnValues: returnValues))
                #expect(output.attributes == expected, "ReturnValues \(String(describing: returnValues))")
                #expect(try await db.getItem(GetItemInput(tableName: "Items", key: key)).item == after)
            }
            // On an absent item, the old values are nothing.
            let created = try await db.updateItem(UpdateItemInput(tableName: "Items", key: ["pk": "b"], attributeUpdates: updates, returnValues: .allOld))
            #expect(created.attributes == nil)
            let updatedOld = try await db.updateItem(UpdateItemInput(tableName: "Items", key: ["pk": "c"], attributeUpdates: updates, returnValues: .updatedOld))
            #expect(updatedOld.attributes == nil)
            let allNew = try await db.updateItem(UpdateItemInput(tableName: "Items", key: ["pk": "d"], attributeUpdates: updates, returnValues: .allNew))
            #expect(allNew.attributes == ["pk": "d", "x": 2, "new": "n"])
        }
    }

    @Test func updateKeyAttributeRefused() async throws {
        try await withDatabase { db in
            try await createTable(db, "Items", range: "sk", .n)
            let key: Item = ["pk": "a", "sk": 1]
            try await db.putItem(PutItemInput(tableName: "Items", item: ["pk": "a", "sk": 1, "v": 0]))
            for (name, update) in [
                ("pk", AttributeValueUpdate(value: "b", action: .put)),
                ("sk", AttributeValueUpdate(value: 5, action: .add)),
                ("sk", AttributeValueUpdate(action: .delete)),
            ] {
                await expectValidation("One or more parameter values were invalid: Cannot update attribute \(name). This attribute is part of the key") {
                    try await db.updateItem(UpdateItemInput(
                        tableName: "Items", key: key, attributeUpdates: ["v": AttributeValueUpdate(value: 1, action: .add), name: update]))
                }
            }
            #expect(try await db.getItem(GetItemInput(tableName: "Items", key: key)).item == ["pk": "a", "sk": 1, "v": 0])
        }
    }

    @Test(arguments: [
        ("s", AttributeValueUpdate(value: 1, action: .add)),
        ("n", AttributeValueUpdate(value: .ss(["a"]), action: .add)),
        ("ss", AttributeValueUpdate(value: .ns([DecimalNumber(1)]), action: .add)),
        ("ss", AttributeValueUpdate(value: 1, action: .add)),
        ("ns", AttributeValueUpdate(value: .bs([[1]]), action: .add)),
        ("l", AttributeValueUpdate(value: 1, action: .add)),
        ("ss", AttributeValueUpdate(value: .ns([DecimalNumber(1)]), action: .delete)),
        ("n", AttributeValueUpdate(value: .ns([DecimalNumber(1)]), action: .delete)),
        ("s", AttributeValueUpdate(value: .ss(["text"]), action: .delete)),
    ])
    func updateTypeMismatchRefused(name: String, update: AttributeValueUpdate) async throws {
        try await withDatabase { db in
            try await createTable(db, "Items")
            let original: Item = ["pk": "a", "s": "text", "n": 1, "ss": .ss(["a"]), "ns": .ns([DecimalNumber(1)]), "l": .l([1])]
            try await db.putItem(PutItemInput(tableName: "Items", item: original))
            await expectValidation("One or more parameter values were invalid: Type mismatch for attribute to update") {
                try await db.updateItem(UpdateItemInput(
                    tableName: "Items", key: ["pk": "a"],
                    attributeUpdates: ["other": AttributeValueUpdate(value: "x", action: .put), name: update]))
            }
            #expect(try await db.getItem(GetItemInput(tableName: "Items", key: ["pk": "a"])).item == original)
        }
    }

    @Test(arguments: [
        (AttributeValueUpdate(value: "s", action: .add), "One or more parameter values were invalid: ADD action is not supported for the type S"),
        (AttributeValueUpdate(value: .l([1]), action: .add), "One or more parameter values were invalid: ADD action is not supported for the type L"),
        (AttributeValueUpdate(value: .bool(true), action: .add), "One or more parameter values were invalid: ADD action is not supported for the type BOOL"),
        (AttributeValueUpdate(value: 1, action: .delete), "One or more parameter values were invalid: DELETE action with value is not supported for the type N"),
        (AttributeValueUpdate(value: .m([:]), action: .delete), "One or more parameter values were invalid: DELETE action with value is not supported for the type M"),
        (AttributeValueUpdate(action: .add), "One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is specified"),
        (AttributeValueUpdate(action: .put), "One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is specified"),
        (AttributeValueUpdate(value: nil, action: nil), "One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is specified"),
        (AttributeValueUpdate(value: .ss([]), action: .add), "One or more parameter values were invalid: An string set  may not be empty"),
    ])
    func updateInvalidActionRefused(update: AttributeValueUpdate, message: String) async throws {
        try await withDatabase { db in
            try await createTable(db, "Items")
            try await db.putItem(PutItemInput(tableName: "Items", item: ["pk": "a", "v": 1]))
            await expectValidation(message) {
                try await db.updateItem(UpdateItemInput(tableName: "Items", key: ["pk": "a"], attributeUpdates: ["v": update]))
            }
            // Refused before anything is read or written, also for an absent item.
            await expectValidation(message) {
                try await db.updateItem(UpdateItemInput(tableName: "Items", key: ["pk": "new"], attributeUpdates: ["v": update]))
            }
            #expect(try await db.getItem(GetItemInput(tableName: "Items", key: ["pk": "new"])).item == nil)
            #expect(try await db.getItem(GetItemInput(tableName: "Items", key: ["pk": "a"])).item == ["pk": "a", "v": 1])
        }
    }

    // MARK: Unknown tables

    @Test func unknownTableRefusedByEveryItemOperation() async throws {
        try await withDatabase { db in
            try await createTable(db, "Exists")
            await expectEddyError("ResourceNotFoundException", missingTable) {
                try await db.putItem(PutItemInput(tableName: "Nope", item: ["pk": "a"]))
            }
            await expectEddyError("ResourceNotFoundException", missingTable) {
                _ = try await db.getItem(GetItemInput(tableName: "Nope", key: ["pk": "a"]))
            }
            await expectEddyError("ResourceNotFoundException", missingTable) {
                try await db.deleteItem(DeleteItemInput(tableName: "Nope", key: ["pk": "a"]))
            }
            await expectEddyError("ResourceNotFoundException", missingTable) {
                try await db.updateItem(UpdateItemInput(tableName: "Nope", key: ["pk": "a"], attributeUpdates: ["v": AttributeValueUpdate(value: 1, action: .add)]))
            }
            // Names are case-sensitive.
            await expectEddyError("ResourceNotFoundException", missingTable) {
                _ = try await db.getItem(GetItemInput(tableName: "exists", key: ["pk": "a"]))
            }
            #expect(try await db.listTables().tableNames == ["Exists"])
        }
    }

    // MARK: Failed writes

    @Test func failedWritesLeaveOldItem() async throws {
        try await withDatabase { db in
            try await createTable(db, "Items")
            let original: Item = ["pk": "a", "n": 1, "ss": .ss(["x"]), "s": "keep"]
            try await db.putItem(PutItemInput(tableName: "Items", item: original))
            // Invalid put (an empty set elsewhere in the item).
            await expectValidation { try await db.putItem(PutItemInput(tableName: "Items", item: ["pk": "a", "s": "new", "bad": .ns([])])) }
            // Invalid update: the first action is fine, another is a type mismatch discovered against the stored item.
            await expectValidation {
                try await db.updateItem(UpdateItemInput(tableName: "Items", key: ["pk": "a"], attributeUpdates: [
                    "s": AttributeValueUpdate(value: "changed", action: .put),
                    "n": AttributeValueUpdate(value: .ss(["y"]), action: .add),
                ]))
            }
            // A number overflow from ADD.
            try await db.updateItem(UpdateItemInput(tableName: "Items", key: ["pk": "a"], attributeUpdates: ["big": AttributeValueUpdate(value: num("9.9999999999999999999999999999999999999E+125"), action: .put)]))
            let withBig = try #require(try await db.getItem(GetItemInput(tableName: "Items", key: ["pk": "a"])).item)
            await expectValidation {
                try await db.updateItem(UpdateItemInput(tableName: "Items", key: ["pk": "a"], attributeUpdates: [
                    "s": AttributeValueUpdate(value: "changed", action: .put),
                    "big": AttributeValueUpdate(value: num("1E+125"), action: .add),
                ]))
            }
            #expect(try await db.getItem(GetItemInput(tableName: "Items", key: ["pk": "a"])).item == withBig)
            var expected = original
            expected["big"] = num("9.9999999999999999999999999999999999999E+125")
            #expect(withBig == expected)
        }
    }

    // MARK: Concurrency

    @Test func concurrentAddsAreNotLost() async throws {
        try await withDatabase { db in
            try await createTable(db, "Counters")
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        for _ in 0..<20 {
                            try await db.updateItem(UpdateItemInput(
                                tableName: "Counters", key: ["pk": "hits"],
                                attributeUpdates: ["count": AttributeValueUpdate(value: 1, action: .add)]))
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await db.getItem(GetItemInput(tableName: "Counters", key: ["pk": "hits"])).item == ["pk": "hits", "count": 1000])
        }
    }

    @Test func concurrentSetAddsAreNotLost() async throws {
        try await withDatabase { db in
            try await createTable(db, "Sets")
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<10 {
                    group.addTask {
                        for index in 0..<10 {
                            try await db.updateItem(UpdateItemInput(
                                tableName: "Sets", key: ["pk": "s"],
                                attributeUpdates: ["members": AttributeValueUpdate(value: .ss(["\(task)-\(index)"]), action: .add)]))
                        }
                    }
                }
                try await group.waitForAll()
            }
            let members = try await db.getItem(GetItemInput(tableName: "Sets", key: ["pk": "s"])).item?["members"]
            guard case .ss(let strings)? = members else {
                Issue.record("members is \(String(describing: members))")
                return
            }
            #expect(strings.count == 100)
            #expect(Set(strings).count == 100)
        }
    }
}
