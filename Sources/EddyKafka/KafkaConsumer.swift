import CRdKafka
import Foundation

/// A partition of a topic.
public struct KafkaTopicPartition: Sendable, Hashable, CustomStringConvertible {
    /// The topic's name.
    public let topic: String
    /// The partition's number, from 0.
    public let partition: Int32

    /// Partition `partition` of topic `topic`.
    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    /// `topic[partition]`, as librdkafka writes it.
    public var description: String { "\(topic)[\(partition)]" }
}

/// A message read by a ``KafkaConsumer``: where it is stored, its key, value, headers and timestamp.
public struct KafkaConsumerMessage: Sendable, Equatable {
    /// The topic the message was read from.
    public let topic: String
    /// The partition of ``topic`` the message is stored in.
    public let partition: Int32
    /// The message's offset in its partition. Store or commit the message itself (``KafkaConsumer/store(_:)``,
    /// ``KafkaConsumer/commit(_:)``), not this number: the group's position is the offset of the next message.
    public let offset: Int64
    /// The key, nil for a message sent without one.
    public let key: [UInt8]?
    /// The value; empty for an empty value and for a tombstone (a null value).
    public let value: [UInt8]
    /// The headers in the order the producer gave them; a header with a null value has an empty one.
    public let headers: [KafkaMessage.Header]
    /// When the producer created the message (or the broker appended it, as the topic's
    /// `message.timestamp.type` says), in milliseconds since 1970; nil if the message has no timestamp.
    public let timestampMilliseconds: Int64?

    /// Copies a message that librdkafka returned without error.
    init(_ message: UnsafeMutablePointer<rd_kafka_message_t>) {
        let fields = message.pointee
        topic = String(cString: rd_kafka_topic_name(fields.rkt))
        partition = fields.partition
        offset = fields.offset
        key = fields.key.map { Array(UnsafeRawBufferPointer(start: $0, count: fields.key_len)) }
        value = fields.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: fields.len)) } ?? []
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(message, &timestampType)
        timestampMilliseconds = timestampType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : timestamp
        var headers: [KafkaMessage.Header] = []
        var list: OpaquePointer?
        if rd_kafka_message_headers(message, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list {
            var name: UnsafePointer<CChar>?
            var bytes: UnsafeRawPointer?
            var size = 0
            while rd_kafka_header_get_all(list, headers.count, &name, &bytes, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                let value = bytes.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
                headers.append(KafkaMessage.Header(name.map { String(cString: $0) } ?? "", value))
            }
        }
        self.headers = headers
    }
}

/// A Kafka consumer in a consumer group, over librdkafka: ``subscribe(topics:timeout:)`` joins the group,
/// ``messages`` yields what the group assigns to this member, and the application says how far it got with
/// ``store(_:)`` and ``commit()``.
///
/// ```swift
/// let consumer = try KafkaConsumer(configuration: ["bootstrap.servers": "127.0.0.1:9092", "group.id": "mailer"])
/// try await consumer.subscribe(topics: ["users-changes"])
/// for try await message in consumer.messages {
///     try await handle(message)
///     try consumer.store(message)  // committed by the next commit(), and at the latest by close()
/// }
/// ```
///
/// **Delivery.** At least once: the group's committed offset of a partition is where the next member to get
/// it starts, so a message whose offset was not committed is read again after a rebalance, a crash or
/// ``close()``. Nothing is committed unless the application stores or commits it (``defaults``:
/// `enable.auto.commit=false`, `enable.auto.offset.store=false`); stored offsets are committed by
/// ``commit()``, and, synchronously, when partitions are revoked (a rebalance) and by ``close()``; a commit the
/// group coordinator refuses leaves the group's offsets where they were. Within a partition, messages come in
/// offset order.
///
/// **Rebalances.** The consumer uses librdkafka 2.0.2's eager assignors (`range` or `roundrobin`; a
/// `cooperative-sticky` strategy is refused): on a rebalance every member gives up all its partitions (after
/// committing its stored offsets) before the group assigns them again. ``assignment`` shows this member's
/// current partitions. Messages of the revoked partitions that are fetched but not yet taken from
/// ``messages`` are dropped: the partition's next owner reads them from the committed offset.
///
/// **Threads and back-pressure.** One dedicated thread, started by the first subscribe, polls librdkafka (which
/// also runs the rebalances and joins the group). It stops polling while ``bufferedMessageCountMax`` messages
/// wait to be taken from ``messages``, like a Java consumer that does not call `poll`: a rebalance then waits
/// for the application, and if it does not take a message within `max.poll.interval.ms` (5 minutes by
/// default) this member leaves the group. librdkafka itself prefetches within `queued.min.messages` and
/// `queued.max.messages.kbytes`; lower them to bound memory further.
///
/// Any librdkafka configuration property passes through; an unknown property or a bad value is refused by the
/// initializer with librdkafka's message.
public final class KafkaConsumer: Sendable {
    private let state: ConsumerState

    /// The settings the consumer adds unless given: explicit stores and commits only, a new group starts at
    /// the earliest message, and the eager assignors.
    public static let defaults = [
        "enable.auto.commit": "false",
        "enable.auto.offset.store": "false",
        "auto.offset.reset": "earliest",
        "partition.assignment.strategy": "range,roundrobin",
    ]

    /// How many messages the poll thread fetches ahead of the application at most: it stops polling while
    /// this many wait in ``messages``.
    public static let bufferedMessageCountMax = 1000

    /// A consumer with `configuration` over ``defaults``; `group.id` is required.
    ///
    /// - Throws: ``KafkaError`` (`RD_KAFKA_RESP_ERR__INVALID_ARG`) without `group.id`, with a cooperative
    ///   `partition.assignment.strategy`, or for an unknown property or a bad value (librdkafka's message);
    ///   (`RD_KAFKA_RESP_ERR__FAIL`) if librdkafka cannot create the consumer.
    public init(configuration: [String: String]) throws(KafkaError) {
        guard let group = configuration["group.id"], !group.isEmpty else {
            throw KafkaError(
                code: RD_KAFKA_RESP_ERR__INVALID_ARG.rawValue,
                message: "A Kafka consumer needs a consumer group: set the \"group.id\" property")
        }
        let properties = Self.defaults.merging(configuration) { _, given in given }
        guard properties["partition.assignment.strategy"]?.contains("cooperative") != true else {
            throw KafkaError(
                code: RD_KAFKA_RESP_ERR__INVALID_ARG.rawValue,
                message: "KafkaConsumer supports only the eager assignors \"range\" and \"roundrobin\" (librdkafka 2.0.2), not \"\(properties["partition.assignment.strategy"]!)\"")
        }
        let conf = try makeConfiguration(properties)
        let state = ConsumerState()
        rd_kafka_conf_set_rebalance_cb(conf, rebalance)
        // The state outlives the handle: it destroys the handle in close().
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(state).toOpaque())
        let pointer = try makeHandle(RD_KAFKA_CONSUMER, conf)
        // Errors and other events of the main queue come out of rd_kafka_consumer_poll with the messages.
        rd_kafka_poll_set_consumer(pointer)
        state.pointer = pointer
        self.state = state
    }

    /// Joins the consumer group with a subscription to `topics` (replacing any earlier one) and starts the
    /// poll thread. It returns before the group has assigned partitions: messages come once it has.
    ///
    /// A topic that does not exist yet is not an error: the group assigns its partitions once it exists and
    /// librdkafka's metadata shows it (refreshed every `topic.metadata.refresh.interval.ms`).
    ///
    /// - Parameter timeout: How long to wait for the brokers to answer a metadata request first, so that an
    ///   unreachable cluster is an error rather than a consumer that waits forever.
    /// - Throws: ``KafkaError`` when no broker answered within `timeout` (`RD_KAFKA_RESP_ERR__TRANSPORT` or
    ///   `RD_KAFKA_RESP_ERR__TIMED_OUT`, naming `bootstrap.servers`), for an empty or invalid topic list
    ///   (`RD_KAFKA_RESP_ERR__INVALID_ARG`), or when the consumer is closed.
    public func subscribe(topics: [String], timeout: Duration = .seconds(10)) async throws(KafkaError) {
        let state = state
        _ = try await blocking { () throws(KafkaError) in
            try state.withPointer { pointer throws(KafkaError) in try topicPartitions(of: pointer, timeout: timeout) }
        }
        try state.subscribe(topics)
    }

    /// The messages of the partitions assigned to this consumer, in offset order within each partition.
    ///
    /// There is one stream per consumer: every iteration takes from it, so two loops over `messages` share the
    /// messages (each goes to one of them), and a loop that stops early leaves the rest to the next one. The
    /// stream ends (`next()` returns nil) when ``close()`` begins; messages not yet taken then are dropped. It
    /// ends by throwing ``KafkaError`` on an error the consumer cannot recover from: a fatal error (with
    /// librdkafka's underlying error code and message), an authorization failure, or an offset out of range
    /// with `auto.offset.reset=error`; other errors (a broker down, a topic not yet created) are left to
    /// librdkafka, which retries. A cancelled task's `next()` returns nil.
    public var messages: Messages { Messages(state: state) }

    /// The partitions the group assigned to this consumer: empty before it joins, between revocation and
    /// assignment during a rebalance, and after ``close()``.
    public var assignment: [KafkaTopicPartition] { state.currentAssignment }

    /// How many fetched messages wait to be taken from ``messages`` (at most ``bufferedMessageCountMax``).
    public var bufferedMessageCount: Int { state.bufferedCount }

    /// How many tasks wait in ``messages`` for a message now: tests close the consumer while one does.
    var waitingTaskCount: Int { state.waitingCount }

    /// Where the poll thread has got to in each assigned partition, by librdkafka's count (`rd_kafka_position`):
    /// the offset after the last message it handed the poll thread; partitions it has handed nothing from yet
    /// are left out. Tests check against it that the poll thread took no more than it buffered.
    ///
    /// - Throws: ``KafkaError`` if librdkafka refuses, or the consumer is closed.
    func polledPositions() throws(KafkaError) -> [KafkaTopicPartition: Int64] {
        let partitions = state.currentAssignment
        return try state.withPointer { pointer throws(KafkaError) in
            let list = rd_kafka_topic_partition_list_new(Int32(clamping: partitions.count))!
            defer { rd_kafka_topic_partition_list_destroy(list) }
            for partition in partitions { rd_kafka_topic_partition_list_add(list, partition.topic, partition.partition) }
            let error = rd_kafka_position(pointer, list)
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(error) }
            var positions: [KafkaTopicPartition: Int64] = [:]
            for element in UnsafeBufferPointer(start: list.pointee.elems, count: Int(list.pointee.cnt)) where element.offset >= 0 {
                positions[KafkaTopicPartition(topic: String(cString: element.topic), partition: element.partition)] = element.offset
            }
            return positions
        }
    }

    /// Stores `message` as processed: the group's offset for its partition becomes the next message's, and is
    /// committed by the next ``commit()``, rebalance or ``close()``. Store messages in the order of their
    /// partition (as ``messages`` yields them): the last store of a partition wins.
    ///
    /// - Throws: ``KafkaError`` if the message's partition is no longer assigned to this consumer (a
    ///   rebalance revoked it: its next owner reads the message again), with `enable.auto.offset.store=true`,
    ///   or when the consumer is closed.
    public func store(_ message: KafkaConsumerMessage) throws(KafkaError) {
        try state.withPointer { pointer throws(KafkaError) in
            let list = rd_kafka_topic_partition_list_new(1)!
            defer { rd_kafka_topic_partition_list_destroy(list) }
            rd_kafka_topic_partition_list_add(list, message.topic, message.partition).pointee.offset = message.offset + 1
            let error = rd_kafka_offsets_store(pointer, list)
            let partitionError = list.pointee.elems[0].err
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR, partitionError == RD_KAFKA_RESP_ERR_NO_ERROR else {
                let code = error != RD_KAFKA_RESP_ERR_NO_ERROR ? error : partitionError
                throw KafkaError(
                    code: code.rawValue,
                    message: "Cannot store the offset of \(message.topic)[\(message.partition)] at \(message.offset): \(String(cString: rd_kafka_err2str(code)))")
            }
        }
    }

    /// Commits the stored offsets of the assigned partitions and returns once the group coordinator has
    /// acknowledged them. With nothing stored since the last commit, it does nothing.
    ///
    /// - Throws: ``KafkaError`` if the coordinator refused or did not answer, or the consumer is closed.
    public func commit() async throws(KafkaError) {
        let state = state
        try await blocking { () throws(KafkaError) in
            try state.withPointer { pointer throws(KafkaError) in
                let error = rd_kafka_commit(pointer, nil, 0)
                guard error == RD_KAFKA_RESP_ERR_NO_ERROR || error == RD_KAFKA_RESP_ERR__NO_OFFSET else { throw KafkaError(error) }
            }
        }
    }

    /// Stores `message` (``store(_:)``), then commits every stored offset (``commit()``).
    public func commit(_ message: KafkaConsumerMessage) async throws(KafkaError) {
        try store(message)
        try await commit()
    }

    /// The group's committed offset for `partition` of `topic`: the offset of the next message a member will
    /// read; nil when the group has committed none.
    ///
    /// - Throws: ``KafkaError`` if the coordinator did not answer within `timeout`, or the consumer is closed.
    public func committed(topic: String, partition: Int32, timeout: Duration = .seconds(10)) async throws(KafkaError) -> Int64? {
        let state = state
        return try await blocking { () throws(KafkaError) -> Int64? in
            try state.withPointer { pointer throws(KafkaError) -> Int64? in
                let list = rd_kafka_topic_partition_list_new(1)!
                defer { rd_kafka_topic_partition_list_destroy(list) }
                rd_kafka_topic_partition_list_add(list, topic, partition)
                let error = rd_kafka_committed(pointer, list, milliseconds(timeout))
                guard error == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(error) }
                let element = list.pointee.elems[0]
                guard element.err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(element.err) }
                return element.offset < 0 ? nil : element.offset
            }
        }
    }

    /// Leaves the group and destroys the consumer; calling it again (or concurrently) waits for the first
    /// call's end.
    ///
    /// In this order: ``messages`` ends and calls on the consumer are refused; the poll thread stops; then,
    /// with nothing else polling the handle, `rd_kafka_consumer_close` revokes the assignment (committing the
    /// stored offsets) and leaves the group, which rebalances the partitions to the other members at once;
    /// finally the handle is destroyed once the calls in progress (a ``commit()``, say) have returned. It
    /// waits on a thread of its own, at most about `session.timeout.ms`. Deinitialization does the same,
    /// blocking its thread.
    public func close() async {
        let state = state
        // The body does not throw.
        try? await blocking { state.close() }
    }

    deinit {
        state.close()
    }

    /// The stream of a consumer's messages: see ``KafkaConsumer/messages``.
    public struct Messages: AsyncSequence, Sendable {
        public typealias Element = KafkaConsumerMessage
        public typealias Failure = KafkaError

        fileprivate let state: ConsumerState

        /// An iterator taking from the consumer's one stream.
        public func makeAsyncIterator() -> Iterator { Iterator(state: state) }

        /// Takes the consumer's messages; once it has returned nil or thrown, it returns nil.
        public struct Iterator: AsyncIteratorProtocol {
            fileprivate let state: ConsumerState
            /// Set once this iterator has returned nil or thrown: it returns nil from then on.
            private var ended = false

            fileprivate init(state: ConsumerState) { self.state = state }

            /// The next message, waiting for one (without holding a thread); nil once ``KafkaConsumer/close()``
            /// has begun or when the task is cancelled.
            ///
            /// - Throws: ``KafkaError`` that ended the stream (see ``KafkaConsumer/messages``).
            public mutating func next() async throws(KafkaError) -> KafkaConsumerMessage? {
                try await next(isolation: nil)
            }

            /// As ``next()``.
            public mutating func next(isolation actor: isolated (any Actor)?) async throws(KafkaError) -> KafkaConsumerMessage? {
                guard !ended else { return nil }
                switch await state.take() {
                case .success(let message?):
                    return message
                case .success(nil):
                    ended = true
                    return nil
                case .failure(let error):
                    ended = true
                    throw error
                }
            }
        }
    }
}

/// The consumer's handle and everything its poll thread shares with the application, under one lock:
/// the buffered messages, the tasks waiting for one, the assignment, and the consumer's phase.
/// `@unchecked Sendable`: every mutable field is guarded by `condition`, except `pointer`, written once before
/// the state is shared.
private final class ConsumerState: @unchecked Sendable {
    enum Phase {
        case open
        /// ``KafkaConsumer/close()`` has begun: no message is taken or delivered, no call is accepted.
        case closing
        /// The handle is destroyed.
        case closed
    }

    typealias Waiter = CheckedContinuation<Result<KafkaConsumerMessage?, KafkaError>, Never>

    var pointer: OpaquePointer!
    let condition = NSCondition()
    var phase = Phase.open
    /// Messages fetched and not yet taken: `buffer[bufferStart...]`, at most `bufferedMessageCountMax`.
    var buffer: [KafkaConsumerMessage] = []
    var bufferStart = 0
    /// Tasks waiting in `take()`, by id (so that a cancelled one can be removed), oldest first; only while
    /// the buffer is empty.
    var waiters: [(id: UInt64, continuation: Waiter)] = []
    var nextWaiterID: UInt64 = 0
    /// The error that ended the stream.
    var failure: KafkaError?
    var assignment: [KafkaTopicPartition] = []
    var pollerStarted = false
    var pollerRunning = false
    /// Calls using `pointer` in progress, which close() waits for before destroying it.
    var users = 0

    var bufferedCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return buffer.count - bufferStart
    }

    var currentAssignment: [KafkaTopicPartition] {
        condition.lock()
        defer { condition.unlock() }
        return assignment
    }

    var waitingCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return waiters.count
    }

    /// Runs `body` with the handle, which close() does not destroy meanwhile.
    func withPointer<Value>(_ body: (OpaquePointer) throws(KafkaError) -> Value) throws(KafkaError) -> Value {
        condition.lock()
        guard phase == .open else {
            condition.unlock()
            throw .closed("consumer")
        }
        users += 1
        condition.unlock()
        defer {
            condition.lock()
            users -= 1
            condition.broadcast()
            condition.unlock()
        }
        return try body(pointer)
    }

    /// Subscribes to `topics` and starts the poll thread if it is not running.
    func subscribe(_ topics: [String]) throws(KafkaError) {
        condition.lock()
        defer { condition.unlock() }
        // Under the lock, so that close() cannot begin between the check and the thread's start.
        guard phase == .open else { throw .closed("consumer") }
        let list = rd_kafka_topic_partition_list_new(Int32(clamping: topics.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for topic in topics { rd_kafka_topic_partition_list_add(list, topic, -1) }  // RD_KAFKA_PARTITION_UA
        let error = rd_kafka_subscribe(pointer, list)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(error) }
        guard !pollerStarted else { return }
        pollerStarted = true
        pollerRunning = true
        let poller = Thread { [self] in poll() }
        poller.name = "eddy-kafka-consumer"
        poller.start()
    }

    /// The poll thread's loop: polls while the consumer is open, the buffer has room and no error ended the
    /// stream.
    private func poll() {
        while true {
            condition.lock()
            while phase == .open, failure != nil || buffer.count - bufferStart >= KafkaConsumer.bufferedMessageCountMax {
                condition.wait()
            }
            let open = phase == .open
            condition.unlock()
            guard open else { break }
            guard let message = rd_kafka_consumer_poll(pointer, 100) else { continue }
            receive(message)
            rd_kafka_message_destroy(message)
        }
        condition.lock()
        pollerRunning = false
        condition.broadcast()
        condition.unlock()
    }

    /// Hands a polled message (or error) to the application.
    private func receive(_ message: UnsafeMutablePointer<rd_kafka_message_t>) {
        let error = message.pointee.err
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
            guard Self.endsTheStream(error) else { return }
            var failure = KafkaError(code: error.rawValue, message: String(cString: rd_kafka_message_errstr(message)))
            if error == RD_KAFKA_RESP_ERR__FATAL {
                var errorText = [CChar](repeating: 0, count: 512)
                let cause = rd_kafka_fatal_error(pointer, &errorText, errorText.count)
                failure = KafkaError(code: cause.rawValue, message: "Fatal consumer error: \(text(errorText))")
            }
            fail(failure)
            return
        }
        let received = KafkaConsumerMessage(message)
        condition.lock()
        guard phase == .open else {
            condition.unlock()
            return
        }
        guard !waiters.isEmpty else {
            buffer.append(received)
            condition.unlock()
            return
        }
        let waiter = waiters.removeFirst()
        condition.unlock()
        waiter.continuation.resume(returning: .success(received))
    }

    /// Whether a consumer error is one librdkafka does not recover from by retrying.
    private static func endsTheStream(_ error: rd_kafka_resp_err_t) -> Bool {
        switch error {
        case RD_KAFKA_RESP_ERR__FATAL, RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
            RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
            true
        default:
            false
        }
    }

    /// Ends the stream with `error`, once the messages already buffered are taken.
    private func fail(_ error: KafkaError) {
        condition.lock()
        guard phase == .open, failure == nil else {
            condition.unlock()
            return
        }
        failure = error
        let woken = waiters
        waiters.removeAll()
        condition.unlock()
        for waiter in woken { waiter.continuation.resume(returning: .failure(error)) }
    }

    /// The next message; nil once closing has begun or when the task is cancelled; the failure that ended the
    /// stream.
    func take() async -> Result<KafkaConsumerMessage?, KafkaError> {
        let (message, id) = takeBuffered()
        if let message { return .success(message) }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: Waiter) in
                condition.lock()
                if let message = popBuffered() {
                    condition.unlock()
                    continuation.resume(returning: .success(message))
                } else if let failure {
                    condition.unlock()
                    continuation.resume(returning: .failure(failure))
                } else if phase != .open || Task.isCancelled {
                    condition.unlock()
                    continuation.resume(returning: .success(nil))
                } else {
                    waiters.append((id, continuation))
                    condition.unlock()
                }
            }
        } onCancel: {
            condition.lock()
            let index = waiters.firstIndex { $0.id == id }
            let waiter = index.map { waiters.remove(at: $0) }
            condition.unlock()
            waiter?.continuation.resume(returning: .success(nil))
        }
    }

    /// The oldest buffered message, removed, if there is one; otherwise, a new waiter id.
    private func takeBuffered() -> (KafkaConsumerMessage?, UInt64) {
        condition.lock()
        defer { condition.unlock() }
        if let message = popBuffered() { return (message, 0) }
        nextWaiterID += 1
        return (nil, nextWaiterID)
    }

    /// The oldest buffered message, removed; the caller holds the lock.
    private func popBuffered() -> KafkaConsumerMessage? {
        guard phase == .open, bufferStart < buffer.count else { return nil }
        // The poll thread waits for room only when the buffer is full.
        if buffer.count - bufferStart == KafkaConsumer.bufferedMessageCountMax { condition.broadcast() }
        let message = buffer[bufferStart]
        bufferStart += 1
        if bufferStart == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            bufferStart = 0
        } else if bufferStart >= 1024, bufferStart * 2 >= buffer.count {
            buffer.removeFirst(bufferStart)
            bufferStart = 0
        }
        return message
    }

    /// Records a new assignment (the rebalance callback, on the thread that polls).
    func assigned(_ partitions: [KafkaTopicPartition]) {
        condition.lock()
        assignment = partitions
        condition.unlock()
    }

    /// Records a revocation and drops the buffered messages of the revoked partitions (the eager assignors
    /// revoke all of them): their next owner reads them from the committed offset.
    func revoked() {
        condition.lock()
        assignment = []
        buffer.removeAll()
        bufferStart = 0
        condition.broadcast()
        condition.unlock()
    }

    /// Ends the stream, stops the poll thread, closes the consumer and destroys the handle (see
    /// ``KafkaConsumer/close()``). Blocks.
    func close() {
        condition.lock()
        guard phase == .open else {
            while phase != .closed { condition.wait() }
            condition.unlock()
            return
        }
        phase = .closing
        let woken = waiters
        waiters.removeAll()
        buffer.removeAll()
        bufferStart = 0
        condition.broadcast()
        condition.unlock()
        for waiter in woken { waiter.continuation.resume(returning: .success(nil)) }

        condition.lock()
        while pollerRunning { condition.wait() }
        condition.unlock()
        // Nothing polls the handle now: the revocation's rebalance callback runs on this thread.
        rd_kafka_consumer_close(pointer)
        condition.lock()
        while users > 0 { condition.wait() }
        condition.unlock()
        rd_kafka_destroy(pointer)
        condition.lock()
        phase = .closed
        assignment = []
        condition.broadcast()
        condition.unlock()
    }
}

/// librdkafka's rebalance callback, called on the thread that polls the consumer (or closes it): applies the
/// eager assignors' assignment and revocation, committing the stored offsets before giving partitions up.
private func rebalance(
    _ pointer: OpaquePointer?, _ error: rd_kafka_resp_err_t, _ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?,
    _ opaque: UnsafeMutableRawPointer?
) {
    guard let pointer, let opaque else { return }
    let state = Unmanaged<ConsumerState>.fromOpaque(opaque).takeUnretainedValue()
    switch error {
    case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
        rd_kafka_assign(pointer, partitions)
        state.assigned(partitionArray(partitions))
    case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
        state.revoked()
        // A failed commit leaves the offsets where they were: the partitions' next owner reads those messages
        // again (at least once). No stored offset (RD_KAFKA_RESP_ERR__NO_OFFSET) is nothing to commit.
        _ = rd_kafka_commit(pointer, nil, 0)
        rd_kafka_assign(pointer, nil)
    default:
        // A failed rebalance: librdkafka asks for the assignment to be cleared.
        state.revoked()
        rd_kafka_assign(pointer, nil)
    }
}

/// The partitions of a librdkafka list.
private func partitionArray(_ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?) -> [KafkaTopicPartition] {
    guard let list else { return [] }
    return (0..<Int(list.pointee.cnt)).map { index in
        let element = list.pointee.elems[index]
        return KafkaTopicPartition(topic: String(cString: element.topic), partition: element.partition)
    }
}
