import Foundation
import Testing

@testable import Eddy

// Changes of provisioned throughput and of billing mode, from the Developer Guide ("Service, account, and
// table quotas": 4 decreases at any time of a UTC day, then one per hour, 27 a day, a table and each global
// index counted apart; "Considerations when switching capacity modes": 4 switches to on-demand in a rolling
// 24 hours) and the UpdateTable, CreateTable and DescribeTable references (OnDemandThroughput).

@Suite(.timeLimit(.minutes(5))) struct ThroughputChangesTests {
    /// Sunday, June 15, 2025, 00:10:00 UTC.
    private static let start: Double = 1_749_946_200

    private static func withClock(_ body: (Database, ManualWallClock) async throws -> Void) async throws {
        try await withTemporaryDirectory { path in
            let clock = ManualWallClock(milliseconds: Int64(start * 1000))
            try await body(try Database(path: path + "/db", configuration: .init(clock: clock)), clock)
        }
    }

    private static func provision(_ db: Database, _ units: Int64) async throws {
        try await db.updateTable(
            UpdateTableInput(tableName: "Orders", provisionedThroughput: ProvisionedThroughput(readCapacityUnits: units, writeCapacityUnits: units)))
    }

    private static func provisionIndex(_ db: Database, _ units: Int64) async throws {
        try await db.updateTable(
            UpdateTableInput(
                tableName: "Orders",
                globalSecondaryIndexUpdates: [
                    GlobalSecondaryIndexUpdate(
                        update: UpdateGlobalSecondaryIndexAction(
                            indexName: "byOwner", provisionedThroughput: ProvisionedThroughput(readCapacityUnits: units, writeCapacityUnits: units)))
                ]))
    }

    private static func throughput(_ db: Database) async throws -> ProvisionedThroughputDescription {
        try await db.describeTable(tableName: "Orders").provisionedThroughput
    }

    private static func refusal(lastAt last: String, nextAt next: String, count: Int) -> String {
        "Subscriber limit exceeded: Provisioned throughput decreases are limited within a given UTC day. After the first 4 decreases, each subsequent decrease in the same UTC day can be performed at most once every 3600 seconds. Number of decreases today: \(count). Last decrease at \(last) Coordinated Universal Time. Next decrease can be made at \(next) Coordinated Universal Time"
    }

    @Test func fourDecreasesAtAnyTimeThenOnePerHourUntilTheNextUTCDay() async throws {
        try await Self.withClock { db, clock in
            try await createCapacityTable(db, "Orders", read: 10, write: 10)
            #expect(try await Self.throughput(db).numberOfDecreasesToday == 0)
            for units in [9, 8, 7, 6] as [Int64] {
                try await Self.provision(db, units)
                clock.advance(bySeconds: 60)
            }
            var described = try await Self.throughput(db)
            #expect(described.numberOfDecreasesToday == 4)
            #expect(described.lastDecreaseDateTime == Self.start + 180)
            #expect(described.lastIncreaseDateTime == nil)
            await expectEddyError(
                "LimitExceededException",
                Self.refusal(lastAt: "Sunday, June 15, 2025 at 12:13:00 AM", nextAt: "Sunday, June 15, 2025 at 1:13:00 AM", count: 4)
            ) { try await Self.provision(db, 5) }
            // Increases are not limited, and a refused decrease changed nothing.
            try await Self.provision(db, 20)
            described = try await Self.throughput(db)
            #expect(described.readCapacityUnits == 20)
            #expect(described.numberOfDecreasesToday == 4)
            #expect(described.lastIncreaseDateTime == Self.start + 240)

            clock.advance(bySeconds: 3539)
            await expectEddyError("LimitExceededException") { try await Self.provision(db, 19) }
            clock.advance(bySeconds: 1)
            try await Self.provision(db, 19)
            #expect(try await Self.throughput(db).numberOfDecreasesToday == 5)
            await expectEddyError("LimitExceededException") { try await Self.provision(db, 18) }

            // 00:00 UTC starts a new count.
            clock.advance(bySeconds: 23 * 3600)
            described = try await Self.throughput(db)
            #expect(described.numberOfDecreasesToday == 0)
            #expect(described.lastDecreaseDateTime == Self.start + 3780)
            for units in [18, 17, 16, 15] as [Int64] { try await Self.provision(db, units) }
            #expect(try await Self.throughput(db).numberOfDecreasesToday == 4)
        }
    }

    @Test func aDayAllowsTwentySevenDecreases() throws {
        let midnight = Self.start - 600
        var changes = ThroughputChanges()
        var units: Int64 = 100
        func decrease(at seconds: Double) throws(EddyError) {
            try changes.record(
                from: ProvisionedThroughput(readCapacityUnits: units, writeCapacityUnits: units),
                to: ProvisionedThroughput(readCapacityUnits: units - 1, writeCapacityUnits: units - 1), atSeconds: seconds)
            units -= 1
        }
        for _ in 0..<4 { try decrease(at: midnight) }
        for hour in 1...23 { try decrease(at: midnight + Double(hour) * 3600) }
        #expect(changes.decreasesToday(atSeconds: midnight + 86_399) == 27)
        #expect(throws: EddyError.limitExceeded(
            Self.refusal(lastAt: "Sunday, June 15, 2025 at 11:00:00 PM", nextAt: "Monday, June 16, 2025 at 12:00:00 AM", count: 27))
        ) { try decrease(at: midnight + 86_399) }
        try decrease(at: midnight + 86_400)
        #expect(changes.decreasesToday(atSeconds: midnight + 86_400) == 1)
    }

    @Test func aGlobalIndexIsCountedApartFromItsTable() async throws {
        try await Self.withClock { db, _ in
            try await createCapacityTable(db, "Orders", read: 10, write: 10, indexUnits: 10)
            for units in [9, 8, 7, 6] as [Int64] { try await Self.provision(db, units) }
            await expectEddyError("LimitExceededException") { try await Self.provision(db, 5) }
            for units in [9, 8, 7, 6] as [Int64] { try await Self.provisionIndex(db, units) }
            await expectEddyError(
                "LimitExceededException",
                Self.refusal(lastAt: "Sunday, June 15, 2025 at 12:10:00 AM", nextAt: "Sunday, June 15, 2025 at 1:10:00 AM", count: 4)
            ) { try await Self.provisionIndex(db, 5) }
            let index = try #require(try await db.describeTable(tableName: "Orders").globalSecondaryIndexes?.first)
            #expect(index.provisionedThroughput.numberOfDecreasesToday == 4)
            #expect(index.provisionedThroughput.readCapacityUnits == 6)
            #expect(index.provisionedThroughput.lastDecreaseDateTime == Self.start)
        }
    }

    @Test func theCountsSurviveReopening() async throws {
        try await withTemporaryDirectory { path in
            let clock = ManualWallClock(milliseconds: Int64(Self.start * 1000))
            do {
                let db = try Database(path: path + "/db", configuration: .init(clock: clock))
                try await createCapacityTable(db, "Orders", read: 10, write: 10)
                for units in [9, 8, 7, 6] as [Int64] { try await Self.provision(db, units) }
                await db.close()
            }
            let reopened = try Database(path: path + "/db", configuration: .init(clock: clock))
            #expect(try await Self.throughput(reopened).numberOfDecreasesToday == 4)
            await expectEddyError("LimitExceededException") { try await Self.provision(reopened, 5) }
            await reopened.close()
        }
    }

    @Test func aTableSwitchesToOnDemandFourTimesInTwentyFourHours() async throws {
        try await Self.withClock { db, clock in
            try await createCapacityTable(db, "Orders", read: 5, write: 5)
            for _ in 0..<4 {
                let switched = try await db.updateTable(UpdateTableInput(tableName: "Orders", billingMode: .payPerRequest))
                #expect(switched.billingModeSummary.lastUpdateToPayPerRequestDateTime == Double(clock.nowMilliseconds()) / 1000)
                clock.advance(bySeconds: 600)
                // Back to provisioned at any time.
                try await db.updateTable(
                    UpdateTableInput(
                        tableName: "Orders", billingMode: .provisioned,
                        provisionedThroughput: ProvisionedThroughput(readCapacityUnits: 5, writeCapacityUnits: 5)))
                clock.advance(bySeconds: 600)
            }
            await expectEddyError(
                "LimitExceededException",
                "Subscriber limit exceeded: Update to PayPerRequest mode are limited to 4 times in 1 day(s). Last update at Sun Jun 15 01:10:00 UTC 2025. Next update can be made at Mon Jun 16 00:10:00 UTC 2025"
            ) { try await db.updateTable(UpdateTableInput(tableName: "Orders", billingMode: .payPerRequest)) }
            #expect(try await db.describeTable(tableName: "Orders").billingModeSummary.billingMode == .provisioned)
            clock.advance(bySeconds: 86_400 - 4800)
            try await db.updateTable(UpdateTableInput(tableName: "Orders", billingMode: .payPerRequest))
        }
    }

    @Test func onDemandThroughputIsSetDescribedAndRemoved() async throws {
        try await Self.withClock { db, _ in
            let created = try await createCapacityTable(db, "Orders", onDemandThroughput: OnDemandThroughput(maxReadRequestUnits: 100))
            #expect(created.onDemandThroughput == OnDemandThroughput(maxReadRequestUnits: 100, maxWriteRequestUnits: -1))
            var updated = try await db.updateTable(
                UpdateTableInput(tableName: "Orders", onDemandThroughput: OnDemandThroughput(maxWriteRequestUnits: 50)))
            #expect(updated.onDemandThroughput == OnDemandThroughput(maxReadRequestUnits: 100, maxWriteRequestUnits: 50))
            updated = try await db.updateTable(
                UpdateTableInput(tableName: "Orders", onDemandThroughput: OnDemandThroughput(maxReadRequestUnits: -1)))
            #expect(updated.onDemandThroughput == OnDemandThroughput(maxReadRequestUnits: -1, maxWriteRequestUnits: 50))
            let provisioned = try await createCapacityTable(db, "Provisioned", read: 1, write: 1)
            #expect(provisioned.onDemandThroughput == nil)
            // Switching to on-demand may set the maximums in the same call.
            updated = try await db.updateTable(
                UpdateTableInput(
                    tableName: "Provisioned", billingMode: .payPerRequest, onDemandThroughput: OnDemandThroughput(maxReadRequestUnits: 7)))
            #expect(updated.onDemandThroughput == OnDemandThroughput(maxReadRequestUnits: 7, maxWriteRequestUnits: -1))
        }
    }

    @Test func onDemandThroughputIsValidated() async throws {
        try await Self.withClock { db, _ in
            await expectValidation(
                "One or more parameter values were invalid: MaxWriteRequestUnits for OnDemandThroughput cannot be specified when the table BillingMode is PROVISIONED"
            ) { try await createCapacityTable(db, "Orders", read: 1, write: 1, onDemandThroughput: OnDemandThroughput(maxWriteRequestUnits: 5)) }
            for invalid in [0, -1, -2] as [Int64] {
                await expectValidation(
                    "One or more parameter values were invalid: Requested MaxReadRequestUnits for OnDemandThroughput for table is outside of valid range"
                ) { try await createCapacityTable(db, "Orders", onDemandThroughput: OnDemandThroughput(maxReadRequestUnits: invalid)) }
            }
            try await createCapacityTable(db, "Orders")
            await expectValidation(
                "One or more parameter values were invalid: Requested MaxWriteRequestUnits for OnDemandThroughput for table is outside of valid range"
            ) { try await db.updateTable(UpdateTableInput(tableName: "Orders", onDemandThroughput: OnDemandThroughput(maxWriteRequestUnits: 0))) }
            await expectValidation(
                "One or more parameter values were invalid: OnDemandThroughput can only be combined with BillingMode in an UpdateTable request"
            ) {
                try await db.updateTable(
                    UpdateTableInput(tableName: "Orders", onDemandThroughput: OnDemandThroughput(maxWriteRequestUnits: 5), deletionProtectionEnabled: true))
            }
            try await createCapacityTable(db, "Provisioned", read: 1, write: 1)
            await expectValidation(
                "One or more parameter values were invalid: MaxReadRequestUnits for OnDemandThroughput cannot be specified when the table BillingMode is PROVISIONED"
            ) { try await db.updateTable(UpdateTableInput(tableName: "Provisioned", onDemandThroughput: OnDemandThroughput(maxReadRequestUnits: 5))) }
        }
    }
}
