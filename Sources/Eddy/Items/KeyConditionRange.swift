/// The key range a Query reads: legacy `KeyConditions` turned into `[lower, upper)` over ``ItemKey`` bytes,
/// of a table's items or an index's entries.
///
/// Key encodings are self-delimiting, so no encoded value is a proper prefix of another: the keys with a
/// given sort key value are exactly those beginning with `prefix · enc(value)` (an index entry's key goes on
/// with the table's key values), and that prefix's successor is the first key after all of them.
struct KeyConditionRange {
    let partitionPrefix: [UInt8]
    private(set) var lower: [UInt8]
    private(set) var upper: [UInt8]

    private static let sortKeyOperators: Set<ComparisonOperator> = [.eq, .lt, .le, .gt, .ge, .beginsWith, .between]

    init(_ conditions: [String: Condition], layout: KeyLayout) throws(EddyError) {
        let key = layout.key
        let partitionName = key.partitionKeyName
        guard !conditions.isEmpty else {
            throw .validation("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
        }
        guard conditions.count <= 2 else { throw .validation("Conditions can be of length 1 or 2 only") }
        // Two conditions on a key of one attribute cannot all be on the key.
        guard conditions.count <= layout.key.attributeNames.count else { throw .validation("Query key condition not supported") }
        guard let partitionCondition = conditions[partitionName] else {
            throw .validation("Query condition missed key schema element: \(partitionName)")
        }
        for name in conditions.keys where name != partitionName && name != key.sortKeyName {
            throw .validation("Query condition missed key schema element: \(key.sortKeyName ?? partitionName)")
        }
        guard partitionCondition.comparisonOperator == .eq else {
            throw .validation("Query key condition not supported")
        }
        let partitionValue = try Self.operands(of: partitionCondition, count: 1, type: key.partitionKeyType)[0]
        partitionPrefix = ItemKey.partitionPrefix(layout: layout, partitionKey: partitionValue)
        let partitionEnd = partitionPrefix.prefixSuccessor!
        lower = partitionPrefix
        upper = partitionEnd

        guard let sortName = key.sortKeyName, let sortType = key.sortKeyType,
            let condition = conditions[sortName]
        else { return }
        let op = condition.comparisonOperator
        guard Self.sortKeyOperators.contains(op) else {
            throw .validation("Attempted conditional constraint is not an indexable operation")
        }
        let operands = try Self.operands(of: condition, count: op == .between ? 2 : 1, type: sortType)
        func encoded(_ value: AttributeValue) -> [UInt8] {
            var writer = ByteWriter(capacity: partitionPrefix.count + 16)
            writer.write(partitionPrefix)
            KeyEncoding.append(value, to: &writer)
            return writer.bytes
        }
        /// The first key after every key with the sort key value that `encoded` ends with.
        func after(_ encoded: [UInt8]) -> [UInt8] { encoded.prefixSuccessor ?? partitionEnd }
        switch op {
        case .eq:
            lower = encoded(operands[0])
            upper = after(lower)
        case .lt:
            upper = encoded(operands[0])
        case .le:
            upper = after(encoded(operands[0]))
        case .gt:
            lower = after(encoded(operands[0]))
        case .ge:
            lower = encoded(operands[0])
        case .between:
            let (from, through) = (encoded(operands[0]), encoded(operands[1]))
            guard !through.lexicographicallyPrecedes(from) else {
                throw .validation(
                    "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {\(operands[0].typeDescriptor):\(Self.render(operands[0]))}, upper bound operand: AttributeValue: {\(operands[1].typeDescriptor):\(Self.render(operands[1]))}"
                )
            }
            lower = from
            upper = after(through)
        case .beginsWith:
            guard sortType != .n else {
                throw .validation("One or more parameter values were invalid: ComparisonOperator BEGINS_WITH is not valid for N AttributeValue type")
            }
            lower = partitionPrefix + KeyEncoding.prefixBytes(operands[0])
            upper = lower.prefixSuccessor ?? partitionEnd
        default:
            preconditionFailure("sortKeyOperators lists the operators handled here")
        }
    }

    /// Whether `key`, a whole entry key, lies in the range: in the partition and within the sort-key condition.
    func contains(_ key: [UInt8]) -> Bool {
        !key.lexicographicallyPrecedes(lower) && key.lexicographicallyPrecedes(upper)
    }

    /// Narrows the range to the keys after (forward) or before (backward) `startKey`, a whole entry key.
    mutating func resume(after startKey: [UInt8], forward: Bool) {
        if forward {
            let next = startKey + [0]
            if lower.lexicographicallyPrecedes(next) { lower = next }
        } else if startKey.lexicographicallyPrecedes(upper) {
            upper = startKey
        }
    }

    private static func operands(of condition: Condition, count: Int, type: ScalarAttributeType) throws(EddyError) -> [AttributeValue] {
        let values = condition.attributeValueList ?? []
        guard values.count == count else {
            throw .validation("One or more parameter values were invalid: Invalid number of argument(s) for the \(condition.comparisonOperator.rawValue) ComparisonOperator")
        }
        for value in values where value.typeDescriptor != type.rawValue {
            throw .validation("One or more parameter values were invalid: Condition parameter type does not match schema type")
        }
        return values
    }

    /// `value` as DynamoDB's key-condition messages print it.
    static func render(_ value: AttributeValue) -> String {
        switch value {
        case .s(let string): string
        case .n(let number): number.description
        case .b(let bytes): "\(bytes)"
        default: "\(value)"
        }
    }
}
