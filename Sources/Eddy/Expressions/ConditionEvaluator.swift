/// Evaluates a condition against an item, as DynamoDB does: comparing values of different types is false,
/// not an error; a path that does not exist makes comparisons false (and `<>` true). Operand types that can
/// never work (ordering booleans, `begins_with` on a number given as a value, an unknown type name) are
/// ValidationExceptions.
struct ConditionEvaluator {
    let bindings: ExpressionBindings
    /// The parameter name in messages: `ConditionExpression`, `FilterExpression`, …
    let kind: ConditionKind

    /// Whether `condition` holds for `item` (an absent item is the empty item).
    func evaluate(_ condition: ConditionNode, on item: Item) throws(EddyError) -> Bool {
        switch condition {
        case .compare(let left, let comparator, let right):
            return try compare(resolve(left, in: item), comparator, resolve(right, in: item), operands: (left, right))
        case .between(let subject, let low, let high):
            let (lowValue, highValue) = (try resolve(low, in: item), try resolve(high, in: item))
            if isValue(low), isValue(high), let lowValue, let highValue, lowValue.typeDescriptor != highValue.typeDescriptor {
                throw EddyError.validation(
                    "Invalid \(kind.rawValue): The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {\(render(lowValue))}, upper bound operand: AttributeValue: {\(render(highValue))}"
                )
            }
            if isValue(low), isValue(high), let lowValue, let highValue, case .some(true) = order(highValue, lowValue) {
                throw EddyError.validation(
                    "Invalid \(kind.rawValue): The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {\(render(lowValue))}, upper bound operand: AttributeValue: {\(render(highValue))}"
                )
            }
            let value = try resolve(subject, in: item)
            guard try compare(value, .greaterOrEqual, lowValue, operands: (subject, low)) else { return false }
            return try compare(value, .lessOrEqual, highValue, operands: (subject, high))
        case .in(let subject, let candidates):
            guard let value = try resolve(subject, in: item) else { return false }
            for candidate in candidates {
                if try resolve(candidate, in: item) == value { return true }
            }
            return false
        case .and(let left, let right):
            guard try evaluate(left, on: item) else { return false }
            return try evaluate(right, on: item)
        case .or(let left, let right):
            if try evaluate(left, on: item) { return true }
            return try evaluate(right, on: item)
        case .not(let inner):
            return try !evaluate(inner, on: item)
        case .attributeExists(let path):
            return DocumentPathAccess.value(at: bindings.resolve(path), in: item) != nil
        case .attributeNotExists(let path):
            return DocumentPathAccess.value(at: bindings.resolve(path), in: item) == nil
        case .attributeType(let path, let typeOperand):
            let typeValue = try resolve(typeOperand, in: item)
            guard case .s(let typeName)? = typeValue else {
                throw incorrectOperand("attribute_type", typeValue ?? .null)
            }
            guard Self.typeNames.contains(typeName) else { throw Self.invalidTypeName(typeName, kind: kind) }
            return DocumentPathAccess.value(at: bindings.resolve(path), in: item)?.typeDescriptor == typeName
        case .beginsWith(let subject, let prefix):
            let prefixValue = try resolve(prefix, in: item)
            if isValue(prefix), let prefixValue, prefixValue.typeDescriptor != "S", prefixValue.typeDescriptor != "B" {
                throw incorrectOperand("begins_with", prefixValue)
            }
            switch (try resolve(subject, in: item), prefixValue) {
            case (.s(let string)?, .s(let start)?): return string.utf8.starts(with: start.utf8)
            case (.b(let bytes)?, .b(let start)?): return bytes.starts(with: start)
            default: return false
            }
        case .contains(let subject, let operand):
            guard let container = try resolve(subject, in: item), let member = try resolve(operand, in: item) else { return false }
            switch (container, member) {
            case (.s(let string), .s(let part)): return part.isEmpty || string.contains(part)
            case (.b(let bytes), .b(let part)): return part.isEmpty || contains(bytes, part)
            case (.ss(let set), .s(let part)): return set.contains(part)
            case (.ns(let set), .n(let part)): return set.contains(part)
            case (.bs(let set), .b(let part)): return set.contains(part)
            case (.l(let list), _): return list.contains(member)
            default: return false
            }
        }
    }

    /// The value of an operand, nil where a path is absent. `size` of a number, a boolean or a null is a
    /// ValidationException, as in DynamoDB.
    func resolve(_ operand: Operand, in item: Item) throws(EddyError) -> AttributeValue? {
        switch operand {
        case .path(let path):
            // Most paths are one top-level name: read it without building a resolved path.
            if path.elements.count == 1, case .name(let reference) = path.elements[0] {
                return item[bindings.name(reference)]
            }
            return DocumentPathAccess.value(at: bindings.resolve(path), in: item)
        case .placeholder(let name):
            return bindings.value(name)
        case .literal(let value):
            return value
        case .size(let path):
            guard let value = DocumentPathAccess.value(at: bindings.resolve(path), in: item) else { return nil }
            let size: Int
            switch value {
            case .s(let string): size = string.utf8.count
            case .b(let bytes): size = bytes.count
            case .ss(let set): size = set.count
            case .ns(let set): size = set.count
            case .bs(let set): size = set.count
            case .m(let map): size = map.count
            case .l(let list): size = list.count
            case .n, .bool, .null:
                // DynamoDB refuses the request when the attribute it reads has no size.
                throw incorrectOperand("size", value)
            }
            return .n(DecimalNumber(size))
        }
    }

    private func compare(
        _ left: AttributeValue?, _ comparator: Comparator, _ right: AttributeValue?, operands: (Operand, Operand)
    ) throws(EddyError) -> Bool {
        if comparator != .equal, comparator != .notEqual {
            for (operand, value) in [(operands.0, left), (operands.1, right)] where isValue(operand) {
                if let value, !["S", "N", "B"].contains(value.typeDescriptor) {
                    throw incorrectOperand(comparator.rawValue, value)
                }
            }
        }
        guard let left, let right else { return comparator == .notEqual }
        switch comparator {
        case .equal: return left == right
        case .notEqual: return left != right
        case .less: return order(left, right) == true
        case .lessOrEqual: return order(right, left) == false
        case .greater: return order(right, left) == true
        case .greaterOrEqual: return order(left, right) == false
        }
    }

    /// `a < b` for two values of one ordered type (S, N, B); nil when they cannot be ordered.
    private func order(_ a: AttributeValue, _ b: AttributeValue) -> Bool? {
        switch (a, b) {
        case (.s(let x), .s(let y)): x.utf8.lexicographicallyPrecedes(y.utf8)
        case (.n(let x), .n(let y)): x < y
        case (.b(let x), .b(let y)): x.lexicographicallyPrecedes(y)
        default: nil
        }
    }

    private func isValue(_ operand: Operand) -> Bool {
        switch operand {
        case .placeholder, .literal: true
        case .path, .size: false
        }
    }

    private func contains(_ bytes: [UInt8], _ part: [UInt8]) -> Bool {
        guard part.count <= bytes.count else { return false }
        return (0...(bytes.count - part.count)).contains { bytes[$0..<$0 + part.count].elementsEqual(part) }
    }

    private func incorrectOperand(_ function: String, _ value: AttributeValue) -> EddyError {
        .validation(
            "Invalid \(kind.rawValue): Incorrect operand type for operator or function; operator or function: \(function), operand type: \(value.typeDescriptor)"
        )
    }

    private func render(_ value: AttributeValue) -> String {
        switch value {
        case .s(let string): "S:\(string)"
        case .n(let number): "N:\(number)"
        default: "\(value.typeDescriptor):\(value)"
        }
    }

    /// The type names `attribute_type` takes.
    static let typeNames: Set<String> = ["S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"]

    static func invalidTypeName(_ typeName: String, kind: ConditionKind) -> EddyError {
        .validation(
            "Invalid \(kind.rawValue): Invalid attribute type name found; type: \(typeName), valid types: { B,BOOL,BS,L,M,N,NS,NULL,S,SS }"
        )
    }
}
