import Eddy
import Foundation
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
public final class RegionalDatabases: Sendable {
    /// The database of the home Region (its ``Database/Configuration-swift.struct/region``).
    public let home: Database
    /// Where other Regions' databases live, one directory per Region; `nil` when every Region shares ``home``.
    public let directory: String?
    private let others = Mutex<[String: Database]>([:])

    /// Regions kept apart: a Region other than `home`'s has its database in `directory/<region>`.
    public init(home: Database, directory: String) {
        self.home = home
        self.directory = directory
    }

    /// Every Region shares `home`, whatever Region a request is signed for.
    public init(sharing home: Database) {
        self.home = home
        directory = nil
    }

    /// The longest Region name a request may be signed for: AWS's are under 20 characters.
    public static let maximumRegionLength = 64

    /// The database of `region`, opened (and created) on first use.
    ///
    /// - Throws: ``EddyError/validation(_:)`` if `region` is not a name a directory can safely take (letters,
    ///   digits, `-` and `_`, at most ``maximumRegionLength`` characters), or the error opening its database.
    public func database(for region: String) throws(EddyError) -> Database {
        guard let directory, region != home.configuration.region else { return home }
        guard Self.isRegionName(region) else {
            throw .validation("'\(region)' is not a Region name: letters, digits, '-' and '_', at most \(Self.maximumRegionLength) characters")
        }
        return try others.withLock { (opened: inout [String: Database]) throws(EddyError) -> Database in
            if let database = opened[region] { return database }
            var configuration = home.configuration
            configuration.region = region
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw .internalServerError("Cannot create \(directory) for the databases of other Regions: \(error.localizedDescription)")
            }
            let database = try Database(path: "\(directory)/\(region)", configuration: configuration)
            opened[region] = database
            return database
        }
    }

    /// The databases open now: the home Region's first, then the others by Region.
    public var opened: [Database] {
        [home] + others.withLock { $0.sorted { $0.key < $1.key }.map(\.value) }
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
