import CoreMetrics
import Eddy
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
import Synchronization

/// Eddy over HTTP: DynamoDB's and DynamoDB Streams' JSON protocol (`POST /` with `X-Amz-Target`), so that
/// boto3, the AWS CLI and every AWS SDK talk to a ``Database`` unchanged, plus `GET /health` and, with a
/// Prometheus registry, `GET /metrics`.
///
/// ```swift
/// let db = try Database(path: "/var/lib/eddy")
/// let server = EddyServer(database: db, configuration: .init(port: 8000))
/// try await server.application().runService()  // until SIGTERM or SIGINT
/// ```
public struct EddyServer: Sendable {
    /// Where the server listens and what it accepts.
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// The largest request body accepted: DynamoDB's 16 MB.
        public var maximumRequestBytes: Int
        /// The secret access key of each access key id the server knows: with them, every request's AWS
        /// Signature Version 4 is checked (signature, date within 15 minutes, Region). Without them, any
        /// well-formed `Authorization` header is accepted, as DynamoDB Local does.
        public var credentials: [String: String]?
        /// Where request counts and latencies go, and what `GET /metrics` shows in Prometheus's text format.
        /// Without one, the metrics go to swift-metrics' bootstrapped factory and there is no `/metrics`.
        public var prometheus: PrometheusCollectorRegistry?

        public init(
            host: String = "127.0.0.1", port: Int = 8000, maximumRequestBytes: Int = 16 * 1024 * 1024,
            credentials: [String: String]? = nil, prometheus: PrometheusCollectorRegistry? = nil
        ) {
            self.host = host
            self.port = port
            self.maximumRequestBytes = maximumRequestBytes
            self.credentials = credentials
            self.prometheus = prometheus
        }
    }

    public let database: Database
    public let configuration: Configuration
    private let operations = Operations()
    private let metrics: ServerMetrics
    let verifier: SigV4Verifier

    /// A server for `database`; `clock` is what signature dates are checked against.
    public init(database: Database, configuration: Configuration = Configuration(), clock: @escaping @Sendable () -> Date = { Date() }) {
        self.database = database
        self.configuration = configuration
        var lookup: SigV4Verifier.CredentialLookup?
        var region: String?
        if let secrets = configuration.credentials {
            lookup = { accessKeyId in secrets[accessKeyId] }
            region = database.configuration.region
        }
        verifier = SigV4Verifier(region: region, credentials: lookup, clock: clock)
        metrics = ServerMetrics(targets: operations.targets, factory: configuration.prometheus.map(Self.metricsFactory) ?? MetricsSystem.factory)
    }

    /// A swift-metrics factory writing into `registry`, with latency buckets from 100 µs. `eddy serve`
    /// bootstraps swift-metrics with it, so that the trigger runtime's metrics are shown too.
    public static func metricsFactory(_ registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = ServerMetrics.durationBuckets
        return factory
    }

    /// The Hummingbird application serving the database: a swift-service-lifecycle `Service` that stops at
    /// graceful shutdown once the requests in flight are answered. `onServerRunning` is called with the port
    /// bound (useful with port 0).
    public func application(
        services: [any Service] = [], logger: Logger = Logger(label: "eddy.server"),
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            responder: Responder(server: self),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Eddy"),
            services: services,
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    /// The body of the answer to `target` with request body `body`, or the error to answer.
    func handle(target: String?, body: [UInt8]) async -> Result<[UInt8], WireError> {
        let start = ContinuousClock.now
        let result: Result<[UInt8], WireError>
        if let target, let run = operations.operation(target) {
            do {
                result = .success(try await run(database, body))
            } catch {
                result = .failure(error)
            }
        } else {
            result = .failure(.unknownOperation(target))
        }
        let errorType: String? = if case .failure(let error) = result { error.type } else { nil }
        metrics.record(target: target, duration: ContinuousClock.now - start, errorType: errorType)
        return result
    }

    /// The metrics in Prometheus's text format, if the server has a registry.
    func exposition() -> [UInt8]? {
        configuration.prometheus?.emitToBuffer()
    }
}

/// Answers each request: `POST /` is a DynamoDB operation, `GET /health` says the server is up.
private struct Responder: HTTPResponder {
    typealias Context = BasicRequestContext
    let server: EddyServer

    func respond(to request: Request, context: Context) async throws -> Response {
        let requestId = Self.requestId()
        switch (request.method, request.uri.path) {
        case (.post, "/"):
            let body: [UInt8]
            do {
                var buffer = try await request.body.collect(upTo: server.configuration.maximumRequestBytes)
                body = buffer.readBytes(length: buffer.readableBytes) ?? []
            } catch {
                return Self.answer(
                    .failure(WireError(
                        type: "RequestEntityTooLarge",
                        message: "Request content is larger than the maximum of \(server.configuration.maximumRequestBytes) bytes",
                        status: 413)),
                    requestId: requestId)
            }
            let target = request.headers[HTTPField.Name("X-Amz-Target")!]
            let result: Result<[UInt8], WireError>
            if case .failure(let failure) = server.verifier.verify(Self.signed(request, body: body)) {
                result = .failure(WireError(type: failure.typeName, message: failure.message))
            } else {
                result = await server.handle(target: target, body: body)
            }
            // One line per request at debug; Eddy's own failures also at warning.
            switch result {
            case .success:
                context.logger.debug("\(target ?? "-") 200", metadata: ["requestId": "\(requestId)"])
            case .failure(let error) where error.status >= 500:
                context.logger.warning("\(target ?? "-") \(error.status) \(error.type): \(error.message)", metadata: ["requestId": "\(requestId)"])
            case .failure(let error):
                context.logger.debug("\(target ?? "-") \(error.status) \(error.type): \(error.message)", metadata: ["requestId": "\(requestId)"])
            }
            return Self.answer(result, requestId: requestId)
        case (.get, "/health"):
            return Self.response(status: 200, body: Array(#"{"status":"ok"}"#.utf8), requestId: requestId)
        case (.get, "/metrics"):
            guard let exposition = server.exposition() else { fallthrough }
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: exposition)))
        default:
            return Self.response(status: 404, body: Array(#"{"message":"Not Found"}"#.utf8), requestId: requestId)
        }
    }

    /// What the request's signature covers. HTTP/1.1's `Host` header arrives as the request's authority.
    private static func signed(_ request: Request, body: [UInt8]) -> SigV4Request {
        var headers = request.headers.map { (name: $0.name.rawName, value: $0.value) }
        if let authority = request.head.authority {
            headers.append((name: "host", value: authority))
        }
        return SigV4Request(
            method: request.method.rawValue, path: request.uri.path, query: request.uri.query ?? "", headers: headers, body: body)
    }

    private static func answer(_ result: Result<[UInt8], WireError>, requestId: String) -> Response {
        switch result {
        case .success(let body): response(status: 200, body: body, requestId: requestId)
        case .failure(let error): response(status: error.status, body: error.body, requestId: requestId)
        }
    }

    private static func response(status: Int, body: [UInt8], requestId: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/x-amz-json-1.0"
        headers[HTTPField.Name("x-amzn-RequestId")!] = requestId
        headers[HTTPField.Name("x-amz-crc32")!] = String(CRC32.checksum(body))
        return Response(
            status: HTTPResponse.Status(code: status), headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// A request id in DynamoDB's form, 52 upper-case letters and digits: a random prefix drawn once per
    /// process and a counter, so no request pays for random bytes.
    private static func requestId() -> String {
        var number = requestCounter.add(1, ordering: .relaxed).newValue
        var digits = requestIdPrefix
        var suffix = [UInt8](repeating: UInt8(ascii: "0"), count: 13)
        for index in suffix.indices.reversed() where number > 0 {
            suffix[index] = requestIdAlphabet[Int(number % 36)]
            number /= 36
        }
        digits += suffix
        return String(decoding: digits, as: UTF8.self)
    }

    private static let requestIdAlphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
    private static let requestIdPrefix: [UInt8] = {
        var generator = SystemRandomNumberGenerator()
        return (0..<39).map { _ in requestIdAlphabet[Int(generator.next(upperBound: UInt32(requestIdAlphabet.count)))] }
    }()
    private static let requestCounter = Atomic<UInt64>(0)
}
