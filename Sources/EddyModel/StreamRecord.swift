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

    /// Appends the record as its `Codable` conformance encodes it (GetRecords' JSON), its keys and images
    /// transcoded from the stored bytes when it has them; with `eventSourceARN`, as a ``TriggerEventRecord``.
    package func write(to json: inout JSONWriter, eventSourceARN: String? = nil) {
        json.literal("{\"eventID\":")
        json.string(eventID)
        json.literal(",\"eventName\":")
        json.string(eventName.rawValue)
        json.literal(",\"eventVersion\":")
        json.string(eventVersion)
        json.literal(",\"eventSource\":")
        json.string(eventSource)
        json.literal(",\"awsRegion\":")
        json.string(awsRegion)
        json.literal(",\"dynamodb\":")
        dynamodb.write(to: &json)
        if let identity = userIdentity {
            json.literal(",\"userIdentity\":{\"PrincipalId\":")
            json.string(identity.principalId)
            json.literal(",\"Type\":")
            json.string(identity.type)
            json.literal("}")
        }
        if let eventSourceARN {
            json.literal(",\"eventSourceARN\":")
            json.string(eventSourceARN)
        }
        json.literal("}")
    }
}

/// The item-level content of a stream record (AWS's `StreamRecord`).
///
/// A record read from a stream keeps its keys and images as the bytes the database stored until someone asks
/// for them: ``keys``, ``newImage`` and ``oldImage`` decode an image the first time they are read (each image
/// at most once per record, whichever copy of the record reads it), and the JSON writers of Eddy (GetRecords,
/// ``TriggerEvent/json``, the Kafka sink) write an image's JSON straight from its bytes without decoding it.
/// Setting an image stores the decoded values from then on. Either way the record reads, compares and encodes
/// the same:
///
/// ```swift
/// for record in page.records where record.eventName == .modify {
///     print(record.dynamodb.newImage?["status"] ?? .null) // decodes the new image, not the old one
/// }
/// ```
public struct StreamRecordData: Codable, Sendable, Equatable {
    /// Seconds since 1970, rounded down to the second.
    public var approximateCreationDateTime: Double
    /// The key attributes of the changed item.
    public var keys: Item {
        get {
            switch images {
            case .decoded(let keys, _, _): keys
            case .encoded(let encoded): encoded.decoded(.keys) ?? [:]
            }
        }
        set { images = .decoded(keys: newValue, newImage: newImage, oldImage: oldImage) }
    }
    /// The item after the change, for `NEW_IMAGE` and `NEW_AND_OLD_IMAGES` streams, and in every record the
    /// Kafka sink reads (absent for REMOVE).
    public var newImage: Item? {
        get {
            switch images {
            case .decoded(_, let newImage, _): newImage
            case .encoded(let encoded): encoded.decoded(.newImage)
            }
        }
        set { images = .decoded(keys: keys, newImage: newValue, oldImage: oldImage) }
    }
    /// The item before the change, for `OLD_IMAGE` and `NEW_AND_OLD_IMAGES` streams, and in every record the
    /// Kafka sink reads (absent for INSERT).
    public var oldImage: Item? {
        get {
            switch images {
            case .decoded(_, _, let oldImage): oldImage
            case .encoded(let encoded): encoded.decoded(.oldImage)
            }
        }
        set { images = .decoded(keys: keys, newImage: newImage, oldImage: newValue) }
    }
    /// A decimal number, increasing within a shard.
    public var sequenceNumber: String
    /// The size of the keys and images, in DynamoDB's item-size bytes.
    public var sizeBytes: Int
    public var streamViewType: StreamViewType
    /// The commit time in milliseconds since 1970, for records read as Kinesis Data Streams for DynamoDB
    /// carries them (its `ApproximateCreationDateTime` is in milliseconds); nil otherwise. Not part of the
    /// JSON, whose `ApproximateCreationDateTime` stays DynamoDB Streams' seconds.
    public var approximateCreationDateTimeMilliseconds: Int64?

    private var images: Images

    /// The keys and images: values, or the stored bytes they decode from.
    private enum Images: Sendable {
        case decoded(keys: Item, newImage: Item?, oldImage: Item?)
        case encoded(EncodedStreamImages)
    }

    package init(
        approximateCreationDateTime: Double, keys: Item, newImage: Item? = nil, oldImage: Item? = nil,
        sequenceNumber: String, sizeBytes: Int, streamViewType: StreamViewType,
        approximateCreationDateTimeMilliseconds: Int64? = nil
    ) {
        self.init(
            approximateCreationDateTime: approximateCreationDateTime,
            images: .decoded(keys: keys, newImage: newImage, oldImage: oldImage), sequenceNumber: sequenceNumber,
            sizeBytes: sizeBytes, streamViewType: streamViewType,
            approximateCreationDateTimeMilliseconds: approximateCreationDateTimeMilliseconds)
    }

    /// A record whose keys and images stay `images`' bytes until they are asked for.
    package init(
        approximateCreationDateTime: Double, images: EncodedStreamImages, sequenceNumber: String, sizeBytes: Int,
        streamViewType: StreamViewType, approximateCreationDateTimeMilliseconds: Int64? = nil
    ) {
        self.init(
            approximateCreationDateTime: approximateCreationDateTime, images: .encoded(images),
            sequenceNumber: sequenceNumber, sizeBytes: sizeBytes, streamViewType: streamViewType,
            approximateCreationDateTimeMilliseconds: approximateCreationDateTimeMilliseconds)
    }

    private init(
        approximateCreationDateTime: Double, images: Images, sequenceNumber: String, sizeBytes: Int,
        streamViewType: StreamViewType, approximateCreationDateTimeMilliseconds: Int64?
    ) {
        self.approximateCreationDateTime = approximateCreationDateTime
        self.images = images
        self.sequenceNumber = sequenceNumber
        self.sizeBytes = sizeBytes
        self.streamViewType = streamViewType
        self.approximateCreationDateTimeMilliseconds = approximateCreationDateTimeMilliseconds
    }

    /// The stored bytes of the keys and images, while no setter has replaced them with values.
    package var encodedImages: EncodedStreamImages? {
        if case .encoded(let encoded) = images { encoded } else { nil }
    }

    /// Whether the record carries `image` (the keys always), without decoding it.
    package func carries(_ image: StreamImage) -> Bool {
        switch images {
        case .decoded(_, let newImage, let oldImage):
            switch image {
            case .keys: true
            case .newImage: newImage != nil
            case .oldImage: oldImage != nil
            }
        case .encoded(let encoded): encoded.range(of: image) != nil
        }
    }

    /// Appends `image` as JSON of `style` as ``JSONWriter/item(_:)`` or ``JSONWriter/plainItem(_:)`` does (the
    /// attributes in any order), transcoded from the stored bytes when the record has them; `{}` when the
    /// record does not carry it.
    package func write(_ image: StreamImage, style: ItemJSONStyle = .typed, to json: inout JSONWriter) {
        switch images {
        case .decoded(let keys, let newImage, let oldImage):
            let item: Item
            switch image {
            case .keys: item = keys
            case .newImage: item = newImage ?? [:]
            case .oldImage: item = oldImage ?? [:]
            }
            switch style {
            case .typed: json.item(item)
            case .plain: json.plainItem(item)
            }
        case .encoded(let encoded): encoded.write(image, style: style, to: &json)
        }
    }

    /// The attribute `name` of `image`, decoding that attribute alone when the record has the stored bytes.
    package func attribute(_ name: String, of image: StreamImage) -> AttributeValue? {
        switch images {
        case .decoded(let keys, let newImage, let oldImage):
            switch image {
            case .keys: keys[name]
            case .newImage: newImage?[name]
            case .oldImage: oldImage?[name]
            }
        case .encoded(let encoded): encoded.attribute(name, of: image)
        }
    }

    /// Appends the record as its `Codable` conformance encodes it: `{"ApproximateCreationDateTime":…,"Keys":…}`.
    package func write(to json: inout JSONWriter) {
        json.literal("{\"ApproximateCreationDateTime\":")
        json.number(approximateCreationDateTime)
        json.literal(",\"Keys\":")
        write(.keys, to: &json)
        if carries(.newImage) {
            json.literal(",\"NewImage\":")
            write(.newImage, to: &json)
        }
        if carries(.oldImage) {
            json.literal(",\"OldImage\":")
            write(.oldImage, to: &json)
        }
        json.literal(",\"SequenceNumber\":")
        json.string(sequenceNumber)
        json.literal(",\"SizeBytes\":")
        json.integer(Int64(sizeBytes))
        json.literal(",\"StreamViewType\":")
        json.string(streamViewType.rawValue)
        json.literal("}")
    }

    /// Equal fields and equal keys and images; two records holding the same stored bytes are equal without
    /// decoding them.
    public static func == (lhs: StreamRecordData, rhs: StreamRecordData) -> Bool {
        guard lhs.approximateCreationDateTime == rhs.approximateCreationDateTime, lhs.sequenceNumber == rhs.sequenceNumber,
            lhs.sizeBytes == rhs.sizeBytes, lhs.streamViewType == rhs.streamViewType,
            lhs.approximateCreationDateTimeMilliseconds == rhs.approximateCreationDateTimeMilliseconds
        else { return false }
        if let left = lhs.encodedImages, let right = rhs.encodedImages, left.hasSameBytes(as: right) { return true }
        return lhs.keys == rhs.keys && lhs.newImage == rhs.newImage && lhs.oldImage == rhs.oldImage
    }

    enum CodingKeys: String, CodingKey {
        case approximateCreationDateTime = "ApproximateCreationDateTime", keys = "Keys", newImage = "NewImage"
        case oldImage = "OldImage", sequenceNumber = "SequenceNumber", sizeBytes = "SizeBytes"
        case streamViewType = "StreamViewType"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            approximateCreationDateTime: try container.decode(Double.self, forKey: .approximateCreationDateTime),
            keys: try container.decode(Item.self, forKey: .keys),
            newImage: try container.decodeIfPresent(Item.self, forKey: .newImage),
            oldImage: try container.decodeIfPresent(Item.self, forKey: .oldImage),
            sequenceNumber: try container.decode(String.self, forKey: .sequenceNumber),
            sizeBytes: try container.decode(Int.self, forKey: .sizeBytes),
            streamViewType: try container.decode(StreamViewType.self, forKey: .streamViewType))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(approximateCreationDateTime, forKey: .approximateCreationDateTime)
        try container.encode(keys, forKey: .keys)
        try container.encodeIfPresent(newImage, forKey: .newImage)
        try container.encodeIfPresent(oldImage, forKey: .oldImage)
        try container.encode(sequenceNumber, forKey: .sequenceNumber)
        try container.encode(sizeBytes, forKey: .sizeBytes)
        try container.encode(streamViewType, forKey: .streamViewType)
    }
}
