import EddyStorage
import Foundation
import Synchronization

/// One of the four capacities of a DynamoDB table or global index that Application Auto Scaling scales.
enum ScalableDimension: String, Sendable, CaseIterable {
    case tableRead = "dynamodb:table:ReadCapacityUnits"
    case tableWrite = "dynamodb:table:WriteCapacityUnits"
    case indexRead = "dynamodb:index:ReadCapacityUnits"
    case indexWrite = "dynamodb:index:WriteCapacityUnits"

    var operation: CapacityOperation {
        switch self {
        case .tableRead, .indexRead: .read
        case .tableWrite, .indexWrite: .write
        }
    }

    var isIndex: Bool { self == .indexRead || self == .indexWrite }

    /// The predefined metric that follows this capacity.
    var metricType: String {
        operation == .read ? "DynamoDBReadCapacityUtilization" : "DynamoDBWriteCapacityUtilization"
    }

    /// `read` or `write`, as activity descriptions name the capacity.
    var unitsWord: String { operation == .read ? "read" : "write" }
}

/// A scalable target's identity: a table or global index (`table/T`, `table/T/index/I`) and a dimension.
struct ScalableTargetKey: Sendable, Hashable, Comparable {
    var resourceId: String
    var dimension: ScalableDimension

    /// The table the resource names.
    var tableName: String { String(resourceId.split(separator: "/", omittingEmptySubsequences: false)[1]) }

    /// The index the resource names; nil for a table.
    var indexName: String? {
        let parts = resourceId.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == 4 ? String(parts[3]) : nil
    }

    static func < (one: ScalableTargetKey, other: ScalableTargetKey) -> Bool {
        (one.resourceId, one.dimension.rawValue) < (other.resourceId, other.dimension.rawValue)
    }

    /// The key of `resourceId` and `dimension` in namespace `namespace`.
    ///
    /// - Throws: `ValidationException` for another namespace, another dimension, or a resource id that is
    ///   not `table/T` for a table dimension or `table/T/index/I` for an index dimension.
    static func validated(namespace: String, resourceId: String, dimension: String) throws(EddyError) -> ScalableTargetKey {
        try AutoScalingValidation.validateNamespace(namespace)
        try AutoScalingValidation.validateLength(resourceId, field: "resourceId", max: AutoScalingLimits.resourceIdLengthMax)
        try AutoScalingValidation.validateLength(dimension, field: "scalableDimension", max: AutoScalingLimits.resourceIdLengthMax)
        let parts = resourceId.split(separator: "/", omittingEmptySubsequences: false)
        guard let dimension = ScalableDimension(rawValue: dimension), parts.first == "table",
            dimension.isIndex ? parts.count == 4 && parts[2] == "index" : parts.count == 2,
            !parts.dropFirst().contains(where: \.isEmpty)
        else { throw .validation(AutoScalingValidation.unsupported) }
        return ScalableTargetKey(resourceId: resourceId, dimension: dimension)
    }
}

/// A target tracking policy as it is stored.
struct ScalingPolicyRecord: Codable, Sendable, Equatable {
    var name: String
    /// The policy's id in its ARN and in its alarms' names.
    var id: String
    var creationTime: Double
    var configuration: TargetTrackingScalingPolicyConfiguration
}

/// A scalable target as it is stored, with its policies.
struct ScalableTargetRecord: Codable, Sendable, Equatable {
    var resourceId: String
    var scalableDimension: String
    var minCapacity: Int64
    var maxCapacity: Int64
    var roleARN: String
    var creationTime: Double
    var suspendedState: SuspendedState
    /// The target's id in its ARN.
    var id: String
    var policies: [ScalingPolicyRecord]

    var key: ScalableTargetKey {
        ScalableTargetKey(resourceId: resourceId, dimension: ScalableDimension(rawValue: scalableDimension)!)
    }
}

/// The scalable targets of a database with their policies, kept in the `catalog` key space and cached in
/// memory, and the scaling activities of the running process.
///
/// Layout: `scalable-target/<resource id> <dimension>` → the ``ScalableTargetRecord`` as JSON (a resource id
/// holds no space). A target is written under the catalog lock, in a batch of its own or in the batch that
/// deletes its table or index. Activities live in memory only, the newest ``AutoScalingLimits/activitiesMax``.
final class ScalableTargets: Sendable {
    private struct State: Sendable {
        var targets: [ScalableTargetKey: ScalableTargetRecord]
        /// Newest first.
        var activities: [ScalingActivity] = []
        /// When each target last scaled out, and last scaled either way (milliseconds), for cooldowns.
        var lastScaledOut: [ScalableTargetKey: Int64] = [:]
        var lastScaled: [ScalableTargetKey: Int64] = [:]
    }

    private let state: Mutex<State>
    private static let prefix = Array("scalable-target/".utf8)

    /// Reads the targets from `store`.
    init(store: any OrderedKeyValueStore) throws(EddyError) {
        var targets: [ScalableTargetKey: ScalableTargetRecord] = [:]
        do {
            let cursor = try store.scan(in: .catalog, from: Self.prefix, to: Self.prefix.prefixSuccessor, direction: .forward, snapshot: nil)
            while let (_, value) = try cursor.next() {
                let record = try JSONDecoder().decode(ScalableTargetRecord.self, from: Data(value))
                targets[record.key] = record
            }
        } catch let error as StorageError {
            throw .internalServerError("Cannot read the scalable targets: \(error.message)")
        } catch {
            throw .internalServerError("The scalable targets are damaged: \(error)")
        }
        state = Mutex(State(targets: targets))
    }

    func target(_ key: ScalableTargetKey) -> ScalableTargetRecord? {
        state.withLock { $0.targets[key] }
    }

    /// Every target, in the order of resource id and dimension.
    func all() -> [ScalableTargetRecord] {
        state.withLock { $0.targets.values.sorted { $0.key < $1.key } }
    }

    /// The targets of table `name` and of its indexes.
    func targets(ofTable name: String) -> [ScalableTargetKey] {
        state.withLock { state in
            state.targets.keys.filter { $0.tableName == name }.sorted()
        }
    }

    /// Adds the storage of `record` to `batch`.
    func store(_ record: ScalableTargetRecord, into batch: inout StorageBatch) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        batch.put(Self.storageKey(record.key), Array(try! encoder.encode(record)), in: .catalog)
    }

    /// Adds the removal of `key` to `batch`.
    func remove(_ key: ScalableTargetKey, into batch: inout StorageBatch) {
        batch.delete(Self.storageKey(key), in: .catalog)
    }

    /// Records in memory what a committed batch stored.
    func didStore(_ record: ScalableTargetRecord) {
        state.withLock { $0.targets[record.key] = record }
    }

    /// Records in memory what a committed batch removed.
    func didRemove(_ keys: [ScalableTargetKey]) {
        state.withLock { state in
            for key in keys {
                state.targets.removeValue(forKey: key)
                state.lastScaled.removeValue(forKey: key)
                state.lastScaledOut.removeValue(forKey: key)
            }
        }
    }

    /// Records a scaling activity.
    func record(_ activity: ScalingActivity) {
        state.withLock { state in
            state.activities.insert(activity, at: 0)
            if state.activities.count > AutoScalingLimits.activitiesMax { state.activities.removeLast() }
        }
    }

    /// Records that `key`'s capacity changed at `milliseconds`, up (`out`) or down.
    func didScale(_ key: ScalableTargetKey, out: Bool, atMilliseconds milliseconds: Int64) {
        state.withLock { state in
            state.lastScaled[key] = milliseconds
            if out { state.lastScaledOut[key] = milliseconds }
        }
    }

    /// When `key` last scaled out, and last scaled either way, in milliseconds.
    func lastScaling(_ key: ScalableTargetKey) -> (out: Int64?, any: Int64?) {
        state.withLock { ($0.lastScaledOut[key], $0.lastScaled[key]) }
    }

    /// The activities, newest first.
    func activities() -> [ScalingActivity] {
        state.withLock { $0.activities }
    }

    private static func storageKey(_ key: ScalableTargetKey) -> [UInt8] {
        prefix + Array("\(key.resourceId) \(key.dimension.rawValue)".utf8)
    }
}

/// Application Auto Scaling's limits that Eddy applies.
enum AutoScalingLimits {
    /// The longest resource id and scalable dimension.
    static let resourceIdLengthMax = 1600
    /// The longest policy name.
    static let policyNameLengthMax = 256
    /// The largest page of the Describe operations, and its size when `MaxResults` is absent.
    static let pageSizeMax = 50
    /// DynamoDB's range of target utilization, in percent (Developer Guide, "Managing throughput capacity
    /// automatically with DynamoDB auto scaling").
    static let targetValueRange: ClosedRange<Double> = 20...90
    /// How many scaling activities a database keeps in memory.
    static let activitiesMax = 1000
    /// Consecutive one-minute datapoints above the target before a scale-out.
    static let scaleOutDatapoints = 2
    /// Consecutive one-minute datapoints below the target before a scale-in.
    static let scaleInDatapoints = 15
    /// The longest cooldown: a year, in seconds.
    static let cooldownSecondsMax = 31_536_000
}

/// Application Auto Scaling's validation of requests, with its messages.
enum AutoScalingValidation {
    static let unsupported = "Unsupported service namespace, resource type or scalable dimension"

    static func validateNamespace(_ namespace: String) throws(EddyError) {
        try validateLength(namespace, field: "serviceNamespace", max: 32)
        guard namespace == "dynamodb" else { throw .validation(unsupported) }
    }

    static func validateLength(_ value: String, field: String, max: Int) throws(EddyError) {
        guard !value.isEmpty else {
            throw TableValidation.constraint(value: value, field: field, "Member must have length greater than or equal to 1")
        }
        guard value.count <= max else {
            throw TableValidation.constraint(value: value, field: field, "Member must have length less than or equal to \(max)")
        }
    }

    /// The page size of `maxResults`.
    static func pageSize(_ maxResults: Int?) throws(EddyError) -> Int {
        guard let maxResults else { return AutoScalingLimits.pageSizeMax }
        guard maxResults >= 0 else {
            throw TableValidation.constraint(value: "\(maxResults)", field: "maxResults", "Member must have value greater than or equal to 0")
        }
        guard maxResults <= AutoScalingLimits.pageSizeMax else {
            throw TableValidation.constraint(
                value: "\(maxResults)", field: "maxResults", "Member must have value less than or equal to \(AutoScalingLimits.pageSizeMax)")
        }
        return maxResults == 0 ? AutoScalingLimits.pageSizeMax : maxResults
    }

    /// The page of `items` that `nextToken` (the count of items the previous pages gave) starts, `size` long,
    /// and the token of the next page.
    static func page<Item>(_ items: [Item], size: Int, nextToken: String?) throws(EddyError) -> (items: [Item], nextToken: String?) {
        var start = 0
        if let nextToken {
            guard let offset = Int(nextToken), offset >= 0, offset <= items.count else { throw .invalidNextToken("Invalid token") }
            start = offset
        }
        let end = min(items.count, start + size)
        return (Array(items[start..<end]), end < items.count ? String(end) : nil)
    }
}
