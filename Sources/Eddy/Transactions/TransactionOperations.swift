/// The request of ``Database/transactWriteItems(_:)``: up to 100 actions over one or more tables, which all
/// happen or none does.
public struct TransactWriteItemsInput: Codable, Sendable {
    public var transactItems: [TransactWriteItem]
    /// Makes the call idempotent for 10 minutes after it completes: the same token with the same request
    /// succeeds again without writing, with another request fails. 1 to 36 characters.
    public var clientRequestToken: String?
    /// `TOTAL` or `INDEXES` to receive the capacity the transaction consumed, one ``ConsumedCapacity`` per
    /// table.
    public var returnConsumedCapacity: ReturnConsumedCapacity?
    /// `SIZE` to receive the sizes of the item collections the transaction changed (tables with local
    /// secondary indexes only).
    public var returnItemCollectionMetrics: ReturnItemCollectionMetrics?

    public init(
        transactItems: [TransactWriteItem], clientRequestToken: String? = nil,
        returnItemCollectionMetrics: ReturnItemCollectionMetrics? = nil, returnConsumedCapacity: ReturnConsumedCapacity? = nil
    ) {
        self.transactItems = transactItems
        self.clientRequestToken = clientRequestToken
        self.returnItemCollectionMetrics = returnItemCollectionMetrics
        self.returnConsumedCapacity = returnConsumedCapacity
    }

    enum CodingKeys: String, CodingKey {
        case transactItems = "TransactItems", clientRequestToken = "ClientRequestToken"
        case returnConsumedCapacity = "ReturnConsumedCapacity", returnItemCollectionMetrics = "ReturnItemCollectionMetrics"
    }
}

/// One action of a transaction: exactly one of its members is set.
public struct TransactWriteItem: Codable, Sendable {
    public var conditionCheck: TransactConditionCheck?
    public var put: TransactPut?
    public var delete: TransactDelete?
    public var update: TransactUpdate?

    public init(
        conditionCheck: TransactConditionCheck? = nil, put: TransactPut? = nil, delete: TransactDelete? = nil,
        update: TransactUpdate? = nil
    ) {
        self.conditionCheck = conditionCheck
        self.put = put
        self.delete = delete
        self.update = update
    }

    enum CodingKeys: String, CodingKey {
        case conditionCheck = "ConditionCheck", put = "Put", delete = "Delete", update = "Update"
    }
}

/// A condition an item must meet for the transaction to happen; writes nothing.
public struct TransactConditionCheck: Codable, Sendable {
    public var tableName: String
    public var key: Item
    public var conditionExpression: String
    public var expressionAttributeNames: [String: String]?
    public var expressionAttributeValues: [String: AttributeValue]?
    /// `ALL_OLD` to receive the item in the cancellation reason when the condition fails.
    public var returnValuesOnConditionCheckFailure: ReturnValuesOnConditionCheckFailure?

    public init(
        tableName: String, key: Item, conditionExpression: String, expressionAttributeNames: [String: String]? = nil,
        expressionAttributeValues: [String: AttributeValue]? = nil,
        returnValuesOnConditionCheckFailure: ReturnValuesOnConditionCheckFailure? = nil
    ) {
        self.tableName = tableName
        self.key = key
        self.conditionExpression = conditionExpression
        self.expressionAttributeNames = expressionAttributeNames
        self.expressionAttributeValues = expressionAttributeValues
        self.returnValuesOnConditionCheckFailure = returnValuesOnConditionCheckFailure
    }

    enum CodingKeys: String, CodingKey {
        case tableName = "TableName", key = "Key", conditionExpression = "ConditionExpression"
        case expressionAttributeNames = "ExpressionAttributeNames", expressionAttributeValues = "ExpressionAttributeValues"
        case returnValuesOnConditionCheckFailure = "ReturnValuesOnConditionCheckFailure"
    }
}

/// A whole item written by a transaction, replacing any item with its key.
public struct TransactPut: Codable, Sendable {
    public var tableName: String
    public var item: Item
    public var conditionExpression: String?
    public var expressionAttributeNames: [String: String]?
    public var expressionAttributeValues: [String: AttributeValue]?
    public var returnValuesOnConditionCheckFailure: ReturnValuesOnConditionCheckFailure?

    public init(
        tableName: String, item: Item, conditionExpression: String? = nil, expressionAttributeNames: [String: String]? = nil,
        expressionAttributeValues: [String: AttributeValue]? = nil,
        returnValuesOnConditionCheckFailure: ReturnValuesOnConditionCheckFailure? = nil
    ) {
        self.tableName = tableName
        self.item = item
        self.conditionExpression = conditionExpression
        self.expressionAttributeNames = expressionAttributeNames
        self.expressionAttributeValues = expressionAttributeValues
        self.returnValuesOnConditionCheckFailure = returnValuesOnConditionCheckFailure
    }

    enum CodingKeys: String, CodingKey {
        case tableName = "TableName", item = "Item", conditionExpression = "ConditionExpression"
        case expressionAttributeNames = "ExpressionAttributeNames", expressionAttributeValues = "ExpressionAttributeValues"
        case returnValuesOnConditionCheckFailure = "ReturnValuesOnConditionCheckFailure"
    }
}

/// An item deleted by a transaction (deleting an absent item is no failure).
public struct TransactDelete: Codable, Sendable {
    public var tableName: String
    public var key: Item
    public var conditionExpression: String?
    public var expressionAttributeNames: [String: String]?
    public var expressionAttributeValues: [String: AttributeValue]?
    public var returnValuesOnConditionCheckFailure: ReturnValuesOnConditionCheckFailure?

    public init(
        tableName: String, key: Item, conditionExpression: String? = nil, expressionAttributeNames: [String: String]? = nil,
        expressionAttributeValues: [String: AttributeValue]? = nil,
        returnValuesOnConditionCheckFailure: ReturnValuesOnConditionCheckFailure? = nil
    ) {
        self.tableName = tableName
        self.key = key
        self.conditionExpression = conditionExpression
        self.expressionAttributeNames = expressionAttributeNames
        self.expressionAttributeValues = expressionAttributeValues
        self.returnValuesOnConditionCheckFailure = returnValuesOnConditionCheckFailure
    }

    enum CodingKeys: String, CodingKey {
        case tableName = "TableName", key = "Key", conditionExpression = "ConditionExpression"
        case expressionAttributeNames = "ExpressionAttributeNames", expressionAttributeValues = "ExpressionAttributeValues"
        case returnValuesOnConditionCheckFailure = "ReturnValuesOnConditionCheckFailure"
    }
}

/// An item changed by a transaction's UpdateExpression (created if absent, as UpdateItem does).
public struct TransactUpdate: Codable, Sendable {
    public var tableName: String
    public var key: Item
    public var updateExpression: String
    public var conditionExpression: String?
    public var expressionAttributeNames: [String: String]?
    public var expressionAttributeValues: [String: AttributeValue]?
    public var returnValuesOnConditionCheckFailure: ReturnValuesOnConditionCheckFailure?

    public init(
        tableName: String, key: Item, updateExpression: String, conditionExpression: String? = nil,
        expressionAttributeNames: [String: String]? = nil, expressionAttributeValues: [String: AttributeValue]? = nil,
        returnValuesOnConditionCheckFailure: ReturnValuesOnConditionCheckFailure? = nil
    ) {
        self.tableName = tableName
        self.key = key
        self.updateExpression = updateExpression
        self.conditionExpression = conditionExpression
        self.expressionAttributeNames = expressionAttributeNames
        self.expressionAttributeValues = expressionAttributeValues
        self.returnValuesOnConditionCheckFailure = returnValuesOnConditionCheckFailure
    }

    enum CodingKeys: String, CodingKey {
        case tableName = "TableName", key = "Key", updateExpression = "UpdateExpression"
        case conditionExpression = "ConditionExpression"
        case expressionAttributeNames = "ExpressionAttributeNames", expressionAttributeValues = "ExpressionAttributeValues"
        case returnValuesOnConditionCheckFailure = "ReturnValuesOnConditionCheckFailure"
    }
}

/// The result of ``Database/transactWriteItems(_:)``.
public struct TransactWriteItemsOutput: Codable, Sendable, Equatable {
    /// Per table with local secondary indexes, the size of each item collection the transaction changed,
    /// when `ReturnItemCollectionMetrics` is `SIZE`.
    public var itemCollectionMetrics: [String: [ItemCollectionMetrics]]?
    /// The capacity consumed on each table, when `ReturnConsumedCapacity` is `TOTAL` or `INDEXES`.
    public var consumedCapacity: [ConsumedCapacity]?

    public init(itemCollectionMetrics: [String: [ItemCollectionMetrics]]? = nil, consumedCapacity: [ConsumedCapacity]? = nil) {
        self.itemCollectionMetrics = itemCollectionMetrics
        self.consumedCapacity = consumedCapacity
    }

    enum CodingKeys: String, CodingKey {
        case itemCollectionMetrics = "ItemCollectionMetrics", consumedCapacity = "ConsumedCapacity"
    }
}

/// The request of ``Database/transactGetItems(_:)``: up to 100 reads, all as of one moment.
public struct TransactGetItemsInput: Codable, Sendable {
    public var transactItems: [TransactGetItem]
    /// `TOTAL` or `INDEXES` to receive the capacity the reads consumed, one ``ConsumedCapacity`` per table.
    public var returnConsumedCapacity: ReturnConsumedCapacity?

    public init(transactItems: [TransactGetItem], returnConsumedCapacity: ReturnConsumedCapacity? = nil) {
        self.transactItems = transactItems
        self.returnConsumedCapacity = returnConsumedCapacity
    }

    enum CodingKeys: String, CodingKey {
        case transactItems = "TransactItems", returnConsumedCapacity = "ReturnConsumedCapacity"
    }
}

/// One read of a TransactGetItems.
public struct TransactGetItem: Codable, Sendable {
    public var get: TransactGet

    public init(get: TransactGet) {
        self.get = get
    }

    enum CodingKeys: String, CodingKey {
        case get = "Get"
    }
}

/// The item to read, and which of its attributes.
public struct TransactGet: Codable, Sendable {
    public var tableName: String
    public var key: Item
    public var projectionExpression: String?
    public var expressionAttributeNames: [String: String]?

    public init(tableName: String, key: Item, projectionExpression: String? = nil, expressionAttributeNames: [String: String]? = nil) {
        self.tableName = tableName
        self.key = key
        self.projectionExpression = projectionExpression
        self.expressionAttributeNames = expressionAttributeNames
    }

    enum CodingKeys: String, CodingKey {
        case tableName = "TableName", key = "Key", projectionExpression = "ProjectionExpression"
        case expressionAttributeNames = "ExpressionAttributeNames"
    }
}

/// The result of ``Database/transactGetItems(_:)``: one response per read, in request order.
public struct TransactGetItemsOutput: Codable, Sendable, Equatable {
    public var responses: [ItemResponse]
    /// The capacity consumed on each table, when `ReturnConsumedCapacity` is `TOTAL` or `INDEXES`.
    public var consumedCapacity: [ConsumedCapacity]? = nil

    enum CodingKeys: String, CodingKey {
        case responses = "Responses", consumedCapacity = "ConsumedCapacity"
    }
}

/// One read's item, absent when there is none with its key.
public struct ItemResponse: Codable, Sendable, Equatable {
    public var item: Item?

    enum CodingKeys: String, CodingKey {
        case item = "Item"
    }
}
