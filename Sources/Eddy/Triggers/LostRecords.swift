import EddyStorage
import Foundation
import Synchronization

/// Where running trigger lanes have read to, so that a retention pass can tell which records no lane holds:
/// a lane publishes, after each read, the position below which every record of its lane is in its memory or
/// handled; the retention pass reads the marks and announces its horizon under the same lock.
final class TriggerReadMarks: Sendable {
    private let marks = Mutex<[[UInt8]: UInt64]>([:])

    /// Publishes that the lane whose checkpoint key is `key` holds or has handled every record of its lane
    /// below `position`, read from `from` on; false if retention's horizon (`trimmedBelow()`) has passed
    /// `from` meanwhile, so that the read may have missed records (the lane then treats them as trimmed).
    func publish(_ key: [UInt8], through position: UInt64, readFrom from: UInt64, trimmedBelow: () -> UInt64) -> Bool {
        marks.withLock { marks in
            guard trimmedBelow() <= from else { return false }
            marks[key] = position
            return true
        }
    }

    /// Withdraws a lane's mark: it no longer runs, and its stored position says what it has handled.
    func withdraw(_ key: [UInt8]) {
        _ = marks.withLock { $0.removeValue(forKey: key) }
    }

    /// Runs `body` with the published marks while no lane can publish.
    func withMarks<Result>(_ body: ([[UInt8]: UInt64]) throws -> Result) rethrows -> Result {
        try marks.withLock { marks in try body(marks) }
    }
}

/// Records of one lane of one shard that retention removed before the mapping handled them (beyond Lambda,
/// which drops them silently): the retention pass keeps one of these per lane and pass in the `triggers` key
/// space (`lost/<uuid>/<lane>/<horizon>`), and the mapping's worker reports it (on-failure destination,
/// metric, log, `LastProcessingResult`) and deletes it.
struct LostRange: Codable, Sendable, Equatable {
    var shardId: String
    var firstSequence: UInt64
    var lastSequence: UInt64
    var count: Int
    /// Commit times of the first and last record, in milliseconds since 1970.
    var firstMilliseconds: Int64
    var lastMilliseconds: Int64

    /// `self` followed by `later` (a later range of the same lane).
    func merged(with later: LostRange) -> LostRange {
        LostRange(
            shardId: shardId, firstSequence: Swift.min(firstSequence, later.firstSequence),
            lastSequence: Swift.max(lastSequence, later.lastSequence), count: count + later.count,
            firstMilliseconds: Swift.min(firstMilliseconds, later.firstMilliseconds),
            lastMilliseconds: Swift.max(lastMilliseconds, later.lastMilliseconds))
    }

    /// The prefix of mapping `uuid`'s lost ranges.
    static func prefix(_ uuid: String) -> [UInt8] {
        Array("lost/\(uuid)/".utf8)
    }

    /// The key of a lost range of lane `lane` (``TriggerStore/lane(stream:shard:factor:lane:)``) found by the
    /// retention pass whose horizon is `horizon`.
    static func key(_ uuid: String, lane: [UInt8], horizon: UInt64) -> [UInt8] {
        prefix(uuid) + lane + TriggerStore.position(horizon)
    }

    /// How many ranges a lane keeps before the retention pass merges them into one (a mapping stopped for
    /// long, whose lane loses records at every pass, keeps a bounded number).
    static let rangesPerLaneMax = 8
}

/// What the retention pass does for trigger mappings before it trims: for every stored mapping and every
/// lane of its stream's shards, the records below the new horizon that the lane has neither handled (its
/// stored position, or an earlier layout's) nor read into memory (its published mark) are counted into a
/// ``LostRange``, written in the same batch as the trim. Records the mapping's filter rejects are not lost.
enum LostRecordsLedger {
    /// Adds to `batch` the lost ranges of every mapping for a trim from `previous` up to `horizon`.
    static func record(
        below horizon: UInt64, from previous: UInt64, streams: [UInt64: StreamDefinition], marks: [[UInt8]: UInt64],
        store: any OrderedKeyValueStore, region: String, into batch: inout StorageBatch
    ) throws {
        let mappingCursor = try store.scan(
            in: .triggers, from: TriggerStore.mappingsRange.from, to: TriggerStore.mappingsRange.to, direction: .forward, snapshot: nil)
        while let (_, value) = try mappingCursor.next() {
            let mapping = try JSONDecoder().decode(StoredTriggerMapping.self, from: Data(value))
            guard let (table, label) = StreamNames.parseArn(mapping.configuration.eventSourceArn),
                let stream = streams.values.first(where: { $0.tableName == table && $0.label == label })
            else { continue }
            let progress = try TriggerStore.progress(in: store, uuid: mapping.uuid, stream: stream.id)
            for shard in stream.shards where shard.startingSequence < horizon {
                try record(mapping, shard, of: stream, stored: progress[shard.index] ?? [:], below: horizon, from: previous,
                    marks: marks, store: store, region: region, into: &batch)
            }
        }
    }

    private static func record(
        _ mapping: StoredTriggerMapping, _ shard: ShardDefinition, of stream: StreamDefinition, stored: [Int: [Int: UInt64]],
        below horizon: UInt64, from previous: UInt64, marks: [[UInt8]: UInt64], store: any OrderedKeyValueStore, region: String,
        into batch: inout StorageBatch
    ) throws {
        let settings = mapping.configuration.resolved
        let factor = settings.parallelizationFactor
        // A shard without stored progress: one the mapping has not reached yet. It owes the shard from its
        // start if the shard came after the mapping; a TRIM_HORIZON mapping that never ran owes it from the
        // horizon it would have started at.
        let initial =
            shard.createdMilliseconds >= mapping.createdMilliseconds || mapping.configuration.startingPosition == .latest
            ? shard.startingSequence : Swift.max(shard.startingSequence, previous)
        let progress = ShardProgress(stored: stored, factor: factor, initial: initial)
        let laneKeys = (0..<factor).map { TriggerStore.lane(stream: stream.id, shard: shard.index, factor: factor, lane: $0) }
        let starts = (0..<factor).map { lane in
            Swift.max(
                progress.positions[lane], previous, shard.startingSequence,
                marks[TriggerStore.checkpointKey(mapping.uuid, stream: stream.id, shard: shard.index, factor: factor, lane: lane)] ?? 0)
        }
        let end = Swift.min(horizon, (shard.endingSequence ?? horizon) &+ 1)
        guard let start = starts.min(), start < end else { return }
        let partitionKey = stream.keySchema.first { $0.keyType == .hash }!.attributeName
        // Without a filter only the partition key is read (for the lane), straight from the bytes; nothing is decoded.
        let filter = mapping.configuration.filterCriteria.flatMap { $0.filters.isEmpty ? nil : $0 }
        let shardId = StreamNames.shardId(shard)
        var lost: [Int: LostRange] = [:]
        let cursor = try store.scan(
            in: .streams, from: StreamRecordEncoding.recordBound(stream: stream.id, shard: shard.index, sequence: start),
            to: StreamRecordEncoding.recordBound(stream: stream.id, shard: shard.index, sequence: end), direction: .forward, snapshot: nil)
        while let (key, value) = try cursor.next() {
            let sequence = StreamRecordEncoding.sequence(ofRecordKey: key)
            let milliseconds = StreamRecordEncoding.milliseconds(ofRecordKey: key)
            let keys = try StreamRecordEncoding.read(value, old: false, new: false).images.keysRange
            let hash = try StreamRecordEncoding.partitionHash(ofKeys: value, in: keys, partitionKey: partitionKey)
            let lane = ShardProgress.lane(of: hash, factor: factor)
            guard sequence >= starts[lane], !progress.isHandled(sequence, hash: hash) else { continue }
            if let filter {
                let record = try Database.streamRecord(value, sequence: sequence, milliseconds: milliseconds, of: stream, form: .streams, region: region)
                guard filter.matches(record) else { continue }
            }
            let one = LostRange(
                shardId: shardId, firstSequence: sequence, lastSequence: sequence, count: 1, firstMilliseconds: milliseconds,
                lastMilliseconds: milliseconds)
            lost[lane] = lost[lane].map { $0.merged(with: one) } ?? one
        }
        for (lane, range) in lost {
            try add(range, uuid: mapping.uuid, lane: laneKeys[lane], horizon: horizon, store: store, into: &batch)
        }
    }

    /// Writes `range` for lane `lane`, merging the lane's earlier unreported ranges into it when it has
    /// ``LostRange/rangesPerLaneMax`` of them already.
    private static func add(
        _ range: LostRange, uuid: String, lane: [UInt8], horizon: UInt64, store: any OrderedKeyValueStore, into batch: inout StorageBatch
    ) throws {
        let lanePrefix = LostRange.prefix(uuid) + lane
        var earlier: [([UInt8], LostRange)] = []
        let cursor = try store.scan(in: .triggers, from: lanePrefix, to: lanePrefix.prefixSuccessor, direction: .forward, snapshot: nil)
        while let (key, value) = try cursor.next() {
            earlier.append((key, try JSONDecoder().decode(LostRange.self, from: Data(value))))
        }
        var written = range
        if earlier.count >= LostRange.rangesPerLaneMax {
            for (key, old) in earlier {
                written = old.merged(with: written)
                batch.delete(key, in: .triggers)
            }
        }
        batch.put(LostRange.key(uuid, lane: lane, horizon: horizon), TriggerStore.encode(written), in: .triggers)
    }
}

extension Database {
    /// The unreported lost ranges of mapping `uuid`, with their keys.
    func lostRanges(of uuid: String) throws(EddyError) -> [(key: [UInt8], range: LostRange)] {
        let prefix = LostRange.prefix(uuid)
        let cursor = try storageCall {
            try store.scan(in: .triggers, from: prefix, to: prefix.prefixSuccessor, direction: .forward, snapshot: nil)
        }
        var ranges: [(key: [UInt8], range: LostRange)] = []
        while let (key, value) = try storageCall({ try cursor.next() }) {
            do {
                ranges.append((key, try JSONDecoder().decode(LostRange.self, from: Data(value))))
            } catch {
                throw .internalServerError("A stored lost range does not decode: \(error)")
            }
        }
        return ranges
    }
}
