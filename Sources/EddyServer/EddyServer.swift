import CoreMetrics
import Eddy
import EddyFunctions
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Prometheus
import Synchronization

/// Eddy over HTTP: DynamoDB's, DynamoDB Streams' and Application Auto Scaling's JSON protocols (`POST /` with
/// `X-Amz-Target`), so that boto3, the AWS CLI and every AWS SDK talk to a ``Database`` unchanged, plus `GET /health`, with a
/// Prometheus registry `GET /metrics`, with functions Lambda's API, and Eddy's own admin API under
/// `/eddy/2026-12-01/` (declared trigger mappings added, listed and removed while the server runs, and the
/// index consistency check; see ``DeclaredTriggers``), signed for service `eddy`.
///
/// ```swift
/// let db = try Database(path: "/var/lib/eddy")
/// let server = EddyServer(database: db, configuration: .init(port: 8000))
/// let services = ServiceGroup(services: [server.service()], gracefulShutdownSignals: [.sigterm], logger: logger)
/// try await services.run()  // until SIGTERM
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

    /// The home Region's database: it runs the trigger mappings, functions and admin API.
    public var database: Database { regions.home }
    /// The databases requests are answered from, by the Region they are signed for.
    public let regions: RegionalDatabases
    public let configuration: Configuration
    private let operations = Operations()
    private let metrics: ServerMetrics
    let verifier: SigV4Verifier
    /// Lambda's API, if the server runs functions.
    let lambda: LambdaAPI?
    /// Checks the signatures of Lambda's requests (service `lambda`).
    let lambdaVerifier: SigV4Verifier
    /// Eddy's own API.
    let admin: AdminAPI
    /// Checks the signatures of the admin API's requests (service `eddy`).
    let adminVerifier: SigV4Verifier
    /// Checks the signatures of Application Auto Scaling's requests (service `application-autoscaling`).
    let autoScalingVerifier: SigV4Verifier

    /// A server for `database`, which answers every request whatever Region it is signed for (with
    /// ``Configuration-swift.struct/credentials``, only requests signed for its Region are accepted).
    /// `clock` is what signature dates are checked against. With `functions`, it also serves Lambda's API for
    /// them and their event source mappings (see ``EddyFunctions``); with `triggers`, the admin API adds, lists
    /// and removes declared trigger mappings.
    public init(
        database: Database, configuration: Configuration = Configuration(), functions: EventSourceMappings? = nil,
        triggers: DeclaredTriggers? = nil, clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.init(regions: RegionalDatabases(sharing: database), configuration: configuration, functions: functions, triggers: triggers, clock: clock)
    }

    /// A server answering each DynamoDB and DynamoDB Streams request from the database of the Region it is
    /// signed for (see ``RegionalDatabases``); Lambda's API and the admin API act on the home Region's.
    public init(
        regions: RegionalDatabases, configuration: Configuration = Configuration(), functions: EventSourceMappings? = nil,
        triggers: DeclaredTriggers? = nil, clock: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.regions = regions
        self.configuration = configuration
        lambda = functions.map(LambdaAPI.init)
        admin = AdminAPI(database: regions.home, triggers: triggers)
        var lookup: SigV4Verifier.CredentialLookup?
        var region: String?
        if let secrets = configuration.credentials {
            lookup = { accessKeyId in secrets[accessKeyId] }
            // With Regions kept apart, a request may be signed for any of them.
            region = regions.directory == nil ? regions.home.configuration.region : nil
        }
        verifier = SigV4Verifier(region: region, credentials: lookup, clock: clock)
        lambdaVerifier = SigV4Verifier(service: "lambda", region: region, credentials: lookup, clock: clock)
        adminVerifier = SigV4Verifier(service: "eddy", region: region, credentials: lookup, clock: clock)
        autoScalingVerifier = SigV4Verifier(service: AutoScalingAPI.signingService, region: region, credentials: lookup, clock: clock)
        metrics = ServerMetrics(
            targets: operations.targets + AutoScalingAPI.targets + AdminAPI.targets + (functions == nil ? [] : LambdaAPI.targets),
            factory: configuration.prometheus.map(Self.metricsFactory) ?? MetricsSystem.factory)
    }

    /// A swift-metrics factory writing into `registry`, with latency buckets from 100 µs. `eddy serve`
    /// bootstraps swift-metrics with it, so that the trigger runtime's metrics are shown too.
    public static func metricsFactory(_ registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = ServerMetrics.durationBuckets
        return factory
    }

    /// The server as a swift-service-lifecycle `Service` listening on ``Configuration-swift.struct/host`` and
    /// ``Configuration-swift.struct/port``: it stops at graceful shutdown once the requests in flight are
    /// answered. `onServerRunning` is called with the port bound (useful with port 0).
    public func service(
        logger: Logger = Logger(label: "eddy.server"), onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> HTTPService {
        HTTPService(server: self, logger: logger, onServerRunning: onServerRunning)
    }

    /// The body of the answer to `target` with request body `body`, signed for `region` (the home Region's
    /// when `nil`), or the error to answer.
    func handle(target: String?, body: [UInt8], region: String? = nil) async -> Result<[UInt8], WireError> {
        let start = ContinuousClock.now
        let result: Result<[UInt8], WireError>
        if let target, let run = operations.operation(target) ?? AutoScalingAPI.operation(target) {
            do {
                let database = try regions.database(for: region ?? regions.home.configuration.region)
                result = .success(try await run(database, body))
            } catch let error as WireError {
                result = .failure(error)
            } catch {
                result = .failure(RequestDecoding.wireError(error))
            }
        } else {
            result = .failure(.unknownOperation(target))
        }
        let errorType: String? = if case .failure(let error) = result { error.type } else { nil }
        metrics.record(target: target, duration: ContinuousClock.now - start, errorType: errorType)
        return result
    }

    /// The metrics in Prometheus's text format, if the server has a registry, with the home Region's
    /// Contributor Insights top keys (``ContributorInsightsExposition``).
    func exposition() -> [UInt8]? {
        guard let registry = configuration.prometheus else { return nil }
        return registry.emitToBuffer() + Array(ContributorInsightsExposition.text(database).utf8)
    }
}

/// An HTTP answer: its status, headers (without `content-length`) and body.
struct Reply: Sendable {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: [UInt8]
}

/// How a request is answered: at once, or by an operation that must run in a task.
enum Routing {
    case now(Reply)
    case later(@Sendable () async -> Reply)
}

extension EddyServer {
    /// The answer to a request: `POST /` is a DynamoDB operation, paths under `/eddy/2026-12-01/` are the admin
    /// API's, `GET /health` says the server is up, and `GET /metrics` shows the metrics if the server has a
    /// Prometheus registry.
    func answer(head: HTTPRequestHead, body: [UInt8], logger: Logger) -> Routing {
        let requestId = Self.requestId()
        let parts = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = parts.first.map(String.init) ?? head.uri
        let query = parts.dropFirst().first.map(String.init) ?? ""
        switch (head.method, path) {
        case (.POST, "/"):
            let target = head.headers.first(name: "X-Amz-Target")
            let start = ContinuousClock.now
            let identity: SigV4Identity
            let checker = AutoScalingAPI.serves(target) ? autoScalingVerifier : verifier
            switch checker.verify(Self.signed(head, path: path, query: query, body: body)) {
            case .success(let signer):
                identity = signer
            case .failure(let failure):
                let error = WireError(type: failure.typeName, message: failure.message)
                metrics.record(target: target, duration: ContinuousClock.now - start, errorType: error.type)
                Self.log(target: target, result: .failure(error), requestId: requestId, logger: logger)
                return .now(Self.reply(.failure(error), requestId: requestId))
            }
            let host = head.headers.first(name: "host") ?? "\(configuration.host):\(configuration.port)"
            return .later {
                let result = await RequestContext.$host.withValue(host) { await handle(target: target, body: body, region: identity.region) }
                Self.log(target: target, result: result, requestId: requestId, logger: logger)
                return Self.reply(result, requestId: requestId)
            }
        case (_, _) where lambda != nil && LambdaAPI.serves(path):
            return answerLambda(head: head, path: path, query: query, body: body, requestId: requestId, logger: logger)
        case (_, _) where AdminAPI.serves(path):
            return answerAdmin(head: head, path: path, query: query, body: body, requestId: requestId, logger: logger)
        case (.GET, "/health"):
            return .now(Self.reply(status: 200, body: Array(#"{"status":"ok"}"#.utf8), requestId: requestId))
        case (.GET, "/metrics"):
            guard let exposition = exposition() else { fallthrough }
            var headers = HTTPHeaders()
            headers.add(name: "Server", value: "Eddy")
            headers.add(name: "Content-Type", value: "text/plain; version=0.0.4; charset=utf-8")
            return .now(Reply(status: .ok, headers: headers, body: exposition))
        default:
            return .now(Self.reply(status: 404, body: Array(#"{"message":"Not Found"}"#.utf8), requestId: requestId))
        }
    }

    /// A request of Lambda's API: checked as signed for service `lambda`, then answered from a task.
    private func answerLambda(head: HTTPRequestHead, path: String, query: String, body: [UInt8], requestId: String, logger: Logger) -> Routing {
        let start = ContinuousClock.now
        if case .failure(let failure) = lambdaVerifier.verify(Self.signed(head, path: path, query: query, body: body)) {
            let error = LambdaError(type: failure.typeName, message: failure.message, status: 403)
            metrics.record(target: "Lambda.Unknown", duration: ContinuousClock.now - start, errorType: error.type)
            return .now(LambdaAPI.reply(error))
        }
        return .later { [lambda = lambda!, metrics] in
            let (operation, reply) = await lambda.answer(method: head.method, path: path, query: query, headers: head.headers, body: body)
            let errorType = reply.headers.first(name: "x-amzn-ErrorType")
            metrics.record(target: "Lambda.\(operation)", duration: ContinuousClock.now - start, errorType: errorType)
            logger.debug("Lambda.\(operation) \(reply.status.code)\(errorType.map { " " + $0 } ?? "")", metadata: ["requestId": "\(requestId)"])
            return reply
        }
    }

    /// A request of the admin API: checked as signed for service `eddy`, then answered from a task.
    private func answerAdmin(head: HTTPRequestHead, path: String, query: String, body: [UInt8], requestId: String, logger: Logger) -> Routing {
        let start = ContinuousClock.now
        if case .failure(let failure) = adminVerifier.verify(Self.signed(head, path: path, query: query, body: body)) {
            let error = AdminError(type: failure.typeName, message: failure.message, status: 403)
            metrics.record(target: "Eddy.Unknown", duration: ContinuousClock.now - start, errorType: error.type)
            logger.debug("Eddy admin \(head.method.rawValue) \(path) 403 \(error.type)", metadata: ["requestId": "\(requestId)"])
            return .now(AdminAPI.reply(error))
        }
        return .later { [admin, metrics] in
            let (operation, reply) = await admin.answer(method: head.method, path: path, body: body)
            let errorType = reply.headers.first(name: "x-amzn-ErrorType")
            metrics.record(target: "Eddy.\(operation)", duration: ContinuousClock.now - start, errorType: errorType)
            logger.debug("Eddy.\(operation) \(reply.status.code)\(errorType.map { " " + $0 } ?? "")", metadata: ["requestId": "\(requestId)"])
            return reply
        }
    }

    /// The largest body accepted for the request `head`: Lambda's for its function uploads, DynamoDB's
    /// otherwise.
    func maximumBody(for head: HTTPRequestHead) -> Int {
        lambda != nil && head.uri.hasPrefix("/2015-03-31/functions") ? max(LambdaAPI.maximumRequestBytes, configuration.maximumRequestBytes)
            : configuration.maximumRequestBytes
    }

    /// The answer to a body over ``Configuration-swift.struct/maximumRequestBytes``.
    func tooLarge() -> Reply {
        Self.reply(
            .failure(WireError(
                type: "RequestEntityTooLarge",
                message: "Request content is larger than the maximum of \(configuration.maximumRequestBytes) bytes",
                status: 413)),
            requestId: Self.requestId())
    }

    /// The answer to a request that NIO could not parse: one over ``HTTPService/requestLineBytesMax`` or
    /// ``HTTPService/requestHeadersBytesMax``, or not HTTP/1.1 at all.
    func badRequest(_ error: HTTPParserError) -> Reply {
        let message = switch error {
        case .headerOverflow:
            "The request line or headers are larger than the server's limits: \(HTTPService.requestLineBytesMax) bytes "
                + "for the request line or one header, \(HTTPService.requestHeadersBytesMax) bytes for all headers"
        default:
            "The request is not valid HTTP/1.1: \(error)"
        }
        return Self.reply(.failure(WireError(type: "BadRequest", message: message)), requestId: Self.requestId())
    }

    /// One line per request at debug; Eddy's own failures also at warning.
    private static func log(target: String?, result: Result<[UInt8], WireError>, requestId: String, logger: Logger) {
        switch result {
        case .success:
            logger.debug("\(target ?? "-") 200", metadata: ["requestId": "\(requestId)"])
        case .failure(let error) where error.status >= 500:
            logger.warning("\(target ?? "-") \(error.status) \(error.type): \(error.message)", metadata: ["requestId": "\(requestId)"])
        case .failure(let error):
            logger.debug("\(target ?? "-") \(error.status) \(error.type): \(error.message)", metadata: ["requestId": "\(requestId)"])
        }
    }

    /// What the request's signature covers: the path as received, its query, and its headers (`Host` among them).
    private static func signed(_ head: HTTPRequestHead, path: String, query: String, body: [UInt8]) -> SigV4Request {
        SigV4Request(
            method: head.method.rawValue, path: path, query: query, headers: head.headers.map { (name: $0.name, value: $0.value) }, body: body)
    }

    private static func reply(_ result: Result<[UInt8], WireError>, requestId: String) -> Reply {
        switch result {
        case .success(let body): reply(status: 200, body: body, requestId: requestId)
        case .failure(let error): reply(status: error.status, body: error.body, requestId: requestId)
        }
    }

    private static func reply(status: Int, body: [UInt8], requestId: String) -> Reply {
        var headers = HTTPHeaders()
        headers.add(name: "Server", value: "Eddy")
        headers.add(name: "Content-Type", value: "application/x-amz-json-1.0")
        headers.add(name: "x-amzn-RequestId", value: requestId)
        headers.add(name: "x-amz-crc32", value: String(CRC32.checksum(body)))
        return Reply(status: HTTPResponseStatus(statusCode: status), headers: headers, body: body)
    }

    /// A request id in DynamoDB's form, 52 upper-case letters and digits: a random prefix drawn once per
    /// process and a counter, so no request pays for random bytes.
    private static func requestId() -> String {
        var number = requestCounter.add(1, ordering: .relaxed).newValue
        let prefixCount = requestIdPrefix.count
        return String(unsafeUninitializedCapacity: prefixCount + 13) { digits in
            _ = digits.initialize(fromContentsOf: requestIdPrefix)
            for index in (prefixCount..<prefixCount + 13).reversed() {
                digits[index] = requestIdAlphabet[Int(number % 36)]
                number /= 36
            }
            return prefixCount + 13
        }
    }

    private static let requestIdAlphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
    private static let requestIdPrefix: [UInt8] = {
        var generator = SystemRandomNumberGenerator()
        return (0..<39).map { _ in requestIdAlphabet[Int(generator.next(upperBound: UInt32(requestIdAlphabet.count)))] }
    }()
    private static let requestCounter = Atomic<UInt64>(0)
}
