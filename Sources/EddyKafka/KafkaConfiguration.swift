import CRdKafka
import Foundation

/// A librdkafka configuration object holding `properties`; the caller passes it to `rd_kafka_new` (which
/// takes it over) or destroys it.
///
/// - Throws: ``KafkaError`` (`RD_KAFKA_RESP_ERR__INVALID_ARG`) with librdkafka's message for an unknown
///   property or a bad value.
func makeConfiguration(_ properties: [String: String]) throws(KafkaError) -> OpaquePointer {
    let conf = rd_kafka_conf_new()!
    var errorText = [CChar](repeating: 0, count: 512)
    for (name, value) in properties.sorted(by: { $0.key < $1.key }) {
        guard rd_kafka_conf_set(conf, name, value, &errorText, errorText.count) == RD_KAFKA_CONF_OK else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(code: RD_KAFKA_RESP_ERR__INVALID_ARG.rawValue, message: text(errorText))
        }
    }
    return conf
}

/// Creates a librdkafka handle of `type` from `conf` (which it takes over, even when it fails).
func makeHandle(_ type: rd_kafka_type_t, _ conf: OpaquePointer) throws(KafkaError) -> OpaquePointer {
    var errorText = [CChar](repeating: 0, count: 512)
    guard let pointer = rd_kafka_new(type, conf, &errorText, errorText.count) else {
        rd_kafka_conf_destroy(conf)
        throw KafkaError(code: RD_KAFKA_RESP_ERR__FAIL.rawValue, message: text(errorText))
    }
    return pointer
}

/// The value librdkafka uses for property `name` of handle `pointer` (given, or its default); nil for an
/// unknown property.
func configurationValue(of pointer: OpaquePointer, _ name: String) -> String? {
    guard let conf = rd_kafka_conf(pointer) else { return nil }
    var size = 0
    guard rd_kafka_conf_get(conf, name, nil, &size) == RD_KAFKA_CONF_OK else { return nil }
    var buffer = [CChar](repeating: 0, count: size)
    guard rd_kafka_conf_get(conf, name, &buffer, &size) == RD_KAFKA_CONF_OK else { return nil }
    return text(buffer)
}

/// Milliseconds in `duration`, for librdkafka's timeouts (at most `Int32.max`).
func milliseconds(_ duration: Duration) -> Int32 {
    let total = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    return Int32(clamping: total)
}

/// The text of a NUL-terminated buffer librdkafka wrote into.
func text(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// The topics the cluster of handle `pointer` knows, each with its partition count: a metadata request that
/// waits at most `timeout` (blocking: call it through ``blocking(_:)``).
///
/// - Throws: ``KafkaError`` when no broker answered in time (`RD_KAFKA_RESP_ERR__TRANSPORT` or
///   `RD_KAFKA_RESP_ERR__TIMED_OUT`), with a message naming the configured `bootstrap.servers`.
func topicPartitions(of pointer: OpaquePointer, timeout: Duration) throws(KafkaError) -> [String: Int] {
    var metadata: UnsafePointer<rd_kafka_metadata>?
    let error = rd_kafka_metadata(pointer, 1, nil, &metadata, milliseconds(timeout))
    guard error == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
        let servers = configurationValue(of: pointer, "bootstrap.servers") ?? ""
        throw KafkaError(
            code: error.rawValue,
            message: "No Kafka broker of bootstrap.servers \"\(servers)\" answered within \(timeout): \(String(cString: rd_kafka_err2str(error)))")
    }
    defer { rd_kafka_metadata_destroy(metadata) }
    var topics: [String: Int] = [:]
    for index in 0..<Int(metadata.pointee.topic_cnt) {
        let topic = metadata.pointee.topics[index]
        guard topic.err == RD_KAFKA_RESP_ERR_NO_ERROR else { continue }
        topics[String(cString: topic.topic)] = Int(topic.partition_cnt)
    }
    return topics
}

/// Runs `body`, which blocks (a librdkafka call that waits), on a thread of its own, so that no thread of
/// Swift's cooperative pool waits on it.
func blocking<Value: Sendable>(_ body: @escaping @Sendable () throws(KafkaError) -> Value) async throws(KafkaError) -> Value {
    let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Value, KafkaError>, Never>) in
        Thread {
            do throws(KafkaError) {
                continuation.resume(returning: .success(try body()))
            } catch {
                continuation.resume(returning: .failure(error))
            }
        }.start()
    }
    return try result.get()
}
