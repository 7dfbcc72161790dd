/// Whether an operation returns the capacity it consumed: DynamoDB's `ReturnConsumedCapacity`.
public enum ReturnConsumedCapacity: String, Codable, Sendable, CaseIterable {
    /// Only the total, per table (`TableName` and `CapacityUnits`).
    case total = "TOTAL"
    /// The total with its read and write parts, and what the table and each index consumed.
    case indexes = "INDEXES"
    /// Nothing (the default).
    case none = "NONE"
}

/// The capacity consumed on one table or one index: DynamoDB's `Capacity`.
public struct Capacity: Codable, Sendable, Equatable {
    /// Read and write units together.
    public var capacityUnits: Double?
    /// The read units; absent when there are none.
    public var readCapacityUnits: Double?
    /// The write units; absent when there are none.
    public var writeCapacityUnits: Double?

    public init(capacityUnits: Double? = nil, readCapacityUnits: Double? = nil, writeCapacityUnits: Double? = nil) {
        self.capacityUnits = capacityUnits
        self.readCapacityUnits = readCapacityUnits
        self.writeCapacityUnits = writeCapacityUnits
    }

    enum CodingKeys: String, CodingKey {
        case capacityUnits = "CapacityUnits", readCapacityUnits = "ReadCapacityUnits", writeCapacityUnits = "WriteCapacityUnits"
    }
}

/// The capacity an operation consumed on one table and its indexes: DynamoDB's `ConsumedCapacity`, returned
/// when the request's ``ReturnConsumedCapacity`` is `TOTAL` or `INDEXES`.
///
/// ```swift
/// let output = try await db.putItem(PutItemInput(tableName: "Users", item: user, returnConsumedCapacity: .total))
/// print(output.consumedCapacity?.capacityUnits ?? 0)  // 1.0 for an item up to 1 KB
/// ```
///
/// With `TOTAL`, only ``tableName`` and ``capacityUnits`` are set. With `INDEXES`, ``readCapacityUnits`` and
/// ``writeCapacityUnits`` split the total (each absent when zero), ``table`` holds what the table itself
/// consumed, and ``localSecondaryIndexes`` and ``globalSecondaryIndexes`` what each index the operation
/// touched consumed (absent when it touched none).
///
/// Units follow the Developer Guide ("Read and write operations", "Item sizes and formats"): a read takes
/// one unit per 4 KB of the item, rounded up (half for an eventually consistent read, double in a
/// transaction); a write one unit per 1 KB of the larger of the item before and after it, rounded up (double
/// in a transaction); an index write, one unit per 1 KB of the index entry it puts or deletes.
public struct ConsumedCapacity: Codable, Sendable, Equatable {
    public var tableName: String?
    /// Every unit the operation consumed on the table and its indexes.
    public var capacityUnits: Double?
    public var readCapacityUnits: Double?
    public var writeCapacityUnits: Double?
    /// What the table itself consumed (`INDEXES` only).
    public var table: Capacity?
    /// By index name, what each local secondary index consumed (`INDEXES` only).
    public var localSecondaryIndexes: [String: Capacity]?
    /// By index name, what each global secondary index consumed (`INDEXES` only).
    public var globalSecondaryIndexes: [String: Capacity]?

    public init(
        tableName: String? = nil, capacityUnits: Double? = nil, readCapacityUnits: Double? = nil,
        writeCapacityUnits: Double? = nil, table: Capacity? = nil, localSecondaryIndexes: [String: Capacity]? = nil,
        globalSecondaryIndexes: [String: Capacity]? = nil
    ) {
        self.tableName = tableName
        self.capacityUnits = capacityUnits
        self.readCapacityUnits = readCapacityUnits
        self.writeCapacityUnits = writeCapacityUnits
        self.table = table
        self.localSecondaryIndexes = localSecondaryIndexes
        self.globalSecondaryIndexes = globalSecondaryIndexes
    }

    enum CodingKeys: String, CodingKey {
        case tableName = "TableName", capacityUnits = "CapacityUnits", readCapacityUnits = "ReadCapacityUnits"
        case writeCapacityUnits = "WriteCapacityUnits", table = "Table", localSecondaryIndexes = "LocalSecondaryIndexes"
        case globalSecondaryIndexes = "GlobalSecondaryIndexes"
    }
}

/// Read and write units consumed on one table or index.
struct CapacityUnits: Sendable, Equatable {
    var read: Double = 0
    var write: Double = 0

    /// The bytes one read unit reads: 4 KB.
    static let readUnitBytes = 4096
    /// The bytes one write unit writes: 1 KB.
    static let writeUnitBytes = 1024

    /// The read units of reading `sizeBytes` at once, rounded up to 4 KB; at least one unit, as a read of a
    /// missing item or an empty page costs one. Eventually consistent reads cost half.
    static func read(sizeBytes: Int, consistent: Bool) -> Double {
        let units = Double(max(1, (sizeBytes + readUnitBytes - 1) / readUnitBytes))
        return consistent ? units : units / 2
    }

    /// The write units of writing `sizeBytes`, rounded up to 1 KB; at least one unit.
    static func write(sizeBytes: Int) -> Double {
        Double(max(1, (sizeBytes + writeUnitBytes - 1) / writeUnitBytes))
    }

    var isZero: Bool { read == 0 && write == 0 }

    /// As DynamoDB's `Capacity`: the total, and the read and write parts that are not zero.
    var capacity: Capacity {
        Capacity(capacityUnits: read + write, readCapacityUnits: read == 0 ? nil : read, writeCapacityUnits: write == 0 ? nil : write)
    }

    static func + (left: CapacityUnits, right: CapacityUnits) -> CapacityUnits {
        CapacityUnits(read: left.read + right.read, write: left.write + right.write)
    }
}

/// What an operation consumed on one table and its indexes, worked out for every operation whatever its
/// `ReturnConsumedCapacity` (throttling debits it), and turned into a ``ConsumedCapacity`` when asked for.
///
/// The index maps stay empty (no allocation) for a table without indexes.
struct CapacityCharge: Sendable, Equatable {
    var tableName: String
    var table = CapacityUnits()
    var globalIndexes: [String: CapacityUnits] = [:]
    var localIndexes: [String: CapacityUnits] = [:]

    init(tableName: String) {
        self.tableName = tableName
    }

    /// Every unit, table and indexes.
    var total: CapacityUnits {
        var total = table
        for units in globalIndexes.values { total = total + units }
        for units in localIndexes.values { total = total + units }
        return total
    }

    /// Adds every unit of `other` (a charge on the same table).
    mutating func add(_ other: CapacityCharge) {
        table = table + other.table
        globalIndexes.merge(other.globalIndexes, uniquingKeysWith: +)
        localIndexes.merge(other.localIndexes, uniquingKeysWith: +)
    }

    /// Adds `units` to index `index` (to its global or local map).
    mutating func charge(_ units: CapacityUnits, to index: ResolvedIndex) {
        if index.isGlobal {
            globalIndexes[index.name, default: CapacityUnits()] = globalIndexes[index.name, default: CapacityUnits()] + units
        } else {
            localIndexes[index.name, default: CapacityUnits()] = localIndexes[index.name, default: CapacityUnits()] + units
        }
    }

    /// The charge of a transaction: DynamoDB reads or writes every item of a transaction twice, once to
    /// prepare it and once to commit it (Developer Guide, "Capacity management for transactions").
    var doubled: CapacityCharge {
        var doubled = self
        doubled.table = CapacityUnits(read: table.read * 2, write: table.write * 2)
        doubled.globalIndexes = globalIndexes.mapValues { CapacityUnits(read: $0.read * 2, write: $0.write * 2) }
        doubled.localIndexes = localIndexes.mapValues { CapacityUnits(read: $0.read * 2, write: $0.write * 2) }
        return doubled
    }

    /// The ``ConsumedCapacity`` that `mode` asks for; nil for `NONE` or no mode.
    func consumedCapacity(_ mode: ReturnConsumedCapacity?) -> ConsumedCapacity? {
        switch mode {
        case nil, .some(.none):
            return nil
        case .total:
            let total = total
            return ConsumedCapacity(tableName: tableName, capacityUnits: total.read + total.write)
        case .indexes:
            let total = total.capacity
            return ConsumedCapacity(
                tableName: tableName, capacityUnits: total.capacityUnits, readCapacityUnits: total.readCapacityUnits,
                writeCapacityUnits: total.writeCapacityUnits, table: table.capacity,
                localSecondaryIndexes: localIndexes.isEmpty ? nil : localIndexes.mapValues(\.capacity),
                globalSecondaryIndexes: globalIndexes.isEmpty ? nil : globalIndexes.mapValues(\.capacity))
        }
    }
}

extension [CapacityCharge] {
    /// One ``ConsumedCapacity`` per table, in this order, as `mode` asks for them (batch and transaction
    /// outputs); nil for `NONE` or no mode.
    func consumedCapacity(_ mode: ReturnConsumedCapacity?) -> [ConsumedCapacity]? {
        guard mode == .total || mode == .indexes else { return nil }
        return compactMap { $0.consumedCapacity(mode) }
    }

    /// The charge of table `name`, added if this has none yet.
    subscript(table name: String) -> CapacityCharge {
        get { first { $0.tableName == name } ?? CapacityCharge(tableName: name) }
        set {
            if let position = firstIndex(where: { $0.tableName == name }) {
                self[position] = newValue
            } else {
                append(newValue)
            }
        }
    }
}

/// An operation's outcome with the capacity it consumed: its output, or the error of a request that
/// consumed capacity all the same (a failed condition, a cancelled transaction). Errors thrown instead
/// (a malformed request, a missing table) consumed nothing.
struct Charged<Output: Sendable>: Sendable {
    var result: Result<Output, EddyError>
    /// One charge per table the operation consumed capacity on.
    var charges: [CapacityCharge]

    /// The output, or the error.
    func get() throws(EddyError) -> Output {
        try result.get()
    }
}
