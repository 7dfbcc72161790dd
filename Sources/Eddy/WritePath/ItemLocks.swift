import Synchronization

/// Async per-item locks: read-modify-write of one item runs under its lock, from the read until the batch
/// has committed, so concurrent updates of one item never lose an update.
///
/// A waiter is a suspended continuation, never a blocked thread: the cooperative pool has few threads, and a
/// mutex held across an `await` would deadlock it. The lock is handed directly to the first waiter on
/// release, so waiters are served in arrival order. Keys are spread over stripes to keep the bookkeeping
/// mutex uncontended.
///
/// A transaction never waits: it takes all its keys at once or none (``withTransactionLocks(_:_:)``), and
/// while it holds them a request's write on one of them fails with `TransactionConflictException` instead of
/// waiting, as in DynamoDB (the writes Eddy makes itself, such as Time to Live deletions, still wait).
final class ItemLocks: Sendable {
    private typealias Waiters = [UnsafeContinuation<Bool, Never>]
    /// A held lock: who waits for it, and whether a transaction holds it.
    private struct Holder {
        var waiters: Waiters = []
        var transaction = false
    }

    /// What a write does when a transaction holds an item it must lock.
    enum TransactionHeld {
        /// Wait until the transaction is done.
        case wait
        /// Fail with `TransactionConflictException` (a request's own write).
        case fail
    }

    private static let stripeCount = 64
    private final class Stripe: Sendable {
        let holders = Mutex<[ItemKey: Holder]>([:])
    }

    private let stripes: [Stripe]

    init() {
        stripes = (0..<Self.stripeCount).map { _ in Stripe() }
    }

    /// Runs `body` holding the locks of every key in `keys` (taken in sorted order, so that two callers
    /// locking overlapping sets cannot deadlock).
    func withLocks<Result: Sendable>(
        _ keys: [ItemKey], ifTransactionHolds held: TransactionHeld = .wait,
        _ body: () async throws(EddyError) -> Result
    ) async throws(EddyError) -> Result {
        let ordered = Self.ordered(keys)
        var taken: [ItemKey] = []
        defer { for key in taken.reversed() { release(key) } }
        for key in ordered {
            guard await acquire(key, failIfTransaction: held == .fail) else { throw Self.conflict }
            taken.append(key)
        }
        return try await body()
    }

    /// Runs `body` holding the lock of `key`.
    func withLock<Result: Sendable>(
        _ key: ItemKey, ifTransactionHolds held: TransactionHeld = .wait,
        _ body: () async throws(EddyError) -> Result
    ) async throws(EddyError) -> Result {
        guard await acquire(key, failIfTransaction: held == .fail) else { throw Self.conflict }
        defer { release(key) }
        return try await body()
    }

    /// Runs `body` holding the locks of every key in `keys`, taken at once for a transaction, if none of
    /// them is held; otherwise takes none and returns the keys that were held, without running `body`.
    func withTransactionLocks<Result: Sendable>(
        _ keys: [ItemKey], _ body: () async throws(EddyError) -> Result
    ) async throws(EddyError) -> Swift.Result<Result, TransactionLockConflict> {
        var taken: [ItemKey] = []
        var held: Set<ItemKey> = []
        for key in Self.ordered(keys) {
            if tryAcquireForTransaction(key) { taken.append(key) } else { held.insert(key) }
        }
        defer { for key in taken.reversed() { release(key) } }
        guard held.isEmpty else { return .failure(TransactionLockConflict(heldKeys: held)) }
        return .success(try await body())
    }

    private static let conflict = EddyError.transactionConflict("Transaction is ongoing for the item")

    private static func ordered(_ keys: [ItemKey]) -> [ItemKey] {
        Set(keys).sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }
    }

    private func stripe(of key: ItemKey) -> Stripe {
        stripes[Int(UInt(bitPattern: key.hashValue) % UInt(Self.stripeCount))]
    }

    private func tryAcquireForTransaction(_ key: ItemKey) -> Bool {
        stripe(of: key).holders.withLock { holders in
            guard holders[key] == nil else { return false }
            holders[key] = Holder(transaction: true)
            return true
        }
    }

    /// Takes the lock of `key`, waiting for it if needed; false, without taking it, if a transaction holds it
    /// and `failIfTransaction`.
    private func acquire(_ key: ItemKey, failIfTransaction: Bool) async -> Bool {
        let stripe = stripe(of: key)
        let outcome: Bool? = stripe.holders.withLock { holders in
            guard let holder = holders[key] else {
                holders[key] = Holder()
                return true
            }
            return failIfTransaction && holder.transaction ? false : nil
        }
        if let outcome { return outcome }
        return await withUnsafeContinuation { (continuation: UnsafeContinuation<Bool, Never>) in
            let outcome: Bool? = stripe.holders.withLock { holders in
                guard holders[key] != nil else {
                    holders[key] = Holder()
                    return true
                }
                if failIfTransaction && holders[key]!.transaction { return false }
                holders[key]!.waiters.append(continuation)
                return nil
            }
            if let outcome { continuation.resume(returning: outcome) }
        }
    }

    private func release(_ key: ItemKey) {
        let next = stripe(of: key).holders.withLock { holders -> UnsafeContinuation<Bool, Never>? in
            guard var holder = holders[key], !holder.waiters.isEmpty else {
                holders[key] = nil
                return nil
            }
            // The lock passes to the first waiter, which is never a transaction.
            let first = holder.waiters.removeFirst()
            holder.transaction = false
            holders[key] = holder
            return first
        }
        next?.resume(returning: true)
    }
}

/// The keys a transaction found locked by another request.
struct TransactionLockConflict: Error {
    let heldKeys: Set<ItemKey>
}
