/// The capacity of a table and its global secondary indexes as they stand
/// (``Database/describeCapacity(tableName:)``): what `eddy tables describe --capacity` shows.
public struct TableCapacityDescription: Codable, Sendable, Equatable {
    public var tableName: String
    public var billingMode: BillingMode
    /// The table first, then its global secondary indexes by name.
    public var resources: [ResourceCapacity]

    enum CodingKeys: String, CodingKey { case tableName = "TableName", billingMode = "BillingMode", resources = "Resources" }
}

/// The capacity of a table or of one of its global secondary indexes.
public struct ResourceCapacity: Codable, Sendable, Equatable {
    /// Nil for the table.
    public var indexName: String?
    /// The provisioned throughput of a `PROVISIONED` table or index; nil on demand.
    public var provisionedThroughput: ProvisionedThroughput?
    /// The minute before the one in progress: CloudWatch's latest one-minute datapoint.
    public var lastMinute: CapacityMinute
    /// The minute in progress, so far.
    public var currentMinute: CapacityMinute
    public var contributorInsightsStatus: ContributorInsightsStatus

    enum CodingKeys: String, CodingKey {
        case indexName = "IndexName", provisionedThroughput = "ProvisionedThroughput", lastMinute = "LastMinute"
        case currentMinute = "CurrentMinute", contributorInsightsStatus = "ContributorInsightsStatus"
    }
}

extension Database {
    /// The provisioned throughput, the units consumed and the throttle events of the last minute, and the
    /// Contributor Insights status of a table and each of its global secondary indexes. What was consumed is
    /// counted in memory since the database opened, whether or not throttling is enforced.
    ///
    /// - Throws: `ResourceNotFoundException` if there is no such table.
    public func describeCapacity(tableName: String) throws(EddyError) -> TableCapacityDescription {
        let table = try resolveTable(tableName)
        let definition = table.definition
        let provisioned = definition.billingMode == .provisioned
        func resource(_ index: String?, _ throughput: ProvisionedThroughput?, _ insights: ContributorInsightsSetting?) -> ResourceCapacity {
            let minutes = table.meter.lastAndCurrentMinutes(indexName: index)
            return ResourceCapacity(
                indexName: index, provisionedThroughput: provisioned ? throughput ?? definition.provisionedThroughput : nil,
                lastMinute: minutes.last, currentMinute: minutes.current,
                contributorInsightsStatus: insights?.enabled == true ? .enabled : .disabled)
        }
        let indexes = (definition.indexes ?? []).filter { $0.kind == .global }.sorted { $0.name < $1.name }
        return TableCapacityDescription(
            tableName: table.name, billingMode: definition.billingMode,
            resources: [resource(nil, definition.provisionedThroughput, definition.contributorInsights)]
                + indexes.map { resource($0.name, $0.provisionedThroughput, $0.contributorInsights) })
    }
}
