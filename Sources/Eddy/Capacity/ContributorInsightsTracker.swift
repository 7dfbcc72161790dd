import Synchronization

/// The heaviest keys of a stream of weighted keys, in bounded memory: the space-saving algorithm (Metwally,
/// Agrawal and El Abbadi, "Efficient Computation of Frequent and Top-k Elements in Data Streams", 2005).
///
/// At most `capacity` keys are counted. A new key arriving when all counters are taken replaces the key with
/// the smallest count and inherits that count, so a key's count overestimates its weight by at most the
/// smallest count, and every key heavier than `total / capacity` is kept. Eddy counts four times more keys
/// than it reports, which keeps the reported ones exact unless the traffic is spread very evenly.
struct SpaceSavingCounts<Key: Hashable & Sendable>: Sendable {
    let capacity: Int
    private(set) var counts: [Key: Double] = [:]

    init(capacity: Int) {
        precondition(capacity >= 1, "the summary counts some keys")
        self.capacity = capacity
    }

    mutating func add(_ key: Key, weight: Double) {
        if let count = counts[key] {
            counts[key] = count + weight
        } else if counts.count < capacity {
            counts[key] = weight
        } else if let smallest = counts.min(by: { $0.value < $1.value }) {
            counts.removeValue(forKey: smallest.key)
            counts[key] = smallest.value + weight
        }
    }
}

/// The keys of one rule over the minute in progress and the minute before, each a ``SpaceSavingCounts``:
/// what a report covers is the last one to two minutes, never older.
struct MinuteWindows<Key: Hashable & Sendable>: Sendable {
    private var minute: Int64
    private var current: SpaceSavingCounts<Key>
    private var previous: SpaceSavingCounts<Key>

    init(capacity: Int, minute: Int64) {
        self.minute = minute
        current = SpaceSavingCounts(capacity: capacity)
        previous = SpaceSavingCounts(capacity: capacity)
    }

    mutating func add(_ key: Key, weight: Double, minute now: Int64) {
        if now > minute {
            previous = now == minute + 1 ? current : SpaceSavingCounts(capacity: current.capacity)
            current = SpaceSavingCounts(capacity: current.capacity)
            minute = now
        }
        current.add(key, weight: weight)
    }

    /// The `count` heaviest keys of the minute `now` and the one before, heaviest first.
    func top(_ count: Int, minute now: Int64) -> [(key: Key, value: Double)] {
        var merged: [Key: Double] = [:]
        if minute >= now - 1 { merged.merge(current.counts, uniquingKeysWith: +) }
        if minute == now { merged.merge(previous.counts, uniquingKeysWith: +) }
        return merged.sorted { $0.value > $1.value }.prefix(count).map { (key: $0.key, value: $0.value) }
    }
}

/// The most accessed and most throttled keys of every table and global index with Contributor Insights
/// enabled (``Database/updateContributorInsights(_:)``), fed by the capacity checks of every item operation.
///
/// A resource is known here only while its Contributor Insights is enabled: requests to the others do no work
/// at all. Memory is bounded: ``Limits/contributorInsightsKeysTracked`` keys per rule and minute, four rules
/// per resource.
final class ContributorInsightsTracker: Sendable {
    /// A key of a rule: the partition key value, and the sort key value for the partition-and-sort-key rules.
    struct Key: Hashable, Sendable {
        var partitionKey: AttributeValue
        var sortKey: AttributeValue?
    }

    private struct Resource: Sendable {
        var mode: ContributorInsightsMode
        var rules: [ContributorInsightsRule: MinuteWindows<Key>]
    }

    private let clock: any WallClock
    private let resources = Mutex<[UInt64: Resource]>([:])

    init(clock: any WallClock) {
        self.clock = clock
    }

    /// Records a request on resource `id` (a table's or global index's) with Contributor Insights in `mode`:
    /// admitted with the capacity units it consumed (`throttled` false), or throttled (one count).
    func record(
        resource id: UInt64, mode: ContributorInsightsMode, hasSortKey: Bool, partitionKey: AttributeValue,
        sortKey: AttributeValue?, units: Double, throttled: Bool
    ) {
        guard throttled || mode == .accessedAndThrottledKeys else { return }
        let minute = ConsumptionHistory.minute(of: clock.nowMilliseconds())
        resources.withLock { resources in
            var resource = resources[id].flatMap { $0.mode == mode ? $0 : nil } ?? Resource(mode: mode, rules: [:])
            for rule in ContributorInsightsRule.rules(mode: mode, hasSortKey: hasSortKey) where rule.countsThrottles == throttled {
                if rule.hasSortKey && sortKey == nil { continue }
                let key = Key(partitionKey: partitionKey, sortKey: rule.hasSortKey ? sortKey : nil)
                var windows = resource.rules[rule] ?? MinuteWindows(capacity: Limits.contributorInsightsKeysTracked, minute: minute)
                windows.add(key, weight: throttled ? 1 : units, minute: minute)
                resource.rules[rule] = windows
            }
            resources[id] = resource
        }
    }

    /// The top keys of each rule of resource `id` in `mode` over the last minute, keyed by rule.
    func top(resource id: UInt64, mode: ContributorInsightsMode, hasSortKey: Bool) -> [(rule: ContributorInsightsRule, contributors: [ContributorInsightsContributor])] {
        let minute = ConsumptionHistory.minute(of: clock.nowMilliseconds())
        let resource = resources.withLock { $0[id] }
        return ContributorInsightsRule.rules(mode: mode, hasSortKey: hasSortKey).map { rule in
            let top = resource.flatMap { $0.mode == mode ? $0.rules[rule] : nil }?.top(Limits.contributorInsightsKeysReported, minute: minute) ?? []
            return (rule, top.map { ContributorInsightsContributor(partitionKey: $0.key.partitionKey, sortKey: $0.key.sortKey, value: $0.value) })
        }
    }

    /// Forgets what was kept for the resources `ids`: Contributor Insights disabled, or the table or index deleted.
    func forget(_ ids: [UInt64]) {
        resources.withLock { resources in
            for id in ids { resources.removeValue(forKey: id) }
        }
    }
}
