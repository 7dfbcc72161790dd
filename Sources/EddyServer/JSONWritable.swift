import Eddy

/// An operation's output written straight into JSON bytes with ``JSONWriter``, as its `Codable` conformance
/// encodes it: the outputs that carry items, where `JSONEncoder`'s generic containers cost more than the
/// operation itself (encoding a 100-byte item took about 12 % of a GetItem's CPU).
protocol JSONWritable: Encodable {
    /// Appends the output as one JSON object.
    func write(to json: inout JSONWriter)
}

extension JSONWritable {
    /// The output as JSON bytes.
    var jsonBytes: [UInt8] {
        var json = JSONWriter(capacity: 256)
        write(to: &json)
        return json.bytes
    }
}

extension GetItemOutput: JSONWritable {
    func write(to json: inout JSONWriter) {
        json.literal("{")
        if let item {
            json.literal("\"Item\":")
            json.item(item)
        }
        if let consumedCapacity {
            if item != nil { json.literal(",") }
            json.consumedCapacity(consumedCapacity)
        }
        json.literal("}")
    }
}

extension WriteItemOutput: JSONWritable {
    func write(to json: inout JSONWriter) {
        json.literal("{")
        var first = true
        if let attributes {
            json.literal("\"Attributes\":")
            json.item(attributes)
            first = false
        }
        if let metrics = itemCollectionMetrics {
            if !first { json.literal(",") }
            json.literal("\"ItemCollectionMetrics\":{\"ItemCollectionKey\":")
            json.item(metrics.itemCollectionKey)
            json.literal(",\"SizeEstimateRangeGB\":[")
            for (position, bound) in metrics.sizeEstimateRangeGB.enumerated() {
                if position > 0 { json.literal(",") }
                json.integer(Int64(bound))
            }
            json.literal("]}")
            first = false
        }
        if let consumedCapacity {
            if !first { json.literal(",") }
            json.consumedCapacity(consumedCapacity)
        }
        json.literal("}")
    }
}

/// Written by ``GetRecordsOutput/write(to:)``, which transcodes the records' keys and images from their stored
/// bytes.
extension GetRecordsOutput: JSONWritable {}

extension JSONWriter {
    /// The member `"ConsumedCapacity":{…}`, with the members of `capacity` that are set.
    fileprivate mutating func consumedCapacity(_ capacity: ConsumedCapacity) {
        literal("\"ConsumedCapacity\":{")
        var first = true
        if let tableName = capacity.tableName {
            separator(&first)
            literal("\"TableName\":")
            string(tableName)
        }
        if capacity.capacityUnits != nil || capacity.readCapacityUnits != nil || capacity.writeCapacityUnits != nil {
            separator(&first)
            units(Capacity(
                capacityUnits: capacity.capacityUnits, readCapacityUnits: capacity.readCapacityUnits,
                writeCapacityUnits: capacity.writeCapacityUnits))
        }
        if let table = capacity.table {
            separator(&first)
            literal("\"Table\":{")
            units(table)
            literal("}")
        }
        if let indexes = capacity.localSecondaryIndexes {
            separator(&first)
            literal("\"LocalSecondaryIndexes\":")
            indexCapacities(indexes)
        }
        if let indexes = capacity.globalSecondaryIndexes {
            separator(&first)
            literal("\"GlobalSecondaryIndexes\":")
            indexCapacities(indexes)
        }
        literal("}")
    }

    /// A comma before every member but the first.
    private mutating func separator(_ first: inout Bool) {
        if !first { literal(",") }
        first = false
    }

    /// `{"name":{…},…}`, in name order.
    private mutating func indexCapacities(_ indexes: [String: Capacity]) {
        literal("{")
        for (position, (name, capacity)) in indexes.sorted(by: { $0.key < $1.key }).enumerated() {
            if position > 0 { literal(",") }
            string(name)
            literal(":{")
            units(capacity)
            literal("}")
        }
        literal("}")
    }

    /// The members of `capacity` that are set, without braces.
    private mutating func units(_ capacity: Capacity) {
        var first = true
        for (name, value) in [
            ("\"CapacityUnits\":" as StaticString, capacity.capacityUnits), ("\"ReadCapacityUnits\":", capacity.readCapacityUnits),
            ("\"WriteCapacityUnits\":", capacity.writeCapacityUnits),
        ] {
            guard let value else { continue }
            separator(&first)
            literal(name)
            number(value)
        }
    }
}

extension QueryOutput: JSONWritable {
    func write(to json: inout JSONWriter) {
        json.literal("{")
        if let items {
            json.literal("\"Items\":[")
            for (index, item) in items.enumerated() {
                if index > 0 { json.literal(",") }
                json.item(item)
            }
            json.literal("],")
        }
        json.literal("\"Count\":")
        json.integer(Int64(count))
        json.literal(",\"ScannedCount\":")
        json.integer(Int64(scannedCount))
        if let lastEvaluatedKey {
            json.literal(",\"LastEvaluatedKey\":")
            json.item(lastEvaluatedKey)
        }
        if let consumedCapacity {
            json.literal(",")
            json.consumedCapacity(consumedCapacity)
        }
        json.literal("}")
    }
}
