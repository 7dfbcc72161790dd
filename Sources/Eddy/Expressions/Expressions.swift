/// A condition expression (as in `ConditionExpression` or `FilterExpression`) bound to its placeholders,
/// ready to test items without a database.
///
/// ```swift
/// let adult = try ConditionExpression("age >= :min AND attribute_exists(#e)",
///                                     expressionAttributeNames: ["#e": "email"],
///                                     expressionAttributeValues: [":min": 18])
/// try adult.evaluate(on: ["age": 36, "email": "ada@example.com"]) // true
/// ```
///
/// The text is parsed once per process (parsed expressions are cached by their text); the placeholders are
/// checked as a request's are: every one used must be defined, and every one defined must be used.
public struct ConditionExpression: Sendable {
    private let node: ConditionNode
    private let evaluator: ConditionEvaluator

    /// Parses `text` and binds its placeholders.
    ///
    /// - Throws: `ValidationException` with DynamoDB's message for a syntax error, a reserved word, or a
    ///   missing or unused placeholder.
    public init(
        _ text: String,
        expressionAttributeNames: [String: String]? = nil,
        expressionAttributeValues: [String: AttributeValue]? = nil
    ) throws(EddyError) {
        let expressions = try RequestExpressions(
            condition: text, names: expressionAttributeNames, values: expressionAttributeValues)
        node = expressions.condition!
        evaluator = ConditionEvaluator(bindings: expressions.bindings, kind: .condition)
    }

    /// Whether the condition holds for `item`.
    ///
    /// - Throws: `ValidationException` where DynamoDB refuses an operand's type (for instance ordering
    ///   booleans, or `attribute_type` with an unknown type name).
    public func evaluate(on item: Item) throws(EddyError) -> Bool {
        try evaluator.evaluate(node, on: item)
    }
}

/// An update expression bound to its placeholders, ready to apply to items without a database.
///
/// ```swift
/// let visit = try UpdateExpression("SET visits = if_not_exists(visits, :zero) + :one",
///                                   expressionAttributeValues: [":zero": 0, ":one": 1])
/// let updated = try visit.apply(to: ["id": "u1"]) // ["id": "u1", "visits": 1]
/// ```
public struct UpdateExpression: Sendable {
    private let node: UpdateNode
    private let applier: UpdateApplier

    /// Parses `text` and binds its placeholders.
    ///
    /// - Throws: `ValidationException` with DynamoDB's message for a syntax error, a reserved word, a
    ///   missing or unused placeholder, or overlapping paths.
    public init(
        _ text: String,
        expressionAttributeNames: [String: String]? = nil,
        expressionAttributeValues: [String: AttributeValue]? = nil
    ) throws(EddyError) {
        let expressions = try RequestExpressions(
            update: text, names: expressionAttributeNames, values: expressionAttributeValues)
        node = expressions.update!
        applier = UpdateApplier(bindings: expressions.bindings)
    }

    /// The item after the update. `keyNames` are attributes the update may not touch (a table's key).
    ///
    /// - Throws: `ValidationException` as UpdateItem would: wrong operand types, a missing attribute on the
    ///   right of `SET`, an invalid path, or a key attribute in `keyNames`.
    public func apply(to item: Item, keyNames: [String] = []) throws(EddyError) -> Item {
        try applier.apply(node, to: item, keyNames: keyNames).item
    }
}
