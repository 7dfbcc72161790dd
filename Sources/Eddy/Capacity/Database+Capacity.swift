/// Where a request lands in a table or global index: the partition its key value hashes to, which the
/// partition limit counts, and the key values themselves, which only Contributor Insights reads.
struct CapacityKey: Sendable {
    /// The ``ItemKey/partitionHash`` of the partition key value.
    let partitionHash: UInt32
    /// The request's key attribute values (a key or a whole item), under the table's or the index's names.
    let values: Item

    /// The key of the item at `itemKey`, whose attributes `values` holds.
    init(_ itemKey: ItemKey, values: Item) {
        partitionHash = itemKey.partitionHash
        self.values = values
    }

    /// The partition key value `value` of attribute `name`, with no sort key (a Query).
    init(partitionKey value: AttributeValue, named name: String) {
        partitionHash = ItemKey.partitionHash(of: value)
        values = [name: value]
    }
}

extension Database {
    /// Admits a request that reads or writes at `key` of `table` (nil: a request spanning partition keys, a
    /// Scan), through global index `index` when it reads one, or throws DynamoDB's throttling error. A write
    /// also needs every global index of the table to have capacity left: an index that cannot keep up
    /// throttles its table's writes.
    ///
    /// A refusal is counted in the capacity metrics (a throttled request too if `countsRequest`: a batch
    /// counts one only when none of its items got in) and, with Contributor Insights enabled on the table (or
    /// the index read), as a throttled key.
    func admit(
        _ operation: CapacityOperation, to table: ResolvedTable, at key: CapacityKey?, index: String? = nil, countsRequest: Bool = true
    ) throws(EddyError) {
        guard table.meter.isEnforcing else { return }
        do {
            try table.meter.admit(operation, partitionHash: key?.partitionHash, index: index, countsRequest: countsRequest)
        } catch {
            if table.observesContributors, let key { observe(on: table, index: index, key: key, units: 0, throttled: true) }
            throw error
        }
    }

    /// Charges `charge`, consumed by a request at `key` of `table` (through global index `index` when it read
    /// that index), to the table's meter (``TableMeter/spend(_:_:partitionHash:index:)``) and, with Contributor
    /// Insights enabled there, to `key` as accessed.
    func spend(_ charge: CapacityCharge, _ operation: CapacityOperation, on table: ResolvedTable, at key: CapacityKey?, index: String? = nil) {
        table.meter.spend(charge, operation, partitionHash: key?.partitionHash, index: index)
        guard table.observesContributors, let key else { return }
        func units(_ units: CapacityUnits) -> Double { operation == .read ? units.read : units.write }
        let used = index.map { charge.globalIndexes[$0].map(units) ?? 0 } ?? charge.localIndexes.values.reduce(units(charge.table)) { $0 + units($1) }
        observe(on: table, index: index, key: key, units: used, throttled: false)
    }

    /// Feeds Contributor Insights of `table`, or of its global index `index`, if it is enabled there.
    private func observe(on table: ResolvedTable, index: String?, key: CapacityKey, units: Double, throttled: Bool) {
        let resource: (id: UInt64, setting: ContributorInsightsSetting?, key: PrimaryKeySchema)
        if let index {
            guard let gsi = table.index(named: index), gsi.isGlobal else { return }
            resource = (gsi.definition.id, gsi.definition.contributorInsights, gsi.layout.key)
        } else {
            resource = (table.id, table.definition.contributorInsights, table.key)
        }
        guard let setting = resource.setting, setting.enabled, let partitionKey = key.values[resource.key.partitionKeyName] else { return }
        contributorInsights.record(
            resource: resource.id, mode: setting.mode, hasSortKey: resource.key.sortKeyName != nil, partitionKey: partitionKey,
            sortKey: resource.key.sortKeyName.flatMap { key.values[$0] }, units: units, throttled: throttled)
    }
}
