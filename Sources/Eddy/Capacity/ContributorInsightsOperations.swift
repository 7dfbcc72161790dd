/// Whether ``Database/updateContributorInsights(_:)`` turns Contributor Insights on or off.
public enum ContributorInsightsAction: String, Codable, Sendable, CaseIterable {
    case enable = "ENABLE"
    case disable = "DISABLE"
}

/// What Contributor Insights keeps: the most accessed and the most throttled keys, or the throttled ones only.
public enum ContributorInsightsMode: String, Codable, Sendable, CaseIterable {
    /// Every admitted request's keys, with the capacity units it consumed, and every throttled request's.
    case accessedAndThrottledKeys = "ACCESSED_AND_THROTTLED_KEYS"
    /// Only the keys of throttled requests.
    case throttledKeys = "THROTTLED_KEYS"
}

/// Where Contributor Insights of a table or global index stands. Eddy applies a change at once, so it answers
/// `ENABLED` or `DISABLED` only; DynamoDB shows `ENABLING` and `DISABLING` while it creates or deletes its
/// CloudWatch rules, and `FAILED` when that failed.
public enum ContributorInsightsStatus: String, Codable, Sendable, CaseIterable {
    case enabling = "ENABLING"
    case enabled = "ENABLED"
    case disabling = "DISABLING"
    case disabled = "DISABLED"
    case failed = "FAILED"
}

/// The request of ``Database/updateContributorInsights(_:)``.
public struct UpdateContributorInsightsInput: Codable, Sendable {
    public var tableName: String
    /// A global secondary index of the table; nil for the table itself.
    public var indexName: String?
    public var contributorInsightsAction: ContributorInsightsAction
    /// `ACCESSED_AND_THROTTLED_KEYS` when nil.
    public var contributorInsightsMode: ContributorInsightsMode?

    public init(
        tableName: String, indexName: String? = nil, contributorInsightsAction: ContributorInsightsAction,
        contributorInsightsMode: ContributorInsightsMode? = nil
    ) {
        self.tableName = tableName
        self.indexName = indexName
        self.contributorInsightsAction = contributorInsightsAction
        self.contributorInsightsMode = contributorInsightsMode
    }

    enum CodingKeys: String, CodingKey {
        case tableName = "TableName", indexName = "IndexName", contributorInsightsAction = "ContributorInsightsAction"
        case contributorInsightsMode = "ContributorInsightsMode"
    }
}

/// The result of ``Database/updateContributorInsights(_:)``: the status and mode now in force, in the shape of
/// a ``ContributorInsightsSummary`` (DynamoDB's two shapes have the same members).
public typealias UpdateContributorInsightsOutput = ContributorInsightsSummary

/// The request of ``Database/describeContributorInsights(_:)``.
public struct DescribeContributorInsightsInput: Codable, Sendable {
    public var tableName: String
    /// A global secondary index of the table; nil for the table itself.
    public var indexName: String?

    public init(tableName: String, indexName: String? = nil) {
        self.tableName = tableName
        self.indexName = indexName
    }

    enum CodingKeys: String, CodingKey { case tableName = "TableName", indexName = "IndexName" }
}

/// The result of ``Database/describeContributorInsights(_:)``. `FailureException` is never set: Eddy's
/// changes do not fail halfway.
public struct DescribeContributorInsightsOutput: Codable, Sendable, Equatable {
    public var tableName: String
    public var indexName: String?
    /// The rules kept while enabled, named as DynamoDB names its CloudWatch rules (see
    /// ``ContributorInsightsRule``); nil while disabled.
    public var contributorInsightsRuleList: [String]?
    public var contributorInsightsStatus: ContributorInsightsStatus
    /// When the status last changed, in seconds since 1970; nil if it never did.
    public var lastUpdateDateTime: Double?
    public var contributorInsightsMode: ContributorInsightsMode?

    enum CodingKeys: String, CodingKey {
        case tableName = "TableName", indexName = "IndexName", contributorInsightsRuleList = "ContributorInsightsRuleList"
        case contributorInsightsStatus = "ContributorInsightsStatus", lastUpdateDateTime = "LastUpdateDateTime"
        case contributorInsightsMode = "ContributorInsightsMode"
    }
}

/// The request of ``Database/listContributorInsights(_:)``.
public struct ListContributorInsightsInput: Codable, Sendable {
    /// The table whose table and global indexes are listed; nil for every table and index with Contributor
    /// Insights enabled.
    public var tableName: String?
    /// At most this many summaries (1 to 100; 100 when nil).
    public var maxResults: Int?
    /// Where the previous page stopped.
    public var nextToken: String?

    public init(tableName: String? = nil, maxResults: Int? = nil, nextToken: String? = nil) {
        self.tableName = tableName
        self.maxResults = maxResults
        self.nextToken = nextToken
    }

    enum CodingKeys: String, CodingKey { case tableName = "TableName", maxResults = "MaxResults", nextToken = "NextToken" }
}

/// One table or global index in ``ListContributorInsightsOutput``, and the result of
/// ``Database/updateContributorInsights(_:)``.
public struct ContributorInsightsSummary: Codable, Sendable, Equatable {
    public var tableName: String
    public var indexName: String?
    public var contributorInsightsStatus: ContributorInsightsStatus
    /// The mode in force; nil while disabled.
    public var contributorInsightsMode: ContributorInsightsMode?

    enum CodingKeys: String, CodingKey {
        case tableName = "TableName", indexName = "IndexName", contributorInsightsStatus = "ContributorInsightsStatus"
        case contributorInsightsMode = "ContributorInsightsMode"
    }
}

/// The result of ``Database/listContributorInsights(_:)``.
public struct ListContributorInsightsOutput: Codable, Sendable, Equatable {
    public var contributorInsightsSummaries: [ContributorInsightsSummary]
    /// Set when more summaries follow: pass it as the next request's `NextToken`.
    public var nextToken: String?

    enum CodingKeys: String, CodingKey { case contributorInsightsSummaries = "ContributorInsightsSummaries", nextToken = "NextToken" }
}

/// One of the four CloudWatch Contributor Insights rules DynamoDB keeps for a table or global index: the most
/// accessed and the most throttled partition keys, and, where there is a sort key, partition and sort keys.
public enum ContributorInsightsRule: String, Codable, Sendable, CaseIterable {
    /// Most accessed items, by partition key (in capacity units consumed).
    case partitionKeyAccessed = "PKC"
    /// Most throttled keys, by partition key (in throttled requests).
    case partitionKeyThrottled = "PKT"
    /// Most accessed items, by partition and sort key.
    case sortKeyAccessed = "SKC"
    /// Most throttled keys, by partition and sort key.
    case sortKeyThrottled = "SKT"

    /// Whether the rule counts throttled requests (rather than consumed units).
    public var countsThrottles: Bool { self == .partitionKeyThrottled || self == .sortKeyThrottled }

    /// Whether the rule keys by partition and sort key.
    public var hasSortKey: Bool { self == .sortKeyAccessed || self == .sortKeyThrottled }

    /// The rules kept for a resource in `mode`, with a sort key or without, in DynamoDB's order.
    static func rules(mode: ContributorInsightsMode, hasSortKey: Bool) -> [ContributorInsightsRule] {
        allCases.filter { (mode == .accessedAndThrottledKeys || $0.countsThrottles) && (hasSortKey || !$0.hasSortKey) }
    }
}

/// The top keys of one rule over the last minute: what CloudWatch reports for DynamoDB's rule.
public struct ContributorInsightsRuleReport: Codable, Sendable, Equatable {
    /// The rule's name, as in ``DescribeContributorInsightsOutput/contributorInsightsRuleList``.
    public var ruleName: String
    public var rule: ContributorInsightsRule
    /// The top keys, most first; at most ``Limits/contributorInsightsKeysReported``.
    public var contributors: [ContributorInsightsContributor]

    enum CodingKeys: String, CodingKey { case ruleName = "RuleName", rule = "Rule", contributors = "Contributors" }
}

/// A key and what it contributed: capacity units for the accessed rules, throttled requests for the others.
public struct ContributorInsightsContributor: Codable, Sendable, Equatable {
    public var partitionKey: AttributeValue
    /// Set in the partition-and-sort-key rules.
    public var sortKey: AttributeValue?
    public var value: Double

    enum CodingKeys: String, CodingKey { case partitionKey = "PartitionKey", sortKey = "SortKey", value = "Value" }
}

/// The top keys of a table or global index with Contributor Insights enabled
/// (``Database/contributorInsightsReport(tableName:indexName:)``).
public struct ContributorInsightsReport: Codable, Sendable, Equatable {
    public var tableName: String
    public var indexName: String?
    public var contributorInsightsMode: ContributorInsightsMode
    public var rules: [ContributorInsightsRuleReport]

    enum CodingKeys: String, CodingKey {
        case tableName = "TableName", indexName = "IndexName", contributorInsightsMode = "ContributorInsightsMode", rules = "Rules"
    }
}
