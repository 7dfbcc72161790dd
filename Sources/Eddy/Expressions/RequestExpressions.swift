/// The expressions of one request, parsed (through the cache) and bound to its placeholders.
///
/// Building one checks everything DynamoDB checks before touching an item: each expression's syntax, that
/// every placeholder used is defined and every one defined is used, and that no legacy parameter is mixed
/// with an expression.
struct RequestExpressions {
    var condition: ConditionNode?
    var update: UpdateNode?
    var projection: ProjectionNode?
    var filter: ConditionNode?
    var keyCondition: ConditionNode?
    let bindings: ExpressionBindings

    init(
        condition: String? = nil,
        update: String? = nil,
        projection: String? = nil,
        filter: String? = nil,
        keyCondition: String? = nil,
        names: [String: String]?,
        values: [String: AttributeValue]?,
        legacy: [(name: String, isPresent: Bool)] = [],
        valueExpressions: [String] = []
    ) throws(EddyError) {
        if condition == nil, update == nil, projection == nil, filter == nil, keyCondition == nil, names == nil,
            values == nil
        {
            // The common request without expressions pays nothing more.
            bindings = try ExpressionBindings(names: nil, values: nil, used: EmptyCollection())
            return
        }
        if legacy.contains(where: \.isPresent) {
            try Self.refuseMixing(
                condition: condition, update: update, projection: projection, filter: filter,
                keyCondition: keyCondition, legacy: legacy)
        }
        if condition == nil, update == nil, projection == nil, filter == nil, keyCondition == nil {
            if names != nil {
                throw .validation("ExpressionAttributeNames can only be specified when using expressions")
            }
        }
        if values != nil, condition == nil, update == nil, filter == nil, keyCondition == nil {
            // DynamoDB names the operation's expressions that could have used the values.
            let missing = switch valueExpressions.count {
            case 0: ""
            case 1: ": \(valueExpressions[0]) is null"
            default: ": " + valueExpressions.dropLast().joined(separator: ", ") + " and \(valueExpressions.last!) are null"
            }
            throw .validation("ExpressionAttributeValues can only be specified when using expressions\(missing)")
        }
        // Most requests carry one expression: its placeholders are bound without building an array.
        var firstUsed: UsedPlaceholders?
        var moreUsed: [UsedPlaceholders] = []
        func parsed<Node>(_ entry: ExpressionCache.Parsed<Node>) -> Node {
            if firstUsed == nil { firstUsed = entry.placeholders } else { moreUsed.append(entry.placeholders) }
            return entry.node
        }
        self.condition = try condition.map { (text) throws(EddyError) in parsed(try ExpressionCache.condition(text, kind: .condition)) }
        var updatePathsChecked = false
        self.update = try update.map { (text) throws(EddyError) in
            let entry = try ExpressionCache.update(text)
            updatePathsChecked = entry.pathsChecked
            return parsed(entry)
        }
        self.projection = try projection.map { (text) throws(EddyError) in parsed(try ExpressionCache.projection(text)) }
        self.filter = try filter.map { (text) throws(EddyError) in parsed(try ExpressionCache.condition(text, kind: .filter)) }
        self.keyCondition = try keyCondition.map { (text) throws(EddyError) in parsed(try ExpressionCache.condition(text, kind: .keyCondition)) }
        if let firstUsed, moreUsed.isEmpty {
            bindings = try ExpressionBindings(names: names, values: values, used: CollectionOfOne(firstUsed))
        } else {
            bindings = try ExpressionBindings(names: names, values: values, used: (firstUsed.map { [$0] } ?? []) + moreUsed)
        }
        if let update = self.update, !updatePathsChecked { try UpdatePathCheck.checkPaths(update, bindings: bindings) }
        if let condition = self.condition { try ExpressionCheck.check(condition, kind: .condition, bindings: bindings) }
        if let filter = self.filter { try ExpressionCheck.check(filter, kind: .filter, bindings: bindings) }
        if let keyCondition = self.keyCondition {
            try ExpressionCheck.check(keyCondition, kind: .keyCondition, bindings: bindings)
        }
        if let projection = self.projection { try UpdatePathCheck.checkPaths(projection, bindings: bindings) }
    }

    /// Refuses a request that gives both an expression and a legacy parameter, naming every parameter of
    /// each kind the request gives. The one mix DynamoDB accepts is a Query's `KeyConditions` with a
    /// ProjectionExpression or FilterExpression, when there is no KeyConditionExpression.
    private static func refuseMixing(
        condition: String?, update: String?, projection: String?, filter: String?, keyCondition: String?,
        legacy: [(name: String, isPresent: Bool)]
    ) throws(EddyError) {
        let expressions: [(name: String, isPresent: Bool)] = [
            ("ConditionExpression", condition != nil), ("UpdateExpression", update != nil),
            ("ProjectionExpression", projection != nil), ("FilterExpression", filter != nil),
            ("KeyConditionExpression", keyCondition != nil),
        ]
        let usedExpressions = expressions.filter(\.isPresent).map(\.name)
        guard !usedExpressions.isEmpty else { return }
        let usedLegacy = legacy.filter(\.isPresent).map(\.name)
        if keyCondition == nil, usedLegacy == ["KeyConditions"] { return }
        throw .validation(
            "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {\(usedLegacy.joined(separator: ", "))} Expression parameters: {\(usedExpressions.joined(separator: ", "))}"
        )
    }

    /// Takes the legacy `Expected` as the request's condition (the initializer refused mixing it with an
    /// expression).
    mutating func compileLegacy(expected: [String: ExpectedAttributeValue]?, conditionalOperator: ConditionalOperator?) throws(EddyError) {
        guard let expected else { return }
        condition = try LegacyConditions.compile(expected: expected, conditionalOperator: conditionalOperator)
    }

    /// Takes the legacy `QueryFilter`/`ScanFilter` as the request's filter.
    mutating func compileLegacy(filter legacyFilter: [String: Condition]?, conditionalOperator: ConditionalOperator?) throws(EddyError) {
        guard let legacyFilter else { return }
        filter = try LegacyConditions.compile(filter: legacyFilter, conditionalOperator: conditionalOperator)
    }

    /// Whether the request's ConditionExpression (if any) holds for `item`.
    func conditionHolds(on item: Item?) throws(EddyError) -> Bool {
        guard let condition else { return true }
        return try ConditionEvaluator(bindings: bindings, kind: .condition).evaluate(condition, on: item ?? [:])
    }

    /// The projection of the request: its ProjectionExpression, else the legacy `AttributesToGet`.
    func projection(attributesToGet: [String]?) throws(EddyError) -> AttributeSelection {
        if let projection {
            return AttributeSelection(paths: projection.paths.map(bindings.resolve))
        }
        return try AttributeSelection(attributesToGet: attributesToGet)
    }
}
