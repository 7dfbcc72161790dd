import Foundation

/// The operations the fuzzer has a valid-request generator for, each with its `X-Amz-Target`. Which of them
/// it sends is the server's own operation table's business (``Fuzzer/operations``); `FuzzTests` fails if the
/// server serves one that is not here.
enum FuzzOperation: String, CaseIterable, Sendable {
    case putItem = "PutItem", getItem = "GetItem", updateItem = "UpdateItem", deleteItem = "DeleteItem"
    case query = "Query", scan = "Scan", batchGetItem = "BatchGetItem", batchWriteItem = "BatchWriteItem"
    case transactWriteItems = "TransactWriteItems", transactGetItems = "TransactGetItems"
    case createTable = "CreateTable", describeTable = "DescribeTable", updateTable = "UpdateTable"
    case deleteTable = "DeleteTable", listTables = "ListTables"
    case updateTimeToLive = "UpdateTimeToLive", describeTimeToLive = "DescribeTimeToLive"
    case listStreams = "ListStreams", describeStream = "DescribeStream", getShardIterator = "GetShardIterator"
    case getRecords = "GetRecords"
    case tagResource = "TagResource", untagResource = "UntagResource", listTagsOfResource = "ListTagsOfResource"
    case describeContinuousBackups = "DescribeContinuousBackups", updateContinuousBackups = "UpdateContinuousBackups"
    case describeLimits = "DescribeLimits", describeEndpoints = "DescribeEndpoints"
    case updateContributorInsights = "UpdateContributorInsights", describeContributorInsights = "DescribeContributorInsights"
    case listContributorInsights = "ListContributorInsights"

    /// The operation whose `X-Amz-Target` is `target`, if the fuzzer has a generator for it.
    init?(target: String) {
        guard let operation = Self.allCases.first(where: { $0.target == target }) else { return nil }
        self = operation
    }

    var target: String {
        switch self {
        case .listStreams, .describeStream, .getShardIterator, .getRecords: "DynamoDBStreams_20120810." + rawValue
        default: "DynamoDB_20120810." + rawValue
        }
    }

    /// Whether the operation may change the database: an item, a table or its settings.
    var writes: Bool {
        switch self {
        case .putItem, .updateItem, .deleteItem, .batchWriteItem, .transactWriteItems, .createTable, .updateTable, .deleteTable,
            .updateTimeToLive, .tagResource, .untagResource, .updateContributorInsights:
            true
        case .getItem, .query, .scan, .batchGetItem, .transactGetItems, .describeTable, .listTables, .describeTimeToLive, .listStreams,
            .describeStream, .getShardIterator, .getRecords, .listTagsOfResource, .describeContinuousBackups, .updateContinuousBackups,
            .describeLimits, .describeEndpoints, .describeContributorInsights, .listContributorInsights:
            false
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

    /// Item `index` of `table`: its key, a random choice of other attributes, and most of the time the
    /// attributes of the indexes' keys, so that most items have index entries.
    mutating func item(_ table: FuzzTable, _ index: Int) -> FuzzJSON {
        var members = keyMembers(table, index)
        for name in FuzzFixture.attributeNames where rng.chance(0.5) {
            members.append(member(name, attributeValue()))
        }
        for (name, value) in indexKeyMembers(index) where rng.chance(0.8) {
            members.append(member(name, value))
        }
        return .object(members)
    }

    /// The index key attributes item `index` has when it has them: a group `gpk` (one of 4) with a number
    /// `gsk`, and a label `lsk` (one of 6).
    private func indexKeyMembers(_ index: Int) -> KeyValuePairs<String, FuzzJSON> {
        ["gpk": stringValue("g\(index % 4)"), "gsk": numberValue(String(index)), "lsk": stringValue("l\(index % 6)")]
    }

    /// The key of the entry of item `index` in `index` of `table`, as an `ExclusiveStartKey` of a Query or
    /// Scan of the index names it: the index's key attributes and the table's.
    func indexKey(_ table: FuzzTable, _ index: FuzzIndex, _ item: Int) -> FuzzJSON {
        var members = keyMembers(table, item)
        for (name, value) in indexKeyMembers(item) where index.keyAttributes.contains(name) {
            members.append(member(name, value))
        }
        return .object(members)
    }

    /// A random table of the two holding the data set.
    mutating func dataTable() -> FuzzTable {
        rng.pick(FuzzFixture.dataTables)
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
        case .transactWriteItems: transactWriteItems()
        case .transactGetItems: transactGetItems()
        case .createTable: createTable(named: createTableName())
        case .describeTable: .object(["TableName": .string(dataTable().name)])
        case .updateTable: updateTable()
        case .deleteTable: .object(["TableName": .string(changedTableName())])
        case .listTables: listTables()
        case .updateTimeToLive: updateTimeToLive()
        case .describeTimeToLive: .object(["TableName": .string(timeToLiveTableName())])
        case .listStreams: listStreams()
        case .describeStream: describeStream()
        case .getShardIterator: getShardIterator()
        case .getRecords: getRecords()
        case .tagResource: tagResource()
        case .untagResource: untagResource()
        case .listTagsOfResource: listTagsOfResource()
        case .describeContinuousBackups: .object(["TableName": .string(dataTable().name)])
        case .updateContinuousBackups: updateContinuousBackups()
        case .describeLimits, .describeEndpoints: .object([])
        case .updateContributorInsights: updateContributorInsights()
        case .describeContributorInsights: .object(["TableName": .string(dataTable().name)])
        case .listContributorInsights: rng.chance(0.5) ? .object([]) : .object(["TableName": .string(dataTable().name)])
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
        members += itemCollectionMetrics()
        return .object(members)
    }

    /// Maybe `ReturnItemCollectionMetrics`, which writes to a table with a local secondary index answer.
    private mutating func itemCollectionMetrics() -> [FuzzMember] {
        rng.chance(0.3) ? [member("ReturnItemCollectionMetrics", rng.pick(["SIZE", "NONE"]))] : []
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
            var update = "SET \(placeholders.name("age")) = \(placeholders.value(numberValue(numberText()))), "
                + "\(placeholders.name("name")) = if_not_exists(\(placeholders.name("name")), \(placeholders.value(attributeValue())))"
            // Moves the item in, out of or within the indexes.
            if rng.chance(0.3) { update += ", gpk = \(placeholders.value(stringValue("g\(rng.int(0...4))")))" }
            if rng.chance(0.3) { update += ", lsk = \(placeholders.value(stringValue("l\(rng.int(0...6))")))" }
            update += " ADD visits \(placeholders.value(numberValue("1"))) REMOVE nothing"
            if rng.chance(0.2) { update += ", gsk" }
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
        members += itemCollectionMetrics()
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
        members += itemCollectionMetrics()
        return .object(members)
    }

    /// Query of a partition of a table or of one of its indexes, by a key condition expression or legacy
    /// `KeyConditions`, maybe filtered.
    private mutating func query() -> FuzzJSON {
        let table = dataTable()
        let index = rng.chance(0.4) ? rng.pick(table.indexes) : nil
        let partitionKey = index?.partitionKey ?? "pk"
        let sortKey = index == nil ? (table.hasSortKey ? "sk" : nil) : index?.sortKey
        let partition = switch partitionKey {
        case "gpk": "g\(rng.int(0...4))"
        default: table.hasSortKey ? "r\(rng.int(0...5))" : "h\(itemIndex())"
        }
        var members = [member("TableName", .string(table.name))]
        if let index { members.append(member("IndexName", .string(index.name))) }
        var placeholders = Placeholders()
        if rng.chance(0.7) {
            var condition = "\(placeholders.name(partitionKey)) = \(placeholders.value(stringValue(partition)))"
            if let sortKey, rng.chance(0.7) {
                let name = placeholders.name(sortKey)
                condition += sortKey == "lsk"
                    ? " AND begins_with(\(name), \(placeholders.value(stringValue("l"))))"
                    : " AND \(name) BETWEEN \(placeholders.value(numberValue("3"))) AND \(placeholders.value(numberValue("20")))"
            }
            members.append(member("KeyConditionExpression", .string(condition)))
            if rng.chance(0.4) {
                members.append(member("FilterExpression", .string("attribute_exists(\(placeholders.name("age"))) OR contains(tags, \(placeholders.value(stringValue("s1"))))")))
            }
        } else {
            var conditions = [member(partitionKey, .object(["ComparisonOperator": "EQ", "AttributeValueList": .array([stringValue(partition)])]))]
            if let sortKey, rng.chance(0.7) {
                let condition: FuzzJSON = sortKey == "lsk"
                    ? .object(["ComparisonOperator": "BEGINS_WITH", "AttributeValueList": .array([stringValue("l")])])
                    : .object(["ComparisonOperator": "GT", "AttributeValueList": .array([numberValue("4")])])
                conditions.append(member(sortKey, condition))
            }
            members.append(member("KeyConditions", .object(conditions)))
        }
        members += placeholders.members
        members += readOptions(table, index)
        if rng.chance(0.3) { members.append(member("ScanIndexForward", .bool(rng.chance(0.5)))) }
        return .object(members)
    }

    /// Scan of a table or of one of its indexes, maybe filtered (expression or legacy `ScanFilter`) and
    /// parallel.
    private mutating func scan() -> FuzzJSON {
        let table = dataTable()
        let index = rng.chance(0.4) ? rng.pick(table.indexes) : nil
        var members = [member("TableName", .string(table.name))]
        if let index { members.append(member("IndexName", .string(index.name))) }
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
        members += readOptions(table, index)
        return .object(members)
    }

    /// The options Query and Scan of `table`, or of its `index`, share: limit, start key, what to return
    /// (`Select` or a projection), consistency. What an index allows: `ALL_PROJECTED_ATTRIBUTES`;
    /// `ALL_ATTRIBUTES` only if it projects every attribute or is local; a consistent read only if local.
    private mutating func readOptions(_ table: FuzzTable, _ index: FuzzIndex?) -> [FuzzMember] {
        var members: [FuzzMember] = []
        if rng.chance(0.4) { members.append(member("Limit", .number(String(rng.int(1...10))))) }
        if rng.chance(0.2) {
            members.append(member("ExclusiveStartKey", index.map { indexKey(table, $0, itemIndex()) } ?? key(table, itemIndex())))
        }
        switch rng.int(0...9) {
        case 0..<2:
            var choices = ["COUNT"]
            if index?.readsAllAttributes ?? true { choices.append("ALL_ATTRIBUTES") }
            if index != nil { choices.append("ALL_PROJECTED_ATTRIBUTES") }
            members.append(member("Select", .string(rng.pick(choices))))
        case 2:
            // Key attributes only: every index projects them.
            var names = ["pk"]
            for name in index?.keyAttributes ?? [] where !names.contains(name) { names.append(name) }
            members.append(member("ProjectionExpression", .string(names.joined(separator: ", "))))
            if rng.chance(0.5) { members.append(member("Select", "SPECIFIC_ATTRIBUTES")) }
        default:
            break
        }
        if rng.chance(0.2) { members.append(member("ConsistentRead", .bool(index?.isGlobal != true && rng.chance(0.5)))) }
        return members
    }

    /// BatchGetItem of a few consecutive keys from one or both tables.
    private mutating func batchGetItem() -> FuzzJSON {
        var tables: [FuzzMember] = []
        for table in FuzzFixture.dataTables where tables.isEmpty || rng.chance(0.5) {
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
        for table in FuzzFixture.dataTables where tables.isEmpty || rng.chance(0.5) {
            let start = itemIndex()
            let requests: [FuzzJSON] = (start..<(start + rng.int(1...4))).map { index in
                rng.chance(0.6)
                    ? .object(["PutRequest": .object(["Item": item(table, index)])])
                    : .object(["DeleteRequest": .object(["Key": key(table, index)])])
            }
            tables.append(member(table.name, .array(requests)))
        }
        return .object([member("RequestItems", .object(tables))] + itemCollectionMetrics())
    }

    /// A CreateTable request for `name`: hash or hash and range key, on demand or provisioned, maybe global
    /// and local secondary indexes (from ``poolIndexes``) and a stream.
    mutating func createTable(named name: String) -> FuzzJSON {
        var schema: [FuzzJSON] = [.object(["AttributeName": "id", "KeyType": "HASH"])]
        var definitions: [FuzzJSON] = [.object(["AttributeName": "id", "AttributeType": .string(rng.pick(["S", "N", "B"]))])]
        if rng.chance(0.5) {
            schema.append(.object(["AttributeName": "at", "KeyType": "RANGE"]))
            definitions.append(.object(["AttributeName": "at", "AttributeType": .string(rng.pick(["S", "N", "B"]))]))
        }
        let provisioned = rng.chance(0.5)
        let globals = Self.poolIndexes.filter { $0.isGlobal && rng.chance(0.3) }
        let locals = schema.count == 2 ? Self.poolIndexes.filter { !$0.isGlobal && rng.chance(0.3) } : []
        let indexKeys = Set((globals + locals).flatMap(\.keyAttributes))
        for (attribute, type) in Self.poolIndexKeyTypes where indexKeys.contains(attribute) {
            definitions.append(.object(["AttributeName": .string(attribute), "AttributeType": .string(type)]))
        }
        var members = [member("TableName", .string(name)), member("KeySchema", .array(schema)), member("AttributeDefinitions", .array(definitions))]
        if provisioned {
            members.append(member("ProvisionedThroughput", Self.throughput))
        } else {
            members.append(member("BillingMode", "PAY_PER_REQUEST"))
        }
        if !globals.isEmpty {
            members.append(member("GlobalSecondaryIndexes", .array(globals.map { provisioned ? Self.withThroughput($0.definition) : $0.definition })))
        }
        if !locals.isEmpty { members.append(member("LocalSecondaryIndexes", .array(locals.map(\.definition)))) }
        if rng.chance(0.5) {
            members.append(member("StreamSpecification", .object(["StreamEnabled": true, "StreamViewType": .string(rng.pick(["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"]))])))
        }
        if rng.chance(0.3) { members.append(member("TableClass", rng.pick(["STANDARD", "STANDARD_INFREQUENT_ACCESS"]))) }
        return .object(members)
    }

    /// The indexes a pool table may have: created with it, or added and removed by UpdateTable. The pool
    /// tables' partition key is `id`.
    static let poolIndexes = [
        FuzzIndex(name: "PoolG0", isGlobal: true, partitionKey: "g0", sortKey: "g1", projectionType: "ALL"),
        FuzzIndex(name: "PoolG1", isGlobal: true, partitionKey: "g1", projectionType: "INCLUDE", nonKeyAttributes: ["name"]),
        FuzzIndex(name: "PoolL0", isGlobal: false, partitionKey: "id", sortKey: "l0", projectionType: "KEYS_ONLY"),
    ]
    /// The types of the pool indexes' key attributes, always the same so that the indexes of one table agree.
    static let poolIndexKeyTypes: KeyValuePairs<String, String> = ["g0": "S", "g1": "N", "l0": "S"]
    /// An index UpdateTable may add to a data table.
    static let extraIndex = FuzzIndex(name: "ByExtra", isGlobal: true, partitionKey: "xk", projectionType: "KEYS_ONLY")

    /// Five read and five write capacity units.
    private static let throughput: FuzzJSON = .object(["ReadCapacityUnits": 5, "WriteCapacityUnits": 5])

    /// An index definition with ``throughput``, as a provisioned table's global indexes need.
    private static func withThroughput(_ definition: FuzzJSON) -> FuzzJSON {
        .object((definition.members ?? []) + [member("ProvisionedThroughput", throughput)])
    }

    /// UpdateTable changing one setting (billing, deletion protection, table class or stream) or one global
    /// secondary index (created, deleted or given another throughput). A pool table's indexes are the pool
    /// indexes; a data table may gain ``extraIndex`` and lose or change its own.
    private mutating func updateTable() -> FuzzJSON {
        let name = changedTableName()
        let isPool = FuzzFixture.poolTableNames.contains(name)
        let globals = (isPool ? Self.poolIndexes : FuzzFixture.rangeTable.indexes).filter(\.isGlobal)
        var members = [member("TableName", .string(name))]
        switch rng.int(0...6) {
        case 0:
            if rng.chance(0.5) {
                members.append(member("BillingMode", "PAY_PER_REQUEST"))
            } else {
                members += [member("BillingMode", "PROVISIONED"), member("ProvisionedThroughput", Self.throughput)]
            }
        case 1: members.append(member("DeletionProtectionEnabled", false))
        case 2: members.append(member("TableClass", rng.pick(["STANDARD", "STANDARD_INFREQUENT_ACCESS"])))
        case 3:
            let enabled = rng.chance(0.5)
            members.append(member("StreamSpecification", enabled ? .object(["StreamEnabled": true, "StreamViewType": "NEW_IMAGE"]) : .object(["StreamEnabled": false])))
        case 4:
            let index = isPool ? rng.pick(globals) : Self.extraIndex
            let keyTypes: KeyValuePairs<String, String> = isPool ? Self.poolIndexKeyTypes : ["xk": "S"]
            let definitions = keyTypes.filter { index.keyAttributes.contains($0.key) }
            members.append(member("AttributeDefinitions", .array(definitions.map { .object(["AttributeName": .string($0.key), "AttributeType": .string($0.value)]) })))
            let create = rng.chance(0.5) ? Self.withThroughput(index.definition) : index.definition
            members.append(member("GlobalSecondaryIndexUpdates", .array([.object(["Create": create])])))
        case 5:
            members.append(member("GlobalSecondaryIndexUpdates", .array([.object(["Delete": .object(["IndexName": .string(rng.pick(globals).name)])])])))
        default:
            let update: FuzzJSON = .object(["IndexName": .string(rng.pick(globals).name), "ProvisionedThroughput": .object(["ReadCapacityUnits": .number(String(rng.int(1...20))), "WriteCapacityUnits": 5])])
            members.append(member("GlobalSecondaryIndexUpdates", .array([.object(["Update": update])])))
        }
        return .object(members)
    }

    /// UpdateTimeToLive enabling or disabling Time to Live on one of a few attributes. It may change a
    /// table's setting once an hour, so it succeeds on pool tables created since.
    private mutating func updateTimeToLive() -> FuzzJSON {
        .object([
            "TableName": .string(timeToLiveTableName()),
            "TimeToLiveSpecification": .object(["Enabled": .bool(rng.chance(0.7)), "AttributeName": .string(rng.pick(["expiresAt", "ttl", "age"]))]),
        ])
    }

    /// The tag keys the fuzzer sets and removes: few enough that no table reaches DynamoDB's 50 tags.
    private static let tagKeys = ["team", "env", "cost centre", "a+b=c/d", "ключ"]

    /// TagResource of one to three tags on a table the fuzzer's scope aims tags at.
    private mutating func tagResource() -> FuzzJSON {
        let keys = Self.tagKeys.shuffled(using: &rng).prefix(rng.int(1...3))
        let tags = keys.map { FuzzJSON.object(["Key": .string($0), "Value": .string(rng.pick(["", "payments", "v 1.2"]))]) }
        return .object(["ResourceArn": .string(taggedTableArn()), "Tags": .array(tags)])
    }

    /// UntagResource of one to three keys, set or not.
    private mutating func untagResource() -> FuzzJSON {
        let keys = Self.tagKeys.shuffled(using: &rng).prefix(rng.int(1...3))
        return .object(["ResourceArn": .string(taggedTableArn()), "TagKeys": .array(keys.map { .string($0) })])
    }

    /// ListTagsOfResource from the start or after one of the keys.
    private mutating func listTagsOfResource() -> FuzzJSON {
        var members = [member("ResourceArn", .string(taggedTableArn()))]
        if rng.chance(0.3) { members.append(member("NextToken", .string(rng.pick(Self.tagKeys)))) }
        return .object(members)
    }

    /// The ARN of the table the tagging operations name: a data table, and when only invalid requests are
    /// wanted sometimes one that does not exist (as ``changedTableName()``).
    private mutating func taggedTableArn() -> String {
        let name = scope == .invalidOnly ? changedTableName() : dataTable().name
        return "arn:aws:dynamodb:us-east-1:000000000000:table/\(name)"
    }

    /// UpdateContinuousBackups turning point-in-time recovery off (answered) or, sometimes, on (refused).
    private mutating func updateContinuousBackups() -> FuzzJSON {
        .object([
            "TableName": .string(dataTable().name),
            "PointInTimeRecoverySpecification": .object(["PointInTimeRecoveryEnabled": .bool(rng.chance(0.2))]),
        ])
    }

    /// UpdateContributorInsights of a data table: enabled (in either mode) or disabled.
    private mutating func updateContributorInsights() -> FuzzJSON {
        var members = [
            member("TableName", .string(dataTable().name)),
            member("ContributorInsightsAction", .string(rng.pick(["ENABLE", "DISABLE"]))),
        ]
        if rng.chance(0.5) {
            members.append(member("ContributorInsightsMode", .string(rng.pick(["ACCESSED_AND_THROTTLED_KEYS", "THROTTLED_KEYS"]))))
        }
        return .object(members)
    }

    /// TransactWriteItems of one to four actions (Put, Update, Delete, ConditionCheck) on distinct items of
    /// one or both data tables, maybe idempotent by a `ClientRequestToken`.
    private mutating func transactWriteItems() -> FuzzJSON {
        var actions: [FuzzJSON] = []
        for (table, index) in distinctItems(rng.int(1...4)) {
            actions.append(transactWrite(table, index))
        }
        var members = [member("TransactItems", .array(actions))]
        if rng.chance(0.3) {
            // Some tokens recur, so that a retry of the same request, or a token reused by another, happens.
            let token = rng.chance(0.5) ? "token-\(rng.int(0...9))" : rng.text(rng.int(1...36))
            members.append(member("ClientRequestToken", .string(token)))
        }
        members += itemCollectionMetrics()
        return .object(members)
    }

    /// One action of a TransactWriteItems on item `index` of `table`.
    private mutating func transactWrite(_ table: FuzzTable, _ index: Int) -> FuzzJSON {
        var members = [member("TableName", .string(table.name))]
        var placeholders = Placeholders()
        let action: String
        switch rng.int(0...3) {
        case 0:
            action = "Put"
            members.append(member("Item", item(table, index)))
            if rng.chance(0.3) {
                let condition = "attribute_not_exists(\(placeholders.name("pk"))) OR \(placeholders.name("age")) < \(placeholders.value(numberValue("100")))"
                members.append(member("ConditionExpression", .string(condition)))
            }
        case 1:
            action = "Update"
            members.append(member("Key", key(table, index)))
            let update = "SET \(placeholders.name("age")) = \(placeholders.value(numberValue(numberText()))), "
                + "gpk = \(placeholders.value(stringValue("g\(rng.int(0...4))"))) ADD visits \(placeholders.value(numberValue("1")))"
            members.append(member("UpdateExpression", .string(update)))
            if rng.chance(0.3) { members.append(member("ConditionExpression", .string("attribute_exists(\(placeholders.name("pk")))"))) }
        case 2:
            action = "Delete"
            members.append(member("Key", key(table, index)))
            if rng.chance(0.3) { members.append(member("ConditionExpression", .string("attribute_exists(\(placeholders.name("age")))"))) }
        default:
            action = "ConditionCheck"
            members.append(member("Key", key(table, index)))
            let condition = rng.pick([
                "attribute_exists(\(placeholders.name("pk")))", "attribute_not_exists(\(placeholders.name("pk")))",
                "size(tags) > \(placeholders.value(numberValue("0")))",
            ])
            members.append(member("ConditionExpression", .string(condition)))
        }
        members += placeholders.members
        if members.contains(where: { $0.text == "ConditionExpression" }), rng.chance(0.3) {
            members.append(member("ReturnValuesOnConditionCheckFailure", rng.pick(["ALL_OLD", "NONE"])))
        }
        return .object([member(action, .object(members))])
    }

    /// TransactGetItems of one to four distinct items of one or both data tables, maybe projected.
    private mutating func transactGetItems() -> FuzzJSON {
        var gets: [FuzzJSON] = []
        for (table, index) in distinctItems(rng.int(1...4)) {
            var members = [member("TableName", .string(table.name)), member("Key", key(table, index))]
            if rng.chance(0.4) {
                var placeholders = Placeholders()
                members.append(member("ProjectionExpression", .string("pk, \(placeholders.name("name")), profile.city, gpk")))
                members += placeholders.members
            }
            gets.append(.object(["Get": .object(members)]))
        }
        return .object(["TransactItems": .array(gets)])
    }

    /// `count` distinct items of the data tables, as table and item index: a transaction may name an item
    /// once.
    private mutating func distinctItems(_ count: Int) -> [(FuzzTable, Int)] {
        var chosen: [(FuzzTable, Int)] = []
        while chosen.count < count {
            let table = dataTable(), index = itemIndex()
            if !chosen.contains(where: { $0.0.name == table.name && $0.1 == index }) { chosen.append((table, index)) }
        }
        return chosen
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
