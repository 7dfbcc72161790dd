import CoreMetrics

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

/// Makes the ``TableMeter`` of each table of a database, with the database's settings: whether throttling is
/// enforced, its clock, its metrics and its ARNs; and holds DynamoDB's rules the meters apply (rates, burst,
/// refusals).
struct CapacityLedger: Sendable {
    /// Whether requests are throttled at all (``Database/Configuration/throttlingEnabled``).
    let isEnforcing: Bool
    let clock: any WallClock
    let metricsFactory: any MetricsFactory
    /// The ARN of a table, by name: what throttling reasons name.
    let tableArn: @Sendable (String) -> String

    /// The meter of a table `definition` creates (or that a database finds when it opens), full.
    func meter(for definition: TableDefinition) -> TableMeter {
        TableMeter(
            definition, tableArn: tableArn(definition.name), isEnforcing: isEnforcing, clock: clock, metricsFactory: metricsFactory)
    }

    /// Has `meter` follow `definition`, its table's settings changed.
    func follow(_ meter: TableMeter, _ definition: TableDefinition) {
        meter.follow(definition, tableArn: tableArn(definition.name))
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

    /// Whether `one` and `other` are of the same billing mode (a switch starts full buckets).
    static func sameMode(_ one: ThroughputLimit, _ other: ThroughputLimit) -> Bool {
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
