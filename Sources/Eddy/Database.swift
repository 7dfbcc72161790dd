import EddyStorage
import Foundation

/// An Eddy database: a directory holding tables and their items, with DynamoDB's semantics.
///
/// ```swift
/// let db = try Database(path: "/tmp/eddy-data")
/// _ = try await db.createTable(CreateTableInput(
///     tableName: "Users",
///     keySchema: [KeySchemaElement(attributeName: "id", keyType: .hash)],
///     attributeDefinitions: [AttributeDefinition(attributeName: "id", attributeType: .s)],
///     billingMode: .payPerRequest))
/// _ = try await db.putItem(PutItemInput(tableName: "Users", item: ["id": "u1", "name": "Ada"]))
/// let user = try await db.getItem(GetItemInput(tableName: "Users", key: ["id": "u1"])).item
/// ```
///
/// A `Database` is `Sendable`: share one instance between tasks. Every operation validates its input and
/// throws ``EddyError`` with DynamoDB's error type and message; a failed operation changes nothing.
///
/// Durability: an operation that returns has committed its change to RocksDB's write-ahead log; see
/// ``Configuration/durability`` for what survives which crash.
public final class Database: Sendable {
    /// How a database behaves; fixed when it is opened.
    public struct Configuration: Sendable {
        /// `.processCrashSafe` (default): an acknowledged write survives `kill -9` of the process, not a
        /// power loss. `.machineCrashSafe`: the log is fsynced before acknowledging, so the write also
        /// survives a machine crash, at the cost of one fsync per commit group.
        public var durability: Durability
        /// The AWS Region named in ARNs.
        public var region: String
        /// The AWS account id named in ARNs.
        public var accountId: String

        public init(durability: Durability = .processCrashSafe, region: String = "us-east-1", accountId: String = "000000000000") {
            self.durability = durability
            self.region = region
            self.accountId = accountId
        }
    }

    /// What this database was opened with.
    public let configuration: Configuration
    let store: any OrderedKeyValueStore
    let catalog: Catalog
    let locks = ItemLocks()
    let committer: Committer

    /// The lock that serializes catalog changes; no item key is empty, so it collides with none.
    static let catalogLockKey = ItemKey(bytes: [])

    /// Opens the database in the directory `path`, creating it if it does not exist.
    ///
    /// - Throws: ``EddyError/internalServerError(_:)`` with RocksDB's message if the directory cannot be
    ///   opened (for instance, another process holds it open).
    public init(path: String, configuration: Configuration = Configuration()) throws(EddyError) {
        do {
            store = try RocksDBStore(path: path)
        } catch {
            throw .internalServerError("Cannot open the database at \(path): \(error.message)")
        }
        self.configuration = configuration
        catalog = try Catalog(store: store)
        committer = Committer(store: store, durability: configuration.durability, liveTables: catalog.tableIds)
    }

    deinit {
        committer.shutdown()
    }

    /// The table named `name`, or ResourceNotFoundException.
    func resolveTable(_ name: String) throws(EddyError) -> ResolvedTable {
        try TableValidation.validateTableName(name)
        guard let table = catalog.table(named: name) else {
            throw .resourceNotFound("Requested resource not found")
        }
        return table
    }

    func arn(ofTable name: String) -> String {
        "arn:aws:dynamodb:\(configuration.region):\(configuration.accountId):table/\(name)"
    }
}

/// How far a write reaches before it is acknowledged; see ``Database/Configuration/durability``.
public typealias Durability = EddyStorage.Durability
