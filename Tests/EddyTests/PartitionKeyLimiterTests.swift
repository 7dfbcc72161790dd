import Testing

@testable import Eddy

// The limit of one partition key value ("Designing partition keys to distribute your workload"): 3,000 read
// units or 1,000 write units per second, or a linear combination, with no burst, in a bounded memory.

@Suite struct PartitionKeyLimiterTests {
    private static let start: Int64 = 1_750_000_000_000
    private static let hot = PartitionKeyLimiter.Key(resourceId: 7, partitionHash: ItemKey.partitionHash(of: .s("hot")))
    private static let cold = PartitionKeyLimiter.Key(resourceId: 7, partitionHash: ItemKey.partitionHash(of: .s("cold")))

    @Test func readsAndWritesShareOneSecondLinearly() {
        var limiter = PartitionKeyLimiter()
        limiter.charge(Self.hot, readUnits: 1500, writeUnits: 0, atMilliseconds: Self.start)
        #expect(limiter.admits(Self.hot, atMilliseconds: Self.start))
        limiter.charge(Self.hot, readUnits: 0, writeUnits: 499, atMilliseconds: Self.start)
        #expect(limiter.admits(Self.hot, atMilliseconds: Self.start))
        limiter.charge(Self.hot, readUnits: 0, writeUnits: 1, atMilliseconds: Self.start)
        #expect(!limiter.admits(Self.hot, atMilliseconds: Self.start))
        #expect(limiter.admits(Self.cold, atMilliseconds: Self.start))
        // The same value of another table or index is another partition key.
        #expect(limiter.admits(PartitionKeyLimiter.Key(resourceId: 8, partitionHash: ItemKey.partitionHash(of: .s("hot"))), atMilliseconds: Self.start))
        #expect(limiter.admits(Self.hot, atMilliseconds: Self.start + 1000))
    }

    @Test(arguments: [(2999.5, 0.0, 0.5, 0.0), (0.0, 999.0, 0.0, 1.0)])
    func eitherLimitAloneUsesTheSecond(readUnits: Double, writeUnits: Double, lastReadUnits: Double, lastWriteUnits: Double) {
        var limiter = PartitionKeyLimiter()
        limiter.charge(Self.hot, readUnits: readUnits, writeUnits: writeUnits, atMilliseconds: Self.start)
        #expect(limiter.admits(Self.hot, atMilliseconds: Self.start))
        limiter.charge(Self.hot, readUnits: lastReadUnits, writeUnits: lastWriteUnits, atMilliseconds: Self.start)
        #expect(!limiter.admits(Self.hot, atMilliseconds: Self.start))
    }

    @Test func idleTimeSavesNoBurst() {
        var limiter = PartitionKeyLimiter()
        limiter.charge(Self.hot, readUnits: 1, writeUnits: 0, atMilliseconds: Self.start)
        let later = Self.start + 600_000
        limiter.charge(Self.hot, readUnits: 0, writeUnits: 1000, atMilliseconds: later)
        #expect(!limiter.admits(Self.hot, atMilliseconds: later))
    }

    @Test func memoryStaysWithinTheBound() {
        var limiter = PartitionKeyLimiter(keysMax: 8)
        for index in 0..<100 {
            limiter.charge(
                PartitionKeyLimiter.Key(resourceId: 1, partitionHash: ItemKey.partitionHash(of: .s("k\(index)"))), readUnits: 0, writeUnits: 1000,
                atMilliseconds: Self.start)
            #expect(limiter.trackedCount <= 8)
        }
        // The most recent values are remembered, still throttled.
        #expect(!limiter.admits(PartitionKeyLimiter.Key(resourceId: 1, partitionHash: ItemKey.partitionHash(of: .s("k99"))), atMilliseconds: Self.start))
        limiter.forget(resources: [1])
        #expect(limiter.trackedCount == 0)
    }

    @Test func aHotValueStaysThrottledWhileManyOthersPass() {
        var limiter = PartitionKeyLimiter(keysMax: 16)
        limiter.charge(Self.hot, readUnits: 3000, writeUnits: 0, atMilliseconds: Self.start)
        // A thousand other values, each taking a unit while the clock stands still, all below full at once:
        // past the bound, the values closest to full make room, never the hot one.
        for index in 0..<1000 {
            let key = PartitionKeyLimiter.Key(resourceId: 7, partitionHash: ItemKey.partitionHash(of: .s("cold-\(index)")))
            limiter.charge(key, readUnits: 1, writeUnits: 0, atMilliseconds: Self.start)
            #expect(limiter.trackedCount <= 16)
        }
        #expect(!limiter.admits(Self.hot, atMilliseconds: Self.start))
        // A value refilled in a few milliseconds leaves its slot free for the next: the table does not grow.
        var spread = PartitionKeyLimiter(keysMax: 1024)
        for index in 0..<10_000 {
            let key = PartitionKeyLimiter.Key(resourceId: 7, partitionHash: ItemKey.partitionHash(of: .s("spread-\(index)")))
            spread.charge(key, readUnits: 1, writeUnits: 0, atMilliseconds: Self.start + Int64(index))
        }
        #expect(spread.trackedCount <= 64)
    }
}
