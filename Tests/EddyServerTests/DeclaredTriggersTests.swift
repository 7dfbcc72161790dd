import ChildProcessSupport
import Foundation
import Testing

@testable import Eddy
@testable import EddyServer

/// DeclaredTriggers in one process: a derivative mapping added, refused additions, the mapping registered again
/// by a second runtime over the same database (a restart), and removed. The server's pytest suite does the same
/// over HTTP, across real restarts, with a Kafka sink too.
@Suite(.timeLimit(.minutes(5))) struct DeclaredTriggersTests {
    static let copies = """
        {"Name":"copies","TableName":"Orders","BatchSize":10,"Derivative":{"TargetTable":"Copies","Copy":{}}}
        """

    @Test func anAddedMappingRunsComesBackAfterARestartAndIsRemoved() async throws {
        try await withServer { server in
            let db = server.database
            try await createTables(db)
            let trigger = try JSONDecoder().decode(DeclaredTrigger.self, from: Data(Self.copies.utf8))
            try await withRunningRuntime(db) { declared in
                let added = try await declared.add(trigger)
                #expect(added.kind == .derivative && added.origin == .added && added.declaration == trigger)
                #expect(added.tableName == "Orders" && added.settings.batchSize == 10)
                try await put(db, "o1")
                try await waitUntil("o1 copied") { try await copied(db) == ["o1"] }
                #expect(try declared.list().map(\.name) == ["copies"])
            }
            try await withRunningRuntime(db) { declared in
                #expect(try await declared.restore() == 1)
                #expect(try declared.describe("copies").uuid == (try declared.list().first?.uuid))
                try await put(db, "o2")
                try await waitUntil("o2 copied") { try await copied(db) == ["o1", "o2"] }
                let removed = try await declared.remove("copies")
                #expect(removed.state == .deleting)
                #expect(try declared.list().isEmpty)
            }
            try await withRunningRuntime(db) { declared in
                let restored = try await declared.restore()
                #expect(restored == 0)
            }
        }
    }

    @Test func refusedAdditionsCreateNothing() async throws {
        try await withServer { server in
            let db = server.database
            try await createTables(db)
            try await withRunningRuntime(db) { declared in
                try await declared.add(try JSONDecoder().decode(DeclaredTrigger.self, from: Data(Self.copies.utf8)))
                let refused: [(json: String, type: String, words: String)] = [
                    (Self.copies, "ResourceInUseException", "exists already"),
                    (#"{"Name":"f","TableName":"Orders","Function":"mailer"}"#, "ValidationException", "CreateEventSourceMapping"),
                    (#"{"Name":"n","TableName":"Nope","Derivative":{"TargetTable":"Copies","Copy":{}}}"#, "ResourceNotFoundException", "Nope"),
                    (#"{"Name":"t","TableName":"Orders","Derivative":{"TargetTable":"Nope","Copy":{}}}"#, "ValidationException", "Nope"),
                    (#"{"Name":"s","TableName":"Copies","Derivative":{"TargetTable":"Orders","Copy":{}}}"#, "ValidationException", "no stream"),
                ]
                for (json, type, words) in refused {
                    let trigger = try JSONDecoder().decode(DeclaredTrigger.self, from: Data(json.utf8))
                    let error = await #expect(throws: EddyError.self) { try await declared.add(trigger) }
                    #expect(error?.errorType == type, "\(json)")
                    #expect(error?.message.contains(words) == true, "\(json): \(error?.message ?? "")")
                }
                #expect(try declared.list().map(\.name) == ["copies"])
            }
        }
    }

    @Test(arguments: [
        copies,
        #"{"Name":"p","TableName":"Orders","StartingPosition":"LATEST","Derivative":{"Project":["id","note"],"TargetTable":"Notes"}}"#,
        #"{"Name":"c","TableName":"Orders","Derivative":{"Count":{"GroupBy":{"customer":"customer"},"Into":"orders"},"TargetTable":"Counts"}}"#,
        #"{"Name":"s","TableName":"Orders","Derivative":{"Sum":{"GroupBy":{"c":"customer"},"Into":"spent","Of":"total"},"TargetTable":"Sums"}}"#,
        #"{"Name":"k","TableName":"Orders","FilterCriteria":{"Filters":[{"Pattern":"{\"eventName\":[\"INSERT\"]}"}]},"Kafka":{"BootstrapServers":"127.0.0.1:9092","CreateTopicPartitions":3,"Properties":{"linger.ms":"5"},"Topic":"orders"},"MaximumRetryAttempts":3}"#,
    ])
    func aDeclarationKeepsItsMeaningThroughJSON(_ json: String) throws {
        let trigger = try JSONDecoder().decode(DeclaredTrigger.self, from: Data(json.utf8))
        let stored = StoredDeclaration(origin: .added, trigger: trigger)
        let again = try JSONDecoder().decode(StoredDeclaration.self, from: Data(stored.json.utf8))
        #expect(again.trigger == trigger && again.origin == .added)
        #expect(again.json == stored.json)
    }

    private func createTables(_ db: Database) async throws {
        for (name, stream) in [("Orders", true), ("Copies", false)] {
            try await db.createTable(CreateTableInput(
                tableName: name, keySchema: [KeySchemaElement(attributeName: "id", keyType: .hash)],
                attributeDefinitions: [AttributeDefinition(attributeName: "id", attributeType: .s)], billingMode: .payPerRequest,
                streamSpecification: stream ? StreamSpecification(streamEnabled: true, streamViewType: .newAndOldImages) : nil))
        }
    }

    private func put(_ db: Database, _ id: String) async throws {
        try await db.putItem(PutItemInput(tableName: "Orders", item: ["id": .s(id)]))
    }

    private func copied(_ db: Database) async throws -> [String] {
        (try await db.scan(ScanInput(tableName: "Copies")).items ?? []).compactMap { item in
            if case .s(let id)? = item["id"] { id } else { nil }
        }.sorted()
    }

    /// Runs `body` with declared mappings over `db` while their runtime (and sinks) run; stops them after.
    private func withRunningRuntime(_ db: Database, _ body: (DeclaredTriggers) async throws -> Void) async throws {
        let runtime = TriggerRuntime(database: db)
        let declared = DeclaredTriggers(runtime: runtime)
        let running = Task {
            await withDiscardingTaskGroup { group in
                group.addTask { await runtime.run() }
                group.addTask { await declared.run() }
            }
        }
        do {
            try await body(declared)
        } catch {
            running.cancel()
            await running.value
            throw error
        }
        running.cancel()
        await running.value
    }
}
