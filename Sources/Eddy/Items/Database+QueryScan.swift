import EddyStorage

extension Database {
    /// Reads the items of one partition in sort-key order, a page at a time (DynamoDB's `Query` with the
    /// legacy `KeyConditions`).
    ///
    /// ```swift
    /// var start: Item? = nil
    /// repeat {
    ///     let page = try await db.query(QueryInput(
    ///         tableName: "Orders",
    ///         keyConditions: ["customer": Condition(.eq, ["c1"]), "orderedAt": Condition(.ge, [1_700_000_000])],
    ///         limit: 50, exclusiveStartKey: start))
    ///     for order in page.items ?? [] { print(order) }
    ///     start = page.lastEvaluatedKey
    /// } while start != nil
    /// ```
    ///
    /// A page ends after `limit` items or before its items' sizes would pass 1 MB. With `indexName`, the key
    /// conditions are on the index's key and the page holds the index's entries in its key order, with the
    /// index's and the table's keys in `lastEvaluatedKey`.
    ///
    /// - Throws: `ValidationException` for conditions DynamoDB refuses, a bad `ExclusiveStartKey` (one not of
    ///   the key schema, or outside the partition or the sort-key condition queried), a `QueryFilter` on a key
    ///   attribute, a bad `Limit` or `Select`, an unknown index, an index still being created, or
    ///   `ConsistentRead` on a global index; `ResourceNotFoundException` if there is no such table.
    public func query(_ input: QueryInput) async throws(EddyError) -> QueryOutput {
        try chargedQuery(input).get()
    }

    /// ``query(_:)`` with the capacity its page consumed (``readPage(_:lower:upper:forward:shape:consistent:returning:at:)``).
    func chargedQuery(_ input: QueryInput) throws(EddyError) -> Charged<QueryOutput> {
        var expressions = try RequestExpressions(
            projection: input.projectionExpression, filter: input.filterExpression,
            keyCondition: input.keyConditionExpression,
            names: input.expressionAttributeNames, values: input.expressionAttributeValues,
            legacy: [
                ("KeyConditions", input.keyConditions != nil), ("AttributesToGet", input.attributesToGet != nil),
                ("QueryFilter", input.queryFilter != nil), ("ConditionalOperator", input.conditionalOperator != nil),
            ],
            valueExpressions: ["FilterExpression", "KeyConditionExpression"])
        try expressions.compileLegacy(filter: input.queryFilter, conditionalOperator: input.conditionalOperator)
        let table = try resolveTable(input.tableName)
        let source = try ReadSource(table: table, indexName: input.indexName, consistentRead: input.consistentRead)
        let shape = try PageShape(
            limit: input.limit, select: input.select, attributesToGet: input.attributesToGet, expressions: expressions, index: source.index)
        let key = source.layout.key
        let startKey = try input.exclusiveStartKey.map { (start) throws(EddyError) in try source.queryStartKey(start) }
        if let queryFilter = input.queryFilter {
            for name in queryFilter.keys.sorted() where key.attributeNames.contains(name) {
                throw .validation("QueryFilter can only contain non-primary key attributes: Primary key attribute: \(name)")
            }
        } else if let filter = expressions.filter {
            try KeyConditionTranslation.refuseKeyAttributes(in: filter, key: key, bindings: expressions.bindings)
        }
        let keyConditions = try expressions.keyCondition.map { (node) throws(EddyError) in
            try KeyConditionTranslation.conditions(of: node, bindings: expressions.bindings)
        } ?? input.keyConditions ?? [:]
        var range = try KeyConditionRange(keyConditions, layout: source.layout)
        let forward = input.scanIndexForward ?? true
        if let startKey {
            guard startKey.starts(with: range.partitionPrefix) else {
                throw .validation("The provided starting key is outside query boundaries based on provided conditions")
            }
            guard range.contains(startKey) else {
                throw .validation("The provided starting key does not match the range key predicate")
            }
            range.resume(after: startKey, forward: forward)
        }
        return try readPage(
            source, lower: range.lower, upper: range.upper, forward: forward, shape: shape,
            consistent: input.consistentRead == true, returning: input.returnConsumedCapacity,
            at: keyConditions[key.partitionKeyName]?.attributeValueList?.first.map { value in
                CapacityKey(ItemKey(bytes: range.partitionPrefix), values: [key.partitionKeyName: value])
            })
    }

    /// Reads every item of a table, or of one segment of a parallel scan, a page at a time (DynamoDB's
    /// `Scan`). Segments split the table into disjoint parts that together hold every item once.
    ///
    /// ```swift
    /// let pages = try await withThrowingTaskGroup(of: Int.self) { group in
    ///     for segment in 0..<4 {
    ///         group.addTask { try await db.scan(ScanInput(tableName: "Users", segment: segment, totalSegments: 4)).count }
    ///     }
    ///     return try await group.reduce(0, +)
    /// }
    /// ```
    ///
    /// With `indexName`, the scan reads the index's entries, segmented the same way.
    ///
    /// - Throws: `ValidationException` for a bad `Segment`/`TotalSegments`, `ExclusiveStartKey`, `Limit` or
    ///   `Select`, an unknown index, an index still being created, or `ConsistentRead` on a global index;
    ///   `ResourceNotFoundException` if there is no such table.
    public func scan(_ input: ScanInput) async throws(EddyError) -> ScanOutput {
        try chargedScan(input).get()
    }

    /// ``scan(_:)`` with the capacity its page consumed (``readPage(_:lower:upper:forward:shape:consistent:returning:at:)``).
    func chargedScan(_ input: ScanInput) throws(EddyError) -> Charged<ScanOutput> {
        var expressions = try RequestExpressions(
            projection: input.projectionExpression, filter: input.filterExpression,
            names: input.expressionAttributeNames, values: input.expressionAttributeValues,
            legacy: [
                ("AttributesToGet", input.attributesToGet != nil), ("ScanFilter", input.scanFilter != nil),
                ("ConditionalOperator", input.conditionalOperator != nil),
            ],
            valueExpressions: ["FilterExpression"])
        try expressions.compileLegacy(filter: input.scanFilter, conditionalOperator: input.conditionalOperator)
        let table = try resolveTable(input.tableName)
        let source = try ReadSource(table: table, indexName: input.indexName, consistentRead: input.consistentRead)
        let shape = try PageShape(
            limit: input.limit, select: input.select, attributesToGet: input.attributesToGet, expressions: expressions, index: source.index)
        let id = source.layout.id
        var lower = ItemKey.tableStart(id)
        var upper = ItemKey.tableEnd(id)
        if let (segment, totalSegments) = try validatedSegment(input.segment, input.totalSegments) {
            lower = ItemKey.hashStart(id, hash: PartitionHash.segmentStart(segment, of: totalSegments))
            upper = ItemKey.hashStart(id, hash: PartitionHash.segmentStart(segment + 1, of: totalSegments))
        }
        if let start = input.exclusiveStartKey {
            let startKey = try source.startKey(start)
            guard startKey.lexicographicallyPrecedes(upper), !startKey.lexicographicallyPrecedes(lower) else {
                throw .validation("The provided Exclusive start key does not map to the provided segment")
            }
            lower = startKey + [0]
        }
        return try readPage(
            source, lower: lower, upper: upper, forward: true, shape: shape, consistent: input.consistentRead == true,
            returning: input.returnConsumedCapacity, at: nil)
    }

    private func validatedSegment(_ segment: Int?, _ totalSegments: Int?) throws(EddyError) -> (Int, Int)? {
        switch (segment, totalSegments) {
        case (nil, nil):
            return nil
        case (_?, nil):
            throw .validation("The TotalSegments parameter is required but was not present in the request when Segment parameter is present")
        case (nil, _?):
            throw .validation("The Segment parameter is required but was not present in the request when parameter TotalSegments is present")
        case (let segment?, let totalSegments?):
            guard totalSegments >= 1 else {
                throw TableValidation.constraint(value: "\(totalSegments)", field: "totalSegments", "Member must have value greater than or equal to 1")
            }
            guard totalSegments <= Limits.scanTotalSegmentsMax else {
                throw TableValidation.constraint(value: "\(totalSegments)", field: "totalSegments", "Member must have value less than or equal to \(Limits.scanTotalSegmentsMax)")
            }
            guard segment >= 0 else {
                throw TableValidation.constraint(value: "\(segment)", field: "segment", "Member must have value greater than or equal to 0")
            }
            guard segment < totalSegments else {
                throw .validation("The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: \(segment) is out of bounds for TotalSegments: \(totalSegments)")
            }
            return (segment, totalSegments)
        }
    }

    /// Reads one page of `[lower, upper)` of `source` in the given direction, charging the capacity it
    /// consumes as the Developer Guide's "Query and Scan" and index "Provisioned throughput considerations"
    /// sections count it: the sizes of every item (or index entry) read, before any filter, summed and
    /// rounded up to 4 KB once for the page (at least one unit, also for a page that reads nothing), charged
    /// to the table or the index read; a local index's query that fetches table items adds each fetched
    /// item, rounded up on its own, on the table. Half units when the read is not `consistent`.
    ///
    /// The page is admitted first, and what it consumed is spent, on the table or the global index read and
    /// at `key`, the partition a Query reads (nil for a Scan).
    private func readPage(
        _ source: ReadSource, lower: [UInt8], upper: [UInt8], forward: Bool, shape: PageShape, consistent: Bool,
        returning mode: ReturnConsumedCapacity?, at key: CapacityKey?
    ) throws(EddyError) -> Charged<QueryOutput> {
        let globalIndex = source.index.flatMap { $0.isGlobal ? $0.name : nil }
        try admit(.read, to: source.table, at: key, index: globalIndex)
        var items: [Item] = []
        var scanned = 0
        var matched = 0
        var pageBytes = 0
        var lastKey: Item?
        var charge = CapacityCharge(tableName: source.table.name)
        func charged(_ output: QueryOutput) -> Charged<QueryOutput> {
            let units = CapacityUnits(read: CapacityUnits.read(sizeBytes: pageBytes, consistent: consistent))
            if let index = source.index { charge.charge(units, to: index) } else { charge.table = charge.table + units }
            spend(charge, .read, on: source.table, at: key, index: globalIndex)
            var output = output
            output.consumedCapacity = charge.consumedCapacity(mode)
            return Charged(result: .success(output), charges: [charge])
        }
        guard lower.lexicographicallyPrecedes(upper) else {
            return charged(QueryOutput(items: shape.returnsItems ? [] : nil, count: 0, scannedCount: 0, lastEvaluatedKey: nil))
        }
        let cursor = try storageCall {
            try store.scan(in: source.layout.space, from: lower, to: upper, direction: forward ? .forward : .backward, snapshot: nil)
        }
        var more = false
        while let (_, value) = try storageCall({ try cursor.next() }) {
            let entry = try decodeItem(value)
            let size = ItemSize.of(entry)
            if scanned == shape.limit || (scanned > 0 && pageBytes + size > Limits.pageSizeBytesMax) {
                more = true
                break
            }
            scanned += 1
            pageBytes += size
            lastKey = source.lastEvaluatedKey(of: entry)
            // A local index's query may ask for attributes its entries do not hold: they come from the table.
            let item: Item
            if shape.readsTableItems {
                guard let stored = try readItem(ItemKey(table: source.table, key: entry)) else { continue }
                charge.table.read += CapacityUnits.read(sizeBytes: ItemSize.of(stored), consistent: consistent)
                item = stored
            } else {
                item = entry
            }
            guard try shape.filter.map({ (filter) throws(EddyError) in try filter.evaluator.evaluate(filter.node, on: item) }) ?? true else { continue }
            matched += 1
            if shape.returnsItems { items.append(shape.projection.apply(item)) }
        }
        return charged(
            QueryOutput(
                items: shape.returnsItems ? items : nil,
                count: matched,
                scannedCount: scanned,
                lastEvaluatedKey: more ? lastKey : nil
            ))
    }
}

/// How many items a page holds and what of them it returns.
struct PageShape {
    let limit: Int?
    let returnsItems: Bool
    let projection: AttributeSelection
    /// The FilterExpression, applied to each item after it is read.
    let filter: (evaluator: ConditionEvaluator, node: ConditionNode)?

    /// Whether each index entry read is replaced by its table item: a local index's query that asks for
    /// more than the index projects.
    let readsTableItems: Bool

    init(
        limit: Int?, select: Select?, attributesToGet: [String]?, expressions: RequestExpressions, index: ResolvedIndex?
    ) throws(EddyError) {
        if let limit, limit < 1 {
            throw TableValidation.constraint(value: "\(limit)", field: "limit", "Member must have value greater than or equal to 1")
        }
        self.limit = limit
        projection = try expressions.projection(attributesToGet: attributesToGet)
        filter = expressions.filter.map { (ConditionEvaluator(bindings: expressions.bindings, kind: .filter), $0) }
        let projects = attributesToGet != nil || expressions.projection != nil
        let partialIndex = index.map { $0.projectedNames != nil } ?? false
        readsTableItems = partialIndex && index?.isGlobal == false && (select == .allAttributes || projects || filter != nil)
        switch select {
        case .count:
            guard !projects else {
                throw .validation("Cannot specify the AttributesToGet when choosing to get only the Count")
            }
            returnsItems = false
        case .allAttributes:
            guard !projects else {
                throw .validation("Cannot specify the AttributesToGet when choosing to get ALL_ATTRIBUTES")
            }
            if let index, index.isGlobal, partialIndex {
                throw .validation(
                    "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index \(index.name) because its projection type is not ALL"
                )
            }
            returnsItems = true
        case .allProjectedAttributes:
            guard index != nil else {
                throw .validation("ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName")
            }
            guard !projects else {
                throw .validation("Cannot specify the AttributesToGet when choosing to get ALL_PROJECTED_ATTRIBUTES")
            }
            returnsItems = true
        case .specificAttributes:
            guard projects else {
                throw .validation("Must specify the AttributesToGet when choosing to get SPECIFIC_ATTRIBUTES")
            }
            returnsItems = true
        case nil:
            returnsItems = true
        }
    }
}
