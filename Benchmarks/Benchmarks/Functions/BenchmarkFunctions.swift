import BenchmarkSupport
import EddyFunctions
import Foundation

/// The Lambda functions the benchmarks run, kept by a `Functions` of their own in a temporary directory.
///
/// Each function reports to the benchmark over UDP (``DatagramListener``), to the port in its environment
/// variable `BENCHMARK_PORT`: the records it was called with, and when. The Python functions' code is here as
/// text; the Swift function is the `DrainFunction` executable of this package, built with the benchmarks. The
/// benchmark zips their code as CreateFunction takes it.
final class BenchmarkFunctions: Sendable {
    let functions: Functions
    private let directory = TemporaryDirectory()

    /// The function's timeout: long enough that a batch of 1,000 records never times out on a busy machine
    /// (a timeout would fail the batch, and its retry would deliver its records twice).
    static let timeoutSeconds = 60

    /// A Python function that reports when it was called: the first thing it does is read the monotonic clock
    /// (`CLOCK_MONOTONIC`, the clock of the benchmark's `monotonicNanoseconds()`), then it sends the item id
    /// of its one record and that time, `item-00000042 123456789`; anything but one record with a new image
    /// is reported as `bad batch`.
    static let pythonDelivery = """
        import os
        import socket
        import time

        _socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        _address = ("127.0.0.1", int(os.environ["BENCHMARK_PORT"]))


        def handler(event, context):
            called = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
            records = event["Records"]
            if len(records) != 1 or "NewImage" not in records[0]["dynamodb"]:
                report = "bad batch"
            else:
                report = f'{records[0]["dynamodb"]["Keys"]["id"]["S"]} {called}'
            _socket.sendto(report.encode(), _address)

        """

    /// A Python function that does nothing with its records but report how many it was called with.
    static let pythonDrain = """
        import os
        import socket

        _socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        _address = ("127.0.0.1", int(os.environ["BENCHMARK_PORT"]))


        def handler(event, context):
            _socket.sendto(str(len(event["Records"])).encode(), _address)

        """

    /// Opens an empty set of functions in a new temporary directory.
    init() throws {
        functions = try Functions(configuration: .init(directory: directory.path))
    }

    /// Creates the Python function `name` of `code` (its handler `app.handler`) that reports to `port`.
    func createPython(_ name: String, code: String, port: Int) async throws {
        let source = TemporaryDirectory()
        defer { source.remove() }
        try FileManager.default.createDirectory(atPath: source.path, withIntermediateDirectories: true)
        try Data(code.utf8).write(to: URL(fileURLWithPath: source.path).appendingPathComponent("app.py"))
        _ = try await functions.create(CreateFunctionRequest(
            functionName: name, runtime: "python3.11", handler: "app.handler", zipFile: try FunctionCode.zip(directory: source.path),
            timeout: Self.timeoutSeconds, environment: ["BENCHMARK_PORT": String(port)]))
    }

    /// Creates the Swift function `name` (runtime `provided.al2023`) whose `bootstrap` is the `DrainFunction`
    /// executable built beside the benchmark's own, and that reports to `port`.
    func createSwiftDrain(_ name: String, port: Int) async throws {
        guard let benchmark = Bundle.main.executableURL else { fatalError("the benchmark's executable has no path") }
        let executable = benchmark.deletingLastPathComponent().appendingPathComponent("DrainFunction")
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            fatalError("\(executable.path) is missing: build it with `swift build -c release --product DrainFunction` in Benchmarks/")
        }
        let source = TemporaryDirectory()
        defer { source.remove() }
        try FileManager.default.createDirectory(atPath: source.path, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: executable, to: URL(fileURLWithPath: source.path).appendingPathComponent("bootstrap"))
        _ = try await functions.create(CreateFunctionRequest(
            functionName: name, runtime: "provided.al2023", handler: "bootstrap", zipFile: try FunctionCode.zip(directory: source.path),
            timeout: Self.timeoutSeconds, environment: ["BENCHMARK_PORT": String(port)]))
    }

    /// Stops every environment of every function and deletes the directory.
    func close() {
        functions.shutdown()
        directory.remove()
    }
}
