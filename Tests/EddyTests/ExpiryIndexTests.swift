import ChildProcessSupport
import EddyStorage
import Foundation
import Testing

@testable import Eddy

/// The expiry index of Time to Live (Sources/Eddy/TimeToLive/ExpiryIndex.swift): every write moves its item's
/// entry in its own batch, only items that can still expire are filed, enabling backfills the items already
/// there, disabling and DeleteTable remove the entries, the sweep reads only what has expired and copes with
/// entries that do not match their item, and the consistency check sees a missing or stray entry.
@Suite(.timeLimit(.minutes(5))) struct ExpiryIndexTests {
    /// The clock's reading in seconds, at the start of each test.
    private static let now: Int64 = 1_750_000_000
    private static let fiveYears: Int64 = 5 * 365 * 86_400

    private static func expiry(_ offset: Int64) -> AttributeValue {
        .n(DecimalNumber(Int(now + offset)))
    }

    private static func number(_ text: String) throws -> AttributeValue {
        .n(try DecimalNumber(text))
    }

    /// Turns Time to Live on for `table` (attribute `expiresAt`) and waits until its backfill has filed the
    /// items already there.
    private static func enable(_ db: Database, _ table: String = "Sessions") async throws {
        try await db.updateTimeToLive(UpdateTimeToLiveInput(
            tableName: table, timeToLiveSpecification: TimeToLiveSpecification(enabled: true, attributeName: "expiresAt")))
        let id = try #require(db.catalog.table(named: table)).id
        try await waitUntil("the expiry backfill of \(table)") { try !db.isBackfillingExpiryIndex(ofTable: id) }
    }

    /// The entries of table `name`'s expiry index: each item's `pk` with the second it is filed under.
    private static func entries(_ db: Database, _ name: String = "Sessions") throws -> [String: UInt64] {
        let table = try #require(db.catalog.table(named: name))
        return try entries(db, tableId: table.id)
    }

    private static func entries(_ db: Database, tableId: UInt64) throws -> [String: UInt64] {
        let range = ExpiryIndex.range(ofTable: tableId)
        let cursor = try db.store.scan(in: .catalog, from: range.start, to: range.end, direction: .forward, snapshot: nil)
        var found: [String: UInt64] = [:]
        while let (entry, _) = try cursor.next() {
            let item = try #require(try db.store.get(ExpiryIndex.itemKey(ofEntry: entry).bytes, in: .items, snapshot: nil))
            guard case .s(let key)? = try ItemEncoding.decode(item)["pk"] else { continue }
            let second = entry.dropFirst(7 + 8).prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            found[key] = second
        }
        return found
    }

    private static func put(_ db: Database, _ item: Item) async throws {
        try await db.putItem(PutItemInput(tableName: "Sessions", item: item))
    }

    private static func expectConsistent(_ db: Database, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let report = try await db.checkIndexes(tableName: "Sessions")
        #expect(report.isConsistent && report.expiryIndex.missingEntries == 0, "\(report)", sourceLocation: sourceLocation)
    }

    @Test func everyWriteMovesItsItemsEntry() async throws {
        try await withStreamDatabase { db, _ in
            try await createTable(db, "Sessions")
            try await Self.enable(db)
            let second = UInt64(Self.now)
            try await Self.put(db, ["pk": "a", "expiresAt": Self.expiry(100)])
            #expect(try Self.entries(db) == ["a": second + 100])
            try await Self.put(db, ["pk": "a", "expiresAt": Self.expiry(200)])
            #expect(try Self.entries(db) == ["a": second + 200])

            func update(_ expression: String, _ values: [String: AttributeValue]? = nil) async throws {
                try await db.updateItem(UpdateItemInput(
                    tableName: "Sessions", key: ["pk": "a"], updateExpression: expression, expressionAttributeValues: values))
            }
            try await update("SET expiresAt = :e", [":e": try Self.number("\(Self.now + 300).75")])
            #expect(try Self.entries(db) == ["a": second + 300])
            try await update("SET expiresAt = :e", [":e": .s("\(Self.now + 300)")])
            #expect(try Self.entries(db).isEmpty)
            try await update("SET expiresAt = :e", [":e": Self.expiry(5)])
            #expect(try Self.entries(db) == ["a": second + 5])
            try await update("SET counted = :c", [":c": 1])
            #expect(try Self.entries(db) == ["a": second + 5])
            try await update("REMOVE expiresAt")
            #expect(try Self.entries(db).isEmpty)
            try await Self.put(db, ["pk": "a", "expiresAt": Self.expiry(7)])
            try await db.deleteItem(DeleteItemInput(tableName: "Sessions", key: ["pk": "a"]))
            #expect(try Self.entries(db).isEmpty)

            try await db.transactWriteItems(TransactWriteItemsInput(transactItems: [
                TransactWriteItem(put: TransactPut(tableName: "Sessions", item: ["pk": "t1", "expiresAt": Self.expiry(1)])),
                TransactWriteItem(update: TransactUpdate(
                    tableName: "Sessions", key: ["pk": "t2"], updateExpression: "SET expiresAt = :e",
                    expressionAttributeValues: [":e": Self.expiry(2)])),
            ]))
            #expect(try Self.entries(db) == ["t1": second + 1, "t2": second + 2])
            try await db.transactWriteItems(TransactWriteItemsInput(transactItems: [
                TransactWriteItem(delete: TransactDelete(tableName: "Sessions", key: ["pk": "t1"])),
                TransactWriteItem(put: TransactPut(tableName: "Sessions", item: ["pk": "t2", "expiresAt": Self.expiry(20)])),
            ]))
            #expect(try Self.entries(db) == ["t2": second + 20])

            try await db.batchWriteItem(BatchWriteItemInput(requestItems: ["Sessions": [
                WriteRequest(putRequest: PutRequest(item: ["pk": "b1", "expiresAt": Self.expiry(30)])),
                WriteRequest(putRequest: PutRequest(item: ["pk": "b2", "expiresAt": Self.expiry(31)])),
                WriteRequest(deleteRequest: DeleteRequest(key: ["pk": "t2"])),
            ]]))
            #expect(try Self.entries(db) == ["b1": second + 30, "b2": second + 31])
            try await Self.expectConsistent(db)
        }
    }

    @Test func onlyItemsThatCanStillExpireAreFiled() async throws {
        try await withStreamDatabase { db, clock in
            try await createTable(db, "Sessions")
            try await Self.enable(db)
            let items: [Item] = [
                ["pk": "fraction", "expiresAt": try Self.number("\(Self.now - 10).999")],
                ["pk": "almost-five-years", "expiresAt": Self.expiry(-Self.fiveYears + 60)],
                ["pk": "over-five-years", "expiresAt": Self.expiry(-Self.fiveYears - 1)],
                ["pk": "negative", "expiresAt": try Self.number("-5")],
                ["pk": "huge", "expiresAt": try Self.number("1E30")],
                ["pk": "largest-clock", "expiresAt": try Self.number("9223372036854775.999")],
                ["pk": "beyond-clock", "expiresAt": try Self.number("9223372036854776")],
                ["pk": "string", "expiresAt": .s("\(Self.now - 10)")],
                ["pk": "set", "expiresAt": .ns([DecimalNumber(Int(Self.now - 10))])],
                ["pk": "nested", "inner": .m(["expiresAt": Self.expiry(-10)])],
            ]
            for item in items { try await Self.put(db, item) }
            #expect(try Self.entries(db) == [
                "fraction": UInt64(Self.now - 10), "almost-five-years": UInt64(Self.now - Self.fiveYears + 60),
                "largest-clock": 9_223_372_036_854_775,
            ])
            try await Self.expectConsistent(db)

            #expect(try await db.deleteExpiredItems() == 2)
            #expect(try Self.entries(db) == ["largest-clock": 9_223_372_036_854_775])
            // An item more than five years past is never deleted, however long the sweeps run.
            clock.advance(bySeconds: Double(Self.fiveYears))
            #expect(try await db.deleteExpiredItems() == 0)
            let left = try await db.scan(ScanInput(tableName: "Sessions")).items ?? []
            #expect(left.count == items.count - 2)
            #expect(left.contains { $0["pk"] == "over-five-years" })
            try await Self.expectConsistent(db)
        }
    }

    @Test func indexedSecondsAreTheFloorOfNumbersInTheClocksRange() throws {
        let cases: [(String, UInt64?)] = [
            ("0", 0), ("0.5", 0), ("1E-130", 0), ("12.000001", 12), ("1750000000", 1_750_000_000), ("1.75E9", 1_750_000_000),
            ("9223372036854775.999", 9_223_372_036_854_775), ("9223372036854776", nil), ("1E16", nil), ("9.9E125", nil),
            ("-0.5", nil), ("-1E-130", nil),
        ]
        for (text, second) in cases {
            #expect(TimeToLiveRule.indexedSecond(of: .n(try DecimalNumber(text))) == second, "\(text)")
        }
        #expect(TimeToLiveRule.indexedSecond(of: .s("5")) == nil)
        #expect(TimeToLiveRule.indexedSecond(of: nil) == nil)
    }

    @Test func enablingFilesTheItemsAlreadyThereThenTheSweepDeletesTheExpired() async throws {
        try await withStreamDatabase { db, clock in
            try await createTable(db, "Sessions")
            // More than two backfill pages, every third item expired.
            let count = ExpiryIndex.backfillPageSize * 2 + 31
            for start in stride(from: 0, to: count, by: 25) {
                let requests = (start..<min(start + 25, count)).map { index in
                    WriteRequest(putRequest: PutRequest(item: [
                        "pk": .s("item-\(index)"), "expiresAt": Self.expiry(index % 3 == 0 ? -100 : 1_000),
                    ]))
                }
                try await db.batchWriteItem(BatchWriteItemInput(requestItems: ["Sessions": requests]))
            }
            #expect(try Self.entries(db).isEmpty)
            try await Self.enable(db)
            #expect(try Self.entries(db).count == count)
            try await Self.expectConsistent(db)

            let expired = (count + 2) / 3
            #expect(try await db.deleteExpiredItems() == expired)
            #expect(try Self.entries(db).count == count - expired)
            #expect(try await db.scan(ScanInput(tableName: "Sessions", select: .count)).count == count - expired)
            clock.advance(bySeconds: 1_001)
            #expect(try await db.deleteExpiredItems() == count - expired)
            #expect(try Self.entries(db).isEmpty)
            try await Self.expectConsistent(db)
        }
    }

    @Test func aDataDirectoryWrittenBeforeTheIndexGetsItsEntriesWhenItOpens() async throws {
        try await withTemporaryDirectory { path in
            let clock = ManualWallClock(milliseconds: Self.now * 1000)
            var tableId: UInt64 = 0
            do {
                let db = try Database(path: path + "/db", configuration: .init(clock: clock))
                try await createTable(db, "Sessions")
                try await Self.enable(db)
                for index in 0..<40 {
                    try await Self.put(db, ["pk": .s("item-\(index)"), "expiresAt": Self.expiry(index % 2 == 0 ? -1 : 100)])
                }
                tableId = try #require(db.catalog.table(named: "Sessions")).id
                // As an older Eddy left it: Time to Live enabled, no entry, no backfill, no mark.
                var batch = StorageBatch()
                ExpiryIndex.removeAll(ofTable: tableId, into: &batch)
                batch.delete(Array("expiry-indexed".utf8), in: .catalog)
                try db.store.write(batch, durability: .machineCrashSafe)
                #expect(try Self.entries(db).isEmpty)
                await db.close()
            }
            let db = try Database(path: path + "/db", configuration: .init(clock: clock))
            // The sweep finds the expired items whether the backfill has filed them yet (in the index) or not (by
            // reading the table).
            #expect(try await db.deleteExpiredItems() == 20)
            try await waitUntil("the expiry backfill") { try !db.isBackfillingExpiryIndex(ofTable: tableId) }
            #expect(try Self.entries(db).count == 20)
            try await Self.expectConsistent(db)
            clock.advance(bySeconds: 101)
            #expect(try await db.deleteExpiredItems() == 20)
            await db.close()
        }
    }

    @Test func disablingAndDeletingTheTableRemoveTheEntries() async throws {
        try await withStreamDatabase { db, clock in
            try await createTable(db, "Sessions")
            try await createTable(db, "Other")
            try await Self.enable(db)
            try await Self.enable(db, "Other")
            for index in 0..<10 {
                try await Self.put(db, ["pk": .s("s\(index)"), "expiresAt": Self.expiry(100)])
                try await db.putItem(PutItemInput(tableName: "Other", item: ["pk": .s("o\(index)"), "expiresAt": Self.expiry(10_000)]))
            }
            clock.advance(bySeconds: 3600)
            try await db.updateTimeToLive(UpdateTimeToLiveInput(
                tableName: "Sessions", timeToLiveSpecification: TimeToLiveSpecification(enabled: false, attributeName: "expiresAt")))
            #expect(try Self.entries(db).isEmpty)
            #expect(try Self.entries(db, "Other").count == 10)
            // Writes while disabled file nothing.
            try await Self.put(db, ["pk": "late", "expiresAt": Self.expiry(-10)])
            #expect(try Self.entries(db).isEmpty)
            try await Self.expectConsistent(db)
            #expect(try await db.deleteExpiredItems() == 0)

            let other = try #require(db.catalog.table(named: "Other")).id
            try await db.deleteTable(tableName: "Other")
            #expect(try Self.entries(db, tableId: other).isEmpty)
            #expect(try !db.isBackfillingExpiryIndex(ofTable: other))
        }
    }

    @Test func aSweepWithNothingExpiredWritesNothing() async throws {
        try await withTemporaryDirectory { path in
            let store = WatchedStore(try RocksDBStore(path: path + "/db"))
            let clock = ManualWallClock(milliseconds: Self.now * 1000 + 500)
            let db = try Database(store: store, configuration: .init(clock: clock))
            _ = try await createStreamTable(db, "Sessions")
            try await Self.enable(db)
            // One expires later in the current second: its entry is read, and left.
            try await Self.put(db, ["pk": "this-second", "expiresAt": try Self.number("\(Self.now).9")])
            for index in 0..<50 {
                try await Self.put(db, ["pk": .s("item-\(index)"), "expiresAt": Self.expiry(Int64(index) + 1)])
            }
            let writes = store.writeCounts.values.reduce(0, +)
            #expect(try await db.deleteExpiredItems() == 0)
            #expect(store.writeCounts.values.reduce(0, +) == writes)
            #expect(try Self.entries(db).count == 51)
            clock.advance(bySeconds: 0.5)
            #expect(try await db.deleteExpiredItems() == 1)
            await db.close()
        }
    }

    @Test func theSweepRemovesEntriesThatDoNotMatchTheirItem() async throws {
        try await withStreamDatabase { db, clock in
            let arn = try #require(try await createStreamTable(db, "Sessions").latestStreamArn)
            try await Self.enable(db)
            try await Self.put(db, ["pk": "future", "expiresAt": Self.expiry(1_000)])
            try await Self.put(db, ["pk": "expired", "expiresAt": Self.expiry(-10)])
            // Filed within five years, and five years past by the time of the sweep.
            try await Self.put(db, ["pk": "ancient", "expiresAt": Self.expiry(-Self.fiveYears + 5)])
            let table = try #require(db.catalog.table(named: "Sessions"))
            func entry(_ pk: String, _ offset: Int64) -> [UInt8] {
                ExpiryIndex.entryKey(tableId: table.id, second: UInt64(Self.now + offset), item: ItemKey(table: table, key: ["pk": .s(pk)]))
            }
            // Damage no write makes: an entry under another second than its item's, and one without an item.
            var batch = StorageBatch()
            batch.put(entry("future", -20), [], in: .catalog)
            batch.put(entry("expired", -30), [], in: .catalog)
            batch.put(entry("missing", -40), [], in: .catalog)
            try db.store.write(batch, durability: .processCrashSafe)
            clock.advance(bySeconds: 10)

            #expect(try await db.deleteExpiredItems() == 1)
            #expect(try Self.entries(db) == ["future": UInt64(Self.now + 1_000)])
            let left = Set((try await db.scan(ScanInput(tableName: "Sessions")).items ?? []).compactMap { $0["pk"] })
            #expect(left == ["future", "ancient"])
            let removes = try await readStream(db, arn).map(\.record).filter { $0.eventName == .remove }
            #expect(removes.map(\.dynamodb.keys) == [["pk": "expired"]])
            try await Self.expectConsistent(db)
        }
    }

    @Test func theCheckFindsAMissingAndAStrayEntry() async throws {
        try await withStreamDatabase { db, _ in
            try await createTable(db, "Sessions")
            try await Self.enable(db)
            try await Self.put(db, ["pk": "a", "expiresAt": Self.expiry(100)])
            try await Self.put(db, ["pk": "b", "expiresAt": Self.expiry(200)])
            try await Self.expectConsistent(db)
            let table = try #require(db.catalog.table(named: "Sessions"))
            var batch = StorageBatch()
            batch.delete(
                ExpiryIndex.entryKey(tableId: table.id, second: UInt64(Self.now + 100), item: ItemKey(table: table, key: ["pk": "a"])),
                in: .catalog)
            batch.put(
                ExpiryIndex.entryKey(tableId: table.id, second: UInt64(Self.now + 201), item: ItemKey(table: table, key: ["pk": "b"])),
                [], in: .catalog)
            try db.store.write(batch, durability: .processCrashSafe)
            let report = try await db.checkIndexes(tableName: "Sessions")
            #expect(!report.isConsistent)
            #expect(report.expiryIndex == ExpiryIndexCheckResult(
                backfilling: false, expectedEntries: 2, actualEntries: 2, missingEntries: 1, unexpectedEntries: 1))
            #expect(report.indexes.allSatisfy(\.isConsistent) && report.keptItemCount == 2)
        }
    }
}
