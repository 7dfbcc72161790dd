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
        json.object(member: "\"Item\":", item)
    }
}

extension WriteItemOutput: JSONWritable {
    func write(to json: inout JSONWriter) {
        guard let metrics = itemCollectionMetrics else {
            json.object(member: "\"Attributes\":", attributes)
            return
        }
        json.literal("{")
        if let attributes {
            json.literal("\"Attributes\":")
            json.item(attributes)
            json.literal(",")
        }
        json.literal("\"ItemCollectionMetrics\":{\"ItemCollectionKey\":")
        json.item(metrics.itemCollectionKey)
        json.literal(",\"SizeEstimateRangeGB\":[")
        for (position, bound) in metrics.sizeEstimateRangeGB.enumerated() {
            if position > 0 { json.literal(",") }
            json.integer(Int64(bound))
        }
        json.literal("]}}")
    }
}

extension JSONWriter {
    /// An object with one member, `member` (its quoted name and colon) holding `item`; `{}` when `item` is nil.
    fileprivate mutating func object(member: StaticString, _ item: Item?) {
        literal("{")
        if let item {
            literal(member)
            self.item(item)
        }
        literal("}")
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
        json.literal("}")
    }
}
