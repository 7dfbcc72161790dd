import Foundation

// The requests and responses of the DynamoDB Streams API, with the wire names of its JSON protocol
// (`DynamoDBStreams_20120810`). The records they carry, which trigger events carry too, are EddyModel's
// (`StreamRecord.swift`).

/// Whether a table has a stream, and what it records (DynamoDB's `StreamSpecification`).
public struct StreamSpecification: Codable, Sendable, Equatable {
    public var streamEnabled: Bool
    /// Required when ``streamEnabled`` is true; not allowed otherwise.
    public var streamViewType: StreamViewType?

    public init(streamEnabled: Bool, streamViewType: StreamViewType? = nil) {
        self.streamEnabled = streamEnabled
        self.streamViewType = streamViewType
    }

    enum CodingKeys: String, CodingKey {
        case streamEnabled = "StreamEnabled", streamViewType = "StreamViewType"
    }
}

/// The state of a stream (DynamoDB Streams' `StreamStatus`). Eddy enables and disables at once, so a stream
/// is reported `ENABLED` or `DISABLED`.
public enum StreamStatus: String, Codable, Sendable {
    case enabling = "ENABLING"
    case enabled = "ENABLED"
    case disabling = "DISABLING"
    case disabled = "DISABLED"
}

/// The request of ``Database/listStreams(_:)``.
public struct ListStreamsInput: Codable, Sendable {
    /// Only the streams of this table; every table's when absent.
    public var tableName: String?
    /// At most this many streams (1 to 100; 100 when absent).
    public var limit: Int?
    /// The stream after which the page starts (the previous page's ``ListStreamsOutput/lastEvaluatedStreamArn``).
    public var exclusiveStartStreamArn: String?

    public init(tableName: String? = nil, limit: Int? = nil, exclusiveStartStreamArn: String? = nil) {
        self.tableName = tableName
        self.limit = limit
        self.exclusiveStartStreamArn = exclusiveStartStreamArn
    }

    enum CodingKeys: String, CodingKey {
        case tableName = "TableName", limit = "Limit", exclusiveStartStreamArn = "ExclusiveStartStreamArn"
    }
}

/// One stream in a ``ListStreamsOutput``.
public struct StreamSummary: Codable, Sendable, Equatable {
    public var streamArn: String
    public var tableName: String
    /// The stream's creation time, unique among the table's streams (ISO 8601, milliseconds).
    public var streamLabel: String

    enum CodingKeys: String, CodingKey {
        case streamArn = "StreamArn", tableName = "TableName", streamLabel = "StreamLabel"
    }
}

/// A page of streams.
public struct ListStreamsOutput: Codable, Sendable, Equatable {
    public var streams: [StreamSummary]
    /// Present when more streams may follow: pass it as the next page's `exclusiveStartStreamArn`.
    public var lastEvaluatedStreamArn: String?

    enum CodingKeys: String, CodingKey {
        case streams = "Streams", lastEvaluatedStreamArn = "LastEvaluatedStreamArn"
    }
}

/// The request of ``Database/describeStream(_:)``.
public struct DescribeStreamInput: Codable, Sendable {
    public var streamArn: String
    /// At most this many shards (1 to 100; 100 when absent).
    public var limit: Int?
    /// The page of shards starts after this shard id, whether or not the shard still exists.
    public var exclusiveStartShardId: String?
    /// Describes only the shards the filter names (the children of one shard) instead of all.
    public var shardFilter: ShardFilter?

    public init(streamArn: String, limit: Int? = nil, exclusiveStartShardId: String? = nil, shardFilter: ShardFilter? = nil) {
        self.streamArn = streamArn
        self.limit = limit
        self.exclusiveStartShardId = exclusiveStartShardId
        self.shardFilter = shardFilter
    }

    enum CodingKeys: String, CodingKey {
        case streamArn = "StreamArn", limit = "Limit", exclusiveStartShardId = "ExclusiveStartShardId"
        case shardFilter = "ShardFilter"
    }
}

/// Which shards DescribeStream describes: DynamoDB Streams' `ShardFilter`.
///
/// ```swift
/// // A reader at the end of a closed shard finds the shards that continue it.
/// let children = try await db.describeStream(DescribeStreamInput(
///     streamArn: arn, shardFilter: ShardFilter(type: .childShards, shardId: closedShardId)))
/// ```
public struct ShardFilter: Codable, Sendable, Equatable {
    /// The kind of filter; required.
    public var type: ShardFilterType?
    /// The shard whose children are described; required with ``ShardFilterType/childShards``.
    public var shardId: String?

    public init(type: ShardFilterType?, shardId: String?) {
        self.type = type
        self.shardId = shardId
    }

    enum CodingKeys: String, CodingKey {
        case type = "Type", shardId = "ShardId"
    }
}

/// The kinds of ``ShardFilter``.
public enum ShardFilterType: String, Codable, Sendable, CaseIterable {
    /// The shards whose parent is the filter's shard.
    case childShards = "CHILD_SHARDS"
}

/// The sequence numbers a shard holds: from `startingSequenceNumber`, through `endingSequenceNumber` once
/// the shard is closed.
public struct SequenceNumberRange: Codable, Sendable, Equatable {
    public var startingSequenceNumber: String
    public var endingSequenceNumber: String?

    enum CodingKeys: String, CodingKey {
        case startingSequenceNumber = "StartingSequenceNumber", endingSequenceNumber = "EndingSequenceNumber"
    }
}

/// A shard of a stream. A closed shard (one with an ending sequence number) is succeeded by the shards
/// whose `parentShardId` names it.
public struct Shard: Codable, Sendable, Equatable {
    public var shardId: String
    public var sequenceNumberRange: SequenceNumberRange
    public var parentShardId: String?

    enum CodingKeys: String, CodingKey {
        case shardId = "ShardId", sequenceNumberRange = "SequenceNumberRange", parentShardId = "ParentShardId"
    }
}

/// A stream and a page of its shards, oldest first.
public struct StreamDescription: Codable, Sendable, Equatable {
    public var streamArn: String
    public var streamLabel: String
    public var streamStatus: StreamStatus
    public var streamViewType: StreamViewType
    /// Seconds since 1970.
    public var creationRequestDateTime: Double
    public var tableName: String
    public var keySchema: [KeySchemaElement]
    public var shards: [Shard]
    /// Present when more shards may follow: pass it as the next page's `exclusiveStartShardId`.
    public var lastEvaluatedShardId: String?

    enum CodingKeys: String, CodingKey {
        case streamArn = "StreamArn", streamLabel = "StreamLabel", streamStatus = "StreamStatus"
        case streamViewType = "StreamViewType", creationRequestDateTime = "CreationRequestDateTime"
        case tableName = "TableName", keySchema = "KeySchema", shards = "Shards"
        case lastEvaluatedShardId = "LastEvaluatedShardId"
    }
}

/// The response of ``Database/describeStream(_:)``.
public struct DescribeStreamOutput: Codable, Sendable, Equatable {
    public var streamDescription: StreamDescription

    enum CodingKeys: String, CodingKey {
        case streamDescription = "StreamDescription"
    }
}

/// Where a shard iterator starts reading.
public enum ShardIteratorType: String, Codable, Sendable, CaseIterable {
    /// At the oldest record not yet trimmed.
    case trimHorizon = "TRIM_HORIZON"
    /// After the newest record: only records committed from now on.
    case latest = "LATEST"
    /// At the record with the given sequence number.
    case atSequenceNumber = "AT_SEQUENCE_NUMBER"
    /// Just after the record with the given sequence number.
    case afterSequenceNumber = "AFTER_SEQUENCE_NUMBER"
}

/// The request of ``Database/getShardIterator(_:)``.
public struct GetShardIteratorInput: Codable, Sendable {
    public var streamArn: String
    public var shardId: String
    public var shardIteratorType: ShardIteratorType
    /// Required for `AT_SEQUENCE_NUMBER` and `AFTER_SEQUENCE_NUMBER`.
    public var sequenceNumber: String?

    public init(streamArn: String, shardId: String, shardIteratorType: ShardIteratorType, sequenceNumber: String? = nil) {
        self.streamArn = streamArn
        self.shardId = shardId
        self.shardIteratorType = shardIteratorType
        self.sequenceNumber = sequenceNumber
    }

    enum CodingKeys: String, CodingKey {
        case streamArn = "StreamArn", shardId = "ShardId", shardIteratorType = "ShardIteratorType"
        case sequenceNumber = "SequenceNumber"
    }
}

/// The response of ``Database/getShardIterator(_:)``.
public struct GetShardIteratorOutput: Codable, Sendable, Equatable {
    /// An opaque position in a shard, valid for 15 minutes.
    public var shardIterator: String?

    enum CodingKeys: String, CodingKey {
        case shardIterator = "ShardIterator"
    }
}

/// The request of ``Database/getRecords(_:)``.
public struct GetRecordsInput: Codable, Sendable {
    public var shardIterator: String
    /// At most this many records (1 to 1000; 1000 when absent).
    public var limit: Int?

    public init(shardIterator: String, limit: Int? = nil) {
        self.shardIterator = shardIterator
        self.limit = limit
    }

    enum CodingKeys: String, CodingKey {
        case shardIterator = "ShardIterator", limit = "Limit"
    }
}

/// The response of ``Database/getRecords(_:)``.
public struct GetRecordsOutput: Codable, Sendable, Equatable {
    public var records: [StreamRecord]
    /// Where the next call continues; nil once a closed shard has been read to its end.
    public var nextShardIterator: String?

    enum CodingKeys: String, CodingKey {
        case records = "Records", nextShardIterator = "NextShardIterator"
    }
}

extension GetRecordsOutput {
    /// Appends the output as the JSON its `Codable` conformance encodes (DynamoDB Streams' GetRecords
    /// response body), written with ``JSONWriter``: each record's keys and images are transcoded from the
    /// bytes the stream stored, never decoded into `Item`s.
    ///
    /// ```swift
    /// var json = JSONWriter(capacity: 64 * 1024)
    /// try await db.getRecords(GetRecordsInput(shardIterator: iterator)).write(to: &json)
    /// // json.bytes: {"Records":[{"eventID":"…",…}],"NextShardIterator":"…"}
    /// ```
    public func write(to json: inout JSONWriter) {
        json.literal("{\"Records\":")
        json.array(records) { record, json in record.write(to: &json) }
        if let nextShardIterator {
            json.literal(",\"NextShardIterator\":")
            json.string(nextShardIterator)
        }
        json.literal("}")
    }
}
