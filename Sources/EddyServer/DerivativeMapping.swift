import Eddy

/// How a declared derivative mapping keeps its target table from the source table's changes: one of
/// `Copy`, `Project`, `Count` and `Sum` (see ``ServeConfiguration``).
public struct DerivativeMapping: Codable, Sendable, Equatable {
    public var targetTable: String
    public var operation: Operation

    /// What the target table holds.
    public enum Operation: Sendable, Equatable {
        /// Each source item's latest image, under the same key; a deleted item is deleted.
        case copy
        /// The listed attributes of each source item's latest image (they include the target's key).
        case project([String])
        /// Per group, how many source items are in it, in attribute `into`.
        case count(groupBy: [String: String], into: String)
        /// Per group, the total of the source items' number attribute `of`, in attribute `into`.
        case sum(groupBy: [String: String], of: String, into: String)
    }

    enum CodingKeys: String, CodingKey {
        case targetTable = "TargetTable", copy = "Copy", project = "Project", count = "Count", sum = "Sum"
    }

    private struct Aggregate: Codable {
        var groupBy: [String: String]
        var of: String?
        var into: String
        enum CodingKeys: String, CodingKey { case groupBy = "GroupBy", of = "Of", into = "Into" }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        targetTable = try container.decode(String.self, forKey: .targetTable)
        var operations: [Operation] = []
        if container.contains(.copy) { operations.append(.copy) }
        if let attributes = try container.decodeIfPresent([String].self, forKey: .project) {
            operations.append(.project(attributes))
        }
        if let count = try container.decodeIfPresent(Aggregate.self, forKey: .count) {
            operations.append(.count(groupBy: count.groupBy, into: count.into))
        }
        if let sum = try container.decodeIfPresent(Aggregate.self, forKey: .sum) {
            guard let of = sum.of else { throw EddyError.validation("Derivative \(targetTable): Sum needs Of, the attribute summed") }
            operations.append(.sum(groupBy: sum.groupBy, of: of, into: sum.into))
        }
        guard operations.count == 1, let operation = operations.first else {
            throw EddyError.validation("Derivative \(targetTable) must have exactly one of Copy, Project, Count and Sum")
        }
        switch operation {
        case .count(let groupBy, _), .sum(let groupBy, _, _):
            guard !groupBy.isEmpty else { throw EddyError.validation("Derivative \(targetTable): GroupBy names no attribute") }
        case .project(let attributes):
            guard !attributes.isEmpty else { throw EddyError.validation("Derivative \(targetTable): Project names no attribute") }
        case .copy:
            break
        }
        self.operation = operation
    }

    /// The declaration as it was decoded: `TargetTable` and the operation's member.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(targetTable, forKey: .targetTable)
        switch operation {
        case .copy:
            try container.encode([String: String](), forKey: .copy)
        case .project(let attributes):
            try container.encode(attributes, forKey: .project)
        case .count(let groupBy, let into):
            try container.encode(Aggregate(groupBy: groupBy, into: into), forKey: .count)
        case .sum(let groupBy, let of, let into):
            try container.encode(Aggregate(groupBy: groupBy, of: of, into: into), forKey: .sum)
        }
    }

    /// The transform, for a stream recording `viewType`.
    ///
    /// - Throws: `ValidationException` if the stream lacks an image the operation needs: copies and projections
    ///   need the new image, counts and sums both.
    func transform(viewType: StreamViewType?) throws(EddyError) -> DerivativeTransform {
        let needed: [StreamViewType]
        switch operation {
        case .copy, .project: needed = [.newImage, .newAndOldImages]
        case .count, .sum: needed = [.newAndOldImages]
        }
        guard let viewType, needed.contains(viewType) else {
            throw .validation("Derivative \(targetTable) needs a stream with \(needed.map(\.rawValue).joined(separator: " or ")), not \(viewType?.rawValue ?? "none")")
        }
        let (target, operation) = (targetTable, operation)
        return { record in try Self.writes(for: record, target: target, operation: operation) }
    }

    private static func writes(for record: StreamRecord, target: String, operation: Operation) throws -> [DerivativeWrite] {
        let (old, new) = (record.dynamodb.oldImage, record.dynamodb.newImage)
        switch operation {
        case .copy:
            guard let new else { return [.delete(tableName: target, key: record.dynamodb.keys)] }
            return [.put(tableName: target, item: new)]
        case .project(let attributes):
            guard let new else { return [.delete(tableName: target, key: record.dynamodb.keys)] }
            return [.put(tableName: target, item: new.filter { attributes.contains($0.key) })]
        case .count(let groupBy, let into):
            return try moves(
                from: old.flatMap { group(of: $0, groupBy) }.map { ($0, DecimalNumber(1)) },
                to: new.flatMap { group(of: $0, groupBy) }.map { ($0, DecimalNumber(1)) },
                target: target, into: into)
        case .sum(let groupBy, let of, let into):
            return try moves(
                from: old.flatMap { image in group(of: image, groupBy).map { ($0, number(of, in: image)) } },
                to: new.flatMap { image in group(of: image, groupBy).map { ($0, number(of, in: image)) } },
                target: target, into: into)
        }
    }

    /// The `ADD`s that take an item's contribution out of its old group and into its new one: one `ADD` of the
    /// difference when the group is the same, none when nothing changed.
    private static func moves(
        from old: (Item, DecimalNumber)?, to new: (Item, DecimalNumber)?, target: String, into: String
    ) throws -> [DerivativeWrite] {
        func add(_ key: Item, _ amount: DecimalNumber) -> DerivativeWrite {
            .update(
                tableName: target, key: key, updateExpression: "ADD #into :amount", expressionAttributeNames: ["#into": into],
                expressionAttributeValues: [":amount": .n(amount)])
        }
        switch (old, new) {
        case (let old?, let new?) where old.0 == new.0:
            let difference = try new.1.subtracting(old.1)
            return difference == DecimalNumber(0) ? [] : [add(new.0, difference)]
        default:
            var writes: [DerivativeWrite] = []
            if let old { writes.append(add(old.0, try DecimalNumber(0).subtracting(old.1))) }
            if let new { writes.append(add(new.0, new.1)) }
            return writes
        }
    }

    /// The target key of `image`'s group, or nil if `image` lacks one of the grouping attributes.
    private static func group(of image: Item, _ groupBy: [String: String]) -> Item? {
        var key: Item = [:]
        for (targetAttribute, sourceAttribute) in groupBy {
            guard let value = image[sourceAttribute] else { return nil }
            key[targetAttribute] = value
        }
        return key
    }

    /// The number `attribute` of `image`; 0 when it is absent or not a number.
    private static func number(_ attribute: String, in image: Item) -> DecimalNumber {
        if case .n(let value)? = image[attribute] { return value }
        return DecimalNumber(0)
    }
}
