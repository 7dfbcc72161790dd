/// Why the search-index sink could not prepare its index or have a batch stored: Elasticsearch's answer (its
/// HTTP status, and the error type and reason it gave), or why no answer came.
public struct SearchSinkError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The HTTP status of Elasticsearch's answer; nil when none came (connection refused, timeout) or when the
    /// sink refused before sending.
    public let status: Int?
    public let message: String

    /// An error with Elasticsearch's answer `status` (nil for none) and what went wrong.
    public init(status: Int? = nil, message: String) {
        self.status = status
        self.message = message
    }

    public var description: String {
        status.map { "Elasticsearch answered \($0): \(message)" } ?? "Elasticsearch: \(message)"
    }
}
