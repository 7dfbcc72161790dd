import Foundation

/// Whether automatic scaling of a scalable target is suspended (Application Auto Scaling's `SuspendedState`).
/// Eddy honours the dynamic flags; scheduled scaling it does not run.
public struct SuspendedState: Codable, Sendable, Equatable {
    /// Whether target tracking stops lowering the target's capacity.
    public var dynamicScalingInSuspended: Bool?
    /// Whether target tracking stops raising the target's capacity.
    public var dynamicScalingOutSuspended: Bool?
    public var scheduledScalingSuspended: Bool?

    public init(dynamicScalingInSuspended: Bool? = nil, dynamicScalingOutSuspended: Bool? = nil, scheduledScalingSuspended: Bool? = nil) {
        self.dynamicScalingInSuspended = dynamicScalingInSuspended
        self.dynamicScalingOutSuspended = dynamicScalingOutSuspended
        self.scheduledScalingSuspended = scheduledScalingSuspended
    }

    enum CodingKeys: String, CodingKey {
        case dynamicScalingInSuspended = "DynamicScalingInSuspended", dynamicScalingOutSuspended = "DynamicScalingOutSuspended"
        case scheduledScalingSuspended = "ScheduledScalingSuspended"
    }
}

/// The request of ``Database/registerScalableTarget(_:)``: a table's or global index's read or write capacity
/// to scale, and its bounds.
public struct RegisterScalableTargetInput: Codable, Sendable {
    /// `dynamodb`.
    public var serviceNamespace: String
    /// `table/<table>` or `table/<table>/index/<index>`.
    public var resourceId: String
    /// `dynamodb:table:ReadCapacityUnits`, `dynamodb:table:WriteCapacityUnits`,
    /// `dynamodb:index:ReadCapacityUnits` or `dynamodb:index:WriteCapacityUnits`.
    public var scalableDimension: String
    /// Required for a new target; an update keeps the current value when absent.
    public var minCapacity: Int64?
    /// Required for a new target; an update keeps the current value when absent.
    public var maxCapacity: Int64?
    /// Kept and described; Eddy checks no roles.
    public var roleARN: String?
    public var suspendedState: SuspendedState?

    public init(
        serviceNamespace: String = "dynamodb", resourceId: String, scalableDimension: String, minCapacity: Int64? = nil,
        maxCapacity: Int64? = nil, roleARN: String? = nil, suspendedState: SuspendedState? = nil
    ) {
        self.serviceNamespace = serviceNamespace
        self.resourceId = resourceId
        self.scalableDimension = scalableDimension
        self.minCapacity = minCapacity
        self.maxCapacity = maxCapacity
        self.roleARN = roleARN
        self.suspendedState = suspendedState
    }

    enum CodingKeys: String, CodingKey {
        case serviceNamespace = "ServiceNamespace", resourceId = "ResourceId", scalableDimension = "ScalableDimension"
        case minCapacity = "MinCapacity", maxCapacity = "MaxCapacity", roleARN = "RoleARN", suspendedState = "SuspendedState"
    }
}

/// The answer of ``Database/registerScalableTarget(_:)``.
public struct RegisterScalableTargetOutput: Codable, Sendable, Equatable {
    public var scalableTargetARN: String

    enum CodingKeys: String, CodingKey { case scalableTargetARN = "ScalableTargetARN" }
}

/// A scalable target as ``Database/describeScalableTargets(_:)`` describes it.
public struct ScalableTarget: Codable, Sendable, Equatable {
    public var serviceNamespace: String
    public var resourceId: String
    public var scalableDimension: String
    public var minCapacity: Int64
    public var maxCapacity: Int64
    public var roleARN: String
    /// Seconds since 1970.
    public var creationTime: Double
    public var suspendedState: SuspendedState
    public var scalableTargetARN: String

    enum CodingKeys: String, CodingKey {
        case serviceNamespace = "ServiceNamespace", resourceId = "ResourceId", scalableDimension = "ScalableDimension"
        case minCapacity = "MinCapacity", maxCapacity = "MaxCapacity", roleARN = "RoleARN", creationTime = "CreationTime"
        case suspendedState = "SuspendedState", scalableTargetARN = "ScalableTargetARN"
    }
}

/// The request of ``Database/deregisterScalableTarget(_:)`` and the key of a target in the other requests.
public struct DeregisterScalableTargetInput: Codable, Sendable {
    public var serviceNamespace: String
    public var resourceId: String
    public var scalableDimension: String

    public init(serviceNamespace: String = "dynamodb", resourceId: String, scalableDimension: String) {
        self.serviceNamespace = serviceNamespace
        self.resourceId = resourceId
        self.scalableDimension = scalableDimension
    }

    enum CodingKeys: String, CodingKey {
        case serviceNamespace = "ServiceNamespace", resourceId = "ResourceId", scalableDimension = "ScalableDimension"
    }
}

/// An answer without members (DeregisterScalableTarget, DeleteScalingPolicy).
public struct AutoScalingEmptyOutput: Codable, Sendable, Equatable {}

/// The request of ``Database/describeScalableTargets(_:)``: the targets of a namespace, optionally of some
/// resources and one dimension, a page at a time.
public struct DescribeScalableTargetsInput: Codable, Sendable {
    public var serviceNamespace: String
    public var resourceIds: [String]?
    public var scalableDimension: String?
    /// 1 to 50; 50 when absent.
    public var maxResults: Int?
    public var nextToken: String?

    public init(
        serviceNamespace: String = "dynamodb", resourceIds: [String]? = nil, scalableDimension: String? = nil, maxResults: Int? = nil,
        nextToken: String? = nil
    ) {
        self.serviceNamespace = serviceNamespace
        self.resourceIds = resourceIds
        self.scalableDimension = scalableDimension
        self.maxResults = maxResults
        self.nextToken = nextToken
    }

    enum CodingKeys: String, CodingKey {
        case serviceNamespace = "ServiceNamespace", resourceIds = "ResourceIds", scalableDimension = "ScalableDimension"
        case maxResults = "MaxResults", nextToken = "NextToken"
    }
}

/// The answer of ``Database/describeScalableTargets(_:)``.
public struct DescribeScalableTargetsOutput: Codable, Sendable, Equatable {
    public var scalableTargets: [ScalableTarget]
    public var nextToken: String?

    enum CodingKeys: String, CodingKey { case scalableTargets = "ScalableTargets", nextToken = "NextToken" }
}

/// The metric a target tracking policy follows: `DynamoDBReadCapacityUtilization` or
/// `DynamoDBWriteCapacityUtilization`.
public struct PredefinedMetricSpecification: Codable, Sendable, Equatable {
    public var predefinedMetricType: String
    public var resourceLabel: String?

    public init(predefinedMetricType: String, resourceLabel: String? = nil) {
        self.predefinedMetricType = predefinedMetricType
        self.resourceLabel = resourceLabel
    }

    enum CodingKeys: String, CodingKey { case predefinedMetricType = "PredefinedMetricType", resourceLabel = "ResourceLabel" }
}

/// A target tracking policy's settings: the utilization (percent of the provisioned capacity consumed) to
/// keep, and how soon after a change another may follow.
public struct TargetTrackingScalingPolicyConfiguration: Codable, Sendable, Equatable {
    /// The utilization to keep, in percent: 20 to 90 for DynamoDB.
    public var targetValue: Double
    public var predefinedMetricSpecification: PredefinedMetricSpecification?
    /// Seconds after a scale-out before the next; 0 when absent (DynamoDB's default).
    public var scaleOutCooldown: Int?
    /// Seconds after a scaling activity before a scale-in; 0 when absent (DynamoDB's default).
    public var scaleInCooldown: Int?
    /// Whether the policy never lowers capacity.
    public var disableScaleIn: Bool?

    public init(
        targetValue: Double, predefinedMetricSpecification: PredefinedMetricSpecification?, scaleOutCooldown: Int? = nil,
        scaleInCooldown: Int? = nil, disableScaleIn: Bool? = nil
    ) {
        self.targetValue = targetValue
        self.predefinedMetricSpecification = predefinedMetricSpecification
        self.scaleOutCooldown = scaleOutCooldown
        self.scaleInCooldown = scaleInCooldown
        self.disableScaleIn = disableScaleIn
    }

    enum CodingKeys: String, CodingKey {
        case targetValue = "TargetValue", predefinedMetricSpecification = "PredefinedMetricSpecification"
        case scaleOutCooldown = "ScaleOutCooldown", scaleInCooldown = "ScaleInCooldown", disableScaleIn = "DisableScaleIn"
    }
}

/// The request of ``Database/putScalingPolicy(_:)``: a target tracking policy of a registered target,
/// created or replaced by name.
public struct PutScalingPolicyInput: Codable, Sendable {
    public var policyName: String
    public var serviceNamespace: String
    public var resourceId: String
    public var scalableDimension: String
    /// `TargetTrackingScaling` (DynamoDB's default, the only type Eddy runs).
    public var policyType: String?
    public var targetTrackingScalingPolicyConfiguration: TargetTrackingScalingPolicyConfiguration?

    public init(
        policyName: String, serviceNamespace: String = "dynamodb", resourceId: String, scalableDimension: String,
        policyType: String? = "TargetTrackingScaling", targetTrackingScalingPolicyConfiguration: TargetTrackingScalingPolicyConfiguration?
    ) {
        self.policyName = policyName
        self.serviceNamespace = serviceNamespace
        self.resourceId = resourceId
        self.scalableDimension = scalableDimension
        self.policyType = policyType
        self.targetTrackingScalingPolicyConfiguration = targetTrackingScalingPolicyConfiguration
    }

    enum CodingKeys: String, CodingKey {
        case policyName = "PolicyName", serviceNamespace = "ServiceNamespace", resourceId = "ResourceId"
        case scalableDimension = "ScalableDimension", policyType = "PolicyType"
        case targetTrackingScalingPolicyConfiguration = "TargetTrackingScalingPolicyConfiguration"
    }
}

/// A CloudWatch alarm of a target tracking policy, named as AWS names them (Eddy keeps no alarms: it
/// evaluates the metric itself).
public struct ScalingAlarm: Codable, Sendable, Equatable {
    public var alarmName: String
    public var alarmARN: String

    enum CodingKeys: String, CodingKey { case alarmName = "AlarmName", alarmARN = "AlarmARN" }
}

/// The answer of ``Database/putScalingPolicy(_:)``.
public struct PutScalingPolicyOutput: Codable, Sendable, Equatable {
    public var policyARN: String
    public var alarms: [ScalingAlarm]

    enum CodingKeys: String, CodingKey { case policyARN = "PolicyARN", alarms = "Alarms" }
}

/// A scaling policy as ``Database/describeScalingPolicies(_:)`` describes it.
public struct ScalingPolicy: Codable, Sendable, Equatable {
    public var policyARN: String
    public var policyName: String
    public var serviceNamespace: String
    public var resourceId: String
    public var scalableDimension: String
    public var policyType: String
    public var targetTrackingScalingPolicyConfiguration: TargetTrackingScalingPolicyConfiguration
    public var alarms: [ScalingAlarm]
    /// Seconds since 1970.
    public var creationTime: Double

    enum CodingKeys: String, CodingKey {
        case policyARN = "PolicyARN", policyName = "PolicyName", serviceNamespace = "ServiceNamespace", resourceId = "ResourceId"
        case scalableDimension = "ScalableDimension", policyType = "PolicyType"
        case targetTrackingScalingPolicyConfiguration = "TargetTrackingScalingPolicyConfiguration", alarms = "Alarms"
        case creationTime = "CreationTime"
    }
}

/// The request of ``Database/describeScalingPolicies(_:)``.
public struct DescribeScalingPoliciesInput: Codable, Sendable {
    public var serviceNamespace: String
    public var policyNames: [String]?
    public var resourceId: String?
    public var scalableDimension: String?
    public var maxResults: Int?
    public var nextToken: String?

    public init(
        serviceNamespace: String = "dynamodb", policyNames: [String]? = nil, resourceId: String? = nil, scalableDimension: String? = nil,
        maxResults: Int? = nil, nextToken: String? = nil
    ) {
        self.serviceNamespace = serviceNamespace
        self.policyNames = policyNames
        self.resourceId = resourceId
        self.scalableDimension = scalableDimension
        self.maxResults = maxResults
        self.nextToken = nextToken
    }

    enum CodingKeys: String, CodingKey {
        case serviceNamespace = "ServiceNamespace", policyNames = "PolicyNames", resourceId = "ResourceId"
        case scalableDimension = "ScalableDimension", maxResults = "MaxResults", nextToken = "NextToken"
    }
}

/// The answer of ``Database/describeScalingPolicies(_:)``.
public struct DescribeScalingPoliciesOutput: Codable, Sendable, Equatable {
    public var scalingPolicies: [ScalingPolicy]
    public var nextToken: String?

    enum CodingKeys: String, CodingKey { case scalingPolicies = "ScalingPolicies", nextToken = "NextToken" }
}

/// The request of ``Database/deleteScalingPolicy(_:)``.
public struct DeleteScalingPolicyInput: Codable, Sendable {
    public var policyName: String
    public var serviceNamespace: String
    public var resourceId: String
    public var scalableDimension: String

    public init(policyName: String, serviceNamespace: String = "dynamodb", resourceId: String, scalableDimension: String) {
        self.policyName = policyName
        self.serviceNamespace = serviceNamespace
        self.resourceId = resourceId
        self.scalableDimension = scalableDimension
    }

    enum CodingKeys: String, CodingKey {
        case policyName = "PolicyName", serviceNamespace = "ServiceNamespace", resourceId = "ResourceId"
        case scalableDimension = "ScalableDimension"
    }
}

/// One change of capacity auto scaling made or tried (Application Auto Scaling's `ScalingActivity`).
public struct ScalingActivity: Codable, Sendable, Equatable {
    public var activityId: String
    public var serviceNamespace: String
    public var resourceId: String
    public var scalableDimension: String
    /// What the activity does: `Setting read capacity units to 12.`
    public var description: String
    /// Why: the policy and its alarm, or a new minimum or maximum.
    public var cause: String
    /// Seconds since 1970.
    public var startTime: Double
    public var endTime: Double?
    /// `Successful` or `Failed`.
    public var statusCode: String
    public var statusMessage: String?

    enum CodingKeys: String, CodingKey {
        case activityId = "ActivityId", serviceNamespace = "ServiceNamespace", resourceId = "ResourceId"
        case scalableDimension = "ScalableDimension", description = "Description", cause = "Cause", startTime = "StartTime"
        case endTime = "EndTime", statusCode = "StatusCode", statusMessage = "StatusMessage"
    }
}

/// The request of ``Database/describeScalingActivities(_:)``: the activities of a namespace, newest first,
/// optionally of one resource and dimension.
public struct DescribeScalingActivitiesInput: Codable, Sendable {
    public var serviceNamespace: String
    public var resourceId: String?
    public var scalableDimension: String?
    public var maxResults: Int?
    public var nextToken: String?

    public init(
        serviceNamespace: String = "dynamodb", resourceId: String? = nil, scalableDimension: String? = nil, maxResults: Int? = nil,
        nextToken: String? = nil
    ) {
        self.serviceNamespace = serviceNamespace
        self.resourceId = resourceId
        self.scalableDimension = scalableDimension
        self.maxResults = maxResults
        self.nextToken = nextToken
    }

    enum CodingKeys: String, CodingKey {
        case serviceNamespace = "ServiceNamespace", resourceId = "ResourceId", scalableDimension = "ScalableDimension"
        case maxResults = "MaxResults", nextToken = "NextToken"
    }
}

/// The answer of ``Database/describeScalingActivities(_:)``.
public struct DescribeScalingActivitiesOutput: Codable, Sendable, Equatable {
    public var scalingActivities: [ScalingActivity]
    public var nextToken: String?

    enum CodingKeys: String, CodingKey { case scalingActivities = "ScalingActivities", nextToken = "NextToken" }
}
