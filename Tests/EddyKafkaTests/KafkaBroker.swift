import ChildProcessSupport
import EddyKafka
import Foundation

/// A Kafka broker for the tests: noida-db (`pip install noida-db==0.2.3`, installed by
/// `scripts/install-deps.sh`) on 127.0.0.1, on a free port, with its data in a temporary directory.
struct KafkaBroker {
    let port: Int
    let dataDirectory: String
    var bootstrapServers: String { "127.0.0.1:\(port)" }

    /// Starts a broker, runs `body` with it, and stops it whatever `body` does.
    static func with<Result: Sendable>(_ body: (KafkaBroker) async throws -> Result) async throws -> Result {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("eddy-kafka-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let broker = KafkaBroker(port: try freeLoopbackPort(), dataDirectory: directory)
        let outcome: Swift.Result<Result, any Error>
        do {
            try await broker.start()
            outcome = .success(try await body(broker))
        } catch {
            outcome = .failure(error)
        }
        try? await broker.stop()
        try? FileManager.default.removeItem(atPath: directory)
        return try outcome.get()
    }

    /// Starts the broker (again, after ``stop()``: its data is kept).
    func start() async throws {
        let (port, directory) = (port, dataDirectory)
        let started = try await offThePool {
            try runCommand("noida-db", ["up", "--only", "kafka", "--kafka-port", String(port), "--data-dir", directory])
        }
        guard started.status == 0 else { throw BrokerFailed(output: started.output) }
    }

    /// Stops the broker.
    func stop() async throws {
        let directory = dataDirectory
        _ = try await offThePool { try runCommand("noida-db", ["down", "--data-dir", directory]) }
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
        guard result.status == 0 else { throw BrokerFailed(output: result.output) }
        return result.output
    }

    struct BrokerFailed: Error {
        var output: String
    }
}
