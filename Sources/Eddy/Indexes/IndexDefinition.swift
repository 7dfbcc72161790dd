import EddyStorage

/// A secondary index as the catalog stores it, inside its table's ``TableDefinition``.
///
/// `id` comes from the same never-reused counter as table ids: it starts every key of the index's entries
/// in the `indexes` key space, so the entries of a deleted index can never be mistaken for a new one's.
struct IndexDefinition: Codable, Sendable, Equatable {
    enum Kind: String, Codable, Sendable {
        case global, local
    }

    var name: String
    var id: UInt64
    var kind: Kind
    var keySchema: [KeySchemaElement]
    /// As requested, with `NonKeyAttributes` only for `INCLUDE`.
    var projection: Projection
    var provisionedThroughput: ProvisionedThroughput?
    /// `CREATING` until the backfill of an index added by UpdateTable has finished, then `ACTIVE`.
    var status: IndexStatus
    /// Whether UpdateTable added the index, so that its entries for earlier items are backfilled.
    var addedByUpdate: Bool
    /// A global index's Contributor Insights, enabled or not; nil if UpdateContributorInsights never named it.
    var contributorInsights: ContributorInsightsSetting? = nil
}

/// How the entries of a table or an index are keyed in their key space:
/// `id · partition hash · enc(partition key) · enc(sort key)`, and for an index the table's key values after
/// that (`· enc(table partition key) · enc(table sort key)`), which make an entry's key unique.
struct KeyLayout: Sendable {
    let id: UInt64
    let key: PrimaryKeySchema
    /// For an index: the key of its table.
    let tableKey: PrimaryKeySchema?

    /// Where the entries live: `items` for a table, `indexes` for an index.
    var space: KeySpace { tableKey == nil ? .items : .indexes }

    /// The attribute names an entry's key is made of: the key's, then the table key's that are not in it.
    var entryKeyNames: [String] {
        var names = key.attributeNames
        for name in tableKey?.attributeNames ?? [] where !names.contains(name) { names.append(name) }
        return names
    }
}

/// An index resolved for the write and read paths: its layout, projection and key types, worked out once.
struct ResolvedIndex: Sendable {
    let definition: IndexDefinition
    let layout: KeyLayout
    /// The index's key attributes with their declared types, partition key first.
    let keyAttributes: [(String, ScalarAttributeType)]
    /// The attributes an entry holds; nil when the index projects every attribute.
    let projectedNames: Set<String>?

    init(_ definition: IndexDefinition, table: TableDefinition, tableKey: PrimaryKeySchema) {
        self.definition = definition
        let key = PrimaryKeySchema(keySchema: definition.keySchema, definitions: table.attributeDefinitions)
        layout = KeyLayout(id: definition.id, key: key, tableKey: tableKey)
        var attributes = [(key.partitionKeyName, key.partitionKeyType)]
        if let name = key.sortKeyName, let type = key.sortKeyType { attributes.append((name, type)) }
        keyAttributes = attributes
        switch definition.projection.projectionType ?? .all {
        case .all:
            projectedNames = nil
        case .keysOnly, .include:
            projectedNames = Set(layout.entryKeyNames + (definition.projection.nonKeyAttributes ?? []))
        }
    }

    var id: UInt64 { definition.id }
    var name: String { definition.name }
    var isGlobal: Bool { definition.kind == .global }
    /// Whether Query and Scan may read it: not while it is being created.
    var isReadable: Bool { definition.status == .active }

    /// The key of `item`'s entry, or nil if the item has no entry: it lacks an index key attribute, or (an
    /// item written before the index existed) holds one with another type than the index's.
    func entryKey(of item: Item) -> ItemKey? {
        for (name, type) in keyAttributes {
            guard let value = item[name], value.typeDescriptor == type.rawValue else { return nil }
        }
        return ItemKey(layout: layout, key: item)
    }

    /// What `item`'s entry holds: its projected attributes.
    func projected(_ item: Item) -> Item {
        guard let projectedNames else { return item }
        return item.filter { projectedNames.contains($0.key) }
    }

    /// The stored value of `item`'s entry; `encoded` is the item's own encoding, reused when every attribute
    /// is projected.
    func entryValue(of item: Item, encoded: [UInt8]) -> [UInt8] {
        projectedNames == nil ? encoded : ItemEncoding.encode(projected(item))
    }
}

extension PrimaryKeySchema {
    /// The key that `keySchema` (validated: a HASH element, then optionally a RANGE element) describes,
    /// with the types `definitions` give its attributes.
    init(keySchema: [KeySchemaElement], definitions: [AttributeDefinition]) {
        func type(of name: String) -> ScalarAttributeType {
            definitions.first { $0.attributeName == name }!.attributeType
        }
        let hash = keySchema.first { $0.keyType == .hash }!.attributeName
        let range = keySchema.first { $0.keyType == .range }?.attributeName
        self.init(partitionKeyName: hash, partitionKeyType: type(of: hash), sortKeyName: range, sortKeyType: range.map(type(of:)))
    }
}
