import Eddy
import Foundation
import Logging

@testable import EddyServer

// Shared helpers of the server's test suites: a server over a fresh database, one listening on 127.0.0.1, and
// reading a JSON body.

/// Runs `body` with a server over a database opened in a new temporary directory, removed afterwards.
func withServer(_ body: (EddyServer) async throws -> Void) async throws {
    try await withDatabase(Database.Configuration()) { database in
        try await body(EddyServer(database: database))
    }
}

/// Runs `body` with a server over a fresh database (with `configuration`) listening on 127.0.0.1, on a port
/// the system picks, which `body` receives; with `credentials`, every request's signature is checked. The
/// server stops, and the database's directory is removed, however `body` ends.
func withListeningServer(
    _ configuration: Database.Configuration = Database.Configuration(), credentials: [String: String]? = nil,
    _ body: (EddyServer, Int) async throws -> Void
) async throws {
    try await withDatabase(configuration) { database in
        let server = EddyServer(database: database, configuration: .init(host: "127.0.0.1", port: 0, credentials: credentials))
        let logger = {
            var logger = Logger(label: "eddy.server.test")
            logger.logLevel = .warning
            return logger
        }()
        let (ports, bound) = AsyncStream.makeStream(of: Int.self)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                // The stream ends without a port if the server cannot listen, so that nothing waits for one.
                defer { bound.finish() }
                try await server.service(logger: logger) { port in bound.yield(port) }.run()
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else {
                try await group.waitForAll()
                throw ListeningError.notListening
            }
            // A throwing body cancels the server's task too, as the group ends, and so stops the server.
            try await body(server, port)
            group.cancelAll()
            try await group.waitForAll()
        }
    }
}

/// Why a test server is not there to take requests.
enum ListeningError: Error {
    /// The server's service ended before it listened.
    case notListening
}

/// Runs `body` with a database (with `configuration`) opened in a new temporary directory, removed afterwards.
private func withDatabase(_ configuration: Database.Configuration, _ body: (Database) async throws -> Void) async throws {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("eddy-server-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    try await body(try Database(path: url.path + "/db", configuration: configuration))
}

/// `bytes` parsed as a JSON object with Foundation, or nil if they are not one.
func jsonObject(_ bytes: [UInt8]) -> [String: Any]? {
    (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
}

/// `bytes` as a string safe to print: printable ASCII as is, every other byte as `\xNN`.
func printable(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { byte in
        (0x20..<0x7F).contains(byte) && byte != UInt8(ascii: "\\")
            ? String(UnicodeScalar(byte)) : "\\x" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
    }.joined()
}

extension Result {
    /// The error, if this is a failure.
    var failure: Failure? {
        if case .failure(let error) = self { error } else { nil }
    }

    /// The value, if this is a success.
    var success: Success? {
        if case .success(let value) = self { value } else { nil }
    }
}

extension String {
    /// The string with `0`s in front, to at least `width` characters.
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
