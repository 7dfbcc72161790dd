/// A way to break a valid request. Each of ``invalidating`` makes a request invalid whatever else it holds,
/// by the AWS API reference's rules; the others may leave it valid.
enum Mutation: String, CaseIterable, Sendable {
    /// A value replaced by one of another JSON type, never null: the member does not deserialize.
    case wrongType
    /// A required member deleted (`TableName`, `Key`, a key attribute, an `AttributeValue`'s type, …).
    case deleteRequired
    /// A required member renamed: it is missing, and the new name is unknown.
    case renameRequired
    /// A value replaced, or a member added, with thousands of nested levels of `{"M":{"a":…}}` or `[[…]]`.
    case deepNesting
    /// A 1 MB string where far less is allowed: a table name, key value, expression, attribute name.
    case hugeString
    /// Invalid UTF-8 inside a string or a member name: the body is not JSON.
    case invalidUTF8
    /// A number of 40 or more significant digits, or with an exponent out of DynamoDB's range.
    case bigNumber
    /// An empty set in an item or a key.
    case emptySet
    /// A value just over one of DynamoDB's limits.
    case overLimit
    /// An enumeration's member given a value it does not have.
    case badEnum
    /// Any member or element deleted.
    case deleteMember
    /// Any member renamed, maybe to another of the API's names.
    case renameMember
    /// Any value replaced by `null`.
    case nullValue
    /// A member repeated, with the same or another value.
    case duplicateMember
    /// A member added with any name.
    case unknownMember
    /// A value exactly at one of DynamoDB's limits.
    case atLimit
    /// An attribute value nested in 1 to 250 levels of maps and lists.
    case nesting
    /// A number at an edge: zeros, signs, 38 and 39 digits, the extreme exponents, non-numbers.
    case edgeNumber
    /// Any value replaced by random JSON.
    case randomValue
    /// An empty set in any attribute value position.
    case emptySetAnywhere

    /// How often the mutation is drawn, relative to the others. A 1 MB string costs a hundred times an
    /// ordinary request (Eddy's error message quotes it), so it is drawn rarely: about 1 request in 500.
    var weight: Int {
        self == .hugeString ? 1 : 40
    }

    /// The mutations that make any request invalid.
    static let invalidating: [Mutation] = [
        .wrongType, .deleteRequired, .renameRequired, .deepNesting, .hugeString, .invalidUTF8, .bigNumber, .emptySet, .overLimit,
        .badEnum,
    ]
}

/// Where the mutations aim, by member name.
private enum Members {
    /// Members a request cannot do without, wherever the templates put them.
    static let required: Set<String> = [
        "TableName", "Item", "Key", "RequestItems", "Keys", "KeySchema", "AttributeDefinitions", "AttributeName", "KeyType",
        "AttributeType", "StreamArn", "ShardId", "ShardIteratorType", "ShardIterator", "SequenceNumber", "ComparisonOperator",
        "StreamEnabled", "PutRequest", "DeleteRequest", "ReadCapacityUnits", "WriteCapacityUnits", "KeyConditionExpression",
        "KeyConditions", "pk", "TransactItems", "Get", "TimeToLiveSpecification", "Enabled", "Projection", "ProjectionType",
        "NonKeyAttributes", "ResourceArn", "Tags", "TagKeys", "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled",
        "ContributorInsightsAction",
    ]
    /// Members required only inside others: each is required wherever it stands inside one of these.
    static let requiredInside: [String: Set<String>] = [
        // The key of an item, and every key attribute of a start key (an index's start key has the index's
        // and the table's).
        "sk": itemsAndKeys.union(["ExclusiveStartKey"]), "gpk": ["ExclusiveStartKey"], "gsk": ["ExclusiveStartKey"],
        "lsk": ["ExclusiveStartKey"],
        // An index's name where it is defined, created, deleted or updated; Query's and Scan's is optional.
        "IndexName": ["GlobalSecondaryIndexes", "LocalSecondaryIndexes", "GlobalSecondaryIndexUpdates"],
        // A transaction's or an index update's one action: without it the action is empty.
        "Put": ["TransactItems"], "Update": ["TransactItems", "GlobalSecondaryIndexUpdates"],
        "Delete": ["TransactItems", "GlobalSecondaryIndexUpdates"], "ConditionCheck": ["TransactItems"],
        "Create": ["GlobalSecondaryIndexUpdates"],
        // What a transaction's Update does and what its ConditionCheck checks; UpdateItem may do without
        // an UpdateExpression, the other actions without a condition.
        "UpdateExpression": ["TransactItems"], "ConditionExpression": ["ConditionCheck"],
        // A tag's value (its key is required everywhere).
        "Value": ["Tags"],
    ]
    /// String members with a short length limit.
    static let limitedStrings: Set<String> = [
        "TableName", "ExclusiveStartTableName", "StreamArn", "ShardId", "ExclusiveStartShardId", "ShardIterator", "IndexName",
        "ClientRequestToken", "ResourceArn",
    ]
    /// String members whose value is one of an enumeration's.
    static let enumerations: Set<String> = [
        "ReturnValues", "ReturnValuesOnConditionCheckFailure", "Select", "ShardIteratorType", "KeyType", "AttributeType",
        "BillingMode", "StreamViewType", "ComparisonOperator", "TableClass", "Action", "ProjectionType",
        "ReturnItemCollectionMetrics", "ContributorInsightsAction", "ContributorInsightsMode",
    ]
    /// Members whose values are stored or looked up as items and keys, where every attribute value is checked.
    static let itemsAndKeys: Set<String> = ["Item", "Key", "Keys"]
    /// Members holding table or index names (which follow the same rules), as values or as member names.
    static let resourceNames: Set<String> = ["TableName", "ExclusiveStartTableName", "IndexName"]
}

/// Pre-built bodies too large to build for each request.
private enum Fragments {
    /// 1 MB of `a`.
    static let huge = [UInt8](repeating: UInt8(ascii: "a"), count: 1_048_576)
    /// ``huge`` as a JSON string.
    static let hugeString = FuzzJSON.quoted(huge)

    /// Thousands of levels, far past any JSON parser's or DynamoDB's nesting limit.
    static let deep: [FuzzJSON] = [
        .raw(nested(open: #"{"M":{"a":"#, middle: #"{"S":"x"}"#, close: "}}", levels: 1_000)),
        .raw(nested(open: #"{"L":["#, middle: #"{"N":"1"}"#, close: "]}", levels: 5_000)),
        .raw(nested(open: "[", middle: "", close: "]", levels: 2_000)),
        .raw(nested(open: "[", middle: "", close: "]", levels: 20_000)),
        .raw(nested(open: #"{"a":"#, middle: "1", close: "}", levels: 10_000)),
    ]

    private static func nested(open: String, middle: String, close: String, levels: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(levels * (open.utf8.count + close.utf8.count) + middle.utf8.count)
        for _ in 0..<levels { bytes.append(contentsOf: open.utf8) }
        bytes.append(contentsOf: middle.utf8)
        for _ in 0..<levels { bytes.append(contentsOf: close.utf8) }
        return bytes
    }

    /// Byte sequences that are not UTF-8 wherever they stand between two characters: bytes UTF-8 never
    /// uses, overlong forms, a surrogate, a code point past U+10FFFF, a lone continuation byte, truncated
    /// sequences.
    static let invalidUTF8: [[UInt8]] = [
        [0xFF], [0xFE], [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x80], [0xC3],
        [0xE2, 0x82], [0xF0, 0x9F, 0x98],
    ]
}

extension Fuzzer {
    /// `body` with `mutation` applied where it applies, or nil if it applies nowhere in `body`.
    mutating func apply(_ mutation: Mutation, to body: FuzzJSON, _ operation: FuzzOperation) -> FuzzJSON? {
        let locations = body.locations.filter { $0.node.kind != .raw }
        switch mutation {
        case .wrongType: return wrongType(body, locations)
        case .deleteRequired: return pick(locations.filter { isRequired($0, operation) }).flatMap(body.removing)
        case .renameRequired:
            return pick(locations.filter { isRequired($0, operation) }).map { body.renaming($0, to: Array(renamed($0.name ?? "").utf8)) }
        case .deepNesting: return deepNesting(body, locations)
        case .hugeString: return hugeString(body, locations)
        case .invalidUTF8: return invalidUTF8(body, locations)
        case .bigNumber: return bigNumber(body, locations)
        case .emptySet:
            return pick(locations.filter { $0.node.isAttributeValue && $0.isInside(Members.itemsAndKeys) }).map { body.replacing($0, with: emptySet()) }
        case .overLimit: return overLimit(body, locations)
        case .badEnum:
            return pick(locations.filter { $0.node.kind == .string && Members.enumerations.contains($0.name ?? "") }).map {
                body.replacing($0, with: badEnumeration($0.node))
            }
        case .deleteMember: return pick(Array(locations.dropFirst())).flatMap(body.removing)
        case .renameMember:
            return pick(locations.filter(\.isMember)).map { location in
                body.renaming(location, to: Array((rng.chance(0.5) ? rng.pick(Self.vocabulary) : renamed(location.name ?? "")).utf8))
            }
        case .nullValue: return pick(Array(locations.dropFirst())).map { body.replacing($0, with: .null) }
        case .duplicateMember: return duplicateMember(body, locations)
        case .unknownMember: return unknownMember(body, locations)
        case .atLimit: return atLimit(body, locations)
        case .nesting:
            return pick(locations.filter(\.node.isAttributeValue)).map { location in
                body.replacing(location, with: wrapped(location.node, levels: rng.int(1...250)))
            }
        case .edgeNumber: return edgeNumber(body, locations)
        case .randomValue: return pick(locations).map { body.replacing($0, with: randomValue(depth: 2)) }
        case .emptySetAnywhere: return pick(locations.filter(\.node.isAttributeValue)).map { body.replacing($0, with: emptySet()) }
        }
    }

    /// A random one of `locations`, or nil if there is none.
    private mutating func pick(_ locations: [FuzzLocation]) -> FuzzLocation? {
        locations.isEmpty ? nil : rng.pick(locations)
    }

    /// Whether deleting or renaming the member at `location` leaves `operation`'s request invalid.
    private func isRequired(_ location: FuzzLocation, _ operation: FuzzOperation) -> Bool {
        guard location.isMember, let name = location.name else { return false }
        if location.isAttributeValueContent { return true }
        if let holders = Members.requiredInside[name] { return location.isInside(holders) }
        switch name {
        case "TableName": return operation != .listStreams && operation != .listContributorInsights
        case "ComparisonOperator": return !location.isInside(["Expected"])
        default: return Members.required.contains(name)
        }
    }

    /// `name` changed into a name no member of the API has.
    private mutating func renamed(_ name: String) -> String {
        switch rng.int(0...2) {
        case 0: name + "_"
        case 1: " " + name
        default: name.lowercased() != name ? name.lowercased() : name.uppercased() != name ? name.uppercased() : name + "2"
        }
    }

    /// Whether `location` is the string of a partition key value in an item or key: `Item.pk.S`,
    /// `Key.pk.S`, `Keys[i].pk.S`.
    private func isPartitionKeyString(_ location: FuzzLocation) -> Bool {
        let names = location.names
        guard names.count >= 3, names[names.count - 1] == "S", names[names.count - 2] == "pk" else { return false }
        let holder = names[names.count - 3]
        return holder == "Item" || holder == "Key" || (holder == nil && names.count >= 4 && names[names.count - 4] == "Keys")
    }

    /// Whether `location` is a table name given as a member name, in `RequestItems`.
    private func isRequestItemsTable(_ location: FuzzLocation) -> Bool {
        location.isMember && location.names.count >= 2 && location.names[location.names.count - 2] == "RequestItems"
    }

    /// Whether `location` is an expression string.
    private func isExpression(_ location: FuzzLocation) -> Bool {
        location.node.kind == .string && location.isMember && (location.name ?? "").hasSuffix("Expression")
    }

    // MARK: - Mutations that make a request invalid

    /// ``Mutation/wrongType``: any node replaced by a value of another JSON type.
    private mutating func wrongType(_ body: FuzzJSON, _ locations: [FuzzLocation]) -> FuzzJSON? {
        pick(locations).map { location in
            let kinds: [FuzzJSON.Kind] = [.object, .array, .string, .number, .bool].filter { $0 != location.node.kind }
            return body.replacing(location, with: randomValue(depth: 1, kind: rng.pick(kinds)))
        }
    }

    /// ``Mutation/deepNesting``: a node replaced by, or an object given a member holding, a deep fragment.
    private mutating func deepNesting(_ body: FuzzJSON, _ locations: [FuzzLocation]) -> FuzzJSON? {
        let deep = rng.pick(Fragments.deep)
        let objects = locations.filter { $0.node.kind == .object }
        if rng.chance(0.5), let object = pick(objects) {
            var result = body
            result.modify(at: object.path[...]) { node in
                guard case .object(var members) = node else { return }
                members.insert(member(rng.pick(Self.vocabulary + ["x"]), deep), at: rng.int(0...members.count))
                node = .object(members)
            }
            return result
        }
        return pick(locations).map { body.replacing($0, with: deep) }
    }

    /// ``Mutation/hugeString``: an item given a 1 MB attribute name, a batch a 1 MB table name, or a
    /// length-limited string (table name, stream ARN, shard id or iterator, expression, partition key) made 1 MB.
    private mutating func hugeString(_ body: FuzzJSON, _ locations: [FuzzLocation]) -> FuzzJSON? {
        let strings = locations.filter {
            ($0.node.kind == .string && Members.limitedStrings.contains($0.name ?? "")) || isExpression($0) || isPartitionKeyString($0)
        }
        let items = items(locations)
        let requestTables = locations.filter(isRequestItemsTable)
        switch rng.int(0...2) {
        case 0 where !items.isEmpty:
            let item = rng.pick(items)
            return body.replacing(item, with: item.node.appendingRawMember(name: Fragments.huge, value: stringValue("x")))
        case 1 where !requestTables.isEmpty:
            let table = rng.pick(requestTables)
            guard let holder = locations.first(where: { $0.path[...] == table.path.dropLast() }) else { return nil }
            return body.replacing(holder, with: FuzzJSON.object([]).appendingRawMember(name: Fragments.huge, value: table.node))
        default:
            return pick(strings).map { body.replacing($0, with: Fragments.hugeString) }
        }
    }

    /// ``Mutation/invalidUTF8``: a member name or a string given an invalid byte sequence.
    private mutating func invalidUTF8(_ body: FuzzJSON, _ locations: [FuzzLocation]) -> FuzzJSON? {
        let members = locations.filter { $0.isMember && $0.name != nil }
        if rng.chance(0.3), let location = pick(members), let name = location.name {
            return body.renaming(location, to: insertingInvalidUTF8(into: Array(name.utf8)))
        }
        return pick(locations.filter { $0.node.validUTF8String != nil }).map { location in
            body.replacing(location, with: .string(insertingInvalidUTF8(into: location.node.validUTF8String ?? [])))
        }
    }

    /// `bytes`, valid UTF-8, with an invalid sequence inserted between two of its characters.
    private mutating func insertingInvalidUTF8(into bytes: [UInt8]) -> [UInt8] {
        let boundaries = bytes.indices.filter { bytes[$0] & 0xC0 != 0x80 } + [bytes.count]
        var result = bytes
        result.insert(contentsOf: rng.pick(Fragments.invalidUTF8), at: rng.pick(boundaries))
        return result
    }

    /// ``Mutation/bigNumber``: a number attribute value, or a JSON number, past what DynamoDB or the member
    /// type holds.
    private mutating func bigNumber(_ body: FuzzJSON, _ locations: [FuzzLocation]) -> FuzzJSON? {
        let numberStrings = locations.filter { location in
            guard location.node.kind == .string else { return false }
            if location.isAttributeValueContent { return location.name == "N" }
            return !location.isMember && location.names.count >= 2 && location.names[location.names.count - 2] == "NS"
        }
        let numbers = locations.filter { $0.node.kind == .number }
        if let location = pick(numbers), numberStrings.isEmpty || rng.chance(0.3) {
            let literal = rng.pick([digits(rng.int(40...60)), "1e400", "-1e400", "1E99999999999999999999", "9223372036854775808", "-9223372036854775809"])
            return body.replacing(location, with: .number(literal))
        }
        return pick(numberStrings).map { location in
            let text = rng.pick([
                digits(rng.int(40...45)), "-" + digits(rng.int(40...45)), "0." + digits(rng.int(40...45)), digits(20) + "." + digits(20),
                "1E126", "-1E+126", "1E-131", "0.1E-130", "9.9E+999", "1E99999999999999999999", "1E-99999999999999999999",
                "-" + digits(39) + "E+100",
            ])
            return body.replacing(location, with: .string(text))
        }
    }

    /// `count` random digits, none of them 0: as many significant digits.
    private mutating func digits(_ count: Int) -> String {
        rng.text(count, from: "123456789")
    }

    /// An empty string, number or binary set.
    private mutating func emptySet() -> FuzzJSON {
        .object([FuzzMember(name: Array(rng.pick(["SS", "NS", "BS"]).utf8), value: .array([]))])
    }

    /// ``Mutation/overLimit``: the first of the ways of going over a limit, tried in random order, that
    /// applies to `body`.
    private mutating func overLimit(_ body: FuzzJSON, _ locations: [FuzzLocation]) -> FuzzJSON? {
        for choice in (0..<11).shuffled(using: &rng) {
            if let result = overLimit(choice, body, locations) { return result }
        }
        return nil
    }

    /// The `choice`th way of going over a limit, or nil if `body` has nothing it applies to.
    private mutating func overLimit(_ choice: Int, _ body: FuzzJSON, _ locations: [FuzzLocation]) -> FuzzJSON? {
        switch choice {
        case 0:
            return pick(locations.filter(isPartitionKeyString)).map { Self.keyString(body, $0, bytes: rng.int(2049...2300)) }
        case 1:
            return pick(items(locations)).map { Self.longName(body, $0, bytes: rng.int(65_536...65_600)) }
        case 2:
            guard let attribute = pick(itemAttributes(locations)) else { return nil }
            return body.replacing(attribute, with: wrapped(stringValue("deep"), levels: rng.int(33...40)))
        case 3:
            guard let name = pick(locations.filter { $0.node.kind == .string && Members.resourceNames.contains($0.name ?? "") }) else { return nil }
            let long = rng.text(256, from: "ab")
            return body.replacing(name, with: .string(rng.pick([long, "ab", "a b c", "tbl/x", "", "é__"])))
        case 4:
            return pick(locations.filter(isRequestItemsTable)).map { body.renaming($0, to: Array(rng.pick(["ab", "a b c", "tbl/x", ""]).utf8)) }
        case 5:
            guard let expression = pick(locations.filter(isExpression)) else { return nil }
            return Self.paddedExpression(body, expression, to: rng.int(4097...4200))
        case 6:
            let counts = locations.filter { $0.node.kind == .number && ["Limit", "Segment", "TotalSegments", "ReadCapacityUnits"].contains($0.name ?? "") }
            return pick(counts).map { body.replacing($0, with: .number(outOfRange($0.name ?? ""))) }
        case 7:
            return pick(locations.filter(isTimeToLiveAttribute)).map { body.replacing($0, with: .string(rng.pick(["", rng.text(256)]))) }
        case 8:
            return pick(locations.filter(isRequestToken)).map { body.replacing($0, with: .string(rng.text(rng.int(37...40)))) }
        case 9:
            return pick(locations.filter(isTransactionList)).map { transaction(body, $0, overLimit: true) }
        default:
            return pick(locations.filter { batchTable($0) != nil }).flatMap { batch(body, $0, overLimit: true) }
        }
    }

    /// The items of `locations`: the objects named `Item`.
    private func items(_ locations: [FuzzLocation]) -> [FuzzLocation] {
        locations.filter { $0.name == "Item" && $0.node.kind == .object }
    }

    /// The attributes of the items of `locations`.
    private func itemAttributes(_ locations: [FuzzLocation]) -> [FuzzLocation] {
        let itemPaths = items(locations).map(\.path)
        return locations.filter { location in location.isMember && itemPaths.contains { $0[...] == location.path.dropLast() } }
    }

    /// A value out of range for the number member `name`.
    private mutating func outOfRange(_ name: String) -> String {
        switch name {
        case "TotalSegments": rng.pick(["0", "-1", "1000001"])
        case "Segment": rng.pick(["-1", "1000000"])
        default: rng.pick(["0", "-1", "-9223372036854775808"])
        }
    }

    /// A value the enumeration member `node` does not have: lowercased, suffixed, empty or random.
    private mutating func badEnumeration(_ node: FuzzJSON) -> FuzzJSON {
        guard case .string(let bytes) = node, let value = String(validating: bytes, as: UTF8.self) else { return .string("x") }
        return .string(rng.pick([value.lowercased(), value + "_X", "", "x" + rng.text(rng.int(0...8)), " " + value]))
    }

    // MARK: - Mutations that may leave a request valid

    /// ``Mutation/duplicateMember``: a member repeated before or after itself, with its value or a random one.
    private mutating func duplicateMember(_ body: FuzzJSON, _ locations: [FuzzLocation]) -> FuzzJSON? {
        guard let location = pick(locations.filter(\.isMember)), let index = location.path.last else { return nil }
        var result = body
        let value = rng.chance(0.5) ? location.node : randomValue(depth: 2)
        let before = rng.chance(0.5)
        result.modifyMembers(around: location.path) { members, _ in
            members.insert(FuzzMember(name: members[index].name, value: value), at: before ? index : index + 1)
        }
        return result
    }

    /// ``Mutation/unknownMember``: an object given a member named from the API or at random.
    private mutating func unknownMember(_ body: FuzzJSON, _ locations: [FuzzLocation]) -> FuzzJSON? {
        guard let object = pick(locations.filter { $0.node.kind == .object }) else { return nil }
        let name = rng.chance(0.5) ? rng.pick(Self.vocabulary) : "x" + rng.text(rng.int(0...8))
        let value = randomValue(depth: 2)
        var result = body
        result.modify(at: object.path[...]) { node in
            guard case .object(var members) = node else { return }
            members.append(member(name, value))
            node = .object(members)
        }
        return result
    }

    /// ``Mutation/atLimit``: the first of the ways of reaching a limit, tried in random order, that applies
    /// to `body`.
    private mutating func atLimit(_ body: FuzzJSON, _ locations: [FuzzLocation]) -> FuzzJSON? {
        for choice in (0..<9).shuffled(using: &rng) {
            if let result = atLimit(choice, body, locations) { return result }
        }
        return nil
    }

    /// The `choice`th way of reaching a limit, or nil if `body` has nothing it applies to.
    private mutating func atLimit(_ choice: Int, _ body: FuzzJSON, _ locations: [FuzzLocation]) -> FuzzJSON? {
        switch choice {
        case 0:
            return pick(locations.filter(isPartitionKeyString)).map { Self.keyString(body, $0, bytes: rng.pick([2047, 2048])) }
        case 1:
            return pick(items(locations)).map { Self.longName(body, $0, bytes: rng.pick([65_534, 65_535])) }
        case 2:
            guard let attribute = pick(itemAttributes(locations)) else { return nil }
            return body.replacing(attribute, with: wrapped(stringValue("deep"), levels: rng.int(30...32)))
        case 3:
            guard let name = pick(locations.filter { $0.node.kind == .string && Members.resourceNames.contains($0.name ?? "") }) else { return nil }
            let long = rng.text(255, from: "ab_.-")
            return body.replacing(name, with: .string(rng.pick([long, "abc", "a.-"])))
        case 4:
            guard let expression = pick(locations.filter(isExpression)) else { return nil }
            return Self.paddedExpression(body, expression, to: rng.pick([4095, 4096]))
        case 5:
            return pick(locations.filter(isTimeToLiveAttribute)).map { body.replacing($0, with: .string(rng.text(255))) }
        case 6:
            return pick(locations.filter(isRequestToken)).map { body.replacing($0, with: .string(rng.text(36))) }
        case 7:
            return pick(locations.filter(isTransactionList)).map { transaction(body, $0, overLimit: false) }
        default:
            return pick(locations.filter { batchTable($0) != nil }).flatMap { batch(body, $0, overLimit: false) }
        }
    }

    /// ``Mutation/edgeNumber``: a number attribute value or a JSON number replaced by an edge case.
    private mutating func edgeNumber(_ body: FuzzJSON, _ locations: [FuzzLocation]) -> FuzzJSON? {
        if let location = pick(locations.filter { $0.isAttributeValueContent && $0.name == "N" }), rng.chance(0.7) {
            let text = rng.pick([
                "0", "-0", "0.0", "00012", "1.", ".5", "+1", "1e5", "1E+125", "9.9999999999999999999999999999999999999E+125",
                "1E-130", "-1E-130", digits(38), digits(39), "1" + String(repeating: "0", count: 60), "0x10", "NaN", "Infinity",
                "-Infinity", " 1", "1 ", "", "1e", "--1", "1_000", "١٢٣", "1E+", "0.000000000000000000000000000000000000000001",
            ])
            return body.replacing(location, with: .string(text))
        }
        return pick(locations.filter { $0.node.kind == .number }).map { location in
            body.replacing(location, with: .number(rng.pick([
                "0", "-0", "1", "2147483647", "2147483648", "9223372036854775807", "-9223372036854775808", "1.0", "1.5", "1e2",
                "1E-2", "-1", "100", "101", "1000", "1001",
            ])))
        }
    }

    // MARK: - Building blocks

    /// `body` with the partition key string at `location` replaced by one of `bytes` bytes.
    private static func keyString(_ body: FuzzJSON, _ location: FuzzLocation, bytes: Int) -> FuzzJSON {
        body.replacing(location, with: .quoted([UInt8](repeating: UInt8(ascii: "k"), count: bytes)))
    }

    /// `body` with the item at `location` given an attribute whose name is `bytes` bytes long.
    private static func longName(_ body: FuzzJSON, _ location: FuzzLocation, bytes: Int) -> FuzzJSON {
        let name = [UInt8](repeating: UInt8(ascii: "n"), count: bytes)
        return body.replacing(location, with: location.node.appendingRawMember(name: name, value: stringValue("x")))
    }

    /// `body` with the expression at `location` padded with spaces to `length` bytes.
    private static func paddedExpression(_ body: FuzzJSON, _ location: FuzzLocation, to length: Int) -> FuzzJSON? {
        guard case .string(let bytes) = location.node, bytes.count < length,
            !bytes.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") })
        else { return nil }
        return body.replacing(location, with: .quoted(bytes + [UInt8](repeating: UInt8(ascii: " "), count: length - bytes.count)))
    }

    /// The table of a batch's list of requests at `location` (`RequestItems.<table>.Keys` of BatchGetItem,
    /// `RequestItems.<table>` of BatchWriteItem), if it is one.
    private func batchTable(_ location: FuzzLocation) -> (table: FuzzTable, isWrite: Bool)? {
        guard location.node.kind == .array else { return nil }
        let names = location.names
        let tables = FuzzFixture.dataTables
        if names.count == 2, names[0] == "RequestItems", let table = tables.first(where: { $0.name == names[1] }) {
            return (table, true)
        }
        if names.count == 3, names[0] == "RequestItems", names[2] == "Keys", let table = tables.first(where: { $0.name == names[1] }) {
            return (table, false)
        }
        return nil
    }

    /// `body` with the batch list at `location` holding exactly the most requests DynamoDB allows (25
    /// writes, 100 keys), or one more; the keys are distinct.
    private mutating func batch(_ body: FuzzJSON, _ location: FuzzLocation, overLimit: Bool) -> FuzzJSON? {
        guard let (table, isWrite) = batchTable(location) else { return nil }
        let count = (isWrite ? 25 : 100) + (overLimit ? 1 : 0)
        let requests: [FuzzJSON] = (0..<count).map { index in
            guard isWrite else { return key(table, index) }
            return rng.chance(0.5)
                ? .object(["PutRequest": .object(["Item": key(table, index)])])
                : .object(["DeleteRequest": .object(["Key": key(table, index)])])
        }
        return body.replacing(location, with: .array(requests))
    }

    /// Whether `location` is the attribute name of an UpdateTimeToLive's specification (1 to 255 bytes).
    private func isTimeToLiveAttribute(_ location: FuzzLocation) -> Bool {
        location.node.kind == .string && location.name == "AttributeName" && location.isInside(["TimeToLiveSpecification"])
    }

    /// Whether `location` is a TransactWriteItems' `ClientRequestToken` (1 to 36 characters).
    private func isRequestToken(_ location: FuzzLocation) -> Bool {
        location.node.kind == .string && location.name == "ClientRequestToken"
    }

    /// Whether `location` is the list of a transaction's actions.
    private func isTransactionList(_ location: FuzzLocation) -> Bool {
        location.node.kind == .array && location.name == "TransactItems"
    }

    /// `body` with the transaction's list of actions at `location` holding exactly the most DynamoDB allows
    /// (100), or one more: reads of TransactGetItems (its actions are `Get`s), else puts and deletes, each of
    /// a distinct item of the hash table.
    private mutating func transaction(_ body: FuzzJSON, _ location: FuzzLocation, overLimit: Bool) -> FuzzJSON {
        guard case .array(let actions) = location.node else { return body }
        let isRead = actions.first?.members?.first?.text == "Get"
        let table = FuzzFixture.hashTable
        let list: [FuzzJSON] = (0..<(100 + (overLimit ? 1 : 0))).map { index in
            let tableName = member("TableName", .string(table.name))
            if isRead { return .object(["Get": .object([tableName, member("Key", key(table, index))])]) }
            return rng.chance(0.5)
                ? .object(["Put": .object([tableName, member("Item", key(table, index))])])
                : .object(["Delete": .object([tableName, member("Key", key(table, index))])])
        }
        return body.replacing(location, with: .array(list))
    }

    /// `value` inside `levels` levels of one-member maps and one-element lists.
    private mutating func wrapped(_ value: FuzzJSON, levels: Int) -> FuzzJSON {
        var result = value
        for _ in 0..<levels {
            result = rng.chance(0.5) ? .object(["M": .object(["a": result])]) : .object(["L": .array([result])])
        }
        return result
    }
}
