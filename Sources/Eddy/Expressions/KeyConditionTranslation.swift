/// A KeyConditionExpression compiled to the key conditions Query reads by (the same form as the legacy
/// `KeyConditions`), and the check that a Query's FilterExpression leaves the key attributes alone.
enum KeyConditionTranslation {
    /// The conditions of `node`: one per attribute, each a comparison of a top-level attribute with a value.
    /// Which attributes they may name (the key's, the partition key's by equality) ``KeyConditionRange``
    /// decides, as it does for the legacy `KeyConditions`.
    ///
    /// Each condition is checked as DynamoDB checks it, in its order: `BETWEEN` and `begins_with` take the
    /// attribute first; then, operand by operand, a function (`size`) is a nested operation, the attribute a
    /// nested path, and a second attribute one too many; a condition of values alone names no attribute.
    static func conditions(of node: ConditionNode, bindings: ExpressionBindings) throws(EddyError) -> [String: Condition] {
        var parts: [ConditionNode] = []
        try flatten(node, into: &parts)
        var result: [String: Condition] = [:]
        for part in parts {
            let (name, condition) = try keyCondition(part, bindings: bindings)
            guard result[name] == nil else {
                throw .validation("KeyConditionExpressions must only contain one condition per key")
            }
            result[name] = condition
        }
        guard result.count <= 2 else {
            throw .validation("Conditions can be of length 1 or 2 only")
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
    }

    private static func keyCondition(_ node: ConditionNode, bindings: ExpressionBindings) throws(EddyError) -> (String, Condition) {
        let operands: [Operand]
        switch node {
        case .compare(let left, _, let right): operands = [left, right]
        case .between(let subject, let low, let high):
            try requireAttributeFirst(subject, of: "BETWEEN")
            operands = [subject, low, high]
        case .beginsWith(let subject, let prefix):
            try requireAttributeFirst(subject, of: "begins_with")
            operands = [subject, prefix]
        default:
            throw .validation("Query key condition not supported")
        }
        var name: String?
        var values: [AttributeValue] = []
        for operand in operands {
            switch operand {
            case .size:
                throw .validation("KeyConditionExpressions cannot contain nested operations")
            case .path(let path):
                guard name == nil else {
                    throw .validation("Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition")
                }
                guard path.elements.count == 1, case .name(let resolved)? = bindings.resolve(path).first else {
                    throw .validation("KeyConditionExpressions cannot have conditions on nested attributes")
                }
                name = resolved
            case .placeholder, .literal:
                guard let value = value(operand, bindings) else { throw .validation("Query key condition not supported") }
                values.append(value)
            }
        }
        guard let name else {
            throw .validation("Invalid condition in KeyConditionExpression: No key attribute specified")
        }
        switch node {
        case .compare(let left, let comparator, _):
            // `:v < sk` is `sk > :v`.
            let attributeFirst = if case .path = left { true } else { false }
            return (name, Condition(legacyOperator(attributeFirst ? comparator : comparator.mirrored), values))
        case .between:
            let (low, high) = (values[0], values[1])
            guard low.typeDescriptor == high.typeDescriptor else {
                throw .validation(
                    "Invalid KeyConditionExpression: The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {\(low.typeDescriptor):\(KeyConditionRange.render(low))}, upper bound operand: AttributeValue: {\(high.typeDescriptor):\(KeyConditionRange.render(high))}"
                )
            }
            return (name, Condition(.between, values))
        default:
            let prefix = values[0]
            guard prefix.typeDescriptor == "S" || prefix.typeDescriptor == "B" else {
                throw .validation(
                    "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: \(prefix.typeDescriptor)"
                )
            }
            return (name, Condition(.beginsWith, values))
        }
    }

    /// Refuses `BETWEEN` or `begins_with` whose first operand is not an attribute.
    private static func requireAttributeFirst(_ subject: Operand, of operation: String) throws(EddyError) {
        guard case .path = subject else {
            throw .validation("Invalid condition in KeyConditionExpression: \(operation) operator must have the key attribute as its first operand")
        }
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
