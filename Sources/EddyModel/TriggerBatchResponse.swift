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
    /// With a tumbling window: the state to carry to the window's next call (Lambda's
    /// `TimeWindowEventResponse`). A windowed call that returns no state has failed.
    public var state: [String: String]?

    public init(batchItemFailures: [BatchItemFailure] = [], state: [String: String]? = nil) {
        self.batchItemFailures = batchItemFailures
        self.state = state
    }

    /// Every record succeeded.
    public static let success = TriggerBatchResponse()
}
