import EddyStorage

extension Database {
    /// Reads up to 100 items by key from one or more tables (DynamoDB's `BatchGetItem`).
    ///
    /// ```swift
    /// let found = try await db.batchGetItem(BatchGetItemInput(requestItems: [
    ///     "Users": KeysAndAttributes(keys: [["id": "u1"], ["id": "u2"]])
    /// ])).responses["Users"] ?? []
    /// ```
    ///
    /// Keys whose items would take the response past 16 MB come back in `unprocessedKeys`.
    ///
    /// - Throws: `ValidationException` for more than 100 keys, duplicate keys or keys that do not match a
    ///   table's schema; `ResourceNotFoundException` if a table does not exist.
    public func batchGetItem(_ input: BatchGetItemInput) async throws(EddyError) -> BatchGetItemOutput {
        try chargedBatchGetItem(input).get()
    }

    /// ``batchGetItem(_:)`` with the capacity it consumed: each key read as a GetItem, its item's size
    /// rounded up to 4 KB on its own (one unit for a missing item), per table; keys left unprocessed consume
    /// nothing.
    func chargedBatchGetItem(_ input: BatchGetItemInput) throws(EddyError) -> Charged<BatchGetItemOutput> {
        guard !input.requestItems.isEmpty else {
            throw TableValidation.constraint(value: "{}", field: "requestItems", "Member must have length greater than or equal to 1")
        }
        let keyCount = input.requestItems.values.reduce(0) { $0 + $1.keys.count }
        guard keyCount <= Limits.batchGetItemKeysMax else {
            throw .validation("Too many items requested for the BatchGetItem call")
        }
        var requests: [(name: String, table: ResolvedTable, request: KeysAndAttributes, projection: AttributeSelection)] = []
        for (name, request) in input.requestItems.sorted(by: { $0.key < $1.key }) {
            let table = try resolveTable(name)
            guard !request.keys.isEmpty else {
                throw TableValidation.constraint(value: "[]", field: "requestItems.\(name).member.keys", "Member must have length greater than or equal to 1")
            }
            var seen = Set<ItemKey>()
            for key in request.keys {
                try table.validateKey(key)
                guard seen.insert(ItemKey(table: table, key: key)).inserted else {
                    throw .validation("Provided list of item keys contains duplicates")
                }
            }
            let expressions = try RequestExpressions(
                projection: request.projectionExpression, names: request.expressionAttributeNames, values: nil,
                legacy: [("AttributesToGet", request.attributesToGet != nil)])
            requests.append((name, table, request, try expressions.projection(attributesToGet: request.attributesToGet)))
        }
        var responses: [String: [Item]] = [:]
        var unprocessed: [String: KeysAndAttributes] = [:]
        var responseBytes = 0
        var charges: [CapacityCharge] = []
        // The first throttling error, and whether any key got past its table's capacity.
        var throttling: EddyError?
        var admitted = false
        for (name, table, request, projection) in requests {
            responses[name] = []
            var charge = CapacityCharge(tableName: name)
            // Keys the table's capacity refused: returned unprocessed, as DynamoDB returns them.
            var throttled: [Item] = []
            for (index, key) in request.keys.enumerated() {
                let itemKey = ItemKey(table: table, key: key)
                let capacityKey = CapacityKey(itemKey, values: key)
                do throws(EddyError) {
                    try admit(.read, to: table, at: capacityKey, countsRequest: false)
                } catch {
                    throttling = throttling ?? error
                    throttled.append(key)
                    continue
                }
                admitted = true
                let bytes = try readStoredItem(itemKey)
                let size = try storedSize(bytes)
                if responseBytes + size > Limits.batchGetItemResponseBytesMax {
                    throttled += request.keys[index...]
                    break
                }
                var keyCharge = CapacityCharge(tableName: name)
                keyCharge.table.read = CapacityUnits.read(sizeBytes: size, consistent: request.consistentRead == true)
                spend(keyCharge, .read, on: table, at: capacityKey)
                charge.table.read += keyCharge.table.read
                guard let bytes else { continue }
                responseBytes += size
                responses[name, default: []].append(projection.apply(try decodeItem(bytes)))
            }
            if !throttled.isEmpty {
                var rest = request
                rest.keys = throttled
                unprocessed[name] = rest
            }
            charges.append(charge)
        }
        // DynamoDB answers the throttling error only when no key at all could be read, and only then counts a
        // throttled request.
        if let throttling, !admitted {
            for request in requests { request.table.meter.countThrottledRequest() }
            throw throttling
        }
        var output = BatchGetItemOutput(responses: responses, unprocessedKeys: unprocessed)
        output.consumedCapacity = charges.consumedCapacity(input.returnConsumedCapacity)
        return Charged(result: .success(output), charges: charges)
    }

    /// Puts and deletes up to 25 items over one or more tables (DynamoDB's `BatchWriteItem`).
    ///
    /// ```swift
    /// try await db.batchWriteItem(BatchWriteItemInput(requestItems: ["Users": [
    ///     WriteRequest(putRequest: PutRequest(item: ["id": "u3", "name": "Grace"])),
    ///     WriteRequest(deleteRequest: DeleteRequest(key: ["id": "u1"])),
    /// ]]))
    /// ```
    ///
    /// Every request is validated before anything is written; then all of them commit in one atomic batch.
    ///
    /// - Throws: `ValidationException` for more than 25 requests, two requests on one item, or any invalid
    ///   request; `ResourceNotFoundException` if a table does not exist; `ItemCollectionSizeLimitExceededException`
    ///   if the batch would take an item collection past its limit (the batch then writes nothing).
    @discardableResult
    public func batchWriteItem(_ input: BatchWriteItemInput) async throws(EddyError) -> BatchWriteItemOutput {
        try await chargedBatchWriteItem(input).get()
    }

    /// ``batchWriteItem(_:)`` with the capacity it consumed: each put or delete charged as PutItem or
    /// DeleteItem charges it, rounded on its own, per table.
    func chargedBatchWriteItem(_ input: BatchWriteItemInput) async throws(EddyError) -> Charged<BatchWriteItemOutput> {
        guard !input.requestItems.isEmpty else {
            throw TableValidation.constraint(value: "{}", field: "requestItems", "Member must have length greater than or equal to 1")
        }
        let limit = Limits.batchWriteItemRequestsMax
        if let (name, requests) = input.requestItems.first(where: { $0.value.count > limit }) {
            throw TableValidation.constraint(
                value: "{\(name)=[\(requests.count) write requests]}", field: "requestItems",
                "Map value must satisfy constraint: [Member must have length less than or equal to \(limit), Member must have length greater than or equal to 1]")
        }
        let requestCount = input.requestItems.values.reduce(0) { $0 + $1.count }
        guard requestCount <= limit else {
            throw .validation("Too many items requested for the BatchWriteItem call")
        }
        var tables: [ResolvedTable] = []
        var writes: [(table: Int, key: ItemKey, keys: Item, put: (item: Item, encoded: [UInt8])?, request: WriteRequest)] = []
        for (name, requests) in input.requestItems {
            let table = try resolveTable(name)
            guard !requests.isEmpty else {
                throw TableValidation.constraint(value: "[]", field: "requestItems.\(name).member", "Member must have length greater than or equal to 1")
            }
            tables.append(table)
            var seen = Set<ItemKey>()
            for request in requests {
                switch (request.putRequest, request.deleteRequest) {
                case (let put?, nil):
                    let itemKey = try validatedPut(put.item, in: table)
                    writes.append((tables.count - 1, itemKey, table.keyAttributes(of: put.item), (put.item, ItemEncoding.encode(put.item)), request))
                case (nil, let delete?):
                    try table.validateKey(delete.key)
                    writes.append((tables.count - 1, ItemKey(table: table, key: delete.key), delete.key, nil, request))
                default:
                    throw .validation("Supplied WriteRequest must contain exactly one of PutRequest or DeleteRequest")
                }
                guard seen.insert(writes[writes.count - 1].key).inserted else {
                    throw .validation("Provided list of item keys contains duplicates")
                }
            }
        }
        // Requests the tables' capacity refuses are returned unprocessed, as DynamoDB returns them; the error
        // only when none could be written. DynamoDB writes a batch's items one by one, each consuming before the
        // next is admitted: each admitted item spends at once what it costs at least (its new item's size, or
        // one unit for a delete), and the rest once it is written.
        var unprocessed: [String: [WriteRequest]] = [:]
        var throttling: EddyError?
        var spentInAdvance: [CapacityCharge] = []
        writes = writes.filter { write in
            let table = tables[write.table]
            do throws(EddyError) {
                try admit(.write, to: table, at: CapacityKey(write.key, values: write.keys), countsRequest: false)
            } catch {
                throttling = throttling ?? error
                unprocessed[table.name, default: []].append(write.request)
                return false
            }
            var least = CapacityCharge(tableName: table.name)
            least.table.write = CapacityUnits.write(sizeBytes: write.put.map { ItemSize.of($0.item) } ?? 0)
            spend(least, .write, on: table, at: CapacityKey(write.key, values: write.keys))
            spentInAdvance.append(least)
            return true
        }
        if let throttling, writes.isEmpty {
            for table in tables { table.meter.countThrottledRequest() }
            throw throttling
        }
        return try await locks.withLocks(writes.map(\.key), ifTransactionHolds: .fail) { () async throws(EddyError) -> Charged<BatchWriteItemOutput> in
            let (charges, itemCharges) = try await commitItemChange(in: tables) {
                tables throws(EddyError) -> (PreparedWrite?, ([CapacityCharge], [CapacityCharge])) in
                var prepared = PreparedWrite(stamping: tables)
                var charges = tables.map { CapacityCharge(tableName: $0.name) }
                // Each item's own charge, spent on its partition key value.
                var itemCharges: [CapacityCharge] = []
                for write in writes {
                    let table = tables[write.table]
                    let old = try readStoredItem(write.key)
                    var charge = CapacityCharge(tableName: table.name)
                    if let (item, encoded) = write.put {
                        let eventName = try ItemChange.event(replacing: old, with: encoded, newItem: item)
                        try prepared.add(
                            ItemChange(key: write.key, keys: write.keys, old: old, new: encoded, newItem: item, eventName: eventName),
                            in: table, charging: &charge)
                    } else {
                        try prepared.add(
                            ItemChange(key: write.key, keys: write.keys, old: old, new: nil, eventName: old == nil ? nil : .remove),
                            in: table, charging: &charge)
                    }
                    charges[write.table].add(charge)
                    itemCharges.append(charge)
                }
                return (prepared, (charges, itemCharges))
            }
            for ((write, charge), least) in zip(zip(writes, itemCharges), spentInAdvance) {
                var rest = charge
                rest.table.write -= least.table.write
                spend(rest, .write, on: tables[write.table], at: CapacityKey(write.key, values: write.keys))
            }
            var output = BatchWriteItemOutput(unprocessedItems: unprocessed)
            if input.returnItemCollectionMetrics == .size {
                output.itemCollectionMetrics = try itemCollectionMetrics(of: writes.map { (tables[$0.table], $0.keys) })
            }
            output.consumedCapacity = charges.consumedCapacity(input.returnConsumedCapacity)
            return Charged(result: .success(output), charges: charges)
        }
    }
}
