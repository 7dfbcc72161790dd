/// What one table or global index consumed and how often it was throttled in each of its last minutes: the
/// one-minute datapoints (CloudWatch's `ConsumedReadCapacityUnits`, `ConsumedWriteCapacityUnits`,
/// `ReadThrottleEvents` and `WriteThrottleEvents`, summed per minute) that auto scaling's target tracking and
/// ``Database/describeCapacity(tableName:)`` read.
///
/// Minutes are counted since 1970 on the database clock. Only the last ``minutesMax`` minutes are kept; a
/// minute in which nothing happened holds zeros. Kept whether or not throttling is enforced.
struct ConsumptionHistory: Sendable, Equatable {
    /// How many minutes are kept: more than the 15 datapoints a scale-in waits for.
    static let minutesMax = 20

    /// The first minute the history covers: a minute before it was not watched, so it is no datapoint.
    let startMinute: Int64
    /// The minute of the last entry of ``kept``.
    private var lastMinute: Int64
    /// One entry per minute, oldest first, ending at ``lastMinute``.
    private var kept: [CapacityMinute] = []

    /// An empty history that starts at the minute of `nowMilliseconds`.
    init(nowMilliseconds: Int64) {
        startMinute = Self.minute(of: nowMilliseconds)
        lastMinute = startMinute - 1
    }

    /// The minute (since 1970) of a time in milliseconds.
    static func minute(of milliseconds: Int64) -> Int64 {
        milliseconds >= 0 ? milliseconds / 60_000 : (milliseconds - 59_999) / 60_000
    }

    /// Adds `units` consumed by `operation` at `nowMilliseconds` to its minute.
    mutating func record(_ units: Double, _ operation: CapacityOperation, atMilliseconds nowMilliseconds: Int64) {
        guard advance(to: nowMilliseconds) else { return }
        switch operation {
        case .read: kept[kept.count - 1].consumedReadCapacityUnits += units
        case .write: kept[kept.count - 1].consumedWriteCapacityUnits += units
        }
    }

    /// Counts a request of `operation` refused at `nowMilliseconds` in its minute.
    mutating func recordThrottle(_ operation: CapacityOperation, atMilliseconds nowMilliseconds: Int64) {
        guard advance(to: nowMilliseconds) else { return }
        switch operation {
        case .read: kept[kept.count - 1].readThrottleEvents += 1
        case .write: kept[kept.count - 1].writeThrottleEvents += 1
        }
    }

    /// Starts the minute of `nowMilliseconds` if it is new, with zeros for the minutes skipped; false if there
    /// is no minute to count in. A clock that stepped back counts in the last minute kept.
    private mutating func advance(to nowMilliseconds: Int64) -> Bool {
        let minute = Self.minute(of: nowMilliseconds)
        if minute > lastMinute {
            let gap = Int(min(minute - lastMinute, Int64(Self.minutesMax)))
            kept.append(contentsOf: repeatElement(CapacityMinute(), count: gap))
            if kept.count > Self.minutesMax { kept.removeFirst(kept.count - Self.minutesMax) }
            lastMinute = minute
        }
        return !kept.isEmpty
    }

    /// The units `operation` consumed in each of the `count` minutes before `minute`, oldest first; a minute
    /// before ``startMinute`` is nil (not watched), a watched minute without consumption zero.
    func units(_ operation: CapacityOperation, minutes count: Int, before minute: Int64) -> [Double?] {
        (0..<count).map { offset in
            entry(at: minute - Int64(count - offset)).map {
                operation == .read ? $0.consumedReadCapacityUnits : $0.consumedWriteCapacityUnits
            }
        }
    }

    /// The minute before the one of `nowMilliseconds` (CloudWatch's latest datapoint) and the one in progress,
    /// zeros where nothing was watched.
    func lastAndCurrent(atMilliseconds nowMilliseconds: Int64) -> (last: CapacityMinute, current: CapacityMinute) {
        let minute = Self.minute(of: nowMilliseconds)
        return (entry(at: minute - 1) ?? CapacityMinute(), entry(at: minute) ?? CapacityMinute())
    }

    /// The entry of `minute`: nil before ``startMinute`` or past what is kept, zeros for a watched minute
    /// nothing happened in.
    private func entry(at minute: Int64) -> CapacityMinute? {
        guard minute >= startMinute else { return nil }
        let fromLast = lastMinute - minute
        guard fromLast >= 0 else { return CapacityMinute() }
        guard fromLast < Int64(kept.count) else { return nil }
        return kept[kept.count - 1 - Int(fromLast)]
    }
}

/// What a table or global index consumed and how often it was throttled over one minute, as CloudWatch's
/// one-minute sums of DynamoDB's metrics.
public struct CapacityMinute: Codable, Sendable, Equatable {
    public var consumedReadCapacityUnits: Double = 0
    public var consumedWriteCapacityUnits: Double = 0
    public var readThrottleEvents: Int = 0
    public var writeThrottleEvents: Int = 0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case consumedReadCapacityUnits = "ConsumedReadCapacityUnits", consumedWriteCapacityUnits = "ConsumedWriteCapacityUnits"
        case readThrottleEvents = "ReadThrottleEvents", writeThrottleEvents = "WriteThrottleEvents"
    }
}
