/// The checks DynamoDB makes on a condition once its placeholders are known, before it reads any item: what
/// the parse alone cannot tell, because a `#name` may stand for the same attribute as another path and a
/// `:value`'s type is the request's.
enum ExpressionCheck {
    /// What DynamoDB names as the type of an operand that could be of any type: a document path.
    static let anyTypeDescriptor = "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}"

    /// Refuses, with DynamoDB's messages, an operator or function whose first operand is the same document
    /// path as another of its operands (`contains(a, a)`, `a = #a` with `#a` standing for `a`), and an
    /// `attribute_type` whose second operand is not a `:value` naming a type.
    static func check(_ condition: ConditionNode, kind: ConditionKind, bindings: ExpressionBindings) throws(EddyError) {
        switch condition {
        case .compare(let left, let comparator, let right):
            try requireDistinct(left, from: right, operator: comparator.rawValue, kind: kind, bindings: bindings)
        case .between(let subject, let low, let high):
            try requireDistinct(subject, from: low, operator: "BETWEEN", kind: kind, bindings: bindings)
            try requireDistinct(subject, from: high, operator: "BETWEEN", kind: kind, bindings: bindings)
        case .in(let subject, let candidates):
            for candidate in candidates {
                try requireDistinct(subject, from: candidate, operator: "IN", kind: kind, bindings: bindings)
            }
        case .and(let left, let right), .or(let left, let right):
            try check(left, kind: kind, bindings: bindings)
            try check(right, kind: kind, bindings: bindings)
        case .not(let inner):
            try check(inner, kind: kind, bindings: bindings)
        case .attributeExists, .attributeNotExists:
            return
        case .attributeType(_, let type):
            try checkTypeName(type, kind: kind, bindings: bindings)
        case .beginsWith(let subject, let prefix):
            try requireDistinct(subject, from: prefix, operator: "begins_with", kind: kind, bindings: bindings)
        case .contains(let subject, let operand):
            try requireDistinct(subject, from: operand, operator: "contains", kind: kind, bindings: bindings)
        }
    }

    /// Only two paths are compared, resolved: the common condition (a path against a `:value`) costs nothing.
    private static func requireDistinct(
        _ first: Operand, from other: Operand, operator name: String, kind: ConditionKind, bindings: ExpressionBindings
    ) throws(EddyError) {
        guard case .path(let path) = first, case .path(let otherPath) = other, path.elements.count == otherPath.elements.count
        else { return }
        let resolved = bindings.resolve(path)
        guard bindings.resolve(otherPath) == resolved else { return }
        throw .validation(
            "Invalid \(kind.rawValue): The first operand must be distinct from the remaining operands for this operator or function; operator: \(name), first operand: \(UpdatePathCheck.render(resolved))"
        )
    }

    /// `attribute_type`'s second operand: a `:value` of type S naming one of DynamoDB's ten types.
    private static func checkTypeName(_ operand: Operand, kind: ConditionKind, bindings: ExpressionBindings) throws(EddyError) {
        let type: AttributeValue
        switch operand {
        case .placeholder(let name): type = bindings.value(name)
        case .literal(let value): type = value
        case .path: throw incorrectOperand("attribute_type", anyTypeDescriptor, kind: kind)
        case .size: throw incorrectOperand("attribute_type", "N", kind: kind)
        }
        guard case .s(let typeName) = type else {
            throw incorrectOperand("attribute_type", type.typeDescriptor, kind: kind)
        }
        guard ConditionEvaluator.typeNames.contains(typeName) else {
            throw ConditionEvaluator.invalidTypeName(typeName, kind: kind)
        }
    }

    static func incorrectOperand(_ function: String, _ type: String, kind: ConditionKind) -> EddyError {
        .validation(
            "Invalid \(kind.rawValue): Incorrect operand type for operator or function; operator or function: \(function), operand type: \(type)"
        )
    }
}
