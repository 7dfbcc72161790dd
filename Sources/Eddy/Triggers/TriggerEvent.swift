/// What a trigger handler receives: a batch of stream records in the JSON shape AWS Lambda delivers for
/// DynamoDB streams (`{"Records":[…]}`).
public struct TriggerEvent: Codable, Sendable, Equatable {
    public var records: [TriggerEventRecord]

    public init(records: [TriggerEventRecord]) {
        self.records = records
    }

    enum CodingKeys: String, CodingKey {
        case records = "Records"
    }
}

/// One record of a ``TriggerEvent``: the stream record's fields and the ARN of the stream it came from.
public struct TriggerEventRecord: Codable, Sendable, Equatable {
    public var eventID: String
    public var eventName: StreamEventName
    public var eventVersion: String
    public var eventSource: String
    public var awsRegion: String
    public var dynamodb: StreamRecordData
    public var userIdentity: StreamIdentity?
    /// The ARN of the stream.
    public var eventSourceARN: String

    /// `record`, read from the stream `streamArn`.
    public init(_ record: StreamRecord, streamArn: String) {
        eventID = record.eventID
        eventName = record.eventName
        eventVersion = record.eventVersion
        eventSource = record.eventSource
        awsRegion = record.awsRegion
        dynamodb = record.dynamodb
        userIdentity = record.userIdentity
        eventSourceARN = streamArn
    }
}
