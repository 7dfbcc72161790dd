/// An error Eddy answers, one case per DynamoDB error type, each carrying DynamoDB's message.
///
/// ```swift
/// do {
///     try await db.getItem(GetItemInput(tableName: "Nope", key: ["id": .s("1")]))
/// } catch let error as EddyError {
///     print(error.errorType, error.message) // ResourceNotFoundException Requested resource not found
/// }
/// ```
public enum EddyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The request is malformed or breaks one of DynamoDB's rules (`ValidationException`).
    case validation(String)
    /// The table (or other resource) does not exist, or is not `ACTIVE` (`ResourceNotFoundException`).
    case resourceNotFound(String)
    /// The resource exists already or is being changed (`ResourceInUseException`).
    case resourceInUse(String)
    /// A condition of a write evaluated to false (`ConditionalCheckFailedException`); carries the item
    /// when the request asked for `ReturnValuesOnConditionCheckFailure: ALL_OLD`.
    case conditionalCheckFailed(String, item: Item?)
    /// A limit of the account was exceeded, such as the number of tables (`LimitExceededException`).
    case limitExceeded(String)
    /// Eddy failed on its own (storage error, bug): the request may be retried (`InternalServerError`).
    case internalServerError(String)
    /// A shard iterator is older than 15 minutes (`ExpiredIteratorException`, DynamoDB Streams).
    case expiredIterator(String)
    /// A read asked for stream records that retention has already trimmed (`TrimmedDataAccessException`,
    /// DynamoDB Streams).
    case trimmedDataAccess(String)
    /// A trigger mapping's settings do not fit together (`InvalidParameterValueException`, as AWS Lambda
    /// answers CreateEventSourceMapping).
    case invalidParameterValue(String)
    /// A transaction wrote nothing (`TransactionCanceledException`): `reasons` has one entry per action, in
    /// request order, saying which failed and why (`None` for the others).
    case transactionCanceled(String, reasons: [CancellationReason])
    /// A write met an item that an ongoing transaction holds (`TransactionConflictException`).
    case transactionConflict(String)
    /// A transaction with this client request token is still running (`TransactionInProgressException`).
    case transactionInProgress(String)
    /// A client request token came back with another request within its 10 minutes
    /// (`IdempotentParameterMismatchException`).
    case idempotentParameterMismatch(String)
    /// A write would take an item collection (a partition of a table with local secondary indexes) past
    /// 10 GB (`ItemCollectionSizeLimitExceededException`).
    case itemCollectionSizeLimitExceeded(String)
    /// The caller may not act on the resource named, such as a table of another account
    /// (`AccessDeniedException`).
    case accessDenied(String)
    /// The table named by a continuous backups request does not exist (`TableNotFoundException`).
    case tableNotFound(String)
    /// A request found the provisioned throughput of the table or of a global secondary index used up, or
    /// reached the limit of one partition key value of a `PROVISIONED` table
    /// (`ProvisionedThroughputExceededException`); `reasons` say which resource and which limit.
    case provisionedThroughputExceeded(String, reasons: [ThrottlingReason])
    /// A request of a `PAY_PER_REQUEST` table went past its configured maximum (`OnDemandThroughput`) or the
    /// limit of one partition key value (`ThrottlingException`).
    case throttling(String, reasons: [ThrottlingReason])
    /// A request of a `PAY_PER_REQUEST` table went past the per-table quota of the account
    /// (`RequestLimitExceeded`).
    case requestLimitExceeded(String, reasons: [ThrottlingReason])
    /// An Application Auto Scaling request names a scalable target or scaling policy that is not registered
    /// (`ObjectNotFoundException`).
    case objectNotFound(String)
    /// An Application Auto Scaling request's `NextToken` is not one the previous page gave
    /// (`InvalidNextTokenException`).
    case invalidNextToken(String)

    /// DynamoDB's name of the error type, as the wire protocol's `__type` ends.
    public var errorType: String {
        switch self {
        case .validation: "ValidationException"
        case .resourceNotFound: "ResourceNotFoundException"
        case .resourceInUse: "ResourceInUseException"
        case .conditionalCheckFailed: "ConditionalCheckFailedException"
        case .limitExceeded: "LimitExceededException"
        case .internalServerError: "InternalServerError"
        case .expiredIterator: "ExpiredIteratorException"
        case .trimmedDataAccess: "TrimmedDataAccessException"
        case .invalidParameterValue: "InvalidParameterValueException"
        case .transactionCanceled: "TransactionCanceledException"
        case .transactionConflict: "TransactionConflictException"
        case .transactionInProgress: "TransactionInProgressException"
        case .idempotentParameterMismatch: "IdempotentParameterMismatchException"
        case .itemCollectionSizeLimitExceeded: "ItemCollectionSizeLimitExceededException"
        case .accessDenied: "AccessDeniedException"
        case .tableNotFound: "TableNotFoundException"
        case .provisionedThroughputExceeded: "ProvisionedThroughputExceededException"
        case .throttling: "ThrottlingException"
        case .requestLimitExceeded: "RequestLimitExceeded"
        case .objectNotFound: "ObjectNotFoundException"
        case .invalidNextToken: "InvalidNextTokenException"
        }
    }

    /// The human-readable message, as DynamoDB words it.
    public var message: String {
        switch self {
        case .validation(let message), .resourceNotFound(let message), .resourceInUse(let message),
            .conditionalCheckFailed(let message, _), .limitExceeded(let message),
            .internalServerError(let message), .expiredIterator(let message), .trimmedDataAccess(let message),
            .invalidParameterValue(let message), .transactionCanceled(let message, _), .transactionConflict(let message),
            .transactionInProgress(let message), .idempotentParameterMismatch(let message),
            .itemCollectionSizeLimitExceeded(let message), .accessDenied(let message), .tableNotFound(let message),
            .provisionedThroughputExceeded(let message, _), .throttling(let message, _), .requestLimitExceeded(let message, _),
            .objectNotFound(let message), .invalidNextToken(let message):
            message
        }
    }

    /// Whether the error is a throttling error (the request may succeed once capacity has refilled).
    public var isThrottling: Bool {
        switch self {
        case .provisionedThroughputExceeded, .throttling, .requestLimitExceeded: true
        default: false
        }
    }

    /// Why a throttling error was raised: which limit of which table or index; empty for other errors.
    public var throttlingReasons: [ThrottlingReason] {
        switch self {
        case .provisionedThroughputExceeded(_, let reasons), .throttling(_, let reasons), .requestLimitExceeded(_, let reasons):
            reasons
        default:
            []
        }
    }

    public var description: String { "\(errorType): \(message)" }
}

/// Why one action of a transaction stopped it, or `None` if it did not: one entry of
/// ``EddyError/transactionCanceled(_:reasons:)``.
public struct CancellationReason: Codable, Sendable, Equatable {
    /// `None`, `ConditionalCheckFailed`, `TransactionConflict`, `ValidationError`,
    /// `ProvisionedThroughputExceeded` or `ThrottlingError`.
    public var code: String
    public var message: String?
    /// The item a failed condition saw, when the action asked for `ReturnValuesOnConditionCheckFailure: ALL_OLD`.
    public var item: Item?

    public init(code: String, message: String? = nil, item: Item? = nil) {
        self.code = code
        self.message = message
        self.item = item
    }

    /// The action did not stop the transaction.
    public static let none = CancellationReason(code: "None")

    /// The action's table (or a global secondary index of it) had no provisioned throughput left.
    public static func provisionedThroughputExceeded(_ message: String) -> CancellationReason {
        CancellationReason(code: "ProvisionedThroughputExceeded", message: message)
    }

    /// The action's `PAY_PER_REQUEST` table (or a global secondary index of it) was throttled.
    public static func throttlingError(_ message: String) -> CancellationReason {
        CancellationReason(code: "ThrottlingError", message: message)
    }

    enum CodingKeys: String, CodingKey {
        case code = "Code", message = "Message", item = "Item"
    }
}

/// One reason a request was throttled: which limit (`reason`) of which table or index (`resource`, its ARN).
///
/// `reason` reads resource type, operation and limit: `TableReadProvisionedThroughputExceeded`,
/// `IndexWriteKeyRangeThroughputExceeded`, `TableWriteMaxOnDemandThroughputExceeded`,
/// `TableReadAccountLimitExceeded`, and so on (DynamoDB API Reference, "ThrottlingReason").
public struct ThrottlingReason: Codable, Sendable, Equatable {
    public var reason: String
    /// The ARN of the table, or of the index (`…:table/T/index/I`).
    public var resource: String

    public init(reason: String, resource: String) {
        self.reason = reason
        self.resource = resource
    }
}
