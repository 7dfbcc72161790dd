import Eddy

/// An error of Lambda's API, as its REST-JSON protocol answers it: an HTTP status, the error type (sent in
/// the `x-amzn-ErrorType` header) and a message (a body `{"Type":"User","Message":"…"}`).
public struct LambdaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The error type, such as `ResourceNotFoundException`.
    public var type: String
    public var message: String
    /// The HTTP status.
    public var status: Int
    /// Why Lambda throttled the call, for `TooManyRequestsException` (its `Reason` member).
    public var reason: String?

    public init(type: String, message: String, status: Int, reason: String? = nil) {
        self.type = type
        self.message = message
        self.status = status
        self.reason = reason
    }

    public var description: String { "\(type): \(message)" }

    /// Who caused the error, as Lambda's body says it: `User` for 4xx, `Service` for 5xx.
    public var origin: String { status >= 500 ? "Service" : "User" }

    /// The resource the request names does not exist (404).
    public static func resourceNotFound(_ message: String) -> LambdaError {
        LambdaError(type: "ResourceNotFoundException", message: message, status: 404)
    }

    /// The resource exists already, or another change of it is in progress (409).
    public static func resourceConflict(_ message: String) -> LambdaError {
        LambdaError(type: "ResourceConflictException", message: message, status: 409)
    }

    /// A parameter's value is not one Lambda accepts (400).
    public static func invalidParameterValue(_ message: String) -> LambdaError {
        LambdaError(type: "InvalidParameterValueException", message: message, status: 400)
    }

    /// A member breaks its modelled constraint (400), in the Coral form Lambda answers with:
    /// `1 validation error detected: Value 'x' at 'timeout' failed to satisfy constraint: …`.
    public static func constraint(value: String, field: String, _ rule: String) -> LambdaError {
        validation("1 validation error detected: Value '\(value)' at '\(field)' failed to satisfy constraint: \(rule)")
    }

    /// A request that does not validate (400).
    public static func validation(_ message: String) -> LambdaError {
        LambdaError(type: "ValidationException", message: message, status: 400)
    }

    /// The request body is not what the operation takes, such as an Invoke payload that is not JSON (400).
    public static func invalidRequestContent(_ message: String) -> LambdaError {
        LambdaError(type: "InvalidRequestContentException", message: message, status: 400)
    }

    /// The function has no free execution environment and may not start another (429).
    public static func tooManyRequests(reason: String) -> LambdaError {
        LambdaError(type: "TooManyRequestsException", message: "Rate Exceeded.", status: 429, reason: reason)
    }

    /// Lambda's own failure (500).
    public static func service(_ message: String) -> LambdaError {
        LambdaError(type: "ServiceException", message: message, status: 500)
    }

    /// The trigger runtime's error as Lambda's event source mapping API answers it.
    public init(_ error: EddyError) {
        switch error {
        case .resourceNotFound(let message): self = .resourceNotFound(message)
        case .resourceInUse(let message): self = LambdaError(type: "ResourceInUseException", message: message, status: 400)
        case .invalidParameterValue(let message): self = .invalidParameterValue(message)
        case .internalServerError(let message): self = .service(message)
        default: self = .validation(error.message)
        }
    }
}
