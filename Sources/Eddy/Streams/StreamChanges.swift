/// Where a reader of a stream starts.
public enum StreamStartingPosition: Sendable, Equatable {
    /// At the oldest record not yet trimmed.
    case trimHorizon
    /// After the newest record: only changes committed from now on.
    case latest
    /// At the record with this sequence number, and every record of the stream committed after it.
    case atSequenceNumber(String)
    /// After the record with this sequence number.
    case afterSequenceNumber(String)
}

/// A stream record with where it was read from.
public struct StreamChange: Sendable, Equatable {
    public var streamArn: String
    public var shardId: String
    public var record: StreamRecord
}

extension Database {
    /// The changes of table `tableName`, read from its latest stream, in every shard, as they commit.
    ///
    /// ```swift
    /// for try await change in try db.streamChanges(tableName: "Users", from: .latest) {
    ///     print(change.record.eventName, change.record.dynamodb.keys)
    /// }
    /// ```
    ///
    /// The sequence follows shards from parents to children, so each item's records arrive once and in the
    /// order of its commits. It waits for new records without polling: a commit wakes it. It ends when the
    /// stream has been disabled and read to its end, or when the task is cancelled.
    ///
    /// - Throws: `ValidationException` if the table has no stream or the sequence number is malformed;
    ///   `ResourceNotFoundException` if there is no such table. Iterating throws
    ///   `TrimmedDataAccessException` if the reader falls more than 24 hours behind, and
    ///   `InternalServerError` "The database is closed" once the database closes (``Database/close()``).
    public func streamChanges(tableName: String, from start: StreamStartingPosition = .trimHorizon) throws(EddyError) -> StreamChanges {
        let table = try resolveTable(tableName)
        guard let latest = table.definition.latestStream, let stream = streams.snapshot.streams[latest.id] else {
            throw .validation("Table: \(tableName) has no stream")
        }
        return try StreamChanges(database: self, stream: stream, onlyShard: nil, start: start)
    }

    /// The records of one shard of the stream `streamArn`, as they commit. The sequence ends once the shard
    /// is closed and read to its end; its children continue it (see ``describeStream(_:)``).
    ///
    /// - Throws: `ValidationException` for a malformed ARN, shard id or sequence number;
    ///   `ResourceNotFoundException` if the stream or shard does not exist.
    public func streamChanges(streamArn: String, shardId: String, from start: StreamStartingPosition = .trimHorizon) throws(EddyError) -> StreamChanges {
        try requireOpen()
        let stream = try resolveStream(streamArn, in: streams.snapshot)
        guard let index = StreamNames.shardIndex(of: shardId), let shard = stream.shard(index),
            StreamNames.shardId(shard) == shardId
        else {
            throw .resourceNotFound("Requested resource not found: Shard: \(shardId) in Stream: \(streamArn) not found")
        }
        return try StreamChanges(database: self, stream: stream, onlyShard: index, start: start)
    }
}

/// An `AsyncSequence` of a stream's changes; see ``Database/streamChanges(tableName:from:)``.
public struct StreamChanges: AsyncSequence, Sendable {
    public typealias Element = StreamChange
    public typealias Failure = EddyError

    private let database: Database
    private let streamId: UInt64
    private let streamArn: String
    private let onlyShard: UInt32?
    /// The next sequence number to read in each shard known at creation.
    private let positions: [UInt32: UInt64]

    init(database: Database, stream: StreamDefinition, onlyShard: UInt32?, start: StreamStartingPosition) throws(EddyError) {
        self.database = database
        self.streamId = stream.id
        self.streamArn = database.streamArn(of: stream)
        self.onlyShard = onlyShard
        let snapshot = database.streams.snapshot
        let from: UInt64
        switch start {
        case .trimHorizon: from = snapshot.trimmedBelow
        case .latest: from = snapshot.committedThrough + 1
        case .atSequenceNumber(let text), .afterSequenceNumber(let text):
            guard let sequence = StreamNames.parseSequenceNumber(text) else {
                throw .validation("Invalid SequenceNumber: \(text)")
            }
            if case .afterSequenceNumber = start { from = sequence + 1 } else { from = sequence }
        }
        var positions: [UInt32: UInt64] = [:]
        for shard in stream.shards where onlyShard == nil || shard.index == onlyShard {
            positions[shard.index] = Swift.max(shard.startingSequence, from)
        }
        self.positions = positions
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(changes: self)
    }

    /// Reads shards in turn after each wake-up; see ``StreamChanges``.
    public struct AsyncIterator: AsyncIteratorProtocol {
        private let changes: StreamChanges
        private var positions: [UInt32: UInt64]
        private var finished: Set<UInt32> = []
        private var buffer: [(sequence: UInt64, change: StreamChange)] = []
        private var next = 0

        init(changes: StreamChanges) {
            self.changes = changes
            self.positions = changes.positions
        }

        public mutating func next() async throws(EddyError) -> StreamChange? {
            let database = changes.database
            while true {
                if next < buffer.count {
                    next += 1
                    return buffer[next - 1].change
                }
                buffer.removeAll(keepingCapacity: true)
                next = 0
                // Close fires the signal after refusing operations, so a reader parked below wakes to this.
                try database.requireOpen()
                // The generation is read before the snapshot: a commit published after the snapshot fires
                // the signal past this generation, so the wait below cannot miss it.
                let generation = database.streams.signal.generation
                let snapshot = database.streams.snapshot
                guard let stream = snapshot.streams[changes.streamId] else { return nil }
                var pending = false
                for shard in stream.shards where !finished.contains(shard.index) {
                    if let only = changes.onlyShard, shard.index != only { continue }
                    if changes.onlyShard == nil, let parent = shard.parent, stream.shard(parent) != nil, !finished.contains(parent) {
                        pending = true
                        continue
                    }
                    let position = positions[shard.index] ?? shard.startingSequence
                    let page = try database.readShard(
                        stream, shard, from: position, in: snapshot, limit: Limits.getRecordsLimitMax,
                        maxBytes: Limits.getRecordsBytesMax)
                    if page.exhausted {
                        finished.insert(shard.index)
                        positions[shard.index] = nil
                    } else {
                        positions[shard.index] = page.next
                        pending = true
                    }
                    let shardId = StreamNames.shardId(shard)
                    for (sequence, record) in page.records {
                        buffer.append((sequence, StreamChange(streamArn: changes.streamArn, shardId: shardId, record: record)))
                    }
                }
                if !buffer.isEmpty {
                    // Shards are read in turn; sequence numbers restore the order of commits across them.
                    buffer.sort { $0.sequence < $1.sequence }
                    continue
                }
                if !pending || Task.isCancelled { return nil }
                await database.streams.signal.wait(after: generation)
            }
        }
    }
}
