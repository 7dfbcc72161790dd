import EddyStorage

/// A write a derivative-table mapping makes for a stream record, on a table of the same database.
public enum DerivativeWrite: Sendable, Equatable {
    /// Writes a whole item, replacing any item with its key.
    case put(tableName: String, item: Item)
    /// Deletes the item with `key`, if there is one.
    case delete(tableName: String, key: Item)
    /// Changes (or creates) the item with `key` with an UpdateExpression, as UpdateItem does.
    case update(
        tableName: String, key: Item, updateExpression: String, expressionAttributeNames: [String: String]? = nil,
        expressionAttributeValues: [String: AttributeValue]? = nil)

    var tableName: String {
        switch self {
        case .put(let name, _), .delete(let name, _), .update(let name, _, _, _, _): name
        }
    }

    /// The item the write changes, or its key.
    var key: Item {
        switch self {
        case .put(_, let item): item
        case .delete(_, let key), .update(_, let key, _, _, _): key
        }
    }
}

/// Maps one stream record to the writes that keep derivative tables up to date. Throwing fails the batch.
public typealias DerivativeTransform = @Sendable (StreamRecord) throws -> [DerivativeWrite]

extension Database {
    /// Applies `writes` (in order; several may touch one item) and the mapping's `bookkeeping` (its new
    /// checkpoint) in ONE atomic batch, under the locks of every item written, with each changed item's
    /// stream record: the source change is applied exactly once, and the target tables' streams record what
    /// changed.
    ///
    /// The writes consume their target tables' capacity as the same writes made by requests would: each is
    /// admitted on its table's bucket and partition key value first, and what it consumed is spent after.
    ///
    /// - Throws: `ValidationException` for an invalid write (the batch then writes nothing);
    ///   `ResourceNotFoundException` if a target table does not exist; a throttling error if a target table
    ///   has no capacity left (nothing is written: the batch may be tried again as it is).
    func commitDerivative(_ writes: [DerivativeWrite], with bookkeeping: StorageBatch) async throws(EddyError) {
        var tables: [ResolvedTable] = []
        var planned: [(table: Int, key: ItemKey, write: DerivativeWrite, expressions: RequestExpressions?)] = []
        for write in writes {
            let table = try resolveTable(write.tableName)
            if !tables.contains(where: { $0.id == table.id }) { tables.append(table) }
            let index = tables.firstIndex { $0.id == table.id }!
            switch write {
            case .put(_, let item):
                planned.append((index, try validatedPut(item, in: table), write, nil))
            case .delete(_, let key):
                try table.validateKey(key)
                planned.append((index, ItemKey(table: table, key: key), write, nil))
            case .update(_, let key, let expression, let names, let values):
                try table.validateKey(key)
                let expressions = try RequestExpressions(
                    update: expression, names: names, values: values, valueExpressions: ["UpdateExpression"])
                planned.append((index, ItemKey(table: table, key: key), write, expressions))
            }
        }
        for step in planned {
            let table = tables[step.table]
            try admit(.write, to: table, at: CapacityKey(step.key, values: step.write.key))
        }
        let keys = Array(Set(planned.map(\.key)))
        try await locks.withLocks(keys) { () async throws(EddyError) in
            let charges = try await commitItemChange(in: tables) {
                (tables: [ResolvedTable]) throws(EddyError) -> (PreparedWrite?, [(table: Int, key: CapacityKey, charge: CapacityCharge)]) in
                var stored: [ItemKey: [UInt8]?] = [:]
                var current: [ItemKey: Item?] = [:]
                var order: [(table: Int, key: ItemKey)] = []
                for step in planned {
                    let table = tables[step.table]
                    if stored[step.key] == nil {
                        let bytes = try readStoredItem(step.key)
                        stored[step.key] = .some(bytes)
                        current[step.key] = .some(try bytes.map(decodeItem))
                        order.append((step.table, step.key))
                    }
                    let before = current[step.key] ?? nil
                    switch step.write {
                    case .put(_, let item):
                        current[step.key] = .some(item)
                    case .delete:
                        current[step.key] = .some(nil)
                    case .update(_, let key, _, _, _):
                        let applier = UpdateApplier(bindings: step.expressions!.bindings)
                        let new = try applier.apply(step.expressions!.update!, to: before ?? key, keyNames: table.key.attributeNames).item
                        try validateUpdated(new)
                        current[step.key] = .some(new)
                    }
                }
                var prepared = PreparedWrite(stamping: tables)
                var charges: [(table: Int, key: CapacityKey, charge: CapacityCharge)] = []
                for (index, key) in order {
                    let table = tables[index]
                    let old = stored[key] ?? nil
                    let oldItem = try old.map(decodeItem)
                    let new = current[key] ?? nil
                    guard new != oldItem else { continue }
                    let keys = table.keyAttributes(of: (new ?? oldItem)!)
                    var charge = CapacityCharge(tableName: table.name)
                    try prepared.add(
                        ItemChange(
                            key: key, keys: keys, old: old, new: new.map(ItemEncoding.encode), newItem: new,
                            eventName: new == nil ? .remove : (oldItem == nil ? .insert : .modify)),
                        in: table, charging: &charge)
                    charges.append((index, CapacityKey(key, values: keys), charge))
                }
                prepared.batch.append(contentsOf: bookkeeping)
                return (prepared, charges)
            }
            for (index, key, charge) in charges { spend(charge, .write, on: tables[index], at: key) }
        }
    }
}
