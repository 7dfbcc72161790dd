import EddyStorage

extension PreparedWrite {
    /// Moves the index entries of `change`'s item, `old` before and `new` after it (nil: no item): the entry
    /// of the old item goes if the new one has none or another key, and the new item's entry is written;
    /// each index's counter follows, and `charge` the index's write units (``indexWriteUnits(old:new:keyMoved:)``).
    ///
    /// - Throws: `ValidationException` if the new item holds an index key attribute of the wrong type or an
    ///   invalid key value; the write then writes nothing.
    mutating func addIndexEntries(
        of change: ItemChange, old: Item?, new: Item?, in table: ResolvedTable, charging charge: inout CapacityCharge
    ) throws(EddyError) {
        if let new { try table.validateIndexKeys(of: new) }
        for index in table.indexes {
            let oldKey = old.flatMap(index.entryKey(of:))
            let newKey = new.flatMap(index.entryKey(of:))
            if let oldKey, oldKey != newKey { batch.delete(oldKey.bytes, in: .indexes) }
            if let newKey, let new, let encoded = change.new {
                batch.put(newKey.bytes, index.entryValue(of: new, encoded: encoded), in: .indexes)
            }
            let oldEntry = oldKey == nil ? nil : old.map(index.projected)
            let newEntry = newKey == nil ? nil : new.map(index.projected)
            let units = Self.indexWriteUnits(old: oldEntry, new: newEntry, keyMoved: oldKey != newKey)
            if units > 0 { charge.charge(CapacityUnits(write: units), to: index) }
            if index.isReadable {
                count(index.id, replacing: oldEntry, with: newEntry)
            } else {
                // Being backfilled, the index may not have the old item's entry yet: the committer looks.
                count(index.id, replacing: nil, with: newEntry)
                if let oldKey, let oldEntry {
                    counters.append(
                        CounterChange(
                            id: index.id, delta: TableCounter(itemCount: -1, sizeBytes: -Int64(ItemSize.of(oldEntry))),
                            ifEntryExists: oldKey.bytes))
                }
            }
        }
        if table.hasLocalIndexes {
            let delta = (new.map { ItemCollections.size(of: $0, in: table) } ?? 0) - (old.map { ItemCollections.size(of: $0, in: table) } ?? 0)
            if delta != 0, let partitionKey = change.keys[table.key.partitionKeyName] {
                collections.append(CollectionChange(key: ItemCollections.sizeKey(table: table, partitionKey: partitionKey), delta: delta))
            }
        }
    }
}

extension PreparedWrite {
    /// The write units an index consumes when its entry `old` becomes `new` (nil: no entry), per the
    /// Developer Guide ("Provisioned throughput considerations for Global Secondary Indexes", and the same
    /// section for local ones): an entry put or deleted is one write of its size; a key that moves is the
    /// delete of the old entry and the put of the new one; an entry whose projected attributes change in
    /// place is one write of the larger of the two; an entry that stays the same, or none before and after,
    /// costs nothing. Sizes are the entry's: the table's and the index's key attributes and the projected
    /// ones, as ``ItemSize`` counts them (the 100 bytes of overhead per entry the guide names count towards
    /// storage only).
    static func indexWriteUnits(old: Item?, new: Item?, keyMoved: Bool) -> Double {
        switch (old, new) {
        case (nil, nil):
            return 0
        case (let old?, nil):
            return CapacityUnits.write(sizeBytes: ItemSize.of(old))
        case (nil, let new?):
            return CapacityUnits.write(sizeBytes: ItemSize.of(new))
        case (let old?, let new?):
            if keyMoved {
                return CapacityUnits.write(sizeBytes: ItemSize.of(old)) + CapacityUnits.write(sizeBytes: ItemSize.of(new))
            }
            return old == new ? 0 : CapacityUnits.write(sizeBytes: max(ItemSize.of(old), ItemSize.of(new)))
        }
    }
}

extension ResolvedTable {
    /// Checks the attributes of `item` (to be written) that are keys of an index: each has the index's type
    /// and is a valid key value. An item without them is simply absent from the index (a sparse index).
    func validateIndexKeys(of item: Item) throws(EddyError) {
        for index in indexes {
            for (position, (name, type)) in index.keyAttributes.enumerated() {
                guard let value = item[name] else { continue }
                guard value.typeDescriptor == type.rawValue else {
                    throw .validation(
                        "One or more parameter values were invalid: Type mismatch for Index Key \(name) Expected: \(type.rawValue) Actual: \(value.typeDescriptor) IndexName: \(index.name)"
                    )
                }
                let size: Int
                switch value {
                case .s(let string): size = string.utf8.count
                case .b(let bytes): size = bytes.count
                default: continue
                }
                guard size > 0 else {
                    throw .validation(
                        "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty \(type == .s ? "string" : "binary") value. IndexName: \(index.name), IndexKey: \(name)"
                    )
                }
                let isPartitionKey = position == 0
                if size > (isPartitionKey ? Limits.partitionKeySizeBytesMax : Limits.sortKeySizeBytesMax) {
                    throw .validation(
                        isPartitionKey
                            ? "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of\(Limits.partitionKeySizeBytesMax) bytes"
                            : "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of \(Limits.sortKeySizeBytesMax) bytes"
                    )
                }
            }
        }
    }
}
