import EddyStorage
import Foundation
import Testing

@testable import Eddy

// A TransactWriteItems ClientRequestToken "is valid for 10 minutes after the first request that uses it is
// completed" (TransactWriteItems API reference): after that the token is new again, so its record can go.
// These tests check that the records are deleted once their 10 minutes are over, and only then.

/// Adds `amount` to `n` of item `item` of `Things`, with `token`.
private func increment(_ token: String, by amount: Int = 1, item: String = "counter") -> TransactWriteItemsInput {
    TransactWriteItemsInput(
        transactItems: [TransactWriteItem(update: TransactUpdate(
            tableName: "Things", key: ["pk": .s(item)], updateExpression: "ADD n :x",
            expressionAttributeValues: [":x": .n(DecimalNumber(amount))]))],
        clientRequestToken: token)
}

private func counter(_ db: Database, item: String = "counter") async throws -> AttributeValue? {
    try await db.getItem(GetItemInput(tableName: "Things", key: ["pk": .s(item)])).item?["n"]
}

/// The stored record of `token`, if any.
private func record(_ db: Database, _ token: String) throws -> [UInt8]? {
    try db.store.get(TransactionTokens.key(token), in: .catalog, snapshot: nil)
}

/// Every expiry key, as token and commit time.
private func expiryKeys(_ db: Database) throws -> [(token: String, committed: Int64)] {
    let prefix = TransactionTokens.expiryPrefix
    let cursor = try db.store.scan(in: .catalog, from: prefix, to: prefix.prefixSuccessor, direction: .forward, snapshot: nil)
    var keys: [(String, Int64)] = []
    while let (key, _) = try cursor.next() {
        if let parsed = TransactionTokens.parseExpiryKey(key) { keys.append(parsed) }
    }
    return keys
}

/// Runs `body` with a database on a manual clock whose background expiry job does not run during the test, with
/// a table `Things`. It does not throttle: the tests write one counter item thousands of times while the clock
/// stands still, past a partition key value's 1,000 write units a second.
private func withTokenDatabase(_ body: (Database, ManualWallClock) async throws -> Void) async throws {
    try await withTemporaryDirectory { path in
        let clock = ManualWallClock(milliseconds: 1_750_000_000_000)
        let db = try Database(
            path: path + "/db", configuration: .init(clock: clock, transactionTokenExpiryInterval: .seconds(3600), throttlingEnabled: false))
        try await createTable(db, "Things")
        try await body(db, clock)
    }
}

@Suite(.timeLimit(.minutes(5))) struct TransactionTokenExpiryTests {
    @Test func aTokenPastTenMinutesIsDeletedWithItsExpiryKey() async throws {
        try await withTokenDatabase { db, clock in
            try await db.transactWriteItems(increment("old"))
            #expect(try record(db, "old") != nil)
            #expect(try expiryKeys(db).map(\.token) == ["old"])
            clock.advance(bySeconds: 600)
            #expect(try await db.deleteExpiredTransactionTokens() == 1)
            #expect(try record(db, "old") == nil)
            #expect(try expiryKeys(db).isEmpty)
            #expect(try await db.deleteExpiredTransactionTokens() == 0)
        }
    }

    @Test func aTokenWithinTenMinutesIsKeptAndStillAnswersIdempotently() async throws {
        try await withTokenDatabase { db, clock in
            try await db.transactWriteItems(increment("young"))
            clock.advance(bySeconds: 599.999)
            #expect(try await db.deleteExpiredTransactionTokens() == 0)
            #expect(try record(db, "young") != nil)
            try await db.transactWriteItems(increment("young"))
            #expect(try await counter(db) == 1)
            await expectEddyError("IdempotentParameterMismatchException") { try await db.transactWriteItems(increment("young", by: 2)) }
        }
    }

    @Test func onlyTheExpiredFrontIsDeleted() async throws {
        try await withTokenDatabase { db, clock in
            for index in 0..<5 {
                try await db.transactWriteItems(increment("token-\(index)"))
                clock.advance(bySeconds: 60)
            }
            // token-0 committed 300 s ago ... token-4 60 s ago; 500 s later token-3 is 620 s old, token-4 560 s.
            clock.advance(bySeconds: 500)
            #expect(try await db.deleteExpiredTransactionTokens() == 4)
            #expect(try expiryKeys(db).map(\.token) == ["token-4"])
            try await db.transactWriteItems(increment("token-4"))
            #expect(try await counter(db) == 5)
            try await db.transactWriteItems(increment("token-0"))
            #expect(try await counter(db) == 6)
        }
    }

    @Test func manyPagesOfExpiredTokensAreAllDeleted() async throws {
        try await withTokenDatabase { db, clock in
            let count = TransactionTokens.expiryPageSize * 2 + 7
            for index in 0..<count {
                try await db.transactWriteItems(increment("bulk-\(index)"))
            }
            clock.advance(bySeconds: 601)
            #expect(try await db.deleteExpiredTransactionTokens() == count)
            #expect(try expiryKeys(db).isEmpty)
        }
    }

    @Test func aTokenReusedAfterExpiryBeforeTheJobKeepsItsNewRecord() async throws {
        try await withTokenDatabase { db, clock in
            try await db.transactWriteItems(increment("reused"))
            clock.advance(bySeconds: 601)
            try await db.transactWriteItems(increment("reused", by: 10))
            #expect(try await counter(db) == 11)
            // The old expiry key names the old commit time: it goes, the new record stays.
            #expect(try await db.deleteExpiredTransactionTokens() == 0)
            #expect(try expiryKeys(db).count == 1)
            try await db.transactWriteItems(increment("reused", by: 10))
            #expect(try await counter(db) == 11)
            await expectEddyError("IdempotentParameterMismatchException") { try await db.transactWriteItems(increment("reused")) }
            clock.advance(bySeconds: 601)
            #expect(try await db.deleteExpiredTransactionTokens() == 1)
            #expect(try record(db, "reused") == nil)
        }
    }

    @Test func aTokenReusedAfterTheJobDeletedItWorks() async throws {
        try await withTokenDatabase { db, clock in
            try await db.transactWriteItems(increment("again"))
            clock.advance(bySeconds: 601)
            #expect(try await db.deleteExpiredTransactionTokens() == 1)
            try await db.transactWriteItems(increment("again", by: 3))
            try await db.transactWriteItems(increment("again", by: 3))
            #expect(try await counter(db) == 4)
            #expect(try record(db, "again") != nil)
        }
    }

    @Test func theJobSkipsATokenWhoseTransactionRuns() async throws {
        try await withTokenDatabase { db, clock in
            let request = increment("busy")
            try await db.transactWriteItems(request)
            clock.advance(bySeconds: 601)
            let fingerprint = TransactionTokens.fingerprint(of: request)
            #expect(try await db.transactionTokens.begin("busy", fingerprint: fingerprint, now: clock.nowMilliseconds(), store: db.store) == .started)
            #expect(try await db.deleteExpiredTransactionTokens() == 0)
            #expect(try record(db, "busy") != nil)
            #expect(try expiryKeys(db).count == 1)
            db.transactionTokens.end("busy")
            #expect(try await db.deleteExpiredTransactionTokens() == 1)
        }
    }

    @Test func aTransactionWaitsWhileTheJobHoldsItsToken() async throws {
        try await withTokenDatabase { db, clock in
            try await db.transactWriteItems(increment("held"))
            clock.advance(bySeconds: 601)
            #expect(db.transactionTokens.claimForExpiry(["held"]) == ["held"])
            let waiting = Task { try await db.transactWriteItems(increment("held", by: 5)) }
            while db.transactionTokens.waitingCount(for: "held") == 0 { await Task.yield() }
            #expect(try await counter(db) == 1, "the transaction waits while the job holds its token")
            db.transactionTokens.releaseExpiry(["held"])
            #expect(db.transactionTokens.waitingCount(for: "held") == 0)
            _ = try await waiting.value
            #expect(try await counter(db) == 6)
            try await db.transactWriteItems(increment("held", by: 5))
            #expect(try await counter(db) == 6)
        }
    }

    /// Transactions reuse expired tokens while the job deletes: every token committed within 10 minutes
    /// still answers idempotently afterwards, and the job leaves no record of a token that expired.
    @Test func theJobRacingTransactionsLosesNothing() async throws {
        try await withTokenDatabase { db, clock in
            let tokens = (0..<40).map { "race-\($0)" }
            for token in tokens { try await db.transactWriteItems(increment(token, item: token)) }
            clock.advance(bySeconds: 601)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for _ in 0..<20 { try await db.deleteExpiredTransactionTokens() }
                }
                for token in tokens {
                    group.addTask { try await db.transactWriteItems(increment(token, item: token)) }
                }
                try await group.waitForAll()
            }
            try await db.deleteExpiredTransactionTokens()
            for token in tokens {
                try await db.transactWriteItems(increment(token, item: token))
                #expect(try await counter(db, item: token) == 2)
                #expect(try record(db, token) != nil)
            }
            #expect(try expiryKeys(db).count == tokens.count)
            clock.advance(bySeconds: 601)
            #expect(try await db.deleteExpiredTransactionTokens() == tokens.count)
        }
    }

    @Test func recordsWithoutExpiryKeysGetThemWhenTheDatabaseOpens() async throws {
        try await withTemporaryDirectory { path in
            let clock = ManualWallClock(milliseconds: 1_750_000_000_000)
            let configuration = Database.Configuration(clock: clock, transactionTokenExpiryInterval: .seconds(3600))
            do {
                let db = try Database(path: path + "/db", configuration: configuration)
                try await createTable(db, "Things")
                try await db.transactWriteItems(increment("legacy"))
                // As a data directory written before expiry keys existed: the record alone, no marker.
                var batch = StorageBatch()
                let prefix = TransactionTokens.expiryPrefix
                batch.deleteRange(from: prefix, to: prefix.prefixSuccessor!, in: .catalog)
                batch.delete(Array("transaction-token-expiry-indexed".utf8), in: .catalog)
                try db.store.write(batch, durability: .processCrashSafe)
                #expect(try expiryKeys(db).isEmpty)
            }
            let reopened = try Database(path: path + "/db", configuration: configuration)
            #expect(try expiryKeys(reopened).map(\.token) == ["legacy"])
            try await reopened.transactWriteItems(increment("legacy"))
            #expect(try await counter(reopened) == 1)
            clock.advance(bySeconds: 601)
            #expect(try await reopened.deleteExpiredTransactionTokens() == 1)
            #expect(try record(reopened, "legacy") == nil)
        }
    }

    @Test func theBackgroundJobDeletesExpiredTokens() async throws {
        try await withTemporaryDirectory { path in
            let clock = ManualWallClock(milliseconds: 1_750_000_000_000)
            let db = try Database(
                path: path + "/db", configuration: .init(clock: clock, transactionTokenExpiryInterval: .milliseconds(20)))
            try await createTable(db, "Things")
            try await db.transactWriteItems(increment("background"))
            clock.advance(bySeconds: 601)
            var waited = 0
            while try record(db, "background") != nil, waited < 1000 {
                try await Task.sleep(for: .milliseconds(20))
                waited += 1
            }
            #expect(try record(db, "background") == nil)
            #expect(try expiryKeys(db).isEmpty)
        }
    }
}
