import BenchmarkSupport
import CRdKafkaBench
import Foundation

// The raw baseline of the drain: librdkafka's C API called directly (not EddyKafka's KafkaProducer), and the
// high-watermark reader that tells when the broker holds every message of the sink's drain.

/// The messages of a drain, packed into a few arrays (a million of them): for message `i`, its value (the
/// record's `KinesisChangeRecord` JSON), its key (the item's partition key), the record's sequence number and
/// the index of its shard id in `shardIds`. Its headers are those of the Kafka trigger sink: `eddy-table`
/// (`tableName`), `eddy-shard-id` and `eddy-sequence-number`.
struct PackedMessages: Sendable {
    var tableName: [UInt8]
    private(set) var values: [UInt8] = []
    private(set) var valueEnds: [Int] = []
    private(set) var keys: [UInt8] = []
    private(set) var keyEnds: [Int] = []
    private(set) var sequenceNumbers: [UInt8] = []
    private(set) var sequenceNumberEnds: [Int] = []
    private(set) var shards: [UInt8] = []
    private(set) var shardIds: [[UInt8]] = []

    init(tableName: String) {
        self.tableName = Array(tableName.utf8)
    }

    var count: Int { valueEnds.count }

    mutating func reserve(_ count: Int, valueBytes: Int) {
        values.reserveCapacity(valueBytes)
        valueEnds.reserveCapacity(count)
        keys.reserveCapacity(count * 16)
        keyEnds.reserveCapacity(count)
        sequenceNumbers.reserveCapacity(count * 24)
        sequenceNumberEnds.reserveCapacity(count)
        shards.reserveCapacity(count)
    }

    mutating func append(key: [UInt8], value: [UInt8], sequenceNumber: [UInt8], shardId: [UInt8]) {
        values.append(contentsOf: value)
        valueEnds.append(values.count)
        keys.append(contentsOf: key)
        keyEnds.append(keys.count)
        sequenceNumbers.append(contentsOf: sequenceNumber)
        sequenceNumberEnds.append(sequenceNumbers.count)
        let shard = shardIds.firstIndex(of: shardId) ?? {
            shardIds.append(shardId)
            return shardIds.count - 1
        }()
        shards.append(UInt8(shard))
    }

    func value(_ index: Int) -> ArraySlice<UInt8> { values[(index == 0 ? 0 : valueEnds[index - 1])..<valueEnds[index]] }
    func key(_ index: Int) -> ArraySlice<UInt8> { keys[(index == 0 ? 0 : keyEnds[index - 1])..<keyEnds[index]] }
    func sequenceNumber(_ index: Int) -> ArraySlice<UInt8> {
        sequenceNumbers[(index == 0 ? 0 : sequenceNumberEnds[index - 1])..<sequenceNumberEnds[index]]
    }
    func shardId(_ index: Int) -> [UInt8] { shardIds[Int(shards[index])] }
}

struct RawKafkaFailure: Error, CustomStringConvertible {
    var description: String
}

/// What the raw producer's delivery reports say, gathered on the thread that polls.
private final class RawDeliveries {
    var delivered = 0
    var failed = 0
    var firstError: String?
    var perPartition: [Int32: Int] = [:]
    var expected = 0
    /// When the last expected report arrived.
    var completedAt: UInt64 = 0
}

/// librdkafka's delivery report callback of the raw producer (called by rd_kafka_poll / rd_kafka_flush on the
/// producing thread).
private func rawDeliveryReport(_: OpaquePointer?, _ message: UnsafePointer<rd_kafka_message_t>?, _ opaque: UnsafeMutableRawPointer?) {
    guard let message, let opaque else { return }
    let deliveries = Unmanaged<RawDeliveries>.fromOpaque(opaque).takeUnretainedValue()
    if message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR {
        deliveries.delivered += 1
        deliveries.perPartition[message.pointee.partition, default: 0] += 1
    } else {
        deliveries.failed += 1
        if deliveries.firstError == nil { deliveries.firstError = String(cString: rd_kafka_err2str(message.pointee.err)) }
    }
    if deliveries.delivered + deliveries.failed == deliveries.expected { deliveries.completedAt = monotonicNanoseconds() }
}

/// The text of a NUL-terminated buffer librdkafka wrote into.
private func cText(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// A librdkafka configuration object with `properties`.
private func makeConf(_ properties: [String: String]) throws -> OpaquePointer {
    let conf = rd_kafka_conf_new()!
    var errorText = [CChar](repeating: 0, count: 512)
    for (name, value) in properties.sorted(by: { $0.key < $1.key }) {
        guard rd_kafka_conf_set(conf, name, value, &errorText, errorText.count) == RD_KAFKA_CONF_OK else {
            rd_kafka_conf_destroy(conf)
            throw RawKafkaFailure(description: "librdkafka refuses \(name)=\(value): \(cText(errorText))")
        }
    }
    return conf
}

/// A producer handle from `conf` (taken over).
private func makeProducer(_ conf: OpaquePointer) throws -> OpaquePointer {
    var errorText = [CChar](repeating: 0, count: 512)
    guard let handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &errorText, errorText.count) else {
        rd_kafka_conf_destroy(conf)
        throw RawKafkaFailure(description: "rd_kafka_new failed: \(cText(errorText))")
    }
    return handle
}

/// The partition count of `topic` (a metadata request of all topics, as `KafkaSink`'s initializer makes one),
/// or nil if the cluster does not have it.
private func partitionCount(_ handle: OpaquePointer, _ topic: String, timeoutMilliseconds: Int32) throws -> Int? {
    var metadata: UnsafePointer<rd_kafka_metadata>?
    let error = rd_kafka_metadata(handle, 1, nil, &metadata, timeoutMilliseconds)
    guard error == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
        throw RawKafkaFailure(description: "metadata request failed: \(String(cString: rd_kafka_err2str(error)))")
    }
    defer { rd_kafka_metadata_destroy(metadata) }
    for index in 0..<Int(metadata.pointee.topic_cnt) where String(cString: metadata.pointee.topics[index].topic) == topic {
        return Int(metadata.pointee.topics[index].partition_cnt)
    }
    return nil
}

/// The result of a raw send: how long from the first produce call to the last delivery report, and how many
/// messages each partition received.
struct RawSendResult: Sendable {
    var nanoseconds: UInt64
    var perPartition: [Int32: Int]
}

/// Sends every message of `messages` to `topic` with librdkafka's C API, on the calling thread (which blocks),
/// with `configuration` (the Kafka trigger sink's settings): `rd_kafka_produceva` with `RD_KAFKA_MSG_F_COPY`,
/// the key, the value and the sink's three headers, `rd_kafka_poll(0)` after each message (the delivery
/// reports), polling and retrying on `RD_KAFKA_RESP_ERR__QUEUE_FULL`, then `rd_kafka_flush` until every
/// delivery report has arrived. The time runs from the first produce call to the last delivery report; the
/// producer is created and has fetched the cluster's metadata before. Any failed delivery is an error.
func rawSend(_ messages: PackedMessages, topic: String, configuration: [String: String]) throws -> RawSendResult {
    let deliveries = RawDeliveries()
    deliveries.expected = messages.count
    let conf = try makeConf(configuration)
    rd_kafka_conf_set_dr_msg_cb(conf, rawDeliveryReport)
    rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(deliveries).toOpaque())
    let handle = try makeProducer(conf)
    defer { rd_kafka_destroy(handle) }
    guard try partitionCount(handle, topic, timeoutMilliseconds: 10_000) != nil else {
        throw RawKafkaFailure(description: "the cluster has no topic \(topic)")
    }
    let headerNameStrings: [String] = ["eddy-table", "eddy-shard-id", "eddy-sequence-number"]
    let headerNames = headerNameStrings.map { strdup($0)! }
    defer { headerNames.forEach { free($0) } }
    let shardIds = messages.shardIds
    var fields = [rd_kafka_vu_t](repeating: rd_kafka_vu_t(), count: 8)
    let start = monotonicNanoseconds()
    try topic.withCString { topicName in
        try messages.values.withUnsafeBytes { values in
            try messages.keys.withUnsafeBytes { keys in
                try messages.sequenceNumbers.withUnsafeBytes { sequenceNumbers in
                    try messages.tableName.withUnsafeBytes { tableName in
                        let valueEnds = messages.valueEnds, keyEnds = messages.keyEnds
                        let sequenceNumberEnds = messages.sequenceNumberEnds, shards = messages.shards
                        for index in 0..<messages.count {
                            let shardId = shardIds[Int(shards[index])]
                            let valueStart = index == 0 ? 0 : valueEnds[index - 1]
                            let keyStart = index == 0 ? 0 : keyEnds[index - 1]
                            let sequenceStart = index == 0 ? 0 : sequenceNumberEnds[index - 1]
                            try shardId.withUnsafeBytes { shardIdBytes in
                                fields[0].vtype = RD_KAFKA_VTYPE_TOPIC
                                fields[0].u.cstr = topicName
                                fields[1].vtype = RD_KAFKA_VTYPE_KEY
                                fields[1].u.mem.ptr = UnsafeMutableRawPointer(mutating: keys.baseAddress! + keyStart)
                                fields[1].u.mem.size = keyEnds[index] - keyStart
                                fields[2].vtype = RD_KAFKA_VTYPE_VALUE
                                fields[2].u.mem.ptr = UnsafeMutableRawPointer(mutating: values.baseAddress! + valueStart)
                                fields[2].u.mem.size = valueEnds[index] - valueStart
                                fields[3].vtype = RD_KAFKA_VTYPE_HEADER
                                fields[3].u.header.name = UnsafePointer(headerNames[0])
                                fields[3].u.header.val = tableName.baseAddress
                                fields[3].u.header.size = tableName.count
                                fields[4].vtype = RD_KAFKA_VTYPE_HEADER
                                fields[4].u.header.name = UnsafePointer(headerNames[1])
                                fields[4].u.header.val = shardIdBytes.baseAddress
                                fields[4].u.header.size = shardIdBytes.count
                                fields[5].vtype = RD_KAFKA_VTYPE_HEADER
                                fields[5].u.header.name = UnsafePointer(headerNames[2])
                                fields[5].u.header.val = sequenceNumbers.baseAddress! + sequenceStart
                                fields[5].u.header.size = sequenceNumberEnds[index] - sequenceStart
                                fields[6].vtype = RD_KAFKA_VTYPE_MSGFLAGS
                                fields[6].u.i = RD_KAFKA_MSG_F_COPY
                                fields[7].vtype = RD_KAFKA_VTYPE_END
                                while true {
                                    guard let error = rd_kafka_produceva(handle, fields, 7) else { break }
                                    let code = rd_kafka_error_code(error)
                                    let text = String(cString: rd_kafka_error_string(error))
                                    rd_kafka_error_destroy(error)
                                    guard code == RD_KAFKA_RESP_ERR__QUEUE_FULL else {
                                        throw RawKafkaFailure(description: "rd_kafka_produceva failed: \(text)")
                                    }
                                    // The local queue is full: serve delivery reports, then try again.
                                    rd_kafka_poll(handle, 100)
                                }
                            }
                            rd_kafka_poll(handle, 0)
                        }
                    }
                }
            }
        }
    }
    while deliveries.delivered + deliveries.failed < messages.count {
        _ = rd_kafka_flush(handle, 1_000)
    }
    guard deliveries.failed == 0 else {
        throw RawKafkaFailure(description: "\(deliveries.failed) raw deliveries failed, the first with: \(deliveries.firstError ?? "?")")
    }
    return RawSendResult(nanoseconds: deliveries.completedAt - start, perPartition: deliveries.perPartition)
}

/// A librdkafka client (a producer that sends nothing) that reads the high watermarks of a topic's
/// partitions: the offset after the last message the broker holds, so, in a new topic, how many messages each
/// partition holds.
final class WatermarkReader: @unchecked Sendable {
    private let handle: OpaquePointer

    init(bootstrapServers: String) throws {
        handle = try makeProducer(try makeConf(["bootstrap.servers": bootstrapServers]))
    }

    deinit {
        rd_kafka_destroy(handle)
    }

    /// The high watermark of each partition `0..<partitions` of `topic` (blocks, one request per partition).
    func highWatermarks(_ topic: String, partitions: Int) throws -> [Int64] {
        // Nothing else serves the handle's main queue: drop its events (errors, logs).
        rd_kafka_poll(handle, 0)
        return try (0..<partitions).map { partition in
            var low: Int64 = 0
            var high: Int64 = 0
            let error = rd_kafka_query_watermark_offsets(handle, topic, Int32(partition), &low, &high, 10_000)
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw RawKafkaFailure(
                    description: "cannot read the watermarks of \(topic)[\(partition)]: \(String(cString: rd_kafka_err2str(error)))")
            }
            return high
        }
    }

    /// Reads the high watermarks of `topic` every `intervalMicroseconds` until they add up to at least
    /// `total`, and returns the monotonic time at which the reading that did arrived (blocks). Throws if the
    /// sum has not grown for `stallSeconds`.
    func waitForTotal(_ topic: String, partitions: Int, total: Int, intervalMicroseconds: UInt32 = 5_000, stallSeconds: Double = 120) throws -> UInt64 {
        var last = -1
        var lastGrowth = monotonicNanoseconds()
        while true {
            let sum = Int(try highWatermarks(topic, partitions: partitions).reduce(0, +))
            let now = monotonicNanoseconds()
            if sum >= total { return now }
            if sum / 100_000 != last / 100_000 { trace("watermarks: \(sum)") }
            if sum > last {
                last = sum
                lastGrowth = now
            } else if Double(now - lastGrowth) / 1e9 > stallSeconds {
                throw RawKafkaFailure(description: "\(topic) stalled at \(sum) of \(total) messages")
            }
            usleep(intervalMicroseconds)
        }
    }
}

/// A message read back: key, value and headers.
struct ReadMessage: Sendable {
    var key: [UInt8]
    var value: [UInt8]
    var headers: [(name: String, value: [UInt8])]
}

/// Reads the first `perPartition` messages of each partition `0..<partitions` of `topic` (blocks); see
/// ``consumeFromBeginning(bootstrapServers:topic:counts:timeoutSeconds:body:)``.
func readFirstMessages(
    bootstrapServers: String, topic: String, partitions: Int, perPartition: Int, timeoutSeconds: Double = 60
) throws -> [ReadMessage] {
    var read: [ReadMessage] = []
    try consumeFromBeginning(
        bootstrapServers: bootstrapServers, topic: topic, counts: [Int](repeating: perPartition, count: partitions),
        timeoutSeconds: timeoutSeconds
    ) { message in
        var headers: [(name: String, value: [UInt8])] = []
        var list: OpaquePointer?
        if rd_kafka_message_headers(message, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list {
            var name: UnsafePointer<CChar>?
            var bytes: UnsafeRawPointer?
            var size = 0
            while rd_kafka_header_get_all(list, headers.count, &name, &bytes, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                headers.append((name.map { String(cString: $0) } ?? "", bytes.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []))
            }
        }
        let fields = message.pointee
        read.append(ReadMessage(
            key: fields.key.map { Array(UnsafeRawBufferPointer(start: $0, count: fields.key_len)) } ?? [],
            value: fields.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: fields.len)) } ?? [],
            headers: headers))
    }
    return read
}

/// How many messages of `topic` (up to each partition's high watermark `highWatermarks`) have each item's key
/// (`item-0000000n`), for items `0..<items` (blocks). Throws on a key of no such item.
func countMessagesPerItem(bootstrapServers: String, topic: String, highWatermarks: [Int64], items: Int) throws -> [Int] {
    var perItem = [Int](repeating: 0, count: items)
    var unexpected: [UInt8]?
    try consumeFromBeginning(
        bootstrapServers: bootstrapServers, topic: topic, counts: highWatermarks.map { Int($0) }, timeoutSeconds: 120
    ) { message in
        let fields = message.pointee
        let key = fields.key.map { Array(UnsafeRawBufferPointer(start: $0, count: fields.key_len)) } ?? []
        guard let item = KafkaDrainFixture.itemNumber(key), item < items else {
            unexpected = key
            return
        }
        perItem[item] += 1
    }
    if let unexpected {
        throw RawKafkaFailure(description: "\(topic) holds a message with an unexpected key \(String(decoding: unexpected, as: UTF8.self))")
    }
    return perItem
}

/// Hands `body` the first `counts[p]` messages of each partition p of `topic` (blocks) with librdkafka's C API:
/// a consumer assigned the partitions from their beginning, outside any group's rebalancing. Throws if they have
/// not all come within `timeoutSeconds`. (noida-db answers a fetch with everything from the offset on, whatever
/// `fetch.max.bytes` says: about 140 MB for a partition of the drain, above librdkafka's default
/// `receive.message.max.bytes` of 100 MB, hence its maximum here.)
private func consumeFromBeginning(
    bootstrapServers: String, topic: String, counts wanted: [Int], timeoutSeconds: Double,
    body: (UnsafeMutablePointer<rd_kafka_message_t>) -> Void
) throws {
    let partitions = wanted.count
    let conf = try makeConf([
        "bootstrap.servers": bootstrapServers, "group.id": "eddy-bench-verify", "enable.auto.commit": "false",
        "enable.auto.offset.store": "false", "receive.message.max.bytes": "2147483647",
    ])
    var errorText = [CChar](repeating: 0, count: 512)
    guard let handle = rd_kafka_new(RD_KAFKA_CONSUMER, conf, &errorText, errorText.count) else {
        rd_kafka_conf_destroy(conf)
        throw RawKafkaFailure(description: "rd_kafka_new (consumer) failed: \(cText(errorText))")
    }
    defer {
        rd_kafka_consumer_close(handle)
        rd_kafka_destroy(handle)
    }
    rd_kafka_poll_set_consumer(handle)
    let list = rd_kafka_topic_partition_list_new(Int32(partitions))!
    defer { rd_kafka_topic_partition_list_destroy(list) }
    for partition in 0..<partitions {
        rd_kafka_topic_partition_list_add(list, topic, Int32(partition)).pointee.offset = Int64(RD_KAFKA_OFFSET_BEGINNING)
    }
    let assigned = rd_kafka_assign(handle, list)
    guard assigned == RD_KAFKA_RESP_ERR_NO_ERROR else {
        throw RawKafkaFailure(description: "rd_kafka_assign failed: \(String(cString: rd_kafka_err2str(assigned)))")
    }
    var counts = [Int](repeating: 0, count: partitions)
    let deadline = monotonicNanoseconds() + UInt64(timeoutSeconds * 1e9)
    while zip(counts, wanted).contains(where: { $0 < $1 }) {
        guard monotonicNanoseconds() < deadline else {
            throw RawKafkaFailure(description: "read only \(counts) messages of \(topic)'s partitions in \(timeoutSeconds) s")
        }
        guard let message = rd_kafka_consumer_poll(handle, 200) else { continue }
        defer { rd_kafka_message_destroy(message) }
        let fields = message.pointee
        if fields.err == RD_KAFKA_RESP_ERR__PARTITION_EOF { continue }
        guard fields.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw RawKafkaFailure(description: "consumer error: \(String(cString: rd_kafka_err2str(fields.err)))")
        }
        let partition = Int(fields.partition)
        guard partition < partitions, counts[partition] < wanted[partition] else { continue }
        counts[partition] += 1
        body(message)
    }
}
