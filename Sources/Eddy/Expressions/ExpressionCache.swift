import Synchronization

/// Parsed expressions by their kind and text, so that a repeated request does not parse again.
///
/// Bounded: when full, it empties and starts again (cheap, and repeated expressions come straight back).
/// Errors are cached too: parsing is deterministic, so the same text always fails the same way.
enum ExpressionCache {
    static let capacity = 4096

    private enum Kind: UInt8, Hashable {
        case condition, filter, keyCondition, update, projection
    }

    private struct Key: Hashable {
        var kind: Kind
        var text: String
    }

    private enum Entry {
        case condition(Parsed<ConditionNode>)
        case update(Parsed<UpdateNode>)
        case projection(Parsed<ProjectionNode>)
        case failure(EddyError)
    }

    /// A parsed expression with the placeholders it uses, both computed once per text.
    struct Parsed<Node: Sendable>: Sendable {
        let node: Node
        let placeholders: UsedPlaceholders
        /// Whether the paths were already checked for overlaps and conflicts: possible once, at parse
        /// time, when no `#name` placeholder can change them.
        var pathsChecked = false
    }

    private static let entries = Mutex<[Key: Entry]>([:])

    static func condition(_ text: String, kind: ConditionKind) throws(EddyError) -> Parsed<ConditionNode> {
        let cacheKind: Kind = switch kind {
        case .condition: .condition
        case .filter: .filter
        case .keyCondition: .keyCondition
        }
        let entry = lookUp(Key(kind: cacheKind, text: text)) {
            do throws(EddyError) {
                let node = try ExpressionParser.parseCondition(text, kind: kind)
                return .condition(Parsed(node: node, placeholders: node.placeholders(in: kind)))
            } catch {
                return .failure(error)
            }
        }
        switch entry {
        case .condition(let parsed): return parsed
        case .failure(let error): throw error
        default: preconditionFailure("cache entry of the wrong kind")
        }
    }

    static func update(_ text: String) throws(EddyError) -> Parsed<UpdateNode> {
        let entry = lookUp(Key(kind: .update, text: text)) {
            do throws(EddyError) {
                let node = try ExpressionParser.parseUpdate(text)
                let placeholders = node.placeholders
                guard placeholders.names.isEmpty else { return .update(Parsed(node: node, placeholders: placeholders)) }
                try UpdatePathCheck.checkPaths(node, bindings: ExpressionBindings(names: nil, values: nil, used: []))
                return .update(Parsed(node: node, placeholders: placeholders, pathsChecked: true))
            } catch {
                return .failure(error)
            }
        }
        switch entry {
        case .update(let parsed): return parsed
        case .failure(let error): throw error
        default: preconditionFailure("cache entry of the wrong kind")
        }
    }

    static func projection(_ text: String) throws(EddyError) -> Parsed<ProjectionNode> {
        let entry = lookUp(Key(kind: .projection, text: text)) {
            do throws(EddyError) {
                let node = try ExpressionParser.parseProjection(text)
                return .projection(Parsed(node: node, placeholders: node.placeholders))
            } catch {
                return .failure(error)
            }
        }
        switch entry {
        case .projection(let parsed): return parsed
        case .failure(let error): throw error
        default: preconditionFailure("cache entry of the wrong kind")
        }
    }

    /// The cached entry, or `make()`'s (computed outside the lock) stored and returned.
    private static func lookUp(_ key: Key, make: () -> Entry) -> Entry {
        if let entry = entries.withLock({ $0[key] }) { return entry }
        let entry = make()
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = entry
        }
        return entry
    }

    /// Entries now cached (for tests).
    static var count: Int { entries.withLock { $0.count } }
}
