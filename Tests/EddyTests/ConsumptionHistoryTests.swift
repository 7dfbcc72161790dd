import Testing

@testable import Eddy

// The one-minute datapoints of consumed capacity and throttle events that auto scaling and the capacity
// description read (CloudWatch's per-minute sums of ConsumedReadCapacityUnits, ConsumedWriteCapacityUnits,
// ReadThrottleEvents and WriteThrottleEvents).

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

    @Test func throttleEventsCountInTheirMinuteBesideTheUnits() {
        var history = ConsumptionHistory(nowMilliseconds: Self.start)
        history.record(2, .write, atMilliseconds: Self.start)
        history.recordThrottle(.write, atMilliseconds: Self.start + 1)
        history.recordThrottle(.read, atMilliseconds: Self.start + 60_000)
        var first = CapacityMinute()
        first.consumedWriteCapacityUnits = 2
        first.writeThrottleEvents = 1
        var second = CapacityMinute()
        second.readThrottleEvents = 1
        #expect(history.lastAndCurrent(atMilliseconds: Self.start + 60_001) == (first, second))
        // Two minutes on, neither is the last or the current minute; before the start, nothing was watched.
        #expect(history.lastAndCurrent(atMilliseconds: Self.start + 180_000) == (CapacityMinute(), CapacityMinute()))
        #expect(history.lastAndCurrent(atMilliseconds: Self.start - 1) == (CapacityMinute(), CapacityMinute()))
    }
}
