extension Database {
    /// Admits a request that reads or writes partition key value `partitionKey` (and sort key value `sortKey`,
    /// for a request on one item) of `table` (nil: a request spanning partition keys, a Scan), through global
    /// index `index` when it reads one, or throws DynamoDB's throttling error. A write also needs every global
    /// index of the table to have capacity left: an index that cannot keep up throttles its table's writes.
    ///
    /// A refusal is counted in the capacity metrics and, with Contributor Insights enabled on the table (or
    /// the index read), as a throttled key.
    func admit(
        _ operation: CapacityOperation, to table: ResolvedTable, partitionKey: AttributeValue?, sortKey: AttributeValue? = nil,
        index: String? = nil
    ) throws(EddyError) {
        guard capacity.isEnforcing else { return }
        var uses = [CapacityUse(indexName: index, partitionKey: partitionKey)]
        if operation == .write {
            for gsi in table.indexes where gsi.isGlobal { uses.append(CapacityUse(indexName: gsi.name, partitionKey: nil)) }
        }
        do {
            try capacity.admit(tableId: table.id, operation, uses)
        } catch {
            observeThrottle(error, operation, on: table, partitionKey: partitionKey, sortKey: sortKey, index: index)
            throw error
        }
    }

    /// Charges `charge`, consumed by a request on `table`, to the table's bucket (its local indexes share it),
    /// each global index's, and the partition key value `partitionKey` of the table, or of global index
    /// `index` when the request read that index; counts it in the capacity metrics and, with Contributor
    /// Insights enabled there, as accessed by `partitionKey` and `sortKey`.
    func spend(
        _ charge: CapacityCharge, _ operation: CapacityOperation, on table: ResolvedTable, partitionKey: AttributeValue?,
        sortKey: AttributeValue? = nil, index: String? = nil
    ) {
        func units(_ units: CapacityUnits) -> Double { operation == .read ? units.read : units.write }
        let tableUnits = charge.localIndexes.values.reduce(units(charge.table)) { $0 + units($1) }
        capacityMetrics.consumed(tableUnits, operation, id: table.id, table: table.name, index: nil)
        for (name, indexUnits) in charge.globalIndexes {
            guard let gsi = table.index(named: name) else { continue }
            capacityMetrics.consumed(units(indexUnits), operation, id: gsi.definition.id, table: table.name, index: name)
        }
        if table.observesContributors, let partitionKey {
            let used = index.map { charge.globalIndexes[$0].map(units) ?? 0 } ?? tableUnits
            observe(on: table, index: index, partitionKey: partitionKey, sortKey: sortKey, units: used, throttled: false)
        }
        guard capacity.isEnforcing else { return }
        var uses = [CapacityUse(partitionKey: index == nil ? partitionKey : nil, units: tableUnits)]
        for (name, indexUnits) in charge.globalIndexes {
            uses.append(CapacityUse(indexName: name, partitionKey: name == index ? partitionKey : nil, units: units(indexUnits)))
        }
        capacity.charge(tableId: table.id, operation, uses)
    }

    /// Counts the refusal `error` of a request on `table` (through global index `index`): a throttle event of
    /// the table or index that refused it, and a throttled key where Contributor Insights is enabled.
    private func observeThrottle(
        _ error: EddyError, _ operation: CapacityOperation, on table: ResolvedTable, partitionKey: AttributeValue?,
        sortKey: AttributeValue?, index: String?
    ) {
        // A refusal names the ARN of the table, or of the index (`…/index/<name>`), that had nothing left.
        let resource = error.throttlingReasons.first?.resource ?? ""
        let refusing = resource.range(of: "/index/").flatMap { table.index(named: String(resource[$0.upperBound...])) }
        capacityMetrics.throttled(
            operation, id: refusing?.definition.id ?? table.id, tableId: table.id, table: table.name, index: refusing?.name)
        if table.observesContributors, let partitionKey {
            observe(on: table, index: index, partitionKey: partitionKey, sortKey: sortKey, units: 0, throttled: true)
        }
    }

    /// Feeds Contributor Insights of `table`, or of its global index `index`, if it is enabled there.
    private func observe(
        on table: ResolvedTable, index: String?, partitionKey: AttributeValue, sortKey: AttributeValue?, units: Double, throttled: Bool
    ) {
        let resource: (id: UInt64, setting: ContributorInsightsSetting?, key: PrimaryKeySchema)
        if let index {
            guard let gsi = table.index(named: index), gsi.isGlobal else { return }
            resource = (gsi.definition.id, gsi.definition.contributorInsights, gsi.layout.key)
        } else {
            resource = (table.id, table.definition.contributorInsights, table.key)
        }
        guard let setting = resource.setting, setting.enabled else { return }
        contributorInsights.record(
            resource: resource.id, mode: setting.mode, hasSortKey: resource.key.sortKeyName != nil, partitionKey: partitionKey,
            sortKey: sortKey, units: units, throttled: throttled)
    }
}

extension ResolvedTable {
    /// The partition key value of `item` (an item or a key), nil if it has none.
    func partitionKey(of item: Item) -> AttributeValue? {
        item[key.partitionKeyName]
    }

    /// The sort key value of `item` (an item or a key), nil if the table or the item has none.
    func sortKey(of item: Item) -> AttributeValue? {
        key.sortKeyName.flatMap { item[$0] }
    }
}
