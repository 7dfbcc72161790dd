import Synchronization

/// Async per-item locks: read-modify-write of one item runs under its lock, from the read until the batch
/// has committed, so concurrent updates of one item never lose an update.
///
/// A waiter is a suspended continuation, never a blocked thread: the cooperative pool has few threads, and a
/// mutex held across an `await` would deadlock it. The lock is handed directly to the first waiter on
/// release, so waiters are served in arrival order. Keys are spread over stripes to keep the bookkeeping
/// mutex uncontended.
final class ItemLocks: Sendable {
    private typealias Waiters = [UnsafeContinuation<Void, Never>]
    private static let stripeCount = 64
    private final class Stripe: Sendable {
        let holders = Mutex<[ItemKey: Waiters]>([:])
    }

    private let stripes: [Stripe]

    init() {
        stripes = (0..<Self.stripeCount).map { _ in Stripe() }
    }

    /// Runs `body` holding the locks of every key in `keys` (taken in sorted order, so that two callers
    /// locking overlapping sets cannot deadlock).
    func withLocks<Result: Sendable>(
        _ keys: [ItemKey],
        _ body: () async throws(EddyError) -> Result
    ) async throws(EddyError) -> Result {
        let ordered = Set(keys).sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }
        for key in ordered { await acquire(key) }
        defer { for key in ordered.reversed() { release(key) } }
        return try await body()
    }

    /// Runs `body` holding the lock of `key`.
    func withLock<Result: Sendable>(
        _ key: ItemKey,
        _ body: () async throws(EddyError) -> Result
    ) async throws(EddyError) -> Result {
        await acquire(key)
        defer { release(key) }
        return try await body()
    }

    private func stripe(of key: ItemKey) -> Stripe {
        stripes[Int(UInt(bitPattern: key.hashValue) % UInt(Self.stripeCount))]
    }

    private func acquire(_ key: ItemKey) async {
        let stripe = stripe(of: key)
        let acquired = stripe.holders.withLock { holders in
            guard holders[key] == nil else { return false }
            holders[key] = []
            return true
        }
        if acquired { return }
        await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
            let acquiredMeanwhile = stripe.holders.withLock { holders in
                guard holders[key] != nil else {
                    holders[key] = []
                    return true
                }
                holders[key]!.append(continuation)
                return false
            }
            if acquiredMeanwhile { continuation.resume() }
        }
    }

    private func release(_ key: ItemKey) {
        let next = stripe(of: key).holders.withLock { holders -> UnsafeContinuation<Void, Never>? in
            guard var waiters = holders[key], !waiters.isEmpty else {
                holders[key] = nil
                return nil
            }
            let first = waiters.removeFirst()
            holders[key] = waiters
            return first
        }
        next?.resume()
    }
}
