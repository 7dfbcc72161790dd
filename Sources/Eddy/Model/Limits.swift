/// DynamoDB's limits, in one place (AWS Developer Guide, "Quotas in Amazon DynamoDB").
///
/// Every check in Eddy refers to a constant here, never to a literal.
public enum Limits {
    /// Largest item, in bytes as DynamoDB counts them (names plus values): 400 KB.
    public static let itemSizeBytesMax = 409_600
    /// Largest partition key value, in bytes.
    public static let partitionKeySizeBytesMax = 2048
    /// Largest sort key value, in bytes.
    public static let sortKeySizeBytesMax = 1024
    /// Deepest nesting of lists and maps in an attribute value.
    public static let nestingDepthMax = 32
    /// Most steps (names and list indexes) in one document path of an expression.
    public static let documentPathDepthMax = 32
    /// Significant decimal digits of a Number.
    public static let numberSignificantDigitsMax = 38
    /// Table names: 3 to 255 characters of `[a-zA-Z0-9_.-]`.
    public static let tableNameLengthRange = 3...255
    /// Attribute names (of keys and definitions): 1 to 255 bytes.
    public static let keyAttributeNameLengthRange = 1...255
    /// Attribute names in general: 1 to 65535 bytes.
    public static let attributeNameLengthMax = 65_535
    /// Items a Query or Scan reads into one page before stopping: 1 MB of item sizes.
    public static let pageSizeBytesMax = 1_048_576
    /// Keys one BatchGetItem may ask for.
    public static let batchGetItemKeysMax = 100
    /// Total size of the items one BatchGetItem returns: 16 MB.
    public static let batchGetItemResponseBytesMax = 16 * 1_048_576
    /// Put and delete requests in one BatchWriteItem.
    public static let batchWriteItemRequestsMax = 25
    /// Actions in one TransactWriteItems, reads in one TransactGetItems.
    public static let transactionActionsMax = 100
    /// Total size of one TransactWriteItems: 4 MB.
    public static let transactionSizeBytesMax = 4 * 1_048_576
    /// How long a TransactWriteItems' ClientRequestToken makes it idempotent after it completes.
    public static let clientRequestTokenLifetimeMilliseconds: Int64 = 600_000
    /// Tables one ListTables page returns.
    public static let listTablesLimitMax = 100
    /// Segments of a parallel scan.
    public static let scanTotalSegmentsMax = 1_000_000
    /// Tables per database (DynamoDB's default per-Region quota).
    public static let tablesMax = 2500
    /// Global secondary indexes per table.
    public static let globalSecondaryIndexesMax = 20
    /// Local secondary indexes per table (created with the table only).
    public static let localSecondaryIndexesMax = 5
    /// Non-key attributes projected with `INCLUDE`, counted over all of a table's indexes.
    public static let projectedNonKeyAttributesMax = 100
    /// The size of an item collection (a partition key value's items and local index entries) of a table
    /// with local secondary indexes.
    public static let itemCollectionSizeBytesMax: Int64 = 10 * 1_073_741_824
    /// Longest expression string (any kind), in bytes: 4 KB.
    public static let expressionLengthMax = 4096
    /// Longest `#name` or `:value` placeholder, in bytes, including its `#`/`:`.
    public static let expressionPlaceholderLengthMax = 255
    /// Total size of one request's ExpressionAttributeNames and ExpressionAttributeValues: 2 MB.
    public static let expressionSubstitutionBytesMax = 2 * 1_048_576
    /// Operators and functions in one UpdateExpression.
    public static let updateExpressionOperatorsMax = 300
    /// Operands to the right of one `IN`.
    public static let inOperandsMax = 100
    /// How long a stream keeps a record: 24 hours, fixed, as in DynamoDB Streams.
    public static let streamRetentionMilliseconds: Int64 = 24 * 3600 * 1000
    /// How long a shard iterator stays valid: 15 minutes.
    public static let shardIteratorLifetimeMilliseconds: Int64 = 15 * 60 * 1000
    /// The most records one GetRecords call returns.
    public static let getRecordsLimitMax = 1000
    /// The most data one GetRecords call returns: 1 MB.
    public static let getRecordsBytesMax = 1_048_576
    /// The most data one trigger batch carries: 6 MB, AWS Lambda's invocation payload limit.
    public static let triggerBatchBytesMax = 6 * 1_048_576
    /// The largest tumbling-window state a trigger handler may carry per shard: 1 MB; a larger state ends
    /// the window early.
    public static let tumblingWindowStateBytesMax = 1_048_576
    /// The most streams or shards one ListStreams or DescribeStream page holds.
    public static let streamsPageLimitMax = 100
    /// User tags on one table ("Tagging restrictions in DynamoDB"); keys starting `aws:` are AWS's own.
    public static let tagsPerResourceMax = 50
    /// A tag key's length, in characters.
    public static let tagKeyLengthRange = 1...128
    /// A tag value's length, in characters.
    public static let tagValueLengthMax = 256
    /// The most tags one ListTagsOfResource page holds: Eddy's choice (the API reference does not say);
    /// more are behind `NextToken`.
    public static let listTagsPageLimitMax = 10
    /// Read or write capacity units of all of an account's tables in a Region, DynamoDB's default quota
    /// (DescribeLimits).
    public static let accountCapacityUnitsMax = 80_000
    /// Read or write capacity units of one table and its global indexes, DynamoDB's default quota
    /// (DescribeLimits).
    public static let tableCapacityUnitsMax = 40_000
    /// How much unused capacity a provisioned table or global index keeps as burst: 300 seconds of its
    /// provisioned rate ("Burst and adaptive capacity").
    public static let burstSecondsMax: Double = 300
    /// Read units one partition key value serves per second, in either billing mode; burst does not lift it.
    public static let partitionKeyReadUnitsPerSecondMax: Double = 3000
    /// Write units one partition key value serves per second, in either billing mode; a mix of reads and
    /// writes is held to `reads / 3000 + writes / 1000 ≤ 1`.
    public static let partitionKeyWriteUnitsPerSecondMax: Double = 1000
    /// Partition key values whose recent use Eddy keeps for one table and its global indexes: Eddy's
    /// bound on memory, not DynamoDB's. A value idle for a second has nothing to remember; past this bound
    /// the least recently used are forgotten (and so start again with a full second).
    public static let partitionKeysTrackedMax = 100_000
    /// Keys reported per Contributor Insights rule: CloudWatch's reports of DynamoDB's rules show the top 10.
    public static let contributorInsightsKeysReported = 10
    /// Keys counted per Contributor Insights rule and minute (Eddy's bound on memory): four times those
    /// reported, so that the space-saving counts of the reported ones stay exact unless traffic is very even.
    public static let contributorInsightsKeysTracked = 40
    /// Most summaries on one page of ListContributorInsights.
    public static let listContributorInsightsResultsMax = 100
    /// Read or write request units per second of one `PAY_PER_REQUEST` table or global index, DynamoDB's
    /// default per-table quota ("Service, account, and table quotas").
    public static let onDemandRequestUnitsPerSecondMax: Double = 40_000
    /// Decreases of a table's (or a global index's) provisioned throughput allowed at any time of a UTC day.
    public static let provisionedDecreasesAnyTimePerDay = 4
    /// After those, one more decrease per this many seconds since the last one.
    public static let provisionedDecreaseIntervalSeconds: Double = 3600
    /// Decreases allowed in one UTC day: 4, then one per hour.
    public static let provisionedDecreasesPerDayMax = 27
    /// Switches of a table from PROVISIONED to PAY_PER_REQUEST allowed in a rolling window of
    /// ``payPerRequestSwitchWindowSeconds`` ("Considerations when switching capacity modes").
    public static let payPerRequestSwitchesPerWindowMax = 4
    /// The rolling window of ``payPerRequestSwitchesPerWindowMax``: 24 hours.
    public static let payPerRequestSwitchWindowSeconds: Double = 86_400
}
