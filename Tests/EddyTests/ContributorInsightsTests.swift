import Foundation
import Testing

@testable import Eddy

// Contributor Insights (API Reference: UpdateContributorInsights, DescribeContributorInsights,
// ListContributorInsights; Developer Guide, "CloudWatch Contributor Insights for DynamoDB: How it works"), on a
// manual clock, on ConsumedCapacityTests' table `Idx`: key (pk, sk); GSI `byG` on `gk`; LSI `byL`.

/// The contributors of `rule` in `report`, as (partition key, sort key, value).
private func contributors(_ report: ContributorInsightsReport?, _ rule: ContributorInsightsRule) -> [(String, String?, Double)] {
    let found = report?.rules.first { $0.rule == rule }?.contributors ?? []
    return found.map { contributor in
        func text(_ value: AttributeValue?) -> String? {
            if case .s(let string) = value { return string }
            return nil
        }
        return (text(contributor.partitionKey) ?? "?", text(contributor.sortKey), contributor.value)
    }
}

@Suite(.timeLimit(.minutes(5))) struct ContributorInsightsTests {
    @Test func theHotKeyIsReportedFirstByPartitionKeyAndByItem() async throws {
        try await withCapacityDatabase { db, clock in
            try await createIndexed(db)
            let enabled = try await db.updateContributorInsights(UpdateContributorInsightsInput(tableName: "Idx", contributorInsightsAction: .enable))
            #expect(enabled.contributorInsightsStatus == .enabled)
            #expect(enabled.contributorInsightsMode == .accessedAndThrottledKeys)
            for sk in ["1", "2", "3"] {
                try await db.putItem(PutItemInput(tableName: "Idx", item: ["pk": "hot", "sk": .s(sk)]))
            }
            for _ in 0..<3 {
                _ = try await db.getItem(GetItemInput(tableName: "Idx", key: ["pk": "hot", "sk": "1"], consistentRead: true))
            }
            try await db.putItem(PutItemInput(tableName: "Idx", item: ["pk": "cold", "sk": "1"]))
            clock.advance(bySeconds: 30)
            let report = try db.contributorInsightsReport(tableName: "Idx")
            #expect(report?.rules.map(\.rule) == [.partitionKeyAccessed, .partitionKeyThrottled, .sortKeyAccessed, .sortKeyThrottled])
            // Accessed keys count the units consumed: three 1-unit puts and three 1-unit strongly consistent
            // reads of "hot", one put of "cold".
            let byPartition = contributors(report, .partitionKeyAccessed)
            #expect(byPartition.map(\.0) == ["hot", "cold"])
            #expect(byPartition.map(\.2) == [6, 1])
            let byItem = contributors(report, .sortKeyAccessed)
            #expect(byItem.first.map { [$0.0, $0.1] } == ["hot", "1"])
            #expect(byItem.first?.2 == 4)
            #expect(contributors(report, .partitionKeyThrottled).isEmpty)
            // Two minutes later, what was kept is past the report's window.
            clock.advance(bySeconds: 120)
            #expect(contributors(try db.contributorInsightsReport(tableName: "Idx"), .partitionKeyAccessed).isEmpty)
        }
    }

    @Test func transactionsCountTheKeysOfTheirItems() async throws {
        try await withCapacityDatabase { db, _ in
            try await createIndexed(db)
            _ = try await db.updateContributorInsights(UpdateContributorInsightsInput(tableName: "Idx", contributorInsightsAction: .enable))
            // Two items of a transaction: two write units each (transactional writes cost double).
            try await db.transactWriteItems(
                TransactWriteItemsInput(transactItems: [
                    TransactWriteItem(put: TransactPut(tableName: "Idx", item: ["pk": "a", "sk": "1"])),
                    TransactWriteItem(put: TransactPut(tableName: "Idx", item: ["pk": "b", "sk": "1"])),
                ]))
            // A transactional read of one of them: two read units.
            _ = try await db.transactGetItems(
                TransactGetItemsInput(transactItems: [TransactGetItem(get: TransactGet(tableName: "Idx", key: ["pk": "a", "sk": "1"]))]))
            let report = try db.contributorInsightsReport(tableName: "Idx")
            let byPartition = contributors(report, .partitionKeyAccessed)
            #expect(byPartition.map(\.0) == ["a", "b"])
            #expect(byPartition.map(\.2) == [4, 2])
            #expect(contributors(report, .sortKeyAccessed).map { $0.1 } == ["1", "1"])
        }
    }

    @Test func throttledKeysModeKeepsOnlyTheThrottledKeys() async throws {
        try await withCapacityDatabase { db, _ in
            try await createCapacityTable(db, "Orders", read: 1, write: 1)
            try await db.updateContributorInsights(
                UpdateContributorInsightsInput(tableName: "Orders", contributorInsightsAction: .enable, contributorInsightsMode: .throttledKeys))
            // 300 seconds of one write unit are saved: 300 one-unit puts, then refusals.
            for n in 0..<300 {
                try await db.putItem(PutItemInput(tableName: "Orders", item: ["pk": .s("spread-\(n)")]))
            }
            for _ in 0..<3 {
                await #expect(throws: EddyError.self) { _ = try await db.putItem(PutItemInput(tableName: "Orders", item: ["pk": "hot"])) }
            }
            await #expect(throws: EddyError.self) { _ = try await db.putItem(PutItemInput(tableName: "Orders", item: ["pk": "other"])) }
            let report = try db.contributorInsightsReport(tableName: "Orders")
            // A table without a sort key has no partition-and-sort-key rules; this mode has no accessed rule.
            #expect(report?.rules.map(\.rule) == [.partitionKeyThrottled])
            let throttled = contributors(report, .partitionKeyThrottled)
            #expect(throttled.map(\.0) == ["hot", "other"])
            #expect(throttled.map(\.2) == [3, 1])
        }
    }

    @Test func aDisabledTableKeepsNothing() async throws {
        try await withCapacityDatabase { db, clock in
            try await createTable(db, "Users")
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "a"]))
            #expect(try db.contributorInsightsReport(tableName: "Users") == nil)
            try await db.updateContributorInsights(UpdateContributorInsightsInput(tableName: "Users", contributorInsightsAction: .enable))
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "a"]))
            #expect(contributors(try db.contributorInsightsReport(tableName: "Users"), .partitionKeyAccessed).map(\.0) == ["a"])
            clock.advance(bySeconds: 5)
            let disabled = try await db.updateContributorInsights(UpdateContributorInsightsInput(tableName: "Users", contributorInsightsAction: .disable))
            #expect(disabled.contributorInsightsStatus == .disabled)
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "b"]))
            #expect(try db.contributorInsightsReport(tableName: "Users") == nil)
            let described = try await db.describeContributorInsights(DescribeContributorInsightsInput(tableName: "Users"))
            #expect(described.contributorInsightsStatus == .disabled)
            #expect(described.contributorInsightsRuleList == nil)
            #expect(described.lastUpdateDateTime == Double(clock.nowMilliseconds()) / 1000)
            // Enabled again, it starts from nothing: the earlier requests are forgotten.
            try await db.updateContributorInsights(UpdateContributorInsightsInput(tableName: "Users", contributorInsightsAction: .enable))
            #expect(contributors(try db.contributorInsightsReport(tableName: "Users"), .partitionKeyAccessed).isEmpty)
        }
    }

    @Test func describeNamesDynamoDBsRulesAndTheSettingSurvivesReopening() async throws {
        try await withTemporaryDirectory { path in
            let clock = ManualWallClock(milliseconds: 1_750_000_000_000)
            let first = try Database(path: path + "/db", configuration: .init(clock: clock))
            try await createIndexed(first)
            let never = try await first.describeContributorInsights(DescribeContributorInsightsInput(tableName: "Idx"))
            #expect(never == DescribeContributorInsightsOutput(tableName: "Idx", contributorInsightsStatus: .disabled))
            try await first.updateContributorInsights(
                UpdateContributorInsightsInput(tableName: "Idx", indexName: "byG", contributorInsightsAction: .enable))
            await first.close()
            let db = try Database(path: path + "/db", configuration: .init(clock: clock))
            let index = try await db.describeContributorInsights(DescribeContributorInsightsInput(tableName: "Idx", indexName: "byG"))
            #expect(index.contributorInsightsStatus == .enabled)
            #expect(index.contributorInsightsMode == .accessedAndThrottledKeys)
            #expect(index.lastUpdateDateTime == 1_750_000_000)
            // `byG` has no sort key: the partition key rules only, named after the table and index.
            #expect(
                index.contributorInsightsRuleList == [
                    "DynamoDBContributorInsights-PKC-Idx-byG-1750000000000", "DynamoDBContributorInsights-PKT-Idx-byG-1750000000000",
                ])
            let table = try await db.describeContributorInsights(DescribeContributorInsightsInput(tableName: "Idx"))
            #expect(table.contributorInsightsStatus == .disabled)
            // A Query of the index feeds the index's accessed keys.
            try await db.putItem(PutItemInput(tableName: "Idx", item: ["pk": "a", "sk": "1", "gk": "g"]))
            _ = try await db.query(
                QueryInput(tableName: "Idx", indexName: "byG", keyConditionExpression: "gk = :g", expressionAttributeValues: [":g": "g"]))
            #expect(contributors(try db.contributorInsightsReport(tableName: "Idx", indexName: "byG"), .partitionKeyAccessed).map(\.0) == ["g"])
            // The setting goes with the table.
            try await db.deleteTable(tableName: "Idx")
            try await createIndexed(db)
            let recreated = try await db.describeContributorInsights(DescribeContributorInsightsInput(tableName: "Idx", indexName: "byG"))
            #expect(recreated.contributorInsightsStatus == .disabled)
            await db.close()
        }
    }

    @Test func listShowsATablesIndexesOrEveryEnabledOnePageByPage() async throws {
        try await withCapacityDatabase { db, _ in
            try await createIndexed(db)
            try await createTable(db, "Other")
            try await createTable(db, "Quiet")
            try await db.updateContributorInsights(
                UpdateContributorInsightsInput(tableName: "Idx", indexName: "byG", contributorInsightsAction: .enable))
            try await db.updateContributorInsights(
                UpdateContributorInsightsInput(tableName: "Other", contributorInsightsAction: .enable, contributorInsightsMode: .throttledKeys))
            let ofTable = try await db.listContributorInsights(ListContributorInsightsInput(tableName: "Idx"))
            #expect(ofTable.contributorInsightsSummaries.map(\.indexName) == [nil, "byG"])
            #expect(ofTable.contributorInsightsSummaries.map(\.contributorInsightsStatus) == [.disabled, .enabled])
            let all = try await db.listContributorInsights(ListContributorInsightsInput())
            #expect(all.contributorInsightsSummaries.map { "\($0.tableName)/\($0.indexName ?? "")" } == ["Idx/byG", "Other/"])
            #expect(all.contributorInsightsSummaries.map(\.contributorInsightsMode) == [.accessedAndThrottledKeys, .throttledKeys])
            let first = try await db.listContributorInsights(ListContributorInsightsInput(maxResults: 1))
            #expect(first.contributorInsightsSummaries.map(\.tableName) == ["Idx"])
            let second = try await db.listContributorInsights(ListContributorInsightsInput(maxResults: 1, nextToken: first.nextToken))
            #expect(second.contributorInsightsSummaries.map(\.tableName) == ["Other"])
            #expect(second.nextToken == nil)
        }
    }

    @Test func refusedRequests() async throws {
        try await withCapacityDatabase { db, _ in
            try await createIndexed(db)
            await expectEddyError("ResourceNotFoundException") {
                _ = try await db.updateContributorInsights(UpdateContributorInsightsInput(tableName: "Missing", contributorInsightsAction: .enable))
            }
            await expectEddyError("ResourceNotFoundException") {
                _ = try await db.describeContributorInsights(DescribeContributorInsightsInput(tableName: "Idx", indexName: "nope"))
            }
            // A local secondary index shares its table's capacity: no Contributor Insights of its own.
            await expectValidation {
                _ = try await db.updateContributorInsights(
                    UpdateContributorInsightsInput(tableName: "Idx", indexName: "byL", contributorInsightsAction: .enable))
            }
            await expectEddyError("ResourceNotFoundException") {
                _ = try await db.listContributorInsights(ListContributorInsightsInput(tableName: "Missing"))
            }
            await expectValidation { _ = try await db.listContributorInsights(ListContributorInsightsInput(maxResults: 101)) }
            await expectValidation { _ = try await db.listContributorInsights(ListContributorInsightsInput(nextToken: "garbage")) }
        }
    }
}

@Suite struct SpaceSavingCountsTests {
    @Test func aHeavyKeyOutlivesTheKeysThatPushOthersOut() {
        var counts = SpaceSavingCounts<String>(capacity: 3)
        counts.add("hot", weight: 10)
        for n in 0..<20 { counts.add("cold-\(n)", weight: 1) }
        #expect(counts.counts.count == 3)
        #expect(counts.counts["hot"] == 10)
        // A new key inherits the smallest count, so none is ever underestimated.
        #expect(counts.counts.values.allSatisfy { $0 >= 1 })
    }
}
