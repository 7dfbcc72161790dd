import EddyStorage
import Foundation
import Synchronization

/// The `ClientRequestToken`s of TransactWriteItems: which are running, and which completed within the last
/// 10 minutes with which request.
///
/// A completed token is stored in the `catalog` key space, `transaction-token/<token>` → the request's
/// 128-bit fingerprint and the commit time (16 + 8 bytes big-endian), in the transaction's own batch: a
/// retry after a crash finds it exactly when the transaction committed. Records past their 10 minutes
/// are ignored, not deleted.
final class TransactionTokens: Sendable {
    enum Start {
        /// The token is new (or its 10 minutes are over): run the transaction, then call ``end(_:)``.
        case started
        /// The same request completed with this token within 10 minutes: answer success, write nothing.
        case done
    }

    private struct State {
        var running: Set<String> = []
    }

    private let state = Mutex(State())
    private static let prefix = Array("transaction-token/".utf8)

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
    func begin(_ token: String, fingerprint: UInt128, now: Int64, store: any OrderedKeyValueStore) throws(EddyError) -> Start {
        let claimed = state.withLock { $0.running.insert(token).inserted }
        guard claimed else { throw .transactionInProgress("The transaction with the given request token is already in progress") }
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

    /// Adds the record of `token`, committed at `now` for the request of `fingerprint`, to `batch`.
    static func record(_ token: String, fingerprint: UInt128, at now: Int64, into batch: inout StorageBatch) {
        var writer = ByteWriter(capacity: 24)
        writer.writeBigEndian(UInt64(truncatingIfNeeded: fingerprint >> 64))
        writer.writeBigEndian(UInt64(truncatingIfNeeded: fingerprint))
        writer.writeBigEndian(UInt64(bitPattern: now))
        batch.put(key(token), writer.bytes, in: .catalog)
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

    private static func key(_ token: String) -> [UInt8] {
        prefix + Array(token.utf8)
    }
}
