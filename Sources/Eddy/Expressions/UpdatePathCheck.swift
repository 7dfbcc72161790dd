/// DynamoDB's rule that the paths an UpdateExpression (or a ProjectionExpression) names neither overlap nor conflict.
enum UpdatePathCheck {
    /// Refuses two actions of `update` whose resolved target paths overlap (one is a prefix of the other, or
    /// equal) or conflict (at the first step where they differ, one has a list index and the other a name).
    static func checkPaths(_ update: UpdateNode, bindings: ExpressionBindings) throws(EddyError) {
        var paths: [DocumentPath] = update.set.map(\.path)
        paths += update.remove
        paths += update.add.map(\.path)
        paths += update.delete.map(\.path)
        try check(paths.map(bindings.resolve), expression: "UpdateExpression")
    }

    /// The same rule for the paths of a ProjectionExpression.
    static func checkPaths(_ projection: ProjectionNode, bindings: ExpressionBindings) throws(EddyError) {
        try check(projection.paths.map(bindings.resolve), expression: "ProjectionExpression")
    }

    static func check(_ paths: [[ResolvedPathElement]], expression: String) throws(EddyError) {
        guard paths.count > 1 else { return }
        for second in 1..<paths.count {
            for first in 0..<second {
                try compare(paths[first], paths[second], expression: expression)
            }
        }
    }

    private static func compare(
        _ one: [ResolvedPathElement], _ two: [ResolvedPathElement], expression: String
    ) throws(EddyError) {
        for (left, right) in zip(one, two) where left != right {
            switch (left, right) {
            case (.name, .index), (.index, .name):
                throw .validation(
                    "Invalid \(expression): Two document paths conflict with each other; must remove or rewrite one of these paths; path one: \(render(one)), path two: \(render(two))")
            default:
                return
            }
        }
        throw .validation(
            "Invalid \(expression): Two document paths overlap with each other; must remove or rewrite one of these paths; path one: \(render(one)), path two: \(render(two))")
    }

    /// DynamoDB's rendering of a path in these messages: `[a, b, [1]]`.
    static func render(_ path: [ResolvedPathElement]) -> String {
        "[" + path.map { element in
            switch element {
            case .name(let name): name
            case .index(let index): "[\(index)]"
            }
        }.joined(separator: ", ") + "]"
    }
}
