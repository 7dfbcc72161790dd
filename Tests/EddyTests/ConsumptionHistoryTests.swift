import Testing

@testable import Eddy

// The one-minute datapoints of consumed capacity that auto scaling reads (CloudWatch's per-minute sums of
// ConsumedReadCapacityUnits and ConsumedWriteCapacityUnits).

@Suite struct ConsumptionHistoryTests {
    /// The start of minute 1000.
    private static let start: Int64 = 60_000_000

    @Test func eachMinuteSumsItsUnitsAndAnUnwatchedMinuteIsNoDatapoint() {
        var history = ConsumptionHistory(nowMilliseconds: Self.start + 30_000)
        history.record(2, .read, atMilliseconds: Self.start + 30_000)
        history.record(3, .read, atMilliseconds: Self.start + 59_999)
        history.record(4, .write, atMilliseconds: Self.start + 60_000)
        history.record(1, .read, atMilliseconds: Self.start + 180_000)
        #expect(history.units(.read, minutes: 5, before: 1004) == [nil, 5, 0, 0, 1])
        #expect(history.units(.write, minutes: 3, before: 1003) == [0, 4, 0])
        // Minutes after the last charge are idle.
        #expect(history.units(.read, minutes: 2, before: 1010) == [0, 0])
    }

    @Test func onlyTheLastTwentyMinutesAreKept() {
        var history = ConsumptionHistory(nowMilliseconds: Self.start)
        for minute in 0..<30 {
            history.record(Double(minute), .read, atMilliseconds: Self.start + Int64(minute) * 60_000)
        }
        let kept = history.units(.read, minutes: 21, before: 1030)
        #expect(kept.first == .some(nil))
        #expect(kept.dropFirst().map { $0 ?? -1 } == (10..<30).map(Double.init))
    }
}
