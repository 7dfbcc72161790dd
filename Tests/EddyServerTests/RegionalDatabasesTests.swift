import Eddy
import Foundation
import Testing

@testable import EddyServer

/// RegionalDatabases: each Region's tables in a database of its own, its ARNs naming it; the home Region's
/// database is the one given; names a directory cannot safely take are refused. The server's pytest suite
/// (test_regions.py) shows the same through boto3 and the AWS CLI.
@Suite struct RegionalDatabasesTests {
    @Test func eachRegionHasItsOwnTablesAndArns() async throws {
        try await withServer { server in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("eddy-regions-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let regions = RegionalDatabases(home: server.database, directory: directory)
            let home = try regions.database(for: "us-east-1")
            #expect(home === server.database)
            let west = try regions.database(for: "us-west-2")
            let again = try regions.database(for: "us-west-2")
            #expect(again === west)
            #expect(west.configuration.region == "us-west-2")
            #expect(west.configuration.accountId == server.database.configuration.accountId)

            let created = try await west.createTable(CreateTableInput(
                tableName: "Orders", keySchema: [KeySchemaElement(attributeName: "id", keyType: .hash)],
                attributeDefinitions: [AttributeDefinition(attributeName: "id", attributeType: .s)], billingMode: .payPerRequest))
            #expect(created.tableArn == "arn:aws:dynamodb:us-west-2:000000000000:table/Orders")
            #expect(try await west.listTables(ListTablesInput()).tableNames == ["Orders"])
            #expect(try await server.database.listTables(ListTablesInput()).tableNames == [])
            #expect(regions.opened.map(\.configuration.region) == ["us-east-1", "us-west-2"])
            #expect(FileManager.default.fileExists(atPath: "\(directory)/us-west-2"))
        }
    }

    @Test(arguments: ["", "..", "us/west", "us.west", "eu west", String(repeating: "a", count: 65)])
    func aNameNoDirectoryCanSafelyTakeIsRefused(region: String) async throws {
        #expect(!RegionalDatabases.isRegionName(region))
        try await withServer { server in
            let regions = RegionalDatabases(home: server.database, directory: "/nonexistent/eddy-regions")
            #expect(throws: EddyError.self) { try regions.database(for: region) }
        }
    }

    @Test func sharingAnswersEveryRegionFromHome() async throws {
        try await withServer { server in
            let regions = RegionalDatabases(sharing: server.database)
            let answering = try regions.database(for: "ap-south-1")
            #expect(answering === server.database)
            #expect(regions.opened.count == 1)
        }
    }
}
