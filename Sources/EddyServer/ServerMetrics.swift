import CoreMetrics

/// The server's request metrics, per operation: `eddy_requests_total`, `eddy_request_errors_total` (also by
/// error type) and the `eddy_request_duration_seconds` histogram.
struct ServerMetrics: Sendable {
    private let factory: any MetricsFactory
    private let perOperation: [String: Operation]
    private let unknown: Operation

    private struct Operation: Sendable {
        let requests: Counter
        let duration: Timer
    }

    /// Metrics made by `factory`, one set per operation of `targets` (named without the target's prefix).
    init(targets: [String], factory: any MetricsFactory) {
        self.factory = factory
        perOperation = Dictionary(uniqueKeysWithValues: targets.map { ($0, Self.operation(Self.name(of: $0), factory)) })
        unknown = Self.operation("unknown", factory)
    }

    /// Records one request to `target` that took `duration` and failed with `errorType`, if it failed.
    func record(target: String?, duration: Duration, errorType: String?) {
        let operation = target.flatMap { perOperation[$0] } ?? unknown
        operation.requests.increment()
        operation.duration.recordNanoseconds(duration.nanoseconds)
        if let errorType {
            let name = target.flatMap { perOperation[$0] == nil ? nil : Self.name(of: $0) } ?? "unknown"
            Counter(label: "eddy_request_errors_total", dimensions: [("operation", name), ("type", errorType)], factory: factory)
                .increment()
        }
    }

    /// Histogram buckets for request latencies, from 100 µs (the default ones start at 5 ms).
    static let durationBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .microseconds(2500),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
    ]

    private static func operation(_ name: String, _ factory: any MetricsFactory) -> Operation {
        Operation(
            requests: Counter(label: "eddy_requests_total", dimensions: [("operation", name)], factory: factory),
            duration: Timer(label: "eddy_request_duration_seconds", dimensions: [("operation", name)], factory: factory))
    }

    /// `DynamoDB_20120810.PutItem` → `PutItem`.
    private static func name(of target: String) -> String {
        target.split(separator: ".").last.map(String.init) ?? target
    }
}

extension Duration {
    fileprivate var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
