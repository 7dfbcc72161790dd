import ArgumentParser
import Eddy

/// `eddy check TABLE`: proves that a table's indexes hold exactly what its items imply.
struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check that every index of a table equals what the table's items imply.",
        discussion: """
            Prints, per index, the entries expected from the items, the entries held, and how many are
            missing, unexpected or hold other attributes; exits with status 1 if an index is inconsistent.
            An index still being backfilled may lack entries, but must hold none that is wrong.
            """)
    @OptionGroup var database: DatabaseOptions
    @Argument(help: "The table name.") var tableName: String

    func run() async throws {
        let db = try database.open()
        var consistent = false
        try await runOperation("CheckIndexes") {
            let report = try await db.checkIndexes(tableName: tableName)
            try printJSON(report)
            consistent = report.isConsistent
        }
        guard consistent else { throw ExitCode.failure }
    }
}
