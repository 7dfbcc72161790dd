/// What a handler of a mapping with `ReportBatchItemFailures` returns: the records that failed, by sequence
/// number, in the shape of Lambda's partial batch response (`{"batchItemFailures":[{"itemIdentifier":"…"}]}`).
/// The runtime retries the batch from the first failed record; an empty identifier, or one that is not in
/// the batch, fails the whole batch.
public struct TriggerBatchResponse: Codable, Sendable, Equatable {
    /// One failed record.
    public struct BatchItemFailure: Codable, Sendable, Equatable {
        /// The record's `dynamodb.SequenceNumber`.
        public var itemIdentifier: String?

        public init(itemIdentifier: String?) {
            self.itemIdentifier = itemIdentifier
        }
    }

    public var batchItemFailures: [BatchItemFailure]

    public init(batchItemFailures: [BatchItemFailure] = []) {
        self.batchItemFailures = batchItemFailures
    }

    /// Every record succeeded.
    public static let success = TriggerBatchResponse()
}
