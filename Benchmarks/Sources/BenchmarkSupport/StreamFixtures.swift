import Dispatch
import Eddy

/// The current time of the monotonic clock, in nanoseconds.
@inlinable
public func monotonicNanoseconds() -> UInt64 {
    DispatchTime.now().uptimeNanoseconds
}

/// A record's arrival at a reader or a handler: the item's id and the monotonic time it arrived.
public struct Delivery: Sendable {
    public var id: String
    public var nanoseconds: UInt64

    public init(id: String, nanoseconds: UInt64) {
        self.id = id
        self.nanoseconds = nanoseconds
    }
}

extension EddyFixture {
    /// The ARN of the benchmark table's stream.
    public static func streamArn(of db: Database) async throws -> String {
        guard let arn = try await db.describeTable(tableName: EddyLayout.tableName).latestStreamArn else {
            fatalError("the benchmark table has no stream")
        }
        return arn
    }

    /// Writes `records` new items (`EddyLayout.item(0)` on) to the benchmark table, so that its stream holds
    /// that many records: BatchWriteItem of 25 items per call from `clients` tasks on ``CoreExecutor``.
    /// `records` must be a multiple of 25 × `clients`.
    public static func fillStream(of db: Database, records: Int, clients: Int) async throws {
        let batchSize = 25
        precondition(records % (batchSize * clients) == 0)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in 0..<clients {
                group.addTask(executorPreference: CoreExecutor.shared) {
                    var first = client * batchSize
                    while first < records {
                        let requests = (first..<first + batchSize).map {
                            WriteRequest(putRequest: PutRequest(item: EddyLayout.item($0)))
                        }
                        try await db.batchWriteItem(BatchWriteItemInput(requestItems: [EddyLayout.tableName: requests]))
                        first += clients * batchSize
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
