import Foundation

/// A table as the catalog stores it: what CreateTable and UpdateTable decided.
///
/// `id` is unique for the life of the database and never reused, so the items of a deleted table can never
/// be mistaken for those of a new table of the same name.
struct TableDefinition: Codable, Sendable, Equatable {
    var name: String
    var id: UInt64
    var tableUUID: String
    var keySchema: [KeySchemaElement]
    var attributeDefinitions: [AttributeDefinition]
    var creationDateTime: Double
    var billingMode: BillingMode
    var provisionedThroughput: ProvisionedThroughput?
    var tableClass: TableClass
    var deletionProtectionEnabled: Bool
    /// The table's most recent stream, enabled or not; nil if it never had one.
    var latestStream: LatestStream?
    /// The table's Time to Live, enabled or not; nil if UpdateTimeToLive was never called.
    var timeToLive: TimeToLiveSetting?

    /// The primary key derived from `keySchema` and `attributeDefinitions` (validated at creation).
    var primaryKey: PrimaryKeySchema {
        func type(of name: String) -> ScalarAttributeType {
            attributeDefinitions.first { $0.attributeName == name }!.attributeType
        }
        let hash = keySchema.first { $0.keyType == .hash }!.attributeName
        let range = keySchema.first { $0.keyType == .range }?.attributeName
        return PrimaryKeySchema(
            partitionKeyName: hash,
            partitionKeyType: type(of: hash),
            sortKeyName: range,
            sortKeyType: range.map(type(of:))
        )
    }
}

/// A table opened for item operations: its definition with the key schema resolved once.
struct ResolvedTable: Sendable {
    let definition: TableDefinition
    let key: PrimaryKeySchema
    /// The key attribute names with their types, partition key first; resolved once, read on every operation.
    let keyAttributes: [(String, ScalarAttributeType)]
    /// The id of the stream recording the table's changes, 0 if none.
    let activeStreamId: UInt64
    /// What the active stream records; nil if there is none.
    let streamViewType: StreamViewType?

    init(_ definition: TableDefinition) {
        self.definition = definition
        let key = definition.primaryKey
        self.key = key
        var attributes = [(key.partitionKeyName, key.partitionKeyType)]
        if let name = key.sortKeyName, let type = key.sortKeyType { attributes.append((name, type)) }
        self.keyAttributes = attributes
        let stream = definition.latestStream.flatMap { $0.enabled ? $0 : nil }
        self.activeStreamId = stream?.id ?? 0
        self.streamViewType = stream?.viewType
    }

    var id: UInt64 { definition.id }
    var name: String { definition.name }
}
