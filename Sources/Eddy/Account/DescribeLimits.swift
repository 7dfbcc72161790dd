/// DynamoDB's capacity quotas for the account and for one table (DynamoDB's `DescribeLimits` answer).
public struct DescribeLimitsOutput: Codable, Sendable, Equatable {
    public var accountMaxReadCapacityUnits: Int
    public var accountMaxWriteCapacityUnits: Int
    public var tableMaxReadCapacityUnits: Int
    public var tableMaxWriteCapacityUnits: Int

    enum CodingKeys: String, CodingKey {
        case accountMaxReadCapacityUnits = "AccountMaxReadCapacityUnits"
        case accountMaxWriteCapacityUnits = "AccountMaxWriteCapacityUnits"
        case tableMaxReadCapacityUnits = "TableMaxReadCapacityUnits"
        case tableMaxWriteCapacityUnits = "TableMaxWriteCapacityUnits"
    }
}

extension Database {
    /// The capacity quotas (DynamoDB's `DescribeLimits`): DynamoDB's defaults, 80,000 read and write
    /// capacity units for the account and 40,000 for one table. Eddy enforces no capacity, so tools that
    /// size tables by these figures see what they would see in a new AWS account.
    public func describeLimits() -> DescribeLimitsOutput {
        DescribeLimitsOutput(
            accountMaxReadCapacityUnits: Limits.accountCapacityUnitsMax,
            accountMaxWriteCapacityUnits: Limits.accountCapacityUnitsMax,
            tableMaxReadCapacityUnits: Limits.tableCapacityUnitsMax,
            tableMaxWriteCapacityUnits: Limits.tableCapacityUnitsMax)
    }
}
