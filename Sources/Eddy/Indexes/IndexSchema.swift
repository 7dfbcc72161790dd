/// Which attributes an index copies from the table's items: DynamoDB's `ProjectionType`.
public enum ProjectionType: String, Codable, Sendable, CaseIterable {
    /// The table's and the index's key attributes only.
    case keysOnly = "KEYS_ONLY"
    /// The key attributes and the ``Projection/nonKeyAttributes`` listed.
    case include = "INCLUDE"
    /// Every attribute.
    case all = "ALL"
}

/// What an index projects: DynamoDB's `Projection`.
public struct Projection: Codable, Sendable, Equatable {
    public var projectionType: ProjectionType?
    /// With `INCLUDE`: the non-key attributes projected besides the keys.
    public var nonKeyAttributes: [String]?

    public init(projectionType: ProjectionType?, nonKeyAttributes: [String]? = nil) {
        self.projectionType = projectionType
        self.nonKeyAttributes = nonKeyAttributes
    }

    enum CodingKeys: String, CodingKey {
        case projectionType = "ProjectionType", nonKeyAttributes = "NonKeyAttributes"
    }
}

/// A global secondary index of a ``CreateTableInput``, or the `Create` of a ``GlobalSecondaryIndexUpdate``:
/// its own partition key (and sort key), queried across the whole table.
public struct GlobalSecondaryIndex: Codable, Sendable, Equatable {
    public var indexName: String
    public var keySchema: [KeySchemaElement]
    public var projection: Projection
    /// Required when the table is `PROVISIONED`, refused when it is `PAY_PER_REQUEST`.
    public var provisionedThroughput: ProvisionedThroughput?

    public init(indexName: String, keySchema: [KeySchemaElement], projection: Projection, provisionedThroughput: ProvisionedThroughput? = nil) {
        self.indexName = indexName
        self.keySchema = keySchema
        self.projection = projection
        self.provisionedThroughput = provisionedThroughput
    }

    enum CodingKeys: String, CodingKey {
        case indexName = "IndexName", keySchema = "KeySchema", projection = "Projection"
        case provisionedThroughput = "ProvisionedThroughput"
    }
}

/// A local secondary index of a ``CreateTableInput``: the table's partition key with another sort key.
public struct LocalSecondaryIndex: Codable, Sendable, Equatable {
    public var indexName: String
    public var keySchema: [KeySchemaElement]
    public var projection: Projection

    public init(indexName: String, keySchema: [KeySchemaElement], projection: Projection) {
        self.indexName = indexName
        self.keySchema = keySchema
        self.projection = projection
    }

    enum CodingKeys: String, CodingKey {
        case indexName = "IndexName", keySchema = "KeySchema", projection = "Projection"
    }
}

/// One entry of UpdateTable's `GlobalSecondaryIndexUpdates`: exactly one of create, update or delete.
public struct GlobalSecondaryIndexUpdate: Codable, Sendable, Equatable {
    /// Adds an index; its entries for the existing items are backfilled in the background.
    public var create: GlobalSecondaryIndex?
    /// Changes an index's provisioned throughput.
    public var update: UpdateGlobalSecondaryIndexAction?
    /// Removes an index and its entries.
    public var delete: DeleteGlobalSecondaryIndexAction?

    public init(
        create: GlobalSecondaryIndex? = nil, update: UpdateGlobalSecondaryIndexAction? = nil,
        delete: DeleteGlobalSecondaryIndexAction? = nil
    ) {
        self.create = create
        self.update = update
        self.delete = delete
    }

    enum CodingKeys: String, CodingKey {
        case create = "Create", update = "Update", delete = "Delete"
    }
}

/// The `Update` of a ``GlobalSecondaryIndexUpdate``.
public struct UpdateGlobalSecondaryIndexAction: Codable, Sendable, Equatable {
    public var indexName: String
    public var provisionedThroughput: ProvisionedThroughput?

    public init(indexName: String, provisionedThroughput: ProvisionedThroughput?) {
        self.indexName = indexName
        self.provisionedThroughput = provisionedThroughput
    }

    enum CodingKeys: String, CodingKey {
        case indexName = "IndexName", provisionedThroughput = "ProvisionedThroughput"
    }
}

/// The `Delete` of a ``GlobalSecondaryIndexUpdate``.
public struct DeleteGlobalSecondaryIndexAction: Codable, Sendable, Equatable {
    public var indexName: String

    public init(indexName: String) {
        self.indexName = indexName
    }

    enum CodingKeys: String, CodingKey {
        case indexName = "IndexName"
    }
}

/// The state of a global secondary index.
public enum IndexStatus: String, Codable, Sendable, CaseIterable {
    /// Being added: writes maintain it, a backfill adds the items that existed before, and it cannot be read.
    case creating = "CREATING"
    case updating = "UPDATING"
    case deleting = "DELETING"
    case active = "ACTIVE"
}

/// A global secondary index as DescribeTable reports it.
public struct GlobalSecondaryIndexDescription: Codable, Sendable, Equatable {
    public var indexName: String
    public var keySchema: [KeySchemaElement]
    public var projection: Projection
    public var indexStatus: IndexStatus
    /// True while the entries of the items that existed when UpdateTable added the index are being written;
    /// absent for an index created with its table.
    public var backfilling: Bool?
    public var provisionedThroughput: ProvisionedThroughputDescription
    /// The total size of the index's entries, in DynamoDB's item-size bytes.
    public var indexSizeBytes: Int64
    public var itemCount: Int64
    /// `arn:aws:dynamodb:<region>:<account>:table/<table>/index/<index>`.
    public var indexArn: String

    enum CodingKeys: String, CodingKey {
        case indexName = "IndexName", keySchema = "KeySchema", projection = "Projection", indexStatus = "IndexStatus"
        case backfilling = "Backfilling", provisionedThroughput = "ProvisionedThroughput"
        case indexSizeBytes = "IndexSizeBytes", itemCount = "ItemCount", indexArn = "IndexArn"
    }
}

/// A local secondary index as DescribeTable reports it.
public struct LocalSecondaryIndexDescription: Codable, Sendable, Equatable {
    public var indexName: String
    public var keySchema: [KeySchemaElement]
    public var projection: Projection
    /// The total size of the index's entries, in DynamoDB's item-size bytes.
    public var indexSizeBytes: Int64
    public var itemCount: Int64
    /// `arn:aws:dynamodb:<region>:<account>:table/<table>/index/<index>`.
    public var indexArn: String

    enum CodingKeys: String, CodingKey {
        case indexName = "IndexName", keySchema = "KeySchema", projection = "Projection"
        case indexSizeBytes = "IndexSizeBytes", itemCount = "ItemCount", indexArn = "IndexArn"
    }
}
