/// Reading and writing an item at a resolved document path.
enum DocumentPathAccess {
    /// The value at `path` in `item`, or nil where any step is missing or of the wrong kind.
    static func value(at path: [ResolvedPathElement], in item: Item) -> AttributeValue? {
        guard case .name(let first)? = path.first, var current = item[first] else { return nil }
        for element in path.dropFirst() {
            switch (element, current) {
            case (.name(let key), .m(let map)):
                guard let next = map[key] else { return nil }
                current = next
            case (.index(let index), .l(let list)):
                guard index < list.count else { return nil }
                current = list[index]
            default:
                return nil
            }
        }
        return current
    }

    /// Sets the value at `path`: a missing map key is added; a list index past the end appends. The parent
    /// of the last step must exist.
    static func set(_ value: AttributeValue, at path: [ResolvedPathElement], in item: inout Item) throws(EddyError) {
        guard case .name(let first)? = path.first else { throw invalidPath }
        if path.count == 1 {
            item[first] = value
            return
        }
        guard var root = item[first] else { throw invalidPath }
        try set(value, at: path.dropFirst(), in: &root)
        item[first] = root
    }

    private static func set(_ value: AttributeValue, at path: ArraySlice<ResolvedPathElement>, in container: inout AttributeValue) throws(EddyError) {
        let step = path.first!
        let rest = path.dropFirst()
        switch (step, container) {
        case (.name(let key), .m(var map)):
            if rest.isEmpty {
                map[key] = value
            } else {
                guard var child = map[key] else { throw invalidPath }
                try set(value, at: rest, in: &child)
                map[key] = child
            }
            container = .m(map)
        case (.index(let index), .l(var list)):
            if rest.isEmpty {
                if index < list.count { list[index] = value } else { list.append(value) }
            } else {
                guard index < list.count else { throw invalidPath }
                try set(value, at: rest, in: &list[index])
            }
            container = .l(list)
        default:
            throw invalidPath
        }
    }

    /// Throws DynamoDB's invalid-path error when a step of `path` meets a value of the wrong kind in `item`:
    /// a name in something other than a map, an index in something other than a list. A step that is
    /// missing is no conflict (removing it changes nothing).
    static func requireShape(of path: [ResolvedPathElement], in item: Item) throws(EddyError) {
        guard case .name(let first)? = path.first, var current = item[first] else { return }
        for element in path.dropFirst() {
            switch (element, current) {
            case (.name(let key), .m(let map)):
                guard let next = map[key] else { return }
                current = next
            case (.index(let index), .l(let list)):
                guard index < list.count else { return }
                current = list[index]
            default:
                throw invalidPath
            }
        }
    }

    /// Removes the value at `path`; a missing path is no change. Removing a list element shifts the rest.
    static func remove(at path: [ResolvedPathElement], in item: inout Item) {
        guard case .name(let first)? = path.first else { return }
        if path.count == 1 {
            item[first] = nil
            return
        }
        guard var root = item[first] else { return }
        remove(at: path.dropFirst(), in: &root)
        item[first] = root
    }

    private static func remove(at path: ArraySlice<ResolvedPathElement>, in container: inout AttributeValue) {
        let step = path.first!
        let rest = path.dropFirst()
        switch (step, container) {
        case (.name(let key), .m(var map)):
            if rest.isEmpty {
                map[key] = nil
            } else if var child = map[key] {
                remove(at: rest, in: &child)
                map[key] = child
            }
            container = .m(map)
        case (.index(let index), .l(var list)):
            guard index < list.count else { return }
            if rest.isEmpty {
                list.remove(at: index)
            } else {
                remove(at: rest, in: &list[index])
            }
            container = .l(list)
        default:
            return
        }
    }

    /// The parts of `item` that `paths` select, shaped as DynamoDB's projections: nested maps keep the
    /// selected keys, lists keep the selected elements in index order.
    static func project(_ item: Item, paths: [[ResolvedPathElement]]) -> Item {
        var tree = ProjectionTree()
        for path in paths { tree.insert(path[...]) }
        var result: Item = [:]
        for (name, child) in tree.names {
            guard let value = item[name], let projected = child.apply(to: value) else { continue }
            result[name] = projected
        }
        return result
    }

    /// The selected paths as a tree, so that several paths into one document merge.
    private struct ProjectionTree {
        var selectsWhole = false
        var names: [String: ProjectionTree] = [:]
        var indexes: [Int: ProjectionTree] = [:]

        mutating func insert(_ path: ArraySlice<ResolvedPathElement>) {
            guard let step = path.first else {
                selectsWhole = true
                return
            }
            switch step {
            case .name(let key): names[key, default: ProjectionTree()].insert(path.dropFirst())
            case .index(let index): indexes[index, default: ProjectionTree()].insert(path.dropFirst())
            }
        }

        func apply(to value: AttributeValue) -> AttributeValue? {
            if selectsWhole { return value }
            switch value {
            case .m(let map) where !names.isEmpty:
                var projected: [String: AttributeValue] = [:]
                for (key, child) in names {
                    if let member = map[key], let kept = child.apply(to: member) { projected[key] = kept }
                }
                return projected.isEmpty ? nil : .m(projected)
            case .l(let list) where !indexes.isEmpty:
                let kept = indexes.keys.sorted().compactMap { index in
                    index < list.count ? indexes[index]!.apply(to: list[index]) : nil
                }
                return kept.isEmpty ? nil : .l(kept)
            default:
                return nil
            }
        }
    }

    static var invalidPath: EddyError {
        .validation("The document path provided in the update expression is invalid for update")
    }
}
