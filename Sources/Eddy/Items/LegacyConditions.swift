/// One entry of the legacy `Expected` map of PutItem, UpdateItem and DeleteItem.
public struct ExpectedAttributeValue: Codable, Sendable, Equatable {
    /// Shorthand for `EQ` with this value (or, with `exists: false`, nothing).
    public var value: AttributeValue?
    /// `false`: the attribute must be absent; `true` (with `value`): it must equal `value`.
    public var exists: Bool?
    public var comparisonOperator: ComparisonOperator?
    public var attributeValueList: [AttributeValue]?

    public init(
        value: AttributeValue? = nil, exists: Bool? = nil, comparisonOperator: ComparisonOperator? = nil,
        attributeValueList: [AttributeValue]? = nil
    ) {
        self.value = value
        self.exists = exists
        self.comparisonOperator = comparisonOperator
        self.attributeValueList = attributeValueList
    }

    enum CodingKeys: String, CodingKey {
        case value = "Value", exists = "Exists", comparisonOperator = "ComparisonOperator"
        case attributeValueList = "AttributeValueList"
    }
}

/// How the legacy conditions of one request combine: all must hold (`AND`, the default) or any (`OR`).
public enum ConditionalOperator: String, Codable, Sendable, CaseIterable {
    case and = "AND"
    case or = "OR"
}

/// The legacy conditions (`Expected`, `QueryFilter`, `ScanFilter`) compiled into the expressions' syntax
/// tree, so that one evaluator serves both.
enum LegacyConditions {
    /// `Expected` as a condition.
    static func compile(expected: [String: ExpectedAttributeValue], conditionalOperator: ConditionalOperator?) throws(EddyError) -> ConditionNode? {
        var parts: [ConditionNode] = []
        for (name, entry) in expected.sorted(by: { $0.key < $1.key }) {
            let path = DocumentPath(elements: [.name(.literal(name))])
            switch (entry.comparisonOperator, entry.value, entry.exists) {
            case (let op?, nil, nil):
                parts.append(try condition(op, path: path, operands: entry.attributeValueList ?? []))
            case (nil, let value?, nil), (nil, let value?, true?):
                parts.append(.compare(.path(path), .equal, .literal(value)))
            case (nil, nil, false?):
                parts.append(.attributeNotExists(path))
            case (nil, nil, true?), (nil, nil, nil):
                throw .validation(
                    "One or more parameter values were invalid: Value must be provided when Exists is true for Attribute: \(name)")
            case (nil, _?, false?):
                throw .validation(
                    "One or more parameter values were invalid: Value cannot be used when Exists is false for Attribute: \(name)")
            case (_?, _, _):
                throw .validation(
                    "One or more parameter values were invalid: Exists and Value cannot be used with ComparisonOperator for Attribute: \(name)")
            }
        }
        return combine(parts, conditionalOperator)
    }

    /// `QueryFilter` or `ScanFilter` as a condition.
    static func compile(filter: [String: Condition], conditionalOperator: ConditionalOperator?) throws(EddyError) -> ConditionNode? {
        var parts: [ConditionNode] = []
        for (name, entry) in filter.sorted(by: { $0.key < $1.key }) {
            let path = DocumentPath(elements: [.name(.literal(name))])
            parts.append(try condition(entry.comparisonOperator, path: path, operands: entry.attributeValueList ?? []))
        }
        return combine(parts, conditionalOperator)
    }

    private static func combine(_ parts: [ConditionNode], _ conditionalOperator: ConditionalOperator?) -> ConditionNode? {
        guard var result = parts.first else { return nil }
        for part in parts.dropFirst() {
            result = conditionalOperator == .or ? .or(result, part) : .and(result, part)
        }
        return result
    }

    /// One legacy comparison, with the operand count DynamoDB requires of its operator.
    private static func condition(_ op: ComparisonOperator, path: DocumentPath, operands: [AttributeValue]) throws(EddyError) -> ConditionNode {
        let subject = Operand.path(path)
        func operandCount(_ allowed: ClosedRange<Int>) throws(EddyError) -> [Operand] {
            guard allowed.contains(operands.count) else {
                throw .validation("One or more parameter values were invalid: Invalid number of argument(s) for the \(op.rawValue) ComparisonOperator")
            }
            for operand in operands { try ValueValidation.validate(operand, depth: 0) }
            return operands.map(Operand.literal)
        }
        switch op {
        case .eq: return .compare(subject, .equal, try operandCount(1...1)[0])
        case .ne: return .compare(subject, .notEqual, try operandCount(1...1)[0])
        case .lt: return .compare(subject, .less, try operandCount(1...1)[0])
        case .le: return .compare(subject, .lessOrEqual, try operandCount(1...1)[0])
        case .gt: return .compare(subject, .greater, try operandCount(1...1)[0])
        case .ge: return .compare(subject, .greaterOrEqual, try operandCount(1...1)[0])
        case .notNull:
            _ = try operandCount(0...0)
            return .attributeExists(path)
        case .null:
            _ = try operandCount(0...0)
            return .attributeNotExists(path)
        case .contains: return .contains(subject, try operandCount(1...1)[0])
        case .notContains: return .and(.attributeExists(path), .not(.contains(subject, try operandCount(1...1)[0])))
        case .beginsWith: return .beginsWith(subject, try operandCount(1...1)[0])
        case .in:
            let list = try operandCount(1...Limits.inOperandsMax)
            try requireOneType(operands)
            return .in(subject, list)
        case .between:
            let bounds = try operandCount(2...2)
            try requireOneType(operands)
            return .between(subject, bounds[0], bounds[1])
        }
    }

    /// Refuses an `IN` list or `BETWEEN` bounds of more than one type, as DynamoDB refuses them.
    private static func requireOneType(_ operands: [AttributeValue]) throws(EddyError) {
        guard let first = operands.first?.typeDescriptor else { return }
        guard operands.allSatisfy({ $0.typeDescriptor == first }) else {
            throw .validation("One or more parameter values were invalid: AttributeValues inside AttributeValueList must be of same type")
        }
    }
}
