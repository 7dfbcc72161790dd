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
        let broker = KafkaBroker(port: try freePort(), dataDirectory: directory)
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
            try Self.run("noida-db", ["up", "--only", "kafka", "--kafka-port", String(port), "--data-dir", directory])
        }
        guard started.status == 0 else { throw BrokerFailed(output: started.output) }
    }

    /// Stops the broker.
    func stop() async throws {
        let directory = dataDirectory
        _ = try await offThePool { try Self.run("noida-db", ["down", "--data-dir", directory]) }
    }

    /// Creates topic `name` with `partitions` partitions, with EddyKafka's admin client.
    func createTopic(_ name: String, partitions: Int) async throws {
        let admin = try KafkaAdmin(configuration: ["bootstrap.servers": bootstrapServers])
        defer { admin.close() }
        try await admin.createTopic(name, partitions: partitions)
    }

    /// Runs `kcat` with `arguments` against this broker and returns its standard output.
    func kcat(_ arguments: [String]) throws -> String {
        let result = try Self.run("kcat", ["-b", bootstrapServers] + arguments)
        guard result.status == 0 else { throw BrokerFailed(output: result.output) }
        return result.output
    }

    struct BrokerFailed: Error {
        var output: String
    }

    /// A TCP port nothing listens on now.
    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw BrokerFailed(output: "no free port: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Runs `command` (found on PATH) to its end, with a 120-second limit; its exit status and output.
    private static func run(_ command: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [command] + arguments
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("eddy-kafka-out-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: output.path, contents: nil) else {
            throw BrokerFailed(output: "cannot create \(output.path)")
        }
        defer { try? FileManager.default.removeItem(at: output) }
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while process.isRunning, Date() < deadline { usleep(10_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try handle.close()
        return (process.terminationStatus, try String(contentsOf: output, encoding: .utf8))
    }
}
