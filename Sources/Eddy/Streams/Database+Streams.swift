import EddyStorage

extension Database {
    /// Lists the streams of one table or of all tables, a page at a time (DynamoDB Streams' `ListStreams`).
    /// A disabled stream, or the stream of a deleted table, is listed until its records have expired.
    ///
    /// - Throws: `ValidationException` for a bad limit, table name or start ARN; `ResourceNotFoundException`
    ///   if `tableName` names no table.
    public func listStreams(_ input: ListStreamsInput = ListStreamsInput()) async throws(EddyError) -> ListStreamsOutput {
        try requireOpen()
        let limit = try Self.validatedLimit(input.limit, max: Limits.streamsPageLimitMax)
        if let name = input.tableName {
            _ = try resolveTable(name)
        }
        if let start = input.exclusiveStartStreamArn { try Self.validateStreamArn(start, field: "exclusiveStartStreamArn") }
        let summaries = streams.snapshot.streams.values
            .filter { input.tableName == nil || $0.tableName == input.tableName }
            .map { StreamSummary(streamArn: streamArn(of: $0), tableName: $0.tableName, streamLabel: $0.label) }
            .sorted { ($0.tableName, $0.streamLabel) < ($1.tableName, $1.streamLabel) }
        var remaining = summaries[...]
        if let start = input.exclusiveStartStreamArn, let (table, label) = StreamNames.parseArn(start) {
            remaining = remaining.drop { ($0.tableName, $0.streamLabel) <= (table, label) }
        }
        let page = Array(remaining.prefix(limit))
        return ListStreamsOutput(streams: page, lastEvaluatedStreamArn: remaining.count > limit ? page.last?.streamArn : nil)
    }

    /// Describes a stream and a page of its shards, oldest first (DynamoDB Streams' `DescribeStream`).
    ///
    /// Shard ids sort in creation order, so a page after `exclusiveStartShardId` holds the shards whose ids
    /// sort after it: paging goes on where it was even when that shard has since expired. With
    /// `shardFilter` (`CHILD_SHARDS`), the shards described are the children of the filter's shard: none
    /// while it is open, those that continue it once it is closed.
    ///
    /// - Throws: `ValidationException` for a malformed ARN, limit, shard id or shard filter;
    ///   `ResourceNotFoundException` if there is no such stream, or no such shard for the filter.
    public func describeStream(_ input: DescribeStreamInput) async throws(EddyError) -> DescribeStreamOutput {
        try requireOpen()
        let limit = try Self.validatedLimit(input.limit, max: Limits.streamsPageLimitMax)
        if let start = input.exclusiveStartShardId {
            try Self.validateShardId(start, field: "exclusiveStartShardId")
        }
        let parentId = try input.shardFilter.map { (filter) throws(EddyError) in try Self.validatedParentShardId(filter) }
        let stream = try resolveStream(input.streamArn, in: streams.snapshot)
        var shards = stream.shards[...]
        if let parentId {
            guard let parent = stream.shards.first(where: { StreamNames.shardId($0) == parentId }) else {
                throw .resourceNotFound("Requested resource not found: Shard: \(parentId) in Stream: \(input.streamArn) not found")
            }
            shards = shards.filter { $0.parent == parent.index }[...]
        }
        if let start = input.exclusiveStartShardId {
            shards = shards.filter { StreamNames.shardId($0) > start }[...]
        }
        let page = shards.prefix(limit).map { shard in
            Shard(
                shardId: StreamNames.shardId(shard),
                sequenceNumberRange: SequenceNumberRange(
                    startingSequenceNumber: StreamNames.sequenceNumber(shard.startingSequence),
                    endingSequenceNumber: shard.endingSequence.map(StreamNames.sequenceNumber)),
                parentShardId: shard.parent.flatMap(stream.shard).map(StreamNames.shardId))
        }
        return DescribeStreamOutput(
            streamDescription: StreamDescription(
                streamArn: streamArn(of: stream), streamLabel: stream.label,
                streamStatus: stream.isEnabled ? .enabled : .disabled, streamViewType: stream.viewType,
                creationRequestDateTime: Double(stream.createdMilliseconds) / 1000, tableName: stream.tableName,
                keySchema: stream.keySchema, shards: page,
                lastEvaluatedShardId: shards.count > limit ? page.last?.shardId : nil))
    }

    /// Returns an iterator that reads a shard from a position (DynamoDB Streams' `GetShardIterator`). It
    /// expires after 15 minutes.
    ///
    /// - Throws: `ValidationException` for a malformed request, a missing sequence number, or one outside
    ///   the shard; `ResourceNotFoundException` if the stream or shard does not exist;
    ///   `TrimmedDataAccessException` for a sequence number retention has trimmed.
    public func getShardIterator(_ input: GetShardIteratorInput) async throws(EddyError) -> GetShardIteratorOutput {
        try requireOpen()
        try Self.validateShardId(input.shardId, field: "shardId")
        let snapshot = streams.snapshot
        let stream = try resolveStream(input.streamArn, in: snapshot)
        guard let index = StreamNames.shardIndex(of: input.shardId), let shard = stream.shard(index),
            StreamNames.shardId(shard) == input.shardId
        else {
            throw .resourceNotFound("Requested resource not found: Shard: \(input.shardId) in Stream: \(input.streamArn) not found")
        }
        let position: UInt64
        switch input.shardIteratorType {
        case .trimHorizon:
            position = max(shard.startingSequence, snapshot.trimmedBelow)
        case .latest:
            position = max(shard.startingSequence, (shard.endingSequence ?? snapshot.committedThrough) + 1)
        case .atSequenceNumber, .afterSequenceNumber:
            guard let text = input.sequenceNumber else {
                throw .validation("A SequenceNumber is required for the ShardIteratorType \(input.shardIteratorType.rawValue)")
            }
            guard let sequence = StreamNames.parseSequenceNumber(text) else {
                throw TableValidation.constraint(
                    value: text, field: "sequenceNumber",
                    "Member must satisfy regular expression pattern: [0-9]{21,40} and have a value that fits in 64 bits")
            }
            // Any number of the shard's range is a position, whether or not a record has it: through the
            // end of a closed shard, through the latest record (or the start) of an open one.
            let last = shard.endingSequence ?? max(snapshot.committedThrough, shard.startingSequence)
            guard sequence >= shard.startingSequence, sequence <= last else {
                throw .validation("Invalid SequenceNumber: \(text) is not in the range of shard \(input.shardId)")
            }
            guard sequence >= snapshot.trimmedBelow else {
                throw .trimmedDataAccess("The operation attempted to read past the oldest stream record in a shard")
            }
            position = input.shardIteratorType == .atSequenceNumber ? sequence : sequence + 1
        }
        let token = ShardIteratorToken(
            streamArn: input.streamArn, stream: stream.id, shard: index, position: position,
            issuedMilliseconds: configuration.clock.nowMilliseconds())
        return GetShardIteratorOutput(shardIterator: token.encoded)
    }

    /// Reads the records at a shard iterator: up to `limit` (at most 1000) and 1 MB (DynamoDB Streams'
    /// `GetRecords`). An open shard may return no records and a next iterator; a closed shard read to its
    /// end returns no next iterator, and its child shards (see ``describeStream(_:)``) continue it.
    ///
    /// - Throws: `ValidationException` for a malformed iterator or limit; `ExpiredIteratorException` for an
    ///   iterator older than 15 minutes; `TrimmedDataAccessException` if retention has trimmed the records at
    ///   the iterator; `ResourceNotFoundException` if the stream or shard no longer exists.
    public func getRecords(_ input: GetRecordsInput) async throws(EddyError) -> GetRecordsOutput {
        try requireOpen()
        let limit = try Self.validatedLimit(input.limit, max: Limits.getRecordsLimitMax)
        guard (1...2048).contains(input.shardIterator.utf8.count), let token = ShardIteratorToken(parsing: input.shardIterator) else {
            throw .validation("Invalid ShardIterator: \(input.shardIterator.prefix(100))")
        }
        let now = configuration.clock.nowMilliseconds()
        guard now - token.issuedMilliseconds <= Limits.shardIteratorLifetimeMilliseconds else {
            throw .expiredIterator(
                "Iterator expired. The iterator was created at time \(token.issuedMilliseconds) while right now it's \(now) which is further in the future than the tolerated delay of \(Limits.shardIteratorLifetimeMilliseconds) milliseconds.")
        }
        let snapshot = streams.snapshot
        guard let stream = snapshot.streams[token.stream], streamArn(of: stream) == token.streamArn else {
            throw .resourceNotFound("Requested resource not found: Stream: \(token.streamArn) not found")
        }
        guard let shard = stream.shard(token.shard) else {
            throw .resourceNotFound("Requested resource not found: Shard does not exist")
        }
        let page = try readShard(
            stream, shard, from: token.position, in: snapshot, limit: limit, maxBytes: Limits.getRecordsBytesMax)
        var next = token
        next.position = page.next
        next.issuedMilliseconds = now
        return GetRecordsOutput(records: page.records.map(\.record), nextShardIterator: page.exhausted ? nil : next.encoded)
    }

    /// Runs one retention pass now: deletes stream records older than 24 hours (by range deletion), and the
    /// shards and disabled streams that have wholly expired. A background job runs it every
    /// ``Configuration/streamTrimInterval``; tests that move a ``ManualWallClock`` call it directly.
    ///
    /// - Throws: `InternalServerError` if storage fails; the pass then trims nothing.
    public func trimExpiredStreamRecords() async throws(EddyError) {
        // Under the catalog lock, like every change of the streams catalog: one pass at a time, and no stream
        // enabled, disabled or deleted between the plan and its commit.
        try await locks.withLock(Self.catalogLockKey) { () async throws(EddyError) in
            let plan = try storageCall { try streamRetention.plan() }
            try await committer.commitCatalogChange(PreparedWrite(batch: StorageBatch(), effects: [.trimStreams(plan)]))
        }
    }

    /// The ARN of `stream`.
    func streamArn(of stream: StreamDefinition) -> String {
        StreamNames.arn(tableArn: arn(ofTable: stream.tableName), label: stream.label)
    }

    /// A page of one shard's records.
    struct ShardPage {
        var records: [(sequence: UInt64, record: StreamRecord)]
        /// The position after the page.
        var next: UInt64
        /// The shard is closed and has no record at or after `next`.
        var exhausted: Bool
    }

    /// Reads up to `limit` records and about `maxBytes` of shard `shard` at and after sequence number
    /// `position`, never past the snapshot's committed-through mark, each record in `form`.
    func readShard(
        _ stream: StreamDefinition, _ shard: ShardDefinition, from position: UInt64, in snapshot: StreamsSnapshot,
        limit: Int, maxBytes: Int, form: StreamRecordForm = .streams
    ) throws(EddyError) -> ShardPage {
        let trimmed = EddyError.trimmedDataAccess("The operation attempted to read past the oldest stream record in a shard")
        guard position >= snapshot.trimmedBelow else { throw trimmed }
        let upper = shard.endingSequence ?? snapshot.committedThrough
        guard position <= upper else {
            return ShardPage(records: [], next: position, exhausted: !shard.isOpen)
        }
        var records: [(sequence: UInt64, record: StreamRecord)] = []
        var bytes = 0
        var next = upper + 1
        let cursor = try storageCall {
            try store.scan(
                in: .streams,
                from: StreamRecordEncoding.recordBound(stream: stream.id, shard: shard.index, sequence: position),
                to: StreamRecordEncoding.recordBound(stream: stream.id, shard: shard.index, sequence: upper + 1),
                direction: .forward, snapshot: nil)
        }
        while let (key, value) = try storageCall({ try cursor.next() }) {
            let sequence = StreamRecordEncoding.sequence(ofRecordKey: key)
            let record = try Self.streamRecord(
                value, sequence: sequence, milliseconds: StreamRecordEncoding.milliseconds(ofRecordKey: key), of: stream,
                form: form, region: configuration.region)
            if !records.isEmpty, bytes + record.dynamodb.sizeBytes > maxBytes {
                next = sequence
                break
            }
            bytes += record.dynamodb.sizeBytes
            records.append((sequence, record))
            if records.count == limit {
                next = sequence + 1
                break
            }
        }
        // A trim announced while the scan ran may have removed records from under it.
        guard position >= streams.trimmedBelow else { throw trimmed }
        return ShardPage(records: records, next: next, exhausted: !shard.isOpen && next > upper)
    }

    /// The record stored as `value`, in `form`: its `SizeBytes` counts the keys and the images it carries,
    /// which stay the stored bytes until they are asked for (``StreamRecordData``).
    static func streamRecord(
        _ value: [UInt8], sequence: UInt64, milliseconds: Int64, of stream: StreamDefinition, form: StreamRecordForm,
        region: String
    ) throws(EddyError) -> StreamRecord {
        let (old, new) =
            switch (form, stream.viewType) {
            case (.kinesis, _), (.streams, .newAndOldImages): (true, true)
            case (.streams, .newImage): (false, true)
            case (.streams, .oldImage): (true, false)
            case (.streams, .keysOnly): (false, false)
            }
        let read: StreamRecordEncoding.Read
        do {
            read = try StreamRecordEncoding.read(value, old: old, new: new)
        } catch {
            throw .internalServerError("A stream record does not decode: \(error)")
        }
        return StreamRecord(
            eventID: StreamRecordEncoding.eventID(stream: stream.id, sequence: sequence),
            eventName: read.eventName, eventVersion: "1.1", eventSource: "aws:dynamodb",
            awsRegion: region,
            dynamodb: StreamRecordData(
                approximateCreationDateTime: Double(milliseconds / 1000), images: read.images,
                sequenceNumber: StreamNames.sequenceNumber(sequence), sizeBytes: read.sizeBytes, streamViewType: stream.viewType,
                approximateCreationDateTimeMilliseconds: form == .kinesis ? milliseconds : nil),
            userIdentity: read.byService ? StreamIdentity(principalId: "dynamodb.amazonaws.com", type: "Service") : nil)
    }

    /// The stream named by `arn`, or ResourceNotFoundException.
    func resolveStream(_ arn: String, in snapshot: StreamsSnapshot) throws(EddyError) -> StreamDefinition {
        try Self.validateStreamArn(arn, field: "streamArn")
        guard let stream = snapshot.stream(arn: arn, tableArn: self.arn(ofTable:)) else {
            throw .resourceNotFound("Requested resource not found: Stream: \(arn) not found")
        }
        return stream
    }

    private static func validatedLimit(_ limit: Int?, max: Int) throws(EddyError) -> Int {
        guard let limit else { return max }
        guard limit >= 1 else {
            throw TableValidation.constraint(value: "\(limit)", field: "limit", "Member must have value greater than or equal to 1")
        }
        guard limit <= max else {
            throw TableValidation.constraint(value: "\(limit)", field: "limit", "Member must have value less than or equal to \(max)")
        }
        return limit
    }

    private static func validateStreamArn(_ arn: String, field: String) throws(EddyError) {
        guard (37...1024).contains(arn.utf8.count) else {
            throw TableValidation.constraint(
                value: arn, field: field,
                arn.utf8.count < 37 ? "Member must have length greater than or equal to 37" : "Member must have length less than or equal to 1024")
        }
        guard StreamNames.parseArn(arn) != nil else {
            throw .validation("Invalid StreamArn: \(arn)")
        }
    }

    /// The shard whose children a ``ShardFilter`` asks for: its type and shard id are both required.
    private static func validatedParentShardId(_ filter: ShardFilter) throws(EddyError) -> String {
        guard filter.type != nil else {
            throw .validation("1 validation error detected: Value null at 'shardFilter.type' failed to satisfy constraint: Member must not be null")
        }
        guard let shardId = filter.shardId else {
            throw .validation(
                "1 validation error detected: Value null at 'shardFilter.shardId' failed to satisfy constraint: Member must not be null")
        }
        try validateShardId(shardId, field: "shardFilter.shardId")
        return shardId
    }

    private static func validateShardId(_ id: String, field: String) throws(EddyError) {
        guard (28...65).contains(id.utf8.count) else {
            throw TableValidation.constraint(
                value: id, field: field,
                id.utf8.count < 28 ? "Member must have length greater than or equal to 28" : "Member must have length less than or equal to 65")
        }
    }
}

/// What a shard iterator string carries: the stream (by ARN and id), the shard, the next sequence number to
/// read, and when the iterator was issued.
struct ShardIteratorToken: Equatable {
    var streamArn: String
    var stream: UInt64
    var shard: UInt32
    var position: UInt64
    var issuedMilliseconds: Int64

    var encoded: String {
        "\(streamArn)|\(stream)|\(shard)|\(position)|\(issuedMilliseconds)"
    }

    init(streamArn: String, stream: UInt64, shard: UInt32, position: UInt64, issuedMilliseconds: Int64) {
        self.streamArn = streamArn
        self.stream = stream
        self.shard = shard
        self.position = position
        self.issuedMilliseconds = issuedMilliseconds
    }

    init?(parsing text: String) {
        let parts = text.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 5, StreamNames.parseArn(String(parts[0])) != nil,
            let stream = UInt64(parts[1]), let shard = UInt32(parts[2]), let position = UInt64(parts[3]),
            let issued = Int64(parts[4])
        else { return nil }
        self.init(streamArn: String(parts[0]), stream: stream, shard: shard, position: position, issuedMilliseconds: issued)
    }
}

/// What a trigger handler receives of each record (see
/// ``TriggerRuntime/registerReportingFailures(name:configuration:onFailure:recordForm:target:handler:)``).
public enum StreamRecordForm: Sendable {
    /// As DynamoDB Streams returns it (GetRecords, the events of trigger handlers): the images the stream's
    /// view type keeps, the commit time in whole seconds.
    case streams
    /// As Kinesis Data Streams for DynamoDB carries it (the Kafka sink): both images that exist, whatever the
    /// stream's view type, and the commit time in milliseconds as well
    /// (``StreamRecordData/approximateCreationDateTimeMilliseconds``).
    case kinesis
}
