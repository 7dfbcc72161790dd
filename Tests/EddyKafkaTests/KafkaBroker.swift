import ChildProcessSupport
import EddyKafka
import Foundation

/// A Kafka broker for the tests: noida-db's Kafka service (``NoidaService``).
struct KafkaBroker {
    let noida: NoidaService
    var bootstrapServers: String { "127.0.0.1:\(noida.port)" }

    /// Starts a broker, runs `body` with it, and stops it whatever `body` does.
    static func with<Result: Sendable>(_ body: (KafkaBroker) async throws -> Result) async throws -> Result {
        try await NoidaService.with("kafka") { try await body(KafkaBroker(noida: $0)) }
    }

    /// Starts the broker (again, after ``stop()``: its data is kept).
    func start() async throws {
        try await noida.up()
    }

    /// Stops the broker.
    func stop() async throws {
        try await noida.down()
    }

    /// Creates topic `name` with `partitions` partitions, with EddyKafka's admin client.
    func createTopic(_ name: String, partitions: Int) async throws {
        let admin = try KafkaAdmin(configuration: ["bootstrap.servers": bootstrapServers])
        defer { admin.close() }
        try await admin.createTopic(name, partitions: partitions)
    }

    /// Runs `kcat` with `arguments` against this broker and returns its standard output.
    func kcat(_ arguments: [String]) throws -> String {
        let result = try runCommand("kcat", ["-b", bootstrapServers] + arguments)
        guard result.status == 0 else { throw CommandFailed(output: result.output) }
        return result.output
    }
}
