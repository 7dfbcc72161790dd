import ChildProcessSupport
import Foundation
import Testing

@testable import Eddy

/// Index entries, item changes and stream records commit together, and an index backfill resumes after
/// `kill -9`. Each round starts `IndexCrashWriter` on the same data directory (round 0 loads 12,000 items;
/// round 1 adds an index whose backfill then runs under the writers' puts, updates, deletes and
/// transactions), kills it with SIGKILL after a random time (rounds 2 and 5 while it opens the database),
/// reopens the database here and checks: every acknowledged write is there (or a later one); every index is
/// exactly what the items imply (an index still being backfilled holds no wrong entry); each item's last
/// stream record is its current state. At the end the backfill, resumed by each open, completes and the new
/// index is exact. Time to Live is enabled in round 1 too: its expiry index, backfilled and swept while the
/// writers write, is checked with the other indexes after every round, and is exact at the end.
/// Items the sweep deleted show as `REMOVE` records of their last state.
@Suite(.timeLimit(.minutes(10))) struct IndexCrashTests {
    @Test func indexesStayExactAndBackfillResumesAfterKillNine() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("eddy-index-crash-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var generator = SystemRandomNumberGenerator()
        // id → (seq, deleted) of its last acknowledged write.
        var acknowledged: [String: (seq: Int, deleted: Bool)] = [:]
        var interruptedBackfills = 0
        // Items the Time to Live sweep deleted, as the stream shows them.
        var expired = 0
        var schedule = KillSchedule()
        for round in 0..<7 {
            // Round 1 is killed soon after it adds the index, so that its backfill is cut short; rounds 2 and 5
            // while the writer opens the database (RocksDB recovers its log, the backfill resumes).
            let moment: KillMoment =
                switch round {
                case 1: .afterProgress(milliseconds: Int.random(in: 5...40, using: &generator))
                case 2, 5: schedule.whileOpening(using: &generator)
                default: .afterProgress(milliseconds: Int.random(in: 150...500, using: &generator))
                }
            let child = try await offThePool {
                try runChild("IndexCrashWriter", arguments: [directory, String(round)], killingAt: moment, waitingAtMost: 120)
            }
            schedule.record(child)
            #expect(child.problemAsKilledRound == nil, "round \(round), killed \(moment): \(child.problemAsKilledRound ?? "")")
            for line in child.lines {
                let fields = line.split(separator: " ")
                guard fields.count == 3, let seq = Int(fields[2]) else { continue }
                acknowledged[String(fields[1])] = (seq, fields[0] == "D")
            }
            try await withDatabase(at: directory) { db in
                let table = try await db.describeTable(tableName: "Catalog")
                if table.globalSecondaryIndexes?.first(where: { $0.indexName == "byCategory" })?.indexStatus == .creating {
                    interruptedBackfills += 1
                }
                expired = try await verify(db, streamArn: try #require(table.latestStreamArn), acknowledged: acknowledged)
            }
        }
        #expect(interruptedBackfills >= 1, "no round was killed during the backfill")
        #expect(expired > 0, "the sweep deleted no item during the rounds")
        #expect(schedule.roundsKilledWhileOpening >= 1, "no round killed the writer while it opened the database")
        try await withDatabase(at: directory) { db in
            let active = try await waitUntil {
                try await db.describeTable(tableName: "Catalog").globalSecondaryIndexes?.allSatisfy { $0.indexStatus == .active } == true
            }
            #expect(active, "the backfill did not complete after the crashes")
            let report = try await db.checkIndexes(tableName: "Catalog")
            #expect(report.isConsistent && report.indexes.allSatisfy { $0.missingEntries == 0 }, "\(report)")
            let byCategory = try #require(report.indexes.first { $0.indexName == "byCategory" })
            #expect(byCategory.actualEntries > 0 && byCategory.actualEntries < report.itemCount)
            try await waitUntil("the expiry backfill") { try await db.checkIndexes(tableName: "Catalog").expiryIndex.backfilling == false }
            let expiry = try await db.checkIndexes(tableName: "Catalog").expiryIndex
            #expect(expiry.isConsistent && expiry.missingEntries == 0 && expiry.actualEntries > 0, "\(expiry)")
        }
    }

    /// Checks the reopened database against what the writers acknowledged; returns how many items the stream
    /// shows the Time to Live sweep deleted.
    private func verify(_ db: Database, streamArn arn: String, acknowledged: [String: (seq: Int, deleted: Bool)]) async throws -> Int {
        var last: [String: StreamRecord] = [:]
        var expired = 0
        for record in try await readStream(db, arn).map(\.record) {
            if record.userIdentity != nil { expired += 1 }
            if case .s(let id)? = record.dynamodb.keys["id"] { last[id] = record }
        }
        var stored: [String: Item] = [:]
        var start: Item?
        repeat {
            let page = try await db.scan(ScanInput(tableName: "Catalog", exclusiveStartKey: start))
            for item in page.items ?? [] {
                if case .s(let id)? = item["id"] { stored[id] = item }
            }
            start = page.lastEvaluatedKey
        } while start != nil
        var lost: [String] = []
        for (id, write) in acknowledged {
            guard let item = stored[id], case .n(let number)? = item["seq"], let seq = Int(number.description) else {
                // Absent: deleted by the acknowledged write, or by a later one the stream shows removing it.
                if !write.deleted, last[id]?.eventName != .remove || seq(of: last[id]?.dynamodb.oldImage) < write.seq { lost.append(id) }
                continue
            }
            // A later write, not yet acknowledged, may have replaced an acknowledged one.
            if seq < write.seq || (seq == write.seq && write.deleted) { lost.append(id) }
        }
        #expect(lost.isEmpty, "acknowledged writes lost after kill -9: \(lost.sorted().prefix(10))")

        let report = try await db.checkIndexes(tableName: "Catalog")
        #expect(report.isConsistent, "\(report)")
        #expect(report.itemCount == stored.count)

        var mismatched: [String] = []
        for (id, record) in last where record.dynamodb.newImage != stored[id] {
            mismatched.append(id)
        }
        #expect(mismatched.isEmpty, "items whose last stream record is not their state: \(mismatched.sorted().prefix(10))")
        #expect(Set(stored.keys) == Set(last.filter { $0.value.eventName != .remove }.keys))
        return expired
    }

    private func seq(of item: Item?) -> Int {
        guard case .n(let number)? = item?["seq"] else { return -1 }
        return Int(number.description) ?? -1
    }
}
