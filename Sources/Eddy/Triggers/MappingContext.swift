import EddyStorage
import Foundation
import Logging
import Synchronization

/// Where a mapping's records go.
enum TriggerSink: Sendable {
    case handler(TriggerHandler)
    /// Writes to tables of the same database, committed with the checkpoint.
    case derivative(DerivativeTransform, targets: Set<String>)
}

/// A mapping as the runtime runs it.
struct RegisteredMapping: Sendable {
    var stored: StoredTriggerMapping
    var streamId: UInt64
    var sourceTable: String
    /// The partition key of the source table, which splits a shard over lanes.
    var partitionKeyName: String
    var sink: TriggerSink
    var onFailure: TriggerFailureDestination?
    /// How the mapping reads its records.
    var recordForm: StreamRecordForm = .streams
}

/// A mapping's ``TriggerMapping/lastProcessingResult``, kept across the runs of its worker.
final class ProcessingResult: Sendable {
    private let value = Mutex(TriggerProcessingResult.noRecordsProcessed)

    var current: String {
        value.withLock { $0 }
    }

    func record(_ result: String) {
        value.withLock { $0 = result }
    }
}

/// What every part of one run of a mapping shares: the mapping and its resolved settings, its metrics and
/// last processing result, and the keys and commits its progress goes through. A class: every lane and
/// batch holds it, and a reference is all they copy.
final class MappingContext: Sendable {
    let database: Database
    let mapping: RegisteredMapping
    let settings: TriggerMappingConfiguration.Resolved
    let metrics: TriggerMetrics
    let result: ProcessingResult

    /// Where the mapping logs what it drops, loses or gives up on.
    let logger: Logger

    init(database: Database, mapping: RegisteredMapping, metrics: TriggerMetrics, result: ProcessingResult, logger: Logger) {
        self.database = database
        self.logger = logger
        self.mapping = mapping
        self.settings = mapping.stored.configuration.resolved
        self.metrics = metrics
        self.result = result
    }

    var uuid: String { mapping.stored.uuid }
    var streamId: UInt64 { mapping.streamId }
    var streamArn: String { mapping.stored.configuration.eventSourceArn }
    /// The function the mapping's on-failure records name.
    var functionArn: String { mapping.stored.target?.functionArn ?? database.functionArn(ofMapping: mapping.stored.name) }
    /// The lanes each shard is split over (ParallelizationFactor).
    var factor: Int { settings.parallelizationFactor }

    /// Now on the database's clock, in milliseconds since 1970: what record ages, batching windows and
    /// tumbling windows are timed on, so that a test clock decides them.
    var nowMilliseconds: Int64 { database.configuration.clock.nowMilliseconds() }

    func checkpointKey(_ shard: UInt32, lane: Int) -> [UInt8] {
        TriggerStore.checkpointKey(uuid, stream: streamId, shard: shard, factor: factor, lane: lane)
    }

    func windowKey(_ shard: UInt32, lane: Int) -> [UInt8] {
        TriggerStore.windowKey(uuid, stream: streamId, shard: shard, factor: factor, lane: lane)
    }

    /// Commits trigger bookkeeping (positions, windows); false if storage failed.
    func commit(_ batch: StorageBatch) async -> Bool {
        do {
            try await database.committer.commitCatalogChange(PreparedWrite(batch: batch))
            return true
        } catch {
            return false
        }
    }

    /// Waits before retry `attempt` (exponential, at most a second); false if the task was cancelled.
    func backoff(_ attempt: Int) async -> Bool {
        do {
            try await Task.sleep(for: .milliseconds(Swift.min(1_000, 1 << Swift.min(attempt, 10))))
            return true
        } catch {
            return false
        }
    }

    /// Whether `record` is older than the settings' `maximumRecordAgeInSeconds` at `now` (milliseconds since
    /// 1970).
    func isTooOld(_ record: StreamRecord, now: Int64) -> Bool {
        settings.maximumRecordAgeInSeconds >= 0
            && Double(now) / 1000 - record.dynamodb.approximateCreationDateTime > Double(settings.maximumRecordAgeInSeconds)
    }
}
