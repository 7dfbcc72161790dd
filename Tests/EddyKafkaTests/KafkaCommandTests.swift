import ChildProcessSupport
import EddyKafka
import Foundation
import Testing

@testable import Eddy

/// `eddy triggers add-kafka`, run as its own process on a data directory written here, against a real broker
/// read back with kcat.
@Suite(.serialized, .timeLimit(.minutes(5))) struct KafkaCommandTests {
    @Test func theCommandSendsTheTablesChangesAndResumesAtItsCheckpoint() async throws {
        try await KafkaBroker.with { broker in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("eddy-cli-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: directory) }
            try await writeUsers(directory, 0..<20)
            let arguments = [
                "triggers", "add-kafka", "Users", "--topic", "users", "--bootstrap-servers", broker.bootstrapServers,
                "--create-topic-partitions", "2", "--batch-size", "4", "--data-dir", directory,
            ]
            let first = try Command(arguments)
            #expect(try await waitUntil { try await sequenceNumbers(broker).count >= 20 })
            let stopped = try await first.terminate()
            #expect(stopped.status == 0, "\(stopped.errors)")
            #expect(stopped.output.contains("Sending the changes of table Users to Kafka topic users"))
            #expect(stopped.output.contains("Stopped"))

            // Later changes, then the command again: it carries on from its checkpoint, sending nothing twice.
            try await writeUsers(directory, 20..<25)
            let second = try Command(arguments)
            #expect(try await waitUntil { try await sequenceNumbers(broker).count >= 25 })
            #expect(try await second.terminate().status == 0)
            // The command stopped with its checkpoint past every change: it had nothing more to send, and sent
            // each change once.
            #expect(try TriggerRuntime(database: Database(path: directory)).isCaughtUp("Users-to-users"))
            let sent = try await sequenceNumbers(broker)
            #expect(sent.count == 25 && Set(sent).count == 25)
        }
    }

    @Test func badConfigurationIsAClearErrorNotAHang() async throws {
        try await KafkaBroker.with { broker in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("eddy-cli-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: directory) }
            try await writeUsers(directory, 0..<1)
            let cases: [(arguments: [String], error: String)] = [
                (["--bootstrap-servers", "127.0.0.1:1", "--connect-timeout", "2"], "Kafka: No Kafka broker of bootstrap.servers \"127.0.0.1:1\" answered within 2.0 seconds"),
                (["--bootstrap-servers", broker.bootstrapServers], "Kafka: Topic \"absent\" does not exist on the Kafka cluster at \"\(broker.bootstrapServers)\""),
                (["--bootstrap-servers", broker.bootstrapServers, "--property", "no.such.property=1"], "Kafka: No such configuration property: \"no.such.property\""),
            ]
            for (arguments, error) in cases {
                let started = ContinuousClock.now
                let command = try Command(["triggers", "add-kafka", "Users", "--topic", "absent", "--data-dir", directory] + arguments)
                let ended = try await command.wait(atMost: .seconds(30))
                #expect(ended.status == 254, "\(arguments)")
                // librdkafka's own log lines come first; the command's error is the last line, as a server's
                // admin API would answer it.
                let lastLine = ended.errors.split(separator: "\n").last.map(String.init) ?? ""
                #expect(
                    lastLine.hasPrefix("An error occurred (ValidationException) when calling the AddTrigger operation: Trigger Users-to-absent: \(error)"),
                    "\(ended.errors)")
                #expect(ContinuousClock.now - started < .seconds(20))
            }
        }
    }

    /// `--format debezium --key primary-key --tombstones` send Debezium events keyed by the primary key as JSON,
    /// with a tombstone after the delete; a format the command does not know is refused, naming the choices.
    @Test func theFormatOptionsSendDebeziumEventsAndTombstones() async throws {
        try await KafkaBroker.with { broker in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("eddy-cli-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: directory) }
            try await writeUsers(directory, 0..<2)
            let db = try Database(path: directory)
            try await db.deleteItem(DeleteItemInput(tableName: "Users", key: ["pk": "u0"]))
            await db.close()
            let refused = try Command(["triggers", "add-kafka", "Users", "--topic", "users", "--bootstrap-servers", broker.bootstrapServers,
                                       "--format", "protobuf", "--data-dir", directory])
            let ended = try await refused.wait(atMost: .seconds(30))
            #expect(ended.status != 0)
            #expect(["'protobuf'", "--format", "'kinesis'", "'debezium'"].allSatisfy(ended.errors.contains), "\(ended.errors)")

            let command = try Command([
                "triggers", "add-kafka", "Users", "--topic", "users", "--bootstrap-servers", broker.bootstrapServers,
                "--create-topic-partitions", "2", "--format", "debezium", "--key", "primary-key", "--tombstones", "--data-dir", directory,
            ])
            var messages: [KcatMessage] = []
            #expect(try await waitUntil {
                let output = (try? await offThePool { try broker.kcat(["-C", "-t", "users", "-e", "-q", "-J"]) }) ?? ""
                messages = try output.split(separator: "\n").map { try JSONDecoder().decode(KcatMessage.self, from: Data($0.utf8)) }
                return messages.count >= 4
            })
            #expect(try await command.terminate().status == 0)
            let u0 = messages.filter { $0.key == #"{"pk":"u0"}"# }
            try #require(u0.count == 3)
            #expect(try u0.dropLast().map { try $0.event()["op"] as? String } == ["c", "d"])
            #expect(u0[2].payload == nil)
            let u1 = messages.filter { $0.key == #"{"pk":"u1"}"# }
            try #require(u1.count == 1)
            #expect(try DebeziumChangeEventTests.sameJSON(try #require(try u1[0].event()["after"]), ["pk": "u1", "n": 1]))
        }
    }

    /// Writes users `u<n>` for `numbers` into table Users (created with a stream if missing) of the database
    /// in `directory`, and closes it.
    private func writeUsers(_ directory: String, _ numbers: Range<Int>) async throws {
        let db = try Database(path: directory)
        if (try? await db.describeTable(tableName: "Users")) == nil {
            try await db.createTable(CreateTableInput(
                tableName: "Users", keySchema: [KeySchemaElement(attributeName: "pk", keyType: .hash)],
                attributeDefinitions: [AttributeDefinition(attributeName: "pk", attributeType: .s)], billingMode: .payPerRequest,
                streamSpecification: StreamSpecification(streamEnabled: true, streamViewType: .newAndOldImages)))
        }
        for number in numbers {
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": .s("u\(number)"), "n": .n(DecimalNumber(number))]))
        }
    }

    /// The sequence-number headers of topic `users`, one per message (empty while the topic does not exist).
    private func sequenceNumbers(_ broker: KafkaBroker) async throws -> [String] {
        let output = (try? await offThePool { try broker.kcat(["-C", "-t", "users", "-e", "-q", "-f", "%h\n"]) }) ?? ""
        return output.split(separator: "\n").compactMap { line in
            line.split(separator: ",").first { $0.hasPrefix(KafkaSinkHeader.sequenceNumber + "=") }.map(String.init)
        }
    }

    /// The `eddy` executable built with the tests, running with its output collected.
    private final class Command: @unchecked Sendable {
        private let process = Process()
        private let output = Pipe()
        private let errors = Pipe()

        init(_ arguments: [String]) throws {
            process.executableURL = try childExecutableURL("eddy")
            process.arguments = arguments
            process.standardOutput = output
            process.standardError = errors
            try process.run()
        }

        /// Sends SIGTERM and waits for the command to end.
        func terminate() async throws -> (status: Int32, output: String, errors: String) {
            kill(process.processIdentifier, SIGTERM)
            return try await wait(atMost: .seconds(30))
        }

        /// Waits for the command to end (killing it after `limit`): its exit status and output.
        func wait(atMost limit: Duration) async throws -> (status: Int32, output: String, errors: String) {
            let (process, output, errors) = (process, output, errors)
            return try await offThePool {
                // Read before waiting, so that a full pipe cannot stall the command.
                let readOutput = Thread.detachedRead(output)
                let readErrors = Thread.detachedRead(errors)
                let deadline = ContinuousClock.now + limit
                while process.isRunning, ContinuousClock.now < deadline { usleep(20_000) }
                if process.isRunning { process.terminate() }
                process.waitUntilExit()
                return (process.terminationStatus, readOutput(), readErrors())
            }
        }
    }
}

extension Thread {
    /// Starts reading `pipe` to its end on a thread of its own; the returned function waits for the text.
    fileprivate static func detachedRead(_ pipe: Pipe) -> @Sendable () -> String {
        let done = DispatchSemaphore(value: 0)
        let box = TextBox()
        Thread {
            box.text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            done.signal()
        }.start()
        return {
            done.wait()
            return box.text
        }
    }
}

/// Text written by one thread and read by another after a semaphore.
private final class TextBox: @unchecked Sendable {
    var text = ""
}
