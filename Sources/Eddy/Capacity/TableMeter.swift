import CoreMetrics
import Synchronization

/// The capacity of one table and its global secondary indexes, and what requests consume of it: a token bucket
/// per table and per global index for reads and for writes, the limit of each partition key value, the
/// consumption and throttle events of the last minutes, and their metrics (``CapacityMetrics``).
///
/// Each ``ResolvedTable`` carries its table's meter, so that a request reaches it without a lookup; the
/// catalog keeps the meter while the table lives (``follow(_:tableArn:)`` after every change of its settings,
/// ``retire()`` once it is deleted). Operations call ``admit(_:partitionHash:index:countsRequest:)`` before
/// they do their work (a write checks every global index too: an index that cannot keep up throttles the
/// writes of its table), then ``spend(_:_:partitionHash:index:)`` with what they consumed: one lock each.
/// Without enforcement a request only pays the counting in ``spend(_:_:partitionHash:index:)``.
///
/// State lives in memory only: a database that opens starts every bucket full, with its whole burst.
final class TableMeter: Sendable {
    /// Whether requests are throttled (``Database/Configuration/throttlingEnabled``); what they consume is
    /// counted either way.
    let isEnforcing: Bool
    private let clock: any WallClock
    private let metricsFactory: any MetricsFactory
    private let state: Mutex<State>

    /// The table or one global index: its limit, buckets, recent minutes and metrics.
    private struct Resource: Sendable {
        var metered: MeteredResource
        var read: TokenBucket
        var write: TokenBucket
        var history: ConsumptionHistory
        let metrics: CapacityMetrics

        /// A resource whose buckets are full at `now`.
        init(_ metered: MeteredResource, tableName: String, factory: any MetricsFactory, now: Int64) {
            self.metered = metered
            let read = CapacityLedger.rate(of: metered.limit, .read)
            let write = CapacityLedger.rate(of: metered.limit, .write)
            self.read = TokenBucket(unitsPerSecond: read.unitsPerSecond, burstSeconds: read.burstSeconds, nowMilliseconds: now)
            self.write = TokenBucket(unitsPerSecond: write.unitsPerSecond, burstSeconds: write.burstSeconds, nowMilliseconds: now)
            history = ConsumptionHistory(nowMilliseconds: now)
            metrics = CapacityMetrics(table: tableName, index: metered.indexName, factory: factory)
            metrics.provision(metered.limit)
        }

        /// Takes `metered`'s limit from `now` on: new rates apply at once and keep what was saved, up to the new
        /// ceiling; a change of billing mode starts full buckets.
        mutating func follow(_ metered: MeteredResource, now: Int64) {
            let read = CapacityLedger.rate(of: metered.limit, .read)
            let write = CapacityLedger.rate(of: metered.limit, .write)
            if CapacityLedger.sameMode(self.metered.limit, metered.limit) {
                self.read.setRate(read.unitsPerSecond, atMilliseconds: now)
                self.write.setRate(write.unitsPerSecond, atMilliseconds: now)
            } else {
                self.read = TokenBucket(unitsPerSecond: read.unitsPerSecond, burstSeconds: read.burstSeconds, nowMilliseconds: now)
                self.write = TokenBucket(unitsPerSecond: write.unitsPerSecond, burstSeconds: write.burstSeconds, nowMilliseconds: now)
            }
            self.metered = metered
            metrics.provision(metered.limit)
        }

        func admits(_ operation: CapacityOperation, atMilliseconds now: Int64) -> Bool {
            switch operation {
            case .read: read.admits(atMilliseconds: now)
            case .write: write.admits(atMilliseconds: now)
            }
        }

        /// Counts `units` of `operation` consumed at `now`, and takes them from the bucket when `enforcing`.
        mutating func consume(_ units: Double, _ operation: CapacityOperation, enforcing: Bool, atMilliseconds now: Int64) {
            history.record(units, operation, atMilliseconds: now)
            metrics.consumed(units, operation)
            guard enforcing else { return }
            switch operation {
            case .read: read.debit(units, atMilliseconds: now)
            case .write: write.debit(units, atMilliseconds: now)
            }
        }

        /// Counts a request of `operation` this resource refused at `now`.
        mutating func throttle(_ operation: CapacityOperation, atMilliseconds now: Int64) {
            history.recordThrottle(operation, atMilliseconds: now)
            metrics.throttled(operation)
        }
    }

    private struct State: Sendable {
        var table: Resource
        /// In the order of the table's definition.
        var globalIndexes: [Resource]
        var partitions = PartitionKeyLimiter()

        /// The position of global index `name` in ``globalIndexes``.
        func position(of name: String) -> Int? {
            globalIndexes.firstIndex { $0.metered.indexName == name }
        }

        /// Checks the bucket of the table (`position` nil) or of a global index, and the partition key value
        /// with `partitionHash` there; counts and returns the refusal if there is nothing left.
        mutating func check(
            _ position: Int?, _ operation: CapacityOperation, partitionHash: UInt32?, countsRequest: Bool, atMilliseconds now: Int64
        ) -> EddyError? {
            let admitted = position.map { globalIndexes[$0].admits(operation, atMilliseconds: now) } ?? table.admits(operation, atMilliseconds: now)
            var keyRange = false
            if admitted {
                guard let partitionHash else { return nil }
                let id = position.map { globalIndexes[$0].metered.id } ?? table.metered.id
                guard !partitions.admits(PartitionKeyLimiter.Key(resourceId: id, partitionHash: partitionHash), atMilliseconds: now) else {
                    return nil
                }
                keyRange = true
            }
            if let position { globalIndexes[position].throttle(operation, atMilliseconds: now) } else { table.throttle(operation, atMilliseconds: now) }
            if countsRequest { table.metrics.throttledRequests.increment() }
            return CapacityLedger.refusal(position.map { globalIndexes[$0].metered } ?? table.metered, operation, keyRange: keyRange)
        }
    }

    /// The meter of a table as `definition` sets it (called `tableArn`), full.
    init(_ definition: TableDefinition, tableArn: String, isEnforcing: Bool, clock: any WallClock, metricsFactory: any MetricsFactory) {
        self.isEnforcing = isEnforcing
        self.clock = clock
        self.metricsFactory = metricsFactory
        let resources = CapacityLedger.resources(of: definition, tableArn: tableArn)
        let now = clock.nowMilliseconds()
        state = Mutex(
            State(
                table: Resource(resources.table, tableName: definition.name, factory: metricsFactory, now: now),
                globalIndexes: resources.globalIndexes.map { Resource($0, tableName: definition.name, factory: metricsFactory, now: now) }))
    }

    /// Takes the settings of `definition` (the table updated, an index created or deleted) into account from
    /// now on: a changed rate applies at once and keeps what was saved up to the new ceiling, a new index
    /// starts full, a deleted index is forgotten with its metrics.
    func follow(_ definition: TableDefinition, tableArn: String) {
        let resources = CapacityLedger.resources(of: definition, tableArn: tableArn)
        let now = clock.nowMilliseconds()
        state.withLock { [metricsFactory] state in
            state.table.follow(resources.table, now: now)
            var kept: [Resource] = []
            for index in resources.globalIndexes {
                // An index deleted and created again under its name is a new index.
                if let position = state.globalIndexes.firstIndex(where: { $0.metered.id == index.id }) {
                    var resource = state.globalIndexes.remove(at: position)
                    resource.follow(index, now: now)
                    kept.append(resource)
                } else {
                    kept.append(Resource(index, tableName: definition.name, factory: metricsFactory, now: now))
                }
            }
            for gone in state.globalIndexes { gone.metrics.destroy() }
            if !state.globalIndexes.isEmpty { state.partitions.forget(resources: Set(state.globalIndexes.map(\.metered.id))) }
            state.globalIndexes = kept
        }
    }

    /// Removes the metrics of the table and its indexes: the table was deleted.
    func retire() {
        state.withLock { state in
            state.table.metrics.destroy()
            for index in state.globalIndexes { index.metrics.destroy() }
        }
    }

    /// Admits a request that reads or writes the partition key value with `partitionHash` (nil: a request
    /// spanning partition keys, a Scan), through global index `index` when it reads one; a write needs every
    /// global index to have capacity left too. A refusal is a throttle event of the table or index that had
    /// nothing left and, if `countsRequest`, a throttled request of the table (a batch counts one only when
    /// all its items are refused: ``countThrottledRequest()``).
    ///
    /// - Throws: `ProvisionedThroughputExceededException` for a `PROVISIONED` table or index;
    ///   `ThrottlingException` for a `PAY_PER_REQUEST` one past its `OnDemandThroughput` or a partition key
    ///   value's limit; `RequestLimitExceeded` past the per-table quota.
    func admit(_ operation: CapacityOperation, partitionHash: UInt32?, index: String? = nil, countsRequest: Bool = true) throws(EddyError) {
        guard isEnforcing else { return }
        let now = clock.nowMilliseconds()
        let refusal: EddyError? = state.withLock { state in
            let position = index.flatMap(state.position(of:))
            if let refusal = state.check(position, operation, partitionHash: partitionHash, countsRequest: countsRequest, atMilliseconds: now) {
                return refusal
            }
            guard operation == .write else { return nil }
            for other in state.globalIndexes.indices where other != position {
                if let refusal = state.check(other, operation, partitionHash: nil, countsRequest: countsRequest, atMilliseconds: now) {
                    return refusal
                }
            }
            return nil
        }
        if let refusal { throw refusal }
    }

    /// Counts a throttled request of the table: a batch none of whose items was admitted.
    func countThrottledRequest() {
        state.withLock { $0.table.metrics.throttledRequests.increment() }
    }

    /// Counts what a request consumed, `charge`'s units of `operation`: the table's (with its local indexes')
    /// and each global index's, in their minutes and metrics and, when enforcing, in their buckets and in the
    /// partition key value with `partitionHash` of the table, or of global index `index` when the request
    /// read that index. A balance may go below zero; it refills before the next request is admitted.
    func spend(_ charge: CapacityCharge, _ operation: CapacityOperation, partitionHash: UInt32?, index: String? = nil) {
        func units(_ units: CapacityUnits) -> Double { operation == .read ? units.read : units.write }
        var tableUnits = units(charge.table)
        for local in charge.localIndexes.values { tableUnits += units(local) }
        let now = clock.nowMilliseconds()
        let enforcing = isEnforcing
        state.withLock { state in
            func chargeKey(_ id: UInt64, _ units: Double) {
                guard enforcing, let partitionHash else { return }
                state.partitions.charge(
                    PartitionKeyLimiter.Key(resourceId: id, partitionHash: partitionHash),
                    readUnits: operation == .read ? units : 0, writeUnits: operation == .write ? units : 0, atMilliseconds: now)
            }
            if tableUnits > 0 {
                state.table.consume(tableUnits, operation, enforcing: enforcing, atMilliseconds: now)
                if index == nil { chargeKey(state.table.metered.id, tableUnits) }
            }
            for (name, indexUnits) in charge.globalIndexes {
                let used = units(indexUnits)
                guard used > 0, let position = state.position(of: name) else { continue }
                state.globalIndexes[position].consume(used, operation, enforcing: enforcing, atMilliseconds: now)
                if name == index { chargeKey(state.globalIndexes[position].metered.id, used) }
            }
        }
    }

    /// The units `operation` consumed on the table (or its global index `indexName`) in each of the `count`
    /// minutes before `minute` (minutes since 1970 on the database clock), oldest first: nil for a minute the
    /// meter did not watch (before the table, the index or the database opened), so that a datapoint is never
    /// made up. Empty if the table has no such index. The meter keeps ``ConsumptionHistory/minutesMax`` minutes.
    func consumedUnits(indexName: String?, _ operation: CapacityOperation, minutes count: Int, before minute: Int64) -> [Double?] {
        state.withLock { state in
            guard let indexName else { return state.table.history.units(operation, minutes: count, before: minute) }
            return state.position(of: indexName).map { state.globalIndexes[$0].history.units(operation, minutes: count, before: minute) } ?? []
        }
    }

    /// The totals of the table (or its global index `indexName`) over the minute before the one in progress,
    /// and over the one in progress; zeros for an index the table does not have.
    func lastAndCurrentMinutes(indexName: String?) -> (last: CapacityMinute, current: CapacityMinute) {
        let now = clock.nowMilliseconds()
        return state.withLock { state in
            guard let indexName else { return state.table.history.lastAndCurrent(atMilliseconds: now) }
            return state.position(of: indexName).map { state.globalIndexes[$0].history.lastAndCurrent(atMilliseconds: now) }
                ?? (CapacityMinute(), CapacityMinute())
        }
    }
}
