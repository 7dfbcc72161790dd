import Eddy

/// The request of operations without members (DescribeLimits, DescribeEndpoints): a JSON object, whose
/// members are ignored.
struct NoMembersInput: Decodable, Sendable {
    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Decodes an object, so that a body of another JSON type is a `SerializationException`.
    init(from decoder: any Decoder) throws {
        _ = try decoder.container(keyedBy: AnyKey.self)
    }
}

/// DescribeEndpoints' answer: the address to send DynamoDB requests to, which for Eddy is the one the client
/// reached it at, so an SDK with endpoint discovery keeps talking to Eddy.
struct DescribeEndpointsOutput: Encodable, Sendable {
    struct Endpoint: Encodable, Sendable {
        var address: String
        /// How long a client may cache the address: DynamoDB's 1,440 minutes (a day).
        var cachePeriodInMinutes = 1440
        enum CodingKeys: String, CodingKey { case address = "Address", cachePeriodInMinutes = "CachePeriodInMinutes" }
    }

    var endpoints: [Endpoint]
    enum CodingKeys: String, CodingKey { case endpoints = "Endpoints" }

    /// The answer to the request being handled: its `Host` header, the address the client used.
    static func current() -> DescribeEndpointsOutput {
        DescribeEndpointsOutput(endpoints: [Endpoint(address: RequestContext.host)])
    }
}

/// What an operation may know of the HTTP request beside its body.
enum RequestContext {
    /// The request's `Host` header (`host:port`), or the address the server listens at when it has none.
    @TaskLocal static var host = ""
}
