import CoreMetrics
import ServiceLifecycle

/// Deletes expired items in the background: every `interval`, one ``Database/deleteExpiredItems()`` pass over
/// the tables with Time to Live enabled. A swift-service-lifecycle `Service`: it runs until the calling task
/// is cancelled or, in a `ServiceGroup`, a graceful shutdown begins. `eddy serve` runs one.
///
/// ```swift
/// let sweeper = TimeToLiveSweeper(database: db, interval: .seconds(60))
/// let group = ServiceGroup(services: [runtime, sweeper], gracefulShutdownSignals: [.sigterm], logger: logger)
/// try await group.run()
/// ```
///
/// Expiry follows the database's clock (``Database/Configuration-swift.struct/clock``), the interval the system's: a test
/// moves a ``ManualWallClock`` forward and calls ``Database/deleteExpiredItems()`` itself. Each pass reads
/// every item of those tables; as in DynamoDB, an item may outlive its expiry by up to one interval (plus
/// the pass), and is returned by reads until it is deleted. Metrics: `eddy_ttl_deleted_items_total` and
/// `eddy_ttl_failed_passes_total`.
public struct TimeToLiveSweeper: Service {
    public let database: Database
    public let interval: Duration
    private let deletedItems = Counter(label: "eddy_ttl_deleted_items_total")
    private let failedPasses = Counter(label: "eddy_ttl_failed_passes_total")

    public init(database: Database, interval: Duration = .seconds(60)) {
        self.database = database
        self.interval = interval
    }

    public func run() async {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    deletedItems.increment(by: try await database.deleteExpiredItems())
                } catch {
                    // A storage failure ends this pass only; the next one starts over.
                    failedPasses.increment()
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
