import Testing

@testable import Eddy

// DescribeLimits (API reference; "Quotas in Amazon DynamoDB"): DynamoDB's default capacity quotas.

@Suite struct DescribeLimitsTests {
    @Test func theLimitsAreDynamoDBsDefaultQuotas() async throws {
        try await withDatabase { db in
            #expect(db.describeLimits() == DescribeLimitsOutput(
                accountMaxReadCapacityUnits: 80_000, accountMaxWriteCapacityUnits: 80_000,
                tableMaxReadCapacityUnits: 40_000, tableMaxWriteCapacityUnits: 40_000))
        }
    }
}
