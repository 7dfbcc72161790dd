import ChildProcessSupport
import Foundation
import Testing

@testable import Eddy

/// `eddy stream tail`, run as its own process on a data directory written here.
@Suite(.timeLimit(.minutes(5))) struct StreamTailCommandTests {
    @Test func tailPrintsEachRecordAsAJSONLine() async throws {
        try await withTemporaryDirectory { path in
            let directory = path + "/db"
            do {
                let db = try Database(path: directory)
                try await createStreamTable(db, "Users")
                try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "u1", "name": "Ada"]))
                try await db.updateItem(UpdateItemInput(
                    tableName: "Users", key: ["pk": "u1"], updateExpression: "SET #n = :n", expressionAttributeNames: ["#n": "name"], expressionAttributeValues: [":n": "Grace"]))
                try await db.deleteItem(DeleteItemInput(tableName: "Users", key: ["pk": "u1"]))
            }
            let output = try await offThePool { try run(["stream", "tail", "Users", "--data-dir", directory, "--no-follow"]) }
            let records = try output.split(separator: "\n").map { try JSONDecoder().decode(StreamRecord.self, from: Data($0.utf8)) }
            #expect(records.map(\.eventName) == [.insert, .modify, .remove])
            #expect(records.map(\.dynamodb.newImage?["name"]) == [.s("Ada"), .s("Grace"), nil])
            let latest = try await offThePool { try run(["stream", "tail", "Users", "--data-dir", directory, "--no-follow", "--from", "latest"]) }
            #expect(latest.isEmpty)
        }
    }

    /// Runs the `eddy` executable built next to the tests and returns its standard output.
    private func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = try childExecutableURL("eddy")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return String(decoding: data, as: UTF8.self)
    }
}
