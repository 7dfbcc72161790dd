import Eddy
import Foundation

/// An error as DynamoDB's JSON protocol answers it: an HTTP status and a body
/// `{"__type":"<namespace>#<type>","message":"…"}`.
///
/// The namespace is the one real DynamoDB sends for the type: `com.amazon.coral.validate#` for
/// `ValidationException`, `com.amazon.coral.service#` for the protocol's own errors (serialization, unknown
/// operation, authentication), `com.amazon.coral.availability#` for `ThrottlingException`, and
/// `com.amazonaws.dynamodb.v20120810#` for the modelled errors.
public struct WireError: Error, Sendable, Equatable {
    /// The error type, such as `ValidationException`.
    public var type: String
    public var message: String
    /// The HTTP status: 400 for the client's errors, 500 for Eddy's own.
    public var status: Int
    /// The item a failed condition saw, when the request asked for it (`ReturnValuesOnConditionCheckFailure`).
    public var item: Item?
    /// Why a transaction was cancelled, one entry per action (`TransactionCanceledException`).
    public var cancellationReasons: [CancellationReason]?
    /// Which limits of which tables or indexes throttled the request (`ThrottlingReasons`).
    public var throttlingReasons: [ThrottlingReason]?

    public init(type: String, message: String, status: Int = 400, item: Item? = nil) {
        self.type = type
        self.message = message
        self.status = status
        self.item = item
    }

    /// The error Eddy's engine threw, as the wire answers it.
    public init(_ error: EddyError) {
        switch error {
        case .internalServerError(let message):
            self.init(type: error.errorType, message: message, status: 500)
        case .conditionalCheckFailed(let message, let item):
            self.init(type: error.errorType, message: message, item: item)
        case .transactionCanceled(let message, let reasons):
            self.init(type: error.errorType, message: message)
            cancellationReasons = reasons
        case .provisionedThroughputExceeded(let message, let reasons), .throttling(let message, let reasons),
            .requestLimitExceeded(let message, let reasons):
            self.init(type: error.errorType, message: message)
            throttlingReasons = reasons
        default:
            self.init(type: error.errorType, message: error.message)
        }
    }

    /// The body isn't JSON, or a member has the wrong JSON type.
    public static func serialization(_ message: String) -> WireError {
        WireError(type: "SerializationException", message: message)
    }

    /// The request names an operation Eddy does not serve.
    public static func unknownOperation(_ target: String?) -> WireError {
        WireError(type: "UnknownOperationException", message: target.map { "Unknown operation: \($0)" } ?? "Missing X-Amz-Target header")
    }

    /// `__type`'s value: the namespace, `#`, the type.
    public var qualifiedType: String {
        let namespace: String
        switch type {
        case "ValidationException":
            namespace = "com.amazon.coral.validate"
        case "SerializationException", "UnknownOperationException", "UnrecognizedClientException",
            "InvalidSignatureException", "IncompleteSignatureException", "MissingAuthenticationTokenException",
            "RequestEntityTooLarge", "AccessDeniedException", "BadRequest":
            namespace = "com.amazon.coral.service"
        case "ThrottlingException":
            namespace = "com.amazon.coral.availability"
        default:
            namespace = "com.amazonaws.dynamodb.v20120810"
        }
        return "\(namespace)#\(type)"
    }

    /// The JSON body.
    public var body: [UInt8] {
        var json = JSONWriter(capacity: 128 + message.utf8.count)
        json.literal("{\"__type\":")
        json.string(qualifiedType)
        json.literal(",\"message\":")
        json.string(message)
        if let item {
            json.literal(",\"Item\":")
            json.item(item)
        }
        if let cancellationReasons {
            json.literal(",\"CancellationReasons\":[")
            for (index, reason) in cancellationReasons.enumerated() {
                json.literal(index == 0 ? "{\"Code\":" : ",{\"Code\":")
                json.string(reason.code)
                if let message = reason.message {
                    json.literal(",\"Message\":")
                    json.string(message)
                }
                if let item = reason.item {
                    json.literal(",\"Item\":")
                    json.item(item)
                }
                json.literal("}")
            }
            json.literal("]")
        }
        if let throttlingReasons {
            // The API model names the member `throttlingReasons` in ThrottlingException, `ThrottlingReasons` in
            // the others: clients read it only under that name.
            json.literal(type == "ThrottlingException" ? ",\"throttlingReasons\":[" : ",\"ThrottlingReasons\":[")
            for (index, reason) in throttlingReasons.enumerated() {
                json.literal(index == 0 ? "{\"reason\":" : ",{\"reason\":")
                json.string(reason.reason)
                json.literal(",\"resource\":")
                json.string(reason.resource)
                json.literal("}")
            }
            json.literal("]")
        }
        json.literal("}")
        return json.bytes
    }
}
