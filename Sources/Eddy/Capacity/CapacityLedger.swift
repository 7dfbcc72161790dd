import Synchronization

/// Whether a request reads or writes: each table and global index has a bucket for each.
enum CapacityOperation: Sendable {
    case read, write
}

/// The throughput limit of one table or global secondary index, as its definition sets it.
enum ThroughputLimit: Sendable, Equatable {
    /// A `PROVISIONED` table's or index's capacity units per second, with up to 300 seconds of burst.
    case provisioned(readUnitsPerSecond: Int64, writeUnitsPerSecond: Int64)
    /// A `PAY_PER_REQUEST` table or index: its `OnDemandThroughput` maximums when set, and in any case
    /// DynamoDB's default per-table quota (``Limits/onDemandRequestUnitsPerSecondMax``).
    case onDemand(maxReadRequestUnits: Int64?, maxWriteRequestUnits: Int64?)
}

/// A table or one of its global secondary indexes, as the ledger meters it.
struct MeteredResource: Sendable, Equatable {
    /// The table's or index's id, which keys its partition key values.
    var id: UInt64
    /// The index's name; nil for the table.
    var indexName: String?
    /// The ARN that throttling reasons name.
    var arn: String
    var limit: ThroughputLimit
}

/// One table or index a request uses, and the partition key value it reaches there.
struct CapacityUse: Sendable {
    /// The global secondary index used; nil for the table itself. A local secondary index shares its
    /// table's capacity: name none here, or its name (which the ledger charges to the table).
    var indexName: String?
    /// The partition key value read or written; nil when the request spans partition keys (a Scan).
    var partitionKey: AttributeValue?
    /// The capacity units consumed (given to ``CapacityLedger/charge(tableId:_:_:)``; ignored by admission).
    var units: Double

    init(indexName: String? = nil, partitionKey: AttributeValue?, units: Double = 0) {
        self.indexName = indexName
        self.partitionKey = partitionKey
        self.units = units
    }
}

/// The capacity of a database's tables and global indexes: a token bucket per table and per global index for
/// reads and for writes, and the limit of each partition key value, enforced as DynamoDB enforces them.
///
/// Operations call ``admit(tableId:_:_:)`` before they do their work, with every table and index they will
/// use (a write names each global index whose entries it changes: an index that cannot keep up throttles the
/// writes of its table), then ``charge(tableId:_:_:)`` with what they consumed. The ledger follows every
/// change of a table's settings at once (``follow(_:tableArn:)``, ``forget(_:)``).
///
/// State lives in memory only: a database that opens starts every bucket full, with its whole burst.
final class CapacityLedger: Sendable {
    /// Whether requests are throttled at all (``Database/Configuration/throttlingEnabled``).
    let isEnforcing: Bool
    private let clock: any WallClock
    private let state: Mutex<State>

    private struct Buckets: Sendable {
        var resource: MeteredResource
        var read: TokenBucket
        var write: TokenBucket
        /// What was consumed per minute, for auto scaling.
        var history: ConsumptionHistory

        /// Charges `units` of `operation` at `now`; returns the id of the table or index charged.
        mutating func debit(_ units: Double, _ operation: CapacityOperation, atMilliseconds now: Int64) -> UInt64 {
            switch operation {
            case .read: read.debit(units, atMilliseconds: now)
            case .write: write.debit(units, atMilliseconds: now)
            }
            history.record(units, operation, atMilliseconds: now)
            return resource.id
        }
    }

    private struct TableBuckets: Sendable {
        var table: Buckets
        /// By index name: the table's global secondary indexes.
        var globalIndexes: [String: Buckets]

        /// Charges `units` of `operation` to global index `indexName` if the table has it, else to the table;
        /// returns the id of the table or index charged. Mutates in place: nothing is copied.
        mutating func debit(_ units: Double, _ operation: CapacityOperation, indexName: String?, atMilliseconds now: Int64) -> UInt64 {
            if let indexName, globalIndexes[indexName] != nil {
                return globalIndexes[indexName]!.debit(units, operation, atMilliseconds: now)
            }
            return table.debit(units, operation, atMilliseconds: now)
        }
    }

    private struct State: Sendable {
        var tables: [UInt64: TableBuckets] = [:]
        var partitions = PartitionKeyLimiter()
    }

    init(isEnforcing: Bool, clock: any WallClock) {
        self.isEnforcing = isEnforcing
        self.clock = clock
        state = Mutex(State())
    }

    /// Takes the capacity settings of `definition` (created or updated) into account from now on: a changed
    /// rate applies at once and keeps what was saved up to the new ceiling, a new table or index starts full,
    /// a deleted index is forgotten.
    func follow(_ definition: TableDefinition, tableArn: String) {
        guard isEnforcing else { return }
        let resources = Self.resources(of: definition, tableArn: tableArn)
        let now = clock.nowMilliseconds()
        state.withLock { state in
            let previous = state.tables[definition.id]
            let table = Self.buckets(for: resources.table, following: previous?.table, now: now)
            var indexes: [String: Buckets] = [:]
            for index in resources.globalIndexes {
                guard let name = index.indexName else { continue }
                // An index deleted and created again under its name is a new index.
                let same = previous?.globalIndexes[name].flatMap { $0.resource.id == index.id ? $0 : nil }
                indexes[name] = Self.buckets(for: index, following: same, now: now)
            }
            let gone = Set(previous?.globalIndexes.values.map(\.resource.id) ?? []).subtracting(indexes.values.map(\.resource.id))
            if !gone.isEmpty { state.partitions.forget(resources: gone) }
            state.tables[definition.id] = TableBuckets(table: table, globalIndexes: indexes)
        }
    }

    /// Forgets a deleted table, its indexes and their partition key values.
    func forget(_ definition: TableDefinition) {
        guard isEnforcing else { return }
        state.withLock { state in
            guard let removed = state.tables.removeValue(forKey: definition.id) else { return }
            state.partitions.forget(resources: Set([removed.table.resource.id] + removed.globalIndexes.values.map(\.resource.id)))
        }
    }

    /// Admits a request that will use `uses` of table `tableId`, or throws DynamoDB's throttling error for the
    /// first table or index (in `uses`' order) whose bucket, or whose partition key value, has nothing left.
    ///
    /// - Throws: `ProvisionedThroughputExceededException` for a `PROVISIONED` table or index;
    ///   `ThrottlingException` for a `PAY_PER_REQUEST` one past its `OnDemandThroughput` or a partition key
    ///   value's limit; `RequestLimitExceeded` past the per-table quota.
    func admit(tableId: UInt64, _ operation: CapacityOperation, _ uses: [CapacityUse]) throws(EddyError) {
        guard isEnforcing else { return }
        let now = clock.nowMilliseconds()
        let refusal: EddyError? = state.withLock { state in
            guard let table = state.tables[tableId] else { return nil }
            for use in uses {
                let buckets = use.indexName.flatMap { table.globalIndexes[$0] } ?? table.table
                let admitted =
                    switch operation {
                    case .read: buckets.read.admits(atMilliseconds: now)
                    case .write: buckets.write.admits(atMilliseconds: now)
                    }
                guard admitted else { return Self.refusal(buckets.resource, operation, keyRange: false) }
                if let value = use.partitionKey,
                    !state.partitions.admits(PartitionKeyLimiter.Key(resourceId: buckets.resource.id, value: value), atMilliseconds: now)
                {
                    return Self.refusal(buckets.resource, operation, keyRange: true)
                }
            }
            return nil
        }
        if let refusal { throw refusal }
    }

    /// Charges what a request consumed: each use's units to its table's or index's bucket, to the minute's
    /// consumption of that table or index (``consumedUnits(tableId:indexName:_:minutes:before:)``) and to its
    /// partition key value. A balance may go below zero; it refills before the next request is admitted.
    func charge(tableId: UInt64, _ operation: CapacityOperation, _ uses: [CapacityUse]) {
        guard isEnforcing else { return }
        let now = clock.nowMilliseconds()
        state.withLock { state in
            for use in uses where use.units > 0 {
                // Through the dictionary's subscript, in place: a copy of the buckets would copy their history.
                guard let resourceId = state.tables[tableId]?.debit(use.units, operation, indexName: use.indexName, atMilliseconds: now)
                else { return }
                if let value = use.partitionKey {
                    state.partitions.charge(
                        PartitionKeyLimiter.Key(resourceId: resourceId, value: value),
                        readUnits: operation == .read ? use.units : 0, writeUnits: operation == .write ? use.units : 0,
                        atMilliseconds: now)
                }
            }
        }
    }

    /// The units `operation` consumed on table `tableId` (or its global index `indexName`) in each of the
    /// `count` minutes before `minute` (minutes since 1970 on the database clock), oldest first: nil for a
    /// minute the ledger did not watch (before the table, the index or the database opened), so that a
    /// datapoint is never made up. Empty if the ledger does not know the table or index.
    ///
    /// The ledger keeps ``ConsumptionHistory/minutesMax`` minutes, and only while it enforces capacity.
    func consumedUnits(tableId: UInt64, indexName: String?, _ operation: CapacityOperation, minutes count: Int, before minute: Int64) -> [Double?] {
        state.withLock { state in
            guard let table = state.tables[tableId] else { return [] }
            guard let indexName else { return table.table.history.units(operation, minutes: count, before: minute) }
            return table.globalIndexes[indexName]?.history.units(operation, minutes: count, before: minute) ?? []
        }
    }

    /// The table and global indexes of `definition`, with their limits. A global index of a `PROVISIONED`
    /// table without throughput of its own (one created while the table was on demand) is metered at the
    /// table's.
    static func resources(of definition: TableDefinition, tableArn: String) -> (table: MeteredResource, globalIndexes: [MeteredResource]) {
        func limit(_ throughput: ProvisionedThroughput?) -> ThroughputLimit {
            switch definition.billingMode {
            case .provisioned:
                let units = throughput ?? definition.provisionedThroughput
                return .provisioned(
                    readUnitsPerSecond: max(1, units?.readCapacityUnits ?? 1), writeUnitsPerSecond: max(1, units?.writeCapacityUnits ?? 1))
            case .payPerRequest:
                return .onDemand(maxReadRequestUnits: nil, maxWriteRequestUnits: nil)
            }
        }
        var table = MeteredResource(id: definition.id, arn: tableArn, limit: limit(definition.provisionedThroughput))
        if definition.billingMode == .payPerRequest, let maximum = definition.onDemandThroughput {
            table.limit = .onDemand(maxReadRequestUnits: maximum.maxReadRequestUnits, maxWriteRequestUnits: maximum.maxWriteRequestUnits)
        }
        let indexes = (definition.indexes ?? []).filter { $0.kind == .global }.map { index in
            MeteredResource(id: index.id, indexName: index.name, arn: "\(tableArn)/index/\(index.name)", limit: limit(index.provisionedThroughput))
        }
        return (table, indexes)
    }

    /// The buckets of `resource`: `previous` at the new rates when its billing mode is unchanged, else new.
    private static func buckets(for resource: MeteredResource, following previous: Buckets?, now: Int64) -> Buckets {
        let read = rate(of: resource.limit, .read)
        let write = rate(of: resource.limit, .write)
        guard var buckets = previous, sameMode(buckets.resource.limit, resource.limit) else {
            return Buckets(
                resource: resource,
                read: TokenBucket(unitsPerSecond: read.unitsPerSecond, burstSeconds: read.burstSeconds, nowMilliseconds: now),
                write: TokenBucket(unitsPerSecond: write.unitsPerSecond, burstSeconds: write.burstSeconds, nowMilliseconds: now),
                history: ConsumptionHistory(nowMilliseconds: now))
        }
        buckets.resource = resource
        buckets.read.setRate(read.unitsPerSecond, atMilliseconds: now)
        buckets.write.setRate(write.unitsPerSecond, atMilliseconds: now)
        return buckets
    }

    private static func sameMode(_ one: ThroughputLimit, _ other: ThroughputLimit) -> Bool {
        switch (one, other) {
        case (.provisioned, .provisioned), (.onDemand, .onDemand): true
        default: false
        }
    }

    /// The refill rate and burst of `limit` for `operation`. An on-demand maximum keeps no burst: one second
    /// of it (DynamoDB documents no burst above a table's maximum throughput).
    static func rate(of limit: ThroughputLimit, _ operation: CapacityOperation) -> (unitsPerSecond: Double, burstSeconds: Double) {
        switch limit {
        case .provisioned(let read, let write):
            (Double(operation == .read ? read : write), Limits.burstSecondsMax)
        case .onDemand:
            (onDemandCap(of: limit, operation).unitsPerSecond, 1)
        }
    }

    /// The request units per second a `PAY_PER_REQUEST` resource takes, and whether its own maximum (rather
    /// than the per-table quota) is what holds it.
    private static func onDemandCap(of limit: ThroughputLimit, _ operation: CapacityOperation) -> (unitsPerSecond: Double, isConfiguredMaximum: Bool) {
        guard case .onDemand(let maxRead, let maxWrite) = limit,
            let maximum = (operation == .read ? maxRead : maxWrite), maximum > 0,
            Double(maximum) < Limits.onDemandRequestUnitsPerSecondMax
        else { return (Limits.onDemandRequestUnitsPerSecondMax, false) }
        return (Double(maximum), true)
    }

    /// DynamoDB's answer when `resource` has nothing left for `operation`: its bucket, or (`keyRange`) the
    /// partition key value's share.
    static func refusal(_ resource: MeteredResource, _ operation: CapacityOperation, keyRange: Bool) -> EddyError {
        let isIndex = resource.indexName != nil
        let prefix = (isIndex ? "Index" : "Table") + (operation == .read ? "Read" : "Write")
        switch resource.limit {
        case .provisioned:
            let reason = ThrottlingReason(
                reason: prefix + (keyRange ? "KeyRangeThroughputExceeded" : "ProvisionedThroughputExceeded"), resource: resource.arn)
            return .provisionedThroughputExceeded(
                isIndex ? ThrottlingMessages.provisionedIndex : ThrottlingMessages.provisionedTable, reasons: [reason])
        case .onDemand:
            if keyRange {
                let reason = ThrottlingReason(reason: prefix + "KeyRangeThroughputExceeded", resource: resource.arn)
                return .throttling(isIndex ? ThrottlingMessages.onDemandIndex : ThrottlingMessages.onDemandTable, reasons: [reason])
            }
            guard onDemandCap(of: resource.limit, operation).isConfiguredMaximum else {
                let reason = ThrottlingReason(reason: prefix + "AccountLimitExceeded", resource: resource.arn)
                return .requestLimitExceeded(ThrottlingMessages.accountLimit, reasons: [reason])
            }
            let reason = ThrottlingReason(reason: prefix + "MaxOnDemandThroughputExceeded", resource: resource.arn)
            return .throttling(ThrottlingMessages.maxOnDemand, reasons: [reason])
        }
    }
}

/// DynamoDB's messages for throttled requests (Developer Guide, "Error handling with DynamoDB"; API Reference,
/// TransactWriteItems' cancellation reasons).
enum ThrottlingMessages {
    static let provisionedTable =
        "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API."
    static let provisionedIndex =
        "The level of configured provisioned throughput for one or more global secondary indexes of the table was exceeded. Consider increasing your provisioning level for the under-provisioned global secondary indexes with the UpdateTable API."
    static let onDemandTable =
        "Throughput exceeds the current capacity of your table or index. DynamoDB is automatically scaling your table or index so please try again shortly. If exceptions persist, check if you have a hot key: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html"
    static let onDemandIndex =
        "Throughput exceeds the current capacity for one or more global secondary indexes. DynamoDB is automatically scaling your index so please try again shortly."
    static let maxOnDemand = "Rate of requests exceeds the allowed throughput."
    static let accountLimit =
        "Throughput exceeds the current throughput limit for your account. To request a limit increase, contact AWS Support at https://aws.amazon.com/support."
}
