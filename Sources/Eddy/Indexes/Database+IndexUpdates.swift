import EddyStorage

/// What UpdateTable's `GlobalSecondaryIndexUpdates` did to a table's indexes.
enum IndexChange: Equatable {
    case none
    /// An index was added, `CREATING` until its backfill finishes.
    case created(indexId: UInt64)
    /// An index and its entries are gone; its last description, `DELETING`.
    case deleted(GlobalSecondaryIndexDescription)
    /// An index's provisioned throughput changed.
    case updated
}

extension Database {
    /// Applies UpdateTable's index updates to `definition`, adding the storage changes to `batch`: at most
    /// one index created or deleted per call, as DynamoDB allows, and none while another is being created.
    func applyIndexUpdates(
        _ updates: [GlobalSecondaryIndexUpdate], definitions: [AttributeDefinition]?,
        to definition: inout TableDefinition, batch: inout StorageBatch
    ) throws(EddyError) -> IndexChange {
        guard !updates.isEmpty else {
            throw .validation("One or more parameter values were invalid: GlobalSecondaryIndexUpdates must not be empty")
        }
        for update in updates {
            let actions = [update.create != nil, update.update != nil, update.delete != nil].filter { $0 }.count
            guard actions == 1 else {
                throw .validation(
                    "One or more parameter values were invalid: One of GlobalSecondaryIndexUpdate.Create, GlobalSecondaryIndexUpdate.Update or GlobalSecondaryIndexUpdate.Delete must be specified"
                )
            }
        }
        let structural = updates.filter { $0.create != nil || $0.delete != nil }
        var indexes = definition.indexes ?? []
        guard structural.count <= 1, structural.isEmpty || !indexes.contains(where: { $0.status == .creating }) else {
            throw .limitExceeded("Subscriber limit exceeded: Only 1 online index can be created or deleted simultaneously per table")
        }
        var change = IndexChange.none
        for update in updates {
            if let create = update.create {
                try IndexValidation.validateGlobal(create, field: "globalSecondaryIndexUpdates.1.member.create", billing: definition.billingMode)
                guard !indexes.contains(where: { $0.name == create.indexName }) else {
                    throw .validation("One or more parameter values were invalid: Index with name: \(create.indexName) already exists")
                }
                guard indexes.filter({ $0.kind == .global }).count < Limits.globalSecondaryIndexesMax else {
                    throw .limitExceeded(
                        "Subscriber limit exceeded: Only \(Limits.globalSecondaryIndexesMax) global secondary indexes are allowed per table")
                }
                try IndexValidation.validateProjectedCount(indexes.map(\.projection) + [create.projection])
                definition.attributeDefinitions = try Self.merged(definition.attributeDefinitions, with: definitions ?? [], for: create)
                let index = IndexDefinition(
                    name: create.indexName, id: catalog.allocateId(into: &batch), kind: .global, keySchema: create.keySchema,
                    projection: create.projection, provisionedThroughput: create.provisionedThroughput, status: .creating,
                    addedByUpdate: true)
                indexes.append(index)
                change = .created(indexId: index.id)
            } else if let delete = update.delete {
                guard let position = indexes.firstIndex(where: { $0.name == delete.indexName && $0.kind == .global }) else {
                    throw .resourceNotFound("Requested resource not found: Index: \(delete.indexName) not found")
                }
                let index = indexes.remove(at: position)
                batch.deleteRange(from: ItemKey.tableStart(index.id), to: ItemKey.tableEnd(index.id), in: .indexes)
                batch.delete(IndexBackfill.progressKey(of: index.id), in: .catalog)
                let used = Set((definition.keySchema + indexes.flatMap(\.keySchema)).map(\.attributeName))
                definition.attributeDefinitions.removeAll { !used.contains($0.attributeName) }
                change = .deleted(
                    GlobalSecondaryIndexDescription(
                        indexName: index.name, keySchema: index.keySchema, projection: index.projection, indexStatus: .deleting,
                        provisionedThroughput: Self.throughputDescription(index.provisionedThroughput),
                        indexSizeBytes: 0, itemCount: 0, indexArn: "\(arn(ofTable: definition.name))/index/\(index.name)"))
            } else if let update = update.update {
                guard let position = indexes.firstIndex(where: { $0.name == update.indexName && $0.kind == .global }) else {
                    throw .resourceNotFound("Requested resource not found: Index: \(update.indexName) not found")
                }
                guard definition.billingMode == .provisioned else {
                    throw .validation(
                        "One or more parameter values were invalid: ProvisionedThroughput should not be specified for index: \(update.indexName) when BillingMode is PAY_PER_REQUEST"
                    )
                }
                try IndexValidation.validateThroughput(update.provisionedThroughput, of: update.indexName, billing: definition.billingMode)
                indexes[position].provisionedThroughput = update.provisionedThroughput
                if change == .none { change = .updated }
            }
        }
        definition.indexes = indexes.isEmpty ? nil : indexes
        if case .created = change { definition.indexVersion = (definition.indexVersion ?? 0) + 1 }
        if case .deleted = change { definition.indexVersion = (definition.indexVersion ?? 0) + 1 }
        return change
    }

    /// The table's attribute definitions with those of `index`'s key attributes, which `requested` (the
    /// request's `AttributeDefinitions`) must define, with the same type as the table if it has them.
    private static func merged(
        _ current: [AttributeDefinition], with requested: [AttributeDefinition], for index: GlobalSecondaryIndex
    ) throws(EddyError) -> [AttributeDefinition] {
        var result = current
        for element in index.keySchema {
            guard let definition = requested.first(where: { $0.attributeName == element.attributeName }) else {
                throw .validation(
                    "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [\(index.keySchema.map(\.attributeName).joined(separator: ", "))], AttributeDefinitions: [\(requested.map(\.attributeName).joined(separator: ", "))]"
                )
            }
            if let existing = current.first(where: { $0.attributeName == element.attributeName }) {
                guard existing.attributeType == definition.attributeType else {
                    throw .validation(
                        "One or more parameter values were invalid: Attribute \(element.attributeName) is already defined with type \(existing.attributeType.rawValue)"
                    )
                }
            } else {
                result.append(definition)
            }
        }
        return result
    }
}
