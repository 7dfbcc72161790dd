import EddyStorage
import Foundation
import Synchronization

/// The `ClientRequestToken`s of TransactWriteItems: which are running, and which completed within the last
/// 10 minutes with which request.
///
/// A completed token is stored in the `catalog` key space, `transaction-token/<token>` → the request's
/// 128-bit fingerprint and the commit time (16 + 8 bytes big-endian), in the transaction's own batch: a
/// retry after a crash finds it exactly when the transaction committed. The same batch writes
/// `transaction-token-expiry/<commit time (8 bytes big-endian)><token>` (empty value), so that the expiry
/// job (``Database/deleteExpiredTransactionTokens()``) finds the records whose 10 minutes are over by reading
/// only the expired front of that time-ordered range. A record past its 10 minutes is ignored until the job
/// deletes it.
final class TransactionTokens: Sendable {
    enum Start {
        /// The token is new (or its 10 minutes are over): run the transaction, then call ``end(_:)``.
        case started
        /// The same request completed with this token within 10 minutes: answer success, write nothing.
        case done
    }

    private struct State {
        /// Tokens whose transaction runs, and tokens the expiry job is deleting.
        var running: Set<String> = []
        /// The tokens of `running` that the expiry job holds: a transaction with one of them waits.
        var expiring: Set<String> = []
        /// The transactions waiting for the expiry job to give back a token.
        var waiting: [String: [CheckedContinuation<Void, Never>]] = [:]
    }

    private enum Claim {
        case claimed
        case inProgress
        case expiring
    }

    private let state = Mutex(State())
    private static let prefix = Array("transaction-token/".utf8)
    static let expiryPrefix = Array("transaction-token-expiry/".utf8)
    /// Present once every token record has its expiry key (records written before expiry keys existed got
    /// theirs when the database first opened with them).
    private static let expiryIndexedKey = Array("transaction-token-expiry-indexed".utf8)
    /// How many expired tokens the expiry job deletes per batch.
    static let expiryPageSize = 500

    /// Checks `token` (1 to 36 characters).
    static func validate(_ token: String) throws(EddyError) {
        let length = token.utf8.count
        if length < 1 {
            throw TableValidation.constraint(value: token, field: "clientRequestToken", "Member must have length greater than or equal to 1")
        }
        if length > 36 {
            throw TableValidation.constraint(value: token, field: "clientRequestToken", "Member must have length less than or equal to 36")
        }
    }

    /// Marks `token` running, unless it is running already or completed within 10 minutes.
    /// While the expiry job is deleting the token's old record, waits for it to finish.
    func begin(_ token: String, fingerprint: UInt128, now: Int64, store: any OrderedKeyValueStore) async throws(EddyError) -> Start {
        while true {
            let claim = state.withLock { state -> Claim in
                if state.expiring.contains(token) { return .expiring }
                return state.running.insert(token).inserted ? .claimed : .inProgress
            }
            if claim == .claimed { break }
            if claim == .inProgress {
                throw .transactionInProgress("The transaction with the given request token is already in progress")
            }
            // The expiry job holds the token for one read and one batch; ``releaseExpiry(_:)`` resumes.
            await withCheckedContinuation { continuation in
                let waits = state.withLock { state in
                    guard state.expiring.contains(token) else { return false }
                    state.waiting[token, default: []].append(continuation)
                    return true
                }
                if !waits { continuation.resume() }
            }
        }
        let stored: [UInt8]?
        do {
            stored = try store.get(Self.key(token), in: .catalog, snapshot: nil)
        } catch {
            end(token)
            throw .internalServerError("Cannot read the request token: \(error.message)")
        }
        guard let stored, stored.count == 24 else { return .started }
        var reader = ByteReader(stored)
        let high = (try? reader.readBigEndianUInt64()) ?? 0
        let low = (try? reader.readBigEndianUInt64()) ?? 0
        let committed = Int64(bitPattern: (try? reader.readBigEndianUInt64()) ?? 0)
        guard now - committed < Limits.clientRequestTokenLifetimeMilliseconds else { return .started }
        end(token)
        guard UInt128(high) << 64 | UInt128(low) == fingerprint else {
            throw .idempotentParameterMismatch(
                "DynamoDB rejected the request because you retried a request with a different payload but with an idempotent token that was already used.")
        }
        return .done
    }

    /// Marks `token` no longer running.
    func end(_ token: String) {
        _ = state.withLock { $0.running.remove(token) }
    }

    /// Claims for the expiry job those of `tokens` no transaction runs with; returns them.
    func claimForExpiry(_ tokens: [String]) -> [String] {
        state.withLock { state in
            tokens.filter { token in
                guard state.running.insert(token).inserted else { return false }
                state.expiring.insert(token)
                return true
            }
        }
    }

    /// How many transactions wait for the expiry job to give back `token`.
    func waitingCount(for token: String) -> Int {
        state.withLock { $0.waiting[token]?.count ?? 0 }
    }

    /// Gives back the tokens of ``claimForExpiry(_:)``, resuming the transactions that wait for them.
    func releaseExpiry(_ tokens: [String]) {
        let resumed = state.withLock { state in
            tokens.flatMap { token in
                state.expiring.remove(token)
                state.running.remove(token)
                return state.waiting.removeValue(forKey: token) ?? []
            }
        }
        for continuation in resumed { continuation.resume() }
    }

    /// Adds the record of `token`, committed at `now` for the request of `fingerprint`, and its expiry key to
    /// `batch`.
    static func record(_ token: String, fingerprint: UInt128, at now: Int64, into batch: inout StorageBatch) {
        var writer = ByteWriter(capacity: 24)
        writer.writeBigEndian(UInt64(truncatingIfNeeded: fingerprint >> 64))
        writer.writeBigEndian(UInt64(truncatingIfNeeded: fingerprint))
        writer.writeBigEndian(UInt64(bitPattern: now))
        batch.put(key(token), writer.bytes, in: .catalog)
        batch.put(expiryKey(token, committed: now), [], in: .catalog)
    }

    /// The commit time a stored record holds, or nil if it is not a record.
    static func committed(ofRecord bytes: [UInt8]) -> Int64? {
        guard bytes.count == 24 else { return nil }
        var reader = ByteReader(Array(bytes[16...]))
        return (try? reader.readBigEndianUInt64()).map { Int64(bitPattern: $0) }
    }

    /// The key that files `token`, committed at `committed`, under its commit time.
    static func expiryKey(_ token: String, committed: Int64) -> [UInt8] {
        expiryKeyBound(committed) + Array(token.utf8)
    }

    /// The first expiry key of the tokens committed at `committed` (commit times before 1970 sort first).
    static func expiryKeyBound(_ committed: Int64) -> [UInt8] {
        var writer = ByteWriter(capacity: expiryPrefix.count + 8)
        writer.write(expiryPrefix)
        writer.writeBigEndian(UInt64(max(committed, 0)))
        return writer.bytes
    }

    /// The token and commit time an expiry key names.
    static func parseExpiryKey(_ key: [UInt8]) -> (token: String, committed: Int64)? {
        guard key.count > expiryPrefix.count + 8 else { return nil }
        var reader = ByteReader(Array(key[expiryPrefix.count..<(expiryPrefix.count + 8)]))
        guard let committed = try? reader.readBigEndianUInt64() else { return nil }
        return (String(decoding: key[(expiryPrefix.count + 8)...], as: UTF8.self), Int64(bitPattern: committed))
    }

    /// Gives every token record written before expiry keys existed its expiry key, once per data directory.
    static func indexLegacyRecords(in store: any OrderedKeyValueStore, durability: Durability) throws(StorageError) {
        guard try store.get(expiryIndexedKey, in: .catalog, snapshot: nil) == nil else { return }
        var batch = StorageBatch()
        let cursor = try store.scan(in: .catalog, from: prefix, to: prefix.prefixSuccessor, direction: .forward, snapshot: nil)
        while let (key, value) = try cursor.next() {
            guard let committed = committed(ofRecord: value) else { continue }
            let token = String(decoding: key[prefix.count...], as: UTF8.self)
            batch.put(expiryKey(token, committed: committed), [], in: .catalog)
        }
        batch.put(expiryIndexedKey, [], in: .catalog)
        try store.write(batch, durability: durability)
    }

    /// A 128-bit FNV-1a hash of the request without its token, encoded with sorted keys: equal requests
    /// have equal fingerprints.
    static func fingerprint(of input: TransactWriteItemsInput) -> UInt128 {
        var request = input
        request.clientRequestToken = nil
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let bytes = (try? encoder.encode(request)) ?? Data()
        var hash: UInt128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d
        let prime: UInt128 = 0x0000_0000_0100_0000_0000_0000_0000_013b
        for byte in bytes {
            hash ^= UInt128(byte)
            hash &*= prime
        }
        return hash
    }

    static func key(_ token: String) -> [UInt8] {
        prefix + Array(token.utf8)
    }
}
