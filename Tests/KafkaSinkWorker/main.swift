// The child process of the Kafka sink crash test (Tests/EddyKafkaTests/KafkaCrashTests.swift): writes to a
// table with a stream from several tasks while a Kafka trigger mapping sends the stream to a topic, until it
// is killed with SIGKILL.
//
//   KafkaSinkWorker DATA_DIR ROUND BOOTSTRAP_SERVERS TOPIC
//
// Table Source (key `pk`) is written by ChildProcessSupport's `writeWithoutEnd` (items `w<writer>-<n>` put,
// updated and deleted with growing versions). Mapping `to-kafka` (ParallelizationFactor 2, BatchSize 10)
// sends each change to TOPIC. Stdout gets `ACK <operation> <pk> <version>` after each write returns, with one
// write(2), after `OPENING` and `OPENED` around the opening of the database; an error is reported as
// `ERROR ...` and ends it with status 1.
import ChildProcessSupport
import Eddy
import EddyKafka
import Foundation

let (arguments, round) = childArguments(usage: "KafkaSinkWorker DATA_DIR ROUND BOOTSTRAP_SERVERS TOPIC")

do {
    let db = try openAnnounced(path: arguments[1])
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

    try await writeWithoutEnd(db, table: "Source", round: round, itemsPerWriter: 5, maximumPauseMilliseconds: 2, report: writeLine)
} catch {
    writeLine("ERROR \(error)")
    exit(1)
}
