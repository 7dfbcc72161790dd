import CRdKafka
import Foundation
import Logging
import Synchronization

/// A message to send: topic, key (which picks the partition), value and headers.
public struct KafkaMessage: Sendable, Equatable {
    public var topic: String
    public var key: [UInt8]?
    /// The value; nil for a null value (a tombstone: in a compacted topic, it deletes its key's messages).
    public var value: [UInt8]?
    public var headers: [Header]

    /// A header: a name and a value.
    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: [UInt8]

        public init(_ name: String, _ value: [UInt8]) {
            self.name = name
            self.value = value
        }
    }

    public init(topic: String, key: [UInt8]?, value: [UInt8]?, headers: [Header] = []) {
        self.topic = topic
        self.key = key
        self.value = value
        self.headers = headers
    }
}

/// Where the broker stored a message.
public struct KafkaDelivery: Sendable, Equatable {
    public let topic: String
    public let partition: Int32
    public let offset: Int64
}

/// A Kafka producer over librdkafka: `send` returns once the broker has acknowledged the message (or
/// librdkafka has given up on it), with where it was stored.
///
/// ```swift
/// let producer = try KafkaProducer(configuration: ["bootstrap.servers": "127.0.0.1:9092"])
/// let delivery = try await producer.send(topic: "changes", key: Array("user-1".utf8), value: Array(json.utf8))
/// producer.close()
/// ```
///
/// Any librdkafka configuration property passes through (`acks`, `linger.ms`, `compression.type`,
/// `enable.idempotence`, security and SASL settings, …); an unknown property or a bad value is refused by
/// the initializer with librdkafka's message. The producer owns its librdkafka handle and one thread that
/// serves delivery reports and librdkafka's errors; ``close()`` waits for the messages in flight, then
/// destroys the handle.
///
/// librdkafka's errors are logged (label `eddy.kafka.producer`): most are passing (a broker away), and
/// librdkafka recovers by itself. A fatal one (``fatalError``, such as an idempotent producer's broken
/// sequence) ends the producer: every message not yet acknowledged fails at once, and so does every later
/// one; make a new producer.
public final class KafkaProducer: Sendable {
    private let handle: Handle

    /// Owns the `rd_kafka_t` and the state of its poll thread; Sendable because librdkafka's producer API is
    /// thread-safe.
    private final class Handle: @unchecked Sendable {
        let pointer: OpaquePointer
        /// Set when ``KafkaProducer/close(timeout:)`` begins: no new message is accepted. Held while a batch
        /// is queued, so that no message is queued once closing has begun.
        let closing = Mutex<Bool>(false)
        /// Set once the messages in flight are flushed or purged: the poll thread ends.
        let closed = Atomic<Bool>(false)
        let pollerStopped = DispatchSemaphore(value: 0)
        /// The error callback's opaque: it must live as long as the `rd_kafka_t`.
        let errors: ProducerErrors
        init(_ pointer: OpaquePointer, errors: ProducerErrors) {
            self.pointer = pointer
            self.errors = errors
        }
    }

    /// - Throws: ``KafkaError`` for an unknown property, a bad value, or a producer librdkafka cannot create.
    public init(configuration: [String: String]) throws(KafkaError) {
        let conf = try makeConfiguration(configuration)
        rd_kafka_conf_set_dr_msg_cb(conf, deliveryReport)
        let errors = ProducerErrors()
        rd_kafka_conf_set_error_cb(conf, producerError)
        // Unretained: the handle below keeps `errors` alive until the rd_kafka_t is destroyed.
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(errors).toOpaque())
        let pointer = try makeHandle(RD_KAFKA_PRODUCER, conf)
        let handle = Handle(pointer, errors: errors)
        self.handle = handle
        let poller = Thread {
            while !handle.closed.load(ordering: .acquiring) { rd_kafka_poll(handle.pointer, 100) }
            handle.pollerStopped.signal()
        }
        poller.name = "eddy-kafka-producer"
        poller.start()
    }

    /// The fatal error librdkafka raised (`RD_KAFKA_RESP_ERR__FATAL`: the code is the underlying error, the
    /// message librdkafka's reason), if any. The producer has then failed every message not yet
    /// acknowledged and can send nothing more: replace it.
    public var fatalError: KafkaError? {
        handle.errors.fatal.withLock { $0 }
    }

    /// Raises a fatal error as librdkafka would (`rd_kafka_test_fatal_error`), for tests of what follows.
    func raiseFatalErrorForTesting(_ reason: String) {
        handle.closing.withLock { closing in
            guard !closing else { return }
            _ = rd_kafka_test_fatal_error(handle.pointer, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, reason)
        }
    }

    /// The value librdkafka uses for property `name` (given, or its default); nil for an unknown property.
    public func configurationValue(_ name: String) -> String? {
        handle.closing.withLock { closing in closing ? nil : EddyKafka.configurationValue(of: handle.pointer, name) }
    }

    /// The topics of the cluster, each with its partition count: a metadata request that waits at most
    /// `timeout`. Use it to check that the brokers answer before sending: a message to an unreachable broker
    /// waits `message.timeout.ms` (5 minutes by default) before failing.
    ///
    /// - Throws: ``KafkaError`` when no broker answered in time, or the producer is closed.
    public func topics(timeout: Duration = .seconds(10)) async throws(KafkaError) -> [String: Int] {
        let handle = handle
        return try await blocking { () throws(KafkaError) in
            // Holding the lock keeps close() from destroying the handle during the request.
            try handle.closing.withLock { closing throws(KafkaError) in
                guard !closing else { throw .closed("producer") }
                return try topicPartitions(of: handle.pointer, timeout: timeout)
            }
        }
    }

    /// Sends one message and returns where the broker stored it.
    ///
    /// - Throws: ``KafkaError`` if the message cannot be queued (unknown topic with auto-creation off, queue
    ///   full, producer closed) or the broker did not acknowledge it within `message.timeout.ms`.
    public func send(
        topic: String, key: [UInt8]?, value: [UInt8], headers: [(String, [UInt8])] = []
    ) async throws(KafkaError) -> KafkaDelivery {
        try await send([KafkaMessage(topic: topic, key: key, value: value, headers: headers.map { .init($0.0, $0.1) })])[0].get()
    }

    /// Queues `messages` in order (so messages to one partition are stored in this order) and returns, once
    /// every one is acknowledged or has failed, each one's outcome, in the same order. A message librdkafka
    /// refuses to queue (too large, a full queue) ends the batch there: the messages after it are not
    /// queued either (they fail with the same error), so none is stored ahead of it.
    public func send(_ messages: [KafkaMessage]) async -> [Result<KafkaDelivery, KafkaError>] {
        await sendCountingQueued(messages).results
    }

    /// Sends as ``send(_:)`` does, and tells how many messages (the first ones) were queued: the failures of
    /// the others come from librdkafka's refusal, not from the producer's state.
    func sendCountingQueued(_ messages: [KafkaMessage]) async -> (results: [Result<KafkaDelivery, KafkaError>], queued: Int) {
        guard !messages.isEmpty else { return ([], 0) }
        let queued = Mutex(messages.count)
        let results = await withCheckedContinuation { continuation in
            let batch = BatchReports(count: messages.count, continuation: continuation)
            // rd_kafka_produceva does not block (a full queue is an error), so the lock is held briefly.
            handle.closing.withLock { closing in
                var refusal: KafkaError?
                for (index, message) in messages.enumerated() {
                    if let refusal {
                        batch.report(.failure(refusal), at: index)
                        continue
                    }
                    guard !closing else {
                        batch.report(.failure(.closed("producer")), at: index)
                        continue
                    }
                    let report = Unmanaged.passRetained(DeliveryReport(batch: batch, index: index, topic: message.topic))
                    if let error = produce(message, opaque: report.toOpaque()) {
                        report.release()
                        refusal = error
                        queued.withLock { $0 = index }
                        batch.report(.failure(error), at: index)
                    }
                }
            }
        }
        return (results, queued.withLock { $0 })
    }

    /// Queues one message with `rd_kafka_produceva` (librdkafka copies key, value and headers, so they are
    /// lent, not copied, and the argument list lives on the stack).
    private func produce(_ message: KafkaMessage, opaque: UnsafeMutableRawPointer) -> KafkaError? {
        let headers = message.headers
        let count = 5 + headers.count
        return withUnsafeTemporaryAllocation(of: rd_kafka_vu_t.self, capacity: count) { fields in
            message.topic.withCString { topicName in
                (message.value ?? []).withUnsafeBytes { valueBytes in
                    (message.key ?? []).withUnsafeBytes { keyBytes in
                        var used = 0
                        func add(_ build: (inout rd_kafka_vu_t) -> Void) {
                            var field = rd_kafka_vu_t()
                            build(&field)
                            fields.initializeElement(at: used, to: field)
                            used += 1
                        }
                        add {
                            $0.vtype = RD_KAFKA_VTYPE_TOPIC
                            $0.u.cstr = topicName
                        }
                        // Without a value field, librdkafka sends a null value.
                        if message.value != nil {
                            add {
                                $0.vtype = RD_KAFKA_VTYPE_VALUE
                                $0.u.mem.ptr = UnsafeMutableRawPointer(mutating: valueBytes.baseAddress)
                                $0.u.mem.size = valueBytes.count
                            }
                        }
                        if message.key != nil {
                            add {
                                $0.vtype = RD_KAFKA_VTYPE_KEY
                                $0.u.mem.ptr = UnsafeMutableRawPointer(mutating: keyBytes.baseAddress)
                                $0.u.mem.size = keyBytes.count
                            }
                        }
                        add {
                            $0.vtype = RD_KAFKA_VTYPE_MSGFLAGS
                            $0.u.i = RD_KAFKA_MSG_F_COPY
                        }
                        add {
                            $0.vtype = RD_KAFKA_VTYPE_OPAQUE
                            $0.u.ptr = opaque
                        }
                        // Each header's name and value are lent for the call, one nested closure per header.
                        func produce(withHeadersFrom index: Int) -> KafkaError? {
                            guard index < headers.count else {
                                // rd_kafka_vu_t is a plain C struct: the fields need no deinitialization.
                                return rd_kafka_produceva(handle.pointer, fields.baseAddress, used).map { KafkaError(taking: $0) }
                            }
                            return headers[index].name.withCString { name in
                                headers[index].value.withUnsafeBytes { value in
                                    add {
                                        $0.vtype = RD_KAFKA_VTYPE_HEADER
                                        $0.u.header.name = name
                                        // An empty value still needs a pointer: a null one is a header without a value.
                                        $0.u.header.val = value.baseAddress ?? UnsafeRawPointer(name)
                                        $0.u.header.size = value.count
                                    }
                                    return produce(withHeadersFrom: index + 1)
                                }
                            }
                        }
                        return produce(withHeadersFrom: 0)
                    }
                }
            }
        }
    }

    /// Gives up on every message not yet acknowledged: each fails at once (`RD_KAFKA_RESP_ERR__PURGE_QUEUE` or
    /// `RD_KAFKA_RESP_ERR__PURGE_INFLIGHT`), though one already sent may still be stored by the broker.
    public func purge() {
        handle.closing.withLock { closing in
            guard !closing else { return }
            rd_kafka_purge(handle.pointer, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
        }
    }

    /// Waits up to `timeout` for the messages in flight to be delivered, stops the delivery thread and
    /// destroys the librdkafka handle. Messages still undelivered then fail. Calling it again does nothing.
    public func close(timeout: Duration = .seconds(10)) {
        let wasClosing = handle.closing.withLock { closing in
            defer { closing = true }
            return closing
        }
        guard !wasClosing else { return }
        rd_kafka_flush(handle.pointer, milliseconds(timeout))
        rd_kafka_purge(handle.pointer, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
        handle.closed.store(true, ordering: .releasing)
        handle.pollerStopped.wait()
        // Deliver the reports of purged messages, so that no sender waits forever.
        rd_kafka_poll(handle.pointer, 0)
        rd_kafka_destroy(handle.pointer)
    }

    deinit {
        close()
    }
}

/// The outcomes of one ``KafkaProducer/send(_:)`` call, resumed when the last message is reported.
private final class BatchReports: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<KafkaDelivery, KafkaError>?]
    private var pending: Int
    private let continuation: CheckedContinuation<[Result<KafkaDelivery, KafkaError>], Never>

    init(count: Int, continuation: CheckedContinuation<[Result<KafkaDelivery, KafkaError>], Never>) {
        results = Array(repeating: nil, count: count)
        pending = count
        self.continuation = continuation
    }

    func report(_ result: Result<KafkaDelivery, KafkaError>, at index: Int) {
        lock.lock()
        results[index] = result
        pending -= 1
        let done = pending == 0
        lock.unlock()
        if done { continuation.resume(returning: results.map { $0! }) }
    }
}

/// One message's place in its batch: librdkafka's per-message opaque.
private final class DeliveryReport {
    let batch: BatchReports
    let index: Int
    let topic: String

    init(batch: BatchReports, index: Int, topic: String) {
        self.batch = batch
        self.index = index
        self.topic = topic
    }
}

/// What a producer's error callback knows and does.
private final class ProducerErrors: Sendable {
    let logger = Logger(label: "eddy.kafka.producer")
    /// The fatal error, once raised.
    let fatal = Mutex<KafkaError?>(nil)
}

/// librdkafka's error callback, called on the thread that polls the producer (its poll thread, or the one
/// closing it). A fatal error purges every message not yet acknowledged, in flight too, so that their
/// senders learn at once (librdkafka itself purges only the queued ones, and with `message.timeout.ms` 0
/// one in flight to a broker that is gone would wait forever).
private func producerError(
    _ pointer: OpaquePointer?, _ code: Int32, _ reason: UnsafePointer<CChar>?, _ opaque: UnsafeMutableRawPointer?
) {
    guard let pointer, let opaque else { return }
    let errors = Unmanaged<ProducerErrors>.fromOpaque(opaque).takeUnretainedValue()
    let reason = reason.map { String(cString: $0) } ?? ""
    guard code == RD_KAFKA_RESP_ERR__FATAL.rawValue else {
        errors.logger.warning("librdkafka: \(reason)", metadata: ["code": "\(code)"])
        return
    }
    // librdkafka formats a fatal error's reason into 512 bytes (rd_kafka_set_fatal_error0).
    var buffer = [CChar](repeating: 0, count: 512)
    let underlying = rd_kafka_fatal_error(pointer, &buffer, buffer.count)
    let error = KafkaError(code: underlying.rawValue, message: "Fatal error: \(String(cString: rd_kafka_err2str(underlying))): \(text(buffer))")
    errors.fatal.withLock { $0 = error }
    errors.logger.error("The Kafka producer failed and sends nothing more: \(error.message)", metadata: ["code": "\(error.code)"])
    rd_kafka_purge(pointer, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
}

/// librdkafka's delivery report callback, called on the producer's poll thread once per message.
private func deliveryReport(_: OpaquePointer?, _ message: UnsafePointer<rd_kafka_message_t>?, _: UnsafeMutableRawPointer?) {
    guard let message, let opaque = message.pointee._private else { return }
    let report = Unmanaged<DeliveryReport>.fromOpaque(opaque).takeRetainedValue()
    let error = message.pointee.err
    if error == RD_KAFKA_RESP_ERR_NO_ERROR {
        report.batch.report(
            .success(KafkaDelivery(topic: report.topic, partition: message.pointee.partition, offset: message.pointee.offset)),
            at: report.index)
    } else {
        report.batch.report(.failure(KafkaError(error)), at: report.index)
    }
}
