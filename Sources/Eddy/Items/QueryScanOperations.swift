/// What Query and Scan return: DynamoDB's `Select`.
public enum Select: String, Codable, Sendable, CaseIterable {
    case allAttributes = "ALL_ATTRIBUTES"
    case allProjectedAttributes = "ALL_PROJECTED_ATTRIBUTES"
    case specificAttributes = "SPECIFIC_ATTRIBUTES"
    /// Only `Count` and `ScannedCount`, no items.
    case count = "COUNT"
}

/// A legacy comparison operator (`KeyConditions`, and later `QueryFilter`, `ScanFilter`, `Expected`).
public enum ComparisonOperator: String, Codable, Sendable, CaseIterable {
    case eq = "EQ", ne = "NE", le = "LE", lt = "LT", ge = "GE", gt = "GT"
    case notNull = "NOT_NULL", null = "NULL", contains = "CONTAINS", notContains = "NOT_CONTAINS"
    case beginsWith = "BEGINS_WITH", `in` = "IN", between = "BETWEEN"
}

/// One legacy condition: an operator and its operands.
public struct Condition: Codable, Sendable, Equatable {
    public var comparisonOperator: ComparisonOperator
    public var attributeValueList: [AttributeValue]?

    public init(_ comparisonOperator: ComparisonOperator, _ attributeValueList: [AttributeValue]) {
        self.comparisonOperator = comparisonOperator
        self.attributeValueList = attributeValueList
    }

    enum CodingKeys: String, CodingKey {
        case comparisonOperator = "ComparisonOperator", attributeValueList = "AttributeValueList"
    }
}

/// The request of ``Database/query(_:)``: the items of one partition, in sort-key order.
public struct QueryInput: Codable, Sendable {
    public var tableName: String
    /// A secondary index of the table to query instead of the table: the key conditions are on the index's
    /// key, and the items are its entries (their projected attributes).
    public var indexName: String?
    /// `EQ` on the partition key; optionally one of `EQ LT LE GT GE BEGINS_WITH BETWEEN` on the sort key.
    public var keyConditions: [String: Condition]?
    /// `pk = :v`, optionally `AND` a sort-key condition (`= < <= > >=`, `BETWEEN`, `begins_with`); instead
    /// of the legacy ``keyConditions``.
    public var keyConditionExpression: String?
    /// Ascending sort-key order when true (the default), descending when false.
    public var scanIndexForward: Bool?
    /// At most this many items are read for the page.
    public var limit: Int?
    /// The previous page's ``QueryOutput/lastEvaluatedKey``.
    public var exclusiveStartKey: Item?
    public var select: Select?
    public var attributesToGet: [String]?
    /// Applied to each item read, after the page is read: `Count` counts matches, `ScannedCount` reads.
    public var filterExpression: String?
    /// The legacy filter (instead of ``filterExpression``): conditions on attributes.
    public var queryFilter: [String: Condition]?
    /// How the entries of ``queryFilter`` combine (`AND` when absent).
    public var conditionalOperator: ConditionalOperator?
    /// The attributes or nested paths to return (instead of ``attributesToGet``).
    public var projectionExpression: String?
    /// `#name` placeholders of the expressions.
    public var expressionAttributeNames: [String: String]?
    /// `:value` placeholders of the expressions.
    public var expressionAttributeValues: [String: AttributeValue]?
    /// Accepted for a table or a local secondary index (every Eddy read is strongly consistent, an
    /// eventually consistent one, the default, is charged half); `true` on a global secondary index is
    /// refused, as DynamoDB refuses it.
    public var consistentRead: Bool?
    /// `TOTAL` or `INDEXES` to receive the capacity the page consumed (``ConsumedCapacity``).
    public var returnConsumedCapacity: ReturnConsumedCapacity?

    public init(
        tableName: String, indexName: String? = nil, keyConditions: [String: Condition]? = nil, keyConditionExpression: String? = nil,
        scanIndexForward: Bool? = nil, limit: Int? = nil,
        exclusiveStartKey: Item? = nil, select: Select? = nil, attributesToGet: [String]? = nil, consistentRead: Bool? = nil,
        filterExpression: String? = nil, projectionExpression: String? = nil,
        expressionAttributeNames: [String: String]? = nil, expressionAttributeValues: [String: AttributeValue]? = nil,
        queryFilter: [String: Condition]? = nil, conditionalOperator: ConditionalOperator? = nil,
        returnConsumedCapacity: ReturnConsumedCapacity? = nil
    ) {
        self.returnConsumedCapacity = returnConsumedCapacity
        self.queryFilter = queryFilter
        self.conditionalOperator = conditionalOperator
        self.keyConditionExpression = keyConditionExpression
        self.filterExpression = filterExpression
        self.projectionExpression = projectionExpression
        self.expressionAttributeNames = expressionAttributeNames
        self.expressionAttributeValues = expressionAttributeValues

        self.tableName = tableName
        self.indexName = indexName
        self.keyConditions = keyConditions
        self.scanIndexForward = scanIndexForward
        self.limit = limit
        self.exclusiveStartKey = exclusiveStartKey
        self.select = select
        self.attributesToGet = attributesToGet
        self.consistentRead = consistentRead
    }

    enum CodingKeys: String, CodingKey {
        case tableName = "TableName", indexName = "IndexName", keyConditions = "KeyConditions", scanIndexForward = "ScanIndexForward"
        case keyConditionExpression = "KeyConditionExpression"
        case filterExpression = "FilterExpression", projectionExpression = "ProjectionExpression"
        case expressionAttributeNames = "ExpressionAttributeNames", expressionAttributeValues = "ExpressionAttributeValues"
        case queryFilter = "QueryFilter", conditionalOperator = "ConditionalOperator"
        case limit = "Limit", exclusiveStartKey = "ExclusiveStartKey", select = "Select"
        case attributesToGet = "AttributesToGet", consistentRead = "ConsistentRead"
        case returnConsumedCapacity = "ReturnConsumedCapacity"
    }
}

/// The request of ``Database/scan(_:)``: every item of a table, or of one segment of it.
public struct ScanInput: Codable, Sendable {
    public var tableName: String
    /// A secondary index of the table to scan instead of the table: its entries, in its key order.
    public var indexName: String?
    public var limit: Int?
    public var exclusiveStartKey: Item?
    /// With ``totalSegments``: which segment of a parallel scan this is (0-based).
    public var segment: Int?
    /// The number of segments of a parallel scan (1 to 1,000,000).
    public var totalSegments: Int?
    public var select: Select?
    public var attributesToGet: [String]?
    /// Applied to each item read, after the page is read: `Count` counts matches, `ScannedCount` reads.
    public var filterExpression: String?
    /// The legacy filter (instead of ``filterExpression``): conditions on attributes.
    public var scanFilter: [String: Condition]?
    /// How the entries of ``scanFilter`` combine (`AND` when absent).
    public var conditionalOperator: ConditionalOperator?
    /// The attributes or nested paths to return (instead of ``attributesToGet``).
    public var projectionExpression: String?
    /// `#name` placeholders of the expressions.
    public var expressionAttributeNames: [String: String]?
    /// `:value` placeholders of the expressions.
    public var expressionAttributeValues: [String: AttributeValue]?
    /// Accepted for a table or a local secondary index (every Eddy read is strongly consistent, an
    /// eventually consistent one, the default, is charged half); `true` on a global secondary index is
    /// refused, as DynamoDB refuses it.
    public var consistentRead: Bool?
    /// `TOTAL` or `INDEXES` to receive the capacity the page consumed (``ConsumedCapacity``).
    public var returnConsumedCapacity: ReturnConsumedCapacity?

    public init(
        tableName: String, indexName: String? = nil, limit: Int? = nil, exclusiveStartKey: Item? = nil, segment: Int? = nil,
        totalSegments: Int? = nil, select: Select? = nil, attributesToGet: [String]? = nil, consistentRead: Bool? = nil,
        filterExpression: String? = nil, projectionExpression: String? = nil,
        expressionAttributeNames: [String: String]? = nil, expressionAttributeValues: [String: AttributeValue]? = nil,
        scanFilter: [String: Condition]? = nil, conditionalOperator: ConditionalOperator? = nil,
        returnConsumedCapacity: ReturnConsumedCapacity? = nil
    ) {
        self.returnConsumedCapacity = returnConsumedCapacity
        self.scanFilter = scanFilter
        self.conditionalOperator = conditionalOperator
        self.filterExpression = filterExpression
        self.projectionExpression = projectionExpression
        self.expressionAttributeNames = expressionAttributeNames
        self.expressionAttributeValues = expressionAttributeValues

        self.tableName = tableName
        self.indexName = indexName
        self.limit = limit
        self.exclusiveStartKey = exclusiveStartKey
        self.segment = segment
        self.totalSegments = totalSegments
        self.select = select
        self.attributesToGet = attributesToGet
        self.consistentRead = consistentRead
    }

    enum CodingKeys: String, CodingKey {
        case tableName = "TableName", indexName = "IndexName", limit = "Limit", exclusiveStartKey = "ExclusiveStartKey"
        case segment = "Segment", totalSegments = "TotalSegments", select = "Select"
        case filterExpression = "FilterExpression", projectionExpression = "ProjectionExpression"
        case expressionAttributeNames = "ExpressionAttributeNames", expressionAttributeValues = "ExpressionAttributeValues"
        case scanFilter = "ScanFilter", conditionalOperator = "ConditionalOperator"
        case attributesToGet = "AttributesToGet", consistentRead = "ConsistentRead"
        case returnConsumedCapacity = "ReturnConsumedCapacity"
    }
}

/// A page of Query or Scan results.
public struct QueryOutput: Codable, Sendable, Equatable {
    /// The items of the page; nil with `Select: COUNT`.
    public var items: [Item]?
    /// Items returned (after filtering, once filters exist).
    public var count: Int
    /// Items read for the page.
    public var scannedCount: Int
    /// Present when more items may follow: pass it as the next page's `exclusiveStartKey`.
    public var lastEvaluatedKey: Item?
    /// The capacity the page consumed, when `ReturnConsumedCapacity` is `TOTAL` or `INDEXES`.
    public var consumedCapacity: ConsumedCapacity? = nil

    enum CodingKeys: String, CodingKey {
        case items = "Items", count = "Count", scannedCount = "ScannedCount", lastEvaluatedKey = "LastEvaluatedKey"
        case consumedCapacity = "ConsumedCapacity"
    }
}

/// A page of Scan results.
public typealias ScanOutput = QueryOutput
