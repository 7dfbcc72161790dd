import CoreMetrics

/// The capacity metrics of one table or global index, named as CloudWatch names DynamoDB's (the `metric`
/// label), labelled by `table` and `index` (empty for the table itself):
///
/// | metric | labels `metric=` |
/// |---|---|
/// | `eddy_capacity_units_total` (counter) | `ConsumedReadCapacityUnits`, `ConsumedWriteCapacityUnits` |
/// | `eddy_capacity_provisioned_units` (gauge) | `ProvisionedReadCapacityUnits`, `ProvisionedWriteCapacityUnits` (0 on demand) |
/// | `eddy_throttle_events_total` (counter) | `ReadThrottleEvents`, `WriteThrottleEvents` (on the table or index that refused), `ThrottledRequests` (on the table) |
///
/// Consumed units are counted whether or not throttling is enforced; a table's count includes its local
/// indexes', as CloudWatch's does. Each ``TableMeter`` makes the metrics of its table and global indexes
/// once and counts into them as it meters requests.
struct CapacityMetrics: Sendable {
    let consumedRead: FloatingPointCounter
    let consumedWrite: FloatingPointCounter
    let readThrottleEvents: Counter
    let writeThrottleEvents: Counter
    let throttledRequests: Counter
    let provisionedRead: Gauge
    let provisionedWrite: Gauge

    /// The metrics of table `table`, or of its global index `index`, made by `factory`.
    init(table: String, index: String?, factory: any MetricsFactory) {
        func labels(_ metric: String) -> [(String, String)] {
            [("table", table), ("index", index ?? ""), ("metric", metric)]
        }
        consumedRead = FloatingPointCounter(label: "eddy_capacity_units_total", dimensions: labels("ConsumedReadCapacityUnits"), factory: factory)
        consumedWrite = FloatingPointCounter(label: "eddy_capacity_units_total", dimensions: labels("ConsumedWriteCapacityUnits"), factory: factory)
        readThrottleEvents = Counter(label: "eddy_throttle_events_total", dimensions: labels("ReadThrottleEvents"), factory: factory)
        writeThrottleEvents = Counter(label: "eddy_throttle_events_total", dimensions: labels("WriteThrottleEvents"), factory: factory)
        throttledRequests = Counter(label: "eddy_throttle_events_total", dimensions: labels("ThrottledRequests"), factory: factory)
        provisionedRead = Gauge(label: "eddy_capacity_provisioned_units", dimensions: labels("ProvisionedReadCapacityUnits"), factory: factory)
        provisionedWrite = Gauge(label: "eddy_capacity_provisioned_units", dimensions: labels("ProvisionedWriteCapacityUnits"), factory: factory)
    }

    /// Counts `units` consumed by `operation`.
    func consumed(_ units: Double, _ operation: CapacityOperation) {
        switch operation {
        case .read: consumedRead.increment(by: units)
        case .write: consumedWrite.increment(by: units)
        }
    }

    /// Counts a throttle event of `operation`.
    func throttled(_ operation: CapacityOperation) {
        switch operation {
        case .read: readThrottleEvents.increment()
        case .write: writeThrottleEvents.increment()
        }
    }

    /// Sets the provisioned capacity gauges to `limit`'s (0 on demand).
    func provision(_ limit: ThroughputLimit) {
        guard case .provisioned(let read, let write) = limit else {
            provisionedRead.record(0)
            provisionedWrite.record(0)
            return
        }
        provisionedRead.record(read)
        provisionedWrite.record(write)
    }

    /// Removes every metric (the table or index was deleted).
    func destroy() {
        consumedRead.destroy()
        consumedWrite.destroy()
        readThrottleEvents.destroy()
        writeThrottleEvents.destroy()
        throttledRequests.destroy()
        provisionedRead.destroy()
        provisionedWrite.destroy()
    }
}
