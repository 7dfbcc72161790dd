import EddyStorage

extension Database {
    /// Writes a whole item, replacing any item with the same key (DynamoDB's `PutItem`).
    ///
    /// ```swift
    /// let previous = try await db.putItem(PutItemInput(
    ///     tableName: "Users", item: ["id": "u1", "name": "Ada"], returnValues: .allOld)).attributes
    /// ```
    ///
    /// - Throws: `ValidationException` for a missing or mistyped key, an invalid value, an item over 400 KB
    ///   or an index key attribute of the wrong type; `ResourceNotFoundException` if there is no such table;
    ///   `ItemCollectionSizeLimitExceededException` if the item would take its collection (a table with local
    ///   secondary indexes) past its limit.
    @discardableResult
    public func putItem(_ input: PutItemInput) async throws(EddyError) -> PutItemOutput {
        try await chargedPutItem(input).get()
    }

    /// ``putItem(_:)`` with the capacity it consumed, also when its condition failed.
    func chargedPutItem(_ input: PutItemInput) async throws(EddyError) -> Charged<PutItemOutput> {
        let returnValues = try ReturnValue.noneOrAllOld(input.returnValues)
        var expressions = try RequestExpressions(
            condition: input.conditionExpression, names: input.expressionAttributeNames, values: input.expressionAttributeValues,
            legacy: [("Expected", input.expected != nil), ("ConditionalOperator", input.conditionalOperator != nil)],
            valueExpressions: ["ConditionExpression"])
        try expressions.compileLegacy(expected: input.expected, conditionalOperator: input.conditionalOperator)
        let table = try resolveTable(input.tableName)
        let itemKey = try validatedPut(input.item, in: table)
        let capacityKey = CapacityKey(itemKey, values: input.item)
        try admit(.write, to: table, at: capacityKey)
        let encoded = ItemEncoding.encode(input.item)
        let needsOld = returnValues == .allOld || expressions.condition != nil
        return try await locks.withLock(itemKey, ifTransactionHolds: .fail) { () async throws(EddyError) -> Charged<PutItemOutput> in
            let (output, charge) = try await commitItemChange(in: [table]) {
                tables throws(EddyError) -> (PreparedWrite?, (Result<PutItemOutput, EddyError>, CapacityCharge)) in
                let table = tables[0]
                let streaming = table.streamViewType != nil
                let oldBytes = try readStoredItem(itemKey)
                let old = needsOld ? try oldBytes.map(decodeItem) : nil
                if let failure = try conditionFailure(expressions, on: old, stored: oldBytes, in: table, returning: input.returnValuesOnConditionCheckFailure) {
                    return (nil, failure)
                }
                let output = PutItemOutput(attributes: old)
                var charge = CapacityCharge(tableName: table.name)
                let eventName = try ItemChange.event(replacing: oldBytes, with: encoded, newItem: input.item)
                if streaming, eventName == nil {
                    // The same item again: nothing to write, but DynamoDB charges the write all the same.
                    charge.table.write = CapacityUnits.write(sizeBytes: try storedSize(encoded))
                    return (nil, (.success(output), charge))
                }
                var write = PreparedWrite(stamping: tables)
                try write.add(
                    ItemChange(
                        key: itemKey, keys: table.keyAttributes(of: input.item), old: oldBytes, new: encoded, newItem: input.item,
                        eventName: eventName),
                    in: table, charging: &charge)
                return (write, (.success(output), charge))
            }
            return try charged(output, charge, input.returnConsumedCapacity, on: table, at: capacityKey) {
                (output) throws(EddyError) in
                try withCollectionMetrics(output, input.returnItemCollectionMetrics, key: input.item, in: table)
            }
        }
    }

    /// Reads one item by its key (DynamoDB's `GetItem`).
    ///
    /// - Throws: `ValidationException` if `key` is not exactly the table's key;
    ///   `ResourceNotFoundException` if there is no such table.
    public func getItem(_ input: GetItemInput) async throws(EddyError) -> GetItemOutput {
        try chargedGetItem(input).get()
    }

    /// ``getItem(_:)`` with the capacity it consumed: the whole item's size in 4 KB units, whatever the
    /// projection, and one unit for a missing item; half with an eventually consistent read (the default).
    func chargedGetItem(_ input: GetItemInput) throws(EddyError) -> Charged<GetItemOutput> {
        let expressions = try RequestExpressions(
            projection: input.projectionExpression, names: input.expressionAttributeNames, values: nil,
            legacy: [("AttributesToGet", input.attributesToGet != nil)])
        let table = try resolveTable(input.tableName)
        let projection = try expressions.projection(attributesToGet: input.attributesToGet)
        try table.validateKey(input.key)
        let itemKey = ItemKey(table: table, key: input.key)
        let capacityKey = CapacityKey(itemKey, values: input.key)
        try admit(.read, to: table, at: capacityKey)
        let bytes = try readStoredItem(itemKey)
        var charge = CapacityCharge(tableName: table.name)
        charge.table.read = CapacityUnits.read(sizeBytes: try storedSize(bytes), consistent: input.consistentRead == true)
        spend(charge, .read, on: table, at: capacityKey)
        var output = GetItemOutput(item: try bytes.map(decodeItem).map(projection.apply))
        output.consumedCapacity = charge.consumedCapacity(input.returnConsumedCapacity)
        return Charged(result: .success(output), charges: [charge])
    }

    /// Deletes one item by its key (DynamoDB's `DeleteItem`); deleting an absent item succeeds.
    ///
    /// - Throws: `ValidationException` if `key` is not exactly the table's key;
    ///   `ResourceNotFoundException` if there is no such table.
    @discardableResult
    public func deleteItem(_ input: DeleteItemInput) async throws(EddyError) -> DeleteItemOutput {
        try await chargedDeleteItem(input).get()
    }

    /// ``deleteItem(_:)`` with the capacity it consumed, also when its condition failed: the deleted item's
    /// size in 1 KB units, one unit when there was none.
    func chargedDeleteItem(_ input: DeleteItemInput) async throws(EddyError) -> Charged<DeleteItemOutput> {
        let returnValues = try ReturnValue.noneOrAllOld(input.returnValues)
        var expressions = try RequestExpressions(
            condition: input.conditionExpression, names: input.expressionAttributeNames, values: input.expressionAttributeValues,
            legacy: [("Expected", input.expected != nil), ("ConditionalOperator", input.conditionalOperator != nil)],
            valueExpressions: ["ConditionExpression"])
        try expressions.compileLegacy(expected: input.expected, conditionalOperator: input.conditionalOperator)
        let table = try resolveTable(input.tableName)
        try table.validateKey(input.key)
        let itemKey = ItemKey(table: table, key: input.key)
        let capacityKey = CapacityKey(itemKey, values: input.key)
        try admit(.write, to: table, at: capacityKey)
        return try await locks.withLock(itemKey, ifTransactionHolds: .fail) { () async throws(EddyError) -> Charged<DeleteItemOutput> in
            let (output, charge) = try await commitItemChange(in: [table]) {
                tables throws(EddyError) -> (PreparedWrite?, (Result<DeleteItemOutput, EddyError>, CapacityCharge)) in
                let oldBytes = try readStoredItem(itemKey)
                let old = try oldBytes.map(decodeItem)
                if let failure = try conditionFailure(expressions, on: old, stored: oldBytes, in: tables[0], returning: input.returnValuesOnConditionCheckFailure) {
                    return (nil, failure)
                }
                let output = DeleteItemOutput(attributes: returnValues == .allOld ? old : nil)
                var charge = CapacityCharge(tableName: tables[0].name)
                guard oldBytes != nil else {
                    charge.table.write = CapacityUnits.write(sizeBytes: 0)
                    return (nil, (.success(output), charge))
                }
                var write = PreparedWrite(stamping: tables)
                try write.add(
                    ItemChange(key: itemKey, keys: input.key, old: oldBytes, new: nil, eventName: .remove), in: tables[0], charging: &charge)
                return (write, (.success(output), charge))
            }
            return try charged(output, charge, input.returnConsumedCapacity, on: table, at: capacityKey) {
                (output) throws(EddyError) in
                try withCollectionMetrics(output, input.returnItemCollectionMetrics, key: input.key, in: table)
            }
        }
    }

    /// Changes attributes of one item with the legacy `AttributeUpdates`, creating the item if it does not
    /// exist (DynamoDB's `UpdateItem`). The read and the write run under the item's lock, so concurrent
    /// updates of one item never lose an update.
    ///
    /// ```swift
    /// let visits = try await db.updateItem(UpdateItemInput(
    ///     tableName: "Users", key: ["id": "u1"],
    ///     attributeUpdates: ["visits": AttributeValueUpdate(value: 1, action: .add)],
    ///     returnValues: .updatedNew)).attributes?["visits"]
    /// ```
    ///
    /// - Throws: `ValidationException` for a bad key, an update of a key attribute, a type mismatch, or a
    ///   result over 400 KB; `ResourceNotFoundException` if there is no such table.
    @discardableResult
    public func updateItem(_ input: UpdateItemInput) async throws(EddyError) -> UpdateItemOutput {
        try await chargedUpdateItem(input).get()
    }

    /// ``updateItem(_:)`` with the capacity it consumed, also when its condition failed: the larger of the
    /// item before and after it in 1 KB units, at least one unit (also for an update that changes nothing).
    func chargedUpdateItem(_ input: UpdateItemInput) async throws(EddyError) -> Charged<UpdateItemOutput> {
        let returnValues = input.returnValues ?? .none
        var expressions = try RequestExpressions(
            condition: input.conditionExpression, update: input.updateExpression,
            names: input.expressionAttributeNames, values: input.expressionAttributeValues,
            legacy: [
                ("AttributeUpdates", input.attributeUpdates != nil), ("Expected", input.expected != nil),
                ("ConditionalOperator", input.conditionalOperator != nil),
            ],
            valueExpressions: ["UpdateExpression", "ConditionExpression"])
        try expressions.compileLegacy(expected: input.expected, conditionalOperator: input.conditionalOperator)
        let table = try resolveTable(input.tableName)
        try table.validateKey(input.key)
        let updates = input.attributeUpdates ?? [:]
        try LegacyUpdate.validate(updates, keyNames: table.key.attributeNames)
        let update = expressions.update ?? LegacyUpdate.compile(updates)
        let itemKey = ItemKey(table: table, key: input.key)
        let capacityKey = CapacityKey(itemKey, values: input.key)
        try admit(.write, to: table, at: capacityKey)
        return try await locks.withLock(itemKey, ifTransactionHolds: .fail) { () async throws(EddyError) -> Charged<UpdateItemOutput> in
            let (output, charge) = try await commitItemChange(in: [table]) {
                tables throws(EddyError) -> (PreparedWrite?, (Result<UpdateItemOutput, EddyError>, CapacityCharge)) in
                let oldBytes = try readStoredItem(itemKey)
                let old = try oldBytes.map(decodeItem)
                if let failure = try conditionFailure(expressions, on: old, stored: oldBytes, in: tables[0], returning: input.returnValuesOnConditionCheckFailure) {
                    return (nil, failure)
                }
                var charge = CapacityCharge(tableName: tables[0].name)
                // DynamoDB creates no item for an update that only removes or deletes: there is nothing to
                // return and nothing to write, not even a stream record; the request costs the minimum.
                if old == nil, update.onlyRemoves {
                    charge.table.write = CapacityUnits.write(sizeBytes: 0)
                    return (nil, (.success(UpdateItemOutput(attributes: nil)), charge))
                }
                var applier = UpdateApplier(bindings: expressions.bindings)
                if expressions.update == nil { applier.incorrectTypeMessage = LegacyUpdate.typeMismatchMessage }
                let applied = try applier.apply(
                    update, to: old ?? input.key, keyNames: table.key.attributeNames,
                    recordingPaths: returnValues == .updatedOld || returnValues == .updatedNew)
                let new = applied.item
                let returned = Self.returned(returnValues, old: old, new: new, paths: applied.paths)
                let output = UpdateItemOutput(attributes: returned)
                guard new != old else {
                    charge.table.write = CapacityUnits.write(sizeBytes: try storedSize(oldBytes))
                    return (nil, (.success(output), charge))
                }
                try validateUpdated(new)
                var write = PreparedWrite(stamping: tables)
                try write.add(
                    ItemChange(
                        key: itemKey, keys: input.key, old: oldBytes, new: ItemEncoding.encode(new), newItem: new,
                        eventName: old == nil ? .insert : .modify),
                    in: tables[0], charging: &charge)
                return (write, (.success(output), charge))
            }
            return try charged(output, charge, input.returnConsumedCapacity, on: table, at: capacityKey) {
                (output) throws(EddyError) in
                try withCollectionMetrics(output, input.returnItemCollectionMetrics, key: input.key, in: table)
            }
        }
    }

    /// The charged outcome of a single-item write at `key` of `table`: its output, completed by
    /// `complete` (item collection metrics) and given the consumed capacity `mode` asks for, or its error; the
    /// capacity is spent either way.
    private func charged(
        _ result: Result<WriteItemOutput, EddyError>, _ charge: CapacityCharge, _ mode: ReturnConsumedCapacity?,
        on table: ResolvedTable, at key: CapacityKey, complete: (WriteItemOutput) throws(EddyError) -> WriteItemOutput
    ) throws(EddyError) -> Charged<WriteItemOutput> {
        spend(charge, .write, on: table, at: key)
        guard case .success(let output) = result else { return Charged(result: result, charges: [charge]) }
        var completed = try complete(output)
        completed.consumedCapacity = charge.consumedCapacity(mode)
        return Charged(result: .success(completed), charges: [charge])
    }

    /// `output` with the metrics of the item collection of `key`'s partition, when the request asked for
    /// them and the table has local secondary indexes (read under the item's lock, after the commit).
    private func withCollectionMetrics(
        _ output: WriteItemOutput, _ requested: ReturnItemCollectionMetrics?, key: Item, in table: ResolvedTable
    ) throws(EddyError) -> WriteItemOutput {
        guard requested == .size, let current = catalog.table(named: table.name), current.hasLocalIndexes else { return output }
        var output = output
        output.itemCollectionMetrics = try itemCollectionMetrics(of: key, in: current)
        return output
    }

    /// What `ReturnValues` asks for after an UpdateExpression changed `paths`.
    private static func returned(_ returnValues: ReturnValue, old: Item?, new: Item, paths: [[ResolvedPathElement]]) -> Item? {
        let picked: Item?
        switch returnValues {
        case .none: picked = nil
        case .allOld: picked = old
        case .allNew: picked = new
        case .updatedOld: picked = old.map { DocumentPathAccess.project($0, paths: paths) }
        case .updatedNew: picked = DocumentPathAccess.project(new, paths: paths)
        }
        guard let picked, !picked.isEmpty else { return nil }
        return picked
    }

    /// ConditionalCheckFailedException with what it consumed, unless the request's condition holds for `old`
    /// (stored as `stored`); nil when it holds.
    ///
    /// The AWS pages disagree on what a failed conditional write costs. Eddy follows the Developer Guide's
    /// "Working with items and attributes", section "Capacity units consumed by conditional writes": "If the
    /// item does not currently exist in the table, DynamoDB consumes one write capacity unit. If the item does
    /// exist, the number of write capacity units consumed depends on the size of the item." So: the existing
    /// item's size in 1 KB units, at least one; no index writes. The exception itself carries no capacity.
    private func conditionFailure(
        _ expressions: RequestExpressions, on old: Item?, stored: [UInt8]?, in table: ResolvedTable,
        returning: ReturnValuesOnConditionCheckFailure?
    ) throws(EddyError) -> (Result<WriteItemOutput, EddyError>, CapacityCharge)? {
        guard try !expressions.conditionHolds(on: old) else { return nil }
        var charge = CapacityCharge(tableName: table.name)
        charge.table.write = CapacityUnits.write(sizeBytes: try storedSize(stored))
        return (.failure(.conditionalCheckFailed("The conditional request failed", item: returning == .allOld ? old : nil)), charge)
    }

    /// Validates a whole item for a put and returns where it is stored.
    func validatedPut(_ item: Item, in table: ResolvedTable) throws(EddyError) -> ItemKey {
        try table.validateKeyAttributes(of: item)
        try ValueValidation.validate(item)
        guard ItemSize.of(item) <= Limits.itemSizeBytesMax else {
            throw .validation("Item size has exceeded the maximum allowed size")
        }
        return ItemKey(table: table, key: item)
    }

    /// Checks an item an update produced: valid values, and within the item size limit.
    func validateUpdated(_ item: Item) throws(EddyError) {
        try ValueValidation.validate(item)
        guard ItemSize.of(item) <= Limits.itemSizeBytesMax else {
            throw .validation("Item size to update has exceeded the maximum allowed size")
        }
    }

    /// The item stored at `key`, or nil.
    func readItem(_ key: ItemKey) throws(EddyError) -> Item? {
        guard let bytes = try storageCall({ try store.get(key.bytes, in: .items, snapshot: nil) }) else { return nil }
        return try decodeItem(bytes)
    }
}

extension ReturnValue {
    /// The `ReturnValues` of PutItem and DeleteItem, which allow only `NONE` (the default) and `ALL_OLD`: the
    /// other values of the enum get DynamoDB's "Return values set to invalid value".
    static func noneOrAllOld(_ requested: ReturnValue?) throws(EddyError) -> ReturnValue {
        let value = requested ?? .none
        guard value == .none || value == .allOld else {
            throw .validation("Return values set to invalid value")
        }
        return value
    }
}
