import EddyStorage
import Foundation

extension Database {
    /// Creates a table (DynamoDB's `CreateTable`). The table is `ACTIVE` when this returns.
    ///
    /// ```swift
    /// try await db.createTable(CreateTableInput(
    ///     tableName: "Orders",
    ///     keySchema: [KeySchemaElement(attributeName: "customer", keyType: .hash),
    ///                 KeySchemaElement(attributeName: "orderedAt", keyType: .range)],
    ///     attributeDefinitions: [AttributeDefinition(attributeName: "customer", attributeType: .s),
    ///                            AttributeDefinition(attributeName: "orderedAt", attributeType: .n)],
    ///     billingMode: .payPerRequest))
    /// ```
    ///
    /// - Throws: `ValidationException` for a bad name, key schema, attribute definitions or billing settings;
    ///   `ResourceInUseException` if the table exists; `LimitExceededException` past ``Limits/tablesMax``.
    @discardableResult
    public func createTable(_ input: CreateTableInput) async throws(EddyError) -> TableDescription {
        try TableValidation.validateCreate(input)
        return try await locks.withLock(Self.catalogLockKey) { () async throws(EddyError) -> TableDescription in
            guard catalog.table(named: input.tableName) == nil else {
                throw .resourceInUse("Table already exists: \(input.tableName)")
            }
            guard catalog.tableCount < Limits.tablesMax else {
                throw .limitExceeded("Subscriber limit exceeded: Only \(Limits.tablesMax) tables can be created")
            }
            var batch = StorageBatch()
            let now = configuration.clock.nowMilliseconds()
            var definition = TableDefinition(
                name: input.tableName,
                id: catalog.allocateId(into: &batch),
                tableUUID: UUID().uuidString.lowercased(),
                keySchema: input.keySchema,
                attributeDefinitions: input.attributeDefinitions,
                creationDateTime: Double(now) / 1000,
                billingMode: input.billingMode ?? .provisioned,
                provisionedThroughput: input.provisionedThroughput,
                tableClass: input.tableClass ?? .standard,
                deletionProtectionEnabled: input.deletionProtectionEnabled ?? false
            )
            var stream: StreamDefinition?
            if let viewType = input.streamSpecification?.streamViewType, input.streamSpecification?.streamEnabled == true {
                stream = newStream(for: definition, viewType: viewType, now: now, into: &batch)
                definition.latestStream = stream.map { LatestStream(id: $0.id, label: $0.label, viewType: viewType, enabled: true) }
            }
            catalog.store(definition, into: &batch)
            try await committer.commitCatalogChange(
                PreparedWrite(batch: batch, effects: [.createTable(definition.id, stream: stream)]))
            catalog.didStore(definition)
            return describe(definition, status: .active, itemCount: 0, sizeBytes: 0)
        }
    }

    /// Describes a table (DynamoDB's `DescribeTable`), with its item count and size counted now.
    ///
    /// - Throws: `ResourceNotFoundException` if there is no such table.
    public func describeTable(tableName: String) async throws(EddyError) -> TableDescription {
        try TableValidation.validateTableName(tableName)
        guard let table = catalog.table(named: tableName) else {
            throw .resourceNotFound("Requested resource not found: Table: \(tableName) not found")
        }
        let (count, size) = try countItems(of: table)
        return describe(table.definition, status: .active, itemCount: count, sizeBytes: size)
    }

    /// Lists table names in ascending order, a page at a time (DynamoDB's `ListTables`).
    ///
    /// ```swift
    /// var page = try await db.listTables(ListTablesInput(limit: 10))
    /// while let last = page.lastEvaluatedTableName {
    ///     page = try await db.listTables(ListTablesInput(exclusiveStartTableName: last, limit: 10))
    /// }
    /// ```
    public func listTables(_ input: ListTablesInput = ListTablesInput()) async throws(EddyError) -> ListTablesOutput {
        let limit = input.limit ?? Limits.listTablesLimitMax
        guard (1...Limits.listTablesLimitMax).contains(limit) else {
            let rule = limit < 1 ? "Member must have value greater than or equal to 1" : "Member must have value less than or equal to \(Limits.listTablesLimitMax)"
            throw TableValidation.constraint(value: "\(limit)", field: "limit", rule)
        }
        if let start = input.exclusiveStartTableName {
            try TableValidation.validateTableName(start, field: "exclusiveStartTableName")
        }
        let names = catalog.tableNames().filter { name in
            input.exclusiveStartTableName.map { name > $0 } ?? true
        }
        let page = Array(names.prefix(limit))
        let more = names.count > limit
        return ListTablesOutput(tableNames: page, lastEvaluatedTableName: more ? page.last : nil)
    }

    /// Deletes a table and all its items (DynamoDB's `DeleteTable`). Returns the description with status
    /// `DELETING`; the table is gone when this returns.
    ///
    /// - Throws: `ResourceNotFoundException` if there is no such table; `ValidationException` if deletion
    ///   protection is enabled.
    @discardableResult
    public func deleteTable(tableName: String) async throws(EddyError) -> TableDescription {
        try TableValidation.validateTableName(tableName)
        return try await locks.withLock(Self.catalogLockKey) { () async throws(EddyError) -> TableDescription in
            guard let table = catalog.table(named: tableName) else {
                throw .resourceNotFound("Requested resource not found: Table: \(tableName) not found")
            }
            guard !table.definition.deletionProtectionEnabled else {
                throw .validation(
                    "Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first."
                )
            }
            let (count, size) = try countItems(of: table)
            var batch = StorageBatch()
            catalog.remove(tableName, into: &batch)
            batch.deleteRange(from: ItemKey.tableStart(table.id), to: ItemKey.tableEnd(table.id), in: .items)
            var deleted = table.definition
            deleted.latestStream?.enabled = false
            try await committer.commitCatalogChange(
                PreparedWrite(batch: batch, tables: [TableStamp(table)], effects: [.deleteTable(table.id)]))
            catalog.didRemove(tableName)
            return describe(deleted, status: .deleting, itemCount: count, sizeBytes: size)
        }
    }

    /// Changes a table's billing mode, provisioned throughput, table class or deletion protection
    /// (DynamoDB's `UpdateTable`, for the settings Eddy has so far).
    ///
    /// - Throws: `ValidationException` if nothing would change or a setting is invalid;
    ///   `ResourceNotFoundException` if there is no such table.
    @discardableResult
    public func updateTable(_ input: UpdateTableInput) async throws(EddyError) -> TableDescription {
        try TableValidation.validateTableName(input.tableName)
        return try await locks.withLock(Self.catalogLockKey) { () async throws(EddyError) -> TableDescription in
            guard let table = catalog.table(named: input.tableName) else {
                throw .resourceNotFound("Requested resource not found: Table: \(input.tableName) not found")
            }
            var definition = try updated(table.definition, by: input)
            var batch = StorageBatch()
            var effects: [CatalogEffect] = []
            if let change = input.streamSpecification {
                if change.streamEnabled, let viewType = change.streamViewType {
                    let stream = newStream(
                        for: definition, viewType: viewType, now: configuration.clock.nowMilliseconds(), into: &batch)
                    definition.latestStream = LatestStream(id: stream.id, label: stream.label, viewType: viewType, enabled: true)
                    effects.append(.enableStream(stream))
                } else {
                    definition.latestStream?.enabled = false
                    effects.append(.disableStream(tableId: definition.id))
                }
            }
            catalog.store(definition, into: &batch)
            try await committer.commitCatalogChange(PreparedWrite(batch: batch, tables: [TableStamp(table)], effects: effects))
            catalog.didStore(definition)
            let (count, size) = try countItems(of: table)
            return describe(definition, status: .active, itemCount: count, sizeBytes: size)
        }
    }

    private func updated(_ current: TableDefinition, by input: UpdateTableInput) throws(EddyError) -> TableDefinition {
        guard input.billingMode != nil || input.provisionedThroughput != nil || input.tableClass != nil
            || input.deletionProtectionEnabled != nil || input.streamSpecification != nil
        else {
            throw .validation(
                "At least one of ProvisionedThroughput, BillingMode, UpdateStreamEnabled, GlobalSecondaryIndexUpdates or SSESpecification or ReplicaUpdates is required"
            )
        }
        if let stream = input.streamSpecification {
            let enabled = current.latestStream?.enabled == true
            if stream.streamEnabled {
                guard !enabled else {
                    throw .validation("Table already has an enabled stream: TableName: \(current.name)")
                }
                guard stream.streamViewType != nil else {
                    throw .validation("One or more parameter values were invalid: StreamViewType is required when the stream is enabled")
                }
            } else {
                guard enabled else {
                    throw .validation("Table does not have an enabled stream: TableName: \(current.name)")
                }
                guard stream.streamViewType == nil else {
                    throw .validation(
                        "One or more parameter values were invalid: UpdateViewType should not be specified when the stream is being disabled")
                }
            }
        }
        var next = current
        guard input.billingMode != nil || input.provisionedThroughput != nil else { return updatedSettings(next, by: input) }
        let mode = input.billingMode ?? current.billingMode
        switch mode {
        case .payPerRequest:
            try TableValidation.validateBilling(mode: mode, throughput: input.provisionedThroughput)
            next.provisionedThroughput = nil
        case .provisioned:
            let throughput = input.provisionedThroughput ?? (current.billingMode == .provisioned ? current.provisionedThroughput : nil)
            try TableValidation.validateBilling(mode: mode, throughput: throughput)
            if let requested = input.provisionedThroughput, current.billingMode == .provisioned,
                let existing = current.provisionedThroughput, requested == existing
            {
                throw .validation(
                    "The provisioned throughput for the table will not change. The requested value equals the current value. Current ReadCapacityUnits provisioned for the table: \(existing.readCapacityUnits). Requested ReadCapacityUnits: \(requested.readCapacityUnits). Current WriteCapacityUnits provisioned for the table: \(existing.writeCapacityUnits). Requested WriteCapacityUnits: \(requested.writeCapacityUnits). Refer to the Amazon DynamoDB Developer Guide for current limits and how to request higher limits."
                )
            }
            next.provisionedThroughput = throughput
        }
        next.billingMode = mode
        return updatedSettings(next, by: input)
    }

    private func updatedSettings(_ current: TableDefinition, by input: UpdateTableInput) -> TableDefinition {
        var next = current
        if let tableClass = input.tableClass { next.tableClass = tableClass }
        if let protection = input.deletionProtectionEnabled { next.deletionProtectionEnabled = protection }
        return next
    }

    /// A new stream of `table`, its id allocated in `batch`; the committer gives it its shards. Its label is
    /// the creation time, moved on by a millisecond if the table's previous stream has that label already.
    private func newStream(
        for table: TableDefinition, viewType: StreamViewType, now: Int64, into batch: inout StorageBatch
    ) -> StreamDefinition {
        var created = now
        if let previous = table.latestStream?.label {
            while StreamNames.label(milliseconds: created) <= previous { created += 1 }
        }
        return StreamDefinition(
            id: catalog.allocateId(into: &batch), tableId: table.id, tableName: table.name, keySchema: table.keySchema,
            label: StreamNames.label(milliseconds: created), viewType: viewType, createdMilliseconds: created,
            slotCount: configuration.streamShardCount, shards: [], nextShardIndex: 0)
    }

    private func countItems(of table: ResolvedTable) throws(EddyError) -> (count: Int64, sizeBytes: Int64) {
        var count: Int64 = 0
        var size: Int64 = 0
        let cursor = try storageCall {
            try store.scan(
                in: .items, from: ItemKey.tableStart(table.id), to: ItemKey.tableEnd(table.id),
                direction: .forward, snapshot: nil)
        }
        while let (_, value) = try storageCall({ try cursor.next() }) {
            count += 1
            size += Int64(ItemSize.of(try decodeItem(value)))
        }
        return (count, size)
    }

    private func describe(_ definition: TableDefinition, status: TableStatus, itemCount: Int64, sizeBytes: Int64) -> TableDescription {
        TableDescription(
            tableName: definition.name,
            tableStatus: status,
            keySchema: definition.keySchema,
            attributeDefinitions: definition.attributeDefinitions,
            creationDateTime: definition.creationDateTime,
            provisionedThroughput: ProvisionedThroughputDescription(
                readCapacityUnits: definition.provisionedThroughput?.readCapacityUnits ?? 0,
                writeCapacityUnits: definition.provisionedThroughput?.writeCapacityUnits ?? 0,
                numberOfDecreasesToday: 0),
            billingModeSummary: BillingModeSummary(billingMode: definition.billingMode),
            tableClassSummary: TableClassSummary(tableClass: definition.tableClass),
            deletionProtectionEnabled: definition.deletionProtectionEnabled,
            tableSizeBytes: sizeBytes,
            itemCount: itemCount,
            tableArn: arn(ofTable: definition.name),
            tableId: definition.tableUUID,
            streamSpecification: definition.latestStream.flatMap {
                $0.enabled ? StreamSpecification(streamEnabled: true, streamViewType: $0.viewType) : nil
            },
            latestStreamArn: definition.latestStream.map { StreamNames.arn(tableArn: arn(ofTable: definition.name), label: $0.label) },
            latestStreamLabel: definition.latestStream?.label
        )
    }
}

extension Database {
    /// Runs a storage call, turning its error into `InternalServerError`.
    func storageCall<Value>(_ body: () throws -> Value) throws(EddyError) -> Value {
        do {
            return try body()
        } catch let error as StorageError {
            throw .internalServerError("Storage error: \(error.message)")
        } catch {
            throw .internalServerError("Storage error: \(error)")
        }
    }

    /// Decodes a stored item; damaged bytes are Eddy's error, not the caller's.
    func decodeItem(_ bytes: [UInt8]) throws(EddyError) -> Item {
        do {
            return try ItemEncoding.decode(bytes)
        } catch {
            throw .internalServerError("A stored item does not decode: \(error)")
        }
    }
}
