import Eddy

extension TriggerRuntime {
    /// Registers a mapping whose sink is `sink`'s index: each item of the table is one document (its `_id`
    /// from the primary key, see ``SearchDocumentID``; its source the item's latest image as plain JSON),
    /// INSERT and MODIFY index it, REMOVE deletes it. Before it registers, it makes the index ready
    /// (``SearchSink/prepareIndex(keys:deletedVersionsKeptSeconds:)``): created with a mapping if missing,
    /// its `index.gc_deletes` raised to ``deletedVersionsKeptSeconds(_:)``.
    ///
    /// Every action carries the record's sequence number as an external version (`version_type=external`):
    /// Elasticsearch stores a change only if its version is higher than the document's, and answers 409
    /// otherwise, which the sink counts as done. So a batch sent again after a failure, or a change arriving
    /// after a later one of its item, never brings an older image back, and a delete keeps its version (as a
    /// tombstone) for `index.gc_deletes`, longer than any record can be delivered after it was written.
    ///
    /// A batch is one bulk request (several for a batch of more than 8 MB), and the mapping's checkpoint
    /// advances once Elasticsearch has answered for every action. A batch that fails (the cluster away or
    /// answering with an error, a document refused) is retried with backoff as `MaximumRetryAttempts` and
    /// `MaximumRecordAgeInSeconds` say (by default until it succeeds), then reported to `onFailure`. As in
    /// Kinesis Data Streams for DynamoDB, the records carry the new image whatever the stream's view type.
    ///
    /// With `target`, the mapping keeps what the sink stands for (``TriggerMapping/target``), so that the
    /// application can make the sink again and register it after a restart.
    ///
    /// - Throws: as ``TriggerRuntime/register(name:configuration:onFailure:handler:)``; `ValidationException`
    ///   for a tumbling window, or an index that cannot be made ready (the cluster does not answer, or
    ///   refuses), with Elasticsearch's reason.
    @discardableResult
    public func registerSearch(
        name: String, configuration: TriggerMappingConfiguration, sink: SearchSink,
        onFailure: TriggerFailureDestination? = nil, target: TriggerMappingTarget? = nil
    ) async throws(EddyError) -> TriggerMapping {
        if (configuration.tumblingWindowInSeconds ?? 0) > 0 {
            throw .validation("A search-index mapping cannot have a tumbling window")
        }
        let stream = try await database.describeStream(DescribeStreamInput(streamArn: configuration.eventSourceArn, limit: 1))
        let table = try await database.describeTable(tableName: stream.streamDescription.tableName)
        let keys = SearchIndexKeys(keySchema: stream.streamDescription.keySchema, definitions: table.attributeDefinitions)
        do throws(SearchSinkError) {
            try await sink.prepareIndex(keys: keys, deletedVersionsKeptSeconds: Self.deletedVersionsKeptSeconds(configuration))
        } catch {
            throw .validation("Index \(sink.index) at \(sink.endpoint): \(error)")
        }
        return try await registerReportingFailures(
            name: name, configuration: configuration, onFailure: onFailure, recordForm: .kinesis, target: target
        ) { event in
            try await sink.store(event.records, keys: keys)
            return .success
        }
    }

    /// How long the index of a mapping with `configuration` keeps deleted documents' versions, in seconds:
    /// the stream's retention (24 hours) plus the mapping's `MaximumRecordAgeInSeconds` (the retention again
    /// when it is -1, no limit). A record is delivered, first or again, at most that long after it was
    /// written (its age is checked before each attempt, and retention trims it anyway), and a delete is
    /// applied after the record it follows was written; so while an older change of a deleted item can still
    /// come, the delete's version is there to refuse it.
    public static func deletedVersionsKeptSeconds(_ configuration: TriggerMappingConfiguration) -> Int {
        let retentionSeconds = Int(Limits.streamRetentionMilliseconds / 1000)
        let ageSeconds = configuration.maximumRecordAgeInSeconds ?? -1
        return retentionSeconds + (ageSeconds >= 0 ? ageSeconds : retentionSeconds)
    }
}
