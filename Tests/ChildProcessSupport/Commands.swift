import Foundation

/// A command that could not be run, or failed; its output says why.
public struct CommandFailed: Error, CustomStringConvertible {
    public var output: String

    public init(output: String) {
        self.output = output
    }

    public var description: String { "Command failed: \(output)" }
}

/// A TCP port of 127.0.0.1 nothing listens on now: for a service a test starts.
public func freeLoopbackPort() throws -> Int {
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
    guard bound else { throw CommandFailed(output: "no free port: errno \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Runs `command` (found on PATH) to its end, with a 120-second limit; its exit status and standard output
/// (its standard error is dropped). It blocks: call it through ``offThePool(_:)`` from async code.
public func runCommand(_ command: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [command] + arguments
    let output = FileManager.default.temporaryDirectory.appendingPathComponent("eddy-command-out-\(UUID().uuidString)")
    guard FileManager.default.createFile(atPath: output.path, contents: nil) else {
        throw CommandFailed(output: "cannot create \(output.path)")
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

/// A service of noida-db (`pip install noida-db==0.2.3`, installed by `scripts/install-deps.sh`) for the tests:
/// `kafka` or `elasticsearch`, alone on a noida-db server of its own on 127.0.0.1, on a free port, with its data
/// in a temporary directory.
public struct NoidaService: Sendable {
    /// The service's name for noida-db: `kafka`, `elasticsearch`.
    public let service: String
    public let port: Int
    public let dataDirectory: String

    /// Starts `service`, runs `body` with it, and stops it whatever `body` does.
    public static func with<Result: Sendable>(_ service: String, _ body: (NoidaService) async throws -> Result) async throws -> Result {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("eddy-noida-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let noida = NoidaService(service: service, port: try freeLoopbackPort(), dataDirectory: directory)
        let outcome: Swift.Result<Result, any Error>
        do {
            try await noida.up()
            outcome = .success(try await body(noida))
        } catch {
            outcome = .failure(error)
        }
        try? await noida.down()
        try? FileManager.default.removeItem(atPath: directory)
        return try outcome.get()
    }

    /// Starts the server and its service (again, after ``down()``: its data is kept).
    public func up() async throws {
        try await run(["up", "--only", service, "--\(service)-port", String(port)])
    }

    /// Stops the server.
    public func down() async throws {
        try await run(["down"])
    }

    /// Runs `noida-db` with `arguments` on this server's data directory, off the cooperative pool.
    public func run(_ arguments: [String]) async throws {
        let all = arguments + ["--data-dir", dataDirectory]
        let result = try await offThePool { try runCommand("noida-db", all) }
        guard result.status == 0 else { throw CommandFailed(output: result.output) }
    }
}
