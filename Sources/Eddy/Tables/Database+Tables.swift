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
    ///   Invalid ``CreateTableInput/tags`` are refused as ``tagResource(_:)`` refuses them, and no table is
    ///   created.
    @discardableResult
    public func createTable(_ input: CreateTableInput) async throws(EddyError) -> TableDescription {
        try requireOpen()
        try TableValidation.validateCreate(input)
        let tags = try TagValidation.validated(input.tags ?? [])
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
                onDemandThroughput: Self.merged(nil, with: input.onDemandThroughput),
                tableClass: input.tableClass ?? .standard,
                deletionProtectionEnabled: input.deletionProtectionEnabled ?? false
            )
            if definition.billingMode == .payPerRequest {
                definition.lastUpdateToPayPerRequestDateTime = definition.creationDateTime
            }
            let globals = (input.globalSecondaryIndexes ?? []).map { index in
                IndexDefinition(
                    name: index.indexName, id: catalog.allocateId(into: &batch), kind: .global, keySchema: index.keySchema,
                    projection: index.projection, provisionedThroughput: index.provisionedThroughput, status: .active,
                    addedByUpdate: false)
            }
            let locals = (input.localSecondaryIndexes ?? []).map { index in
                IndexDefinition(
                    name: index.indexName, id: catalog.allocateId(into: &batch), kind: .local, keySchema: index.keySchema,
                    projection: index.projection, provisionedThroughput: nil, status: .active, addedByUpdate: false)
            }
            if !globals.isEmpty || !locals.isEmpty { definition.indexes = globals + locals }
            if !tags.isEmpty { definition.tags = tags }
            var stream: StreamDefinition?
            if let viewType = input.streamSpecification?.streamViewType, input.streamSpecification?.streamEnabled == true {
                stream = newStream(for: definition, viewType: viewType, now: now, into: &batch)
                definition.latestStream = stream.map { LatestStream(id: $0.id, label: $0.label, viewType: viewType, enabled: true) }
            }
            catalog.store(definition, into: &batch)
            try await committer.commitCatalogChange(
                PreparedWrite(
                    batch: batch,
                    effects: [.createTable(definition.id, stream: stream), .resetCounters([definition.id] + (globals + locals).map(\.id))]))
            catalog.didStore(definition)
            return try await describe(definition)
        }
    }

    /// Describes a table (DynamoDB's `DescribeTable`), with its item count and size as of the last commit.
    ///
    /// - Throws: `ResourceNotFoundException` if there is no such table.
    public func describeTable(tableName: String) async throws(EddyError) -> TableDescription {
        try requireOpen()
        try TableValidation.validateTableName(tableName)
        guard let table = catalog.table(named: tableName) else {
            throw .resourceNotFound("Requested resource not found: Table: \(tableName) not found")
        }
        return try await describe(table.definition)
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
        try requireOpen()
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

    /// Deletes a table and all its items (DynamoDB's `DeleteTable`), with its auto scaling targets and
    /// policies and those of its indexes. Returns the description with status `DELETING`; the table is gone
    /// when this returns.
    ///
    /// - Throws: `ResourceNotFoundException` if there is no such table; `ValidationException` if deletion
    ///   protection is enabled.
    @discardableResult
    public func deleteTable(tableName: String) async throws(EddyError) -> TableDescription {
        try requireOpen()
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
            var deleted = table.definition
            deleted.latestStream?.enabled = false
            let description = try await describe(deleted, status: .deleting)
            var batch = StorageBatch()
            catalog.remove(tableName, into: &batch)
            batch.deleteRange(from: ItemKey.tableStart(table.id), to: ItemKey.tableEnd(table.id), in: .items)
            let collections = ItemCollections.sizeKeys(ofTable: table.id)
            batch.deleteRange(from: collections.start, to: collections.end, in: .indexes)
            for index in table.indexes {
                batch.deleteRange(from: ItemKey.tableStart(index.id), to: ItemKey.tableEnd(index.id), in: .indexes)
                batch.delete(IndexBackfill.progressKey(of: index.id), in: .catalog)
            }
            ExpiryIndex.removeAll(ofTable: table.id, into: &batch)
            let targets = removeScalableTargets(ofTable: tableName, into: &batch)
            try await committer.commitCatalogChange(
                PreparedWrite(
                    batch: batch, tables: [TableStamp(table)],
                    effects: [.deleteTable(table.id), .removeCounters([table.id] + table.indexes.map(\.id))]))
            catalog.didRemove(tableName)
            scalableTargets.didRemove(targets)
            contributorInsights.forget([table.id] + table.indexes.map(\.definition.id))
            return description
        }
    }

    /// Changes a table's billing mode, provisioned throughput, table class, deletion protection or stream,
    /// or creates, deletes or updates a global secondary index (DynamoDB's `UpdateTable`).
    ///
    /// A created index is `CREATING` (with `Backfilling`) when this returns: every write maintains it from
    /// now on, and a background task adds the entries of the items that existed before, each under its
    /// item's lock; the index becomes `ACTIVE`, and readable, when that is done. A deleted index is gone when
    /// this returns (the description shows it `DELETING`).
    ///
    /// - Throws: `ValidationException` if nothing would change or a setting is invalid;
    ///   `ResourceNotFoundException` if there is no such table or index; `LimitExceededException` for a
    ///   second index created or deleted at once.
    @discardableResult
    public func updateTable(_ input: UpdateTableInput) async throws(EddyError) -> TableDescription {
        try requireOpen()
        try TableValidation.validateTableName(input.tableName)
        return try await locks.withLock(Self.catalogLockKey) { () async throws(EddyError) -> TableDescription in
            guard let table = catalog.table(named: input.tableName) else {
                throw .resourceNotFound("Requested resource not found: Table: \(input.tableName) not found")
            }
            var definition = try updated(table.definition, by: input)
            var batch = StorageBatch()
            var effects: [CatalogEffect] = []
            var indexChange = IndexChange.none
            if let updates = input.globalSecondaryIndexUpdates {
                indexChange = try applyIndexUpdates(updates, definitions: input.attributeDefinitions, to: &definition, batch: &batch)
                if indexChange != .none { effects.append(.changeIndexes(tableId: definition.id, version: definition.indexVersion ?? 0)) }
                let before = Set(table.indexes.map(\.id))
                let after = Set((definition.indexes ?? []).map(\.id))
                if !after.isSubset(of: before) { effects.append(.resetCounters(after.subtracting(before).sorted())) }
                if !before.isSubset(of: after) { effects.append(.removeCounters(before.subtracting(after).sorted())) }
                try recordIndexThroughputChanges(from: table.definition, to: &definition)
            }
            var targets: [ScalableTargetKey] = []
            if case .deleted(let deleted) = indexChange {
                targets = removeScalableTargets(ofTable: definition.name, indexName: deleted.indexName, into: &batch)
            }
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
            scalableTargets.didRemove(targets)
            let deletedIndexIds = table.indexes.map(\.definition.id).filter { id in !(definition.indexes ?? []).contains { $0.id == id } }
            if !deletedIndexIds.isEmpty { contributorInsights.forget(deletedIndexIds) }
            var description = try await describe(definition)
            switch indexChange {
            case .created(let id):
                startBackfill(tableName: definition.name, indexId: id)
            case .deleted(let deleted):
                description.globalSecondaryIndexes = (description.globalSecondaryIndexes ?? []) + [deleted]
            case .none, .updated:
                break
            }
            return description
        }
    }

    private func updated(_ current: TableDefinition, by input: UpdateTableInput) throws(EddyError) -> TableDefinition {
        guard input.billingMode != nil || input.provisionedThroughput != nil || input.onDemandThroughput != nil
            || input.tableClass != nil || input.deletionProtectionEnabled != nil || input.streamSpecification != nil
            || input.globalSecondaryIndexUpdates != nil
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
                    throw .validation("Table has no stream to disable: TableName: \(current.name)")
                }
                guard stream.streamViewType == nil else {
                    throw .validation(
                        "One or more parameter values were invalid: UpdateViewType should not be specified when the stream is being disabled")
                }
            }
        }
        var next = current
        let now = Double(configuration.clock.nowMilliseconds()) / 1000
        if let maximums = input.onDemandThroughput {
            guard input.provisionedThroughput == nil, input.tableClass == nil, input.deletionProtectionEnabled == nil,
                input.streamSpecification == nil, input.globalSecondaryIndexUpdates == nil
            else {
                throw .validation(
                    "One or more parameter values were invalid: OnDemandThroughput can only be combined with BillingMode in an UpdateTable request")
            }
            try TableValidation.validateOnDemandThroughput(maximums, mode: input.billingMode ?? current.billingMode, allowsRemoval: true)
            next.onDemandThroughput = Self.merged(current.onDemandThroughput, with: maximums)
        }
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
            if current.billingMode == .provisioned, let existing = current.provisionedThroughput, let throughput {
                var changes = current.throughputChanges ?? ThroughputChanges()
                try changes.record(from: existing, to: throughput, atSeconds: now)
                if changes != ThroughputChanges() { next.throughputChanges = changes }
            }
            next.provisionedThroughput = throughput
        }
        if mode == .payPerRequest, current.billingMode != .payPerRequest {
            next.payPerRequestSwitchDateTimes = try PayPerRequestSwitches.recording(current.payPerRequestSwitchDateTimes ?? [], atSeconds: now)
            next.lastUpdateToPayPerRequestDateTime = now
        }
        next.billingMode = mode
        return updatedSettings(next, by: input)
    }

    /// The maximums of `current` changed by `update`: a member given replaces the current one, -1 removes it;
    /// nil when none is left.
    private static func merged(_ current: OnDemandThroughput?, with update: OnDemandThroughput?) -> OnDemandThroughput? {
        func member(_ current: Int64?, _ update: Int64?) -> Int64? {
            guard let update else { return current }
            return update == -1 ? nil : update
        }
        let merged = OnDemandThroughput(
            maxReadRequestUnits: member(current?.maxReadRequestUnits, update?.maxReadRequestUnits),
            maxWriteRequestUnits: member(current?.maxWriteRequestUnits, update?.maxWriteRequestUnits))
        return merged == OnDemandThroughput() ? nil : merged
    }

    /// Records in `next` the changes of its global indexes' provisioned throughput since `current`, each index
    /// counted apart; an index deleted takes its record with it.
    ///
    /// - Throws: `LimitExceededException` for a decrease past an index's limit of the day.
    private func recordIndexThroughputChanges(from current: TableDefinition, to next: inout TableDefinition) throws(EddyError) {
        let now = Double(configuration.clock.nowMilliseconds()) / 1000
        let globals = (next.indexes ?? []).filter { $0.kind == .global }
        var records = (next.indexThroughputChanges ?? [:]).filter { name, _ in globals.contains { $0.name == name } }
        for index in globals {
            guard let old = current.indexes?.first(where: { $0.id == index.id })?.provisionedThroughput,
                let new = index.provisionedThroughput, old != new
            else { continue }
            var changes = records[index.name] ?? ThroughputChanges()
            try changes.record(from: old, to: new, atSeconds: now)
            records[index.name] = changes
        }
        next.indexThroughputChanges = records.isEmpty ? nil : records
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

    /// The description of `definition` with the counters of its items and index entries. The status is
    /// `UPDATING` while an index is being created, unless `status` says otherwise.
    func describe(_ definition: TableDefinition, status: TableStatus? = nil) async throws(EddyError) -> TableDescription {
        let table = try counter(of: definition.id)
        let nowSeconds = Double(configuration.clock.nowMilliseconds()) / 1000
        let indexes = definition.indexes ?? []
        let tableArn = arn(ofTable: definition.name)
        var globals: [GlobalSecondaryIndexDescription] = []
        var locals: [LocalSecondaryIndexDescription] = []
        for index in indexes {
            let counted = try counter(of: index.id)
            switch index.kind {
            case .global:
                globals.append(
                    GlobalSecondaryIndexDescription(
                        indexName: index.name, keySchema: index.keySchema, projection: index.projection, indexStatus: index.status,
                        backfilling: index.addedByUpdate && index.status == .creating ? true : nil,
                        provisionedThroughput: Self.throughputDescription(
                            index.provisionedThroughput, changes: definition.indexThroughputChanges?[index.name], nowSeconds: nowSeconds),
                        indexSizeBytes: counted.sizeBytes, itemCount: counted.itemCount, indexArn: "\(tableArn)/index/\(index.name)"))
            case .local:
                locals.append(
                    LocalSecondaryIndexDescription(
                        indexName: index.name, keySchema: index.keySchema, projection: index.projection, indexSizeBytes: counted.sizeBytes,
                        itemCount: counted.itemCount, indexArn: "\(tableArn)/index/\(index.name)"))
            }
        }
        let updating = indexes.contains { $0.status != .active }
        var description = describe(
            definition, status: status ?? (updating ? .updating : .active), itemCount: table.itemCount, sizeBytes: table.sizeBytes,
            nowSeconds: nowSeconds)
        description.globalSecondaryIndexes = globals.isEmpty ? nil : globals
        description.localSecondaryIndexes = locals.isEmpty ? nil : locals
        return description
    }

    /// The description of `throughput` (zero when there is none) with the times and count of `changes`, the
    /// count being the decreases of the UTC day of `nowSeconds`.
    static func throughputDescription(
        _ throughput: ProvisionedThroughput?, changes: ThroughputChanges? = nil, nowSeconds: Double = 0
    ) -> ProvisionedThroughputDescription {
        ProvisionedThroughputDescription(
            readCapacityUnits: throughput?.readCapacityUnits ?? 0, writeCapacityUnits: throughput?.writeCapacityUnits ?? 0,
            numberOfDecreasesToday: Int64(changes?.decreasesToday(atSeconds: nowSeconds) ?? 0),
            lastIncreaseDateTime: changes?.lastIncreaseDateTime, lastDecreaseDateTime: changes?.lastDecreaseDateTime)
    }

    private func describe(
        _ definition: TableDefinition, status: TableStatus, itemCount: Int64, sizeBytes: Int64, nowSeconds: Double
    ) -> TableDescription {
        TableDescription(
            tableName: definition.name,
            tableStatus: status,
            keySchema: definition.keySchema,
            attributeDefinitions: definition.attributeDefinitions,
            creationDateTime: definition.creationDateTime,
            provisionedThroughput: Self.throughputDescription(
                definition.provisionedThroughput, changes: definition.throughputChanges, nowSeconds: nowSeconds),
            onDemandThroughput: definition.billingMode == .payPerRequest
                ? OnDemandThroughput(
                    maxReadRequestUnits: definition.onDemandThroughput?.maxReadRequestUnits ?? -1,
                    maxWriteRequestUnits: definition.onDemandThroughput?.maxWriteRequestUnits ?? -1)
                : nil,
            billingModeSummary: BillingModeSummary(
                billingMode: definition.billingMode, lastUpdateToPayPerRequestDateTime: definition.lastUpdateToPayPerRequestDateTime),
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
        try ItemEncoding.decodeStored(bytes)
    }
}
