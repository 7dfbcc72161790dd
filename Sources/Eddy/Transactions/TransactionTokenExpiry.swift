import EddyStorage

extension Database {
    /// Deletes the `ClientRequestToken` records of TransactWriteItems whose 10 minutes are over, by the
    /// database clock; returns how many it deleted. The background job runs it every
    /// ``Configuration/transactionTokenExpiryInterval``.
    ///
    /// It reads only the expired front of the time-ordered expiry keys. A token whose transaction runs is
    /// left for the next pass; the others are held while their records are read and deleted, so that a
    /// transaction reusing one waits and its new record is never deleted. A record is deleted only if it still
    /// holds the commit time its expiry key names (a newer one has its own key).
    ///
    /// - Throws: `InternalServerError` if storage fails; what was deleted before stays deleted.
    @discardableResult
    func deleteExpiredTransactionTokens() async throws(EddyError) -> Int {
        var deleted = 0
        while true {
            let expiredBefore = configuration.clock.nowMilliseconds() - Limits.clientRequestTokenLifetimeMilliseconds + 1
            let expired = try storageCall { () throws -> [(key: [UInt8], token: String, committed: Int64)] in
                let cursor = try store.scan(
                    in: .catalog, from: TransactionTokens.expiryPrefix, to: TransactionTokens.expiryKeyBound(expiredBefore),
                    direction: .forward, snapshot: nil)
                var page: [(key: [UInt8], token: String, committed: Int64)] = []
                while page.count < TransactionTokens.expiryPageSize, let (key, _) = try cursor.next() {
                    let parsed = TransactionTokens.parseExpiryKey(key)
                    page.append((key, parsed?.token ?? "", parsed?.committed ?? .min))
                }
                return page
            }
            guard !expired.isEmpty else { return deleted }
            let claimed = transactionTokens.claimForExpiry(Array(Set(expired.map(\.token))))
            defer { transactionTokens.releaseExpiry(claimed) }
            let held = Set(claimed)
            var batch = StorageBatch()
            var count = 0
            for entry in expired where held.contains(entry.token) {
                let record = try storageCall { try store.get(TransactionTokens.key(entry.token), in: .catalog, snapshot: nil) }
                if let record, TransactionTokens.committed(ofRecord: record) == entry.committed {
                    batch.delete(TransactionTokens.key(entry.token), in: .catalog)
                    count += 1
                }
                batch.delete(entry.key, in: .catalog)
            }
            if !batch.isEmpty { try await committer.commitCatalogChange(PreparedWrite(batch: batch)) }
            deleted += count
            // A page of tokens all running is left for the next pass.
            guard expired.count == TransactionTokens.expiryPageSize, !claimed.isEmpty else { return deleted }
        }
    }
}
