/// A KeyConditionExpression compiled to the key conditions Query reads by (the same form as the legacy
/// `KeyConditions`), and the check that a Query's FilterExpression leaves the key attributes alone.
enum KeyConditionTranslation {
    /// The conditions of `node`: equality on the partition key, and at most one condition on the sort key.
    static func conditions(of node: ConditionNode, key: PrimaryKeySchema, bindings: ExpressionBindings) throws(EddyError) -> [String: Condition] {
        var parts: [ConditionNode] = []
        try flatten(node, into: &parts)
        var result: [String: Condition] = [:]
        for part in parts {
            let (name, condition) = try keyCondition(part, bindings: bindings)
            guard key.attributeNames.contains(name) else {
                throw .validation("Query condition missed key schema element: \(missingKey(in: result, key: key))")
            }
            guard result[name] == nil else {
                throw .validation("KeyConditionExpressions must only contain one condition per key")
            }
            result[name] = condition
        }
        return result
    }

    /// Refuses a Query FilterExpression that reads an attribute of the queried key.
    static func refuseKeyAttributes(in filter: ConditionNode, key: PrimaryKeySchema, bindings: ExpressionBindings) throws(EddyError) {
        for path in paths(in: filter) {
            if case .name(let name)? = bindings.resolve(path).first, key.attributeNames.contains(name) {
                throw .validation("Filter Expression can only contain non-primary key attributes: Primary key attribute: \(name)")
            }
        }
    }

    private static func flatten(_ node: ConditionNode, into parts: inout [ConditionNode]) throws(EddyError) {
        switch node {
        case .and(let left, let right):
            try flatten(left, into: &parts)
            try flatten(right, into: &parts)
        case .or: throw invalidOperator("OR")
        case .not: throw invalidOperator("NOT")
        case .in: throw invalidOperator("IN")
        case .attributeExists: throw invalidOperator("attribute_exists")
        case .attributeNotExists: throw invalidOperator("attribute_not_exists")
        case .attributeType: throw invalidOperator("attribute_type")
        case .contains: throw invalidOperator("contains")
        case .compare(_, .notEqual, _): throw invalidOperator("<>")
        case .compare, .between, .beginsWith: parts.append(node)
        }
        guard parts.count <= 2 else {
            throw .validation("Conditions can be of length 1 or 2 only")
        }
    }

    private static func keyCondition(_ node: ConditionNode, bindings: ExpressionBindings) throws(EddyError) -> (String, Condition) {
        switch node {
        case .compare(let left, let comparator, let right):
            if let name = attributeName(left, bindings), let value = value(right, bindings) {
                return (name, Condition(legacyOperator(comparator), [value]))
            }
            if let name = attributeName(right, bindings), let value = value(left, bindings) {
                return (name, Condition(legacyOperator(comparator.mirrored), [value]))
            }
        case .between(let subject, let low, let high):
            if let name = attributeName(subject, bindings), let low = value(low, bindings), let high = value(high, bindings) {
                return (name, Condition(.between, [low, high]))
            }
        case .beginsWith(let subject, let prefix):
            if let name = attributeName(subject, bindings), let prefix = value(prefix, bindings) {
                return (name, Condition(.beginsWith, [prefix]))
            }
        default:
            break
        }
        throw .validation("Query key condition not supported")
    }

    private static func attributeName(_ operand: Operand, _ bindings: ExpressionBindings) -> String? {
        guard case .path(let path) = operand, path.elements.count == 1, case .name(let name)? = bindings.resolve(path).first else {
            return nil
        }
        return name
    }

    private static func value(_ operand: Operand, _ bindings: ExpressionBindings) -> AttributeValue? {
        switch operand {
        case .placeholder(let name): bindings.value(name)
        case .literal(let value): value
        case .path, .size: nil
        }
    }

    private static func legacyOperator(_ comparator: Comparator) -> ComparisonOperator {
        switch comparator {
        case .equal: .eq
        case .notEqual: .ne
        case .less: .lt
        case .lessOrEqual: .le
        case .greater: .gt
        case .greaterOrEqual: .ge
        }
    }

    private static func missingKey(in found: [String: Condition], key: PrimaryKeySchema) -> String {
        key.attributeNames.first { found[$0] == nil } ?? key.partitionKeyName
    }

    private static func invalidOperator(_ name: String) -> EddyError {
        .validation("Invalid operator used in KeyConditionExpression: \(name)")
    }

    private static func paths(in node: ConditionNode) -> [DocumentPath] {
        func operandPaths(_ operand: Operand) -> [DocumentPath] {
            switch operand {
            case .path(let path), .size(let path): [path]
            case .placeholder, .literal: []
            }
        }
        switch node {
        case .compare(let a, _, let b), .beginsWith(let a, let b), .contains(let a, let b):
            return operandPaths(a) + operandPaths(b)
        case .between(let a, let b, let c):
            return operandPaths(a) + operandPaths(b) + operandPaths(c)
        case .in(let a, let list):
            return operandPaths(a) + list.flatMap(operandPaths)
        case .and(let a, let b), .or(let a, let b):
            return paths(in: a) + paths(in: b)
        case .not(let inner):
            return paths(in: inner)
        case .attributeExists(let path), .attributeNotExists(let path), .attributeType(let path, _):
            return [path]
        }
    }
}

extension Comparator {
    /// The comparator with its operands swapped: `a < b` is `b > a`.
    var mirrored: Comparator {
        switch self {
        case .equal, .notEqual: self
        case .less: .greater
        case .lessOrEqual: .greaterOrEqual
        case .greater: .less
        case .greaterOrEqual: .lessOrEqual
        }
    }
}
