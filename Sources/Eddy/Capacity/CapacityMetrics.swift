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
/// pays a dictionary lookup under a lock and the increments.
final class CapacityMetrics: Sendable {
    private struct Resource: Sendable {
        var consumedRead: FloatingPointCounter
        var consumedWrite: FloatingPointCounter
        var readThrottleEvents: Counter
        var writeThrottleEvents: Counter
        var throttledRequests: Counter
        var provisionedRead: Gauge
        var provisionedWrite: Gauge
    }

    private let factory: any MetricsFactory
    private let resources = Mutex<[UInt64: Resource]>([:])

    init(factory: any MetricsFactory) {
        self.factory = factory
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
        let ids = [definition.id] + (definition.indexes ?? []).map(\.id)
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
        let metrics = resource(id: id, table: table, index: index)
        switch operation {
        case .read: metrics.consumedRead.increment(by: units)
        case .write: metrics.consumedWrite.increment(by: units)
        }
    }

    /// Counts a request of `table` throttled by resource `id` (the table, or its global index `index`).
    func throttled(_ operation: CapacityOperation, id: UInt64, tableId: UInt64, table: String, index: String?) {
        let metrics = resource(id: id, table: table, index: index)
        switch operation {
        case .read: metrics.readThrottleEvents.increment()
        case .write: metrics.writeThrottleEvents.increment()
        }
        (index == nil ? metrics : resource(id: tableId, table: table, index: nil)).throttledRequests.increment()
    }

    private func resource(id: UInt64, table: String, index: String?) -> Resource {
        if let known = resources.withLock({ $0[id] }) { return known }
        let made = make(table: table, index: index)
        return resources.withLock { resources in
            if let known = resources[id] { return known }
            resources[id] = made
            return made
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
