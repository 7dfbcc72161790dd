import CoreMetrics

/// The metrics of one trigger mapping, through swift-metrics, each with the dimension `mapping` = its name:
///
/// - `eddy_trigger_invocations` (counter): handler calls, or derivative batches committed or tried;
/// - `eddy_trigger_errors` (counter): calls that threw or reported failed records;
/// - `eddy_trigger_retries` (counter): calls that repeated records after a failure;
/// - `eddy_trigger_throttles` (counter): derivative batches a target table's capacity refused (retried with
///   backoff, not counted as errors or retries);
/// - `eddy_trigger_dropped_records` (counter): records sent to the on-failure destination instead;
/// - `eddy_trigger_lost_records` (counter): of those, records stream retention removed before the mapping
///   handled them (a batch retried past retention, a mapping behind the trim horizon or stopped for longer);
/// - `eddy_trigger_batch_size` (recorder): records per call;
/// - `eddy_trigger_iterator_age_milliseconds` (gauge): at each call, how long ago its last record was
///   committed (Lambda's IteratorAge);
/// - `eddy_trigger_lag` (gauge): after each batch or read of a lane, how far the mapping's slowest lane with
///   records still to handle is behind the stream's last commit, in sequence numbers (which the database
///   numbers across every stream, so an upper bound on the records still to read); 0 when every lane has
///   handled all its shard has;
/// - `eddy_trigger_snapshot_items` and `eddy_trigger_snapshot_items_total` (gauges): items of the mapping's
///   initial snapshot delivered, of the items to deliver.
struct TriggerMetrics: Sendable {
    let invocations: Counter
    let errors: Counter
    let retries: Counter
    let throttles: Counter
    let droppedRecords: Counter
    let lostRecords: Counter
    let batchSize: Recorder
    let iteratorAge: Gauge
    let lag: Gauge
    let snapshotItems: Gauge
    let snapshotItemsTotal: Gauge

    init(mapping: String, factory: MetricsFactory) {
        let dimensions = [("mapping", mapping)]
        invocations = Counter(label: "eddy_trigger_invocations", dimensions: dimensions, factory: factory)
        errors = Counter(label: "eddy_trigger_errors", dimensions: dimensions, factory: factory)
        retries = Counter(label: "eddy_trigger_retries", dimensions: dimensions, factory: factory)
        throttles = Counter(label: "eddy_trigger_throttles", dimensions: dimensions, factory: factory)
        droppedRecords = Counter(label: "eddy_trigger_dropped_records", dimensions: dimensions, factory: factory)
        lostRecords = Counter(label: "eddy_trigger_lost_records", dimensions: dimensions, factory: factory)
        batchSize = Recorder(label: "eddy_trigger_batch_size", dimensions: dimensions, factory: factory)
        iteratorAge = Gauge(label: "eddy_trigger_iterator_age_milliseconds", dimensions: dimensions, factory: factory)
        lag = Gauge(label: "eddy_trigger_lag", dimensions: dimensions, factory: factory)
        snapshotItems = Gauge(label: "eddy_trigger_snapshot_items", dimensions: dimensions, factory: factory)
        snapshotItemsTotal = Gauge(label: "eddy_trigger_snapshot_items_total", dimensions: dimensions, factory: factory)
    }

    /// Records how far the initial snapshot has come.
    func snapshotProgress(done: Int, total: Int) {
        snapshotItems.record(done)
        snapshotItemsTotal.record(total)
    }
}
