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
        prefix + "RegisterScalableTarget": run { (db, input: RegisterScalableTargetInput) in try await db.registerScalableTarget(input) },
        prefix + "DeregisterScalableTarget": run { (db, input: DeregisterScalableTargetInput) in try await db.deregisterScalableTarget(input) },
        prefix + "DescribeScalableTargets": run { (db, input: DescribeScalableTargetsInput) in try await db.describeScalableTargets(input) },
        prefix + "PutScalingPolicy": run { (db, input: PutScalingPolicyInput) in try await db.putScalingPolicy(input) },
        prefix + "DescribeScalingPolicies": run { (db, input: DescribeScalingPoliciesInput) in try await db.describeScalingPolicies(input) },
        prefix + "DeleteScalingPolicy": run { (db, input: DeleteScalingPolicyInput) in try await db.deleteScalingPolicy(input) },
        prefix + "DescribeScalingActivities": run { (db, input: DescribeScalingActivitiesInput) in try await db.describeScalingActivities(input) },
    ]

    private static func run<Input: Decodable & Sendable, Output: Encodable & Sendable>(
        _ body: @escaping @Sendable (Database, Input) async throws -> Output
    ) -> Operations.Run {
        { (db, bytes) async throws(WireError) -> [UInt8] in
            let input: Input = try RequestDecoding.decode(bytes)
            let output: Output
            do {
                output = try await body(db, input)
            } catch {
                throw RequestDecoding.wireError(error)
            }
            do {
                return Array(try JSONEncoder().encode(output))
            } catch {
                throw WireError(type: "InternalServiceException", message: "The response does not encode: \(error)", status: 500)
            }
        }
    }
}
