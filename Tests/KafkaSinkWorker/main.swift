// The child process of the Kafka sink crash test (Tests/EddyKafkaTests/KafkaCrashTests.swift): writes to a
// table with a stream from several tasks while a Kafka trigger mapping sends the stream to a topic, until it
// is killed with SIGKILL.
//
//   KafkaSinkWorker DATA_DIR ROUND BOOTSTRAP_SERVERS TOPIC
//
// Table Source (key `pk`) holds items `w<writer>-<n>`, each written by one task only, with a `version` that
// grows with every write of the item, across rounds too (ROUND × 1,000,000 + the task's write count): items
// are put, updated and deleted. Mapping `to-kafka` (ParallelizationFactor 2, BatchSize 10) sends each change
// to TOPIC. Stdout gets `ACK <operation> <pk> <version>` after each write returns, with one write(2).
import Eddy
import EddyKafka
import Foundation

let arguments = CommandLine.arguments
guard arguments.count == 5, let round = Int(arguments[2]) else {
    FileHandle.standardError.write(Data("usage: KafkaSinkWorker DATA_DIR ROUND BOOTSTRAP_SERVERS TOPIC\n".utf8))
    exit(2)
}

/// Writes one line to stdout with one write(2).
@Sendable func report(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

do {
    let db = try Database(path: arguments[1])
    do {
        try await db.createTable(CreateTableInput(
            tableName: "Source",
            keySchema: [KeySchemaElement(attributeName: "pk", keyType: .hash)],
            attributeDefinitions: [AttributeDefinition(attributeName: "pk", attributeType: .s)],
            billingMode: .payPerRequest,
            streamSpecification: StreamSpecification(streamEnabled: true, streamViewType: .newAndOldImages)))
    } catch {
        guard case .resourceInUse = error else { throw error }
    }
    guard let streamArn = try await db.describeTable(tableName: "Source").latestStreamArn else {
        throw EddyError.validation("Source has no stream")
    }
    let sink = try await KafkaSink(configuration: ["bootstrap.servers": arguments[3]], topic: arguments[4])
    let triggers = TriggerRuntime(database: db)
    var settings = TriggerMappingConfiguration(eventSourceArn: streamArn, startingPosition: .trimHorizon)
    settings.parallelizationFactor = 2
    settings.batchSize = 10
    try await triggers.registerKafka(name: "to-kafka", configuration: settings, sink: sink)
    let running = Task { await triggers.run() }
    defer { running.cancel() }

    try await withThrowingTaskGroup(of: Void.self) { group in
        for writer in 0..<3 {
            group.addTask {
                var random = SystemRandomNumberGenerator()
                var writes = 0
                while true {
                    writes += 1
                    let pk = "w\(writer)-\(Int.random(in: 0..<5, using: &random))"
                    let version = round * 1_000_000 + writes
                    let operation: String
                    switch Int.random(in: 0..<10, using: &random) {
                    case 0..<5:
                        operation = "put"
                        try await db.putItem(PutItemInput(tableName: "Source", item: ["pk": .s(pk), "version": .n(DecimalNumber(version))]))
                    case 5..<9:
                        operation = "update"
                        try await db.updateItem(UpdateItemInput(
                            tableName: "Source", key: ["pk": .s(pk)], updateExpression: "SET #version = :version",
                            expressionAttributeNames: ["#version": "version"], expressionAttributeValues: [":version": .n(DecimalNumber(version))]))
                    default:
                        operation = "delete"
                        try await db.deleteItem(DeleteItemInput(tableName: "Source", key: ["pk": .s(pk)]))
                    }
                    report("ACK \(operation) \(pk) \(version)")
                    try await Task.sleep(for: .milliseconds(Int.random(in: 0...2, using: &random)))
                }
            }
        }
        try await group.waitForAll()
    }
} catch {
    report("ERROR \(error)")
    exit(1)
}
