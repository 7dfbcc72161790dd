import ChildProcessSupport
import Foundation
import Testing

@testable import Eddy

/// The MaterializedView example (Examples/MaterializedView) under `kill -9`: a derivative table of
/// per-customer order count and total is kept exactly once, so after any number of crashes it equals its
/// recomputation from Orders.
///
/// Each round runs `MaterializedView --worker` on one data directory with a new seed (random orders from
/// three tasks while the mapping runs) and kills it with SIGKILL at a random moment. Every few rounds, and
/// after the last, the test opens the database, registers the mapping under the example's name (so it
/// resumes at the checkpoint the killed workers left), lets it drain, and compares CustomerTotals with the
/// totals recomputed from Orders: a change applied twice or skipped would leave them different for good.
@Suite(.timeLimit(.minutes(10))) struct MaterializedViewTests {
    /// A customer's order count and total in cents.
    private struct Totals: Equatable, CustomStringConvertible {
        var orders = 0
        var cents = 0
        var description: String { "(\(orders), \(cents))" }
    }

    @Test func customerTotalsEqualTheirRecomputationAfterKillNineRounds() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory + "/db"
            var random = SystemRandomNumberGenerator()
            var acknowledged: [Substring: Int] = [:]
            var schedule = KillSchedule()
            let rounds = 24
            for round in 0..<rounds {
                let seed = UInt64.random(in: 0...UInt64.max, using: &random)
                let moment = schedule.moment(ofRound: round, using: &random)
                let child = try await offThePool {
                    try runChild("MaterializedView", arguments: ["--worker", path, String(seed)], killingAt: moment)
                }
                schedule.record(child)
                #expect(
                    child.problemAsKilledRound == nil,
                    "round \(round) (seed \(seed)), killed \(moment): \(child.problemAsKilledRound ?? "")")
                for line in child.lines where line.hasPrefix("ACK ") {
                    acknowledged[line.split(separator: " ")[1], default: 0] += 1
                }
                // A view gone wrong stays wrong: the first failed check ends the test.
                if round % 4 == 3 || round == rounds - 1, try await !verify(path, after: "round \(round) (seed \(seed), killed \(moment))") {
                    return
                }
            }
            // Every kind of change happened, a customer change included, or the test proved little.
            for operation in ["place", "reprice", "move", "cancel"] {
                #expect(acknowledged[Substring(operation), default: 0] >= 20, "too few \(operation) operations: \(acknowledged)")
            }
            #expect(schedule.roundsKilledWhileOpening >= 1, "no round killed the worker while it opened the database")
        }
    }

    /// The example's documented command: the demo ends with the view and its recomputation in agreement.
    @Test func theDemoEndsWithTheViewInAgreement() async throws {
        try await withTemporaryDirectory { directory in
            let demo = try await offThePool { try runChild("MaterializedView", arguments: [directory + "/db"]) }
            #expect(demo.exitStatus == 0, "\(demo.output.suffix(1_000)); stderr: \(demo.errorOutput.suffix(2_000))")
            #expect(demo.output.contains("The view agrees with the recomputation"), "\(demo.output.suffix(1_000))")
        }
    }

    /// Opens the database, drains the mapping and expects CustomerTotals to equal the recomputation; returns
    /// whether it did.
    private func verify(_ path: String, after context: String) async throws -> Bool {
        try await withDatabase(at: path) { db in try await verify(db, after: context) }
    }

    private func verify(_ db: Database, after context: String) async throws -> Bool {
        let arn = try #require(try await db.describeTable(tableName: "Orders").latestStreamArn)
        var settings = TriggerMappingConfiguration(eventSourceArn: arn, startingPosition: .trimHorizon)
        settings.batchSize = 25
        settings.parallelizationFactor = 3
        let triggers = TriggerRuntime(database: db)
        try await triggers.registerDerivative(
            name: "customer-totals", configuration: settings, targetTables: ["CustomerTotals"], transform: Self.totalsWrites)
        let running = Task { await triggers.run() }
        let caughtUp = try await waitUntil { try await view(db) == recomputation(db) }
        running.cancel()
        await running.value
        // Checked again once the mapping has stopped: nothing it applied after the match may undo it.
        let (stored, expected) = (try await view(db), try await recomputation(db))
        #expect(caughtUp, "after \(context): the view did not catch up within \(waitBound)")
        #expect(stored == expected, "after \(context): \(difference(stored, expected))")
        #expect(!expected.isEmpty, "after \(context): no orders at all")
        return caughtUp && stored == expected
    }

    /// The mapping, as the example defines it: an Orders record takes its old image's order out of its
    /// customer's totals and puts its new image's order into its customer's.
    private static let totalsWrites: DerivativeTransform = { record in
        var writes: [DerivativeWrite] = []
        for (image, sign) in [(record.dynamodb.oldImage, -1), (record.dynamodb.newImage, 1)] {
            guard let image, case .s(let customer)? = image["customerId"], case .n(let cents)? = image["amountCents"] else {
                continue
            }
            writes.append(.update(
                tableName: "CustomerTotals", key: ["customerId": .s(customer)],
                updateExpression: "ADD #orders :orders, #cents :cents",
                expressionAttributeNames: ["#orders": "orderCount", "#cents": "totalCents"],
                expressionAttributeValues: [":orders": .n(DecimalNumber(sign)), ":cents": .n(sign < 0 ? cents.negated : cents)]))
        }
        return writes
    }

    /// CustomerTotals, without the customers whose count and total are both 0.
    private func view(_ db: Database) async throws -> [String: Totals] {
        var totals: [String: Totals] = [:]
        for item in try await scanEveryItem(db, "CustomerTotals") {
            let customer = try #require(item["customerId"])
            guard case .s(let name) = customer else {
                Issue.record("a customer that is not a string: \(item)")
                continue
            }
            let row = Totals(orders: integer(item["orderCount"]), cents: integer(item["totalCents"]))
            if row != Totals() { totals[name] = row }
        }
        return totals
    }

    /// The totals recomputed from Orders.
    private func recomputation(_ db: Database) async throws -> [String: Totals] {
        var totals: [String: Totals] = [:]
        for order in try await scanEveryItem(db, "Orders") {
            guard case .s(let customer)? = order["customerId"] else {
                Issue.record("an order without a customer: \(order)")
                continue
            }
            totals[customer, default: Totals()].orders += 1
            totals[customer, default: Totals()].cents += integer(order["amountCents"])
        }
        return totals
    }

    /// The integer `value` holds; 0 when absent (an attribute ADD never touched), and a recorded issue when
    /// it is not an integer.
    private func integer(_ value: AttributeValue?) -> Int {
        guard let value else { return 0 }
        guard case .n(let number) = value, let integer = Int(number.description) else {
            Issue.record("not an integer: \(value)")
            return 0
        }
        return integer
    }

    /// The customers whose view and recomputation differ, for a failure message.
    private func difference(_ stored: [String: Totals], _ expected: [String: Totals]) -> String {
        let customers = Set(stored.keys).union(expected.keys).filter { stored[$0] != expected[$0] }.sorted()
        let rows = customers.map { "\($0): view \(stored[$0].map(\.description) ?? "none"), recomputed \(expected[$0].map(\.description) ?? "none")" }
        return rows.isEmpty ? "they agree" : rows.joined(separator: "; ")
    }
}
