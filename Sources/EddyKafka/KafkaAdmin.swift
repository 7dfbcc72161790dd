import CRdKafka
import Foundation

/// A Kafka admin client over librdkafka: creates topics and lists them.
///
/// ```swift
/// let admin = try KafkaAdmin(configuration: ["bootstrap.servers": "127.0.0.1:9092"])
/// try await admin.createTopic("users-changes", partitions: 4)
/// let partitionCounts = try await admin.topics()  // ["users-changes": 4, ...]
/// admin.close()
/// ```
///
/// Any librdkafka configuration property passes through (security and SASL settings, `socket.timeout.ms`,
/// …); an unknown property or a bad value is refused by the initializer with librdkafka's message. The admin
/// client owns its librdkafka handle; each request waits on a thread of its own, never on Swift's cooperative
/// pool.
public final class KafkaAdmin: Sendable {
    private let handle: AdminHandle

    /// - Throws: ``KafkaError`` for an unknown property, a bad value, or a client librdkafka cannot create.
    public init(configuration: [String: String]) throws(KafkaError) {
        let conf = try makeConfiguration(configuration)
        // librdkafka's admin API works on any client; a producer with nothing to send is the lightest one.
        handle = AdminHandle(try makeHandle(RD_KAFKA_PRODUCER, conf))
    }

    /// Creates topic `name` with `partitions` partitions, each with `replicationFactor` replicas, and returns
    /// once the controller has created it (or `timeout` has passed).
    ///
    /// ```swift
    /// try await admin.createTopic("users-changes", partitions: 4, replicationFactor: 3)
    /// ```
    ///
    /// - Throws: ``KafkaError`` with the broker's error code and message, for example
    ///   `RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS` (36), `RD_KAFKA_RESP_ERR_INVALID_PARTITIONS` (37),
    ///   `RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR` (38) or `RD_KAFKA_RESP_ERR_INVALID_TOPIC_EXCEPTION` (17);
    ///   `RD_KAFKA_RESP_ERR__TIMED_OUT` when no broker answered within `timeout`;
    ///   `RD_KAFKA_RESP_ERR__INVALID_ARG` for arguments librdkafka refuses itself (a partition count or
    ///   replication factor out of range); or when the client is closed.
    public func createTopic(
        _ name: String, partitions: Int, replicationFactor: Int = 1, timeout: Duration = .seconds(10)
    ) async throws(KafkaError) {
        let handle = handle
        try await blocking { () throws(KafkaError) in
            try handle.withPointer { pointer throws(KafkaError) in
                try requestTopicCreation(pointer, name, partitions: partitions, replicationFactor: replicationFactor, timeout: timeout)
            }
        }
    }

    /// The topics of the cluster, each with its partition count, internal ones (`__consumer_offsets`, …)
    /// included: a metadata request that waits at most `timeout`.
    ///
    /// - Throws: ``KafkaError`` when no broker answered in time, or the client is closed.
    public func topics(timeout: Duration = .seconds(10)) async throws(KafkaError) -> [String: Int] {
        let handle = handle
        return try await blocking { () throws(KafkaError) in
            try handle.withPointer { pointer throws(KafkaError) in try topicPartitions(of: pointer, timeout: timeout) }
        }
    }

    /// Destroys the librdkafka handle, once the requests in progress have returned (each waits at most its
    /// timeout). Later requests are refused; calling it again does nothing.
    public func close() {
        handle.close()
    }

    deinit {
        handle.close()
    }
}

/// Owns the `rd_kafka_t` and counts the requests using it, so that ``KafkaAdmin/close()`` does not destroy
/// it under them. `@unchecked Sendable`: the mutable fields are guarded by `condition`; librdkafka's admin
/// API is thread-safe.
private final class AdminHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    let condition = NSCondition()
    var closed = false
    var users = 0

    init(_ pointer: OpaquePointer) { self.pointer = pointer }

    /// Runs `body` with the handle, which close() does not destroy meanwhile.
    func withPointer<Value>(_ body: (OpaquePointer) throws(KafkaError) -> Value) throws(KafkaError) -> Value {
        condition.lock()
        guard !closed else {
            condition.unlock()
            throw .closed("admin client")
        }
        users += 1
        condition.unlock()
        defer {
            condition.lock()
            users -= 1
            condition.broadcast()
            condition.unlock()
        }
        // Nothing else serves the handle's main queue: drop the events (errors, logs) it gathered.
        rd_kafka_poll(pointer, 0)
        return try body(pointer)
    }

    func close() {
        condition.lock()
        guard !closed else {
            condition.unlock()
            return
        }
        closed = true
        while users > 0 { condition.wait() }
        condition.unlock()
        rd_kafka_destroy(pointer)
    }
}

/// Creates one topic with a CreateTopics request and waits for its result (blocking: call it through
/// ``blocking(_:)``).
private func requestTopicCreation(
    _ pointer: OpaquePointer, _ name: String, partitions: Int, replicationFactor: Int, timeout: Duration
) throws(KafkaError) {
    var errorText = [CChar](repeating: 0, count: 512)
    guard let newTopic = rd_kafka_NewTopic_new(
        name, Int32(clamping: partitions), Int32(clamping: replicationFactor), &errorText, errorText.count)
    else {
        throw KafkaError(code: RD_KAFKA_RESP_ERR__INVALID_ARG.rawValue, message: text(errorText))
    }
    defer { rd_kafka_NewTopic_destroy(newTopic) }
    let options = rd_kafka_AdminOptions_new(pointer, RD_KAFKA_ADMIN_OP_CREATETOPICS)!
    defer { rd_kafka_AdminOptions_destroy(options) }
    // The request's timeout covers the broker lookup and the answer; the operation's, how long the controller
    // waits for the topic to be created before it answers.
    for setTimeout in [rd_kafka_AdminOptions_set_request_timeout, rd_kafka_AdminOptions_set_operation_timeout] {
        guard setTimeout(options, milliseconds(timeout), &errorText, errorText.count) == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(code: RD_KAFKA_RESP_ERR__INVALID_ARG.rawValue, message: text(errorText))
        }
    }
    let queue = rd_kafka_queue_new(pointer)!
    defer { rd_kafka_queue_destroy(queue) }
    var newTopics: [OpaquePointer?] = [newTopic]
    rd_kafka_CreateTopics(pointer, &newTopics, newTopics.count, options, queue)
    // librdkafka answers by the request timeout; the extra second is for its own scheduling.
    guard let event = rd_kafka_queue_poll(queue, milliseconds(timeout + .seconds(1))) else {
        throw KafkaError(
            code: RD_KAFKA_RESP_ERR__TIMED_OUT.rawValue, message: "No answer to the creation of topic \"\(name)\" within \(timeout)")
    }
    defer { rd_kafka_event_destroy(event) }
    let error = rd_kafka_event_error(event)
    guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
        throw KafkaError(
            code: error.rawValue,
            message: "Cannot create topic \"\(name)\": \(rd_kafka_event_error_string(event).map { String(cString: $0) } ?? String(cString: rd_kafka_err2str(error)))")
    }
    guard let result = rd_kafka_event_CreateTopics_result(event) else {
        throw KafkaError(
            code: RD_KAFKA_RESP_ERR__FAIL.rawValue,
            message: "Cannot create topic \"\(name)\": unexpected librdkafka event \(String(cString: rd_kafka_event_name(event)))")
    }
    var count = 0
    let results = rd_kafka_CreateTopics_result_topics(result, &count)
    for index in 0..<count {
        guard let topicResult = results?[index] else { continue }
        let topicError = rd_kafka_topic_result_error(topicResult)
        guard topicError == RD_KAFKA_RESP_ERR_NO_ERROR else {
            let brokerMessage = rd_kafka_topic_result_error_string(topicResult).map { String(cString: $0) }
            throw KafkaError(
                code: topicError.rawValue,
                message: "Cannot create topic \"\(name)\": \(brokerMessage ?? String(cString: rd_kafka_err2str(topicError)))")
        }
    }
}
