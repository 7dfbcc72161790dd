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

    var segments: [Segment] = []
    /// The storage key of the last item delivered.
    var lastKey: [UInt8]?
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
        progress.segments.append(SnapshotProgress.Segment(after: progress.lastKey, sequence: snapshot.streamSequence))
        do {
            progress.total = progress.done + (try snapshot.itemCount(after: progress.lastKey))
        } catch {
            return stopped(because: "its table cannot be read: \(error)")
        }
        guard await store(progress) else { return nil }
        let delivery = BatchDelivery(context: context, shardId: "")
        var ordinal = progress.done
        while !Task.isCancelled {
            // One item more than a batch tells whether the batch is the last.
            var page: [TableSnapshot.Entry]
            do {
                page = try snapshot.items(after: progress.lastKey, limit: context.settings.batchSize + 1)
            } catch {
                return stopped(because: "its table cannot be read: \(error)")
            }
            let isLast = page.count <= context.settings.batchSize
            if !isLast { page.removeLast() }
            guard let last = page.last else {
                progress.complete = true
                progress.total = progress.done
                return await store(progress) ? progress : nil
            }
            // A snapshot record is as old as its batch: it shows the item as it is now.
            let now = context.nowMilliseconds
            var records: [StreamRecord] = []
            records.reserveCapacity(page.count)
            for entry in page {
                do {
                    records.append(try record(of: entry, in: snapshot, ordinal: ordinal, milliseconds: now))
                } catch {
                    return stopped(because: "an item of its table does not decode: \(error)")
                }
                ordinal += 1
            }
            progress.lastKey = last.key
            progress.done += page.count
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
                    let marker = TriggerSnapshotBatch(isLast: isLast)
                    guard await delivery.deliver(deliverable[...], to: handler, window: nil, snapshot: marker) != nil else { return nil }
                }
                guard await context.commit(writes) else { return stopped(because: "its snapshot's progress cannot be stored") }
            case .derivative(let transform, _):
                guard await delivery.apply(deliverable, transform: transform, checkpoint: writes) else { return nil }
            }
            context.metrics.snapshotProgress(done: progress.done, total: progress.total)
            // Live writes come first: the snapshot yields after each batch.
            await Task.yield()
        }
        return nil
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
        MappingContext.logger.error(
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
