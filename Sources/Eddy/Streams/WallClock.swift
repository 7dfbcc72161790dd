import Foundation
import Synchronization

/// Where a database reads the time of day: stream record times, retention, shard lifetimes, iterator
/// expiry, and trigger mappings' record ages, batching windows and tumbling windows all come from it, so that
/// tests can move time forward instead of sleeping.
public protocol WallClock: Sendable {
    /// Milliseconds since 1970.
    func nowMilliseconds() -> Int64
}

/// The system's time of day.
public struct SystemWallClock: WallClock {
    public init() {}

    public func nowMilliseconds() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }
}

/// A clock that stands still until told to move: for tests of retention, expiry and shard roll-over.
///
/// ```swift
/// let clock = ManualWallClock()
/// let db = try Database(path: path, configuration: .init(clock: clock))
/// clock.advance(bySeconds: 24 * 3600 + 1)
/// ```
public final class ManualWallClock: WallClock {
    private let milliseconds: Atomic<Int64>

    /// A clock showing `milliseconds` since 1970 (the system's time when absent).
    public init(milliseconds: Int64 = SystemWallClock().nowMilliseconds()) {
        self.milliseconds = Atomic(milliseconds)
    }

    public func nowMilliseconds() -> Int64 {
        milliseconds.load(ordering: .acquiring)
    }

    /// Moves the clock forward by `seconds`.
    public func advance(bySeconds seconds: Double) {
        milliseconds.add(Int64(seconds * 1000), ordering: .acquiringAndReleasing)
    }
}
