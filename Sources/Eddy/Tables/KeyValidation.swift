extension ResolvedTable {
    /// Checks that `item` (a PutItem item) holds this table's key attributes with their declared types.
    func validateKeyAttributes(of item: Item) throws(EddyError) {
        for (name, type) in keyAttributes {
            guard let value = item[name] else {
                throw .validation("One or more parameter values were invalid: Missing the key \(name) in the item")
            }
            guard value.typeDescriptor == type.rawValue else {
                throw .validation(
                    "One or more parameter values were invalid: Type mismatch for key \(name) expected: \(type.rawValue) actual: \(value.typeDescriptor)"
                )
            }
            try checkKeyValue(value, name: name)
        }
    }

    /// Checks that `key` (the `Key` of GetItem, DeleteItem, UpdateItem, BatchGetItem) names exactly this
    /// table's key attributes, with their declared types.
    func validateKey(_ key: Item) throws(EddyError) {
        guard key.count == keyAttributes.count else { throw Self.schemaMismatch }
        for (name, type) in keyAttributes {
            guard let value = key[name], value.typeDescriptor == type.rawValue else { throw Self.schemaMismatch }
            try checkKeyValue(value, name: name)
        }
    }

    /// The key attributes of `item`, which holds them already (a stored item).
    func keyAttributes(of item: Item) -> Item {
        var key: Item = [:]
        for (name, _) in keyAttributes { key[name] = item[name] }
        return key
    }

    private static var schemaMismatch: EddyError {
        .validation("The provided key element does not match the schema")
    }

    private func checkKeyValue(_ value: AttributeValue, name: String) throws(EddyError) {
        let isPartitionKey = name == key.partitionKeyName
        switch value {
        case .s(let string):
            guard !string.isEmpty else {
                throw .validation(
                    "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: \(name)"
                )
            }
            try checkKeySize(string.utf8.count, isPartitionKey: isPartitionKey)
        case .b(let bytes):
            guard !bytes.isEmpty else {
                throw .validation(
                    "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty binary value. Key: \(name)"
                )
            }
            try checkKeySize(bytes.count, isPartitionKey: isPartitionKey)
        default:
            return
        }
    }

    private func checkKeySize(_ size: Int, isPartitionKey: Bool) throws(EddyError) {
        if isPartitionKey, size > Limits.partitionKeySizeBytesMax {
            throw .validation(
                "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of\(Limits.partitionKeySizeBytesMax) bytes"
            )
        }
        if !isPartitionKey, size > Limits.sortKeySizeBytesMax {
            throw .validation(
                "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of \(Limits.sortKeySizeBytesMax) bytes"
            )
        }
    }
}
