import Eddy
import Foundation

/// The Coral constraints DynamoDB checks on a request's members before it runs the operation, for the members
/// whose values come from an enumeration: a value outside the set is a `ValidationException` listing every
/// violation of the request, `1 validation error detected: Value 'X' at 'returnValues' failed to satisfy
/// constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]`, or
/// `N validation errors detected: …; …`.
///
/// Eddy's `Codable` inputs keep their typed enums (so the embedded API cannot hold such a value); the server
/// checks the request's JSON against the operation's table here first. The check counts, with the enum
/// violations, the other constraints Coral reports at the same stage: a missing required member (`Member must
/// not be null`) and the table name's length and pattern. A request whose enum members are all absent, or
/// each a plain string in its set, is not parsed twice: nothing here could fail then that its decoding and
/// the engine do not report alike.
struct RequestConstraints: Sendable {
    /// What a member's value must be.
    indirect enum Shape: Sendable {
        /// A string from DynamoDB's set, listed in the order DynamoDB's messages list it.
        case enumeration([String])
        /// A table name: 3 to 255 characters of `[a-zA-Z0-9_.-]`.
        case tableName
        /// A JSON object with these members, in the order DynamoDB reports their violations.
        case structure([Member])
        /// A JSON array whose elements are `Shape` (paths `name.1.member…`).
        case list(Shape)
        /// A JSON object whose values are `Shape` (paths `name.key.member…`).
        case map(Shape)
        /// Any value: only its presence is checked.
        case value
    }

    /// One member of a structure.
    struct Member: Sendable {
        /// The member's name in the request, such as `ReturnValues`.
        var name: String
        var shape: Shape
        /// Whether DynamoDB refuses the request without it (`Member must not be null`).
        var required: Bool

        init(_ name: String, _ shape: Shape, required: Bool = false) {
            self.name = name
            self.shape = shape
            self.required = required
        }
    }

    /// The request's top-level members.
    let members: [Member]
    /// Every enum member's name, `"Name"` as UTF-8 with its quotes, and the values it allows (nil when the
    /// name allows different sets in different places: then its every value is checked on the parsed JSON).
    private let enumMembers: [(quotedName: [UInt8], allowed: Set<[UInt8]>?)]

    init(_ members: [Member]) {
        self.members = members
        var sets: [String: [String]?] = [:]
        func collect(_ shape: Shape, named name: String) {
            switch shape {
            case .enumeration(let values):
                if let known = sets[name], known != values { sets[name] = .some(nil) } else { sets[name] = values }
            case .structure(let members): for member in members { collect(member.shape, named: member.name) }
            case .list(let element), .map(let element): collect(element, named: name)
            case .tableName, .value: break
            }
        }
        for member in members { collect(member.shape, named: member.name) }
        enumMembers = sets.sorted { $0.key < $1.key }.map { name, values in
            (Array("\"\(name)\"".utf8), values.map { Set($0.map { Array($0.utf8) }) })
        }
    }

    /// Refuses `bytes` with DynamoDB's `ValidationException` when a member breaks its constraint.
    ///
    /// Bytes that are not a JSON object are left to the request's decoding; a member of the wrong JSON type is
    /// a `SerializationException`, as DynamoDB answers it (the decoding may not read that member at all, as
    /// with `ReturnConsumedCapacity`): a request DynamoDB could not deserialize never reaches its validation.
    func check(_ bytes: [UInt8]) throws(WireError) {
        guard mentionsEnumValueToCheck(in: bytes) else { return }
        // A body the decoding refuses as not JSON is left to it, before Foundation's parser meets its nesting.
        let shape = JSONShape(of: bytes)
        guard shape.deepestNesting <= RequestDecoding.maximumNestingDepth, !shape.hasTrailingComma,
            let request = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
        else { return }
        var violations = Violations()
        violations.check(request, members: members, path: "")
        if let (path, expected) = violations.wrongJSONType {
            throw .serialization("Unexpected value at '\(path)': expected \(expected)")
        }
        guard !violations.messages.isEmpty else { return }
        let count = violations.messages.count
        throw WireError(
            type: "ValidationException",
            message: "\(count) validation error\(count == 1 ? "" : "s") detected: " + violations.messages.joined(separator: "; "))
    }

    /// Whether `bytes` give an enum member a value that needs the parsed JSON to judge: one pass, stopping at
    /// each `"`. A member whose value is a plain string in its set (`"ReturnConsumedCapacity":"TOTAL"`, as
    /// some clients send with every request) needs nothing more: with every enum value in its set, the
    /// decoding and the engine report whatever else is wrong as this check would.
    private func mentionsEnumValueToCheck(in bytes: [UInt8]) -> Bool {
        let quote = UInt8(ascii: "\"")
        var index = bytes.startIndex
        while let found = bytes[index...].firstIndex(of: quote) {
            index = found + 1
            guard
                let member = enumMembers.first(where: { member in
                    found + member.quotedName.count <= bytes.endIndex && bytes[found + 1] == member.quotedName[1]
                        && bytes[found..<(found + member.quotedName.count)].elementsEqual(member.quotedName)
                })
            else { continue }
            var cursor = found + member.quotedName.count
            func skipWhitespace() {
                while cursor < bytes.endIndex, bytes[cursor] == 0x20 || bytes[cursor] == 0x09 || bytes[cursor] == 0x0A || bytes[cursor] == 0x0D {
                    cursor += 1
                }
            }
            skipWhitespace()
            // The name is a string value, not a member's name: nothing to check.
            guard cursor < bytes.endIndex, bytes[cursor] == UInt8(ascii: ":") else { continue }
            cursor += 1
            skipWhitespace()
            guard cursor < bytes.endIndex, bytes[cursor] == quote, let allowed = member.allowed,
                let end = bytes[(cursor + 1)...].firstIndex(where: { $0 == quote || $0 == UInt8(ascii: "\\") }),
                bytes[end] == quote, allowed.contains(Array(bytes[(cursor + 1)..<end]))
            else { return true }
            index = end + 1
        }
        return false
    }
}

/// The violations found in one request, in the order DynamoDB lists them.
private struct Violations {
    var messages: [String] = []
    /// The first member of the wrong JSON type, and what it should be: then the request is a
    /// `SerializationException`.
    var wrongJSONType: (path: String, expected: String)?

    mutating func check(_ object: [String: Any], members: [RequestConstraints.Member], path: String) {
        for member in members {
            let memberPath = path + (path.isEmpty ? "" : ".") + Self.lowercasingFirst(member.name)
            guard let value = object[member.name], !(value is NSNull) else {
                if member.required { add("Value null at '\(memberPath)' failed to satisfy constraint: Member must not be null") }
                continue
            }
            check(value, shape: member.shape, path: memberPath)
        }
    }

    private mutating func check(_ value: Any, shape: RequestConstraints.Shape, path: String) {
        switch shape {
        case .value:
            break
        case .enumeration(let allowed):
            guard let string = value as? String else { return wrongType(path, "a string") }
            if !allowed.contains(string) {
                add(value: string, path: path, "Member must satisfy enum value set: [\(allowed.joined(separator: ", "))]")
            }
        case .tableName:
            guard let name = value as? String else { return wrongType(path, "a string") }
            if let rule = Self.tableNameRule(name) { add(value: name, path: path, rule) }
        case .structure(let members):
            guard let object = value as? [String: Any] else { return wrongType(path, "an object") }
            check(object, members: members, path: path)
        case .list(let element):
            guard let array = value as? [Any] else { return wrongType(path, "an array") }
            for (index, item) in array.enumerated() where !(item is NSNull) {
                check(item, shape: element, path: "\(path).\(index + 1).member")
            }
        case .map(let element):
            guard let object = value as? [String: Any] else { return wrongType(path, "an object") }
            for key in object.keys.sorted() where !(object[key] is NSNull) {
                check(object[key]!, shape: element, path: "\(path).\(key).member")
            }
        }
    }

    private mutating func wrongType(_ path: String, _ expected: String) {
        if wrongJSONType == nil { wrongJSONType = (path, expected) }
    }

    private mutating func add(value: String, path: String, _ rule: String) {
        add("Value '\(value)' at '\(path)' failed to satisfy constraint: \(rule)")
    }

    private mutating func add(_ message: String) {
        messages.append(message)
    }

    /// The rule a table name breaks, the first of length and pattern, as the engine checks it.
    private static func tableNameRule(_ name: String) -> String? {
        let length = name.utf8.count
        if length < Limits.tableNameLengthRange.lowerBound {
            return "Member must have length greater than or equal to \(Limits.tableNameLengthRange.lowerBound)"
        }
        if length > Limits.tableNameLengthRange.upperBound {
            return "Member must have length less than or equal to \(Limits.tableNameLengthRange.upperBound)"
        }
        let allowed = name.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")
        }
        return allowed ? nil : "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
    }

    private static func lowercasingFirst(_ name: String) -> String {
        guard let first = name.first else { return name }
        return first.lowercased() + name.dropFirst()
    }
}

extension RequestConstraints {
    /// The constraints of each operation with enum members, by `X-Amz-Target`. The sets are DynamoDB's, in the
    /// order its messages list them; the members are in the order DynamoDB reports their violations where that
    /// is known (UpdateItem: `returnConsumedCapacity`, `tableName`, `returnValues`, …, `key`), else in the API
    /// reference's order.
    static let byTarget: [String: RequestConstraints] = {
        let dynamodb = "DynamoDB_20120810."
        let streams = "DynamoDBStreams_20120810."
        func oneOf(_ name: String, _ values: [String], required: Bool = false) -> Member {
            Member(name, .enumeration(values), required: required)
        }
        let tableName = Member("TableName", .tableName, required: true)
        let consumedCapacity = oneOf("ReturnConsumedCapacity", EnumValueSets.returnConsumedCapacity)
        let collectionMetrics = oneOf("ReturnItemCollectionMetrics", EnumValueSets.returnItemCollectionMetrics)
        let returnValues = oneOf("ReturnValues", EnumValueSets.returnValues)
        let onConditionFailure = oneOf("ReturnValuesOnConditionCheckFailure", EnumValueSets.returnValuesOnConditionCheckFailure)
        let conditionalOperator = oneOf("ConditionalOperator", EnumValueSets.conditionalOperator)
        let expected = Member("Expected", .map(.structure([oneOf("ComparisonOperator", EnumValueSets.comparisonOperator)])))
        let conditions = { (name: String) in
            Member(name, .map(.structure([oneOf("ComparisonOperator", EnumValueSets.comparisonOperator, required: true)])))
        }
        let keySchema = Member(
            "KeySchema",
            .list(
                .structure([Member("AttributeName", .value, required: true), oneOf("KeyType", EnumValueSets.keyType, required: true)])),
            required: true)
        let projection = Member(
            "Projection", .structure([oneOf("ProjectionType", EnumValueSets.projectionType)]), required: true)
        let index = Shape.structure([Member("IndexName", .value, required: true), keySchema, projection])
        let attributeDefinitions = Member(
            "AttributeDefinitions",
            .list(
                .structure([
                    Member("AttributeName", .value, required: true), oneOf("AttributeType", EnumValueSets.attributeType, required: true),
                ])))
        let streamSpecification = Member(
            "StreamSpecification", .structure([oneOf("StreamViewType", EnumValueSets.streamViewType)]))
        let billingMode = oneOf("BillingMode", EnumValueSets.billingMode)
        let tableClass = oneOf("TableClass", EnumValueSets.tableClass)
        let transactAction = { (item: Member) in
            Shape.structure([item, onConditionFailure])
        }
        let tables: [String: [Member]] = [
            dynamodb + "CreateTable": [
                Member("AttributeDefinitions", attributeDefinitions.shape, required: true), tableName, billingMode, keySchema,
                Member("LocalSecondaryIndexes", .list(index)), Member("GlobalSecondaryIndexes", .list(index)),
                streamSpecification, tableClass,
            ],
            dynamodb + "UpdateTable": [
                attributeDefinitions, tableName, billingMode,
                Member("GlobalSecondaryIndexUpdates", .list(.structure([Member("Create", index)]))),
                streamSpecification, tableClass,
            ],
            dynamodb + "PutItem": [
                consumedCapacity, tableName, returnValues, collectionMetrics, conditionalOperator, expected,
                Member("Item", .value, required: true), onConditionFailure,
            ],
            dynamodb + "UpdateItem": [
                consumedCapacity, tableName, returnValues, collectionMetrics, conditionalOperator, expected,
                Member("AttributeUpdates", .map(.structure([oneOf("Action", EnumValueSets.attributeAction)]))),
                Member("Key", .value, required: true), onConditionFailure,
            ],
            dynamodb + "DeleteItem": [
                consumedCapacity, tableName, returnValues, collectionMetrics, conditionalOperator, expected,
                Member("Key", .value, required: true), onConditionFailure,
            ],
            dynamodb + "GetItem": [consumedCapacity, tableName, Member("Key", .value, required: true)],
            dynamodb + "BatchGetItem": [consumedCapacity, Member("RequestItems", .value, required: true)],
            dynamodb + "BatchWriteItem": [consumedCapacity, collectionMetrics, Member("RequestItems", .value, required: true)],
            dynamodb + "Query": [
                consumedCapacity, tableName, oneOf("Select", EnumValueSets.select), conditions("KeyConditions"),
                conditions("QueryFilter"), conditionalOperator,
            ],
            dynamodb + "Scan": [
                consumedCapacity, tableName, oneOf("Select", EnumValueSets.select), conditions("ScanFilter"), conditionalOperator,
            ],
            dynamodb + "TransactWriteItems": [
                consumedCapacity, collectionMetrics,
                Member(
                    "TransactItems",
                    .list(
                        .structure([
                            Member("ConditionCheck", transactAction(Member("Key", .value, required: true))),
                            Member("Put", transactAction(Member("Item", .value, required: true))),
                            Member("Delete", transactAction(Member("Key", .value, required: true))),
                            Member("Update", transactAction(Member("Key", .value, required: true))),
                        ])),
                    required: true),
            ],
            dynamodb + "TransactGetItems": [consumedCapacity, Member("TransactItems", .value, required: true)],
            dynamodb + "UpdateContributorInsights": [
                oneOf("ContributorInsightsAction", EnumValueSets.contributorInsightsAction, required: true),
                Member("TableName", .value, required: true), oneOf("ContributorInsightsMode", EnumValueSets.contributorInsightsMode),
            ],
            streams + "GetShardIterator": [
                Member("StreamArn", .value, required: true), Member("ShardId", .value, required: true),
                oneOf("ShardIteratorType", EnumValueSets.shardIteratorType, required: true),
            ],
            streams + "DescribeStream": [
                Member("ShardFilter", .structure([oneOf("Type", EnumValueSets.shardFilterType, required: true)])),
                Member("StreamArn", .value, required: true),
            ],
        ]
        return tables.mapValues(RequestConstraints.init)
    }()

    /// `runs` with each operation that has constraints checking them before it decodes its request.
    static func guarding(_ runs: [String: Operations.Run]) -> [String: Operations.Run] {
        var guarded = runs
        for (target, constraints) in byTarget {
            guard let run = runs[target] else { continue }
            guarded[target] = guarding(run, by: constraints)
        }
        return guarded
    }

    private static func guarding(_ run: @escaping Operations.Run, by constraints: RequestConstraints) -> Operations.Run {
        { (db, bytes) async throws(WireError) -> [UInt8] in
            try constraints.check(bytes)
            return try await run(db, bytes)
        }
    }
}

/// DynamoDB's enumerations of request members, each in the order DynamoDB's validation messages list its
/// values (`Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]`).
public enum EnumValueSets {
    /// `ReturnValues`.
    public static let returnValues = ["ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW"]
    /// `ReturnValuesOnConditionCheckFailure`.
    public static let returnValuesOnConditionCheckFailure = ["ALL_OLD", "NONE"]
    /// `ReturnConsumedCapacity`.
    public static let returnConsumedCapacity = ["INDEXES", "TOTAL", "NONE"]
    /// `ReturnItemCollectionMetrics`.
    public static let returnItemCollectionMetrics = ["SIZE", "NONE"]
    /// A Query's or Scan's `Select`.
    public static let select = ["SPECIFIC_ATTRIBUTES", "COUNT", "ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES"]
    /// A legacy condition's `ComparisonOperator`.
    public static let comparisonOperator = [
        "IN", "NULL", "BETWEEN", "LT", "NOT_CONTAINS", "EQ", "GT", "NOT_NULL", "NE", "LE", "BEGINS_WITH", "GE", "CONTAINS",
    ]
    /// `ConditionalOperator`.
    public static let conditionalOperator = ["OR", "AND"]
    /// An `AttributeUpdates` entry's `Action`.
    public static let attributeAction = ["ADD", "PUT", "DELETE"]
    /// A key schema element's `KeyType`.
    public static let keyType = ["HASH", "RANGE"]
    /// An attribute definition's `AttributeType`.
    public static let attributeType = ["B", "N", "S"]
    /// An index projection's `ProjectionType`.
    public static let projectionType = ["ALL", "INCLUDE", "KEYS_ONLY"]
    /// `BillingMode`.
    public static let billingMode = ["PROVISIONED", "PAY_PER_REQUEST"]
    /// `StreamSpecification.StreamViewType`.
    public static let streamViewType = ["OLD_IMAGE", "KEYS_ONLY", "NEW_AND_OLD_IMAGES", "NEW_IMAGE"]
    /// `TableClass`.
    public static let tableClass = ["STANDARD", "STANDARD_INFREQUENT_ACCESS"]
    /// UpdateContributorInsights' `ContributorInsightsAction`.
    public static let contributorInsightsAction = ["ENABLE", "DISABLE"]
    /// UpdateContributorInsights' `ContributorInsightsMode`.
    public static let contributorInsightsMode = ["ACCESSED_AND_THROTTLED_KEYS", "THROTTLED_KEYS"]
    /// GetShardIterator's `ShardIteratorType`.
    public static let shardIteratorType = ["AFTER_SEQUENCE_NUMBER", "LATEST", "AT_SEQUENCE_NUMBER", "TRIM_HORIZON"]
    /// DescribeStream's `ShardFilter.Type`.
    public static let shardFilterType = ["CHILD_SHARDS"]
}
