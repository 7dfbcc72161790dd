import CRdKafka

/// An error from librdkafka: its error code and its message.
public struct KafkaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// librdkafka's `rd_kafka_resp_err_t` value (negative for client-side errors, positive for the broker's).
    public let code: Int32
    public let message: String

    public init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    /// The error `code` with librdkafka's description of it.
    init(_ code: rd_kafka_resp_err_t) {
        self.init(code: code.rawValue, message: String(cString: rd_kafka_err2str(code)))
    }

    /// Takes over and destroys a librdkafka error object.
    init(taking error: OpaquePointer) {
        self.init(code: rd_kafka_error_code(error).rawValue, message: String(cString: rd_kafka_error_string(error)))
        rd_kafka_error_destroy(error)
    }

    /// The error of a call on a closed client: "The `what` is closed".
    static func closed(_ what: String) -> KafkaError {
        KafkaError(code: RD_KAFKA_RESP_ERR__STATE.rawValue, message: "The \(what) is closed")
    }

    public var description: String { "Kafka error \(code): \(message)" }
}
