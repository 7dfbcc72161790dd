/// Where an item lives in the `items` key space:
/// `table id (8 bytes) · partition hash (4 bytes) · partition key · sort key`, each key value in
/// ``KeyEncoding``'s ordered form; or where an index entry lives in the `indexes` key space, the same with
/// the index's id and key, followed by the table's key values (``KeyLayout``).
///
/// The hash comes before the partition key so that a table's partitions spread over the key space as
/// DynamoDB's do: a Scan visits them in hash order, and a parallel scan's segment is a contiguous range of
/// hash values. Within a partition, items are in sort-key order, which is what Query reads.
struct ItemKey: Hashable, Sendable {
    /// The encoded key, as stored in RocksDB.
    let bytes: [UInt8]

    /// The key of the item with `key`'s attribute values in `table`.
    init(table: ResolvedTable, key: Item) {
        self.init(layout: table.layout, key: key)
    }

    /// The key of the entry with `key`'s attribute values (which hold every attribute of the layout's
    /// keys) in `layout`.
    init(layout: KeyLayout, key: Item) {
        var writer = Self.partitionWriter(id: layout.id, partitionKey: key[layout.key.partitionKeyName]!)
        if let sortKeyName = layout.key.sortKeyName {
            KeyEncoding.append(key[sortKeyName]!, to: &writer)
        }
        if let tableKey = layout.tableKey {
            KeyEncoding.append(key[tableKey.partitionKeyName]!, to: &writer)
            if let sortKeyName = tableKey.sortKeyName {
                KeyEncoding.append(key[sortKeyName]!, to: &writer)
            }
        }
        bytes = writer.bytes
    }

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Hashes the key's bytes as one block: an array's own hashing feeds the hasher one byte at a time, which
    /// the item locks' table paid on every write.
    func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    /// The hash of the partition key, which also picks the item's stream shard.
    var partitionHash: UInt32 {
        bytes[8..<12].reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// The first key of every item of table `id`.
    static func tableStart(_ id: UInt64) -> [UInt8] {
        var writer = ByteWriter(capacity: 8)
        writer.writeBigEndian(id)
        return writer.bytes
    }

    /// The first key after every item of table `id`.
    static func tableEnd(_ id: UInt64) -> [UInt8] {
        tableStart(id + 1)
    }

    /// The first key of the items of table `id` whose partition hash is at least `hash` (`hash` may be
    /// 2^32, the end of the table).
    static func hashStart(_ id: UInt64, hash: UInt64) -> [UInt8] {
        guard hash <= UInt64(UInt32.max) else { return tableEnd(id) }
        var writer = ByteWriter(capacity: 12)
        writer.writeBigEndian(id)
        writer.writeBigEndian(UInt32(hash))
        return writer.bytes
    }

    /// The ``partitionHash`` of every key whose partition key value is `value`.
    static func partitionHash(of value: AttributeValue) -> UInt32 {
        var writer = ByteWriter(capacity: 32)
        KeyEncoding.append(value, to: &writer)
        return PartitionHash.hash(of: writer.bytes)
    }

    /// The prefix shared by every entry of one partition of `layout`.
    static func partitionPrefix(layout: KeyLayout, partitionKey: AttributeValue) -> [UInt8] {
        partitionWriter(id: layout.id, partitionKey: partitionKey).bytes
    }

    /// A writer holding `id · hash · enc(partition key)`: the partition key is encoded in place and the
    /// hash, which covers it, is filled in after.
    private static func partitionWriter(id: UInt64, partitionKey: AttributeValue) -> ByteWriter {
        var writer = ByteWriter(capacity: 64)
        writer.writeBigEndian(id)
        writer.writeBigEndian(UInt32(0))
        KeyEncoding.append(partitionKey, to: &writer)
        let hash = PartitionHash.hash(of: writer.bytes[12...]).bigEndian
        withUnsafeBytes(of: hash) { hashBytes in
            writer.bytes.replaceSubrange(8..<12, with: hashBytes)
        }
        return writer
    }
}

extension Array where Element == UInt8 {
    /// The smallest byte string greater than every string that begins with `self`, or nil if there is none
    /// (all bytes 0xFF).
    var prefixSuccessor: [UInt8]? {
        var result = self
        while let last = result.last {
            if last < 0xFF {
                result[result.count - 1] = last + 1
                return result
            }
            result.removeLast()
        }
        return nil
    }
}
