import Foundation

/// What target tracking decides for one scalable target from its one-minute datapoints: as DynamoDB auto
/// scaling's CloudWatch alarms do, scale out after ``AutoScalingLimits/scaleOutDatapoints`` consecutive minutes
/// above a policy's target, scale in after ``AutoScalingLimits/scaleInDatapoints`` consecutive minutes below
/// every policy's target; the new capacity is the last minute's consumption per second divided by the target
/// utilization, rounded up, within the target's minimum and maximum.
struct TargetTracking: Sendable, Equatable {
    /// The capacity to set.
    var capacity: Int64
    /// Whether it raises the capacity.
    var isScaleOut: Bool
    /// The policy that decided it (the one asking for the most).
    var policy: ScalingPolicyRecord

    /// The decision for a target with `policies` and bounds `minimum`...`maximum`, whose capacity is
    /// `provisioned`, given the units consumed in each of the last minutes (oldest first, nil for a minute
    /// not watched); nil when the capacity stays.
    static func decide(
        consumedUnits: [Double?], provisioned: Int64, minimum: Int64, maximum: Int64, policies: [ScalingPolicyRecord], suspended: SuspendedState
    ) -> TargetTracking? {
        func utilization(_ units: Double) -> Double { units / 60 / Double(provisioned) * 100 }
        func desired(_ target: Double) -> Int64 {
            let perSecond = (consumedUnits.last.flatMap { $0 } ?? 0) / 60
            // The division is exact in decimal but not in binary: 70 units at 70 % is 100, not 101.
            let units = Int64((perSecond * 100 / target - 1e-9).rounded(.up))
            return min(max(units, minimum), maximum)
        }
        var scaleOut: TargetTracking?
        if suspended.dynamicScalingOutSuspended != true {
            let recent = consumedUnits.suffix(AutoScalingLimits.scaleOutDatapoints)
            for policy in policies {
                let target = policy.configuration.targetValue
                guard recent.count == AutoScalingLimits.scaleOutDatapoints, recent.allSatisfy({ $0.map { utilization($0) > target } ?? false })
                else { continue }
                let capacity = desired(target)
                if capacity > provisioned, capacity > scaleOut?.capacity ?? 0 {
                    scaleOut = TargetTracking(capacity: capacity, isScaleOut: true, policy: policy)
                }
            }
        }
        if let scaleOut { return scaleOut }
        guard suspended.dynamicScalingInSuspended != true else { return nil }
        let voters = policies.filter { $0.configuration.disableScaleIn != true }
        let window = consumedUnits.suffix(AutoScalingLimits.scaleInDatapoints)
        guard !voters.isEmpty, window.count == AutoScalingLimits.scaleInDatapoints else { return nil }
        var scaleIn: TargetTracking?
        for policy in voters {
            let target = policy.configuration.targetValue
            // Every policy that may scale in must agree, and the highest capacity asked for wins.
            guard window.allSatisfy({ $0.map { utilization($0) < target } ?? false }) else { return nil }
            let capacity = desired(target)
            guard capacity < provisioned else { return nil }
            if capacity > scaleIn?.capacity ?? 0 { scaleIn = TargetTracking(capacity: capacity, isScaleOut: false, policy: policy) }
        }
        return scaleIn
    }
}

extension Database {
    /// Evaluates every scaling policy once, at the database clock's time, and changes the capacity of the
    /// targets whose utilization calls for it (``TargetTracking``), through ``updateTable(_:)``. A change
    /// waits for the policy's cooldowns (a scale-out for `ScaleOutCooldown` since the last scale-out; a
    /// scale-in for `ScaleInCooldown` since the last change and `ScaleOutCooldown` since the last
    /// scale-out) and, for a scale-in, until DynamoDB's limit on decreases allows one. Every change made or
    /// refused is a scaling activity.
    ///
    /// The background job runs it every ``Configuration/autoScalingInterval``; tests call it directly.
    func evaluateScalingPolicies() async {
        let now = configuration.clock.nowMilliseconds()
        let minute = ConsumptionHistory.minute(of: now)
        for record in scalableTargets.all() where !record.policies.isEmpty {
            let key = record.key
            guard let table = catalog.table(named: key.tableName), let provisioned = try? scaledCapacity(of: key) else { continue }
            let consumed = table.meter.consumedUnits(
                indexName: key.indexName, key.dimension.operation, minutes: AutoScalingLimits.scaleInDatapoints,
                before: minute)
            guard
                let decision = TargetTracking.decide(
                    consumedUnits: consumed, provisioned: provisioned, minimum: record.minCapacity, maximum: record.maxCapacity,
                    policies: record.policies, suspended: record.suspendedState),
                cooledDown(key, decision, now: now), decision.isScaleOut || decreaseAllowed(key, to: decision.capacity)
            else { continue }
            let alarm = alarms(decision.policy, key)[decision.isScaleOut ? 0 : 1].alarmName
            await scale(key, to: decision.capacity, cause: "monitor alarm \(alarm) in state ALARM triggered policy \(decision.policy.name)")
        }
    }

    /// Sets the capacity of `key` to `units` through ``updateTable(_:)`` and records the activity, successful
    /// or failed, with `cause`.
    func scale(_ key: ScalableTargetKey, to units: Int64, cause: String) async {
        let start = configuration.clock.nowMilliseconds()
        let description = "Setting \(key.dimension.unitsWord) capacity units to \(units)."
        var statusCode = "Successful"
        var message = "Successfully set \(key.dimension.unitsWord) capacity units to \(units). Change successfully fulfilled by dynamodb."
        do {
            let current = try scaledCapacity(of: key)
            try await updateTable(try capacityUpdate(key, to: units))
            scalableTargets.didScale(key, out: units > current, atMilliseconds: start)
        } catch {
            statusCode = "Failed"
            message = "Failed to set \(key.dimension.unitsWord) capacity units to \(units). Reason: \(error.message)"
        }
        scalableTargets.record(
            ScalingActivity(
                activityId: UUID().uuidString.lowercased(), serviceNamespace: "dynamodb", resourceId: key.resourceId,
                scalableDimension: key.dimension.rawValue, description: description, cause: cause, startTime: Double(start) / 1000,
                endTime: Double(configuration.clock.nowMilliseconds()) / 1000, statusCode: statusCode, statusMessage: message))
    }

    /// The UpdateTable request that sets `key`'s capacity to `units` and keeps the other dimension.
    private func capacityUpdate(_ key: ScalableTargetKey, to units: Int64) throws(EddyError) -> UpdateTableInput {
        let throughput = try throughputs(key, settingTo: units).new
        guard let indexName = key.indexName else { return UpdateTableInput(tableName: key.tableName, provisionedThroughput: throughput) }
        return UpdateTableInput(
            tableName: key.tableName,
            globalSecondaryIndexUpdates: [
                GlobalSecondaryIndexUpdate(update: UpdateGlobalSecondaryIndexAction(indexName: indexName, provisionedThroughput: throughput))
            ])
    }

    /// The provisioned throughput of `key`'s table or index (an index without its own is metered at its
    /// table's), and the same with `key`'s dimension set to `units`.
    private func throughputs(
        _ key: ScalableTargetKey, settingTo units: Int64
    ) throws(EddyError) -> (current: ProvisionedThroughput, new: ProvisionedThroughput) {
        _ = try scaledCapacity(of: key)
        guard let definition = catalog.table(named: key.tableName)?.definition, let tableThroughput = definition.provisionedThroughput else {
            throw .resourceNotFound("Requested resource not found: Table: \(key.tableName) not found")
        }
        let current = key.indexName.flatMap { name in definition.indexes?.first { $0.name == name }?.provisionedThroughput } ?? tableThroughput
        let new =
            key.dimension.operation == .read
            ? ProvisionedThroughput(readCapacityUnits: units, writeCapacityUnits: current.writeCapacityUnits)
            : ProvisionedThroughput(readCapacityUnits: current.readCapacityUnits, writeCapacityUnits: units)
        return (current, new)
    }

    /// Whether `decision` is past the cooldowns of its policy.
    private func cooledDown(_ key: ScalableTargetKey, _ decision: TargetTracking, now: Int64) -> Bool {
        let last = scalableTargets.lastScaling(key)
        func since(_ time: Int64?, atLeast seconds: Int?) -> Bool {
            guard let time, let seconds else { return true }
            return now - time >= Int64(seconds) * 1000
        }
        let configuration = decision.policy.configuration
        guard decision.isScaleOut else {
            return since(last.any, atLeast: configuration.scaleInCooldown) && since(last.out, atLeast: configuration.scaleOutCooldown)
        }
        return since(last.out, atLeast: configuration.scaleOutCooldown)
    }

    /// Whether DynamoDB's limit on decreases lets `key`'s capacity go down to `units` now: a scale-in that
    /// would be refused waits, rather than failing every minute.
    private func decreaseAllowed(_ key: ScalableTargetKey, to units: Int64) -> Bool {
        guard let definition = catalog.table(named: key.tableName)?.definition, let change = try? throughputs(key, settingTo: units) else {
            return false
        }
        let recorded = if let indexName = key.indexName { definition.indexThroughputChanges?[indexName] } else { definition.throughputChanges }
        var changes = recorded ?? ThroughputChanges()
        do {
            try changes.record(from: change.current, to: change.new, atSeconds: Double(configuration.clock.nowMilliseconds()) / 1000)
            return true
        } catch {
            return false
        }
    }
}
