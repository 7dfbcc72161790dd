import EddyStorage

/// Contributor Insights of a table or a global index, as its definition keeps it.
struct ContributorInsightsSetting: Codable, Sendable, Equatable {
    var enabled: Bool
    var mode: ContributorInsightsMode
    /// When the status or the mode last changed, in milliseconds since 1970.
    var updatedMilliseconds: Int64
    /// When it was last enabled, which names the rules (DynamoDB's `[creationtimestamp]`).
    var enabledMilliseconds: Int64
}

extension Database {
    /// Enables or disables Contributor Insights on a table or one of its global secondary indexes (DynamoDB's
    /// `UpdateContributorInsights`): while enabled, Eddy keeps its most accessed and most throttled keys over
    /// the last minute, which ``contributorInsightsReport(tableName:indexName:)``, the server's `/metrics` and
    /// its admin API show. The setting is kept in the table's definition, and goes with the table or index.
    ///
    /// Eddy applies the change at once: the status is `ENABLED` or `DISABLED`, never `ENABLING` or
    /// `DISABLING`. Enabling again changes only the mode; disabling a disabled table changes nothing.
    ///
    /// ```swift
    /// try await db.updateContributorInsights(UpdateContributorInsightsInput(
    ///     tableName: "Users", contributorInsightsAction: .enable, contributorInsightsMode: .throttledKeys))
    /// ```
    ///
    /// - Throws: `ResourceNotFoundException` if there is no such table or index; `ValidationException` for a
    ///   local secondary index, which shares its table's capacity and has no Contributor Insights of its own.
    @discardableResult
    public func updateContributorInsights(_ input: UpdateContributorInsightsInput) async throws(EddyError) -> UpdateContributorInsightsOutput {
        try requireOpen()
        try TableValidation.validateTableName(input.tableName)
        return try await locks.withLock(Self.catalogLockKey) { () async throws(EddyError) -> UpdateContributorInsightsOutput in
            let table = try insightsTable(input.tableName)
            let current = try insightsSetting(of: table, index: input.indexName)
            let enable = input.contributorInsightsAction == .enable
            let mode = input.contributorInsightsMode ?? .accessedAndThrottledKeys
            let now = configuration.clock.nowMilliseconds()
            var setting = current
            if enable {
                if current?.enabled != true {
                    setting = ContributorInsightsSetting(enabled: true, mode: mode, updatedMilliseconds: now, enabledMilliseconds: now)
                } else if current?.mode != mode {
                    setting?.mode = mode
                    setting?.updatedMilliseconds = now
                }
            } else if current?.enabled == true {
                setting?.enabled = false
                setting?.updatedMilliseconds = now
            }
            if setting != current {
                var definition = table.definition
                if let indexName = input.indexName, let position = definition.indexes?.firstIndex(where: { $0.name == indexName }) {
                    definition.indexes?[position].contributorInsights = setting
                } else {
                    definition.contributorInsights = setting
                }
                var batch = StorageBatch()
                catalog.store(definition, into: &batch)
                try await committer.commitCatalogChange(PreparedWrite(batch: batch, tables: [TableStamp(table)]))
                catalog.didStore(definition)
                let resource = input.indexName.flatMap { table.index(named: $0)?.definition.id } ?? table.id
                contributorInsights.forget([resource])
            }
            return Self.summary(table.name, input.indexName, setting)
        }
    }

    /// Contributor Insights of a table or one of its global secondary indexes (DynamoDB's
    /// `DescribeContributorInsights`): its status, mode, rules and when it last changed.
    ///
    /// - Throws: `ResourceNotFoundException` if there is no such table or index; `ValidationException` for a
    ///   local secondary index.
    public func describeContributorInsights(_ input: DescribeContributorInsightsInput) async throws(EddyError) -> DescribeContributorInsightsOutput {
        try requireOpen()
        try TableValidation.validateTableName(input.tableName)
        let table = try insightsTable(input.tableName)
        let setting = try insightsSetting(of: table, index: input.indexName)
        var output = DescribeContributorInsightsOutput(
            tableName: table.name, indexName: input.indexName, contributorInsightsStatus: setting?.enabled == true ? .enabled : .disabled,
            lastUpdateDateTime: setting.map { Double($0.updatedMilliseconds) / 1000 })
        if let setting, setting.enabled {
            output.contributorInsightsMode = setting.mode
            output.contributorInsightsRuleList = Self.rules(of: table, index: input.indexName, setting).map(\.name)
        }
        return output
    }

    /// The Contributor Insights status of a table and its global secondary indexes, or of every table and
    /// global index that has it enabled (DynamoDB's `ListContributorInsights`), by table name then index name,
    /// the table first.
    ///
    /// - Throws: `ResourceNotFoundException` if `tableName` names no table; `ValidationException` for a
    ///   `MaxResults` outside 1…100 or a `NextToken` this database did not give.
    public func listContributorInsights(_ input: ListContributorInsightsInput) async throws(EddyError) -> ListContributorInsightsOutput {
        try requireOpen()
        let pageSize = input.maxResults ?? Limits.listContributorInsightsResultsMax
        guard (1...Limits.listContributorInsightsResultsMax).contains(pageSize) else {
            throw TableValidation.constraint(
                value: String(pageSize), field: "maxResults", "Member must have value less than or equal to \(Limits.listContributorInsightsResultsMax)")
        }
        var summaries: [ContributorInsightsSummary] = []
        let tables: [ResolvedTable]
        if let name = input.tableName {
            try TableValidation.validateTableName(name)
            tables = [try insightsTable(name)]
        } else {
            tables = catalog.tableNames().compactMap { catalog.table(named: $0) }
        }
        for table in tables {
            let resources = [(nil, table.definition.contributorInsights)]
                + table.indexes.filter(\.isGlobal).map { ($0.name, $0.definition.contributorInsights) }
            for (indexName, setting) in resources where input.tableName != nil || setting?.enabled == true {
                summaries.append(Self.summary(table.name, indexName, setting))
            }
        }
        let start: Int
        if let token = input.nextToken {
            guard let offset = Int(token), (0..<summaries.count).contains(offset) else {
                throw .validation("Invalid NextToken: \(token)")
            }
            start = offset
        } else {
            start = 0
        }
        let end = min(summaries.count, start + pageSize)
        return ListContributorInsightsOutput(
            contributorInsightsSummaries: Array(summaries[start..<end]), nextToken: end < summaries.count ? String(end) : nil)
    }

    /// The most accessed and most throttled keys of a table or global secondary index with Contributor
    /// Insights enabled, over the minute in progress and the one before: what CloudWatch's reports of
    /// DynamoDB's rules show. Accessed keys count the capacity units their admitted requests consumed,
    /// throttled keys their throttled requests.
    ///
    /// - Returns: nil if Contributor Insights is not enabled there.
    /// - Throws: `ResourceNotFoundException` if there is no such table or index; `ValidationException` for a
    ///   local secondary index.
    public func contributorInsightsReport(tableName: String, indexName: String? = nil) throws(EddyError) -> ContributorInsightsReport? {
        try requireOpen()
        try TableValidation.validateTableName(tableName)
        let table = try insightsTable(tableName)
        guard let setting = try insightsSetting(of: table, index: indexName), setting.enabled else { return nil }
        let names = Dictionary(uniqueKeysWithValues: Self.rules(of: table, index: indexName, setting).map { ($0.rule, $0.name) })
        let resource = indexName.flatMap { table.index(named: $0) }
        let top = contributorInsights.top(
            resource: resource?.definition.id ?? table.id, mode: setting.mode,
            hasSortKey: (resource?.layout.key ?? table.key).sortKeyName != nil)
        return ContributorInsightsReport(
            tableName: table.name, indexName: indexName, contributorInsightsMode: setting.mode,
            rules: top.map { ContributorInsightsRuleReport(ruleName: names[$0.rule] ?? $0.rule.rawValue, rule: $0.rule, contributors: $0.contributors) })
    }

    /// Every table and global index with Contributor Insights enabled, as (table, index) names.
    public func contributorInsightsResources() -> [(tableName: String, indexName: String?)] {
        var resources: [(tableName: String, indexName: String?)] = []
        for table in catalog.tableNames().compactMap({ catalog.table(named: $0) }) where table.observesContributors {
            if table.definition.contributorInsights?.enabled == true { resources.append((table.name, nil)) }
            for index in table.indexes where index.isGlobal && index.definition.contributorInsights?.enabled == true {
                resources.append((table.name, index.name))
            }
        }
        return resources
    }

    /// The status and mode `setting` (nil: never set) gives table `tableName` or its index `indexName`.
    private static func summary(_ tableName: String, _ indexName: String?, _ setting: ContributorInsightsSetting?) -> ContributorInsightsSummary {
        let enabled = setting?.enabled == true
        return ContributorInsightsSummary(
            tableName: tableName, indexName: indexName, contributorInsightsStatus: enabled ? .enabled : .disabled,
            contributorInsightsMode: enabled ? setting?.mode : nil)
    }

    /// The table named `name`, or ResourceNotFoundException.
    private func insightsTable(_ name: String) throws(EddyError) -> ResolvedTable {
        guard let table = catalog.table(named: name) else { throw .resourceNotFound("Requested resource not found: Table: \(name) not found") }
        return table
    }

    /// The setting of `table`, or of its global index `index`.
    private func insightsSetting(of table: ResolvedTable, index: String?) throws(EddyError) -> ContributorInsightsSetting? {
        guard let index else { return table.definition.contributorInsights }
        guard let resolved = table.index(named: index) else {
            throw .resourceNotFound("Requested resource not found: Index: \(index) not found in table \(table.name)")
        }
        guard resolved.isGlobal else {
            throw .validation("Contributor Insights is only available for global secondary indexes: \(index) is a local secondary index")
        }
        return resolved.definition.contributorInsights
    }

    /// The rules of `table` or of its global index `index`, named as DynamoDB names its CloudWatch rules:
    /// `DynamoDBContributorInsights-PKC-<resource>-<creation time in milliseconds>`, the resource being the
    /// table's name, or `<table>-<index>` for an index.
    private static func rules(
        of table: ResolvedTable, index: String?, _ setting: ContributorInsightsSetting
    ) -> [(rule: ContributorInsightsRule, name: String)] {
        let key = index.flatMap { table.index(named: $0)?.layout.key } ?? table.key
        let resource = index.map { "\(table.name)-\($0)" } ?? table.name
        return ContributorInsightsRule.rules(mode: setting.mode, hasSortKey: key.sortKeyName != nil).map {
            ($0, "DynamoDBContributorInsights-\($0.rawValue)-\(resource)-\(setting.enabledMilliseconds)")
        }
    }
}
