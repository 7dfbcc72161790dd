/// Enables or disables Time to Live on a table: ``Database/updateTimeToLive(_:)``'s request and result.
public struct TimeToLiveSpecification: Codable, Sendable, Equatable {
    /// Whether expired items are deleted.
    public var enabled: Bool
    /// The top-level attribute holding an item's expiry, in seconds since 1970 (a Number; any other type
    /// never expires the item). 1 to 255 characters.
    public var attributeName: String

    public init(enabled: Bool, attributeName: String) {
        self.enabled = enabled
        self.attributeName = attributeName
    }

    enum CodingKeys: String, CodingKey {
        case enabled = "Enabled", attributeName = "AttributeName"
    }
}

/// The request of ``Database/updateTimeToLive(_:)``.
public struct UpdateTimeToLiveInput: Codable, Sendable {
    public var tableName: String
    public var timeToLiveSpecification: TimeToLiveSpecification

    public init(tableName: String, timeToLiveSpecification: TimeToLiveSpecification) {
        self.tableName = tableName
        self.timeToLiveSpecification = timeToLiveSpecification
    }

    enum CodingKeys: String, CodingKey {
        case tableName = "TableName", timeToLiveSpecification = "TimeToLiveSpecification"
    }
}

/// The result of ``Database/updateTimeToLive(_:)``: the specification now in force.
public struct UpdateTimeToLiveOutput: Codable, Sendable, Equatable {
    public var timeToLiveSpecification: TimeToLiveSpecification

    enum CodingKeys: String, CodingKey {
        case timeToLiveSpecification = "TimeToLiveSpecification"
    }
}

/// The request of ``Database/describeTimeToLive(_:)``.
public struct DescribeTimeToLiveInput: Codable, Sendable {
    public var tableName: String

    public init(tableName: String) {
        self.tableName = tableName
    }

    enum CodingKeys: String, CodingKey {
        case tableName = "TableName"
    }
}

/// Whether a table's Time to Live is on. Eddy applies a change at once, so it never reports `ENABLING` or
/// `DISABLING`, which DynamoDB shows while a change propagates.
public enum TimeToLiveStatus: String, Codable, Sendable, CaseIterable {
    case enabling = "ENABLING"
    case disabling = "DISABLING"
    case enabled = "ENABLED"
    case disabled = "DISABLED"
}

/// A table's Time to Live as ``Database/describeTimeToLive(_:)`` reports it.
public struct TimeToLiveDescription: Codable, Sendable, Equatable {
    public var timeToLiveStatus: TimeToLiveStatus
    /// The expiry attribute, while Time to Live is enabled.
    public var attributeName: String?

    enum CodingKeys: String, CodingKey {
        case timeToLiveStatus = "TimeToLiveStatus", attributeName = "AttributeName"
    }
}

/// The result of ``Database/describeTimeToLive(_:)``.
public struct DescribeTimeToLiveOutput: Codable, Sendable, Equatable {
    public var timeToLiveDescription: TimeToLiveDescription

    enum CodingKeys: String, CodingKey {
        case timeToLiveDescription = "TimeToLiveDescription"
    }
}

/// A table's Time to Live setting as the catalog keeps it.
struct TimeToLiveSetting: Codable, Sendable, Equatable {
    var attributeName: String
    var enabled: Bool
    /// When UpdateTimeToLive last changed it (database clock, milliseconds), for the once-an-hour rule.
    var updatedMilliseconds: Int64
}
