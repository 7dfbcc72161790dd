import Eddy
import Foundation
import ServiceLifecycle
import Synchronization

/// The databases a server answers from, one per AWS Region: as in DynamoDB (and DynamoDB Local without
/// `-sharedDb`), the tables of one Region are not seen from another, and ARNs name the Region of the request.
///
/// The home Region's database is the one the server was given; it also runs the trigger mappings, functions and
/// admin API. Another Region's database is opened, with the home database's settings and that Region's name, in
/// a directory of its own under ``directory`` when a request signed for that Region first arrives, and stays open
/// while the server runs:
///
/// ```swift
/// let home = try Database(path: "/var/lib/eddy")  // us-east-1
/// let regions = RegionalDatabases(home: home, directory: "/var/lib/eddy/regions")
/// let west = try regions.database(for: "us-west-2")  // /var/lib/eddy/regions/us-west-2
/// ```
///
/// As a swift-service-lifecycle `Service`, it closes every database it holds on graceful shutdown
/// (``close()``): put it before the services that use the databases in a `ServiceGroup`, which shuts down in
/// reverse order.
public final class RegionalDatabases: Service, Sendable {
    /// The database of the home Region (its ``Database/Configuration-swift.struct/region``).
    public let home: Database
    /// Where other Regions' databases live, one directory per Region; `nil` when every Region shares ``home``.
    public let directory: String?
    /// Whether other Regions' databases are opened in memory (``Database/init(inMemory:)``) rather than in
    /// ``directory``.
    private let othersInMemory: Bool
    /// The other Regions' databases by Region, or nil once they are closed.
    private let others = Mutex<[String: Database]?>([:])

    /// Regions kept apart: a Region other than `home`'s has its database in `directory/<region>`.
    public init(home: Database, directory: String) {
        self.home = home
        self.directory = directory
        othersInMemory = false
    }

    /// Regions kept apart, every one in memory: a Region other than `home`'s gets a database of its own opened
    /// with ``Database/init(inMemory:)``.
    public init(inMemoryHome home: Database) {
        self.home = home
        directory = nil
        othersInMemory = true
    }

    /// Every Region shares `home`, whatever Region a request is signed for.
    public init(sharing home: Database) {
        self.home = home
        directory = nil
        othersInMemory = false
    }

    /// The longest Region name a request may be signed for: AWS's are under 20 characters.
    public static let maximumRegionLength = 64

    /// The database of `region`, opened (and created) on first use.
    ///
    /// - Throws: ``EddyError/validation(_:)`` if `region` is not a name a directory can safely take (letters,
    ///   digits, `-` and `_`, at most ``maximumRegionLength`` characters), or the error opening its database.
    public func database(for region: String) throws(EddyError) -> Database {
        guard directory != nil || othersInMemory, region != home.configuration.region else { return home }
        guard Self.isRegionName(region) else {
            throw .validation("'\(region)' is not a Region name: letters, digits, '-' and '_', at most \(Self.maximumRegionLength) characters")
        }
        return try others.withLock { (opened: inout [String: Database]?) throws(EddyError) -> Database in
            guard let databases = opened else { throw .internalServerError("The database is closed") }
            if let database = databases[region] { return database }
            var configuration = home.configuration
            configuration.region = region
            let database: Database
            if let directory {
                do {
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                } catch {
                    throw .internalServerError("Cannot create \(directory) for the databases of other Regions: \(error.localizedDescription)")
                }
                database = try Database(path: "\(directory)/\(region)", configuration: configuration)
            } else {
                database = try Database(inMemory: configuration)
            }
            opened![region] = database
            return database
        }
    }

    /// The databases open now: the home Region's first, then the others by Region.
    public var opened: [Database] {
        [home] + others.withLock { ($0 ?? [:]).sorted { $0.key < $1.key }.map(\.value) }
    }

    /// Closes every Region's database (``Database/close()``), the home Region's last; a request for a Region not
    /// opened yet then fails as requests to a closed database do. Calling it again is harmless.
    public func close() async {
        let databases = others.withLock { opened in
            defer { opened = nil }
            return (opened ?? [:]).sorted { $0.key < $1.key }.map(\.value)
        }
        for database in databases {
            await database.close()
        }
        await home.close()
    }

    /// Runs until a graceful shutdown (or the cancellation of the task), then closes every database.
    public func run() async {
        try? await gracefulShutdown()
        await close()
    }

    /// Whether `name` can name a Region's directory.
    static func isRegionName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= maximumRegionLength
            && name.utf8.allSatisfy { byte in
                (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
            }
    }
}
