import EddyStorage
import Foundation

/// How far a mapping's initial snapshot has come, as the `triggers` key space keeps it (`snapshot/<uuid>`,
/// JSON): the segments of the table it has read, the key of the last item delivered, and the counts.
///
/// A snapshot is read from one storage snapshot (``TableSnapshot``), which a restart loses; the next run takes
/// a new one and goes on after the last item delivered. Each run is a segment: the items after `after` (up to
/// the next segment's `after`) were read as of stream sequence number `sequence`, so their records below it
/// are already in what the sink got, and the lanes skip them (``SnapshotSegments``).
struct SnapshotProgress: Codable, Sendable, Equatable {
    struct Segment: Codable, Sendable, Equatable {
        /// The storage key the segment's items come after; nil for the first segment (from the table's first item).
        var after: [UInt8]?
        /// The stream sequence number the segment's items were read at.
        var sequence: UInt64
    }

    /// The batch being delivered when the progress was stored: the items after ``lastKey`` through `through`,
    /// read as of sequence number `sequence` or later. Delivery to a handler is at least once, so they may have
    /// reached the sink without the progress following them (a derivative mapping's writes commit with its
    /// progress: nothing of it is ever in flight).
    struct Pending: Codable, Sendable, Equatable {
        var through: [UInt8]
        var sequence: UInt64
    }

    var segments: [Segment] = []
    /// The storage key of the last item delivered.
    var lastKey: [UInt8]?
    /// The batch that may be in the sink beyond ``lastKey``; nil once the snapshot is complete.
    var pending: Pending?
    /// Items delivered.
    var done = 0
    /// Items the table held when the segment now being read began: done plus what that snapshot has left.
    var total = 0
    /// Every item has been delivered: the mapping follows the stream.
    var complete = false

    /// Where the mapping's lanes start: the first segment's number (the lowest), nil before any segment.
    var streamStart: UInt64? { segments.map(\.sequence).min() }

    static func key(_ uuid: String) -> [UInt8] {
        Array("snapshot/\(uuid)".utf8)
    }
}

/// Which stream records a mapping's initial snapshot has already delivered: a record whose item was read in
/// a segment as of sequence number S, and whose own number is below S. Only records below the last segment's
/// number can be such, so a lane past it never looks up a key.
struct SnapshotSegments: Sendable {
    private let segments: [SnapshotProgress.Segment]
    private let layout: KeyLayout
    /// The highest segment number: records at or above it are never in a snapshot.
    let bound: UInt64

    /// The segments of `progress` for items of `table`; nil when only one segment was read (the lanes start at
    /// its number, so no record they read is in it).
    init?(_ progress: SnapshotProgress, table: ResolvedTable) {
        guard progress.segments.count > 1 else { return nil }
        segments = progress.segments
        layout = table.layout
        bound = progress.segments.map(\.sequence).max() ?? 0
    }

    /// Whether the record `sequence` of the item whose keys are `keys` was delivered by the snapshot.
    func delivered(_ sequence: UInt64, keys: Item) -> Bool {
        guard sequence < bound else { return false }
        let key = ItemKey(layout: layout, key: keys).bytes
        // The segment the key falls in: the last one whose start lies before it.
        let segment = segments.last { $0.after.map { $0.lexicographicallyPrecedes(key) } ?? true }
        return sequence < (segment?.sequence ?? 0)
    }
}

/// Delivers a mapping's initial snapshot: the table's items, page by page, as INSERT records, through the
/// mapping's sink with its retry policy, each batch committed with the snapshot's progress (a derivative
/// mapping's writes in the same batch); then the mapping's lanes follow the stream from the snapshot's
/// sequence number.
struct InitialSnapshot: Sendable {
    let context: MappingContext

    /// The snapshot's progress, delivering what is left first; nil if the task was cancelled or the snapshot
    /// cannot be read or stored (the mapping then stops, said in the log).
    func run() async -> SnapshotProgress? {
        let database = context.database
        var progress: SnapshotProgress
        do {
            progress = try database.snapshotProgress(context.uuid) ?? SnapshotProgress()
        } catch {
            return stopped(because: "its snapshot's progress cannot be read: \(error)")
        }
        guard !progress.complete else { return progress }
        let snapshot: TableSnapshot
        do {
            snapshot = try database.tableSnapshot(streamArn: context.streamArn)
        } catch {
            return stopped(because: "its table cannot be read: \(error)")
        }
        if case .handler(let handler) = context.mapping.sink, let pending = progress.pending {
            guard await deliverDeletes(of: pending, after: progress.lastKey, absentFrom: snapshot, to: handler) else { return nil }
        }
        progress.segments.append(SnapshotProgress.Segment(after: progress.lastKey, sequence: snapshot.streamSequence))
        do {
            progress.total = progress.done + (try snapshot.itemCount(after: progress.lastKey))
        } catch {
            return stopped(because: "its table cannot be read: \(error)")
        }
        guard var page = read(snapshot, after: progress.lastKey) else { return nil }
        progress.pending = pending(progress, next: page.entries, sequence: snapshot.streamSequence)
        guard await store(progress) else { return nil }
        let delivery = BatchDelivery(context: context, shardId: TriggerFailureRecord.snapshotShardId)
        var ordinal = progress.done
        while !Task.isCancelled {
            guard let last = page.entries.last else {
                progress.complete = true
                progress.total = progress.done
                progress.pending = nil
                return await store(progress) ? progress : nil
            }
            // A snapshot record is as old as its batch: it shows the item as it is now.
            let now = context.nowMilliseconds
            var records: [StreamRecord] = []
            records.reserveCapacity(page.entries.count)
            for entry in page.entries {
                do {
                    records.append(try record(of: entry, in: snapshot, ordinal: ordinal, milliseconds: now))
                } catch {
                    return stopped(because: "an item of its table does not decode: \(error)")
                }
                ordinal += 1
            }
            progress.lastKey = last.key
            progress.done += page.entries.count
            // The next batch is read before this one's progress is stored, which names it as the one that may
            // be in the sink next.
            let next: Page
            if page.isLast {
                next = Page(entries: [], isLast: true)
            } else {
                guard let read = read(snapshot, after: last.key) else { return nil }
                next = read
            }
            progress.pending = pending(progress, next: next.entries, sequence: snapshot.streamSequence)
            // Filters apply as to the stream's records. Age does not drop any (a snapshot record is as old as its
            // batch), and if it did, the record would be reported as the stream's are, not dropped silently.
            let (deliverable, expired) = delivery.deliverable(records)
            if !expired.isEmpty {
                guard await delivery.reportExpired(expired) else { return nil }
            }
            var writes = StorageBatch()
            writes.put(SnapshotProgress.key(context.uuid), TriggerStore.encode(progress), in: .triggers)
            switch context.mapping.sink {
            case .handler(let handler):
                if !deliverable.isEmpty {
                    let marker = TriggerSnapshotBatch(isLast: page.isLast)
                    guard await delivery.deliver(deliverable[...], to: handler, window: nil, snapshot: marker) != nil else { return nil }
                }
                guard await context.commit(writes) else { return stopped(because: "its snapshot's progress cannot be stored") }
            case .derivative(let transform, _):
                guard await delivery.apply(deliverable, transform: transform, checkpoint: writes) else { return nil }
            }
            context.metrics.snapshotProgress(done: progress.done, total: progress.total)
            page = next
            // Live writes come first: the snapshot yields after each batch.
            await Task.yield()
        }
        return nil
    }

    /// A batch of the snapshot's items, and whether it is the last.
    private struct Page {
        var entries: [TableSnapshot.Entry]
        var isLast: Bool
    }

    /// The batch of `snapshot`'s items after `key`; nil if the table cannot be read (the mapping then stops).
    private func read(_ snapshot: TableSnapshot, after key: [UInt8]?) -> Page? {
        // One item more than a batch tells whether the batch is the last.
        var entries: [TableSnapshot.Entry]
        do {
            entries = try snapshot.items(after: key, limit: context.settings.batchSize + 1)
        } catch {
            _ = stopped(because: "its table cannot be read: \(error)")
            return nil
        }
        let isLast = entries.count <= context.settings.batchSize
        if !isLast { entries.removeLast() }
        return Page(entries: entries, isLast: isLast)
    }

    /// What may be in the sink beyond `progress.lastKey` while `next` is delivered as of `sequence`: `next`'s
    /// items, and those of the pending batch of an earlier segment that lie beyond it still. (The deletes of
    /// that batch's items up to `sequence` were delivered when the segment began: only later ones can be
    /// missing.)
    private func pending(_ progress: SnapshotProgress, next: [TableSnapshot.Entry], sequence: UInt64) -> SnapshotProgress.Pending? {
        var through = next.last?.key
        if let earlier = progress.pending?.through, progress.lastKey.map({ $0.lexicographicallyPrecedes(earlier) }) ?? true,
            through.map({ $0.lexicographicallyPrecedes(earlier) }) ?? true
        {
            through = earlier
        }
        return through.map { SnapshotProgress.Pending(through: $0, sequence: sequence) }
    }

    /// Delivers the deletes that an earlier segment's `pending` batch calls for. That batch may have reached the
    /// sink without the progress following it; this segment goes on after `lastKey`, the last item stored as
    /// delivered, so it reads that batch's items again as they are now, but an item deleted since is not in
    /// its snapshot, and the lanes skip the item's delete (the record precedes this segment's number). So for
    /// each item of the batch's key range that `snapshot` does not hold, its last REMOVE record from
    /// `pending.sequence` up to the snapshot's number goes to the handler now, before this segment's items. (A
    /// batch that never reached the sink makes a delete of an item the sink never had: at least once allows
    /// it.) It reads the stream written since the pending batch's segment began; false if the mapping stops.
    private func deliverDeletes(
        of pending: SnapshotProgress.Pending, after lastKey: [UInt8]?, absentFrom snapshot: TableSnapshot, to handler: TriggerHandler
    ) async -> Bool {
        let database = context.database
        let streams = database.streams.snapshot
        guard let stream = streams.streams[context.streamId] else { return true }
        if pending.sequence < streams.trimmedBelow {
            // Retention removed records the batch's deletes would come from: say so, as for lost records.
            context.logger.warning(
                "Trigger mapping \(context.mapping.stored.name): the stream's retention removed records from \(pending.sequence) up to \(streams.trimmedBelow), which the snapshot's resumption reads for deletes of its last unacknowledged batch; an item of that batch deleted then may remain in the sink",
                metadata: ["mapping": "\(context.uuid)", "stream": "\(context.streamArn)"])
        }
        var deletes: [UInt32: [(sequence: UInt64, record: StreamRecord)]] = [:]
        do {
            let layout = try database.resolveTable(context.mapping.sourceTable).layout
            var last: [[UInt8]: (shard: UInt32, sequence: UInt64, record: StreamRecord)] = [:]
            for shard in stream.shards {
                var position = Swift.max(shard.startingSequence, pending.sequence, streams.trimmedBelow)
                while position < snapshot.streamSequence {
                    let page = try database.readShard(
                        stream, shard, from: position, in: streams, limit: Limits.getRecordsLimitMax, maxBytes: Limits.getRecordsBytesMax,
                        form: context.mapping.recordForm)
                    for (sequence, record) in page.records where sequence < snapshot.streamSequence && record.eventName == .remove {
                        let key = ItemKey(layout: layout, key: record.dynamodb.keys).bytes
                        guard lastKey.map({ $0.lexicographicallyPrecedes(key) }) ?? true, !pending.through.lexicographicallyPrecedes(key),
                            last[key].map({ sequence > $0.sequence }) ?? true
                        else { continue }
                        last[key] = (shard.index, sequence, record)
                    }
                    guard !page.records.isEmpty, page.next > position else { break }
                    position = page.next
                }
            }
            for (key, delete) in last {
                if try !snapshot.holds(key) { deletes[delete.shard, default: []].append((delete.sequence, delete.record)) }
            }
        } catch {
            _ = stopped(because: "the deletes its snapshot's last batch calls for cannot be read: \(error)")
            return false
        }
        for (index, records) in deletes {
            guard let shard = stream.shard(index) else { continue }
            let delivery = BatchDelivery(context: context, shardId: StreamNames.shardId(shard))
            let (deliverable, expired) = delivery.deliverable(records.sorted { $0.sequence < $1.sequence }.map(\.record))
            if !expired.isEmpty {
                guard await delivery.reportExpired(expired) else { return false }
            }
            for start in stride(from: 0, to: deliverable.count, by: context.settings.batchSize) {
                let batch = deliverable[start..<Swift.min(start + context.settings.batchSize, deliverable.count)]
                guard await delivery.deliver(batch, to: handler, window: nil) != nil else { return false }
            }
        }
        return true
    }

    /// The INSERT record of the item `entry`, the `ordinal`-th of the snapshot: its keys and (as the stream's
    /// view type or the Kinesis form has it) its new image, numbered one below the sequence number the
    /// snapshot was read at, so that it sorts before every later change of the item. Like a record read from
    /// the stream, it keeps the item's stored bytes, which sinks transcode without decoding them
    /// (``StreamRecordData``).
    private func record(
        of entry: TableSnapshot.Entry, in snapshot: TableSnapshot, ordinal: Int, milliseconds: Int64
    ) throws(EddyError) -> StreamRecord {
        let stream = snapshot.stream
        let keys: [UInt8]
        do {
            keys = try ItemEncoding.projection(stream.keySchema.map(\.attributeName), of: entry.bytes)
        } catch {
            throw .internalServerError("A stored item does not decode: \(error)")
        }
        let value = StreamRecordEncoding.encode(eventName: .insert, byService: false, keys: keys, old: nil, new: entry.bytes)
        var record = try Database.streamRecord(
            value, sequence: snapshot.streamSequence == 0 ? 0 : snapshot.streamSequence - 1, milliseconds: milliseconds,
            of: stream, form: context.mapping.recordForm, region: context.database.configuration.region)
        record.eventID = StreamRecordEncoding.snapshotEventID(stream: stream.id, sequence: snapshot.streamSequence, ordinal: ordinal)
        return record
    }

    private func store(_ progress: SnapshotProgress) async -> Bool {
        var batch = StorageBatch()
        batch.put(SnapshotProgress.key(context.uuid), TriggerStore.encode(progress), in: .triggers)
        guard await context.commit(batch) else {
            _ = stopped(because: "its snapshot's progress cannot be stored")
            return false
        }
        context.metrics.snapshotProgress(done: progress.done, total: progress.total)
        return true
    }

    private func stopped(because reason: String) -> SnapshotProgress? {
        context.logger.error(
            "Trigger mapping \(context.mapping.stored.name) stopped: \(reason)", metadata: ["mapping": "\(context.uuid)"])
        return nil
    }
}

extension Database {
    /// Mapping `uuid`'s initial snapshot progress, if it has one.
    func snapshotProgress(_ uuid: String) throws(EddyError) -> SnapshotProgress? {
        guard let bytes = try storageCall({ try store.get(SnapshotProgress.key(uuid), in: .triggers, snapshot: nil) }) else { return nil }
        do {
            return try JSONDecoder().decode(SnapshotProgress.self, from: Data(bytes))
        } catch {
            throw .internalServerError("A trigger mapping's snapshot progress is damaged: \(error)")
        }
    }
}
