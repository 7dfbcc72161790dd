import EddyStorage
import Foundation

extension Database {
    /// Registers a table's or global index's read or write capacity as a scalable target, or changes the
    /// bounds of a registered one (Application Auto Scaling's `RegisterScalableTarget`). A target is kept with
    /// the catalog and goes away with its table or index.
    ///
    /// When the capacity is outside the new bounds, it is moved inside at once, through ``updateTable(_:)``
    /// (so its limits on decreases apply), and the change is recorded as a scaling activity.
    ///
    /// ```swift
    /// try await db.registerScalableTarget(RegisterScalableTargetInput(
    ///     resourceId: "table/Orders", scalableDimension: "dynamodb:table:ReadCapacityUnits",
    ///     minCapacity: 5, maxCapacity: 500))
    /// ```
    ///
    /// - Throws: `ValidationException` for a namespace other than `dynamodb`, a resource id or dimension that
    ///   do not go together, a table or index that does not exist or is not `PROVISIONED`, missing bounds for
    ///   a new target, or a minimum below 1 or above the maximum.
    @discardableResult
    public func registerScalableTarget(_ input: RegisterScalableTargetInput) async throws(EddyError) -> RegisterScalableTargetOutput {
        try requireOpen()
        let key = try ScalableTargetKey.validated(namespace: input.serviceNamespace, resourceId: input.resourceId, dimension: input.scalableDimension)
        let record = try await locks.withLock(Self.catalogLockKey) { () async throws(EddyError) -> ScalableTargetRecord in
            _ = try scaledCapacity(of: key)
            let existing = scalableTargets.target(key)
            guard let minimum = input.minCapacity ?? existing?.minCapacity, let maximum = input.maxCapacity ?? existing?.maxCapacity else {
                throw .validation("MinCapacity and MaxCapacity are required for registering a new scalable target")
            }
            guard minimum >= 1 else { throw .validation("Minimum capacity cannot be less than 1") }
            guard minimum <= maximum else { throw .validation("Minimum capacity cannot be greater than maximum capacity") }
            let now = Double(configuration.clock.nowMilliseconds()) / 1000
            var record =
                existing
                ?? ScalableTargetRecord(
                    resourceId: key.resourceId, scalableDimension: key.dimension.rawValue, minCapacity: minimum, maxCapacity: maximum,
                    roleARN: input.roleARN ?? serviceLinkedRoleARN, creationTime: now, suspendedState: SuspendedState(),
                    id: UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""), policies: [])
            record.minCapacity = minimum
            record.maxCapacity = maximum
            if let role = input.roleARN { record.roleARN = role }
            if let suspended = input.suspendedState { record.suspendedState = Self.merged(record.suspendedState, with: suspended) }
            var batch = StorageBatch()
            scalableTargets.store(record, into: &batch)
            try await committer.commitCatalogChange(PreparedWrite(batch: batch))
            scalableTargets.didStore(record)
            return record
        }
        if let current = try? scaledCapacity(of: key) {
            let inside = min(max(current, record.minCapacity), record.maxCapacity)
            if inside != current {
                let cause = inside > current ? "minimum capacity was set to \(record.minCapacity)" : "maximum capacity was set to \(record.maxCapacity)"
                await scale(key, to: inside, cause: cause)
            }
        }
        return RegisterScalableTargetOutput(scalableTargetARN: scalableTargetARN(record))
    }

    /// Deregisters a scalable target and deletes its scaling policies (Application Auto Scaling's
    /// `DeregisterScalableTarget`); the capacity stays as it is.
    ///
    /// - Throws: `ValidationException` for a malformed key; `ObjectNotFoundException` if the target is not
    ///   registered.
    @discardableResult
    public func deregisterScalableTarget(_ input: DeregisterScalableTargetInput) async throws(EddyError) -> AutoScalingEmptyOutput {
        try requireOpen()
        let key = try ScalableTargetKey.validated(namespace: input.serviceNamespace, resourceId: input.resourceId, dimension: input.scalableDimension)
        try await locks.withLock(Self.catalogLockKey) { () async throws(EddyError) in
            guard scalableTargets.target(key) != nil else { throw Self.noTarget(key) }
            var batch = StorageBatch()
            scalableTargets.remove(key, into: &batch)
            try await committer.commitCatalogChange(PreparedWrite(batch: batch))
            scalableTargets.didRemove([key])
        }
        return AutoScalingEmptyOutput()
    }

    /// The scalable targets of namespace `dynamodb`, optionally of some resources and one dimension, in the
    /// order of resource id and dimension, a page at a time (Application Auto Scaling's
    /// `DescribeScalableTargets`).
    ///
    /// - Throws: `ValidationException` for another namespace or a page size outside 0–50 (0 meaning 50);
    ///   `InvalidNextTokenException` for a token no page gave.
    public func describeScalableTargets(_ input: DescribeScalableTargetsInput) async throws(EddyError) -> DescribeScalableTargetsOutput {
        try requireOpen()
        try AutoScalingValidation.validateNamespace(input.serviceNamespace)
        let size = try AutoScalingValidation.pageSize(input.maxResults)
        let resources = input.resourceIds.map(Set.init)
        let matching = scalableTargets.all().filter { record in
            (resources?.contains(record.resourceId) ?? true) && (input.scalableDimension.map { $0 == record.scalableDimension } ?? true)
        }
        let page = try AutoScalingValidation.page(matching, size: size, nextToken: input.nextToken)
        return DescribeScalableTargetsOutput(
            scalableTargets: page.items.map { record in
                ScalableTarget(
                    serviceNamespace: "dynamodb", resourceId: record.resourceId, scalableDimension: record.scalableDimension,
                    minCapacity: record.minCapacity, maxCapacity: record.maxCapacity, roleARN: record.roleARN, creationTime: record.creationTime,
                    suspendedState: SuspendedState(
                        dynamicScalingInSuspended: record.suspendedState.dynamicScalingInSuspended ?? false,
                        dynamicScalingOutSuspended: record.suspendedState.dynamicScalingOutSuspended ?? false,
                        scheduledScalingSuspended: record.suspendedState.scheduledScalingSuspended ?? false),
                    scalableTargetARN: scalableTargetARN(record))
            },
            nextToken: page.nextToken)
    }

    /// Creates or replaces (by name) a target tracking policy of a registered target (Application Auto
    /// Scaling's `PutScalingPolicy`): the scaler keeps the target's utilization near `TargetValue` percent
    /// (see ``Configuration/autoScalingInterval``).
    ///
    /// ```swift
    /// try await db.putScalingPolicy(PutScalingPolicyInput(
    ///     policyName: "reads", resourceId: "table/Orders", scalableDimension: "dynamodb:table:ReadCapacityUnits",
    ///     targetTrackingScalingPolicyConfiguration: TargetTrackingScalingPolicyConfiguration(
    ///         targetValue: 70,
    ///         predefinedMetricSpecification: PredefinedMetricSpecification(predefinedMetricType: "DynamoDBReadCapacityUtilization"))))
    /// ```
    ///
    /// - Throws: `ValidationException` for a malformed key or name, a policy type other than
    ///   `TargetTrackingScaling`, no predefined metric or one of the other dimension, a target value outside
    ///   20–90, or a negative cooldown; `ObjectNotFoundException` if the target is not registered.
    @discardableResult
    public func putScalingPolicy(_ input: PutScalingPolicyInput) async throws(EddyError) -> PutScalingPolicyOutput {
        try requireOpen()
        let key = try ScalableTargetKey.validated(namespace: input.serviceNamespace, resourceId: input.resourceId, dimension: input.scalableDimension)
        try AutoScalingValidation.validateLength(input.policyName, field: "policyName", max: AutoScalingLimits.policyNameLengthMax)
        let configuration = try Self.validatedPolicy(input, dimension: key.dimension)
        let policy = try await locks.withLock(Self.catalogLockKey) { () async throws(EddyError) -> ScalingPolicyRecord in
            guard var record = scalableTargets.target(key) else { throw Self.noTarget(key) }
            let now = Double(self.configuration.clock.nowMilliseconds()) / 1000
            var policy = ScalingPolicyRecord(name: input.policyName, id: UUID().uuidString.lowercased(), creationTime: now, configuration: configuration)
            if let index = record.policies.firstIndex(where: { $0.name == input.policyName }) {
                policy.id = record.policies[index].id
                policy.creationTime = record.policies[index].creationTime
                record.policies[index] = policy
            } else {
                record.policies.append(policy)
            }
            var batch = StorageBatch()
            scalableTargets.store(record, into: &batch)
            try await committer.commitCatalogChange(PreparedWrite(batch: batch))
            scalableTargets.didStore(record)
            return policy
        }
        return PutScalingPolicyOutput(policyARN: policyARN(policy, key), alarms: alarms(policy, key))
    }

    /// The scaling policies of namespace `dynamodb`, optionally of some names, one resource and one
    /// dimension, a page at a time (Application Auto Scaling's `DescribeScalingPolicies`).
    ///
    /// - Throws: `ValidationException` for another namespace or a page size outside 0–50;
    ///   `InvalidNextTokenException` for a token no page gave.
    public func describeScalingPolicies(_ input: DescribeScalingPoliciesInput) async throws(EddyError) -> DescribeScalingPoliciesOutput {
        try requireOpen()
        try AutoScalingValidation.validateNamespace(input.serviceNamespace)
        let size = try AutoScalingValidation.pageSize(input.maxResults)
        let names = input.policyNames.map(Set.init)
        var policies: [ScalingPolicy] = []
        for record in scalableTargets.all() {
            guard input.resourceId.map({ $0 == record.resourceId }) ?? true,
                input.scalableDimension.map({ $0 == record.scalableDimension }) ?? true
            else { continue }
            for policy in record.policies.sorted(by: { $0.name < $1.name }) where names?.contains(policy.name) ?? true {
                policies.append(
                    ScalingPolicy(
                        policyARN: policyARN(policy, record.key), policyName: policy.name, serviceNamespace: "dynamodb",
                        resourceId: record.resourceId, scalableDimension: record.scalableDimension, policyType: "TargetTrackingScaling",
                        targetTrackingScalingPolicyConfiguration: policy.configuration, alarms: alarms(policy, record.key),
                        creationTime: policy.creationTime))
            }
        }
        let page = try AutoScalingValidation.page(policies, size: size, nextToken: input.nextToken)
        return DescribeScalingPoliciesOutput(scalingPolicies: page.items, nextToken: page.nextToken)
    }

    /// Deletes a scaling policy (Application Auto Scaling's `DeleteScalingPolicy`); the target stays
    /// registered.
    ///
    /// - Throws: `ValidationException` for a malformed key or name; `ObjectNotFoundException` if there is no
    ///   such policy.
    @discardableResult
    public func deleteScalingPolicy(_ input: DeleteScalingPolicyInput) async throws(EddyError) -> AutoScalingEmptyOutput {
        try requireOpen()
        let key = try ScalableTargetKey.validated(namespace: input.serviceNamespace, resourceId: input.resourceId, dimension: input.scalableDimension)
        try AutoScalingValidation.validateLength(input.policyName, field: "policyName", max: AutoScalingLimits.policyNameLengthMax)
        try await locks.withLock(Self.catalogLockKey) { () async throws(EddyError) in
            guard var record = scalableTargets.target(key), let index = record.policies.firstIndex(where: { $0.name == input.policyName }) else {
                throw .objectNotFound(
                    "No scaling policy found for service namespace: dynamodb, resource ID: \(key.resourceId), scalable dimension: \(key.dimension.rawValue), policy name: \(input.policyName)"
                )
            }
            record.policies.remove(at: index)
            var batch = StorageBatch()
            scalableTargets.store(record, into: &batch)
            try await committer.commitCatalogChange(PreparedWrite(batch: batch))
            scalableTargets.didStore(record)
        }
        return AutoScalingEmptyOutput()
    }

    /// The scaling activities of namespace `dynamodb` since the database opened, newest first, optionally of
    /// one resource and dimension, a page at a time (Application Auto Scaling's `DescribeScalingActivities`).
    ///
    /// - Throws: `ValidationException` for another namespace or a page size outside 0–50;
    ///   `InvalidNextTokenException` for a token no page gave.
    public func describeScalingActivities(_ input: DescribeScalingActivitiesInput) async throws(EddyError) -> DescribeScalingActivitiesOutput {
        try requireOpen()
        try AutoScalingValidation.validateNamespace(input.serviceNamespace)
        let size = try AutoScalingValidation.pageSize(input.maxResults)
        let matching = scalableTargets.activities().filter { activity in
            (input.resourceId.map { $0 == activity.resourceId } ?? true)
                && (input.scalableDimension.map { $0 == activity.scalableDimension } ?? true)
        }
        let page = try AutoScalingValidation.page(matching, size: size, nextToken: input.nextToken)
        return DescribeScalingActivitiesOutput(scalingActivities: page.items, nextToken: page.nextToken)
    }

    /// The capacity units `key` scales now.
    ///
    /// - Throws: `ValidationException` if its table or index does not exist, or the table is not
    ///   `PROVISIONED`.
    func scaledCapacity(of key: ScalableTargetKey) throws(EddyError) -> Int64 {
        guard let table = catalog.table(named: key.tableName) else {
            throw .validation("DynamoDB table does not exist: table/\(key.tableName)")
        }
        guard table.definition.billingMode == .provisioned, let throughput = table.definition.provisionedThroughput else {
            throw .validation("Scalable targets are supported for tables in provisioned capacity mode only: table/\(key.tableName)")
        }
        var units = throughput
        if let indexName = key.indexName {
            guard let index = table.definition.indexes?.first(where: { $0.kind == .global && $0.name == indexName }) else {
                throw .validation("DynamoDB global secondary index does not exist: \(key.resourceId)")
            }
            units = index.provisionedThroughput ?? throughput
        }
        return key.dimension.operation == .read ? units.readCapacityUnits : units.writeCapacityUnits
    }

    /// Adds to `batch` the removal of the targets of table `name` (every one, or only those of its index
    /// `indexName`), and returns their keys for ``ScalableTargets/didRemove(_:)`` once committed.
    func removeScalableTargets(ofTable name: String, indexName: String? = nil, into batch: inout StorageBatch) -> [ScalableTargetKey] {
        let keys = scalableTargets.targets(ofTable: name).filter { key in indexName.map { key.indexName == $0 } ?? true }
        for key in keys { scalableTargets.remove(key, into: &batch) }
        return keys
    }

    private static func noTarget(_ key: ScalableTargetKey) -> EddyError {
        .objectNotFound(
            "No scalable target registered for service namespace: dynamodb, resource ID: \(key.resourceId), scalable dimension: \(key.dimension.rawValue)"
        )
    }

    private static func validatedPolicy(_ input: PutScalingPolicyInput, dimension: ScalableDimension) throws(EddyError) -> TargetTrackingScalingPolicyConfiguration {
        let type = input.policyType ?? "TargetTrackingScaling"
        guard type == "TargetTrackingScaling" else {
            guard type == "StepScaling" else {
                throw TableValidation.constraint(
                    value: type, field: "policyType", "Member must satisfy enum value set: [PredictiveScaling, StepScaling, TargetTrackingScaling]")
            }
            throw .validation("Eddy runs TargetTrackingScaling policies only")
        }
        guard let configuration = input.targetTrackingScalingPolicyConfiguration else {
            throw .validation("TargetTrackingScalingPolicyConfiguration is required for a policy of type TargetTrackingScaling")
        }
        guard let metric = configuration.predefinedMetricSpecification else {
            throw .validation("PredefinedMetricSpecification is required: Eddy follows the predefined DynamoDB utilization metrics only")
        }
        guard metric.predefinedMetricType == dimension.metricType else {
            throw .validation(
                "Predefined metric type \(metric.predefinedMetricType) is not supported for scalable dimension \(dimension.rawValue); use \(dimension.metricType)"
            )
        }
        guard AutoScalingLimits.targetValueRange.contains(configuration.targetValue) else {
            throw .validation(
                "The target value for \(dimension.metricType) must be between \(Int(AutoScalingLimits.targetValueRange.lowerBound)) and \(Int(AutoScalingLimits.targetValueRange.upperBound))"
            )
        }
        for (field, value) in [("scaleOutCooldown", configuration.scaleOutCooldown), ("scaleInCooldown", configuration.scaleInCooldown)] {
            guard let value else { continue }
            guard value >= 0 else {
                throw TableValidation.constraint(
                    value: "\(value)", field: "targetTrackingScalingPolicyConfiguration.\(field)", "Member must have value greater than or equal to 0")
            }
            guard value <= AutoScalingLimits.cooldownSecondsMax else {
                throw TableValidation.constraint(
                    value: "\(value)", field: "targetTrackingScalingPolicyConfiguration.\(field)",
                    "Member must have value less than or equal to \(AutoScalingLimits.cooldownSecondsMax)")
            }
        }
        return configuration
    }

    private static func merged(_ current: SuspendedState, with update: SuspendedState) -> SuspendedState {
        SuspendedState(
            dynamicScalingInSuspended: update.dynamicScalingInSuspended ?? current.dynamicScalingInSuspended,
            dynamicScalingOutSuspended: update.dynamicScalingOutSuspended ?? current.dynamicScalingOutSuspended,
            scheduledScalingSuspended: update.scheduledScalingSuspended ?? current.scheduledScalingSuspended)
    }

    /// The role AWS uses for DynamoDB targets registered without one.
    private var serviceLinkedRoleARN: String {
        "arn:aws:iam::\(configuration.accountId):role/aws-service-role/dynamodb.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_DynamoDBTable"
    }

    private func scalableTargetARN(_ record: ScalableTargetRecord) -> String {
        "arn:aws:application-autoscaling:\(configuration.region):\(configuration.accountId):scalable-target/\(record.id)"
    }

    private func policyARN(_ policy: ScalingPolicyRecord, _ key: ScalableTargetKey) -> String {
        "arn:aws:autoscaling:\(configuration.region):\(configuration.accountId):scalingPolicy:\(policy.id):resource/dynamodb/\(key.resourceId):policyName/\(policy.name)"
    }

    /// The alarms AWS creates for a target tracking policy, by name; Eddy evaluates the metric itself.
    func alarms(_ policy: ScalingPolicyRecord, _ key: ScalableTargetKey) -> [ScalingAlarm] {
        ["AlarmHigh", "AlarmLow"].map { kind in
            let name = "TargetTracking-\(key.resourceId)-\(kind)-\(policy.id)"
            return ScalingAlarm(alarmName: name, alarmARN: "arn:aws:cloudwatch:\(configuration.region):\(configuration.accountId):alarm:\(name)")
        }
    }
}
