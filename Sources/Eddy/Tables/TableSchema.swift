import Foundation

/// The type of a key attribute: `S`, `N` or `B`.
public enum ScalarAttributeType: String, Codable, Sendable, CaseIterable {
    case s = "S"
    case n = "N"
    case b = "B"
}

/// The role of a key attribute: partition key (`HASH`) or sort key (`RANGE`).
public enum KeyType: String, Codable, Sendable, CaseIterable {
    case hash = "HASH"
    case range = "RANGE"
}

/// One element of a table's key schema.
public struct KeySchemaElement: Codable, Sendable, Equatable {
    public var attributeName: String
    public var keyType: KeyType

    public init(attributeName: String, keyType: KeyType) {
        self.attributeName = attributeName
        self.keyType = keyType
    }

    enum CodingKeys: String, CodingKey {
        case attributeName = "AttributeName", keyType = "KeyType"
    }
}

/// The declared type of an attribute used in a key schema.
public struct AttributeDefinition: Codable, Sendable, Equatable {
    public var attributeName: String
    public var attributeType: ScalarAttributeType

    public init(attributeName: String, attributeType: ScalarAttributeType) {
        self.attributeName = attributeName
        self.attributeType = attributeType
    }

    enum CodingKeys: String, CodingKey {
        case attributeName = "AttributeName", attributeType = "AttributeType"
    }
}

/// How a table is billed: `PROVISIONED` (the DynamoDB default) or `PAY_PER_REQUEST` (on demand).
public enum BillingMode: String, Codable, Sendable, CaseIterable {
    case provisioned = "PROVISIONED"
    case payPerRequest = "PAY_PER_REQUEST"
}

/// Provisioned read and write capacity units of a `PROVISIONED` table.
public struct ProvisionedThroughput: Codable, Sendable, Equatable {
    public var readCapacityUnits: Int64
    public var writeCapacityUnits: Int64

    public init(readCapacityUnits: Int64, writeCapacityUnits: Int64) {
        self.readCapacityUnits = readCapacityUnits
        self.writeCapacityUnits = writeCapacityUnits
    }

    enum CodingKeys: String, CodingKey {
        case readCapacityUnits = "ReadCapacityUnits", writeCapacityUnits = "WriteCapacityUnits"
    }
}

/// The most read and write request units per second a `PAY_PER_REQUEST` table takes (DynamoDB's
/// `OnDemandThroughput`): requests past them are throttled with `ThrottlingException`.
///
/// Each member is at least 1; in UpdateTable, -1 removes that maximum and an absent member keeps it.
/// DescribeTable shows -1 for a maximum not set.
///
/// ```swift
/// try await db.createTable(CreateTableInput(
///     tableName: "Events", keySchema: keySchema, attributeDefinitions: definitions,
///     billingMode: .payPerRequest,
///     onDemandThroughput: OnDemandThroughput(maxReadRequestUnits: 100, maxWriteRequestUnits: 50)))
/// ```
public struct OnDemandThroughput: Codable, Sendable, Equatable {
    public var maxReadRequestUnits: Int64?
    public var maxWriteRequestUnits: Int64?

    public init(maxReadRequestUnits: Int64? = nil, maxWriteRequestUnits: Int64? = nil) {
        self.maxReadRequestUnits = maxReadRequestUnits
        self.maxWriteRequestUnits = maxWriteRequestUnits
    }

    enum CodingKeys: String, CodingKey {
        case maxReadRequestUnits = "MaxReadRequestUnits", maxWriteRequestUnits = "MaxWriteRequestUnits"
    }
}

/// The storage class of a table.
public enum TableClass: String, Codable, Sendable, CaseIterable {
    case standard = "STANDARD"
    case standardInfrequentAccess = "STANDARD_INFREQUENT_ACCESS"
}

/// The lifecycle state of a table.
public enum TableStatus: String, Codable, Sendable {
    case creating = "CREATING"
    case updating = "UPDATING"
    case deleting = "DELETING"
    case active = "ACTIVE"
}

/// A table's key: the partition key and, for composite keys, the sort key, with their types.
public struct PrimaryKeySchema: Sendable, Equatable, Codable {
    public var partitionKeyName: String
    public var partitionKeyType: ScalarAttributeType
    public var sortKeyName: String?
    public var sortKeyType: ScalarAttributeType?

    /// The names of the key attributes, partition key first.
    public var attributeNames: [String] {
        [partitionKeyName] + (sortKeyName.map { [$0] } ?? [])
    }
}
