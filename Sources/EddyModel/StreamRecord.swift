import Foundation

// The stream records of DynamoDB Streams, with the wire names of its JSON protocol
// (`DynamoDBStreams_20120810`). AWS names the outer record `Record` and its `dynamodb` member
// `StreamRecord`; here they are ``StreamRecord`` and ``StreamRecordData``.

/// What a table's stream records of each change: DynamoDB's `StreamViewType`.
public enum StreamViewType: String, Codable, Sendable, CaseIterable {
    /// Only the key attributes of the changed item.
    case keysOnly = "KEYS_ONLY"
    /// The item as it is after the change.
    case newImage = "NEW_IMAGE"
    /// The item as it was before the change.
    case oldImage = "OLD_IMAGE"
    /// Both the item before and after the change.
    case newAndOldImages = "NEW_AND_OLD_IMAGES"
}

/// The kind of change a stream record describes.
public enum StreamEventName: String, Codable, Sendable, CaseIterable {
    /// A new item was added.
    case insert = "INSERT"
    /// An existing item was changed.
    case modify = "MODIFY"
    /// An item was deleted.
    case remove = "REMOVE"
}

/// Who made a change, present only for changes made by the service itself (a TTL expiry).
public struct StreamIdentity: Codable, Sendable, Equatable {
    public var principalId: String
    public var type: String

    package init(principalId: String, type: String) {
        self.principalId = principalId
        self.type = type
    }

    enum CodingKeys: String, CodingKey {
        case principalId = "PrincipalId", type = "Type"
    }
}

/// One change of one item, as DynamoDB Streams' `GetRecords` returns it (AWS's `Record`).
public struct StreamRecord: Codable, Sendable, Equatable {
    /// Unique for each record.
    public var eventID: String
    public var eventName: StreamEventName
    /// The version of the record format, `1.1`.
    public var eventVersion: String
    /// Always `aws:dynamodb`.
    public var eventSource: String
    public var awsRegion: String
    public var dynamodb: StreamRecordData
    public var userIdentity: StreamIdentity?

    package init(
        eventID: String, eventName: StreamEventName, eventVersion: String, eventSource: String, awsRegion: String,
        dynamodb: StreamRecordData, userIdentity: StreamIdentity? = nil
    ) {
        self.eventID = eventID
        self.eventName = eventName
        self.eventVersion = eventVersion
        self.eventSource = eventSource
        self.awsRegion = awsRegion
        self.dynamodb = dynamodb
        self.userIdentity = userIdentity
    }
}

/// The item-level content of a stream record (AWS's `StreamRecord`).
public struct StreamRecordData: Codable, Sendable, Equatable {
    /// Seconds since 1970, rounded down to the second.
    public var approximateCreationDateTime: Double
    /// The key attributes of the changed item.
    public var keys: Item
    /// The item after the change, for `NEW_IMAGE` and `NEW_AND_OLD_IMAGES` streams, and in every record the
    /// Kafka sink reads (absent for REMOVE).
    public var newImage: Item?
    /// The item before the change, for `OLD_IMAGE` and `NEW_AND_OLD_IMAGES` streams, and in every record the
    /// Kafka sink reads (absent for INSERT).
    public var oldImage: Item?
    /// A decimal number, increasing within a shard.
    public var sequenceNumber: String
    /// The size of the keys and images, in DynamoDB's item-size bytes.
    public var sizeBytes: Int
    public var streamViewType: StreamViewType
    /// The commit time in milliseconds since 1970, for records read as Kinesis Data Streams for DynamoDB
    /// carries them (its `ApproximateCreationDateTime` is in milliseconds); nil otherwise. Not part of the
    /// JSON, whose `ApproximateCreationDateTime` stays DynamoDB Streams' seconds.
    public var approximateCreationDateTimeMilliseconds: Int64?

    package init(
        approximateCreationDateTime: Double, keys: Item, newImage: Item? = nil, oldImage: Item? = nil,
        sequenceNumber: String, sizeBytes: Int, streamViewType: StreamViewType,
        approximateCreationDateTimeMilliseconds: Int64? = nil
    ) {
        self.approximateCreationDateTime = approximateCreationDateTime
        self.keys = keys
        self.newImage = newImage
        self.oldImage = oldImage
        self.sequenceNumber = sequenceNumber
        self.sizeBytes = sizeBytes
        self.streamViewType = streamViewType
        self.approximateCreationDateTimeMilliseconds = approximateCreationDateTimeMilliseconds
    }

    enum CodingKeys: String, CodingKey {
        case approximateCreationDateTime = "ApproximateCreationDateTime", keys = "Keys", newImage = "NewImage"
        case oldImage = "OldImage", sequenceNumber = "SequenceNumber", sizeBytes = "SizeBytes"
        case streamViewType = "StreamViewType"
    }
}
