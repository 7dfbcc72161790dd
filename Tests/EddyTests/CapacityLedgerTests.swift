import Foundation
import Testing

@testable import Eddy

// Throttling as DynamoDB answers it (Developer Guide, "Burst and adaptive capacity", "Diagnosing throttling";
// API Reference, "ThrottlingReason"): a bucket per table and per global index, the limit of a partition key
// value, the maximums and quotas of on-demand tables, and the settings followed at once.

/// Runs `body` with a database on a manual clock, throttling as configured.
func withCapacityDatabase(throttling: Bool = true, _ body: (Database, ManualWallClock) async throws -> Void) async throws {
    try await withTemporaryDirectory { path in
        let clock = ManualWallClock(milliseconds: 1_750_000_000_000)
        let database = try Database(path: path + "/db", configuration: .init(clock: clock, throttlingEnabled: throttling))
        try await body(database, clock)
    }
}

/// Creates a table keyed by `pk`: `PROVISIONED` with `read`/`write` units, or `PAY_PER_REQUEST` when nil,
/// optionally with a global index `byOwner` on `owner` provisioned with `indexUnits`.
@discardableResult
func createCapacityTable(
    _ db: Database, _ name: String, read: Int64? = nil, write: Int64? = nil, indexUnits: Int64? = nil,
    onDemandThroughput: OnDemandThroughput? = nil
) async throws -> TableDescription {
    let provisioned = read.map { ProvisionedThroughput(readCapacityUnits: $0, writeCapacityUnits: write ?? $0) }
    var definitions = [AttributeDefinition(attributeName: "pk", attributeType: .s)]
    var indexes: [GlobalSecondaryIndex]?
    if let indexUnits {
        definitions.append(AttributeDefinition(attributeName: "owner", attributeType: .s))
        indexes = [
            GlobalSecondaryIndex(
                indexName: "byOwner", keySchema: [KeySchemaElement(attributeName: "owner", keyType: .hash)],
                projection: Projection(projectionType: .keysOnly),
                provisionedThroughput: ProvisionedThroughput(readCapacityUnits: indexUnits, writeCapacityUnits: indexUnits))
        ]
    }
    return try await db.createTable(
        CreateTableInput(
            tableName: name, keySchema: [KeySchemaElement(attributeName: "pk", keyType: .hash)], attributeDefinitions: definitions,
            billingMode: provisioned == nil ? .payPerRequest : .provisioned, provisionedThroughput: provisioned,
            onDemandThroughput: onDemandThroughput, globalSecondaryIndexes: indexes))
}

@Suite(.timeLimit(.minutes(5))) struct CapacityLedgerTests {
    private static func meter(_ db: Database, _ name: String) throws -> TableMeter {
        try #require(db.catalog.table(named: name)).meter
    }

    /// Admits and spends `units` per request for table `name` until refused, at partition key value `key`,
    /// through global index `index`, charging each of `charged` (nil for the table); returns how many got in
    /// and the refusal.
    private static func drain(
        _ db: Database, _ name: String, _ operation: CapacityOperation, units: Double = 1, key: AttributeValue? = nil,
        index: String? = nil, charging charged: [String?] = [nil]
    ) throws -> (admitted: Int, refusal: EddyError?) {
        let meter = try meter(db, name)
        let partitionHash = key.map(ItemKey.partitionHash(of:))
        var charge = CapacityCharge(tableName: name)
        let used = operation == .read ? CapacityUnits(read: units) : CapacityUnits(write: units)
        for resource in charged {
            if let resource { charge.globalIndexes[resource] = used } else { charge.table = used }
        }
        var admitted = 0
        while admitted < 200_000 {
            do {
                try meter.admit(operation, partitionHash: partitionHash, index: index)
            } catch {
                return (admitted, error)
            }
            meter.spend(charge, operation, partitionHash: partitionHash, index: index)
            admitted += 1
        }
        return (admitted, nil)
    }

    @Test func aFiveUnitTableAbsorbsItsBurstThenThrottlesWithDynamoDBsAnswer() async throws {
        try await withCapacityDatabase { db, clock in
            let table = try await createCapacityTable(db, "Orders", read: 5, write: 5)
            let writes = try Self.drain(db, "Orders", .write)
            #expect(writes.admitted == 1500)
            #expect(
                writes.refusal
                    == .provisionedThroughputExceeded(
                        ThrottlingMessages.provisionedTable,
                        reasons: [ThrottlingReason(reason: "TableWriteProvisionedThroughputExceeded", resource: table.tableArn)]))
            // Reads have a bucket of their own.
            #expect(try Self.drain(db, "Orders", .read, units: 0.5).admitted == 3000)
            clock.advance(bySeconds: 2)
            #expect(try Self.drain(db, "Orders", .write).admitted == 10)
        }
    }

    @Test func aGlobalIndexThatCannotKeepUpThrottlesItsTablesWrites() async throws {
        try await withCapacityDatabase { db, _ in
            let table = try await createCapacityTable(db, "Orders", read: 100, write: 100, indexUnits: 1)
            let writes = try Self.drain(db, "Orders", .write, key: .s("o1"), charging: [nil, "byOwner"])
            #expect(writes.admitted == 300)
            #expect(
                writes.refusal
                    == .provisionedThroughputExceeded(
                        ThrottlingMessages.provisionedIndex,
                        reasons: [ThrottlingReason(reason: "IndexWriteProvisionedThroughputExceeded", resource: "\(table.tableArn)/index/byOwner")]))
        }
    }

    @Test func anIndexCreatedAgainUnderItsNameStartsFull() async throws {
        try await withCapacityDatabase { db, _ in
            try await createCapacityTable(db, "Orders", read: 100, write: 100, indexUnits: 1)
            #expect(try Self.drain(db, "Orders", .write, charging: ["byOwner"]).admitted == 300)
            try await db.updateTable(
                UpdateTableInput(
                    tableName: "Orders",
                    globalSecondaryIndexUpdates: [GlobalSecondaryIndexUpdate(delete: DeleteGlobalSecondaryIndexAction(indexName: "byOwner"))]))
            try await db.updateTable(
                UpdateTableInput(
                    tableName: "Orders",
                    attributeDefinitions: [AttributeDefinition(attributeName: "owner", attributeType: .s)],
                    globalSecondaryIndexUpdates: [
                        GlobalSecondaryIndexUpdate(
                            create: GlobalSecondaryIndex(
                                indexName: "byOwner", keySchema: [KeySchemaElement(attributeName: "owner", keyType: .hash)],
                                projection: Projection(projectionType: .keysOnly),
                                provisionedThroughput: ProvisionedThroughput(readCapacityUnits: 1, writeCapacityUnits: 1)))
                    ]))
            #expect(try Self.drain(db, "Orders", .write, charging: ["byOwner"]).admitted == 300)
        }
    }

    @Test func anIndexWithoutThroughputOfItsOwnIsMeteredAtItsTables() async throws {
        try await withCapacityDatabase { db, _ in
            try await db.createTable(
                CreateTableInput(
                    tableName: "Orders", keySchema: [KeySchemaElement(attributeName: "pk", keyType: .hash)],
                    attributeDefinitions: [
                        AttributeDefinition(attributeName: "pk", attributeType: .s), AttributeDefinition(attributeName: "owner", attributeType: .s),
                    ],
                    billingMode: .payPerRequest,
                    globalSecondaryIndexes: [
                        GlobalSecondaryIndex(
                            indexName: "byOwner", keySchema: [KeySchemaElement(attributeName: "owner", keyType: .hash)],
                            projection: Projection(projectionType: .keysOnly))
                    ]))
            try await db.updateTable(
                UpdateTableInput(
                    tableName: "Orders", billingMode: .provisioned, provisionedThroughput: ProvisionedThroughput(readCapacityUnits: 2, writeCapacityUnits: 2)))
            let reads = try Self.drain(db, "Orders", .read, index: "byOwner", charging: ["byOwner"])
            #expect(reads.admitted == 600)
            #expect(reads.refusal?.throttlingReasons.first?.reason == "IndexReadProvisionedThroughputExceeded")
        }
    }

    @Test func anUpdatedThroughputAppliesAtOnce() async throws {
        try await withCapacityDatabase { db, clock in
            try await createCapacityTable(db, "Orders", read: 5, write: 5)
            _ = try Self.drain(db, "Orders", .write)
            try await db.updateTable(
                UpdateTableInput(tableName: "Orders", provisionedThroughput: ProvisionedThroughput(readCapacityUnits: 5, writeCapacityUnits: 50)))
            clock.advance(bySeconds: 1)
            #expect(try Self.drain(db, "Orders", .write).admitted == 50)
        }
    }

    @Test func aHotKeyThrottlesWhileOtherKeysOfTheTableDoNot() async throws {
        try await withCapacityDatabase { db, _ in
            let table = try await createCapacityTable(db, "Provisioned", read: 10_000, write: 10_000)
            let hot = try Self.drain(db, "Provisioned", .write, key: .s("hot"))
            #expect(hot.admitted == 1000)
            #expect(
                hot.refusal
                    == .provisionedThroughputExceeded(
                        ThrottlingMessages.provisionedTable,
                        reasons: [ThrottlingReason(reason: "TableWriteKeyRangeThroughputExceeded", resource: table.tableArn)]))
            let meter = try Self.meter(db, "Provisioned")
            try meter.admit(.write, partitionHash: ItemKey.partitionHash(of: .s("cold")))
            // Reads of the hot key share its second: its writes used it all.
            await expectEddyError("ProvisionedThroughputExceededException") {
                try meter.admit(.read, partitionHash: ItemKey.partitionHash(of: .s("hot")))
            }

            let onDemand = try await createCapacityTable(db, "OnDemand")
            let reads = try Self.drain(db, "OnDemand", .read, units: 4, key: .s("hot"))
            #expect(reads.admitted == 750)
            #expect(
                reads.refusal
                    == .throttling(
                        ThrottlingMessages.onDemandTable,
                        reasons: [ThrottlingReason(reason: "TableReadKeyRangeThroughputExceeded", resource: onDemand.tableArn)]))
        }
    }

    @Test func onDemandMaximumsAndTheTableQuotaThrottle() async throws {
        try await withCapacityDatabase { db, clock in
            let table = try await createCapacityTable(db, "Capped", onDemandThroughput: OnDemandThroughput(maxWriteRequestUnits: 10))
            let writes = try Self.drain(db, "Capped", .write)
            #expect(writes.admitted == 10)
            #expect(
                writes.refusal
                    == .throttling(
                        ThrottlingMessages.maxOnDemand,
                        reasons: [ThrottlingReason(reason: "TableWriteMaxOnDemandThroughputExceeded", resource: table.tableArn)]))
            // No read maximum: DynamoDB's per-table quota holds reads.
            let reads = try Self.drain(db, "Capped", .read, units: 1000)
            #expect(reads.admitted == 40)
            #expect(
                reads.refusal
                    == .requestLimitExceeded(
                        ThrottlingMessages.accountLimit,
                        reasons: [ThrottlingReason(reason: "TableReadAccountLimitExceeded", resource: table.tableArn)]))
            // Removing the maximum leaves the quota.
            try await db.updateTable(UpdateTableInput(tableName: "Capped", onDemandThroughput: OnDemandThroughput(maxWriteRequestUnits: -1)))
            clock.advance(bySeconds: 1)
            #expect(try Self.drain(db, "Capped", .write, units: 1000).admitted == 40)
        }
    }

    @Test func aDeletedTableIsForgottenAndItsSuccessorStartsFull() async throws {
        try await withCapacityDatabase { db, _ in
            try await createCapacityTable(db, "Orders", read: 1, write: 1)
            _ = try Self.drain(db, "Orders", .write, key: .s("k"))
            try await db.deleteTable(tableName: "Orders")
            try await createCapacityTable(db, "Orders", read: 1, write: 1)
            #expect(try Self.drain(db, "Orders", .write, key: .s("k")).admitted == 300)
        }
    }

    @Test func switchingEnforcementOffAdmitsEverything() async throws {
        try await withCapacityDatabase(throttling: false) { db, _ in
            try await createCapacityTable(db, "Orders", read: 1, write: 1)
            let meter = try Self.meter(db, "Orders")
            let partitionHash = ItemKey.partitionHash(of: .s("k"))
            var charge = CapacityCharge(tableName: "Orders")
            charge.table.write = 100_000
            meter.spend(charge, .write, partitionHash: partitionHash)
            try meter.admit(.write, partitionHash: partitionHash)
        }
    }

    @Test func aReopenedDatabaseStartsWithFullBuckets() async throws {
        try await withTemporaryDirectory { path in
            let clock = ManualWallClock(milliseconds: 1_750_000_000_000)
            do {
                let db = try Database(path: path + "/db", configuration: .init(clock: clock))
                try await createCapacityTable(db, "Orders", read: 1, write: 1)
                _ = try Self.drain(db, "Orders", .write)
                await db.close()
            }
            let reopened = try Database(path: path + "/db", configuration: .init(clock: clock))
            #expect(try Self.drain(reopened, "Orders", .write).admitted == 300)
            await reopened.close()
        }
    }
}
