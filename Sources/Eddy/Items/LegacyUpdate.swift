/// UpdateItem's legacy `AttributeUpdates`: PUT, ADD and DELETE on top-level attributes.
enum LegacyUpdate {
    static func validate(_ updates: [String: AttributeValueUpdate], keyNames: [String]) throws(EddyError) {
        for (name, update) in updates {
            try ValueValidation.validateName(name)
            if keyNames.contains(name) {
                throw .validation("One or more parameter values were invalid: Cannot update attribute \(name). This attribute is part of the key")
            }
            let action = update.action ?? .put
            guard let value = update.value else {
                guard action == .delete else {
                    throw .validation("One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is specified")
                }
                continue
            }
            try ValueValidation.validate(value, depth: 0)
            switch (action, value) {
            case (.put, _), (.add, .n), (.add, .ss), (.add, .ns), (.add, .bs), (.delete, .ss), (.delete, .ns), (.delete, .bs):
                continue
            case (.add, _):
                throw .validation("One or more parameter values were invalid: ADD action is not supported for the type \(value.typeDescriptor)")
            case (.delete, _):
                throw .validation("One or more parameter values were invalid: DELETE action with value is not supported for the type \(value.typeDescriptor)")
            }
        }
    }

    /// The item after applying `updates` to `item`.
    static func apply(_ updates: [String: AttributeValueUpdate], to item: Item) throws(EddyError) -> Item {
        var result = item
        for (name, update) in updates {
            switch (update.action ?? .put, update.value) {
            case (.put, let value?):
                result[name] = value
            case (.delete, nil):
                result[name] = nil
            case (.delete, let members?):
                guard let current = result[name] else { continue }
                result[name] = try removing(members, from: current)
            case (.add, let operand?):
                result[name] = try adding(operand, to: result[name])
            case (.put, nil), (.add, nil):
                preconditionFailure("validate(_:keyNames:) refuses PUT and ADD without a value")
            }
        }
        return result
    }

    /// The attributes `returnValues` asks for.
    static func returned(_ returnValues: ReturnValue, old: Item?, new: Item, updated: some Sequence<String>) -> Item? {
        let picked: Item?
        switch returnValues {
        case .none: picked = nil
        case .allOld: picked = old
        case .allNew: picked = new
        case .updatedOld: picked = old.map { old in Item(uniqueKeysWithValues: updated.compactMap { name in old[name].map { (name, $0) } }) }
        case .updatedNew: picked = Item(uniqueKeysWithValues: updated.compactMap { name in new[name].map { (name, $0) } })
        }
        guard let picked, !picked.isEmpty else { return nil }
        return picked
    }

    private static var typeMismatch: EddyError {
        .validation("One or more parameter values were invalid: Type mismatch for attribute to update")
    }

    private static func adding(_ operand: AttributeValue, to current: AttributeValue?) throws(EddyError) -> AttributeValue {
        guard let current else { return operand }
        switch (current, operand) {
        case (.n(let a), .n(let b)): return .n(try a.adding(b))
        case (.ss(let a), .ss(let b)): return .ss(union(a, b))
        case (.ns(let a), .ns(let b)): return .ns(union(a, b))
        case (.bs(let a), .bs(let b)): return .bs(union(a, b))
        default: throw typeMismatch
        }
    }

    /// The set after removing `members`, or nil when none remains (DynamoDB removes an emptied set).
    private static func removing(_ members: AttributeValue, from current: AttributeValue) throws(EddyError) -> AttributeValue? {
        switch (current, members) {
        case (.ss(let a), .ss(let b)): return nonEmpty(difference(a, b), AttributeValue.ss)
        case (.ns(let a), .ns(let b)): return nonEmpty(difference(a, b), AttributeValue.ns)
        case (.bs(let a), .bs(let b)): return nonEmpty(difference(a, b), AttributeValue.bs)
        default: throw typeMismatch
        }
    }

    private static func union<Member: Hashable>(_ a: [Member], _ b: [Member]) -> [Member] {
        var seen = Set(a)
        return a + b.filter { seen.insert($0).inserted }
    }

    private static func difference<Member: Hashable>(_ a: [Member], _ b: [Member]) -> [Member] {
        let removed = Set(b)
        return a.filter { !removed.contains($0) }
    }

    private static func nonEmpty<Member>(_ members: [Member], _ make: ([Member]) -> AttributeValue) -> AttributeValue? {
        members.isEmpty ? nil : make(members)
    }
}
