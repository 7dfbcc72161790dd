/// The one syntax tree of DynamoDB's expressions.
///
/// Every expression kind (condition, filter, key condition, update, projection) and every legacy parameter
/// (`Expected`, `QueryFilter`, `ScanFilter`, `KeyConditions`, `AttributesToGet`, `AttributeUpdates`) compiles
/// into these types. A parsed tree keeps its `#name` and `:value` placeholders unresolved, so that it can be
/// cached by its text and bound to each request's `ExpressionAttributeNames`/`Values` when evaluated.

/// An attribute name as written: a plain name, or a `#name` placeholder resolved through
/// `ExpressionAttributeNames`.
enum NameReference: Hashable, Sendable {
    case literal(String)
    /// The placeholder including its `#`.
    case placeholder(String)
}

/// One step of a document path.
enum PathElement: Hashable, Sendable {
    /// A top-level attribute or a map key.
    case name(NameReference)
    /// A list element, `[n]`.
    case index(Int)
}

/// A document path such as `a.b[3].#c`: always starts with a name.
struct DocumentPath: Hashable, Sendable {
    var elements: [PathElement]
}

/// A value an expression reads.
indirect enum Operand: Hashable, Sendable {
    /// The value at a path of the item (absent if the path does not exist).
    case path(DocumentPath)
    /// A `:value` placeholder (including its `:`) resolved through `ExpressionAttributeValues`.
    case placeholder(String)
    /// A value given directly: what the legacy parameters compile to.
    case literal(AttributeValue)
    /// `size(path)`.
    case size(DocumentPath)
}

/// A comparison operator of a condition.
enum Comparator: String, Hashable, Sendable, CaseIterable {
    case equal = "="
    case notEqual = "<>"
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="
}

/// A condition (ConditionExpression, FilterExpression, KeyConditionExpression), evaluated to true or false.
indirect enum ConditionNode: Hashable, Sendable {
    case compare(Operand, Comparator, Operand)
    /// `a BETWEEN b AND c`.
    case between(Operand, Operand, Operand)
    /// `a IN (b, c, …)`.
    case `in`(Operand, [Operand])
    case and(ConditionNode, ConditionNode)
    case or(ConditionNode, ConditionNode)
    case not(ConditionNode)
    case attributeExists(DocumentPath)
    case attributeNotExists(DocumentPath)
    /// `attribute_type(path, :type)`.
    case attributeType(DocumentPath, Operand)
    /// `begins_with(path, operand)`.
    case beginsWith(Operand, Operand)
    /// `contains(path, operand)`.
    case contains(Operand, Operand)
}

/// The value a `SET` action assigns.
indirect enum SetValue: Hashable, Sendable {
    case operand(Operand)
    case plus(SetValue, SetValue)
    case minus(SetValue, SetValue)
    /// `if_not_exists(path, value)`.
    case ifNotExists(DocumentPath, SetValue)
    /// `list_append(a, b)`.
    case listAppend(SetValue, SetValue)
}

/// An UpdateExpression: its four clauses, each action in the order written.
struct UpdateNode: Hashable, Sendable {
    var set: [(path: DocumentPath, value: SetValue)] = []
    var remove: [DocumentPath] = []
    var add: [(path: DocumentPath, value: Operand)] = []
    var delete: [(path: DocumentPath, value: Operand)] = []

    static func == (lhs: UpdateNode, rhs: UpdateNode) -> Bool {
        lhs.set.elementsEqual(rhs.set) { $0.path == $1.path && $0.value == $1.value }
            && lhs.remove == rhs.remove
            && lhs.add.elementsEqual(rhs.add) { $0.path == $1.path && $0.value == $1.value }
            && lhs.delete.elementsEqual(rhs.delete) { $0.path == $1.path && $0.value == $1.value }
    }

    /// Whether the update has actions and every one only takes away (`REMOVE`, `DELETE`): applied to an item
    /// that does not exist, it leaves none, so DynamoDB creates no item.
    var onlyRemoves: Bool {
        self.set.isEmpty && add.isEmpty && !(remove.isEmpty && delete.isEmpty)
    }

    func hash(into hasher: inout Hasher) {
        for action in set {
            hasher.combine(action.path)
            hasher.combine(action.value)
        }
        hasher.combine(remove)
        for action in add + delete {
            hasher.combine(action.path)
            hasher.combine(action.value)
        }
    }
}

/// A ProjectionExpression: the paths to return.
struct ProjectionNode: Hashable, Sendable {
    var paths: [DocumentPath]
}
