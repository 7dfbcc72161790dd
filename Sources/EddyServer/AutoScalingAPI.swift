import Eddy
import Foundation

/// Application Auto Scaling's JSON 1.1 protocol for DynamoDB targets: `POST /` with
/// `X-Amz-Target: AnyScaleFrontendService.<Operation>`, signed for service `application-autoscaling`, so that
/// boto3's `application-autoscaling` client and `aws application-autoscaling` talk to Eddy unchanged. Each
/// operation decodes its request with the API reference's member names and calls the ``Database``.
enum AutoScalingAPI {
    /// The service requests of this API are signed for.
    static let signingService = "application-autoscaling"
    private static let prefix = "AnyScaleFrontendService."

    /// Whether `target` names an operation of this API (served or not), so that its signature is checked for
    /// ``signingService``.
    static func serves(_ target: String?) -> Bool {
        target?.hasPrefix(prefix) ?? false
    }

    /// The operation `target` names, if Eddy serves it.
    static func operation(_ target: String) -> Operations.Run? {
        runs[target]
    }

    /// The `X-Amz-Target` values served.
    static var targets: [String] { runs.keys.sorted() }

    private static let runs: [String: Operations.Run] = [
        prefix + "RegisterScalableTarget": Operations.operation { (db, input: RegisterScalableTargetInput) in try await db.registerScalableTarget(input) },
        prefix + "DeregisterScalableTarget": Operations.operation { (db, input: DeregisterScalableTargetInput) in try await db.deregisterScalableTarget(input) },
        prefix + "DescribeScalableTargets": Operations.operation { (db, input: DescribeScalableTargetsInput) in try await db.describeScalableTargets(input) },
        prefix + "PutScalingPolicy": Operations.operation { (db, input: PutScalingPolicyInput) in try await db.putScalingPolicy(input) },
        prefix + "DescribeScalingPolicies": Operations.operation { (db, input: DescribeScalingPoliciesInput) in try await db.describeScalingPolicies(input) },
        prefix + "DeleteScalingPolicy": Operations.operation { (db, input: DeleteScalingPolicyInput) in try await db.deleteScalingPolicy(input) },
        prefix + "DescribeScalingActivities": Operations.operation { (db, input: DescribeScalingActivitiesInput) in try await db.describeScalingActivities(input) },
    ]
}
