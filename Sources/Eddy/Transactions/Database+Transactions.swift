import EddyStorage

extension Database {
    /// Runs up to 100 actions — Put, Update, Delete, ConditionCheck — over one or more tables as one atomic
    /// change (DynamoDB's `TransactWriteItems`): every condition is checked under the items' locks, then
    /// every change commits in one batch, each changed item with its one stream record; or nothing is
    /// written.
    ///
    /// ```swift
    /// try await db.transactWriteItems(TransactWriteItemsInput(transactItems: [
    ///     TransactWriteItem(update: TransactUpdate(
    ///         tableName: "Accounts", key: ["id": "a"], updateExpression: "SET balance = balance - :x",
    ///         conditionExpression: "balance >= :x", expressionAttributeValues: [":x": 10])),
    ///     TransactWriteItem(update: TransactUpdate(
    ///         tableName: "Accounts", key: ["id": "b"], updateExpression: "SET balance = balance + :x",
    ///         expressionAttributeValues: [":x": 10])),
    /// ]))
    /// ```
    ///
    /// A transaction never waits for another request: if one of its items is being written, it is cancelled
    /// with `TransactionConflict`; while it runs, a request's own write to one of its items fails with
    /// `TransactionConflictException`.
    ///
    /// - Throws: `TransactionCanceledException` with one ``CancellationReason`` per action, in request order
    ///   (`ConditionalCheckFailed`, `TransactionConflict`, `ValidationError` or `None`); `ValidationException`
    ///   for a malformed request, more than 100 actions, two actions on one item or over 4 MB;
    ///   `IdempotentParameterMismatchException` / `TransactionInProgressException` for a reused
    ///   `ClientRequestToken`; `ResourceNotFoundException` naming the tables that do not exist (in this Region).
    @discardableResult
    public func transactWriteItems(_ input: TransactWriteItemsInput) async throws(EddyError) -> TransactWriteItemsOutput {
        try await chargedTransactWriteItems(input).get()
    }

    /// ``transactWriteItems(_:)`` with the capacity it consumed, also when it was cancelled for a failed
    /// condition or an invalid change (see `commit`); a request replayed with its `ClientRequestToken`
    /// consumes the reads of its items instead (see `replayCharges`).
    func chargedTransactWriteItems(_ input: TransactWriteItemsInput) async throws(EddyError) -> Charged<TransactWriteItemsOutput> {
        let plan = try TransactionPlan(input, in: self)
        let metrics = input.returnItemCollectionMetrics == .size
        let committed: Charged<[String: [ItemCollectionMetrics]]?>
        if let token = input.clientRequestToken {
            try TransactionTokens.validate(token)
            let fingerprint = TransactionTokens.fingerprint(of: input)
            switch try await transactionTokens.begin(token, fingerprint: fingerprint, now: configuration.clock.nowMilliseconds(), store: store) {
            case .done:
                let charges = plan.perTable(try spend(replayCharges(of: plan), .read, on: plan))
                let output = TransactWriteItemsOutput(consumedCapacity: charges.consumedCapacity(input.returnConsumedCapacity))
                return Charged(result: .success(output), charges: charges)
            case .started:
                break
            }
            defer { transactionTokens.end(token) }
            try admitTransaction(.write, plan.admissions)
            committed = try await commit(plan, token: (token, fingerprint), metrics: metrics)
        } else {
            try admitTransaction(.write, plan.admissions)
            committed = try await commit(plan, token: nil, metrics: metrics)
        }
        let charges = plan.perTable(spend(committed.charges, .write, on: plan))
        return Charged(
            result: committed.result.map { metrics in
                TransactWriteItemsOutput(itemCollectionMetrics: metrics, consumedCapacity: charges.consumedCapacity(input.returnConsumedCapacity))
            },
            charges: charges)
    }

    /// Spends `charges`, one per action of `plan`, each at its action's item; returns them.
    private func spend(_ charges: [CapacityCharge], _ operation: CapacityOperation, on plan: TransactionPlan) -> [CapacityCharge] {
        for (action, charge) in zip(plan.actions, charges) {
            spend(charge, operation, on: plan.tables[action.table], at: CapacityKey(action.key, values: action.keys))
        }
        return charges
    }

    /// Admits each item of a transaction (its table, and where it lands there) on its table's capacity, or
    /// throws TransactionCanceledException with `ProvisionedThroughputExceeded` (a `PROVISIONED` table) or
    /// `ThrottlingError` (an on-demand one) as the reason of each item refused, `None` for the others; a
    /// refused transaction is one throttled request, of the table of its first refused item.
    private func admitTransaction(_ operation: CapacityOperation, _ items: [(table: ResolvedTable, key: CapacityKey)]) throws(EddyError) {
        guard items.first?.table.meter.isEnforcing == true else { return }
        var reasons: [CancellationReason] = []
        var refusing: ResolvedTable?
        for (table, key) in items {
            do throws(EddyError) {
                try admit(operation, to: table, at: key, countsRequest: false)
                reasons.append(.none)
            } catch {
                refusing = refusing ?? table
                if case .provisionedThroughputExceeded = error {
                    reasons.append(.provisionedThroughputExceeded(error.message))
                } else {
                    reasons.append(.throttlingError(error.message))
                }
            }
        }
        if let refusing {
            refusing.meter.countThrottledRequest()
            throw Self.cancelled(reasons)
        }
    }

    /// What replaying a completed transaction with its `ClientRequestToken` consumes: "Subsequent
    /// TransactWriteItems calls with the same client token return the number of read capacity units consumed
    /// in reading the item" (Developer Guide, "Amazon DynamoDB Transactions: How It Works", "Idempotency"):
    /// a strongly consistent read of each item as it is now. One charge per action.
    private func replayCharges(of plan: TransactionPlan) throws(EddyError) -> [CapacityCharge] {
        try plan.actions.map { (action) throws(EddyError) in
            var charge = CapacityCharge(tableName: plan.tables[action.table].name)
            charge.table.read = CapacityUnits.read(sizeBytes: try storedSize(try readStoredItem(action.key)), consistent: true)
            return charge
        }
    }

    /// Reads up to 100 items, from one or more tables, as of one moment (DynamoDB's `TransactGetItems`).
    ///
    /// - Throws: `ValidationException` for a malformed request, more than 100 reads or two reads of one item;
    ///   `ResourceNotFoundException` if a table does not exist.
    public func transactGetItems(_ input: TransactGetItemsInput) async throws(EddyError) -> TransactGetItemsOutput {
        try chargedTransactGetItems(input).get()
    }

    /// ``transactGetItems(_:)`` with the capacity it consumed: each item read twice, strongly consistent
    /// (one unit per 4 KB of it, one for a missing item), per table.
    func chargedTransactGetItems(_ input: TransactGetItemsInput) throws(EddyError) -> Charged<TransactGetItemsOutput> {
        try TransactionPlan.validateCount(input.transactItems.count)
        try requireTables(input.transactItems.map(\.get.tableName))
        var reads: [(key: ItemKey, projection: AttributeSelection)] = []
        var admissions: [(table: ResolvedTable, key: CapacityKey)] = []
        var seen = Set<ItemKey>()
        for entry in input.transactItems {
            let get = entry.get
            let table = try resolveTable(get.tableName)
            try table.validateKey(get.key)
            let expressions = try RequestExpressions(
                projection: get.projectionExpression, names: get.expressionAttributeNames, values: nil)
            let key = ItemKey(table: table, key: get.key)
            guard seen.insert(key).inserted else { throw TransactionPlan.duplicateItems }
            admissions.append((table, CapacityKey(key, values: get.key)))
            reads.append((key, try expressions.projection(attributesToGet: nil)))
        }
        try admitTransaction(.read, admissions)
        let snapshot = store.makeSnapshot()
        var responses: [ItemResponse] = []
        // One charge per table, in the order of their first item; each item spent on its own.
        var charges: [CapacityCharge] = []
        for (read, (table, capacityKey)) in zip(reads, admissions) {
            let bytes = try storageCall { try store.get(read.key.bytes, in: .items, snapshot: snapshot) }
            var charge = CapacityCharge(tableName: table.name)
            charge.table.read = 2 * CapacityUnits.read(sizeBytes: try storedSize(bytes), consistent: true)
            spend(charge, .read, on: table, at: capacityKey)
            charges[table: table.name].add(charge)
            responses.append(ItemResponse(item: try bytes.map(decodeItem).map(read.projection.apply)))
        }
        var output = TransactGetItemsOutput(responses: responses)
        output.consumedCapacity = charges.consumedCapacity(input.returnConsumedCapacity)
        return Charged(result: .success(output), charges: charges)
    }

    /// Checks and commits `plan` under its items' locks, recording `token` in the same batch; returns the
    /// metrics of the item collections it wrote if `metrics` asks for them, and what it consumed: every
    /// action's write units, doubled (Developer Guide, "Capacity management for transactions": one write to
    /// prepare, one to commit), also when a failed condition or an invalid change cancels the transaction,
    /// whose prepare phase consumed them. A transaction cancelled for a conflict never reads its items and
    /// consumes nothing.
    private func commit(
        _ plan: TransactionPlan, token: (String, UInt128)?, metrics: Bool
    ) async throws(EddyError) -> Charged<[String: [ItemCollectionMetrics]]?> {
        let locked = try await locks.withTransactionLocks(plan.actions.map(\.key)) {
            () async throws(EddyError) -> Charged<[String: [ItemCollectionMetrics]]?> in
            let (cancellation, charges) = try await commitItemChange(in: plan.tables) {
                (tables: [ResolvedTable]) throws(EddyError) -> (PreparedWrite?, (EddyError?, [CapacityCharge])) in
                var (planned, charges) = try changes(of: plan, in: tables)
                switch planned {
                case .failure(let cancellation):
                    return (nil, (cancellation, charges.map(\.doubled)))
                case .success(let changes):
                    var write = PreparedWrite(stamping: tables)
                    for (action, change) in changes {
                        try write.add(change, in: tables[plan.actions[action].table], charging: &charges[action])
                    }
                    if let (token, fingerprint) = token {
                        TransactionTokens.record(token, fingerprint: fingerprint, at: configuration.clock.nowMilliseconds(), into: &write.batch)
                    }
                    return (write, (nil, charges.map(\.doubled)))
                }
            }
            if let cancellation { return Charged(result: .failure(cancellation), charges: charges) }
            guard metrics else { return Charged(result: .success(nil), charges: charges) }
            let written = plan.actions.filter { action in
                if case .conditionCheck = action.kind { false } else { true }
            }
            return Charged(result: .success(try itemCollectionMetrics(of: written.map { (plan.tables[$0.table], $0.keys) })), charges: charges)
        }
        switch locked {
        case .success(let charged):
            return charged
        case .failure(let conflict):
            throw Self.cancelled(plan.actions.map { action in
                conflict.heldKeys.contains(action.key)
                    ? CancellationReason(code: "TransactionConflict", message: "Transaction is ongoing for the item") : .none
            })
        }
    }

    /// Every change the plan's actions make to their items as they are now (with the index of its table),
    /// or TransactionCanceledException if a condition fails or a change is invalid; and, per action, the
    /// write units of the actions that change nothing (a ConditionCheck, a failed condition, a write that
    /// leaves its item as it is): the item's size in 1 KB units, at least one, as a failed conditional write
    /// costs on its own (Database+Items.swift). The changes' own units are charged as they
    /// are added to the write, or here when the transaction is cancelled.
    private func changes(
        of plan: TransactionPlan, in tables: [ResolvedTable]
    ) throws(EddyError) -> (Result<[(Int, ItemChange)], EddyError>, [CapacityCharge]) {
        var reasons: [CancellationReason] = []
        var changes: [(Int, ItemChange)] = []
        var charges = plan.actions.map { CapacityCharge(tableName: tables[$0.table].name) }
        for (position, action) in plan.actions.enumerated() {
            let table = tables[action.table]
            let oldBytes = try readStoredItem(action.key)
            do throws(EddyError) {
                if let change = try prepare(action, in: table, stored: oldBytes) {
                    changes.append((position, change))
                } else {
                    charges[position].table.write += CapacityUnits.write(sizeBytes: try storedSize(oldBytes))
                }
                reasons.append(.none)
            } catch {
                charges[position].table.write += CapacityUnits.write(sizeBytes: try storedSize(oldBytes))
                switch error {
                case .conditionalCheckFailed(let message, let item):
                    reasons.append(CancellationReason(code: "ConditionalCheckFailed", message: message, item: item))
                case .validation(let message):
                    reasons.append(CancellationReason(code: "ValidationError", message: message))
                default:
                    throw error
                }
            }
        }
        guard reasons.allSatisfy({ $0.code == "None" }) else {
            // The actions that would have written were prepared all the same: they consume what they would have.
            var prepared = PreparedWrite(stamping: tables)
            for (action, change) in changes { try prepared.add(change, in: tables[plan.actions[action].table], charging: &charges[action]) }
            return (.failure(Self.cancelled(reasons)), charges)
        }
        return (.success(changes), charges)
    }

    /// The change `action` makes to its item, stored now as `oldBytes`, nil if none; throws
    /// ConditionalCheckFailed or a validation error that cancels the transaction.
    private func prepare(_ action: TransactionPlan.Action, in table: ResolvedTable, stored oldBytes: [UInt8]?) throws(EddyError) -> ItemChange? {
        // As every write does, an action reads its item (the table's counters need its size), and decodes it
        // here only for a condition or an update.
        var needsOld = action.expressions.condition != nil
        if case .update = action.kind { needsOld = true }
        let old = needsOld ? try oldBytes.map(decodeItem) : nil
        guard try action.expressions.conditionHolds(on: old) else {
            throw .conditionalCheckFailed(
                "The conditional request failed", item: action.returnValuesOnConditionCheckFailure == .allOld ? old : nil)
        }
        switch action.kind {
        case .conditionCheck:
            return nil
        case .put(let item, let encoded):
            let eventName = try ItemChange.event(replacing: oldBytes, with: encoded, newItem: item)
            if table.streamViewType != nil, eventName == nil { return nil }
            return ItemChange(key: action.key, keys: action.keys, old: oldBytes, new: encoded, newItem: item, eventName: eventName)
        case .delete:
            if table.streamViewType != nil, oldBytes == nil { return nil }
            return ItemChange(key: action.key, keys: action.keys, old: oldBytes, new: nil, eventName: .remove)
        case .update:
            guard let update = action.expressions.update else { return nil }
            if old == nil, update.onlyRemoves { return nil }
            let applied = try UpdateApplier(bindings: action.expressions.bindings)
                .apply(update, to: old ?? action.keys, keyNames: table.key.attributeNames, recordingPaths: false)
            let new = applied.item
            guard new != old else { return nil }
            try validateUpdated(new)
            try table.validateIndexKeys(of: new)
            return ItemChange(
                key: action.key, keys: action.keys, old: oldBytes, new: ItemEncoding.encode(new), newItem: new,
                eventName: old == nil ? .insert : .modify)
        }
    }

    private static func cancelled(_ reasons: [CancellationReason]) -> EddyError {
        .transactionCanceled(
            "Transaction cancelled, please refer cancellation reasons for specific reasons [\(reasons.map(\.code).joined(separator: ", "))]",
            reasons: reasons)
    }
}

/// A TransactWriteItems request checked and compiled before any item is locked: each action's table, item
/// key and expressions.
struct TransactionPlan {
    enum Kind {
        case conditionCheck
        case put(Item, [UInt8])
        case delete
        /// The UpdateExpression is the action's ``Action/expressions``' `update`.
        case update
    }

    struct Action {
        /// The index of the action's table in ``TransactionPlan/tables``.
        var table: Int
        var key: ItemKey
        /// The item's key attributes.
        var keys: Item
        var kind: Kind
        var expressions: RequestExpressions
        var returnValuesOnConditionCheckFailure: ReturnValuesOnConditionCheckFailure?
    }

    var tables: [ResolvedTable] = []
    var actions: [Action] = []

    /// Each action's table and its item, as capacity admits them.
    var admissions: [(table: ResolvedTable, key: CapacityKey)] {
        actions.map { (tables[$0.table], CapacityKey($0.key, values: $0.keys)) }
    }

    /// `charges`, one per action, summed per table in the order of ``tables``.
    func perTable(_ charges: [CapacityCharge]) -> [CapacityCharge] {
        var perTable = tables.map { CapacityCharge(tableName: $0.name) }
        for (action, charge) in zip(actions, charges) { perTable[action.table].add(charge) }
        return perTable
    }

    static let duplicateItems = EddyError.validation("Transaction request cannot include multiple operations on one item")

    init(_ input: TransactWriteItemsInput, in database: Database) throws(EddyError) {
        try Self.validateCount(input.transactItems.count)
        try database.requireTables(input.transactItems.flatMap { entry in
            [entry.conditionCheck?.tableName, entry.put?.tableName, entry.delete?.tableName, entry.update?.tableName].compactMap { $0 }
        })
        var tableIndex: [String: Int] = [:]
        var seen = Set<ItemKey>()
        var size = 0
        for entry in input.transactItems {
            func table(_ name: String) throws(EddyError) -> (Int, ResolvedTable) {
                if let index = tableIndex[name] { return (index, tables[index]) }
                let table = try database.resolveTable(name)
                tables.append(table)
                tableIndex[name] = tables.count - 1
                return (tables.count - 1, table)
            }
            /// An action on the item with `key`, its expressions checked and bound.
            func action(
                _ kind: Kind, on tableName: String, key: Item?, item: Item? = nil, condition: String?, update: String? = nil,
                names: [String: String]?, values: [String: AttributeValue]?, returning: ReturnValuesOnConditionCheckFailure?
            ) throws(EddyError) -> Action {
                let (index, resolved) = try table(tableName)
                let itemKey: ItemKey
                let keys: Item
                if let item {
                    itemKey = try database.validatedPut(item, in: resolved)
                    keys = resolved.keyAttributes(of: item)
                } else {
                    keys = key ?? [:]
                    try resolved.validateKey(keys)
                    itemKey = ItemKey(table: resolved, key: keys)
                }
                size += ItemSize.of(item ?? keys) + (values?.values.reduce(0) { $0 + ItemSize.of(["": $1]) } ?? 0)
                let expressions = try RequestExpressions(
                    condition: condition, update: update, names: names, values: values,
                    valueExpressions: update == nil ? ["ConditionExpression"] : ["UpdateExpression", "ConditionExpression"])
                return Action(
                    table: index, key: itemKey, keys: keys, kind: kind, expressions: expressions,
                    returnValuesOnConditionCheckFailure: returning)
            }
            let next: Action
            switch (entry.conditionCheck, entry.put, entry.delete, entry.update) {
            case (let check?, nil, nil, nil):
                next = try action(
                    .conditionCheck, on: check.tableName, key: check.key, condition: check.conditionExpression,
                    names: check.expressionAttributeNames, values: check.expressionAttributeValues,
                    returning: check.returnValuesOnConditionCheckFailure)
            case (nil, let put?, nil, nil):
                next = try action(
                    .put(put.item, ItemEncoding.encode(put.item)), on: put.tableName, key: nil, item: put.item,
                    condition: put.conditionExpression, names: put.expressionAttributeNames,
                    values: put.expressionAttributeValues, returning: put.returnValuesOnConditionCheckFailure)
            case (nil, nil, let delete?, nil):
                next = try action(
                    .delete, on: delete.tableName, key: delete.key, condition: delete.conditionExpression,
                    names: delete.expressionAttributeNames, values: delete.expressionAttributeValues,
                    returning: delete.returnValuesOnConditionCheckFailure)
            case (nil, nil, nil, let update?):
                next = try action(
                    .update, on: update.tableName, key: update.key, condition: update.conditionExpression,
                    update: update.updateExpression, names: update.expressionAttributeNames,
                    values: update.expressionAttributeValues, returning: update.returnValuesOnConditionCheckFailure)
            default:
                throw .validation("TransactItems can only contain one of Check, Put, Update or Delete")
            }
            guard seen.insert(next.key).inserted else { throw Self.duplicateItems }
            actions.append(next)
        }
        guard size <= Limits.transactionSizeBytesMax else {
            throw .validation("Transaction request cannot be larger than 4 MB")
        }
    }

    /// TransactWriteItems and TransactGetItems take 1 to 100 actions.
    static func validateCount(_ count: Int) throws(EddyError) {
        if count < 1 {
            throw TableValidation.constraint(value: "[]", field: "transactItems", "Member must have length greater than or equal to 1")
        }
        if count > Limits.transactionActionsMax {
            throw TableValidation.constraint(
                value: "[\(count) items]", field: "transactItems",
                "Member must have length less than or equal to \(Limits.transactionActionsMax)")
        }
    }
}
