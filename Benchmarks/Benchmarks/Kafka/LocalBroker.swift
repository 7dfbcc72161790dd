import BenchmarkSupport
import EddyKafka
import Foundation

// The Kafka broker of the benchmarks: noida-db (installed by scripts/install-deps.sh), started in the
// background on a free loopback port with its data in a temporary directory, and always stopped.
//
// noida-db keeps every message in memory, snapshots all of it to one JSON file now and then, and writes it all
// again when it stops: it slows down as it fills, and stopping a broker that holds a million messages takes
// tens of seconds. So each measurement gets a broker of its own, empty when the measurement starts, and
// `stop()` first empties it (`noida-db reset kafka`), then stops it (`noida-db down`), then waits for its
// process to end. A watchdog shell stops the broker if the benchmark process dies first, for instance on a
// `fatalError`.

/// A noida-db Kafka broker on 127.0.0.1.
final class LocalBroker: @unchecked Sendable {
    let port: Int
    let dataDirectory: String
    var bootstrapServers: String { "127.0.0.1:\(port)" }
    /// The broker's process id, from noida-db's control file.
    private var brokerPid: Int32?
    private var watchdog: Process?
    private var stopped = false

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Starts a broker and waits until it answers.
    static func start() async throws -> LocalBroker {
        try await onOwnThreadThrowing { try LocalBroker() }
    }

    /// Blocks: starts the broker and its watchdog.
    private init() throws {
        dataDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("eddy-bench-kafka-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        port = try freeLoopbackPort()
        let started = try runCommand(
            "noida-db", ["up", "--only", "kafka", "--kafka-port", String(port), "--data-dir", dataDirectory])
        guard started.status == 0 else {
            try? FileManager.default.removeItem(atPath: dataDirectory)
            throw Failure(description: "noida-db up failed (\(started.status)): \(started.output)")
        }
        brokerPid = Self.controlPid(dataDirectory)
        watchdog = try? Self.startWatchdog(dataDirectory)
        do {
            try waitUntilListening(timeout: 30)
        } catch {
            stopBlocking()
            throw error
        }
    }

    /// Runs `body` with a new broker, stopped afterwards whatever happens.
    static func with<Value>(_ body: (LocalBroker) async throws -> Value) async throws -> Value {
        let broker = try await start()
        do {
            let value = try await body(broker)
            await broker.stop()
            return value
        } catch {
            await broker.stop()
            throw error
        }
    }

    /// Creates `topic` with ``topicPartitions`` partitions.
    func createTopic(_ topic: String) async throws {
        let admin = try KafkaAdmin(configuration: ["bootstrap.servers": bootstrapServers])
        defer { admin.close() }
        try await admin.createTopic(topic, partitions: topicPartitions)
    }

    /// Stops the broker (emptied first, so that it does not save its messages) and deletes its data.
    func stop() async {
        await onOwnThread { self.stopBlocking() }
    }

    private func stopBlocking() {
        guard !stopped else { return }
        stopped = true
        _ = try? runCommand("noida-db", ["reset", "kafka", "--yes", "--data-dir", dataDirectory])
        _ = try? runCommand("noida-db", ["down", "--data-dir", dataDirectory])
        if let brokerPid {
            let deadline = Date().addingTimeInterval(120)
            while kill(brokerPid, 0) == 0, Date() < deadline { usleep(20_000) }
        }
        if let watchdog, watchdog.isRunning {
            watchdog.terminate()
            // Polled with a time limit, as in `run(_:_:)`: no thread waits on Foundation's run loop.
            let deadline = Date().addingTimeInterval(10)
            while watchdog.isRunning, Date() < deadline { usleep(10_000) }
        }
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }

    /// Waits until something accepts TCP connections on the broker's port.
    private func waitUntilListening(timeout: TimeInterval) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if Self.connects(port) { return }
            usleep(50_000)
        }
        throw Failure(description: "the noida-db broker did not listen on port \(port) within \(timeout) s")
    }

    /// The `pid` of noida-db's control file in `directory`.
    private static func controlPid(_ directory: String) -> Int32? {
        guard let data = FileManager.default.contents(atPath: directory + "/noida.control.json"),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let pid = object["pid"] as? Int
        else { return nil }
        return Int32(pid)
    }

    /// A shell that, once this process has ended, empties and stops the broker of `directory` and deletes the
    /// directory. Terminated by `stopBlocking()` once the broker is stopped. (Foundation starts it in a
    /// process group of its own, so a Ctrl-C in the terminal does not reach it.)
    private static func startWatchdog(_ directory: String) throws -> Process {
        let script = """
            while kill -0 "$1" 2>/dev/null; do sleep 1; done
            noida-db reset kafka --yes --data-dir "$2" >/dev/null 2>&1
            noida-db down --data-dir "$2" >/dev/null 2>&1
            sleep 5
            rm -rf "$2"
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script, "eddy-bench-kafka-watchdog", String(getpid()), directory]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Whether a TCP connection to 127.0.0.1:`port` succeeds.
    private static func connects(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}

/// Runs `body`, which blocks, on a thread of its own, so that no thread of Swift's cooperative pool (two on this
/// machine, one of them held by the benchmark runner) waits on it.
func onOwnThreadThrowing<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            continuation.resume(with: Result { try body() })
        }
        thread.stackSize = 8 << 20
        thread.start()
    }
}

/// ``onOwnThreadThrowing(_:)`` for a body that does not throw.
func onOwnThread<Value: Sendable>(_ body: @escaping @Sendable () -> Value) async -> Value {
    await withCheckedContinuation { continuation in
        let thread = Thread {
            continuation.resume(returning: body())
        }
        thread.stackSize = 8 << 20
        thread.start()
    }
}
