import Foundation

/// The operations the server answers, each with its `X-Amz-Target`.
enum FuzzOperation: String, CaseIterable, Sendable {
    case putItem = "PutItem", getItem = "GetItem", updateItem = "UpdateItem", deleteItem = "DeleteItem"
    case query = "Query", scan = "Scan", batchGetItem = "BatchGetItem", batchWriteItem = "BatchWriteItem"
    case createTable = "CreateTable", describeTable = "DescribeTable", updateTable = "UpdateTable"
    case deleteTable = "DeleteTable", listTables = "ListTables"
    case listStreams = "ListStreams", describeStream = "DescribeStream", getShardIterator = "GetShardIterator"
    case getRecords = "GetRecords"

    var target: String {
        switch self {
        case .listStreams, .describeStream, .getShardIterator, .getRecords: "DynamoDBStreams_20120810." + rawValue
        default: "DynamoDB_20120810." + rawValue
        }
    }
}

/// A request to send through ``EddyServer/handle(target:body:)``.
struct FuzzRequest: Sendable {
    var target: String?
    var body: [UInt8]
}

/// Placeholders gathered while writing expressions, so that every `#name` and `:value` written is defined
/// once in `ExpressionAttributeNames` / `ExpressionAttributeValues`, and every one defined is used.
struct Placeholders {
    private var names: [(placeholder: String, attribute: String)] = []
    private var values: [(placeholder: String, value: FuzzJSON)] = []

    /// The `#name` standing for `attribute`.
    mutating func name(_ attribute: String) -> String {
        if let known = names.first(where: { $0.attribute == attribute }) { return known.placeholder }
        names.append(("#n\(names.count)", attribute))
        return names[names.count - 1].placeholder
    }

    /// A new `:value` standing for `value`.
    mutating func value(_ value: FuzzJSON) -> String {
        values.append((":v\(values.count)", value))
        return values[values.count - 1].placeholder
    }

    /// The `ExpressionAttributeNames` and `ExpressionAttributeValues` members, for those not empty.
    var members: [FuzzMember] {
        var members: [FuzzMember] = []
        if !names.isEmpty {
            members.append(member("ExpressionAttributeNames", .object(names.map { FuzzMember(name: Array($0.placeholder.utf8), value: .string($0.attribute)) })))
        }
        if !values.isEmpty {
            members.append(member("ExpressionAttributeValues", .object(values.map { FuzzMember(name: Array($0.placeholder.utf8), value: $0.value) })))
        }
        return members
    }
}

/// The member `name`: `value`.
func member(_ name: String, _ value: FuzzJSON) -> FuzzMember {
    FuzzMember(name: Array(name.utf8), value: value)
}

// MARK: - Attribute values

/// `{"S": text}`.
func stringValue(_ text: String) -> FuzzJSON { .object(["S": .string(text)]) }

/// `{"N": text}`.
func numberValue(_ text: String) -> FuzzJSON { .object(["N": .string(text)]) }

extension Fuzzer {
    /// A valid number's text: integers, decimals, exponents, 38 significant digits, the extremes.
    mutating func numberText() -> String {
        rng.pick([
            String(rng.int(-1000...1000)), "3.25", "-0.000001", "1E+3", "0",
            "12345678901234567890123456789012345678", "9.9999999999999999999999999999999999999E+125", "1E-130",
        ])
    }

    /// A valid attribute value of any of DynamoDB's ten types, nesting at most `depth` more levels.
    mutating func attributeValue(depth: Int = 2) -> FuzzJSON {
        switch rng.int(0...(depth > 0 ? 9 : 7)) {
        case 0: return stringValue(rng.unicodeText(rng.int(0...12)))
        case 1: return numberValue(numberText())
        case 2: return .object(["B": .string(Data(rng.bytes(rng.int(0...12))).base64EncodedString())])
        case 3: return .object(["BOOL": .bool(rng.chance(0.5))])
        case 4: return .object(["NULL": true])
        case 5: return .object(["SS": .array((0..<rng.int(1...4)).map { .string("s\($0)") })])
        case 6: return .object(["NS": .array((0..<rng.int(1...4)).map { .string(String($0 * 7 - 3)) })])
        case 7: return .object(["BS": .array((0..<rng.int(1...3)).map { .string(Data([UInt8($0)]).base64EncodedString()) })])
        case 8:
            let members = (0..<rng.int(0...3)).map { member("m\($0)", attributeValue(depth: depth - 1)) }
            return .object(["M": .object(members)])
        default:
            return .object(["L": .array((0..<rng.int(0...3)).map { _ in attributeValue(depth: depth - 1) })])
        }
    }

    /// The key of item `index` of `table`: `pk` a string, and on the range table `sk` a number.
    func key(_ table: FuzzTable, _ index: Int) -> FuzzJSON {
        .object(keyMembers(table, index))
    }

    private func keyMembers(_ table: FuzzTable, _ index: Int) -> [FuzzMember] {
        guard table.hasSortKey else { return [member("pk", stringValue("h\(index)"))] }
        return [member("pk", stringValue("r\(index % 5)")), member("sk", numberValue(String(index)))]
    }

    /// Item `index` of `table`: its key and a random choice of other attributes.
    mutating func item(_ table: FuzzTable, _ index: Int) -> FuzzJSON {
        var members = keyMembers(table, index)
        for name in FuzzFixture.attributeNames where rng.chance(0.5) {
            members.append(member(name, attributeValue()))
        }
        return .object(members)
    }

    /// A random table of the two holding the data set.
    mutating func dataTable() -> FuzzTable {
        rng.pick([FuzzFixture.hashTable, FuzzFixture.rangeTable])
    }

    /// An item index: mostly one of the data set's, sometimes one with no item.
    mutating func itemIndex() -> Int {
        rng.int(0...(FuzzFixture.itemsPerTable + 5))
    }
}

// MARK: - Requests

extension Fuzzer {
    /// A valid request body for `operation` over the fixture's tables.
    mutating func validBody(_ operation: FuzzOperation) -> FuzzJSON {
        switch operation {
        case .putItem: putItem()
        case .getItem: getItem()
        case .updateItem: updateItem()
        case .deleteItem: deleteItem()
        case .query: query()
        case .scan: scan()
        case .batchGetItem: batchGetItem()
        case .batchWriteItem: batchWriteItem()
        case .createTable: createTable(named: createTableName())
        case .describeTable: .object(["TableName": .string(dataTable().name)])
        case .updateTable: updateTable()
        case .deleteTable: .object(["TableName": .string(changedTableName())])
        case .listTables: listTables()
        case .listStreams: listStreams()
        case .describeStream: describeStream()
        case .getShardIterator: getShardIterator()
        case .getRecords: getRecords()
        }
    }

    /// PutItem of an item, maybe with a condition (expression or legacy `Expected`) and `ReturnValues`.
    private mutating func putItem() -> FuzzJSON {
        let table = dataTable()
        var members = [member("TableName", .string(table.name)), member("Item", item(table, itemIndex()))]
        switch rng.int(0...2) {
        case 0:
            var placeholders = Placeholders()
            let expression = "attribute_not_exists(\(placeholders.name("pk"))) OR \(placeholders.name("age")) < \(placeholders.value(numberValue("100")))"
            members.append(member("ConditionExpression", .string(expression)))
            members += placeholders.members
            members.append(member("ReturnValuesOnConditionCheckFailure", rng.pick(["ALL_OLD", "NONE"])))
        case 1:
            members.append(member("Expected", .object(["age": .object(["ComparisonOperator": "LT", "AttributeValueList": .array([numberValue("100")])])])))
        default:
            break
        }
        if rng.chance(0.5) { members.append(member("ReturnValues", rng.pick(["ALL_OLD", "NONE"]))) }
        return .object(members)
    }

    /// GetItem of a key, maybe projected (expression or legacy `AttributesToGet`) and consistent.
    private mutating func getItem() -> FuzzJSON {
        let table = dataTable()
        var members = [member("TableName", .string(table.name)), member("Key", key(table, itemIndex()))]
        switch rng.int(0...2) {
        case 0:
            var placeholders = Placeholders()
            members.append(member("ProjectionExpression", .string("\(placeholders.name("age")), profile.city, tags[0], m0")))
            members += placeholders.members
        case 1:
            members.append(member("AttributesToGet", .array(["age", "name", "tags"])))
        default:
            break
        }
        if rng.chance(0.5) { members.append(member("ConsistentRead", .bool(rng.chance(0.5)))) }
        return .object(members)
    }

    /// UpdateItem of a key by an update expression (maybe with a condition) or legacy `AttributeUpdates`.
    private mutating func updateItem() -> FuzzJSON {
        let table = dataTable()
        var members = [member("TableName", .string(table.name)), member("Key", key(table, itemIndex()))]
        if rng.chance(0.7) {
            var placeholders = Placeholders()
            let update = "SET \(placeholders.name("age")) = \(placeholders.value(numberValue(numberText()))), "
                + "\(placeholders.name("name")) = if_not_exists(\(placeholders.name("name")), \(placeholders.value(attributeValue()))) "
                + "ADD visits \(placeholders.value(numberValue("1"))) REMOVE nothing"
            members.append(member("UpdateExpression", .string(update)))
            if rng.chance(0.4) {
                members.append(member("ConditionExpression", .string("attribute_exists(\(placeholders.name("pk")))")))
            }
            members += placeholders.members
        } else {
            members.append(member("AttributeUpdates", .object([
                "age": .object(["Action": "PUT", "Value": numberValue(numberText())]),
                "tags": .object(["Action": "ADD", "Value": .object(["SS": .array(["added"])])]),
                "nothing": .object(["Action": "DELETE"]),
            ])))
        }
        if rng.chance(0.5) { members.append(member("ReturnValues", rng.pick(["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"]))) }
        return .object(members)
    }

    /// DeleteItem of a key, maybe with a condition and `ReturnValues`.
    private mutating func deleteItem() -> FuzzJSON {
        let table = dataTable()
        var members = [member("TableName", .string(table.name)), member("Key", key(table, itemIndex()))]
        if rng.chance(0.5) {
            var placeholders = Placeholders()
            members.append(member("ConditionExpression", .string("attribute_exists(\(placeholders.name("age"))) AND size(tags) > \(placeholders.value(numberValue("0")))")))
            members += placeholders.members
        }
        if rng.chance(0.5) { members.append(member("ReturnValues", rng.pick(["ALL_OLD", "NONE"]))) }
        return .object(members)
    }

    /// Query of a partition by a key condition expression or legacy `KeyConditions`, maybe filtered.
    private mutating func query() -> FuzzJSON {
        let table = dataTable()
        let partition = table.hasSortKey ? "r\(rng.int(0...5))" : "h\(itemIndex())"
        var members = [member("TableName", .string(table.name))]
        var placeholders = Placeholders()
        if rng.chance(0.7) {
            var condition = "\(placeholders.name("pk")) = \(placeholders.value(stringValue(partition)))"
            if table.hasSortKey, rng.chance(0.7) {
                condition += " AND \(placeholders.name("sk")) BETWEEN \(placeholders.value(numberValue("3"))) AND \(placeholders.value(numberValue("20")))"
            }
            members.append(member("KeyConditionExpression", .string(condition)))
            if rng.chance(0.4) {
                members.append(member("FilterExpression", .string("attribute_exists(\(placeholders.name("age"))) OR contains(tags, \(placeholders.value(stringValue("s1"))))")))
            }
        } else {
            var conditions = [member("pk", .object(["ComparisonOperator": "EQ", "AttributeValueList": .array([stringValue(partition)])]))]
            if table.hasSortKey, rng.chance(0.7) {
                conditions.append(member("sk", .object(["ComparisonOperator": "GT", "AttributeValueList": .array([numberValue("4")])])))
            }
            members.append(member("KeyConditions", .object(conditions)))
        }
        members += placeholders.members
        members += readOptions(table)
        if rng.chance(0.3) { members.append(member("ScanIndexForward", .bool(rng.chance(0.5)))) }
        return .object(members)
    }

    /// Scan, maybe filtered (expression or legacy `ScanFilter`) and parallel.
    private mutating func scan() -> FuzzJSON {
        let table = dataTable()
        var members = [member("TableName", .string(table.name))]
        switch rng.int(0...2) {
        case 0:
            var placeholders = Placeholders()
            let age = placeholders.name("age"), name = placeholders.name("name")
            let filter = "\(age) > \(placeholders.value(numberValue("0"))) OR begins_with(\(name), \(placeholders.value(stringValue("a"))))"
            members.append(member("FilterExpression", .string(filter)))
            members += placeholders.members
        case 1:
            members.append(member("ScanFilter", .object(["age": .object(["ComparisonOperator": "GT", "AttributeValueList": .array([numberValue("0")])])])))
        default:
            break
        }
        if rng.chance(0.3) {
            let total = rng.int(1...4)
            members += [member("Segment", .number(String(rng.int(0...(total - 1))))), member("TotalSegments", .number(String(total)))]
        }
        members += readOptions(table)
        return .object(members)
    }

    /// The options Query and Scan share: limit, start key, select, consistency.
    private mutating func readOptions(_ table: FuzzTable) -> [FuzzMember] {
        var members: [FuzzMember] = []
        if rng.chance(0.4) { members.append(member("Limit", .number(String(rng.int(1...10))))) }
        if rng.chance(0.2) { members.append(member("ExclusiveStartKey", key(table, itemIndex()))) }
        if rng.chance(0.2) { members.append(member("Select", rng.pick(["ALL_ATTRIBUTES", "COUNT"]))) }
        if rng.chance(0.2) { members.append(member("ConsistentRead", .bool(rng.chance(0.5)))) }
        return members
    }

    /// BatchGetItem of a few consecutive keys from one or both tables.
    private mutating func batchGetItem() -> FuzzJSON {
        var tables: [FuzzMember] = []
        for table in [FuzzFixture.hashTable, FuzzFixture.rangeTable] where tables.isEmpty || rng.chance(0.5) {
            let start = itemIndex()
            var members = [member("Keys", .array((start..<(start + rng.int(1...4))).map { key(table, $0) }))]
            if rng.chance(0.4) {
                var placeholders = Placeholders()
                members.append(member("ProjectionExpression", .string("pk, \(placeholders.name("name")), profile")))
                members += placeholders.members
            }
            if rng.chance(0.3) { members.append(member("ConsistentRead", true)) }
            tables.append(member(table.name, .object(members)))
        }
        return .object(["RequestItems": .object(tables)])
    }

    /// BatchWriteItem of puts and deletes of a few consecutive keys in one or both tables.
    private mutating func batchWriteItem() -> FuzzJSON {
        var tables: [FuzzMember] = []
        for table in [FuzzFixture.hashTable, FuzzFixture.rangeTable] where tables.isEmpty || rng.chance(0.5) {
            let start = itemIndex()
            let requests: [FuzzJSON] = (start..<(start + rng.int(1...4))).map { index in
                rng.chance(0.6)
                    ? .object(["PutRequest": .object(["Item": item(table, index)])])
                    : .object(["DeleteRequest": .object(["Key": key(table, index)])])
            }
            tables.append(member(table.name, .array(requests)))
        }
        return .object(["RequestItems": .object(tables)])
    }

    /// A CreateTable request for `name`: hash or hash and range key, on demand or provisioned, maybe a stream.
    mutating func createTable(named name: String) -> FuzzJSON {
        var schema: [FuzzJSON] = [.object(["AttributeName": "id", "KeyType": "HASH"])]
        var definitions: [FuzzJSON] = [.object(["AttributeName": "id", "AttributeType": .string(rng.pick(["S", "N", "B"]))])]
        if rng.chance(0.5) {
            schema.append(.object(["AttributeName": "at", "KeyType": "RANGE"]))
            definitions.append(.object(["AttributeName": "at", "AttributeType": .string(rng.pick(["S", "N", "B"]))]))
        }
        var members = [member("TableName", .string(name)), member("KeySchema", .array(schema)), member("AttributeDefinitions", .array(definitions))]
        if rng.chance(0.5) {
            members.append(member("BillingMode", "PAY_PER_REQUEST"))
        } else {
            members.append(member("ProvisionedThroughput", .object(["ReadCapacityUnits": 5, "WriteCapacityUnits": 5])))
        }
        if rng.chance(0.5) {
            members.append(member("StreamSpecification", .object(["StreamEnabled": true, "StreamViewType": .string(rng.pick(["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"]))])))
        }
        if rng.chance(0.3) { members.append(member("TableClass", rng.pick(["STANDARD", "STANDARD_INFREQUENT_ACCESS"]))) }
        return .object(members)
    }

    /// UpdateTable changing one setting: billing, deletion protection, table class or stream.
    private mutating func updateTable() -> FuzzJSON {
        var members = [member("TableName", .string(changedTableName()))]
        switch rng.int(0...3) {
        case 0: members.append(member("BillingMode", "PAY_PER_REQUEST"))
        case 1: members.append(member("DeletionProtectionEnabled", false))
        case 2: members.append(member("TableClass", rng.pick(["STANDARD", "STANDARD_INFREQUENT_ACCESS"])))
        default:
            let enabled = rng.chance(0.5)
            members.append(member("StreamSpecification", enabled ? .object(["StreamEnabled": true, "StreamViewType": "NEW_IMAGE"]) : .object(["StreamEnabled": false])))
        }
        return .object(members)
    }

    /// ListTables, maybe limited and from a start table.
    private mutating func listTables() -> FuzzJSON {
        var members: [FuzzMember] = []
        if rng.chance(0.5) { members.append(member("Limit", .number(String(rng.int(1...100))))) }
        if rng.chance(0.3) { members.append(member("ExclusiveStartTableName", .string(dataTable().name))) }
        return .object(members)
    }

    /// ListStreams of all tables or one, maybe limited.
    private mutating func listStreams() -> FuzzJSON {
        var members: [FuzzMember] = []
        if rng.chance(0.5) { members.append(member("TableName", .string(dataTable().name))) }
        if rng.chance(0.5) { members.append(member("Limit", .number(String(rng.int(1...100))))) }
        return .object(members)
    }

    /// DescribeStream of the range table's stream, maybe limited and from a start shard.
    private mutating func describeStream() -> FuzzJSON {
        var members = [member("StreamArn", .string(fixture.streamArn))]
        if rng.chance(0.4) { members.append(member("Limit", .number(String(rng.int(1...100))))) }
        if rng.chance(0.3) { members.append(member("ExclusiveStartShardId", .string(rng.pick(fixture.shards).id))) }
        return .object(members)
    }

    /// GetShardIterator at the horizon, the latest record, or at or after a known sequence number.
    private mutating func getShardIterator() -> FuzzJSON {
        let shard = rng.pick(fixture.shards)
        var members = [member("StreamArn", .string(fixture.streamArn)), member("ShardId", .string(shard.id))]
        if let sequenceNumber = shard.sequenceNumbers.randomElement(using: &rng), rng.chance(0.5) {
            members.append(member("ShardIteratorType", rng.pick(["AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"])))
            members.append(member("SequenceNumber", .string(sequenceNumber)))
        } else {
            members.append(member("ShardIteratorType", rng.pick(["TRIM_HORIZON", "LATEST"])))
        }
        return .object(members)
    }

    /// GetRecords at one of the fixture's iterators, mostly limited to keep responses small.
    private mutating func getRecords() -> FuzzJSON {
        var members = [member("ShardIterator", .string(rng.pick(fixture.shards).iterator))]
        if rng.chance(0.9) { members.append(member("Limit", .number(String(rng.int(1...100))))) }
        return .object(members)
    }
}
