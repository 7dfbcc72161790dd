/// The read and write units one table or global index consumed in each of its last minutes: the one-minute
/// datapoints (CloudWatch's `ConsumedReadCapacityUnits` and `ConsumedWriteCapacityUnits`, summed per minute)
/// that auto scaling's target tracking reads.
///
/// Minutes are counted since 1970 on the database clock. Only the last ``minutesMax`` minutes are kept; a
/// minute in which nothing was consumed holds zero.
struct ConsumptionHistory: Sendable, Equatable {
    /// How many minutes are kept: more than the 15 datapoints a scale-in waits for.
    static let minutesMax = 20

    /// The first minute the history covers: a minute before it was not watched, so it is no datapoint.
    let startMinute: Int64
    /// The minute of the last entry of ``read`` and ``write``.
    private var lastMinute: Int64
    /// Units per minute, oldest first, ending at ``lastMinute``.
    private var read: [Double] = []
    private var write: [Double] = []

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
        let minute = Self.minute(of: nowMilliseconds)
        // A clock that stepped back charges the last minute kept.
        if minute > lastMinute {
            let gap = Int(min(minute - lastMinute, Int64(Self.minutesMax)))
            read.append(contentsOf: repeatElement(0, count: gap))
            write.append(contentsOf: repeatElement(0, count: gap))
            if read.count > Self.minutesMax {
                read.removeFirst(read.count - Self.minutesMax)
                write.removeFirst(write.count - Self.minutesMax)
            }
            lastMinute = minute
        }
        guard !read.isEmpty else { return }
        switch operation {
        case .read: read[read.count - 1] += units
        case .write: write[write.count - 1] += units
        }
    }

    /// The units `operation` consumed in each of the `count` minutes before `minute`, oldest first; a minute
    /// before ``startMinute`` is nil (not watched), a watched minute without consumption zero.
    func units(_ operation: CapacityOperation, minutes count: Int, before minute: Int64) -> [Double?] {
        let kept = operation == .read ? read : write
        return (0..<count).map { offset in
            let wanted = minute - Int64(count - offset)
            guard wanted >= startMinute else { return nil }
            let fromLast = lastMinute - wanted
            guard fromLast >= 0 else { return 0 }
            guard fromLast < Int64(kept.count) else { return nil }
            return kept[kept.count - 1 - Int(fromLast)]
        }
    }
}
