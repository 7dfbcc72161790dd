/// Prints expression trees back to DynamoDB's expression syntax: the text parses back to the same tree.
///
/// Also renders paths for error messages. Literal operands (from legacy parameters) have no syntax and print
/// as `<literal …>`.
enum ExpressionPrinter {
    static func path(_ path: DocumentPath) -> String {
        var text = ""
        for (offset, element) in path.elements.enumerated() {
            switch element {
            case .name(let reference):
                if offset > 0 { text += "." }
                text += name(reference)
            case .index(let index):
                text += "[\(index)]"
            }
        }
        return text
    }

    static func name(_ reference: NameReference) -> String {
        switch reference {
        case .literal(let name), .placeholder(let name): name
        }
    }

    static func operand(_ operand: Operand) -> String {
        switch operand {
        case .path(let path): self.path(path)
        case .placeholder(let placeholder): placeholder
        case .literal(let value): "<literal \(value.typeDescriptor)>"
        case .size(let path): "size(\(self.path(path)))"
        }
    }

    static func condition(_ node: ConditionNode) -> String {
        switch node {
        case .compare(let left, let comparator, let right):
            return "\(operand(left)) \(comparator.rawValue) \(operand(right))"
        case .between(let value, let low, let high):
            return "\(operand(value)) BETWEEN \(operand(low)) AND \(operand(high))"
        case .in(let value, let list):
            return "\(operand(value)) IN (\(list.map(operand).joined(separator: ", ")))"
        case .and(let left, let right):
            return "\(child(left, of: 2, right: false)) AND \(child(right, of: 2, right: true))"
        case .or(let left, let right):
            return "\(child(left, of: 1, right: false)) OR \(child(right, of: 1, right: true))"
        case .not(let inner):
            return "NOT \(child(inner, of: 3, right: true))"
        case .attributeExists(let path):
            return "attribute_exists(\(self.path(path)))"
        case .attributeNotExists(let path):
            return "attribute_not_exists(\(self.path(path)))"
        case .attributeType(let path, let type):
            return "attribute_type(\(self.path(path)), \(operand(type)))"
        case .beginsWith(let left, let right):
            return "begins_with(\(operand(left)), \(operand(right)))"
        case .contains(let left, let right):
            return "contains(\(operand(left)), \(operand(right)))"
        }
    }

    /// OR binds loosest (1), then AND (2), then NOT (3); predicates bind tightest.
    private static func level(_ node: ConditionNode) -> Int {
        switch node {
        case .or: 1
        case .and: 2
        case .not: 3
        default: 4
        }
    }

    /// A child of an operator of `parentLevel`, in parentheses where needed to keep the tree's shape
    /// (the binary operators associate to the left).
    private static func child(_ node: ConditionNode, of parentLevel: Int, right: Bool) -> String {
        let childLevel = level(node)
        let needsParentheses = childLevel < parentLevel || (right && childLevel == parentLevel && parentLevel < 3)
        return needsParentheses ? "(\(condition(node)))" : condition(node)
    }

    static func setValue(_ value: SetValue) -> String {
        switch value {
        case .operand(let operand): self.operand(operand)
        case .plus(let left, let right): "\(setValue(left)) + \(setValue(right))"
        case .minus(let left, let right): "\(setValue(left)) - \(setValue(right))"
        case .ifNotExists(let path, let value): "if_not_exists(\(self.path(path)), \(setValue(value)))"
        case .listAppend(let left, let right): "list_append(\(setValue(left)), \(setValue(right)))"
        }
    }

    static func update(_ node: UpdateNode) -> String {
        var clauses: [String] = []
        if !node.set.isEmpty {
            clauses.append("SET " + node.set.map { "\(path($0.path)) = \(setValue($0.value))" }.joined(separator: ", "))
        }
        if !node.remove.isEmpty {
            clauses.append("REMOVE " + node.remove.map(path).joined(separator: ", "))
        }
        if !node.add.isEmpty {
            clauses.append("ADD " + node.add.map { "\(path($0.path)) \(operand($0.value))" }.joined(separator: ", "))
        }
        if !node.delete.isEmpty {
            clauses.append("DELETE " + node.delete.map { "\(path($0.path)) \(operand($0.value))" }.joined(separator: ", "))
        }
        return clauses.joined(separator: " ")
    }

    static func projection(_ node: ProjectionNode) -> String {
        node.paths.map(path).joined(separator: ", ")
    }
}

extension ConditionNode: CustomStringConvertible {
    var description: String { ExpressionPrinter.condition(self) }
}

extension UpdateNode: CustomStringConvertible {
    var description: String { ExpressionPrinter.update(self) }
}

extension ProjectionNode: CustomStringConvertible {
    var description: String { ExpressionPrinter.projection(self) }
}

extension DocumentPath: CustomStringConvertible {
    var description: String { ExpressionPrinter.path(self) }
}
