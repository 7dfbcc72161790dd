import ChildProcessSupport
import Foundation
import Testing

@testable import Eddy

// Time to Live, from the DynamoDB Developer Guide ("Time to Live (TTL)") and the UpdateTimeToLive and
// DescribeTimeToLive API references: the setting and its errors, which items expire (a top-level Number of
// epoch seconds in the past, not more than five years past), and the REMOVE records naming the service.

@Suite(.timeLimit(.minutes(5))) struct TimeToLiveSettingTests {
    private static func specification(_ enabled: Bool, _ name: String = "expiresAt") -> UpdateTimeToLiveInput {
        UpdateTimeToLiveInput(tableName: "Sessions", timeToLiveSpecification: TimeToLiveSpecification(enabled: enabled, attributeName: name))
    }

    private static func describe(_ db: Database) async throws -> TimeToLiveDescription {
        try await db.describeTimeToLive(DescribeTimeToLiveInput(tableName: "Sessions")).timeToLiveDescription
    }

    @Test func enablingAndDisablingFollowDynamoDBsRules() async throws {
        try await withStreamDatabase { db, clock in
            try await createTable(db, "Sessions")
            #expect(try await Self.describe(db) == TimeToLiveDescription(timeToLiveStatus: .disabled))
            await expectValidation("TimeToLive is already disabled") { try await db.updateTimeToLive(Self.specification(false)) }

            let enabled = try await db.updateTimeToLive(Self.specification(true))
            #expect(enabled.timeToLiveSpecification == TimeToLiveSpecification(enabled: true, attributeName: "expiresAt"))
            #expect(try await Self.describe(db) == TimeToLiveDescription(timeToLiveStatus: .enabled, attributeName: "expiresAt"))
            await expectValidation("TimeToLive is already enabled") { try await db.updateTimeToLive(Self.specification(true, "other")) }
            await expectValidation("Time to live has been modified multiple times within a fixed interval") {
                try await db.updateTimeToLive(Self.specification(false))
            }

            clock.advance(bySeconds: 3600)
            await expectValidation("TimeToLive is active on a different AttributeName: current AttributeName is expiresAt") {
                try await db.updateTimeToLive(Self.specification(false, "other"))
            }
            try await db.updateTimeToLive(Self.specification(false))
            #expect(try await Self.describe(db) == TimeToLiveDescription(timeToLiveStatus: .disabled))
            await expectValidation("Time to live has been modified multiple times within a fixed interval") {
                try await db.updateTimeToLive(Self.specification(true, "other"))
            }
            clock.advance(bySeconds: 3600)
            try await db.updateTimeToLive(Self.specification(true, "other"))
            #expect(try await Self.describe(db) == TimeToLiveDescription(timeToLiveStatus: .enabled, attributeName: "other"))
        }
    }

    @Test func requestsAreValidated() async throws {
        try await withStreamDatabase { db, _ in
            try await createTable(db, "Sessions")
            await expectValidation(
                "1 validation error detected: Value '' at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must have length greater than or equal to 1"
            ) { try await db.updateTimeToLive(Self.specification(true, "")) }
            let long = String(repeating: "a", count: 256)
            await expectValidation(
                "1 validation error detected: Value '\(long)' at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must have length less than or equal to 255"
            ) { try await db.updateTimeToLive(Self.specification(true, long)) }
            try await db.updateTimeToLive(Self.specification(true, String(repeating: "a", count: 255)))
            await expectEddyError("ResourceNotFoundException") {
                try await db.updateTimeToLive(UpdateTimeToLiveInput(
                    tableName: "Nowhere", timeToLiveSpecification: TimeToLiveSpecification(enabled: true, attributeName: "t")))
            }
            await expectEddyError("ResourceNotFoundException") {
                _ = try await db.describeTimeToLive(DescribeTimeToLiveInput(tableName: "Nowhere"))
            }
            await expectValidation { _ = try await db.describeTimeToLive(DescribeTimeToLiveInput(tableName: "x")) }
        }
    }

    @Test func theSettingSurvivesReopening() async throws {
        try await withTemporaryDirectory { path in
            let clock = ManualWallClock(milliseconds: 1_750_000_000_000)
            do {
                let db = try Database(path: path + "/db", configuration: .init(clock: clock))
                try await createTable(db, "Sessions")
                try await db.updateTimeToLive(Self.specification(true))
            }
            let reopened = try Database(path: path + "/db", configuration: .init(clock: clock))
            #expect(try await Self.describe(reopened) == TimeToLiveDescription(timeToLiveStatus: .enabled, attributeName: "expiresAt"))
            // The once-an-hour rule counts from the change before the restart.
            await expectValidation("Time to live has been modified multiple times within a fixed interval") {
                try await reopened.updateTimeToLive(Self.specification(false))
            }
        }
    }
}

@Suite(.timeLimit(.minutes(5))) struct TimeToLiveExpiryTests {
    /// The clock's reading in seconds, at the start of each test.
    private static let now: Int64 = 1_750_000_000
    private static let fiveYears: Int64 = 5 * 365 * 86_400
    private static let service = StreamIdentity(principalId: "dynamodb.amazonaws.com", type: "Service")

    private static func number(_ text: String) throws -> AttributeValue {
        .n(try DecimalNumber(text))
    }

    /// A table `Sessions` with a stream of both images and Time to Live on `expiresAt`, and items whose
    /// expiry is each case of the rules.
    private static func seed(_ db: Database) async throws -> String {
        let arn = try #require(try await createStreamTable(db, "Sessions").latestStreamArn)
        try await db.updateTimeToLive(UpdateTimeToLiveInput(
            tableName: "Sessions", timeToLiveSpecification: TimeToLiveSpecification(enabled: true, attributeName: "expiresAt")))
        let items: [Item] = [
            ["pk": "past", "expiresAt": .n(DecimalNumber(Int(now - 100)))],
            ["pk": "almost-five-years", "expiresAt": .n(DecimalNumber(Int(now - fiveYears + 86_400)))],
            ["pk": "over-five-years", "expiresAt": .n(DecimalNumber(Int(now - fiveYears - 86_400)))],
            ["pk": "in-a-minute", "expiresAt": .n(DecimalNumber(Int(now + 50)))],
            ["pk": "fraction", "expiresAt": try number("\(now + 30).5")],
            ["pk": "exactly-now-plus-60", "expiresAt": .n(DecimalNumber(Int(now + 60)))],
            ["pk": "future", "expiresAt": .n(DecimalNumber(Int(now + 10_000)))],
            ["pk": "string", "expiresAt": .s("\(now - 100)")],
            ["pk": "nested", "inner": .m(["expiresAt": .n(DecimalNumber(Int(now - 100)))])],
            ["pk": "none", "v": 1],
        ]
        for item in items {
            try await db.putItem(PutItemInput(tableName: "Sessions", item: item))
        }
        return arn
    }

    private static func remainingKeys(_ db: Database) async throws -> Set<String> {
        let items = try await db.scan(ScanInput(tableName: "Sessions")).items ?? []
        return Set(items.compactMap { if case .s(let key) = $0["pk"] { key } else { nil } })
    }

    @Test func expiredItemsAreDeletedAndTheRestLeftAlone() async throws {
        try await withStreamDatabase { db, clock in
            _ = try await Self.seed(db)
            // Expired but not yet swept: still read, as in DynamoDB.
            #expect(try await db.getItem(GetItemInput(tableName: "Sessions", key: ["pk": "past"])).item != nil)

            #expect(try await db.deleteExpiredItems() == 2)
            #expect(try await Self.remainingKeys(db) == [
                "over-five-years", "in-a-minute", "fraction", "exactly-now-plus-60", "future", "string", "nested", "none",
            ])
            #expect(try await db.deleteExpiredItems() == 0)

            clock.advance(bySeconds: 60)
            // Expiry is strictly before now: the item expiring at this very second stays.
            #expect(try await db.deleteExpiredItems() == 2)
            #expect(try await Self.remainingKeys(db) == ["over-five-years", "exactly-now-plus-60", "future", "string", "nested", "none"])
            clock.advance(bySeconds: 1)
            #expect(try await db.deleteExpiredItems() == 1)
            #expect(try await Self.remainingKeys(db) == ["over-five-years", "future", "string", "nested", "none"])
        }
    }

    @Test func expiriesAreRemoveRecordsNamingTheService() async throws {
        try await withStreamDatabase { db, clock in
            let arn = try await Self.seed(db)
            try await db.deleteItem(DeleteItemInput(tableName: "Sessions", key: ["pk": "none"]))
            clock.advance(bySeconds: 61)
            #expect(try await db.deleteExpiredItems() == 5)

            let records = try await readStream(db, arn).map(\.record)
            let removes = records.filter { $0.eventName == .remove }
            #expect(records.count == 10 + 1 + 5)
            #expect(records.filter { $0.eventName != .remove }.allSatisfy { $0.userIdentity == nil })
            let byService = removes.filter { $0.userIdentity == Self.service }
            #expect(Set(byService.map(\.dynamodb.keys)) == [
                ["pk": "past"], ["pk": "almost-five-years"], ["pk": "in-a-minute"], ["pk": "fraction"], ["pk": "exactly-now-plus-60"],
            ])
            // The user's own delete names nobody.
            #expect(removes.filter { $0.userIdentity == nil }.map(\.dynamodb.keys) == [["pk": "none"]])
            for record in byService {
                #expect(record.dynamodb.oldImage?["pk"] == record.dynamodb.keys["pk"])
                #expect(record.dynamodb.oldImage?["expiresAt"] != nil)
                #expect(record.dynamodb.newImage == nil)
            }
        }
    }

    @Test func onlyTablesWithTimeToLiveEnabledAreSwept() async throws {
        try await withStreamDatabase { db, clock in
            _ = try await Self.seed(db)
            try await createTable(db, "Plain")
            try await db.putItem(PutItemInput(tableName: "Plain", item: ["pk": "past", "expiresAt": .n(DecimalNumber(Int(Self.now - 100)))]))
            clock.advance(bySeconds: 3600)
            try await db.updateTimeToLive(UpdateTimeToLiveInput(
                tableName: "Sessions", timeToLiveSpecification: TimeToLiveSpecification(enabled: false, attributeName: "expiresAt")))
            #expect(try await db.deleteExpiredItems() == 0)
            #expect(try await Self.remainingKeys(db).count == 10)
            #expect(try await db.getItem(GetItemInput(tableName: "Plain", key: ["pk": "past"])).item != nil)
        }
    }

    @Test func aSweepPassesPageBoundariesAndLeavesLaterWritesToTheNextPass() async throws {
        try await withStreamDatabase { db, clock in
            try await createTable(db, "Sessions")
            try await db.updateTimeToLive(UpdateTimeToLiveInput(
                tableName: "Sessions", timeToLiveSpecification: TimeToLiveSpecification(enabled: true, attributeName: "expiresAt")))
            let count = Database.timeToLivePageSize * 2 + 17
            for start in stride(from: 0, to: count, by: 25) {
                let requests = (start..<min(start + 25, count)).map { index in
                    WriteRequest(putRequest: PutRequest(item: [
                        "pk": .s("item-\(index)"),
                        "expiresAt": .n(DecimalNumber(Int(Self.now + (index % 2 == 0 ? -1 : 1_000)))),
                    ]))
                }
                try await db.batchWriteItem(BatchWriteItemInput(requestItems: ["Sessions": requests]))
            }
            #expect(try await db.deleteExpiredItems() == (count + 1) / 2)
            #expect(try await db.scan(ScanInput(tableName: "Sessions", select: .count)).count == count / 2)
            clock.advance(bySeconds: 1_001)
            #expect(try await db.deleteExpiredItems() == count / 2)
        }
    }

    @Test func theDatabaseDeletesExpiredItemsInTheBackground() async throws {
        try await withTemporaryDirectory { path in
            let db = try Database(path: path + "/db", configuration: .init(timeToLiveSweepInterval: .milliseconds(50)))
            try await createTable(db, "Sessions")
            try await db.updateTimeToLive(UpdateTimeToLiveInput(
                tableName: "Sessions", timeToLiveSpecification: TimeToLiveSpecification(enabled: true, attributeName: "expiresAt")))
            let now = Int(Date().timeIntervalSince1970)
            try await db.putItem(PutItemInput(tableName: "Sessions", item: ["pk": "gone", "expiresAt": .n(DecimalNumber(now - 10))]))
            try await db.putItem(PutItemInput(tableName: "Sessions", item: ["pk": "kept", "expiresAt": .n(DecimalNumber(now + 3600))]))
            // The suite runs tests in parallel on two cores: waitUntil allows minutes.
            #expect(try await waitUntil { try await db.getItem(GetItemInput(tableName: "Sessions", key: ["pk": "gone"])).item == nil })
            #expect(try await db.getItem(GetItemInput(tableName: "Sessions", key: ["pk": "kept"])).item != nil)
        }
    }
}
