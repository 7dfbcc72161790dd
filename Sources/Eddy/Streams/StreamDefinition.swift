import Foundation

/// A shard as the catalog stores it.
///
/// A stream has a fixed number of slots (partition-hash buckets); each slot has one open shard at a time.
/// When a shard closes (its lifetime or record limit reached, or the stream disabled) its slot continues in
/// a child shard whose `parent` is the closed one.
struct ShardDefinition: Codable, Sendable, Equatable {
    /// Unique within the stream, increasing in creation order; part of every record key of the shard.
    var index: UInt32
    /// The partition-hash bucket whose records the shard holds.
    var slot: Int
    var parent: UInt32?
    /// The lowest sequence number the shard can hold.
    var startingSequence: UInt64
    /// Set when the shard is closed: no record of the shard has a higher sequence number.
    var endingSequence: UInt64?
    var createdMilliseconds: Int64
    var closedMilliseconds: Int64?

    var isOpen: Bool { endingSequence == nil }
}

/// A shard of a stream.
struct ShardRef: Hashable, Sendable {
    var stream: UInt64
    var index: UInt32
}

/// A stream as the catalog stores it (`stream/<id>` in the `catalog` key space, as JSON).
struct StreamDefinition: Codable, Sendable, Equatable {
    var id: UInt64
    var tableId: UInt64
    var tableName: String
    var keySchema: [KeySchemaElement]
    var label: String
    var viewType: StreamViewType
    var createdMilliseconds: Int64
    /// Set when the stream stops recording (disabled, or its table deleted); it stays readable until its
    /// records expire.
    var disabledMilliseconds: Int64?
    var slotCount: Int
    /// Every shard not yet expired, in index order (parents before children).
    var shards: [ShardDefinition]
    var nextShardIndex: UInt32

    var isEnabled: Bool { disabledMilliseconds == nil }

    func shard(_ index: UInt32) -> ShardDefinition? {
        shards.first { $0.index == index }
    }

    /// The position of shard `index` in ``shards``.
    func position(ofShard index: UInt32) -> Int? {
        shards.firstIndex { $0.index == index }
    }
}

/// The latest stream of a table, as its ``TableDefinition`` records it for DescribeTable.
struct LatestStream: Codable, Sendable, Equatable {
    var id: UInt64
    var label: String
    var viewType: StreamViewType
    var enabled: Bool
}

/// The names DynamoDB gives streams and shards, and their parsing.
enum StreamNames {
    /// `arn:aws:dynamodb:<region>:<account>:table/<table>/stream/<label>`.
    static func arn(tableArn: String, label: String) -> String {
        "\(tableArn)/stream/\(label)"
    }

    /// The table name and label of a stream ARN, or nil if `arn` is not one.
    static func parseArn(_ arn: String) -> (table: String, label: String)? {
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "arn", parts[2] == "dynamodb" else { return nil }
        let resource = parts[5].split(separator: "/", omittingEmptySubsequences: false)
        guard resource.count == 4, resource[0] == "table", resource[2] == "stream", !resource[1].isEmpty else { return nil }
        return (String(resource[1]), String(resource[3]))
    }

    /// A stream label: the creation time in ISO 8601 with milliseconds, as DynamoDB labels streams.
    static func label(milliseconds: Int64) -> String {
        let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let millis = Int(((milliseconds % 1000) + 1000) % 1000)
        func pad(_ value: Int?, _ width: Int) -> String {
            let digits = String(value ?? 0)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(parts.year, 4))-\(pad(parts.month, 2))-\(pad(parts.day, 2))T"
            + "\(pad(parts.hour, 2)):\(pad(parts.minute, 2)):\(pad(parts.second, 2)).\(pad(millis, 3))"
    }

    /// `shardId-<creation milliseconds, 20 digits>-<shard index, 8 hex digits>`.
    static func shardId(_ shard: ShardDefinition) -> String {
        let time = String(shard.createdMilliseconds)
        let hex = String(shard.index, radix: 16)
        return "shardId-" + String(repeating: "0", count: max(0, 20 - time.count)) + time + "-"
            + String(repeating: "0", count: max(0, 8 - hex.count)) + hex
    }

    /// The shard index named by a shard id, or nil if `id` is not one of Eddy's shard ids.
    static func shardIndex(of id: String) -> UInt32? {
        let parts = id.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "shardId", parts[1].count == 20, parts[2].count == 8,
            parts[1].allSatisfy(\.isASCIIDigit)
        else { return nil }
        return UInt32(parts[2], radix: 16)
    }

    /// A sequence number as DynamoDB writes it: a decimal string of at least 21 digits.
    static func sequenceNumber(_ value: UInt64) -> String {
        // UInt64 has at most 20 digits: 21 always holds it, zero-padded on the left.
        String(unsafeUninitializedCapacity: 21) { buffer in
            var rest = value
            for index in stride(from: 20, through: 0, by: -1) {
                buffer[index] = UInt8(48 + rest % 10)
                rest /= 10
            }
            return 21
        }
    }

    /// The value of a sequence number string, or nil if it is not one (21 to 40 decimal digits).
    static func parseSequenceNumber(_ text: String) -> UInt64? {
        guard (21...40).contains(text.utf8.count), text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        let significant = text.drop { $0 == "0" }
        return significant.isEmpty ? 0 : UInt64(significant)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
