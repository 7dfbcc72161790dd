import Testing

@testable import Eddy

// The token bucket behind provisioned throughput ("Burst and adaptive capacity"): refilled at the provisioned
// rate, keeping up to 300 seconds of unused capacity, admitting while not empty and charging afterwards.

@Suite struct TokenBucketTests {
    private static let start: Int64 = 1_750_000_000_000

    /// Admits and charges one unit at a time at `now` until the bucket refuses; returns how many got in.
    private static func drain(_ bucket: inout TokenBucket, at now: Int64) -> Int {
        var admitted = 0
        while bucket.admits(atMilliseconds: now), admitted < 100_000 {
            bucket.debit(1, atMilliseconds: now)
            admitted += 1
        }
        return admitted
    }

    @Test func aFiveUnitBucketAbsorbsExactlyTheBurstItSavedThenRefuses() {
        var bucket = TokenBucket(unitsPerSecond: 5, burstSeconds: Limits.burstSecondsMax, nowMilliseconds: Self.start)
        #expect(Self.drain(&bucket, at: Self.start) == 1500)
        #expect(!bucket.admits(atMilliseconds: Self.start))
        // Ten idle minutes save only five minutes' worth.
        let later = Self.start + 600_000
        #expect(Self.drain(&bucket, at: later) == 1500)
        #expect(!bucket.admits(atMilliseconds: later))
    }

    @Test func anEmptyBucketRefillsAtItsRate() {
        var bucket = TokenBucket(unitsPerSecond: 5, burstSeconds: Limits.burstSecondsMax, nowMilliseconds: Self.start)
        _ = Self.drain(&bucket, at: Self.start)
        #expect(Self.drain(&bucket, at: Self.start + 200) == 1)
        #expect(Self.drain(&bucket, at: Self.start + 1200) == 5)
        #expect(Self.drain(&bucket, at: Self.start + 61_200) == 300)
    }

    @Test func aLargeChargeLeavesANegativeBalanceThatMustRefillFirst() {
        var bucket = TokenBucket(unitsPerSecond: 5, burstSeconds: Limits.burstSecondsMax, nowMilliseconds: Self.start)
        bucket.debit(1499, atMilliseconds: Self.start)
        #expect(bucket.admits(atMilliseconds: Self.start))
        bucket.debit(25, atMilliseconds: Self.start)
        #expect(bucket.balance == -24)
        #expect(!bucket.admits(atMilliseconds: Self.start + 4800))
        #expect(bucket.admits(atMilliseconds: Self.start + 5000))
    }

    @Test func aRateChangeTakesEffectAtOnce() {
        var bucket = TokenBucket(unitsPerSecond: 5, burstSeconds: Limits.burstSecondsMax, nowMilliseconds: Self.start)
        _ = Self.drain(&bucket, at: Self.start)
        bucket.setRate(10, atMilliseconds: Self.start)
        #expect(Self.drain(&bucket, at: Self.start + 1000) == 10)
        // A lower rate lowers the ceiling: what was saved beyond it is gone.
        var full = TokenBucket(unitsPerSecond: 5, burstSeconds: Limits.burstSecondsMax, nowMilliseconds: Self.start)
        full.setRate(1, atMilliseconds: Self.start)
        #expect(full.balance == 300)
    }

    @Test func aClockThatStepsBackAddsNothing() {
        var bucket = TokenBucket(unitsPerSecond: 5, burstSeconds: Limits.burstSecondsMax, nowMilliseconds: Self.start)
        _ = Self.drain(&bucket, at: Self.start)
        #expect(!bucket.admits(atMilliseconds: Self.start - 60_000))
        #expect(Self.drain(&bucket, at: Self.start + 1000) == 5)
    }
}
