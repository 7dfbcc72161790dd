/// The keys to read from one table in a BatchGetItem.
public struct KeysAndAttributes: Codable, Sendable, Equatable {
    public var keys: [Item]
    public var consistentRead: Bool?
    public var attributesToGet: [String]?
    /// The attributes or nested paths to return (instead of ``attributesToGet``).
    public var projectionExpression: String?
    /// `#name` placeholders of the projection.
    public var expressionAttributeNames: [String: String]?

    public init(
        keys: [Item], consistentRead: Bool? = nil, attributesToGet: [String]? = nil,
        projectionExpression: String? = nil, expressionAttributeNames: [String: String]? = nil
    ) {
        self.keys = keys
        self.consistentRead = consistentRead
        self.attributesToGet = attributesToGet
        self.projectionExpression = projectionExpression
        self.expressionAttributeNames = expressionAttributeNames
    }

    enum CodingKeys: String, CodingKey {
        case keys = "Keys", consistentRead = "ConsistentRead", attributesToGet = "AttributesToGet"
        case projectionExpression = "ProjectionExpression", expressionAttributeNames = "ExpressionAttributeNames"
    }
}

/// The request of ``Database/batchGetItem(_:)``: up to 100 keys over one or more tables.
public struct BatchGetItemInput: Codable, Sendable {
    public var requestItems: [String: KeysAndAttributes]
    /// `TOTAL` or `INDEXES` to receive the capacity the request consumed, one ``ConsumedCapacity`` per table.
    public var returnConsumedCapacity: ReturnConsumedCapacity?

    public init(requestItems: [String: KeysAndAttributes], returnConsumedCapacity: ReturnConsumedCapacity? = nil) {
        self.requestItems = requestItems
        self.returnConsumedCapacity = returnConsumedCapacity
    }

    enum CodingKeys: String, CodingKey {
        case requestItems = "RequestItems", returnConsumedCapacity = "ReturnConsumedCapacity"
    }
}

/// The result of ``Database/batchGetItem(_:)``.
public struct BatchGetItemOutput: Codable, Sendable, Equatable {
    /// The items found, by table; keys with no item are simply absent.
    public var responses: [String: [Item]]
    /// Keys not read because the response reached 16 MB: ask for them again.
    public var unprocessedKeys: [String: KeysAndAttributes]
    /// The capacity consumed on each table, when `ReturnConsumedCapacity` is `TOTAL` or `INDEXES`.
    public var consumedCapacity: [ConsumedCapacity]? = nil

    enum CodingKeys: String, CodingKey {
        case responses = "Responses", unprocessedKeys = "UnprocessedKeys", consumedCapacity = "ConsumedCapacity"
    }
}

/// A put of a whole item inside BatchWriteItem.
public struct PutRequest: Codable, Sendable, Equatable {
    public var item: Item

    public init(item: Item) {
        self.item = item
    }

    enum CodingKeys: String, CodingKey {
        case item = "Item"
    }
}

/// A delete by key inside BatchWriteItem.
public struct DeleteRequest: Codable, Sendable, Equatable {
    public var key: Item

    public init(key: Item) {
        self.key = key
    }

    enum CodingKeys: String, CodingKey {
        case key = "Key"
    }
}

/// One request of BatchWriteItem: exactly one of a put or a delete.
public struct WriteRequest: Codable, Sendable, Equatable {
    public var putRequest: PutRequest?
    public var deleteRequest: DeleteRequest?

    public init(putRequest: PutRequest) {
        self.putRequest = putRequest
    }

    public init(deleteRequest: DeleteRequest) {
        self.deleteRequest = deleteRequest
    }

    enum CodingKeys: String, CodingKey {
        case putRequest = "PutRequest", deleteRequest = "DeleteRequest"
    }
}

/// The request of ``Database/batchWriteItem(_:)``: up to 25 puts and deletes over one or more tables.
public struct BatchWriteItemInput: Codable, Sendable {
    public var requestItems: [String: [WriteRequest]]
    /// `SIZE` to receive the sizes of the item collections the batch changed (tables with local secondary
    /// indexes only).
    public var returnItemCollectionMetrics: ReturnItemCollectionMetrics?
    /// `TOTAL` or `INDEXES` to receive the capacity the request consumed, one ``ConsumedCapacity`` per table.
    public var returnConsumedCapacity: ReturnConsumedCapacity?

    public init(
        requestItems: [String: [WriteRequest]], returnItemCollectionMetrics: ReturnItemCollectionMetrics? = nil,
        returnConsumedCapacity: ReturnConsumedCapacity? = nil
    ) {
        self.requestItems = requestItems
        self.returnItemCollectionMetrics = returnItemCollectionMetrics
        self.returnConsumedCapacity = returnConsumedCapacity
    }

    enum CodingKeys: String, CodingKey {
        case requestItems = "RequestItems", returnItemCollectionMetrics = "ReturnItemCollectionMetrics"
        case returnConsumedCapacity = "ReturnConsumedCapacity"
    }
}

/// The result of ``Database/batchWriteItem(_:)``.
public struct BatchWriteItemOutput: Codable, Sendable, Equatable {
    /// Requests not applied, to be sent again; Eddy applies a valid batch whole, so this is empty.
    public var unprocessedItems: [String: [WriteRequest]]
    /// Per table with local secondary indexes, the size of each item collection the batch changed, when
    /// `ReturnItemCollectionMetrics` is `SIZE`.
    public var itemCollectionMetrics: [String: [ItemCollectionMetrics]]? = nil
    /// The capacity consumed on each table, when `ReturnConsumedCapacity` is `TOTAL` or `INDEXES`.
    public var consumedCapacity: [ConsumedCapacity]? = nil

    enum CodingKeys: String, CodingKey {
        case unprocessedItems = "UnprocessedItems", itemCollectionMetrics = "ItemCollectionMetrics"
        case consumedCapacity = "ConsumedCapacity"
    }
}
