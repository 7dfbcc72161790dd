import ArgumentParser
import Eddy

/// `eddy check TABLE`: proves that a table's indexes (the expiry index included) hold exactly what its items
/// imply.
struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check that every index of a table equals what the table's items imply.",
        discussion: """
            Prints, per index, the entries expected from the items, the entries held, and how many are \
            missing, unexpected or hold other attributes, and for the table and each index the item count \
            and size its counter keeps (what DescribeTable reports) next to a fresh count; exits with \
            status 1 if an index or a counter is inconsistent. \
            An index still being backfilled may lack entries, but must hold none that is wrong. \
            The expiry index of Time to Live is checked too: one entry per item that can still expire, \
            under the second it expires, and no other. \
            With --endpoint-url, the server checks its data directory (GET /eddy/2026-12-01/tables/TABLE/check).
            """)
    @OptionGroup var target: TargetOptions
    @Argument(help: "The table name.") var tableName: String

    func run() async throws {
        let connection = try target.connect()
        var consistent = false
        try await runOperation("CheckIndexes") {
            let report = try await connection.admin("GET", ["tables", tableName, "check"]) { try await $0.checkIndexes(tableName: tableName) }
            try printJSON(report)
            consistent = report.isConsistent
        }
        guard consistent else { throw ExitCode.failure }
    }
}
