import Foundation

/// The request of ``Database/createTable(_:)``, with DynamoDB's `CreateTable` fields.
public struct CreateTableInput: Codable, Sendable {
    public var tableName: String
    public var keySchema: [KeySchemaElement]
    public var attributeDefinitions: [AttributeDefinition]
    /// `PROVISIONED` (DynamoDB's default, needs ``provisionedThroughput``) or `PAY_PER_REQUEST`.
    public var billingMode: BillingMode?
    public var provisionedThroughput: ProvisionedThroughput?
    /// The table's maximum request units per second; only with `PAY_PER_REQUEST`.
    public var onDemandThroughput: OnDemandThroughput?
    public var tableClass: TableClass?
    public var deletionProtectionEnabled: Bool?
    /// Whether the table gets a stream, and what it records.
    public var streamSpecification: StreamSpecification?
    /// Up to 20 global secondary indexes; each key attribute must be in ``attributeDefinitions``.
    public var globalSecondaryIndexes: [GlobalSecondaryIndex]?
    /// Up to 5 local secondary indexes (the table's partition key, another sort key); only at creation.
    public var localSecondaryIndexes: [LocalSecondaryIndex]?
    /// Up to 50 tags for the table (see ``Database/tagResource(_:)``).
    public var tags: [Tag]?

    public init(
        tableName: String,
        keySchema: [KeySchemaElement],
        attributeDefinitions: [AttributeDefinition],
        billingMode: BillingMode? = nil,
        provisionedThroughput: ProvisionedThroughput? = nil,
        onDemandThroughput: OnDemandThroughput? = nil,
        tableClass: TableClass? = nil,
        deletionProtectionEnabled: Bool? = nil,
        streamSpecification: StreamSpecification? = nil,
        globalSecondaryIndexes: [GlobalSecondaryIndex]? = nil,
        localSecondaryIndexes: [LocalSecondaryIndex]? = nil,
        tags: [Tag]? = nil
    ) {
        self.onDemandThroughput = onDemandThroughput
        self.tags = tags
        self.streamSpecification = streamSpecification
        self.globalSecondaryIndexes = globalSecondaryIndexes
        self.localSecondaryIndexes = localSecondaryIndexes
        self.tableName = tableName
        self.keySchema = keySchema
        self.attributeDefinitions = attributeDefinitions
        self.billingMode = billingMode
        self.provisionedThroughput = provisionedThroughput
        self.tableClass = tableClass
        self.deletionProtectionEnabled = deletionProtectionEnabled
    }

    enum CodingKeys: String, CodingKey {
        case tableName = "TableName", keySchema = "KeySchema", attributeDefinitions = "AttributeDefinitions"
        case billingMode = "BillingMode", provisionedThroughput = "ProvisionedThroughput"
        case onDemandThroughput = "OnDemandThroughput"
        case tableClass = "TableClass", deletionProtectionEnabled = "DeletionProtectionEnabled"
        case streamSpecification = "StreamSpecification"
        case globalSecondaryIndexes = "GlobalSecondaryIndexes", localSecondaryIndexes = "LocalSecondaryIndexes"
        case tags = "Tags"
    }
}

/// The request of ``Database/updateTable(_:)``: the settings to change, each optional.
public struct UpdateTableInput: Codable, Sendable {
    public var tableName: String
    public var billingMode: BillingMode?
    public var provisionedThroughput: ProvisionedThroughput?
    /// New maximums of a `PAY_PER_REQUEST` table (-1 removes one); with nothing else than `billingMode`.
    public var onDemandThroughput: OnDemandThroughput?
    public var tableClass: TableClass?
    public var deletionProtectionEnabled: Bool?
    /// The definitions of the key attributes of a global index that ``globalSecondaryIndexUpdates`` creates.
    public var attributeDefinitions: [AttributeDefinition]?
    /// Enables a new stream (`StreamEnabled` true, with a view type) or disables the current one.
    public var streamSpecification: StreamSpecification?
    /// Creates or deletes one global secondary index, or changes indexes' provisioned throughput.
    public var globalSecondaryIndexUpdates: [GlobalSecondaryIndexUpdate]?

    public init(
        tableName: String,
        billingMode: BillingMode? = nil,
        provisionedThroughput: ProvisionedThroughput? = nil,
        onDemandThroughput: OnDemandThroughput? = nil,
        tableClass: TableClass? = nil,
        deletionProtectionEnabled: Bool? = nil,
        attributeDefinitions: [AttributeDefinition]? = nil,
        streamSpecification: StreamSpecification? = nil,
        globalSecondaryIndexUpdates: [GlobalSecondaryIndexUpdate]? = nil
    ) {
        self.onDemandThroughput = onDemandThroughput
        self.streamSpecification = streamSpecification
        self.globalSecondaryIndexUpdates = globalSecondaryIndexUpdates
        self.tableName = tableName
        self.billingMode = billingMode
        self.provisionedThroughput = provisionedThroughput
        self.tableClass = tableClass
        self.deletionProtectionEnabled = deletionProtectionEnabled
        self.attributeDefinitions = attributeDefinitions
    }

    enum CodingKeys: String, CodingKey {
        case tableName = "TableName", billingMode = "BillingMode"
        case provisionedThroughput = "ProvisionedThroughput", tableClass = "TableClass"
        case onDemandThroughput = "OnDemandThroughput"
        case deletionProtectionEnabled = "DeletionProtectionEnabled", attributeDefinitions = "AttributeDefinitions"
        case streamSpecification = "StreamSpecification", globalSecondaryIndexUpdates = "GlobalSecondaryIndexUpdates"
    }
}

/// The request of ``Database/listTables(_:)``.
public struct ListTablesInput: Codable, Sendable {
    /// The name after which the page starts (the previous page's ``ListTablesOutput/lastEvaluatedTableName``).
    public var exclusiveStartTableName: String?
    /// At most this many names (1 to 100; 100 when absent).
    public var limit: Int?

    public init(exclusiveStartTableName: String? = nil, limit: Int? = nil) {
        self.exclusiveStartTableName = exclusiveStartTableName
        self.limit = limit
    }

    enum CodingKeys: String, CodingKey {
        case exclusiveStartTableName = "ExclusiveStartTableName", limit = "Limit"
    }
}

/// A page of table names.
public struct ListTablesOutput: Codable, Sendable, Equatable {
    public var tableNames: [String]
    /// Present when more names may follow: pass it as the next page's `exclusiveStartTableName`.
    public var lastEvaluatedTableName: String?

    enum CodingKeys: String, CodingKey {
        case tableNames = "TableNames", lastEvaluatedTableName = "LastEvaluatedTableName"
    }
}

/// The provisioned throughput of a table or global index as DescribeTable reports it.
public struct ProvisionedThroughputDescription: Codable, Sendable, Equatable {
    public var readCapacityUnits: Int64
    public var writeCapacityUnits: Int64
    /// The decreases of the current UTC day (see ``Limits/provisionedDecreasesPerDayMax``).
    public var numberOfDecreasesToday: Int64
    /// When the throughput last went up, in seconds since 1970; absent if it never did.
    public var lastIncreaseDateTime: Double?
    /// When the throughput last went down, in seconds since 1970; absent if it never did.
    public var lastDecreaseDateTime: Double?

    enum CodingKeys: String, CodingKey {
        case readCapacityUnits = "ReadCapacityUnits", writeCapacityUnits = "WriteCapacityUnits"
        case numberOfDecreasesToday = "NumberOfDecreasesToday"
        case lastIncreaseDateTime = "LastIncreaseDateTime", lastDecreaseDateTime = "LastDecreaseDateTime"
    }
}

/// The billing mode of a table as DescribeTable reports it.
public struct BillingModeSummary: Codable, Sendable, Equatable {
    public var billingMode: BillingMode
    /// When PAY_PER_REQUEST was last set (at creation or by UpdateTable), in seconds since 1970; absent if
    /// the table never was PAY_PER_REQUEST. It stays when the table goes back to PROVISIONED.
    public var lastUpdateToPayPerRequestDateTime: Double?

    enum CodingKeys: String, CodingKey {
        case billingMode = "BillingMode", lastUpdateToPayPerRequestDateTime = "LastUpdateToPayPerRequestDateTime"
    }
}

/// The table class of a table as DescribeTable reports it.
public struct TableClassSummary: Codable, Sendable, Equatable {
    public var tableClass: TableClass

    enum CodingKeys: String, CodingKey {
        case tableClass = "TableClass"
    }
}

/// A table's definition and state, as CreateTable, DescribeTable, UpdateTable and DeleteTable return it.
public struct TableDescription: Codable, Sendable, Equatable {
    public var tableName: String
    public var tableStatus: TableStatus
    public var keySchema: [KeySchemaElement]
    public var attributeDefinitions: [AttributeDefinition]
    /// Seconds since 1970, as DynamoDB's JSON carries it.
    public var creationDateTime: Double
    public var provisionedThroughput: ProvisionedThroughputDescription
    /// A `PAY_PER_REQUEST` table's maximums (-1 where none is set); absent for a `PROVISIONED` table.
    public var onDemandThroughput: OnDemandThroughput?
    public var billingModeSummary: BillingModeSummary
    public var tableClassSummary: TableClassSummary
    public var deletionProtectionEnabled: Bool
    /// The total size of the table's items, in DynamoDB's item-size bytes.
    public var tableSizeBytes: Int64
    public var itemCount: Int64
    /// `arn:aws:dynamodb:<region>:<account>:table/<name>`.
    public var tableArn: String
    /// A UUID that identifies this incarnation of the table.
    public var tableId: String
    /// Present while the table's stream is enabled.
    public var streamSpecification: StreamSpecification?
    /// The ARN of the table's most recent stream, enabled or not.
    public var latestStreamArn: String?
    public var latestStreamLabel: String?
    public var globalSecondaryIndexes: [GlobalSecondaryIndexDescription]?
    public var localSecondaryIndexes: [LocalSecondaryIndexDescription]?

    enum CodingKeys: String, CodingKey {
        case tableName = "TableName", tableStatus = "TableStatus", keySchema = "KeySchema"
        case attributeDefinitions = "AttributeDefinitions", creationDateTime = "CreationDateTime"
        case provisionedThroughput = "ProvisionedThroughput", billingModeSummary = "BillingModeSummary"
        case onDemandThroughput = "OnDemandThroughput"
        case tableClassSummary = "TableClassSummary", deletionProtectionEnabled = "DeletionProtectionEnabled"
        case tableSizeBytes = "TableSizeBytes", itemCount = "ItemCount", tableArn = "TableArn", tableId = "TableId"
        case streamSpecification = "StreamSpecification", latestStreamArn = "LatestStreamArn"
        case latestStreamLabel = "LatestStreamLabel"
        case globalSecondaryIndexes = "GlobalSecondaryIndexes", localSecondaryIndexes = "LocalSecondaryIndexes"
    }
}

extension TableDescription {
    /// Decodes DynamoDB's JSON. The description of a `DELETING` table lacks the members its encoding leaves
    /// out: they decode as empty (no key schema or definitions, time zero, PROVISIONED, STANDARD, no id) and
    /// are left out again when it is encoded.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        tableName = try container.decode(String.self, forKey: .tableName)
        tableStatus = try container.decode(TableStatus.self, forKey: .tableStatus)
        provisionedThroughput = try container.decode(ProvisionedThroughputDescription.self, forKey: .provisionedThroughput)
        tableSizeBytes = try container.decode(Int64.self, forKey: .tableSizeBytes)
        itemCount = try container.decode(Int64.self, forKey: .itemCount)
        tableArn = try container.decode(String.self, forKey: .tableArn)
        let deleting = tableStatus == .deleting
        func member<Value: Decodable>(_ key: CodingKeys, orWhenDeleting empty: Value) throws -> Value {
            guard deleting else { return try container.decode(Value.self, forKey: key) }
            return try container.decodeIfPresent(Value.self, forKey: key) ?? empty
        }
        keySchema = try member(.keySchema, orWhenDeleting: [])
        attributeDefinitions = try member(.attributeDefinitions, orWhenDeleting: [])
        creationDateTime = try member(.creationDateTime, orWhenDeleting: 0)
        billingModeSummary = try member(.billingModeSummary, orWhenDeleting: BillingModeSummary(billingMode: .provisioned))
        tableClassSummary = try member(.tableClassSummary, orWhenDeleting: TableClassSummary(tableClass: .standard))
        deletionProtectionEnabled = try member(.deletionProtectionEnabled, orWhenDeleting: false)
        tableId = try member(.tableId, orWhenDeleting: "")
        onDemandThroughput = try container.decodeIfPresent(OnDemandThroughput.self, forKey: .onDemandThroughput)
        streamSpecification = try container.decodeIfPresent(StreamSpecification.self, forKey: .streamSpecification)
        latestStreamArn = try container.decodeIfPresent(String.self, forKey: .latestStreamArn)
        latestStreamLabel = try container.decodeIfPresent(String.self, forKey: .latestStreamLabel)
        globalSecondaryIndexes = try container.decodeIfPresent([GlobalSecondaryIndexDescription].self, forKey: .globalSecondaryIndexes)
        localSecondaryIndexes = try container.decodeIfPresent([LocalSecondaryIndexDescription].self, forKey: .localSecondaryIndexes)
    }

    /// Encodes the description as DynamoDB's JSON. The description of a `DELETING` table (DeleteTable's
    /// answer) holds only what DynamoDB returns for one: its name, status, provisioned throughput, size,
    /// item count and ARN; not its key schema, attribute definitions, creation time, indexes or stream.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(tableName, forKey: .tableName)
        try container.encode(tableStatus, forKey: .tableStatus)
        try container.encode(provisionedThroughput, forKey: .provisionedThroughput)
        try container.encode(tableSizeBytes, forKey: .tableSizeBytes)
        try container.encode(itemCount, forKey: .itemCount)
        try container.encode(tableArn, forKey: .tableArn)
        guard tableStatus != .deleting else { return }
        try container.encode(keySchema, forKey: .keySchema)
        try container.encode(attributeDefinitions, forKey: .attributeDefinitions)
        try container.encode(creationDateTime, forKey: .creationDateTime)
        try container.encode(billingModeSummary, forKey: .billingModeSummary)
        try container.encodeIfPresent(onDemandThroughput, forKey: .onDemandThroughput)
        try container.encode(tableClassSummary, forKey: .tableClassSummary)
        try container.encode(deletionProtectionEnabled, forKey: .deletionProtectionEnabled)
        try container.encode(tableId, forKey: .tableId)
        try container.encodeIfPresent(streamSpecification, forKey: .streamSpecification)
        try container.encodeIfPresent(latestStreamArn, forKey: .latestStreamArn)
        try container.encodeIfPresent(latestStreamLabel, forKey: .latestStreamLabel)
        try container.encodeIfPresent(globalSecondaryIndexes, forKey: .globalSecondaryIndexes)
        try container.encodeIfPresent(localSecondaryIndexes, forKey: .localSecondaryIndexes)
    }
}
