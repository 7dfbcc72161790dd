/// What a Query or Scan reads: a table's items, or the entries of one of its secondary indexes.
struct ReadSource {
    let table: ResolvedTable
    /// The index named by `IndexName`; nil for the table itself.
    let index: ResolvedIndex?

    /// Resolves `indexName` of `table`, refusing what DynamoDB refuses: an unknown index, a strongly
    /// consistent read of a global index, and a read of an index still being created.
    init(table: ResolvedTable, indexName: String?, consistentRead: Bool?) throws(EddyError) {
        self.table = table
        guard let indexName else {
            index = nil
            return
        }
        try TableValidation.validateTableName(indexName, field: "indexName")
        guard let index = table.index(named: indexName) else {
            throw .validation("The table does not have the specified index: \(indexName)")
        }
        if index.isGlobal, consistentRead == true {
            throw .validation("Consistent reads are not supported on global secondary indexes")
        }
        guard index.isReadable else {
            throw .validation("Cannot read from backfilling global secondary index: \(indexName)")
        }
        self.index = index
    }

    var layout: KeyLayout { index?.layout ?? table.layout }

    /// The key attributes of an entry, with their types: the table's, or for an index the index's and then
    /// the table's.
    var entryKeyAttributes: [(String, ScalarAttributeType)] {
        guard let index else { return table.keyAttributes }
        return index.keyAttributes + table.keyAttributes.filter { name, _ in !index.keyAttributes.contains { $0.0 == name } }
    }

    /// The key of the entry an `ExclusiveStartKey` names: for an index, the index's and the table's key
    /// attributes, with their types.
    func startKey(_ start: Item) throws(EddyError) -> [UInt8] {
        do throws(EddyError) {
            guard let index else {
                try table.validateKey(start)
                return ItemKey(table: table, key: start).bytes
            }
            let attributes = entryKeyAttributes
            guard start.count == attributes.count,
                attributes.allSatisfy({ name, type in start[name]?.typeDescriptor == type.rawValue })
            else {
                throw .validation("The provided key element does not match the schema")
            }
            return ItemKey(layout: index.layout, key: start).bytes
        } catch {
            throw .validation("The provided starting key is invalid: \(error.message)")
        }
    }

    /// The key of the entry a Query's `ExclusiveStartKey` names. Query words a start key of the wrong shape
    /// as DynamoDB does: one with more or fewer attributes than the entry key (a sort key on a table without
    /// one, say) is not of the key schema's size; one of the right size naming another attribute is invalid.
    func queryStartKey(_ start: Item) throws(EddyError) -> [UInt8] {
        let attributes = entryKeyAttributes
        guard start.count == attributes.count else {
            throw .validation("Exclusive Start Key must have same size as table's key schema")
        }
        guard attributes.allSatisfy({ name, _ in start[name] != nil }) else {
            throw .validation("The provided starting key is invalid")
        }
        return try startKey(start)
    }

    /// The `LastEvaluatedKey` of a page that ends with `entry`.
    func lastEvaluatedKey(of entry: Item) -> Item {
        var key: Item = [:]
        for name in layout.entryKeyNames { key[name] = entry[name] }
        return key
    }
}
