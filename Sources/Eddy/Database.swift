import CoreMetrics
import EddyStorage
import Foundation
import Logging
import Synchronization

/// An Eddy database: a directory holding tables and their items, with DynamoDB's semantics.
///
/// ```swift
/// let db = try Database(path: "/tmp/eddy-data")
/// _ = try await db.createTable(CreateTableInput(
///     tableName: "Users",
///     keySchema: [KeySchemaElement(attributeName: "id", keyType: .hash)],
///     attributeDefinitions: [AttributeDefinition(attributeName: "id", attributeType: .s)],
///     billingMode: .payPerRequest))
/// _ = try await db.putItem(PutItemInput(tableName: "Users", item: ["id": "u1", "name": "Ada"]))
/// let user = try await db.getItem(GetItemInput(tableName: "Users", key: ["id": "u1"])).item
/// ```
///
/// A `Database` is `Sendable`: share one instance between tasks. Every operation validates its input and
/// throws ``EddyError`` with DynamoDB's error type and message; a failed operation changes nothing.
///
/// Durability: an operation that returns has committed its change to RocksDB's write-ahead log; see
/// ``Configuration/durability`` for what survives which crash.
///
/// Closing: ``close()`` stops the background jobs (stream trimming, Time to Live, index backfills), lets the
/// commits in flight finish and closes RocksDB, so that the directory can be opened again at once. A database
/// is also a swift-service-lifecycle `Service` whose ``run()`` closes it on graceful shutdown.
public final class Database: Sendable {
    /// How a database behaves; fixed when it is opened.
    public struct Configuration: Sendable {
        /// `.processCrashSafe` (default): an acknowledged write survives `kill -9` of the process, not a
        /// power loss. `.machineCrashSafe`: the log is fsynced before acknowledging, so the write also
        /// survives a machine crash, at the cost of one fsync per commit group.
        public var durability: Durability
        /// The AWS Region named in ARNs.
        public var region: String
        /// The AWS account id named in ARNs.
        public var accountId: String
        /// Where time comes from: stream record times, retention, shard lifetimes, iterator expiry.
        public var clock: any WallClock
        /// How many shards a new stream has open at once; a change goes to the shard its partition key
        /// hashes to.
        public var streamShardCount: Int
        /// How long a shard stays open before it closes and a child shard takes its place (DynamoDB rolls
        /// shards about every four hours).
        public var streamShardLifetime: Duration
        /// How many records a shard takes (counted since the database opened) before it closes and a child
        /// takes its place; no limit when nil.
        public var streamShardRecordLimit: Int?
        /// How often the background job trims stream records past retention.
        public var streamTrimInterval: Duration
        /// How often the background job looks for expired items in the tables with Time to Live enabled
        /// and deletes them (``Database/deleteExpiredItems()``). As in DynamoDB, an expired item is still
        /// read until it is deleted.
        public var timeToLiveSweepInterval: Duration
        /// How often the background job deletes the `ClientRequestToken` records of transactions whose 10
        /// minutes are over.
        public var transactionTokenExpiryInterval: Duration
        /// The size past which a write to an item collection (the items of one partition key value of a table
        /// with local secondary indexes, and their entries in those indexes) is refused: DynamoDB's 10 GB.
        /// Lower it to see how an application handles `ItemCollectionSizeLimitExceededException`.
        public var itemCollectionSizeLimitBytes: Int64
        /// Where the background jobs report their metrics (`eddy_stream_trim_failed_passes_total`,
        /// `eddy_ttl_deleted_items_total`, `eddy_ttl_failed_sweeps_total`, `eddy_transaction_tokens_deleted_total`,
        /// `eddy_transaction_token_failed_passes_total`) and the capacity of each table and global index
        /// (`eddy_capacity_units_total`, `eddy_capacity_provisioned_units`, `eddy_throttle_events_total`): swift-metrics'
        /// global factory unless given.
        public var metricsFactory: any MetricsFactory
        /// Whether requests are throttled as DynamoDB throttles them (on, as in DynamoDB): provisioned
        /// throughput with its burst, `OnDemandThroughput` maximums and per-table quotas, and the limit of one
        /// partition key value. Turn it off for bulk loads.
        public var throttlingEnabled: Bool
        /// How often the background job evaluates the auto scaling policies (Application Auto Scaling's
        /// target tracking, over one-minute datapoints of consumed capacity): see
        /// ``Database/putScalingPolicy(_:)``.
        public var autoScalingInterval: Duration

        public init(
            durability: Durability = .processCrashSafe,
            region: String = "us-east-1",
            accountId: String = "000000000000",
            clock: any WallClock = SystemWallClock(),
            streamShardCount: Int = 4,
            streamShardLifetime: Duration = .seconds(4 * 3600),
            streamShardRecordLimit: Int? = nil,
            streamTrimInterval: Duration = .seconds(60),
            timeToLiveSweepInterval: Duration = .seconds(60),
            transactionTokenExpiryInterval: Duration = .seconds(60),
            itemCollectionSizeLimitBytes: Int64 = Limits.itemCollectionSizeBytesMax,
            metricsFactory: any MetricsFactory = MetricsSystem.factory,
            throttlingEnabled: Bool = true,
            autoScalingInterval: Duration = .seconds(60)
        ) {
            self.autoScalingInterval = autoScalingInterval
            self.throttlingEnabled = throttlingEnabled
            self.metricsFactory = metricsFactory
            self.itemCollectionSizeLimitBytes = itemCollectionSizeLimitBytes
            self.durability = durability
            self.region = region
            self.accountId = accountId
            self.clock = clock
            self.streamShardCount = streamShardCount
            self.streamShardLifetime = streamShardLifetime
            self.streamShardRecordLimit = streamShardRecordLimit
            self.streamTrimInterval = streamTrimInterval
            self.timeToLiveSweepInterval = timeToLiveSweepInterval
            self.transactionTokenExpiryInterval = transactionTokenExpiryInterval
        }
    }

    /// What this database was opened with.
    public let configuration: Configuration
    let store: any OrderedKeyValueStore
    let catalog: Catalog
    let locks = ItemLocks()
    let transactionTokens = TransactionTokens()
    let committer: Committer
    let streams: StreamRegistry
    let streamRetention: StreamRetention
    /// Where running trigger lanes have read to, for the retention pass's count of what mappings lose.
    let triggerReadMarks = TriggerReadMarks()
    let backgroundJobs = BackgroundJobs()
    /// The auto scaling targets and policies, and the scaling activities.
    let scalableTargets: ScalableTargets
    /// The most accessed and throttled keys of the tables and global indexes with Contributor Insights enabled.
    let contributorInsights: ContributorInsightsTracker
    /// Set when ``close()`` starts: every operation from then on throws.
    let closing = Atomic<Bool>(false)
    /// The task that closes the database, once ``close()`` has been called.
    let closeTask = Mutex<Task<Void, Never>?>(nil)

    private static let logger = Logger(label: "eddy.database")

    /// The lock that serializes catalog changes; no item key is empty, so it collides with none.
    static let catalogLockKey = ItemKey(bytes: [])

    /// Opens the database in the directory `path`, creating it if it does not exist.
    ///
    /// - Throws: ``EddyError/internalServerError(_:)`` with RocksDB's message if the directory cannot be
    ///   opened (for instance, another process holds it open).
    public convenience init(path: String, configuration: Configuration = Configuration()) throws(EddyError) {
        let store: RocksDBStore
        do {
            store = try RocksDBStore(path: path)
        } catch {
            throw .internalServerError("Cannot open the database at \(path): \(error.message)")
        }
        try self.init(store: store, configuration: configuration)
    }

    /// Opens a new, empty database in memory, on RocksDB's in-memory environment: the same engine as on disk,
    /// for tests and demos. Nothing is written to disk; the tables and items are gone once the database closes.
    ///
    /// ```swift
    /// let db = try Database(inMemory: Database.Configuration())
    /// defer { Task { await db.close() } }
    /// ```
    ///
    /// - Throws: ``EddyError/internalServerError(_:)`` with RocksDB's message if RocksDB cannot open it.
    public convenience init(inMemory configuration: Configuration = Configuration()) throws(EddyError) {
        let store: RocksDBStore
        do {
            store = try RocksDBStore(inMemory: RocksDBStore.Options())
        } catch {
            throw .internalServerError("Cannot open an in-memory database: \(error.message)")
        }
        try self.init(store: store, configuration: configuration)
    }

    /// Opens the database `store` holds. Tests pass a store that watches what the database writes.
    init(store: any OrderedKeyValueStore, configuration: Configuration) throws(EddyError) {
        self.store = store
        guard configuration.streamShardCount >= 1, (configuration.streamShardRecordLimit ?? 1) >= 1 else {
            throw .validation("A stream needs at least one shard, and a shard at least one record")
        }
        self.configuration = configuration
        catalog = try Catalog(
            store: store, clock: configuration.clock,
            ledger: CapacityLedger(
                isEnforcing: configuration.throttlingEnabled, clock: configuration.clock, metricsFactory: configuration.metricsFactory,
                tableArn: { [region = configuration.region, accountId = configuration.accountId] name in
                    Self.arn(ofTable: name, region: region, accountId: accountId)
                }))
        scalableTargets = try ScalableTargets(store: store)
        contributorInsights = ContributorInsightsTracker(clock: configuration.clock)
        do {
            try TransactionTokens.indexLegacyRecords(in: store, durability: configuration.durability)
        } catch {
            throw .internalServerError("Cannot index the transaction request tokens: \(error.message)")
        }
        try Self.initializeCounters(of: catalog, in: store)
        try ExpiryIndex.backfillLegacyTables(of: catalog, in: store, durability: configuration.durability)
        let loaded = try StreamStorage.load(from: store)
        streams = StreamRegistry(
            StreamsSnapshot(streams: loaded.streams, committedThrough: loaded.nextSequence - 1, trimmedBelow: loaded.trimmedBelow))
        let lifetime = configuration.streamShardLifetime.components
        committer = Committer(
            store: store, durability: configuration.durability,
            settings: Committer.StreamSettings(
                clock: configuration.clock,
                shardLifetimeMilliseconds: lifetime.seconds * 1000 + lifetime.attoseconds / 1_000_000_000_000_000,
                shardRecordLimit: configuration.streamShardRecordLimit),
            tables: catalog.stamps, streams: loaded, registry: streams,
            itemCollectionSizeLimit: configuration.itemCollectionSizeLimitBytes)
        streamRetention = StreamRetention(
            store: store, registry: streams, clock: configuration.clock,
            beforeTrim: { [readMarks = triggerReadMarks, region = configuration.region] horizon, previous, streams, batch, announce in
                // What trigger mappings lose is counted under the lanes' read marks, before readers learn the
                // horizon.
                try readMarks.withMarks { marks in
                    try LostRecordsLedger.record(
                        below: horizon, from: previous, streams: streams, marks: marks, store: store, region: region,
                        into: &batch)
                    announce()
                }
            })
        let metrics = configuration.metricsFactory
        let failedTrimPasses = Counter(label: "eddy_stream_trim_failed_passes_total", factory: metrics)
        startBackgroundJob(every: configuration.streamTrimInterval) { database in
            do {
                try await database.trimExpiredStreamRecords()
            } catch {
                // A failed pass trims nothing; the next one starts over.
                failedTrimPasses.increment()
                Self.logger.warning("A stream retention pass failed: \(error)")
            }
        }
        let deletedItems = Counter(label: "eddy_ttl_deleted_items_total", factory: metrics)
        let failedSweeps = Counter(label: "eddy_ttl_failed_sweeps_total", factory: metrics)
        startBackgroundJob(every: configuration.timeToLiveSweepInterval) { database in
            do {
                deletedItems.increment(by: try await database.deleteExpiredItems())
            } catch {
                // A storage failure ends this sweep only; the next one starts over.
                failedSweeps.increment()
            }
        }
        let deletedTokens = Counter(label: "eddy_transaction_tokens_deleted_total", factory: metrics)
        let failedTokenPasses = Counter(label: "eddy_transaction_token_failed_passes_total", factory: metrics)
        startBackgroundJob(every: configuration.transactionTokenExpiryInterval) { database in
            do {
                deletedTokens.increment(by: try await database.deleteExpiredTransactionTokens())
            } catch {
                // A storage failure ends this pass only (the tokens stay, ignored once expired); the next one
                // starts over.
                failedTokenPasses.increment()
            }
        }
        startBackgroundJob(every: configuration.autoScalingInterval) { database in
            await database.evaluateScalingPolicies()
        }
        resumeBackfills()
        try resumeExpiryBackfills()
    }

    /// A database never closed (see ``close()``) closes when its last reference goes: its background jobs are
    /// cancelled, not awaited, and RocksDB closes once the last of them lets go of the store.
    deinit {
        backgroundJobs.cancel()
        committer.shutdown()
    }

    /// Runs `job` in the background every `interval`, until the database closes. The database is held only
    /// during a run; ``close()`` cancels the job and waits for the run in progress.
    private func startBackgroundJob(every interval: Duration, _ job: @escaping @Sendable (Database) async -> Void) {
        backgroundJobs.start { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard !Task.isCancelled, let database = self else { return }
                await job(database)
            }
        }
    }

    /// Runs `step` in the background again and again until it returns false or the database closes. The
    /// database is held only during a step; ``close()`` cancels the job and waits for the step in progress.
    func repeatInBackground(_ step: @escaping @Sendable (Database) async -> Bool) {
        backgroundJobs.start { [weak self] in
            while !Task.isCancelled {
                guard let database = self, await step(database) else { return }
            }
        }
    }

    /// The table named `name`, or ResourceNotFoundException.
    func resolveTable(_ name: String) throws(EddyError) -> ResolvedTable {
        try requireOpen()
        try TableValidation.validateTableName(name)
        guard let table = catalog.table(named: name) else {
            throw .resourceNotFound("Requested resource not found")
        }
        return table
    }

    /// Throws ResourceNotFoundException naming the tables of `names` that do not exist (or are not active), in
    /// request order: a transaction's tables must all be in the account and Region of the request.
    func requireTables(_ names: [String]) throws(EddyError) {
        try requireOpen()
        var missing: [String] = []
        for name in names {
            try TableValidation.validateTableName(name)
            if catalog.table(named: name) == nil, !missing.contains(name) { missing.append(name) }
        }
        switch missing.count {
        case 0: return
        case 1: throw .resourceNotFound("Requested resource not found: Table: \(missing[0]) not found")
        default: throw .resourceNotFound("Requested resource not found: Tables: \(missing.joined(separator: ", ")) not found")
        }
    }

    func arn(ofTable name: String) -> String {
        Self.arn(ofTable: name, region: configuration.region, accountId: configuration.accountId)
    }

    /// The ARN of table `name` in `region` of account `accountId`.
    static func arn(ofTable name: String, region: String, accountId: String) -> String {
        "arn:aws:dynamodb:\(region):\(accountId):table/\(name)"
    }
}

/// How far a write reaches before it is acknowledged; see ``Database/Configuration/durability``.
public typealias Durability = EddyStorage.Durability
