import EddyStorage

extension Database {
    /// Writes a whole item, replacing any item with the same key (DynamoDB's `PutItem`).
    ///
    /// ```swift
    /// let previous = try await db.putItem(PutItemInput(
    ///     tableName: "Users", item: ["id": "u1", "name": "Ada"], returnValues: .allOld)).attributes
    /// ```
    ///
    /// - Throws: `ValidationException` for a missing or mistyped key, an invalid value, or an item over
    ///   400 KB; `ResourceNotFoundException` if there is no such table.
    @discardableResult
    public func putItem(_ input: PutItemInput) async throws(EddyError) -> PutItemOutput {
        let returnValues = try ReturnValue.noneOrAllOld(input.returnValues)
        let table = try resolveTable(input.tableName)
        let itemKey = try validatedPut(input.item, in: table)
        let encoded = ItemEncoding.encode(input.item)
        return try await locks.withLock(itemKey) { () async throws(EddyError) -> PutItemOutput in
            let old = returnValues == .allOld ? try readItem(itemKey) : nil
            var batch = StorageBatch()
            batch.put(itemKey.bytes, encoded, in: .items)
            try await committer.commit(PreparedWrite(batch: batch, tablesMustExist: [table.id]))
            return PutItemOutput(attributes: old)
        }
    }

    /// Reads one item by its key (DynamoDB's `GetItem`).
    ///
    /// - Throws: `ValidationException` if `key` is not exactly the table's key;
    ///   `ResourceNotFoundException` if there is no such table.
    public func getItem(_ input: GetItemInput) async throws(EddyError) -> GetItemOutput {
        let table = try resolveTable(input.tableName)
        let projection = try Projection(attributesToGet: input.attributesToGet)
        try table.validateKey(input.key)
        let item = try readItem(ItemKey(table: table, key: input.key))
        return GetItemOutput(item: item.map(projection.apply))
    }

    /// Deletes one item by its key (DynamoDB's `DeleteItem`); deleting an absent item succeeds.
    ///
    /// - Throws: `ValidationException` if `key` is not exactly the table's key;
    ///   `ResourceNotFoundException` if there is no such table.
    @discardableResult
    public func deleteItem(_ input: DeleteItemInput) async throws(EddyError) -> DeleteItemOutput {
        let returnValues = try ReturnValue.noneOrAllOld(input.returnValues)
        let table = try resolveTable(input.tableName)
        try table.validateKey(input.key)
        let itemKey = ItemKey(table: table, key: input.key)
        return try await locks.withLock(itemKey) { () async throws(EddyError) -> DeleteItemOutput in
            let old = try readItem(itemKey)
            if old != nil {
                var batch = StorageBatch()
                batch.delete(itemKey.bytes, in: .items)
                try await committer.commit(PreparedWrite(batch: batch, tablesMustExist: [table.id]))
            }
            return DeleteItemOutput(attributes: returnValues == .allOld ? old : nil)
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
        let returnValues = input.returnValues ?? .none
        let table = try resolveTable(input.tableName)
        try table.validateKey(input.key)
        let updates = input.attributeUpdates ?? [:]
        try LegacyUpdate.validate(updates, keyNames: table.key.attributeNames)
        let itemKey = ItemKey(table: table, key: input.key)
        return try await locks.withLock(itemKey) { () async throws(EddyError) -> UpdateItemOutput in
            let old = try readItem(itemKey)
            let new = try LegacyUpdate.apply(updates, to: old ?? input.key)
            if new != old {
                guard ItemSize.of(new) <= Limits.itemSizeBytesMax else {
                    throw .validation("Item size to update has exceeded the maximum allowed size")
                }
                var batch = StorageBatch()
                batch.put(itemKey.bytes, ItemEncoding.encode(new), in: .items)
                try await committer.commit(PreparedWrite(batch: batch, tablesMustExist: [table.id]))
            }
            return UpdateItemOutput(attributes: LegacyUpdate.returned(returnValues, old: old, new: new, updated: updates.keys))
        }
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

    /// The item stored at `key`, or nil.
    func readItem(_ key: ItemKey) throws(EddyError) -> Item? {
        guard let bytes = try storageCall({ try store.get(key.bytes, in: .items, snapshot: nil) }) else { return nil }
        return try decodeItem(bytes)
    }
}

extension ReturnValue {
    /// The `ReturnValues` of PutItem and DeleteItem, which allow only `NONE` (the default) and `ALL_OLD`.
    static func noneOrAllOld(_ requested: ReturnValue?) throws(EddyError) -> ReturnValue {
        let value = requested ?? .none
        guard value == .none || value == .allOld else {
            throw .validation("ReturnValues can only be ALL_OLD or NONE")
        }
        return value
    }
}
