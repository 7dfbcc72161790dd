import ChildProcessSupport
import Foundation
import Testing

@testable import Eddy

/// A transaction is all there or not at all after `kill -9`, with exactly one stream record per item it
/// changed. Each round starts `TransactionCrashWriter` on the same data directory, lets it run transfers
/// (debit, credit and a transfer item, in one TransactWriteItems) from four tasks for a random time, kills it
/// with SIGKILL (every third round while it opens the database instead), then reopens the database here and
/// checks: every acknowledged transfer is there; the balances are exactly 1,000 per account plus what the
/// transfer items present move (a transfer item without its two updates, or updates without their item,
/// would break that); and the stream holds exactly the changes of the transfers present, in per-item order,
/// ending at each account's balance.
@Suite(.timeLimit(.minutes(10))) struct TransactionCrashTests {
    @Test func transactionsAreAllOrNothingAfterKillNine() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("eddy-tx-crash-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var generator = SystemRandomNumberGenerator()
        var acknowledged: Set<String> = []
        var schedule = KillSchedule()
        let rounds = 13
        for round in 0..<rounds {
            // Every third round (round 0 aside, which creates the accounts) kills the writer while it opens the
            // database and RocksDB recovers the log the last kill left; the others once it has run transfers.
            let moment: KillMoment = round % 3 == 2
                ? schedule.whileOpening(using: &generator)
                : .afterProgress(milliseconds: Int.random(in: 150...600, using: &generator))
            let child = try await offThePool {
                try runChild("TransactionCrashWriter", arguments: [directory, String(round)], killingAt: moment, waitingAtMost: 30)
            }
            schedule.record(child)
            #expect(child.problemAsKilledRound == nil, "round \(round), killed \(moment): \(child.problemAsKilledRound ?? "")")
            for line in child.lines {
                let fields = line.split(separator: " ")
                if fields.count == 2, fields[0] == "TX" { acknowledged.insert(String(fields[1])) }
            }
            try await verify(directory: directory, acknowledged: acknowledged)
        }
        #expect(acknowledged.count > rounds * 10, "the writer acknowledged too few transfers to test anything")
        #expect(schedule.roundsKilledWhileOpening >= 1, "no round killed the writer while it opened the database")
    }

    private func verify(directory: String, acknowledged: Set<String>) async throws {
        try await withDatabase(at: directory) { db in try await verify(db, acknowledged: acknowledged) }
    }

    private func verify(_ db: Database, acknowledged: Set<String>) async throws {
        var stored: [String: Item] = [:]
        var start: Item?
        repeat {
            let page = try await db.scan(ScanInput(tableName: "Bank", exclusiveStartKey: start))
            for item in page.items ?? [] {
                if case .s(let id)? = item["id"] { stored[id] = item }
            }
            start = page.lastEvaluatedKey
        } while start != nil

        // DescribeTable's counters equal a fresh count of what survived.
        let report = try await db.checkIndexes(tableName: "Bank")
        #expect(report.isConsistent, "counters after kill -9: \(report)")
        let lost = acknowledged.filter { stored[$0] == nil }
        #expect(lost.isEmpty, "acknowledged transfers lost after kill -9: \(lost.sorted().prefix(10))")

        // The balances the transfer items present imply, against the stored ones.
        var expected = Dictionary(uniqueKeysWithValues: (0..<10).map { ("account-\($0)", 1000) })
        let transfers = stored.filter { $0.key.hasPrefix("transfer-") }
        for (id, transfer) in transfers {
            guard case .s(let from)? = transfer["from"], case .s(let to)? = transfer["to"], case .n(let amount)? = transfer["amount"],
                let value = Int(amount.description)
            else {
                Issue.record("a torn transfer item \(id): \(transfer)")
                continue
            }
            expected[from, default: 0] -= value
            expected[to, default: 0] += value
        }
        var balances: [String: Int] = [:]
        for account in expected.keys {
            guard case .n(let balance)? = stored[account]?["balance"], let value = Int(balance.description) else {
                Issue.record("account \(account) lost or torn: \(String(describing: stored[account]))")
                continue
            }
            balances[account] = value
        }
        #expect(balances == expected, "the balances do not match the transfers present: a transaction was torn")
        #expect(balances.values.allSatisfy { $0 >= 0 })

        // The stream: one INSERT per item present, one MODIFY per account per transfer, and each account's
        // last record carries its balance.
        guard let arn = try await db.describeTable(tableName: "Bank").latestStreamArn else {
            Issue.record("the table has no stream")
            return
        }
        let records = try await readStream(db, arn).map(\.record)
        let inserts = records.filter { $0.eventName == .insert }.compactMap { record -> String? in
            if case .s(let id)? = record.dynamodb.keys["id"] { id } else { nil }
        }
        #expect(inserts.count == Set(inserts).count, "an item was inserted twice in the stream")
        #expect(Set(inserts) == Set(stored.keys), "INSERT records and items present differ")
        let modifies = records.filter { $0.eventName == .modify }
        #expect(modifies.count == 2 * transfers.count, "\(modifies.count) MODIFY records for \(transfers.count) transfers")
        #expect(!records.contains { $0.eventName == .remove })
        var lastBalance: [String: AttributeValue] = [:]
        for record in records {
            if case .s(let id)? = record.dynamodb.keys["id"], id.hasPrefix("account-") {
                lastBalance[id] = record.dynamodb.newImage?["balance"]
            }
        }
        for (account, balance) in balances {
            #expect(lastBalance[account] == .n(DecimalNumber(balance)), "the stream of \(account) ends elsewhere than its balance")
        }
    }
}
