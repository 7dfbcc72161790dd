import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// How a function's environments are started: the command, its directory and its environment variables
/// (all but `AWS_LAMBDA_RUNTIME_API`, which each environment's own endpoint gives).
struct EnvironmentLaunch: Sendable {
    var executable: String
    var arguments: [String]
    var workingDirectory: String
    var variables: [String: String]
    var functionArn: String
    /// How long an invocation may run.
    var timeout: Duration
    var timeoutSeconds: Int
    var memorySize: Int
}

/// One execution environment of a function: a child process in its own process group and the endpoint of
/// the Lambda Runtime API it polls, which only this process is told of. The environment's state (starting,
/// idle, busy) lives in its ``FunctionPool``.
final class ExecutionEnvironment: Sendable {
    let id: Int
    /// The launch (configuration and code) the environment was started with.
    let generation: Int
    let log: FunctionLog
    private let resources = Mutex<(process: ChildProcess?, channel: (any Channel)?, capture: LogCapture?)>((nil, nil, nil))

    init(id: Int, generation: Int, log: FunctionLog) {
        self.id = id
        self.generation = generation
        self.log = log
    }

    /// Opens the environment's Runtime API endpoint (`127.0.0.1`, a free port) for `pool` and starts the
    /// process of `launch` with `AWS_LAMBDA_RUNTIME_API` pointing at it. Throws the error an invocation that
    /// needed the environment reports (`Runtime.InvalidEntrypoint` if the process cannot start).
    func launch(_ launch: EnvironmentLaunch, pool: FunctionPool) async throws(StartFailure) {
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { [id] channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(RuntimeAPIHandler(pool: pool, environment: id))
                    }
                }
                .bind(host: "127.0.0.1", port: 0).get()
        } catch {
            throw StartFailure(type: "Runtime.Unknown", message: "Cannot open the Runtime API endpoint: \(error)")
        }
        let port = channel.localAddress?.port ?? 0
        var variables = launch.variables
        variables["AWS_LAMBDA_RUNTIME_API"] = "127.0.0.1:\(port)"
        variables["AWS_LAMBDA_LOG_STREAM_NAME"] = Self.logStreamName()
        resources.withLock { $0.channel = channel }
        let process: ChildProcess
        do {
            process = try ChildProcess.spawn(
                executable: launch.executable, arguments: launch.arguments, environment: variables,
                workingDirectory: launch.workingDirectory
            ) { [weak self] bytes in
                guard let self else { return }
                self.log.append(bytes, to: self.resources.withLock { $0.capture })
            }
        } catch {
            channel.close(promise: nil)
            throw StartFailure(type: "Runtime.InvalidEntrypoint", message: "\(error)")
        }
        resources.withLock { $0.process = process }
        Task {
            let status = await process.exitStatus()
            channel.close(promise: nil)
            pool.exited(id, status: status)
        }
    }

    /// Starts routing the process's output to `capture` too (nil: stops).
    func capture(into capture: LogCapture?) {
        resources.withLock { $0.capture = capture }
    }

    /// Delivers what the process printed up to now.
    func drainOutput() {
        resources.withLock { $0.process }?.drainOutput()
    }

    /// Kills the process (and its process group); its exit is reported to the pool.
    func kill() {
        resources.withLock { $0.process }?.kill()
    }

    /// A log stream name in Lambda's form: `2026/12/06/[$LATEST]` and 32 hex digits.
    private static func logStreamName() -> String {
        let day = Date().formatted(.iso8601.year().month().day().dateSeparator(.dash)).replacingOccurrences(of: "-", with: "/")
        return "\(day)/[$LATEST]\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased())"
    }
}

/// Why an environment could not start: Lambda's error type and message.
struct StartFailure: Error, Sendable {
    var type: String
    var message: String
}

/// The Lambda Runtime API (2018-06-01) of one environment: `GET invocation/next` waits for an invocation;
/// `POST invocation/{id}/response`, `invocation/{id}/error` and `init/error` report, and are answered 202.
final class RuntimeAPIHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Lambda's limit on a synchronous response (6 MB).
    static let maximumResponseBytes = 6 * 1024 * 1024

    private let pool: FunctionPool
    private let environment: Int
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false

    init(pool: FunctionPool, environment: Int) {
        self.pool = pool
        self.environment = environment
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
            tooLarge = false
        case .body(var chunk):
            if body.count + chunk.readableBytes > Self.maximumResponseBytes {
                tooLarge = true
            } else {
                body += chunk.readBytes(length: chunk.readableBytes) ?? []
            }
        case .end:
            guard let head else { return }
            self.head = nil
            route(head, context: context)
        }
    }

    private func route(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let prefix = "/2018-06-01/runtime/"
        guard head.uri.hasPrefix(prefix) else {
            return reply(404, ["errorMessage": "Not found", "errorType": "NotFound"], context: context)
        }
        let path = head.uri.dropFirst(prefix.count).split(separator: "/").map(String.init)
        switch (head.method, path.count, path.first, path.last) {
        case (.GET, 2, "invocation", "next"):
            let loop = context.eventLoop
            let bound = NIOLoopBound((self, context), eventLoop: loop)
            pool.next(environment) { delivery in
                loop.execute {
                    let (handler, context) = bound.value
                    handler.deliver(delivery, context: context)
                }
            }
        case (.POST, 3, "invocation", "response"):
            let requestId = path[1]
            if tooLarge {
                let message = "Response payload size exceeded maximum allowed payload size (\(Self.maximumResponseBytes) bytes)."
                _ = pool.complete(
                    environment, requestId: requestId,
                    functionError: FunctionPool.errorDocument(type: "Function.ResponseSizeTooLarge", message: message))
                return reply(413, ["errorMessage": message, "errorType": "RequestEntityTooLarge"], context: context)
            }
            accept(pool.complete(environment, requestId: requestId, response: body), context: context)
        case (.POST, 3, "invocation", "error"):
            accept(pool.complete(environment, requestId: path[1], functionError: errorBody(head)), context: context)
        case (.POST, 2, "init", "error"):
            pool.initFailed(environment, document: errorBody(head))
            reply(202, ["status": "OK"], context: context)
        default:
            reply(404, ["errorMessage": "Unknown Runtime API path \(head.uri)", "errorType": "NotFound"], context: context)
        }
    }

    /// The error document a runtime posted, or one built from its error-type header if the body is not one.
    private func errorBody(_ head: HTTPRequestHead) -> [UInt8] {
        if !body.isEmpty, (try? JSONSerialization.jsonObject(with: Data(body))) is [String: Any] { return body }
        let type = head.headers.first(name: "Lambda-Runtime-Function-Error-Type") ?? "Runtime.Unknown"
        return FunctionPool.errorDocument(type: type, message: String(decoding: body, as: UTF8.self))
    }

    private func accept(_ accepted: Bool, context: ChannelHandlerContext) {
        if accepted {
            reply(202, ["status": "OK"], context: context)
        } else {
            reply(400, ["errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"], context: context)
        }
    }

    private func deliver(_ delivery: InvocationDelivery, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(delivery.payload.count))
        headers.add(name: "Lambda-Runtime-Aws-Request-Id", value: delivery.requestId)
        headers.add(name: "Lambda-Runtime-Deadline-Ms", value: String(delivery.deadlineMilliseconds))
        headers.add(name: "Lambda-Runtime-Invoked-Function-Arn", value: delivery.functionArn)
        headers.add(name: "Lambda-Runtime-Trace-Id", value: delivery.traceId)
        if let clientContext = delivery.clientContext {
            headers.add(name: "Lambda-Runtime-Client-Context", value: clientContext)
        }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: delivery.payload)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    private func reply(_ status: Int, _ object: [String: String], context: ChannelHandlerContext) {
        let body = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(body.count))
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers))),
            promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}

/// What a waiting `next` receives: one invocation.
struct InvocationDelivery: Sendable {
    var requestId: String
    var deadlineMilliseconds: Int64
    var functionArn: String
    var traceId: String
    var clientContext: String?
    var payload: [UInt8]
}
