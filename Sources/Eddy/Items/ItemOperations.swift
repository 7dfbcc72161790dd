/// What a write returns of the item: DynamoDB's `ReturnValues`.
public enum ReturnValue: String, Codable, Sendable, CaseIterable {
    /// Nothing (the default).
    case none = "NONE"
    /// The whole item as it was before the write, if it existed.
    case allOld = "ALL_OLD"
    /// UpdateItem only: the updated attributes as they were before.
    case updatedOld = "UPDATED_OLD"
    /// UpdateItem only: the whole item as it is after the write.
    case allNew = "ALL_NEW"
    /// UpdateItem only: the updated attributes as they are after.
    case updatedNew = "UPDATED_NEW"
}

/// The request of ``Database/putItem(_:)``.
public struct PutItemInput: Codable, Sendable {
    public var tableName: String
    /// The whole item, key attributes included; it replaces any item with the same key.
    public var item: Item
    /// `NONE` (default) or `ALL_OLD`.
    public var returnValues: ReturnValue?
    /// A condition the item (as it is before the write) must meet, or the write fails with
    /// `ConditionalCheckFailedException`.
    public var conditionExpression: String?
    /// `#name` placeholders of the expressions.
    public var expressionAttributeNames: [String: String]?
    /// `:value` placeholders of the expressions.
    public var expressionAttributeValues: [String: AttributeValue]?
    /// `ALL_OLD` to receive the item in the `ConditionalCheckFailedException`.
    public var returnValuesOnConditionCheckFailure: ReturnValuesOnConditionCheckFailure?
    /// The legacy condition (instead of ``conditionExpression``).
    public var expected: [String: ExpectedAttributeValue]?
    /// How the entries of ``expected`` combine (`AND` when absent).
    public var conditionalOperator: ConditionalOperator?
    /// `SIZE` to receive the size of the item collection the write changed (tables with local secondary
    /// indexes only).
    public var returnItemCollectionMetrics: ReturnItemCollectionMetrics?
    /// `TOTAL` or `INDEXES` to receive the capacity the request consumed (``ConsumedCapacity``).
    public var returnConsumedCapacity: ReturnConsumedCapacity?

    public init(
        tableName: String, item: Item, returnValues: ReturnValue? = nil,
        conditionExpression: String? = nil,
        expressionAttributeNames: [String: String]? = nil,
        expressionAttributeValues: [String: AttributeValue]? = nil,
        returnValuesOnConditionCheckFailure: ReturnValuesOnConditionCheckFailure? = nil,
        expected: [String: ExpectedAttributeValue]? = nil,
        conditionalOperator: ConditionalOperator? = nil,
        returnItemCollectionMetrics: ReturnItemCollectionMetrics? = nil,
        returnConsumedCapacity: ReturnConsumedCapacity? = nil
    ) {
        self.returnItemCollectionMetrics = returnItemCollectionMetrics
        self.returnConsumedCapacity = returnConsumedCapacity
        self.tableName = tableName
        self.item = item
        self.returnValues = returnValues
        self.conditionExpression = conditionExpression
        self.expressionAttributeNames = expressionAttributeNames
        self.expressionAttributeValues = expressionAttributeValues
        self.returnValuesOnConditionCheckFailure = returnValuesOnConditionCheckFailure
        self.expected = expected
        self.conditionalOperator = conditionalOperator
    }

    enum CodingKeys: String, CodingKey {
        case tableName = "TableName", item = "Item", returnValues = "ReturnValues"
        case conditionExpression = "ConditionExpression", expressionAttributeNames = "ExpressionAttributeNames"
        case expressionAttributeValues = "ExpressionAttributeValues"
        case returnValuesOnConditionCheckFailure = "ReturnValuesOnConditionCheckFailure"
        case expected = "Expected", conditionalOperator = "ConditionalOperator"
        case returnItemCollectionMetrics = "ReturnItemCollectionMetrics", returnConsumedCapacity = "ReturnConsumedCapacity"
    }
}

/// What a failed condition returns of the item: DynamoDB's `ReturnValuesOnConditionCheckFailure`.
public enum ReturnValuesOnConditionCheckFailure: String, Codable, Sendable, CaseIterable {
    case none = "NONE"
    case allOld = "ALL_OLD"
}

/// The result of ``Database/putItem(_:)``, ``Database/deleteItem(_:)`` and ``Database/updateItem(_:)``.
public struct WriteItemOutput: Codable, Sendable, Equatable {
    /// The attributes `ReturnValues` asked for; nil when there are none.
    public var attributes: Item?
    /// The size of the item collection the write changed, when `ReturnItemCollectionMetrics` is `SIZE` and
    /// the table has local secondary indexes.
    public var itemCollectionMetrics: ItemCollectionMetrics? = nil
    /// The capacity the write consumed, when `ReturnConsumedCapacity` is `TOTAL` or `INDEXES`.
    public var consumedCapacity: ConsumedCapacity? = nil

    enum CodingKeys: String, CodingKey {
        case attributes = "Attributes", itemCollectionMetrics = "ItemCollectionMetrics", consumedCapacity = "ConsumedCapacity"
    }
}

/// The request of ``Database/getItem(_:)``.
public struct GetItemInput: Codable, Sendable {
    public var tableName: String
    /// Exactly the table's key attributes.
    public var key: Item
    /// Every Eddy read is strongly consistent; an eventually consistent read (the default) is charged half
    /// the capacity, as DynamoDB charges it.
    public var consistentRead: Bool?
    /// The top-level attributes to return (legacy projection); all when nil.
    public var attributesToGet: [String]?
    /// The attributes or nested paths to return (instead of ``attributesToGet``).
    public var projectionExpression: String?
    /// `#name` placeholders of the projection.
    public var expressionAttributeNames: [String: String]?
    /// `TOTAL` or `INDEXES` to receive the capacity the request consumed (``ConsumedCapacity``).
    public var returnConsumedCapacity: ReturnConsumedCapacity?

    public init(
        tableName: String, key: Item, consistentRead: Bool? = nil, attributesToGet: [String]? = nil,
        projectionExpression: String? = nil, expressionAttributeNames: [String: String]? = nil,
        returnConsumedCapacity: ReturnConsumedCapacity? = nil
    ) {
        self.returnConsumedCapacity = returnConsumedCapacity
        self.tableName = tableName
        self.key = key
        self.consistentRead = consistentRead
        self.attributesToGet = attributesToGet
        self.projectionExpression = projectionExpression
        self.expressionAttributeNames = expressionAttributeNames
    }

    enum CodingKeys: String, CodingKey {
        case tableName = "TableName", key = "Key", consistentRead = "ConsistentRead", attributesToGet = "AttributesToGet"
        case projectionExpression = "ProjectionExpression", expressionAttributeNames = "ExpressionAttributeNames"
        case returnConsumedCapacity = "ReturnConsumedCapacity"
    }
}

/// The result of ``Database/getItem(_:)``.
public struct GetItemOutput: Codable, Sendable, Equatable {
    /// The item, or nil if there is none with that key.
    public var item: Item?
    /// The capacity the read consumed, when `ReturnConsumedCapacity` is `TOTAL` or `INDEXES`.
    public var consumedCapacity: ConsumedCapacity? = nil

    enum CodingKeys: String, CodingKey {
        case item = "Item", consumedCapacity = "ConsumedCapacity"
    }
}

/// The request of ``Database/deleteItem(_:)``.
public struct DeleteItemInput: Codable, Sendable {
    public var tableName: String
    public var key: Item
    /// `NONE` (default) or `ALL_OLD`.
    public var returnValues: ReturnValue?
    /// A condition the item (as it is before the write) must meet, or the write fails with
    /// `ConditionalCheckFailedException`.
    public var conditionExpression: String?
    /// `#name` placeholders of the expressions.
    public var expressionAttributeNames: [String: String]?
    /// `:value` placeholders of the expressions.
    public var expressionAttributeValues: [String: AttributeValue]?
    /// `ALL_OLD` to receive the item in the `ConditionalCheckFailedException`.
    public var returnValuesOnConditionCheckFailure: ReturnValuesOnConditionCheckFailure?
    /// The legacy condition (instead of ``conditionExpression``).
    public var expected: [String: ExpectedAttributeValue]?
    /// How the entries of ``expected`` combine (`AND` when absent).
    public var conditionalOperator: ConditionalOperator?
    /// `SIZE` to receive the size of the item collection the write changed (tables with local secondary
    /// indexes only).
    public var returnItemCollectionMetrics: ReturnItemCollectionMetrics?
    /// `TOTAL` or `INDEXES` to receive the capacity the request consumed (``ConsumedCapacity``).
    public var returnConsumedCapacity: ReturnConsumedCapacity?

    public init(
        tableName: String, key: Item, returnValues: ReturnValue? = nil,
        conditionExpression: String? = nil,
        expressionAttributeNames: [String: String]? = nil,
        expressionAttributeValues: [String: AttributeValue]? = nil,
        returnValuesOnConditionCheckFailure: ReturnValuesOnConditionCheckFailure? = nil,
        expected: [String: ExpectedAttributeValue]? = nil,
        conditionalOperator: ConditionalOperator? = nil,
        returnItemCollectionMetrics: ReturnItemCollectionMetrics? = nil,
        returnConsumedCapacity: ReturnConsumedCapacity? = nil
    ) {
        self.returnItemCollectionMetrics = returnItemCollectionMetrics
        self.returnConsumedCapacity = returnConsumedCapacity
        self.tableName = tableName
        self.key = key
        self.returnValues = returnValues
        self.conditionExpression = conditionExpression
        self.expressionAttributeNames = expressionAttributeNames
        self.expressionAttributeValues = expressionAttributeValues
        self.returnValuesOnConditionCheckFailure = returnValuesOnConditionCheckFailure
        self.expected = expected
        self.conditionalOperator = conditionalOperator
    }

    enum CodingKeys: String, CodingKey {
        case tableName = "TableName", key = "Key", returnValues = "ReturnValues"
        case conditionExpression = "ConditionExpression", expressionAttributeNames = "ExpressionAttributeNames"
        case expressionAttributeValues = "ExpressionAttributeValues"
        case returnValuesOnConditionCheckFailure = "ReturnValuesOnConditionCheckFailure"
        case expected = "Expected", conditionalOperator = "ConditionalOperator"
        case returnItemCollectionMetrics = "ReturnItemCollectionMetrics", returnConsumedCapacity = "ReturnConsumedCapacity"
    }
}

/// The action of one legacy `AttributeUpdates` entry.
public enum AttributeAction: String, Codable, Sendable, CaseIterable {
    /// Sets the attribute to the value (the default).
    case put = "PUT"
    /// Adds a number to a number, or members to a set; creates the attribute if absent.
    case add = "ADD"
    /// Removes the attribute, or (with a value) those members from a set.
    case delete = "DELETE"
}

/// One entry of UpdateItem's legacy `AttributeUpdates`.
public struct AttributeValueUpdate: Codable, Sendable, Equatable {
    public var value: AttributeValue?
    public var action: AttributeAction?

    public init(value: AttributeValue? = nil, action: AttributeAction? = nil) {
        self.value = value
        self.action = action
    }

    enum CodingKeys: String, CodingKey {
        case value = "Value", action = "Action"
    }
}

/// The request of ``Database/updateItem(_:)``: changes attributes of one item, creating it if absent.
public struct UpdateItemInput: Codable, Sendable {
    public var tableName: String
    public var key: Item
    /// Attribute name to the change to make to it.
    public var attributeUpdates: [String: AttributeValueUpdate]?
    public var returnValues: ReturnValue?
    /// `SET`, `REMOVE`, `ADD` and `DELETE` actions (instead of the legacy ``attributeUpdates``).
    public var updateExpression: String?
    /// A condition the item (as it is before the write) must meet, or the write fails with
    /// `ConditionalCheckFailedException`.
    public var conditionExpression: String?
    /// `#name` placeholders of the expressions.
    public var expressionAttributeNames: [String: String]?
    /// `:value` placeholders of the expressions.
    public var expressionAttributeValues: [String: AttributeValue]?
    /// `ALL_OLD` to receive the item in the `ConditionalCheckFailedException`.
    public var returnValuesOnConditionCheckFailure: ReturnValuesOnConditionCheckFailure?
    /// The legacy condition (instead of ``conditionExpression``).
    public var expected: [String: ExpectedAttributeValue]?
    /// How the entries of ``expected`` combine (`AND` when absent).
    public var conditionalOperator: ConditionalOperator?
    /// `SIZE` to receive the size of the item collection the write changed (tables with local secondary
    /// indexes only).
    public var returnItemCollectionMetrics: ReturnItemCollectionMetrics?
    /// `TOTAL` or `INDEXES` to receive the capacity the request consumed (``ConsumedCapacity``).
    public var returnConsumedCapacity: ReturnConsumedCapacity?

    public init(
        tableName: String, key: Item, attributeUpdates: [String: AttributeValueUpdate]? = nil, returnValues: ReturnValue? = nil,
        updateExpression: String? = nil,
        conditionExpression: String? = nil,
        expressionAttributeNames: [String: String]? = nil,
        expressionAttributeValues: [String: AttributeValue]? = nil,
        returnValuesOnConditionCheckFailure: ReturnValuesOnConditionCheckFailure? = nil,
        expected: [String: ExpectedAttributeValue]? = nil,
        conditionalOperator: ConditionalOperator? = nil,
        returnItemCollectionMetrics: ReturnItemCollectionMetrics? = nil,
        returnConsumedCapacity: ReturnConsumedCapacity? = nil
    ) {
        self.returnItemCollectionMetrics = returnItemCollectionMetrics
        self.returnConsumedCapacity = returnConsumedCapacity
        self.tableName = tableName
        self.key = key
        self.attributeUpdates = attributeUpdates
        self.returnValues = returnValues
        self.updateExpression = updateExpression
        self.conditionExpression = conditionExpression
        self.expressionAttributeNames = expressionAttributeNames
        self.expressionAttributeValues = expressionAttributeValues
        self.returnValuesOnConditionCheckFailure = returnValuesOnConditionCheckFailure
        self.expected = expected
        self.conditionalOperator = conditionalOperator
    }

    enum CodingKeys: String, CodingKey {
        case tableName = "TableName", key = "Key", attributeUpdates = "AttributeUpdates", returnValues = "ReturnValues"
        case updateExpression = "UpdateExpression"
        case conditionExpression = "ConditionExpression", expressionAttributeNames = "ExpressionAttributeNames"
        case expressionAttributeValues = "ExpressionAttributeValues"
        case returnValuesOnConditionCheckFailure = "ReturnValuesOnConditionCheckFailure"
        case expected = "Expected", conditionalOperator = "ConditionalOperator"
        case returnItemCollectionMetrics = "ReturnItemCollectionMetrics", returnConsumedCapacity = "ReturnConsumedCapacity"
    }
}

/// The result of ``Database/putItem(_:)``.
public typealias PutItemOutput = WriteItemOutput
/// The result of ``Database/deleteItem(_:)``.
public typealias DeleteItemOutput = WriteItemOutput
/// The result of ``Database/updateItem(_:)``.
public typealias UpdateItemOutput = WriteItemOutput
