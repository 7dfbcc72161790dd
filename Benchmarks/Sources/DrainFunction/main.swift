import EddyLambdaRuntime
import Foundation
import Glibc

// The no-op Swift function of `FunctionDrain.Swift` (Benchmarks/Functions/FunctionDrain.swift), run by Eddy's
// `Functions` as a `provided.al2023` function whose `bootstrap` is this executable. It is written the way a
// function on EddyLambdaRuntime is: `LambdaFunction.run` decodes each invocation's DynamoDB stream event as a
// `TriggerEvent`, and the handler does nothing with its records but send the benchmark their number, in one UDP
// datagram to 127.0.0.1, at the port in the environment variable `BENCHMARK_PORT`.

/// A UDP socket that sends the benchmark one datagram per batch.
final class CountReporter: Sendable {
    private let descriptor: Int32
    private let address: sockaddr_in

    /// A socket sending to `127.0.0.1:port`.
    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else { throw ReporterError.socket(errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        self.address = address
    }

    /// Sends `records`, as decimal text.
    func send(_ records: Int) throws {
        var address = self.address
        let sent = Array(String(records).utf8).withUnsafeBytes { bytes in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(descriptor, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        guard sent >= 0 else { throw ReporterError.send(errno) }
    }
}

enum ReporterError: Error {
    case noPort
    case socket(Int32)
    case send(Int32)
}

await LambdaFunction.run(setUp: { _ in
    guard let port = ProcessInfo.processInfo.environment["BENCHMARK_PORT"].flatMap({ Int($0) }) else {
        throw ReporterError.noPort
    }
    let reporter = try CountReporter(port: port)
    return { (event: TriggerEvent, _: LambdaContext) -> TriggerBatchResponse in
        try reporter.send(event.records.count)
        return .success
    }
})
