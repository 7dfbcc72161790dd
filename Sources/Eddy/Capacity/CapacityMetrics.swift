import CoreMetrics
import Synchronization

/// The capacity metrics of every table and global index, named as CloudWatch names DynamoDB's (the `metric`
/// label), labelled by `table` and `index` (empty for the table itself):
///
/// | metric | labels `metric=` |
/// |---|---|
/// | `eddy_capacity_units_total` (counter) | `ConsumedReadCapacityUnits`, `ConsumedWriteCapacityUnits` |
/// | `eddy_capacity_provisioned_units` (gauge) | `ProvisionedReadCapacityUnits`, `ProvisionedWriteCapacityUnits` (0 on demand) |
/// | `eddy_throttle_events_total` (counter) | `ReadThrottleEvents`, `WriteThrottleEvents` (on the table or index that refused), `ThrottledRequests` (on the table) |
///
/// Consumed units are counted whether or not throttling is enforced; a table's count includes its local
/// indexes', as CloudWatch's does. The metrics of one resource are made once and kept, so that a request
/// pays a dictionary lookup under a lock and the increments. The totals of the minute in progress and of the
/// one before are kept too, for ``Database/describeCapacity(tableName:)``.
final class CapacityMetrics: Sendable {
    private struct Resource: Sendable {
        var minute: Int64 = 0
        var current = CapacityMinute()
        var previous = CapacityMinute()
        var consumedRead: FloatingPointCounter
        var consumedWrite: FloatingPointCounter
        var readThrottleEvents: Counter
        var writeThrottleEvents: Counter
        var throttledRequests: Counter
        var provisionedRead: Gauge
        var provisionedWrite: Gauge
    }

    private let factory: any MetricsFactory
    private let clock: any WallClock
    private let resources = Mutex<[UInt64: Resource]>([:])

    init(factory: any MetricsFactory, clock: any WallClock) {
        self.factory = factory
        self.clock = clock
    }

    /// The totals of resource `id` over the minute before the one in progress, and over the one in progress.
    func minutes(of id: UInt64) -> (last: CapacityMinute, current: CapacityMinute) {
        let now = CapacityMinute.number(atMilliseconds: clock.nowMilliseconds())
        guard let resource = resources.withLock({ $0[id] }) else { return (CapacityMinute(), CapacityMinute()) }
        if resource.minute == now { return (resource.previous, resource.current) }
        return (resource.minute == now - 1 ? resource.current : CapacityMinute(), CapacityMinute())
    }

    /// Sets the provisioned capacity gauges of `definition`'s table and global indexes (0 on demand).
    func follow(_ definition: TableDefinition) {
        let provisioned = definition.billingMode == .provisioned
        let table = resource(id: definition.id, table: definition.name, index: nil)
        table.provisionedRead.record(provisioned ? definition.provisionedThroughput?.readCapacityUnits ?? 0 : 0)
        table.provisionedWrite.record(provisioned ? definition.provisionedThroughput?.writeCapacityUnits ?? 0 : 0)
        for index in definition.indexes ?? [] where index.kind == .global {
            let throughput = index.provisionedThroughput ?? definition.provisionedThroughput
            let metrics = resource(id: index.id, table: definition.name, index: index.name)
            metrics.provisionedRead.record(provisioned ? throughput?.readCapacityUnits ?? 0 : 0)
            metrics.provisionedWrite.record(provisioned ? throughput?.writeCapacityUnits ?? 0 : 0)
        }
    }

    /// Removes the metrics of `definition`'s table and indexes (the table was deleted).
    func forget(_ definition: TableDefinition) {
        forget(ids: [definition.id] + (definition.indexes ?? []).map(\.id))
    }

    /// Removes the metrics of the tables and indexes `ids` (deleted).
    func forget(ids: [UInt64]) {
        let removed = resources.withLock { resources in ids.compactMap { resources.removeValue(forKey: $0) } }
        for metrics in removed {
            metrics.consumedRead.destroy()
            metrics.consumedWrite.destroy()
            metrics.readThrottleEvents.destroy()
            metrics.writeThrottleEvents.destroy()
            metrics.throttledRequests.destroy()
            metrics.provisionedRead.destroy()
            metrics.provisionedWrite.destroy()
        }
    }

    /// Counts `units` consumed by `operation` on resource `id` of table `table` (global index `index`).
    func consumed(_ units: Double, _ operation: CapacityOperation, id: UInt64, table: String, index: String?) {
        guard units > 0 else { return }
        let metrics = resource(id: id, table: table, index: index) { minute in
            switch operation {
            case .read: minute.consumedReadCapacityUnits += units
            case .write: minute.consumedWriteCapacityUnits += units
            }
        }
        switch operation {
        case .read: metrics.consumedRead.increment(by: units)
        case .write: metrics.consumedWrite.increment(by: units)
        }
    }

    /// Counts a request of `table` throttled by resource `id` (the table, or its global index `index`).
    func throttled(_ operation: CapacityOperation, id: UInt64, tableId: UInt64, table: String, index: String?) {
        let metrics = resource(id: id, table: table, index: index) { minute in
            switch operation {
            case .read: minute.readThrottleEvents += 1
            case .write: minute.writeThrottleEvents += 1
            }
        }
        switch operation {
        case .read: metrics.readThrottleEvents.increment()
        case .write: metrics.writeThrottleEvents.increment()
        }
        (index == nil ? metrics : resource(id: tableId, table: table, index: nil)).throttledRequests.increment()
    }

    /// The metrics of resource `id`, made on first use, after `count` added to its minute in progress.
    private func resource(
        id: UInt64, table: String, index: String?, counting count: (inout CapacityMinute) -> Void = { _ in }
    ) -> Resource {
        let now = CapacityMinute.number(atMilliseconds: clock.nowMilliseconds())
        func counted(_ resource: inout Resource) {
            if now > resource.minute {
                resource.previous = now == resource.minute + 1 ? resource.current : CapacityMinute()
                resource.current = CapacityMinute()
                resource.minute = now
            }
            count(&resource.current)
        }
        let known: Resource? = resources.withLock { resources in
            guard var resource = resources[id] else { return nil }
            counted(&resource)
            resources[id] = resource
            return resource
        }
        if let known { return known }
        let made = make(table: table, index: index)
        return resources.withLock { resources in
            var resource = resources[id] ?? made
            counted(&resource)
            resources[id] = resource
            return resource
        }
    }



    private func make(table: String, index: String?) -> Resource {
        func labels(_ metric: String) -> [(String, String)] {
            [("table", table), ("index", index ?? ""), ("metric", metric)]
        }
        return Resource(
            consumedRead: FloatingPointCounter(
                label: "eddy_capacity_units_total", dimensions: labels("ConsumedReadCapacityUnits"), factory: factory),
            consumedWrite: FloatingPointCounter(
                label: "eddy_capacity_units_total", dimensions: labels("ConsumedWriteCapacityUnits"), factory: factory),
            readThrottleEvents: Counter(label: "eddy_throttle_events_total", dimensions: labels("ReadThrottleEvents"), factory: factory),
            writeThrottleEvents: Counter(label: "eddy_throttle_events_total", dimensions: labels("WriteThrottleEvents"), factory: factory),
            throttledRequests: Counter(label: "eddy_throttle_events_total", dimensions: labels("ThrottledRequests"), factory: factory),
            provisionedRead: Gauge(
                label: "eddy_capacity_provisioned_units", dimensions: labels("ProvisionedReadCapacityUnits"), factory: factory),
            provisionedWrite: Gauge(
                label: "eddy_capacity_provisioned_units", dimensions: labels("ProvisionedWriteCapacityUnits"), factory: factory))
    }
}

/// What a table or global index consumed and how often it was throttled over one minute, as CloudWatch's
/// one-minute sums of DynamoDB's metrics.
public struct CapacityMinute: Codable, Sendable, Equatable {
    public var consumedReadCapacityUnits: Double = 0
    public var consumedWriteCapacityUnits: Double = 0
    public var readThrottleEvents: Int = 0
    public var writeThrottleEvents: Int = 0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case consumedReadCapacityUnits = "ConsumedReadCapacityUnits", consumedWriteCapacityUnits = "ConsumedWriteCapacityUnits"
        case readThrottleEvents = "ReadThrottleEvents", writeThrottleEvents = "WriteThrottleEvents"
    }
}

extension CapacityMinute {
    /// The number of the minute since 1970 that `milliseconds` falls in.
    static func number(atMilliseconds milliseconds: Int64) -> Int64 {
        milliseconds >= 0 ? milliseconds / 60_000 : (milliseconds - 59_999) / 60_000
    }
}
