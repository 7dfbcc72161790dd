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
    /// When the table last became PAY_PER_REQUEST (created so, or switched to it), in seconds since 1970;
    /// nil if it never was.
    var lastUpdateToPayPerRequestDateTime: Double?
    var provisionedThroughput: ProvisionedThroughput?
    /// The table's maximum request units per second while `PAY_PER_REQUEST`; nil (or a nil member) for none.
    var onDemandThroughput: OnDemandThroughput?
    /// When the table's provisioned throughput last went up and down; nil if it never changed.
    var throughputChanges: ThroughputChanges?
    /// The same for each global secondary index whose provisioned throughput changed, by index name.
    var indexThroughputChanges: [String: ThroughputChanges]?
    /// When the table switched from PROVISIONED to PAY_PER_REQUEST in the last 24 hours, in seconds since 1970.
    var payPerRequestSwitchDateTimes: [Double]?
    var tableClass: TableClass
    var deletionProtectionEnabled: Bool
    /// The table's most recent stream, enabled or not; nil if it never had one.
    var latestStream: LatestStream?
    /// The table's Time to Live, enabled or not; nil if UpdateTimeToLive was never called.
    var timeToLive: TimeToLiveSetting?
    /// The table's secondary indexes, global and local; nil (none) in catalogs written before indexes.
    var indexes: [IndexDefinition]?
    /// Counts the changes to the set of indexes, the expiry index included (Time to Live enabled or
    /// disabled); a write prepared for another version is prepared again.
    var indexVersion: UInt64?
    /// The table's tags, sorted by key; nil when it has none (and in catalogs written before tags).
    var tags: [Tag]?
    /// The table's Contributor Insights, enabled or not; nil if UpdateContributorInsights never named it.
    var contributorInsights: ContributorInsightsSetting?

    /// The primary key derived from `keySchema` and `attributeDefinitions` (validated at creation).
    var primaryKey: PrimaryKeySchema {
        PrimaryKeySchema(keySchema: keySchema, definitions: attributeDefinitions)
    }
}

/// A table opened for item operations: its definition with the key schema resolved once. A class: every
/// operation takes it from the catalog, and a copy is then one reference, not its fields' retains.
final class ResolvedTable: Sendable {
    let definition: TableDefinition
    let key: PrimaryKeySchema
    /// The key attribute names with their types, partition key first; resolved once, read on every operation.
    let keyAttributes: [(String, ScalarAttributeType)]
    /// The id of the stream recording the table's changes, 0 if none.
    let activeStreamId: UInt64
    /// What the active stream records; nil if there is none.
    let streamViewType: StreamViewType?
    /// Where the table's items are keyed.
    let layout: KeyLayout
    /// The secondary indexes every write maintains (those being created too).
    let indexes: [ResolvedIndex]
    /// While Time to Live is enabled: which attribute files each item in the expiry index.
    let expiry: ExpiryRule?
    /// Whether the table or one of its global indexes has Contributor Insights enabled: only then do its
    /// requests feed ``ContributorInsightsTracker``.
    let observesContributors: Bool
    /// The table's capacity and what requests consume of it, kept across changes of its definition.
    let meter: TableMeter

    /// `clock` is the database clock, which the expiry rule reads; `meter` is the table's.
    init(_ definition: TableDefinition, clock: any WallClock, meter: TableMeter) {
        self.definition = definition
        self.meter = meter
        let key = definition.primaryKey
        self.key = key
        layout = KeyLayout(id: definition.id, key: key, tableKey: nil)
        indexes = (definition.indexes ?? []).map { ResolvedIndex($0, table: definition, tableKey: key) }
        var attributes = [(key.partitionKeyName, key.partitionKeyType)]
        if let name = key.sortKeyName, let type = key.sortKeyType { attributes.append((name, type)) }
        self.keyAttributes = attributes
        let stream = definition.latestStream.flatMap { $0.enabled ? $0 : nil }
        self.activeStreamId = stream?.id ?? 0
        self.streamViewType = stream?.viewType
        expiry = definition.timeToLive.flatMap { setting in
            setting.enabled ? ExpiryRule(attributeName: setting.attributeName, clock: clock) : nil
        }
        observesContributors =
            definition.contributorInsights?.enabled == true
            || (definition.indexes ?? []).contains { $0.kind == .global && $0.contributorInsights?.enabled == true }
    }

    var id: UInt64 { definition.id }
    var name: String { definition.name }
    var indexVersion: UInt64 { definition.indexVersion ?? 0 }

    /// Whether the table has local secondary indexes, and so item collections.
    var hasLocalIndexes: Bool { indexes.contains { !$0.isGlobal } }

    /// The index named `name`, or nil.
    func index(named name: String) -> ResolvedIndex? {
        indexes.first { $0.name == name }
    }
}
