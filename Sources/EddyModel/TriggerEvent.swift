import Foundation

/// What a trigger handler receives: a batch of stream records in the JSON shape AWS Lambda delivers for
/// DynamoDB streams (`{"Records":[…]}`).
///
/// With a tumbling window (`TumblingWindowInSeconds`), the event also carries the window, the state the
/// handler returned for it last time, the shard, and whether this is the window's final call, as Lambda's
/// `DynamodbTimeWindowEvent` does; those fields are nil otherwise.
public struct TriggerEvent: Codable, Sendable, Equatable {
    public var records: [TriggerEventRecord]
    /// The window every record of the event belongs to.
    public var window: TriggerWindow?
    /// The state the handler returned for the window so far (empty at the window's first call).
    public var state: [String: String]?
    public var shardId: String?
    /// The ARN of the stream.
    public var eventSourceARN: String?
    /// The window is over: the event has no records, and the handler acts on the aggregated `state`.
    public var isFinalInvokeForWindow: Bool?
    /// The state grew past 1 MB, so the window ended early; the window's next call starts with empty state.
    public var isWindowTerminatedEarly: Bool?
    /// The stream shard the records were read from, whether or not the event has a window (not part of the
    /// JSON: Lambda's event has the shard only with a window).
    public var sourceShardId: String?
    /// Set when the records are items of the mapping's initial snapshot (`Snapshot` in its configuration),
    /// INSERT records of the table's items as they were when the mapping began, rather than changes read from
    /// the stream (not part of the JSON: Lambda has no snapshots).
    public var snapshot: TriggerSnapshotBatch?
    /// The id of this call (a lowercase UUID), as Lambda gives each invocation a request id; an on-failure
    /// record names the last call that had its records (not part of the JSON, as in Lambda, where it is the
    /// context's).
    public var requestId: String?

    public init(records: [TriggerEventRecord]) {
        self.records = records
    }

    enum CodingKeys: String, CodingKey {
        case records = "Records"
        case window, state, shardId, eventSourceARN, isFinalInvokeForWindow, isWindowTerminatedEarly
    }

    /// The event as the JSON text Lambda passes a function: `{"Records":[…]}` (and the window fields, if
    /// any), for handlers that work on JSON rather than on the typed values.
    public var json: Data {
        Data(jsonBytes)
    }

    /// ``json`` as bytes, written straight with ``JSONWriter`` (decoded, it equals the event, as the `Codable`
    /// conformance's JSON does, at a small part of `JSONEncoder`'s cost: a function gets one per batch).
    public var jsonBytes: [UInt8] {
        var json = JSONWriter(capacity: 512 + records.reduce(0) { $0 + 300 + 2 * $1.dynamodb.sizeBytes })
        json.literal("{\"Records\":")
        json.array(records) { record, json in record.write(to: &json) }
        if let window {
            json.literal(",\"window\":{\"start\":")
            json.string(window.start)
            json.literal(",\"end\":")
            json.string(window.end)
            json.literal("}")
        }
        if let state {
            json.literal(",\"state\":{")
            for (index, (key, value)) in state.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { json.literal(",") }
                json.string(key)
                json.literal(":")
                json.string(value)
            }
            json.literal("}")
        }
        if let shardId {
            json.literal(",\"shardId\":")
            json.string(shardId)
        }
        if let eventSourceARN {
            json.literal(",\"eventSourceARN\":")
            json.string(eventSourceARN)
        }
        if let isFinalInvokeForWindow {
            json.literal(",\"isFinalInvokeForWindow\":")
            json.boolean(isFinalInvokeForWindow)
        }
        if let isWindowTerminatedEarly {
            json.literal(",\"isWindowTerminatedEarly\":")
            json.boolean(isWindowTerminatedEarly)
        }
        json.literal("}")
        return json.bytes
    }
}

/// A batch of a trigger mapping's initial snapshot (see ``TriggerEvent/snapshot``).
public struct TriggerSnapshotBatch: Sendable, Equatable {
    /// The batch ends the snapshot: its last record is the table's last item, and the records that follow are
    /// the stream's.
    public var isLast: Bool

    public init(isLast: Bool) {
        self.isLast = isLast
    }
}

extension TriggerEventRecord {
    /// Writes the record as its `Codable` conformance does.
    func write(to json: inout JSONWriter) {
        let record = StreamRecord(
            eventID: eventID, eventName: eventName, eventVersion: eventVersion, eventSource: eventSource, awsRegion: awsRegion,
            dynamodb: dynamodb, userIdentity: userIdentity)
        record.write(to: &json, eventSourceARN: eventSourceARN)
    }
}

/// A tumbling window: records whose `ApproximateCreationDateTime` falls in `[start, end)`; windows are
/// aligned on multiples of their length since 1970.
public struct TriggerWindow: Codable, Sendable, Equatable {
    /// ISO 8601, e.g. `2026-11-25T18:00:00Z`.
    public var start: String
    public var end: String

    package init(start: String, end: String) {
        self.start = start
        self.end = end
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
