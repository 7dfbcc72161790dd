/// Applies an UpdateExpression to an item, as DynamoDB does: every value on the right of `SET` is read from
/// the item as it was before the update, then the clauses apply in the order SET, REMOVE, ADD, DELETE.
struct UpdateApplier {
    let bindings: ExpressionBindings
    /// The message of a type mismatch: the legacy `AttributeUpdates` word it differently.
    var incorrectTypeMessage = "An operand in the update expression has an incorrect data type"

    /// The item after `update`, and, when `recordingPaths`, the resolved paths it changed (for
    /// `UPDATED_OLD`/`UPDATED_NEW`).
    func apply(
        _ update: UpdateNode, to original: Item, keyNames: [String], recordingPaths: Bool = false
    ) throws(EddyError) -> (item: Item, paths: [[ResolvedPathElement]]) {
        let reader = ConditionEvaluator(bindings: bindings, kind: .condition)
        var item = original
        var paths: [[ResolvedPathElement]] = []
        // Every right-hand side reads `original`, so each assignment can land in `item` at once.
        for action in update.set {
            let newValue = try value(of: action.value, in: original, reader: reader)
            // A top-level attribute, the common case, is set without building a resolved path.
            if !recordingPaths, action.path.elements.count == 1, case .name(let reference) = action.path.elements[0] {
                let name = bindings.name(reference)
                try refuseKey(name, keyNames: keyNames)
                item[name] = newValue
                continue
            }
            let path = try target(action.path, keyNames: keyNames)
            if recordingPaths { paths.append(path) }
            try DocumentPathAccess.set(newValue, at: path, in: &item)
        }
        // Removing list elements by index: the highest index first, so each index names the element it named
        // in the original list.
        var removals: [[ResolvedPathElement]] = []
        for path in update.remove {
            let resolved = try target(path, keyNames: keyNames)
            // A dot into a list or an index into a map of this item is refused, not skipped.
            try DocumentPathAccess.requireShape(of: resolved, in: item)
            removals.append(resolved)
        }
        if recordingPaths { paths += removals }
        for path in removals.sorted(by: Self.removalOrder) {
            DocumentPathAccess.remove(at: path, in: &item)
        }
        for action in update.add {
            let path = try target(action.path, keyNames: keyNames)
            if recordingPaths { paths.append(path) }
            let operand = try reader.resolve(action.value, in: original)!
            switch operand {
            case .n, .ss, .ns, .bs: break
            default: throw Self.incorrectOperand(action: "ADD", operand)
            }
            let current = DocumentPathAccess.value(at: path, in: item)
            try DocumentPathAccess.set(try add(operand, to: current), at: path, in: &item)
        }
        for action in update.delete {
            let path = try target(action.path, keyNames: keyNames)
            if recordingPaths { paths.append(path) }
            let operand = try reader.resolve(action.value, in: original)!
            switch operand {
            case .ss, .ns, .bs: break
            default: throw Self.incorrectOperand(action: "DELETE", operand)
            }
            try DocumentPathAccess.requireShape(of: path, in: item)
            guard let current = DocumentPathAccess.value(at: path, in: item) else { continue }
            if let remaining = try delete(operand, from: current) {
                try DocumentPathAccess.set(remaining, at: path, in: &item)
            } else {
                DocumentPathAccess.remove(at: path, in: &item)
            }
        }
        return (item, paths)
    }

    /// `path` resolved, refusing a key attribute.
    private func target(_ path: DocumentPath, keyNames: [String]) throws(EddyError) -> [ResolvedPathElement] {
        let resolved = bindings.resolve(path)
        if case .name(let name)? = resolved.first { try refuseKey(name, keyNames: keyNames) }
        return resolved
    }

    private func refuseKey(_ name: String, keyNames: [String]) throws(EddyError) {
        if keyNames.contains(name) {
            throw EddyError.validation("One or more parameter values were invalid: Cannot update attribute \(name). This attribute is part of the key")
        }
    }

    private func value(of setValue: SetValue, in item: Item, reader: ConditionEvaluator) throws(EddyError) -> AttributeValue {
        switch setValue {
        case .operand(let operand):
            guard let value = try reader.resolve(operand, in: item) else {
                throw EddyError.validation("The provided expression refers to an attribute that does not exist in the item")
            }
            return value
        case .plus(let left, let right), .minus(let left, let right):
            let function = if case .plus = setValue { "+" } else { "-" }
            let (leftValue, rightValue) = (try value(of: left, in: item, reader: reader), try value(of: right, in: item, reader: reader))
            try Self.requireType("N", of: left, leftValue, function: function)
            try Self.requireType("N", of: right, rightValue, function: function)
            guard case .n(let a) = leftValue, case .n(let b) = rightValue else { throw incorrectType }
            if case .plus = setValue { return .n(try a.adding(b)) }
            return .n(try a.subtracting(b))
        case .ifNotExists(let path, let fallback):
            if let existing = DocumentPathAccess.value(at: bindings.resolve(path), in: item) { return existing }
            return try value(of: fallback, in: item, reader: reader)
        case .listAppend(let left, let right):
            let (leftValue, rightValue) = (try value(of: left, in: item, reader: reader), try value(of: right, in: item, reader: reader))
            try Self.requireType("L", of: left, leftValue, function: "list_append")
            try Self.requireType("L", of: right, rightValue, function: "list_append")
            guard case .l(let a) = leftValue, case .l(let b) = rightValue else { throw incorrectType }
            return .l(a + b)
        }
    }

    private var incorrectType: EddyError {
        .validation(incorrectTypeMessage)
    }

    /// Refuses an operand given as a value (a placeholder) whose type `function` cannot take: DynamoDB
    /// knows it from the request alone. A wrong type read from the item is `incorrectType` instead.
    private static func requireType(
        _ type: String, of operand: SetValue, _ value: AttributeValue, function: String
    ) throws(EddyError) {
        guard case .operand(.placeholder) = operand, value.typeDescriptor != type else { return }
        throw EddyError.validation(
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: \(function), operand type: \(value.typeDescriptor)"
        )
    }

    private static func incorrectOperand(action: String, _ value: AttributeValue) -> EddyError {
        .validation(
            "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: \(action), operand type: \(value.typeDescriptor)"
        )
    }

    private static func removalOrder(_ a: [ResolvedPathElement], _ b: [ResolvedPathElement]) -> Bool {
        for (x, y) in zip(a, b) where x != y {
            if case .index(let i) = x, case .index(let j) = y { return i > j }
            return false
        }
        return a.count > b.count
    }

    private func add(_ operand: AttributeValue, to current: AttributeValue?) throws(EddyError) -> AttributeValue {
        switch (current, operand) {
        case (nil, .n), (nil, .ss), (nil, .ns), (nil, .bs): return operand
        case (.n(let a)?, .n(let b)): return .n(try a.adding(b))
        case (.ss(let a)?, .ss(let b)): return .ss(a + b.filter { !a.contains($0) })
        case (.ns(let a)?, .ns(let b)): return .ns(a + b.filter { !a.contains($0) })
        case (.bs(let a)?, .bs(let b)): return .bs(a + b.filter { !a.contains($0) })
        default: throw incorrectType
        }
    }

    /// The set left after removing `operand`'s members, or nil when it is empty (DynamoDB removes it).
    private func delete(_ operand: AttributeValue, from current: AttributeValue) throws(EddyError) -> AttributeValue? {
        switch (current, operand) {
        case (.ss(let a), .ss(let b)): let rest = a.filter { !b.contains($0) }; return rest.isEmpty ? nil : .ss(rest)
        case (.ns(let a), .ns(let b)): let rest = a.filter { !b.contains($0) }; return rest.isEmpty ? nil : .ns(rest)
        case (.bs(let a), .bs(let b)): let rest = a.filter { !b.contains($0) }; return rest.isEmpty ? nil : .bs(rest)
        default: throw incorrectType
        }
    }
}
