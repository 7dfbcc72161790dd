import Foundation

/// The function's settings as Lambda passes them to its process, in environment variables: the same for
/// every invocation, and what a function's set-up closure receives.
///
/// ```swift
/// let environment = LambdaEnvironment()
/// print(environment.functionName, environment.memoryLimitInMB) // e.g. orders-to-kafka 512
/// ```
///
/// A variable that is not set gives an empty string (or 0 for the memory size): Lambda sets all of them,
/// a local run may not.
public struct LambdaEnvironment: Sendable, Equatable {
    /// `AWS_LAMBDA_FUNCTION_NAME`.
    public var functionName: String
    /// `AWS_LAMBDA_FUNCTION_VERSION`, e.g. `$LATEST`.
    public var functionVersion: String
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, in MB.
    public var memoryLimitInMB: Int
    /// `AWS_LAMBDA_LOG_GROUP_NAME`.
    public var logGroupName: String
    /// `AWS_LAMBDA_LOG_STREAM_NAME`.
    public var logStreamName: String
    /// `_HANDLER`: the function's handler setting, which a single-handler Swift executable may ignore.
    public var handler: String
    /// `AWS_REGION`.
    public var region: String

    /// The settings read from `variables`, the process's environment by default.
    ///
    /// ```swift
    /// let environment = LambdaEnvironment(["AWS_LAMBDA_FUNCTION_NAME": "echo", "AWS_REGION": "eu-west-1"])
    /// ```
    public init(_ variables: [String: String] = ProcessInfo.processInfo.environment) {
        functionName = variables["AWS_LAMBDA_FUNCTION_NAME"] ?? ""
        functionVersion = variables["AWS_LAMBDA_FUNCTION_VERSION"] ?? ""
        memoryLimitInMB = variables["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"].flatMap { Int($0) } ?? 0
        logGroupName = variables["AWS_LAMBDA_LOG_GROUP_NAME"] ?? ""
        logStreamName = variables["AWS_LAMBDA_LOG_STREAM_NAME"] ?? ""
        handler = variables["_HANDLER"] ?? ""
        region = variables["AWS_REGION"] ?? ""
    }
}
