import Eddy

/// The table, the mapping and the writes of the snapshot crash test (SnapshotCrashTests) and its child
/// (SnapshotSinkWorker): items numbered from 0, four to a partition key (item n has `pk` "p<n / 4>" and `sk`
/// n % 4), a `version` that grows with each write of the item (0 when the test loaded it), and a `note`.
public enum SnapshotWorkload {
    public static let table = "Catalog"
    public static let mapping = "catalog-cdc"
    /// The items the test loads before the first round: numbers below this.
    public static let loadedItems = 50_000
    /// The items the child writes: the loaded ones and some new ones, numbers below this.
    public static let writtenItems = 55_000
    /// The child's writing tasks: task w writes the items whose number is w modulo this.
    public static let writers = 3

    /// The mapping's settings: a snapshot, delivered 100 items a batch (so that it lasts across several
    /// rounds), then the stream in two lanes.
    public static func settings(_ streamArn: String) -> TriggerMappingConfiguration {
        var settings = TriggerMappingConfiguration(eventSourceArn: streamArn, startingPosition: .trimHorizon)
        settings.snapshot = true
        settings.batchSize = 100
        settings.parallelizationFactor = 2
        return settings
    }

    /// Creates the table, with a stream of both images.
    public static func createTable(in db: Database) async throws {
        try await db.createTable(CreateTableInput(
            tableName: table,
            keySchema: [KeySchemaElement(attributeName: "pk", keyType: .hash), KeySchemaElement(attributeName: "sk", keyType: .range)],
            attributeDefinitions: [
                AttributeDefinition(attributeName: "pk", attributeType: .s), AttributeDefinition(attributeName: "sk", attributeType: .n),
            ],
            billingMode: .payPerRequest,
            streamSpecification: StreamSpecification(streamEnabled: true, streamViewType: .newAndOldImages)))
    }

    /// The primary key of item `number`.
    public static func key(_ number: Int) -> Item {
        ["pk": .s("p\(number / 4)"), "sk": .n(DecimalNumber(number % 4))]
    }

    /// Item `number` as the test loads it.
    public static func loaded(_ number: Int) -> Item {
        key(number).merging(["version": .n(DecimalNumber(0)), "note": .s("loaded")]) { $1 }
    }

    /// A write of the child.
    public enum Operation: String, Sendable, CustomStringConvertible {
        case put, update, delete

        /// 40 % puts, 35 % updates (which create a missing item), 25 % deletes.
        public static func random(using generator: inout some RandomNumberGenerator) -> Operation {
            switch Int.random(in: 0..<20, using: &generator) {
            case 0..<8: .put
            case 8..<15: .update
            default: .delete
            }
        }

        public var description: String { rawValue }
    }

    /// Writes item `number` with `operation`: a put replaces it with `version` and a note; an update sets
    /// both and adds 1 to its `hits`; a delete removes it.
    public static func write(_ operation: Operation, number: Int, version: Int, round: Int, in db: Database) async throws {
        let versionValue = AttributeValue.n(DecimalNumber(version))
        switch operation {
        case .put:
            try await db.putItem(PutItemInput(
                tableName: table, item: key(number).merging(["version": versionValue, "note": .s("put in round \(round)")]) { $1 }))
        case .update:
            try await db.updateItem(UpdateItemInput(
                tableName: table, key: key(number), updateExpression: "SET #version = :version, note = :note ADD hits :one",
                expressionAttributeNames: ["#version": "version"],
                expressionAttributeValues: [
                    ":version": versionValue, ":note": .s("updated in round \(round)"), ":one": .n(DecimalNumber(1)),
                ]))
        case .delete:
            try await db.deleteItem(DeleteItemInput(tableName: table, key: key(number)))
        }
    }
}
