import EddyStorage

extension Database {
    /// Enables or disables Time to Live on a table (DynamoDB's `UpdateTimeToLive`). Once enabled, the
    /// database's background job (every ``Configuration-swift.struct/timeToLiveSweepInterval``) deletes the
    /// items whose expiry attribute is a Number of seconds since 1970 in the past (but not more than five
    /// years past), each with a `REMOVE` stream record naming the service.
    ///
    /// Every write files its item by expiry from the moment this returns; the items already in the table are
    /// filed by a background job (resumed when the database opens), until which the sweep reads the whole
    /// table. Disabling removes the table's expiry entries at once.
    ///
    /// ```swift
    /// try await db.updateTimeToLive(UpdateTimeToLiveInput(
    ///     tableName: "Sessions", timeToLiveSpecification: TimeToLiveSpecification(enabled: true, attributeName: "expiresAt")))
    /// ```
    ///
    /// - Throws: `ValidationException` if Time to Live is already in the state asked for, if disabling names
    ///   another attribute than the enabled one, or if the setting changed less than an hour ago;
    ///   `ResourceNotFoundException` if there is no such table.
    @discardableResult
    public func updateTimeToLive(_ input: UpdateTimeToLiveInput) async throws(EddyError) -> UpdateTimeToLiveOutput {
        try requireOpen()
        try TableValidation.validateTableName(input.tableName)
        let specification = input.timeToLiveSpecification
        let nameLength = specification.attributeName.utf8.count
        guard nameLength >= 1 else {
            throw TableValidation.constraint(
                value: specification.attributeName, field: "timeToLiveSpecification.attributeName",
                "Member must have length greater than or equal to 1")
        }
        guard nameLength <= 255 else {
            throw TableValidation.constraint(
                value: specification.attributeName, field: "timeToLiveSpecification.attributeName",
                "Member must have length less than or equal to 255")
        }
        return try await locks.withLock(Self.catalogLockKey) { () async throws(EddyError) -> UpdateTimeToLiveOutput in
            guard let table = catalog.table(named: input.tableName) else {
                throw .resourceNotFound("Requested resource not found: Table: \(input.tableName) not found")
            }
            let current = table.definition.timeToLive
            let now = configuration.clock.nowMilliseconds()
            if specification.enabled {
                guard current?.enabled != true else { throw .validation("TimeToLive is already enabled") }
            } else {
                guard let current, current.enabled else { throw .validation("TimeToLive is already disabled") }
                guard current.attributeName == specification.attributeName else {
                    throw .validation("TimeToLive is active on a different AttributeName: current AttributeName is \(current.attributeName)")
                }
            }
            if let current, now - current.updatedMilliseconds < Self.timeToLiveUpdateIntervalMilliseconds {
                throw .validation("Time to live has been modified multiple times within a fixed interval")
            }
            var definition = table.definition
            definition.timeToLive = TimeToLiveSetting(
                attributeName: specification.attributeName, enabled: specification.enabled, updatedMilliseconds: now)
            // Writes prepared under the previous setting are prepared again, so each moves exactly the expiry
            // entries of the setting it commits under.
            let version = (definition.indexVersion ?? 0) + 1
            definition.indexVersion = version
            var batch = StorageBatch()
            if specification.enabled {
                batch.put(ExpiryIndex.progressKey(ofTable: table.id), [], in: .catalog)
            } else {
                ExpiryIndex.removeAll(ofTable: table.id, into: &batch)
            }
            catalog.store(definition, into: &batch)
            try await committer.commitCatalogChange(
                PreparedWrite(batch: batch, tables: [TableStamp(table)], effects: [.changeIndexes(tableId: table.id, version: version)]))
            catalog.didStore(definition)
            if specification.enabled { startExpiryBackfill(tableName: table.name, tableId: table.id, enabledMilliseconds: now) }
            return UpdateTimeToLiveOutput(timeToLiveSpecification: specification)
        }
    }

    /// Whether a table's Time to Live is enabled, and on which attribute (DynamoDB's `DescribeTimeToLive`).
    ///
    /// - Throws: `ResourceNotFoundException` if there is no such table.
    public func describeTimeToLive(_ input: DescribeTimeToLiveInput) async throws(EddyError) -> DescribeTimeToLiveOutput {
        let table = try resolveTable(input.tableName)
        guard let setting = table.definition.timeToLive, setting.enabled else {
            return DescribeTimeToLiveOutput(timeToLiveDescription: TimeToLiveDescription(timeToLiveStatus: .disabled))
        }
        return DescribeTimeToLiveOutput(
            timeToLiveDescription: TimeToLiveDescription(timeToLiveStatus: .enabled, attributeName: setting.attributeName))
    }

    /// Deletes every item that has expired by the database clock, in every table with Time to Live enabled:
    /// what the background job does every ``Configuration-swift.struct/timeToLiveSweepInterval``; a test with
    /// a ``ManualWallClock`` calls it after moving the clock. Each deletion has its `REMOVE` stream record,
    /// whose `userIdentity` is `{"type": "Service", "principalId": "dynamodb.amazonaws.com"}`, in its batch
    /// (up to 100 deletions share one, as a BatchWriteItem's do). An item is read again under its lock, and
    /// deleted only if it still has expired then.
    ///
    /// A table's expired items are found in its expiry index, which is read up to the current second only;
    /// while the index is being backfilled (after Time to Live was enabled), by reading all its items.
    ///
    /// - Returns: how many items were deleted.
    @discardableResult
    public func deleteExpiredItems() async throws(EddyError) -> Int {
        var deleted = 0
        for name in catalog.tableNames() {
            guard let table = catalog.table(named: name), let rule = table.expiry else { continue }
            if try isBackfillingExpiryIndex(ofTable: table.id) {
                deleted += try await sweepItems(of: table, attribute: rule.attributeName)
            } else {
                deleted += try await sweepExpiryIndex(of: table)
            }
        }
        return deleted
    }

    /// Deletes the expired items of `table` that its expiry index files under a second up to now's (those of
    /// the current second are read again, their fraction decides), a page of entries at a time.
    private func sweepExpiryIndex(of table: ResolvedTable) async throws(EddyError) -> Int {
        let now = configuration.clock.nowMilliseconds()
        // Before 1970 no expiry (never negative) has passed.
        guard now >= 0 else { return 0 }
        let end = ExpiryIndex.bound(tableId: table.id, second: UInt64(now / 1000) + 1)
        var start = ExpiryIndex.range(ofTable: table.id).start
        var deleted = 0
        while true {
            let entries = try expiryEntries(from: start, to: end)
            for group in stride(from: 0, to: entries.count, by: Self.timeToLiveDeletionsPerBatch) {
                let candidates = entries[group..<min(group + Self.timeToLiveDeletionsPerBatch, entries.count)].map { entry in
                    (key: ExpiryIndex.itemKey(ofEntry: entry), entry: Optional(entry))
                }
                deleted += try await expire(candidates, tableName: table.name, tableId: table.id)
            }
            guard entries.count == Self.timeToLivePageSize, let last = entries.last else { return deleted }
            start = last + [0]
            await Task.yield()
        }
    }

    /// Up to a page of expiry entries from `start` to `end`; the cursor ends with the call, so none is held
    /// across the deletions' awaits.
    private func expiryEntries(from start: [UInt8], to end: [UInt8]) throws(EddyError) -> [[UInt8]] {
        let cursor = try storageCall { try store.scan(in: .catalog, from: start, to: end, direction: .forward, snapshot: nil) }
        var entries: [[UInt8]] = []
        while entries.count < Self.timeToLivePageSize, let (key, _) = try storageCall({ try cursor.next() }) {
            entries.append(key)
        }
        return entries
    }

    /// Deletes the expired items of `table` by reading all its items, a page at a time: while its expiry
    /// index is being backfilled.
    private func sweepItems(of table: ResolvedTable, attribute: String) async throws(EddyError) -> Int {
        var deleted = 0
        var start = ItemKey.tableStart(table.id)
        while let page = try expiredItems(of: table, attribute: attribute, from: start) {
            for group in stride(from: 0, to: page.expired.count, by: Self.timeToLiveDeletionsPerBatch) {
                let keys = page.expired[group..<min(group + Self.timeToLiveDeletionsPerBatch, page.expired.count)]
                deleted += try await expire(keys.map { (key: $0, entry: nil) }, tableName: table.name, tableId: table.id)
            }
            guard let next = page.next else { break }
            start = next
            await Task.yield()
        }
        return deleted
    }

    /// Up to a page of the table's items from `start`: the keys of those expired now, and where the next
    /// page starts (nil after the last). Nil when there is nothing from `start` on.
    private func expiredItems(
        of table: ResolvedTable, attribute: String, from start: [UInt8]
    ) throws(EddyError) -> (expired: [ItemKey], next: [UInt8]?)? {
        let cursor = try storageCall {
            try store.scan(in: .items, from: start, to: ItemKey.tableEnd(table.id), direction: .forward, snapshot: nil)
        }
        let now = configuration.clock.nowMilliseconds()
        var expired: [ItemKey] = []
        var read = 0
        while read < Self.timeToLivePageSize, let (key, value) = try storageCall({ try cursor.next() }) {
            read += 1
            if TimeToLiveRule.hasExpired(try decodeItem(value)[attribute], nowMilliseconds: now) {
                expired.append(ItemKey(bytes: key))
            }
            if read == Self.timeToLivePageSize {
                return (expired, key + [0])
            }
        }
        return read == 0 ? nil : (expired, nil)
    }

    /// Deletes, in one batch, those of the items at `candidates` that still have expired, each read under its
    /// lock, if the table still has Time to Live on; each deletion has its own `REMOVE` record. Returns how
    /// many were deleted.
    ///
    /// A candidate's `entry` is the expiry entry that named the item, if the sweep found it in the index: it
    /// goes with the item; and if the item has not expired, it goes alone unless it is the item's own (an
    /// item whose expiry is now more than five years past stays, without an entry).
    private func expire(
        _ candidates: [(key: ItemKey, entry: [UInt8]?)], tableName: String, tableId: UInt64
    ) async throws(EddyError) -> Int {
        // An item may be named by more than one entry (its own and a stale one): it is read, and deleted, once.
        var keys: [ItemKey] = []
        var entries: [ItemKey: [[UInt8]]] = [:]
        for candidate in candidates {
            if entries[candidate.key] == nil { keys.append(candidate.key) }
            entries[candidate.key, default: []] += candidate.entry.map { [$0] } ?? []
        }
        return try await locks.withLocks(keys) { () async throws(EddyError) -> Int in
            guard let table = catalog.table(named: tableName), table.id == tableId else { return 0 }
            return try await commitItemChange(in: [table]) { tables throws(EddyError) -> (PreparedWrite?, Int) in
                let table = tables[0]
                guard let rule = table.expiry else { return (nil, 0) }
                let now = configuration.clock.nowMilliseconds()
                var write = PreparedWrite(stamping: tables)
                var deleted = 0
                for key in keys {
                    let found = entries[key] ?? []
                    let oldBytes = try readStoredItem(key)
                    let old = try oldBytes.map(decodeItem)
                    if let old, TimeToLiveRule.hasExpired(old[rule.attributeName], nowMilliseconds: now) {
                        try write.add(
                            ItemChange(key: key, keys: table.keyAttributes(of: old), old: oldBytes, new: nil, eventName: .remove, byService: true),
                            in: table)
                        deleted += 1
                        for entry in found { write.batch.delete(entry, in: .catalog) }
                    } else {
                        let own = old.flatMap(rule.entrySecond).map { ExpiryIndex.entryKey(tableId: tableId, second: $0, item: key) }
                        for entry in found where entry != own { write.batch.delete(entry, in: .catalog) }
                    }
                }
                return (write.batch.isEmpty ? nil : write, deleted)
            }
        }
    }

    /// UpdateTimeToLive may change a table's setting once an hour.
    static let timeToLiveUpdateIntervalMilliseconds: Int64 = 3_600_000
    /// How many items a sweep reads before it deletes what it found and reads on.
    static let timeToLivePageSize = 1000
    /// How many items a sweep locks and deletes in one batch (each with its own stream record), as a
    /// BatchWriteItem does: one commit for many deletions.
    static let timeToLiveDeletionsPerBatch = 100
}

/// When an item has expired: its expiry attribute is a top-level Number of seconds since 1970 before now,
/// not negative, and not more than five years before now (DynamoDB leaves such items alone: the value is
/// most likely not meant as an expiry). Any other type, or no such attribute, never expires.
enum TimeToLiveRule {
    /// Five years of 365 days, in milliseconds.
    static let oldestExpiryAgeMilliseconds: Int64 = 5 * 365 * 86_400_000

    static func hasExpired(_ value: AttributeValue?, nowMilliseconds now: Int64) -> Bool {
        guard case .n(let expiry) = value, !expiry.isNegative else { return false }
        return expiry < seconds(now) && !(expiry < seconds(now - oldestExpiryAgeMilliseconds))
    }

    /// `milliseconds` as an exact number of seconds.
    static func seconds(_ milliseconds: Int64) -> DecimalNumber {
        // A clock reading is far inside DecimalNumber's range, so this cannot fail.
        try! DecimalNumber(isNegative: milliseconds < 0, coefficient: UInt128(milliseconds.magnitude), exponent: -3)
    }
}
