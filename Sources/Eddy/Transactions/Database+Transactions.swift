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
        let plan = try TransactionPlan(input, in: self)
        let metrics = input.returnItemCollectionMetrics == .size
        guard let token = input.clientRequestToken else {
            return TransactWriteItemsOutput(itemCollectionMetrics: try await commit(plan, token: nil, metrics: metrics))
        }
        try TransactionTokens.validate(token)
        let fingerprint = TransactionTokens.fingerprint(of: input)
        switch try await transactionTokens.begin(token, fingerprint: fingerprint, now: configuration.clock.nowMilliseconds(), store: store) {
        case .done:
            return TransactWriteItemsOutput()
        case .started:
            break
        }
        defer { transactionTokens.end(token) }
        return TransactWriteItemsOutput(itemCollectionMetrics: try await commit(plan, token: (token, fingerprint), metrics: metrics))
    }

    /// Reads up to 100 items, from one or more tables, as of one moment (DynamoDB's `TransactGetItems`).
    ///
    /// - Throws: `ValidationException` for a malformed request, more than 100 reads or two reads of one item;
    ///   `ResourceNotFoundException` if a table does not exist.
    public func transactGetItems(_ input: TransactGetItemsInput) async throws(EddyError) -> TransactGetItemsOutput {
        try TransactionPlan.validateCount(input.transactItems.count)
        try requireTables(input.transactItems.map(\.get.tableName))
        var reads: [(key: ItemKey, projection: AttributeSelection)] = []
        var seen = Set<ItemKey>()
        for entry in input.transactItems {
            let get = entry.get
            let table = try resolveTable(get.tableName)
            try table.validateKey(get.key)
            let expressions = try RequestExpressions(
                projection: get.projectionExpression, names: get.expressionAttributeNames, values: nil)
            let key = ItemKey(table: table, key: get.key)
            guard seen.insert(key).inserted else { throw TransactionPlan.duplicateItems }
            reads.append((key, try expressions.projection(attributesToGet: nil)))
        }
        let snapshot = store.makeSnapshot()
        var responses: [ItemResponse] = []
        for read in reads {
            let bytes = try storageCall { try store.get(read.key.bytes, in: .items, snapshot: snapshot) }
            responses.append(ItemResponse(item: try bytes.map(decodeItem).map(read.projection.apply)))
        }
        return TransactGetItemsOutput(responses: responses)
    }

    /// Checks and commits `plan` under its items' locks, recording `token` in the same batch; returns the
    /// metrics of the item collections it wrote if `metrics` asks for them.
    private func commit(
        _ plan: TransactionPlan, token: (String, UInt128)?, metrics: Bool
    ) async throws(EddyError) -> [String: [ItemCollectionMetrics]]? {
        let locked = try await locks.withTransactionLocks(plan.actions.map(\.key)) {
            () async throws(EddyError) -> [String: [ItemCollectionMetrics]]? in
            try await commitItemChange(in: plan.tables) { (tables: [ResolvedTable]) throws(EddyError) -> (PreparedWrite?, Void) in
                var write = PreparedWrite(stamping: tables)
                for (table, change) in try changes(of: plan, in: tables) { try write.add(change, in: table) }
                if let (token, fingerprint) = token {
                    TransactionTokens.record(token, fingerprint: fingerprint, at: configuration.clock.nowMilliseconds(), into: &write.batch)
                }
                return (write, ())
            }
            guard metrics else { return nil }
            let written = plan.actions.filter { action in
                if case .conditionCheck = action.kind { false } else { true }
            }
            return try itemCollectionMetrics(of: written.map { (plan.tables[$0.table], $0.keys) })
        }
        switch locked {
        case .success(let metrics):
            return metrics
        case .failure(let conflict):
            throw Self.cancelled(plan.actions.map { action in
                conflict.heldKeys.contains(action.key)
                    ? CancellationReason(code: "TransactionConflict", message: "Transaction is ongoing for the item") : .none
            })
        }
    }

    /// Every change the plan's actions make to their items as they are now; TransactionCanceledException if
    /// a condition fails or a change is invalid.
    private func changes(of plan: TransactionPlan, in tables: [ResolvedTable]) throws(EddyError) -> [(ResolvedTable, ItemChange)] {
        var reasons: [CancellationReason] = []
        var changes: [(ResolvedTable, ItemChange)] = []
        for action in plan.actions {
            let table = tables[action.table]
            do throws(EddyError) {
                if let change = try prepare(action, in: table) { changes.append((table, change)) }
                reasons.append(.none)
            } catch {
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
        guard reasons.allSatisfy({ $0.code == "None" }) else { throw Self.cancelled(reasons) }
        return changes
    }

    /// The change `action` makes to the item as it is now, nil if none; throws ConditionalCheckFailed or a
    /// validation error that cancels the transaction.
    private func prepare(_ action: TransactionPlan.Action, in table: ResolvedTable) throws(EddyError) -> ItemChange? {
        // As every write does, an action reads its item (the table's counters need its size), and decodes it
        // here only for a condition or an update.
        var needsOld = action.expressions.condition != nil
        if case .update = action.kind { needsOld = true }
        let oldBytes = try readStoredItem(action.key)
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
