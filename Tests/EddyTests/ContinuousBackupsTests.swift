import Testing

@testable import Eddy

// DescribeContinuousBackups and UpdateContinuousBackups (API references): Eddy has no point-in-time recovery, so
// every table is described as a DynamoDB table without it, and asking for it is refused.

@Suite struct ContinuousBackupsTests {
    @Test func everyTableHasContinuousBackupsWithoutPointInTimeRecovery() async throws {
        try await withDatabase { db in
            try await createTable(db, "Orders")
            let expected = ContinuousBackupsOutput(continuousBackupsDescription: ContinuousBackupsDescription(
                continuousBackupsStatus: "ENABLED",
                pointInTimeRecoveryDescription: PointInTimeRecoveryDescription(pointInTimeRecoveryStatus: "DISABLED")))
            #expect(try await db.describeContinuousBackups(DescribeContinuousBackupsInput(tableName: "Orders")) == expected)
            let disabled = UpdateContinuousBackupsInput(
                tableName: "Orders", pointInTimeRecoverySpecification: PointInTimeRecoverySpecification(pointInTimeRecoveryEnabled: false))
            #expect(try await db.updateContinuousBackups(disabled) == expected)
        }
    }

    @Test func enablingPointInTimeRecoveryIsRefused() async throws {
        try await withDatabase { db in
            try await createTable(db, "Orders")
            await expectValidation("Eddy does not support point-in-time recovery: PointInTimeRecoveryEnabled cannot be true") {
                _ = try await db.updateContinuousBackups(UpdateContinuousBackupsInput(
                    tableName: "Orders", pointInTimeRecoverySpecification: PointInTimeRecoverySpecification(pointInTimeRecoveryEnabled: true)))
            }
        }
    }

    @Test func aMissingTableIsTableNotFound() async throws {
        try await withDatabase { db in
            await expectEddyError("TableNotFoundException", "Table not found: Absent") {
                _ = try await db.describeContinuousBackups(DescribeContinuousBackupsInput(tableName: "Absent"))
            }
            await expectEddyError("TableNotFoundException", "Table not found: Absent") {
                _ = try await db.updateContinuousBackups(UpdateContinuousBackupsInput(
                    tableName: "Absent", pointInTimeRecoverySpecification: PointInTimeRecoverySpecification(pointInTimeRecoveryEnabled: true)))
            }
        }
    }
}
