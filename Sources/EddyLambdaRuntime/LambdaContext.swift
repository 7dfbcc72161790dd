import Foundation

/// What a handler knows of the invocation it handles, besides the event: Lambda's context object.
///
/// ```swift
/// await LambdaFunction.run { (event: TriggerEvent, context: LambdaContext) in
///     print(context.requestId, "has", context.remainingTime, "left")
///     return TriggerBatchResponse.success
/// }
/// ```
public struct LambdaContext: Sendable {
    /// The invocation's id (`Lambda-Runtime-Aws-Request-Id`).
    public var requestId: String
    /// When Lambda stops the invocation (`Lambda-Runtime-Deadline-Ms`).
    public var deadline: Date
    /// The function's ARN as the caller named it, with a version or alias if it gave one
    /// (`Lambda-Runtime-Invoked-Function-Arn`); empty if absent.
    public var invokedFunctionArn: String
    /// The X-Ray tracing header (`Lambda-Runtime-Trace-Id`), also in the `_X_AMZN_TRACE_ID` environment
    /// variable during the invocation; empty if absent.
    public var traceId: String
    /// The client's context, JSON, for invocations from the AWS Mobile SDK (`Lambda-Runtime-Client-Context`).
    public var clientContext: String?
    /// The Amazon Cognito identity, JSON, for invocations from the AWS Mobile SDK
    /// (`Lambda-Runtime-Cognito-Identity`).
    public var cognitoIdentity: String?
    /// The function's settings.
    public var environment: LambdaEnvironment

    /// A context, for calling a handler in a test of your own; the runtime makes the real ones.
    ///
    /// ```swift
    /// let context = LambdaContext(requestId: "r1", deadline: Date().addingTimeInterval(3))
    /// let response = try await handle(event, context)
    /// ```
    public init(
        requestId: String, deadline: Date, invokedFunctionArn: String = "", traceId: String = "",
        clientContext: String? = nil, cognitoIdentity: String? = nil, environment: LambdaEnvironment = LambdaEnvironment([:])
    ) {
        self.requestId = requestId
        self.deadline = deadline
        self.invokedFunctionArn = invokedFunctionArn
        self.traceId = traceId
        self.clientContext = clientContext
        self.cognitoIdentity = cognitoIdentity
        self.environment = environment
    }

    /// How long until ``deadline``, from now; negative once it has passed.
    public var remainingTime: Duration {
        .milliseconds(Int64((deadline.timeIntervalSinceNow * 1000).rounded(.down)))
    }

    /// ``LambdaEnvironment/functionName``.
    public var functionName: String { environment.functionName }
    /// ``LambdaEnvironment/functionVersion``.
    public var functionVersion: String { environment.functionVersion }
    /// ``LambdaEnvironment/memoryLimitInMB``.
    public var memoryLimitInMB: Int { environment.memoryLimitInMB }
    /// ``LambdaEnvironment/logGroupName``.
    public var logGroupName: String { environment.logGroupName }
    /// ``LambdaEnvironment/logStreamName``.
    public var logStreamName: String { environment.logStreamName }
}
