import CRdKafka
import Eddy
import Foundation
import Synchronization

/// Where a Kafka trigger mapping sends its records: a topic, and the producer that sends to it.
///
/// ```swift
/// let sink = try await KafkaSink(configuration: ["bootstrap.servers": "127.0.0.1:9092"], topic: "user-changes")
/// try await triggers.registerKafka(name: "users-to-kafka", configuration: settings, sink: sink)
/// ```
///
/// The sink keeps each item's changes in order and loses none, as the Kafka section of the ERRATA asks of
/// librdkafka 2.0.2's idempotent producer: messages never time out inside librdkafka (`message.timeout.ms`
/// 0), so a batch waits while the brokers are away and goes on when they are back; a batch that fails
/// (a fatal idempotence error, a rejected message, its records reaching the mapping's
/// `MaximumRecordAgeInSeconds`, or the mapping stopping) purges what it has not had acknowledged, and the
/// sink replaces its producer, so that the runtime's retry resends the batch from the checkpoint in order.
/// A fatal error fails the batch in flight at once (see ``KafkaProducer/fatalError``); one raised between
/// batches replaces the producer before the next batch. A message librdkafka refuses to queue (larger than
/// `message.max.bytes`, for instance) fails its batch without replacing the producer, so that the other
/// shards' batches, which share it, go on: such a record holds back only the records behind it in its lane.
/// A message the broker stored before a failure is then stored again: consumers drop such duplicates by
/// the ``KafkaSinkHeader`` headers.
public final class KafkaSink: Sendable {
    /// The topic the records go to.
    public let topic: String
    /// The producer's settings: the ones given over ``defaults``.
    public let configuration: [String: String]
    /// The producer in use; nil once the sink is closed.
    private let producer: Mutex<KafkaProducer?>

    /// The settings the sink's producer has unless given: idempotence (no duplicates from librdkafka's own
    /// retries, order kept per partition), acknowledgement by every in-sync replica, and no time limit on a
    /// message (the sink enforces the mapping's `MaximumRecordAgeInSeconds` itself).
    public static let defaults = ["enable.idempotence": "true", "acks": "all", "message.timeout.ms": "0"]

    /// Makes a sink for `topic` and checks, waiting at most `timeout`, that the brokers answer and know the
    /// topic.
    ///
    /// - Throws: ``KafkaError`` for an unknown property or a bad value (librdkafka's message), brokers that
    ///   do not answer in time, or a topic the cluster does not have (`RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART`;
    ///   create it first, for instance with ``KafkaAdmin``).
    public init(configuration: [String: String], topic: String, timeout: Duration = .seconds(10)) async throws(KafkaError) {
        let configuration = Self.defaults.merging(configuration) { _, given in given }
        let producer = try KafkaProducer(configuration: configuration)
        do throws(KafkaError) {
            guard try await producer.topics(timeout: timeout)[topic] != nil else {
                throw KafkaError(
                    code: RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART.rawValue,
                    message: "Topic \"\(topic)\" does not exist on the Kafka cluster at \"\(configuration["bootstrap.servers"] ?? "")\"")
            }
        } catch {
            producer.close(timeout: .zero)
            throw error
        }
        self.topic = topic
        self.configuration = configuration
        self.producer = Mutex(producer)
    }

    /// Makes a sink for `topic` as ``init(configuration:topic:timeout:)`` does, first creating the topic with
    /// `partitions` partitions if the cluster does not have it.
    ///
    /// - Throws: ``KafkaError`` as ``init(configuration:topic:timeout:)``, or if the topic cannot be created.
    public static func creatingTopic(
        configuration: [String: String], topic: String, partitions: Int, timeout: Duration = .seconds(10)
    ) async throws(KafkaError) -> KafkaSink {
        let admin = try KafkaAdmin(configuration: configuration)
        defer { admin.close() }
        if try await admin.topics(timeout: timeout)[topic] == nil {
            try await admin.createTopic(topic, partitions: partitions, timeout: timeout)
        }
        return try await KafkaSink(configuration: configuration, topic: topic, timeout: timeout)
    }

    /// The value the producer uses for librdkafka property `name`; nil for an unknown property or a closed
    /// sink.
    public func configurationValue(_ name: String) -> String? {
        producer.withLock { $0 }?.configurationValue(name)
    }

    /// The producer in use (tests check that a failure replaced it); nil once the sink is closed.
    var currentProducer: KafkaProducer? {
        producer.withLock { $0 }
    }

    /// Sends `messages` in order and returns once the broker has acknowledged every one.
    ///
    /// - Parameters:
    ///   - deadline: when, in milliseconds since 1970 on `clock`, the batch stops waiting for
    ///     acknowledgements (its oldest record reaches the mapping's maximum age); nil for never.
    /// - Throws: ``KafkaError`` when a message failed, the deadline passed or the calling task was
    ///   cancelled; the messages not yet acknowledged are then purged and the producer replaced, so that the
    ///   caller can send the batch again in order.
    func send(_ messages: [KafkaMessage], deadline: Int64?, clock: any WallClock) async throws(KafkaError) {
        guard let inUse = producer.withLock({ $0 }) else { throw .closed("Kafka sink") }
        // A fatal error raised between batches: this batch goes out on a new producer.
        let current = inUse.fatalError == nil ? inUse : try await replace(inUse)
        if let deadline, clock.nowMilliseconds() >= deadline {
            throw KafkaError(
                code: RD_KAFKA_RESP_ERR__MSG_TIMED_OUT.rawValue,
                message: "The batch's oldest record reached MaximumRecordAgeInSeconds before it could be sent")
        }
        let timer = deadline.map { deadline in
            Task {
                // The clock is read again each second, so that a test clock moved forward takes effect. Past the
                // deadline it purges every 100 ms until the send returns, so that a message queued just after a
                // purge is purged too.
                while !Task.isCancelled {
                    let left = deadline - clock.nowMilliseconds()
                    if left <= 0 { current.purge() }
                    try? await Task.sleep(for: .milliseconds(left <= 0 ? 100 : min(left, 1000)))
                }
            }
        }
        let (results, queued) = await withTaskCancellationHandler {
            await current.sendCountingQueued(messages)
        } onCancel: {
            current.purge()
        }
        timer?.cancel()
        for (index, result) in results.enumerated() {
            guard case .failure(let failure) = result else { continue }
            // A fatal error says more than the purge it caused.
            let error = current.fatalError ?? failure
            // A message librdkafka refused to queue (too large, say) left nothing behind it in the producer:
            // the messages before it were acknowledged, so the producer stays, and other batches in flight
            // on it go on. Any other failure replaces it.
            if index < queued || current.fatalError != nil { try await replace(current) }
            if let deadline, clock.nowMilliseconds() >= deadline, !Task.isCancelled {
                throw KafkaError(
                    code: error.code, message: "The batch's oldest record reached MaximumRecordAgeInSeconds before the broker acknowledged it: \(error.message)")
            }
            throw error
        }
    }

    /// Replaces the producer `failed` (unless another failed batch has replaced it already) by a new one with
    /// the same settings, closes `failed` without waiting for its messages, and returns the producer now in
    /// use (`failed` if the sink has been closed: sending with it fails).
    @discardableResult
    private func replace(_ failed: KafkaProducer) async throws(KafkaError) -> KafkaProducer {
        let configuration = configuration
        let (now, replaced) = try producer.withLock { current throws(KafkaError) -> (KafkaProducer, Bool) in
            guard let inUse = current, inUse === failed else { return (current ?? failed, false) }
            let fresh = try KafkaProducer(configuration: configuration)
            current = fresh
            return (fresh, true)
        }
        if replaced {
            try await blocking { failed.close(timeout: .zero) }
        }
        return now
    }

    /// Waits up to `timeout` for the messages in flight, then closes the producer; later batches fail.
    public func close(timeout: Duration = .seconds(10)) {
        producer.withLock { current in
            defer { current = nil }
            return current
        }?.close(timeout: timeout)
    }
}
