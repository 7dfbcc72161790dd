import Foundation
import Testing

@testable import Eddy

// Application Auto Scaling for DynamoDB, from the Application Auto Scaling API Reference (RegisterScalableTarget,
// PutScalingPolicy, the Describe operations and their errors) and the DynamoDB Developer Guide ("Managing
// throughput capacity automatically with DynamoDB auto scaling": target utilization 20–90 %; "Service, account,
// and table quotas": 4 decreases at any time of a UTC day, then one an hour). Scale-out after 2 consecutive
// minutes above target, scale-in after 15 below (ERRATA). The scaler is run one step at a time on a manual
// clock.

@Suite(.timeLimit(.minutes(5))) struct AutoScalingTests {
    private static let tableRead = "dynamodb:table:ReadCapacityUnits"
    private static let tableWrite = "dynamodb:table:WriteCapacityUnits"
    private static let indexWrite = "dynamodb:index:WriteCapacityUnits"

    /// A database on a manual clock whose background scaler never runs on its own, throttling as configured.
    private static func withScalingDatabase(
        throttling: Bool = true, _ body: (Database, ManualWallClock, String) async throws -> Void
    ) async throws {
        try await withTemporaryDirectory { path in
            let clock = ManualWallClock(milliseconds: 1_750_000_000_000)
            let database = try Database(
                path: path + "/db", configuration: .init(clock: clock, throttlingEnabled: throttling, autoScalingInterval: .seconds(86_400)))
            try await body(database, clock, path + "/db")
        }
    }

    private static func register(
        _ db: Database, _ resourceId: String = "table/Orders", _ dimension: String = tableRead, min: Int64? = 5, max: Int64? = 100
    ) async throws {
        try await db.registerScalableTarget(
            RegisterScalableTargetInput(resourceId: resourceId, scalableDimension: dimension, minCapacity: min, maxCapacity: max))
    }

    private static func policy(
        _ name: String = "reads", _ resourceId: String = "table/Orders", _ dimension: String = tableRead, target: Double = 50,
        metric: String = "DynamoDBReadCapacityUtilization", disableScaleIn: Bool? = nil
    ) -> PutScalingPolicyInput {
        PutScalingPolicyInput(
            policyName: name, resourceId: resourceId, scalableDimension: dimension,
            targetTrackingScalingPolicyConfiguration: TargetTrackingScalingPolicyConfiguration(
                targetValue: target, predefinedMetricSpecification: PredefinedMetricSpecification(predefinedMetricType: metric),
                disableScaleIn: disableScaleIn))
    }

    private static func targets(_ db: Database) async throws -> [ScalableTarget] {
        try await db.describeScalableTargets(DescribeScalableTargetsInput()).scalableTargets
    }

    private static func throughput(_ db: Database, _ table: String = "Orders") async throws -> ProvisionedThroughputDescription {
        try await db.describeTable(tableName: table).provisionedThroughput
    }

    /// Charges `units` of `operation` to table `name` (or its index) now, as a request would.
    private static func consume(_ db: Database, _ units: Double, _ operation: CapacityOperation, index: String? = nil) throws {
        var charge = CapacityCharge(tableName: "Orders")
        let used = operation == .read ? CapacityUnits(read: units) : CapacityUnits(write: units)
        if let index { charge.globalIndexes[index] = used } else { charge.table = used }
        try #require(db.catalog.table(named: "Orders")).meter.spend(charge, operation, partitionHash: nil, index: index)
    }

    /// Lets `minutes` minutes pass, running the scaler at the end of each, as its background job would.
    private static func pass(minutes: Int, _ db: Database, _ clock: ManualWallClock) async {
        for _ in 0..<minutes {
            clock.advance(bySeconds: 60)
            await db.evaluateScalingPolicies()
        }
    }

    /// Charges `units` reads to table Orders now, then lets a minute pass.
    private static func minuteOfReads(_ units: Double, _ db: Database, _ clock: ManualWallClock) async throws {
        try consume(db, units, .read)
        await pass(minutes: 1, db, clock)
    }

    @Test func registerAndDeregisterValidateTheTargetAsTheAPIReferenceDoes() async throws {
        try await Self.withScalingDatabase { db, clock, _ in
            try await createCapacityTable(db, "Orders", read: 10, write: 10, indexUnits: 10)
            try await createCapacityTable(db, "OnDemand")
            let unsupported = "Unsupported service namespace, resource type or scalable dimension"
            await expectValidation(unsupported) {
                try await db.registerScalableTarget(
                    RegisterScalableTargetInput(
                        serviceNamespace: "ecs", resourceId: "table/Orders", scalableDimension: Self.tableRead, minCapacity: 1, maxCapacity: 2))
            }
            await expectValidation(unsupported) { try await Self.register(db, "table/Orders", "dynamodb:index:ReadCapacityUnits") }
            await expectValidation(unsupported) { try await Self.register(db, "table/Orders/index/byOwner", Self.tableRead) }
            await expectValidation(unsupported) { try await Self.register(db, "Orders", Self.tableRead) }
            await expectValidation("DynamoDB table does not exist: table/Nope") { try await Self.register(db, "table/Nope") }
            await expectValidation("Scalable targets are supported for tables in provisioned capacity mode only: table/OnDemand") {
                try await Self.register(db, "table/OnDemand")
            }
            await expectValidation("MinCapacity and MaxCapacity are required for registering a new scalable target") {
                try await Self.register(db, max: nil)
            }
            await expectValidation("Minimum capacity cannot be greater than maximum capacity") { try await Self.register(db, min: 20, max: 10) }
            await expectValidation("Minimum capacity cannot be less than 1") { try await Self.register(db, min: 0, max: 10) }
            #expect(try await Self.targets(db).isEmpty)

            try await Self.register(db)
            try await Self.register(db, "table/Orders/index/byOwner", Self.indexWrite, min: 1, max: 20)
            // An update changes only what it names.
            try await Self.register(db, min: nil, max: 50)
            let described = try await Self.targets(db)
            #expect(described.map(\.resourceId) == ["table/Orders", "table/Orders/index/byOwner"])
            #expect(described[0].minCapacity == 5 && described[0].maxCapacity == 50)
            #expect(described[0].creationTime == Double(clock.nowMilliseconds()) / 1000)
            #expect(described[0].scalableTargetARN.hasPrefix("arn:aws:application-autoscaling:us-east-1:000000000000:scalable-target/"))
            let first = try await db.describeScalableTargets(DescribeScalableTargetsInput(maxResults: 1))
            #expect(first.scalableTargets.map(\.resourceId) == ["table/Orders"])
            let second = try await db.describeScalableTargets(DescribeScalableTargetsInput(maxResults: 1, nextToken: first.nextToken))
            #expect(second.scalableTargets.map(\.resourceId) == ["table/Orders/index/byOwner"] && second.nextToken == nil)
            let filtered = try await db.describeScalableTargets(DescribeScalableTargetsInput(scalableDimension: Self.indexWrite))
            #expect(filtered.scalableTargets.map(\.scalableDimension) == [Self.indexWrite])

            try await db.deregisterScalableTarget(DeregisterScalableTargetInput(resourceId: "table/Orders", scalableDimension: Self.tableRead))
            #expect(try await Self.targets(db).map(\.resourceId) == ["table/Orders/index/byOwner"])
            let missing =
                "No scalable target registered for service namespace: dynamodb, resource ID: table/Orders, scalable dimension: dynamodb:table:ReadCapacityUnits"
            await expectEddyError("ObjectNotFoundException", missing) {
                try await db.deregisterScalableTarget(DeregisterScalableTargetInput(resourceId: "table/Orders", scalableDimension: Self.tableRead))
            }
            await expectEddyError("ObjectNotFoundException", missing) { try await db.putScalingPolicy(Self.policy()) }
        }
    }

    @Test func targetsAndPoliciesSurviveAReopen() async throws {
        try await withTemporaryDirectory { path in
            let clock = ManualWallClock(milliseconds: 1_750_000_000_000)
            let configuration = Database.Configuration(clock: clock, autoScalingInterval: .seconds(86_400))
            let db = try Database(path: path + "/db", configuration: configuration)
            try await createCapacityTable(db, "Orders", read: 10, write: 10)
            try await Self.register(db)
            try await db.putScalingPolicy(Self.policy())
            await db.close()
            let reopened = try Database(path: path + "/db", configuration: configuration)
            #expect(try await Self.targets(reopened).map(\.maxCapacity) == [100])
            let policies = try await reopened.describeScalingPolicies(DescribeScalingPoliciesInput())
            #expect(policies.scalingPolicies.map(\.policyName) == ["reads"])
            await reopened.close()
        }
    }

    @Test func putScalingPolicyValidatesAndReplacesByName() async throws {
        try await Self.withScalingDatabase { db, _, _ in
            try await createCapacityTable(db, "Orders", read: 10, write: 10)
            try await Self.register(db)
            await expectValidation("The target value for DynamoDBReadCapacityUtilization must be between 20 and 90") {
                try await db.putScalingPolicy(Self.policy(target: 95))
            }
            await expectValidation(
                "Predefined metric type DynamoDBWriteCapacityUtilization is not supported for scalable dimension dynamodb:table:ReadCapacityUnits; use DynamoDBReadCapacityUtilization"
            ) { try await db.putScalingPolicy(Self.policy(metric: "DynamoDBWriteCapacityUtilization")) }
            var stepScaling = Self.policy()
            stepScaling.policyType = "StepScaling"
            await expectValidation { try await db.putScalingPolicy(stepScaling) }

            let created = try await db.putScalingPolicy(Self.policy())
            #expect(created.policyARN.hasSuffix(":resource/dynamodb/table/Orders:policyName/reads"))
            #expect(created.alarms.map(\.alarmName).allSatisfy { $0.hasPrefix("TargetTracking-table/Orders-Alarm") })
            let replaced = try await db.putScalingPolicy(Self.policy(target: 70))
            #expect(replaced.policyARN == created.policyARN)
            let described = try await db.describeScalingPolicies(DescribeScalingPoliciesInput(resourceId: "table/Orders"))
            #expect(described.scalingPolicies.map(\.targetTrackingScalingPolicyConfiguration.targetValue) == [70])
            #expect(described.scalingPolicies.first?.policyType == "TargetTrackingScaling")

            let delete = DeleteScalingPolicyInput(policyName: "reads", resourceId: "table/Orders", scalableDimension: Self.tableRead)
            try await db.deleteScalingPolicy(delete)
            #expect(try await db.describeScalingPolicies(DescribeScalingPoliciesInput()).scalingPolicies.isEmpty)
            await expectEddyError(
                "ObjectNotFoundException",
                "No scaling policy found for service namespace: dynamodb, resource ID: table/Orders, scalable dimension: dynamodb:table:ReadCapacityUnits, policy name: reads"
            ) { try await db.deleteScalingPolicy(delete) }
        }
    }

    @Test func aSustainedLoadAboveTheTargetRaisesCapacityAfterTwoMinutesWithinTheMaximum() async throws {
        try await Self.withScalingDatabase { db, clock, _ in
            try await createCapacityTable(db, "Orders", read: 10, write: 10)
            try await Self.register(db, min: 5, max: 40)
            try await db.putScalingPolicy(Self.policy(target: 50))
            // 600 units a minute: 10 per second, 100 % of 10 units.
            try await Self.minuteOfReads(600, db, clock)
            #expect(try await Self.throughput(db).readCapacityUnits == 10)
            try await Self.minuteOfReads(600, db, clock)
            // 10 per second at 50 %: 20 units; writes are untouched.
            var described = try await Self.throughput(db)
            #expect(described.readCapacityUnits == 20 && described.writeCapacityUnits == 10)
            // 50 per second asks for 100 units: the maximum, 40, holds it, once two minutes are above the target.
            try await Self.minuteOfReads(3000, db, clock)
            #expect(try await Self.throughput(db).readCapacityUnits == 20)
            try await Self.minuteOfReads(3000, db, clock)
            described = try await Self.throughput(db)
            #expect(described.readCapacityUnits == 40)
            let activities = try await db.describeScalingActivities(DescribeScalingActivitiesInput(resourceId: "table/Orders"))
            #expect(activities.scalingActivities.map(\.description) == ["Setting read capacity units to 40.", "Setting read capacity units to 20."])
            #expect(activities.scalingActivities.allSatisfy { $0.statusCode == "Successful" && $0.cause.hasSuffix("triggered policy reads") })
        }
    }

    @Test func aDatabaseThatDoesNotThrottleScalesOnWhatItsRequestsConsume() async throws {
        try await Self.withScalingDatabase(throttling: false) { db, clock, _ in
            try await createCapacityTable(db, "Orders", read: 10, write: 10)
            try await Self.register(db, min: 5, max: 40)
            try await db.putScalingPolicy(Self.policy(target: 50))
            try await db.putItem(PutItemInput(tableName: "Orders", item: ["pk": "a"]))
            // 1,200 strongly consistent reads of a small item a minute: 20 units a second, twice the
            // provisioned 10, which nothing throttles.
            for _ in 0..<2 {
                for _ in 0..<1200 { _ = try await db.getItem(GetItemInput(tableName: "Orders", key: ["pk": "a"], consistentRead: true)) }
                await Self.pass(minutes: 1, db, clock)
            }
            // 20 per second at 50 %: 40 units.
            #expect(try await Self.throughput(db).readCapacityUnits == 40)
        }
    }

    @Test func aGlobalIndexUnderWriteLoadScalesOnItsOwn() async throws {
        try await Self.withScalingDatabase { db, clock, _ in
            try await createCapacityTable(db, "Orders", read: 10, write: 10, indexUnits: 5)
            try await Self.register(db, "table/Orders/index/byOwner", Self.indexWrite, min: 5, max: 100)
            try await db.putScalingPolicy(
                Self.policy("writes", "table/Orders/index/byOwner", Self.indexWrite, target: 70, metric: "DynamoDBWriteCapacityUtilization"))
            for _ in 0..<2 {
                // 7 per second: 140 % of 5 units.
                try Self.consume(db, 420, .write, index: "byOwner")
                await Self.pass(minutes: 1, db, clock)
            }
            let index = try #require(try await db.describeTable(tableName: "Orders").globalSecondaryIndexes?.first)
            #expect(index.provisionedThroughput.writeCapacityUnits == 10)
            #expect(try await Self.throughput(db).writeCapacityUnits == 10)
        }
    }

    @Test func anIdleTableIsScaledInAfterFifteenMinutesNoMoreOftenThanDecreasesAllow() async throws {
        try await Self.withScalingDatabase { db, clock, _ in
            try await createCapacityTable(db, "Orders", read: 100, write: 100)
            // The day's four free decreases are used: the next waits an hour after the last.
            for units in [99, 98, 97, 96] as [Int64] {
                try await db.updateTable(
                    UpdateTableInput(tableName: "Orders", provisionedThroughput: ProvisionedThroughput(readCapacityUnits: 100, writeCapacityUnits: units)))
            }
            let lastDecrease = clock.nowMilliseconds()
            try await Self.register(db, min: 5, max: 200)
            try await db.putScalingPolicy(Self.policy(target: 70))
            await Self.pass(minutes: 14, db, clock)
            #expect(try await Self.throughput(db).readCapacityUnits == 100)
            // Fifteen idle datapoints call for the minimum, which the decrease limit holds back.
            await Self.pass(minutes: 30, db, clock)
            #expect(try await Self.throughput(db).readCapacityUnits == 100)
            #expect(try await db.describeScalingActivities(DescribeScalingActivitiesInput()).scalingActivities.isEmpty)
            clock.advance(bySeconds: Double(lastDecrease + 3_600_000 - clock.nowMilliseconds()) / 1000)
            await db.evaluateScalingPolicies()
            let described = try await Self.throughput(db)
            #expect(described.readCapacityUnits == 5)
            #expect(described.numberOfDecreasesToday == 5)
            await Self.pass(minutes: 1, db, clock)
            let activities = try await db.describeScalingActivities(DescribeScalingActivitiesInput()).scalingActivities
            #expect(activities.map(\.description) == ["Setting read capacity units to 5."])
            #expect(activities.first?.cause.contains("-AlarmLow-") == true)
        }
    }

    @Test func disableScaleInKeepsAnIdleTablesCapacity() async throws {
        try await Self.withScalingDatabase { db, clock, _ in
            try await createCapacityTable(db, "Orders", read: 100, write: 100)
            try await Self.register(db, min: 5, max: 200)
            try await db.putScalingPolicy(Self.policy(target: 70, disableScaleIn: true))
            await Self.pass(minutes: 20, db, clock)
            #expect(try await Self.throughput(db).readCapacityUnits == 100)
        }
    }

    @Test func registeringMovesTheCapacityInsideTheBounds() async throws {
        try await Self.withScalingDatabase { db, _, _ in
            try await createCapacityTable(db, "Orders", read: 10, write: 10)
            try await Self.register(db, min: 20, max: 50)
            #expect(try await Self.throughput(db).readCapacityUnits == 20)
            try await Self.register(db, "table/Orders", Self.tableWrite, min: 1, max: 4)
            let described = try await Self.throughput(db)
            #expect(described.writeCapacityUnits == 4 && described.numberOfDecreasesToday == 1)
            let activities = try await db.describeScalingActivities(DescribeScalingActivitiesInput()).scalingActivities
            #expect(activities.map(\.cause) == ["maximum capacity was set to 4", "minimum capacity was set to 20"])
            #expect(activities.map(\.statusCode) == ["Successful", "Successful"])
        }
    }

    @Test func deletingATableOrIndexRemovesItsTargetsAndPolicies() async throws {
        try await Self.withScalingDatabase { db, _, _ in
            try await createCapacityTable(db, "Orders", read: 10, write: 10, indexUnits: 10)
            try await Self.register(db)
            try await Self.register(db, "table/Orders/index/byOwner", Self.indexWrite)
            try await db.putScalingPolicy(Self.policy())
            try await db.updateTable(
                UpdateTableInput(
                    tableName: "Orders", globalSecondaryIndexUpdates: [GlobalSecondaryIndexUpdate(delete: DeleteGlobalSecondaryIndexAction(indexName: "byOwner"))]))
            #expect(try await Self.targets(db).map(\.resourceId) == ["table/Orders"])
            try await db.deleteTable(tableName: "Orders")
            #expect(try await Self.targets(db).isEmpty)
            #expect(try await db.describeScalingPolicies(DescribeScalingPoliciesInput()).scalingPolicies.isEmpty)
            try await createCapacityTable(db, "Orders", read: 10, write: 10)
            #expect(try await Self.targets(db).isEmpty)
        }
    }
}

@Suite struct TargetTrackingTests {
    private static let policy = ScalingPolicyRecord(
        name: "p", id: "1", creationTime: 0,
        configuration: TargetTrackingScalingPolicyConfiguration(
            targetValue: 70, predefinedMetricSpecification: PredefinedMetricSpecification(predefinedMetricType: "DynamoDBReadCapacityUtilization")))

    private static func decide(_ units: [Double?], provisioned: Int64 = 100, suspended: SuspendedState = SuspendedState()) -> TargetTracking? {
        TargetTracking.decide(consumedUnits: units, provisioned: provisioned, minimum: 5, maximum: 1000, policies: [policy], suspended: suspended)
    }

    @Test func scaleInWaitsForFifteenWatchedMinutesBelowTheTarget() {
        let idle = [Double?](repeating: 0, count: 15)
        #expect(Self.decide(idle)?.capacity == 5)
        #expect(Self.decide([Double?]([nil]) + idle.dropFirst()) == nil)
        #expect(Self.decide([Double?]([4300]) + idle.dropFirst()) == nil)
        #expect(Self.decide(idle, suspended: SuspendedState(dynamicScalingInSuspended: true)) == nil)
    }

    @Test func theNewCapacityIsTheConsumptionOverTheTargetRoundedUp() {
        // 70 per second at 70 %: exactly 100 units, so 140 per second asks for 200.
        let busy = [Double?](repeating: nil, count: 13) + [8400, 8400]
        #expect(Self.decide(busy) == TargetTracking(capacity: 200, isScaleOut: true, policy: Self.policy))
        #expect(Self.decide(busy, suspended: SuspendedState(dynamicScalingOutSuspended: true)) == nil)
        #expect(Self.decide([Double?](repeating: nil, count: 14) + [8400]) == nil)
    }
}
