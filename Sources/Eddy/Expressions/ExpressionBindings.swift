/// The `#name` and `:value` placeholders one parsed expression uses.
struct UsedPlaceholders: Sendable, Equatable {
    var names: Set<String>
    var values: Set<String>
    /// The expression's parameter name (`UpdateExpression`, …), prefixing DynamoDB's messages about it;
    /// `nil` leaves the messages without prefix.
    var expression: String?

    init(names: Set<String> = [], values: Set<String> = [], expression: String? = nil) {
        self.names = names
        self.values = values
        self.expression = expression
    }

    fileprivate mutating func collect(_ path: DocumentPath) {
        for element in path.elements {
            if case .name(.placeholder(let name)) = element { names.insert(name) }
        }
    }

    fileprivate mutating func collect(_ operand: Operand) {
        switch operand {
        case .path(let path), .size(let path): collect(path)
        case .placeholder(let value): values.insert(value)
        case .literal: break
        }
    }

    fileprivate mutating func collect(_ node: ConditionNode) {
        switch node {
        case .compare(let left, _, let right), .beginsWith(let left, let right), .contains(let left, let right):
            collect(left)
            collect(right)
        case .between(let value, let low, let high):
            collect(value)
            collect(low)
            collect(high)
        case .in(let value, let list):
            collect(value)
            for member in list { collect(member) }
        case .and(let left, let right), .or(let left, let right):
            collect(left)
            collect(right)
        case .not(let inner):
            collect(inner)
        case .attributeExists(let path), .attributeNotExists(let path):
            collect(path)
        case .attributeType(let path, let type):
            collect(path)
            collect(type)
        }
    }

    fileprivate mutating func collect(_ value: SetValue) {
        switch value {
        case .operand(let operand): collect(operand)
        case .plus(let left, let right), .minus(let left, let right), .listAppend(let left, let right):
            collect(left)
            collect(right)
        case .ifNotExists(let path, let value):
            collect(path)
            collect(value)
        }
    }
}

extension ConditionNode {
    /// The placeholders this condition uses, as the expression `kind` (which names it in messages).
    func placeholders(in kind: ConditionKind) -> UsedPlaceholders {
        var used = UsedPlaceholders(expression: kind.rawValue)
        used.collect(self)
        return used
    }
}

extension UpdateNode {
    var placeholders: UsedPlaceholders {
        var used = UsedPlaceholders(expression: "UpdateExpression")
        for action in set {
            used.collect(action.path)
            used.collect(action.value)
        }
        for path in remove { used.collect(path) }
        for action in add + delete {
            used.collect(action.path)
            used.collect(action.value)
        }
        return used
    }
}

extension ProjectionNode {
    var placeholders: UsedPlaceholders {
        var used = UsedPlaceholders(expression: "ProjectionExpression")
        for path in paths { used.collect(path) }
        return used
    }
}

/// One step of a path after its placeholders are substituted.
enum ResolvedPathElement: Hashable, Sendable {
    case name(String)
    case index(Int)
}

/// A request's ExpressionAttributeNames and ExpressionAttributeValues, checked against the expressions that use them.
struct ExpressionBindings: Sendable {
    let names: [String: String]
    let values: [String: AttributeValue]

    /// Checks the maps (not empty, well-formed keys, valid values, size) and that the expressions `used` use
    /// every entry and define every placeholder they use; fails with DynamoDB's message otherwise.
    init(
        names: [String: String]?, values: [String: AttributeValue]?, used: some Collection<UsedPlaceholders>
    ) throws(EddyError) {
        if let names, names.isEmpty {
            throw .validation("ExpressionAttributeNames must not be empty")
        }
        if let values, values.isEmpty {
            throw .validation("ExpressionAttributeValues must not be empty")
        }
        let names = names ?? [:]
        let values = values ?? [:]
        var substitutionBytes = 0
        // Every request passes through here, so the happy path allocates nothing: the entries are checked in
        // dictionary order, and only an error is worded for the smallest failing key, so that the same
        // request always names the same key.
        var firstError: (key: String, error: EddyError)?
        func record(_ key: String, _ error: EddyError) {
            if firstError.map({ key < $0.key }) ?? true { firstError = (key, error) }
        }
        for (key, name) in names {
            if let error = Self.keyError(key, sigil: "#", parameter: "ExpressionAttributeNames", noun: "name") {
                record(key, error)
            } else if name.isEmpty {
                record(key, .validation("ExpressionAttributeNames contains invalid value: Empty attribute name for key \(key)"))
            }
            substitutionBytes += key.utf8.count + name.utf8.count
        }
        if let firstError { throw firstError.error }
        for (key, value) in values {
            if let error = Self.keyError(key, sigil: ":", parameter: "ExpressionAttributeValues", noun: "value") {
                record(key, error)
                continue
            }
            do throws(EddyError) {
                try ValueValidation.validate(value, depth: 0)
            } catch {
                record(key, .validation("ExpressionAttributeValues contains invalid value: \(error.message) for key \(key)"))
            }
            substitutionBytes += key.utf8.count + ItemSize.of(value)
        }
        if let firstError { throw firstError.error }
        guard substitutionBytes <= Limits.expressionSubstitutionBytesMax else {
            throw .validation(
                "Expression attribute names and values together exceed the maximum allowed size of \(Limits.expressionSubstitutionBytesMax) bytes; size: \(substitutionBytes)")
        }

        for expression in used {
            let prefix = expression.expression.map { "Invalid \($0): " } ?? ""
            var missingName: String?
            for name in expression.names where names[name] == nil && missingName.map({ name < $0 }) ?? true {
                missingName = name
            }
            if let missingName {
                throw .validation("\(prefix)An expression attribute name used in the document path is not defined; attribute name: \(missingName)")
            }
            var missingValue: String?
            for value in expression.values where values[value] == nil && missingValue.map({ value < $0 }) ?? true {
                missingValue = value
            }
            if let missingValue {
                throw .validation("\(prefix)An expression attribute value used in expression is not defined; attribute value: \(missingValue)")
            }
        }
        if names.keys.contains(where: { name in !used.contains { $0.names.contains(name) } }) {
            let unused = names.keys.filter { name in !used.contains { $0.names.contains(name) } }.sorted()
            throw .validation("Value provided in ExpressionAttributeNames unused in expressions: keys: {\(unused.joined(separator: ", "))}")
        }
        if values.keys.contains(where: { value in !used.contains { $0.values.contains(value) } }) {
            let unused = values.keys.filter { value in !used.contains { $0.values.contains(value) } }.sorted()
            throw .validation("Value provided in ExpressionAttributeValues unused in expressions: keys: {\(unused.joined(separator: ", "))}")
        }
        self.names = names
        self.values = values
    }

    /// DynamoDB's error for a placeholder key that is malformed or too long, or nil.
    private static func keyError(_ key: String, sigil: Character, parameter: String, noun: String) -> EddyError? {
        guard ExpressionLexer.isPlaceholder(key, sigil: UInt8(ascii: sigil.unicodeScalars.first!)) else {
            return .validation("\(parameter) contains invalid key: Syntax error; key: \"\(key)\"")
        }
        guard key.utf8.count <= Limits.expressionPlaceholderLengthMax else {
            return .validation(
                "\(parameter) contains invalid key: The expression attribute \(noun) exceeds the maximum length of \(Limits.expressionPlaceholderLengthMax); key: \"\(key)\"")
        }
        return nil
    }

    /// The attribute name `reference` stands for. A placeholder must be defined (as `init` checked).
    func name(_ reference: NameReference) -> String {
        switch reference {
        case .literal(let name): name
        case .placeholder(let placeholder): names[placeholder]!
        }
    }

    /// The value `placeholder` stands for. It must be defined (as `init` checked).
    func value(_ placeholder: String) -> AttributeValue {
        values[placeholder]!
    }

    /// `path` with its name placeholders substituted.
    func resolve(_ path: DocumentPath) -> [ResolvedPathElement] {
        path.elements.map { element in
            switch element {
            case .name(let reference): .name(name(reference))
            case .index(let index): .index(index)
            }
        }
    }
}
