import Eddy
import Foundation

@testable import EddyServer

// Shared helpers of the server's test suites: a server over a fresh database, and reading a JSON body.

/// Runs `body` with a server over a database opened in a new temporary directory, removed afterwards.
func withServer(_ body: (EddyServer) async throws -> Void) async throws {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("eddy-server-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    let database = try Database(path: url.path + "/db")
    try await body(EddyServer(database: database))
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
