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

    /// The legacy updates as an UpdateExpression's tree: PUT is `SET`, DELETE without a value `REMOVE`, ADD
    /// `ADD` and DELETE with a value `DELETE`, each on a top-level attribute with the value given directly.
    static func compile(_ updates: [String: AttributeValueUpdate]) -> UpdateNode {
        var node = UpdateNode()
        for (name, update) in updates.sorted(by: { $0.key < $1.key }) {
            let path = DocumentPath(elements: [.name(.literal(name))])
            switch (update.action ?? .put, update.value) {
            case (.put, let value?): node.set.append((path, .operand(.literal(value))))
            case (.delete, nil): node.remove.append(path)
            case (.delete, let value?): node.delete.append((path, .literal(value)))
            case (.add, let value?): node.add.append((path, .literal(value)))
            case (.put, nil), (.add, nil):
                preconditionFailure("validate(_:keyNames:) refuses PUT and ADD without a value")
            }
        }
        return node
    }

    /// What a type mismatch is called in the legacy API.
    static let typeMismatchMessage = "One or more parameter values were invalid: Type mismatch for attribute to update"
}
