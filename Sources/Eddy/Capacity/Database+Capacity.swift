extension Database {
    /// Admits a request that reads or writes partition key value `partitionKey` of `table` (nil: a request
    /// spanning partition keys, a Scan), through global index `index` when it reads one, or throws DynamoDB's
    /// throttling error. A write also needs every global index of the table to have capacity left: an index
    /// that cannot keep up throttles its table's writes.
    func admit(
        _ operation: CapacityOperation, to table: ResolvedTable, partitionKey: AttributeValue?, index: String? = nil
    ) throws(EddyError) {
        guard capacity.isEnforcing else { return }
        var uses = [CapacityUse(indexName: index, partitionKey: partitionKey)]
        if operation == .write {
            for gsi in table.indexes where gsi.isGlobal { uses.append(CapacityUse(indexName: gsi.name, partitionKey: nil)) }
        }
        try capacity.admit(tableId: table.id, operation, uses)
    }

    /// Charges `charge`, consumed by a request on `table`, to the table's bucket (its local indexes share it),
    /// each global index's, and the partition key value `partitionKey` of the table, or of global index
    /// `index` when the request read that index.
    func spend(
        _ charge: CapacityCharge, _ operation: CapacityOperation, on table: ResolvedTable, partitionKey: AttributeValue?,
        index: String? = nil
    ) {
        guard capacity.isEnforcing else { return }
        func units(_ units: CapacityUnits) -> Double { operation == .read ? units.read : units.write }
        let tableUnits = charge.localIndexes.values.reduce(units(charge.table)) { $0 + units($1) }
        var uses = [CapacityUse(partitionKey: index == nil ? partitionKey : nil, units: tableUnits)]
        for (name, indexUnits) in charge.globalIndexes {
            uses.append(CapacityUse(indexName: name, partitionKey: name == index ? partitionKey : nil, units: units(indexUnits)))
        }
        capacity.charge(tableId: table.id, operation, uses)
    }
}

extension ResolvedTable {
    /// The partition key value of `item` (an item or a key), nil if it has none.
    func partitionKey(of item: Item) -> AttributeValue? {
        item[key.partitionKeyName]
    }
}
