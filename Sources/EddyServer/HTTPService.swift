import Logging
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// An ``EddyServer`` listening for HTTP/1.1 on SwiftNIO's event loops: a swift-service-lifecycle `Service`
/// that runs until graceful shutdown or cancellation, then stops accepting connections, answers the requests in
/// flight, closes every connection and returns.
///
/// Each request is read, checked and answered on its connection's event loop; only the database operation
/// runs in a task. When SwiftNIO's event loops are Swift Concurrency's global executor
/// (`NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()`, as `eddy serve`
/// installs them), that task starts on the same event loop, and a request never changes threads. While it
/// runs, ``ReadInterest`` keeps the socket in epoll's read set.
public struct HTTPService: Service {
    let server: EddyServer
    let logger: Logger
    let onServerRunning: @Sendable (Int) async -> Void

    /// The longest request line, and the longest header line, in bytes: a longer one is answered with a 400.
    public static let requestLineBytesMax = 16 * 1024
    /// The most bytes of all of a request's header lines together (names and values): more is answered with a
    /// 400.
    public static let requestHeadersBytesMax = 64 * 1024

    static var decoderLimits: NIOHTTPDecoderLimitConfiguration {
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderFieldSize = requestLineBytesMax
        limits.maxHeaderListSize = requestHeadersBytesMax
        return limits
    }

    public func run() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let quiescing = ServerQuiescingHelper(group: group)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiescing.makeServerChannelHandler(channel: channel))
                }
            }
            .childChannelInitializer { [server, logger] channel in
                channel.eventLoop.makeCompletedFuture {
                    // Requests NIO cannot parse are answered by RequestHandler.errorCaught, with a body.
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withErrorHandling: false, withEncoderConfiguration: .init(),
                        withDecoderLimitConfiguration: HTTPService.decoderLimits)
                    let readInterest = ReadInterest()
                    try channel.pipeline.syncOperations.addHandler(readInterest, position: .first)
                    try channel.pipeline.syncOperations.addHandler(RequestHandler(server: server, logger: logger, readInterest: readInterest))
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .bind(host: server.configuration.host, port: server.configuration.port)
            .get()
        logger.info("Listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "-")"])
        await onServerRunning(channel.localAddress?.port ?? 0)

        let closed = group.next().makePromise(of: Void.self)
        let shuttingDown = Atomic(false)
        try await withTaskCancellationOrGracefulShutdownHandler {
            try await closed.futureResult.get()
        } onCancelOrGracefulShutdown: {
            // Closes the listening socket, closes idle connections, and each busy one after its answer.
            if !shuttingDown.exchange(true, ordering: .relaxed) {
                quiescing.initiateShutdown(promise: closed)
            }
        }
    }
}

/// One connection's requests, one at a time (NIO's pipelining handler holds back the next until the answer
/// is written): the body is gathered up to the size limit, then ``EddyServer/answer(method:path:headers:body:)``
/// answers it, at once or from a task.
private final class RequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let server: EddyServer
    private let logger: Logger
    private let readInterest: ReadInterest
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    /// The body passed the limit: the rest of it is read and dropped, and the answer is a 413.
    private var bodyTooLarge = false
    /// The largest body the current request may have.
    private var bodyLimit = 0

    init(server: EddyServer, logger: Logger, readInterest: ReadInterest) {
        self.server = server
        self.logger = logger
        self.readInterest = readInterest
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.clear()
            let announced = head.headers.first(name: "content-length").flatMap { Int($0) } ?? 0
            bodyLimit = server.maximumBody(for: head)
            bodyTooLarge = announced > bodyLimit
            if !bodyTooLarge, announced > body.capacity {
                body.reserveCapacity(announced)
            }
        case .body(var chunk):
            guard !bodyTooLarge else { return }
            if body.readableBytes + chunk.readableBytes > bodyLimit {
                bodyTooLarge = true
                body = ByteBuffer()
            } else {
                body.writeBuffer(&chunk)
            }
        case .end:
            guard let head else { return }
            self.head = nil
            let keepAlive = head.isKeepAlive && !bodyTooLarge
            if bodyTooLarge {
                bodyTooLarge = false
                write(server.tooLarge(), keepAlive: false, context: context)
                return
            }
            let bytes = body.readBytes(length: body.readableBytes) ?? []
            switch server.answer(head: head, body: bytes, logger: logger) {
            case .now(let reply):
                write(reply, keepAlive: keepAlive, context: context)
            case .later(let reply):
                readInterest.answerPending = true
                let eventLoop = context.eventLoop
                let bound = NIOLoopBound((handler: self, context: context), eventLoop: eventLoop)
                Task {
                    let answer = await reply()
                    if eventLoop.inEventLoop {
                        bound.value.handler.write(answer, keepAlive: keepAlive, context: bound.value.context)
                    } else {
                        eventLoop.execute {
                            bound.value.handler.write(answer, keepAlive: keepAlive, context: bound.value.context)
                        }
                    }
                }
            }
        }
    }

    private func write(_ reply: Reply, keepAlive: Bool, context: ChannelHandlerContext) {
        readInterest.answered()
        let written = writeAndFlush(reply, keepAlive: keepAlive, context: context)
        if !keepAlive {
            let channel = context.channel
            written.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    private func writeAndFlush(_ reply: Reply, keepAlive: Bool, context: ChannelHandlerContext) -> EventLoopFuture<Void> {
        var headers = reply.headers
        headers.add(name: "content-length", value: String(reply.body.count))
        if !keepAlive {
            headers.add(name: "connection", value: "close")
        }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: reply.status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: reply.body)))), promise: nil)
        return context.writeAndFlush(wrapOutboundOut(.end(nil)))
    }

    /// Set once a request NIO could not parse has been answered: the bytes that follow are dropped.
    private var refused = false
    /// How long a connection whose request was refused waits for the client to close it.
    private static let refusedLingerTime = TimeAmount.seconds(10)

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !refused else { return }
        logger.debug("Connection closed after an error: \(error)")
        guard let error = error as? HTTPParserError else {
            context.close(promise: nil)
            return
        }
        // A request that is not HTTP/1.1, or is over the limits, is answered (NIO's pipelining handler holds
        // the error back while an earlier request is being answered). Only the sending side closes then, and
        // the rest of the request is read and dropped: closing a socket with unread bytes would reset the
        // connection, and the client could lose the answer.
        refused = true
        head = nil
        let channel = context.channel
        writeAndFlush(server.badRequest(error), keepAlive: false, context: context).whenComplete { _ in
            channel.close(mode: .output, promise: nil)
        }
        channel.eventLoop.scheduleTask(in: Self.refusedLingerTime) { channel.close(promise: nil) }
    }
}

/// Keeps a connection's socket in epoll's read set while its request is answered from a task, the first handler
/// of the pipeline.
///
/// NIO's pipelining handler holds back the read NIO asks for after each batch of reads while an answer is
/// pending, and NIO then takes the socket out of the read set, to put it back once the answer is written: two
/// `epoll_ctl` calls per request. A client that waits for each answer (every AWS SDK) sends nothing meanwhile, so
/// reading on costs nothing. Once bytes do arrive while an answer is pending (a client pipelining its requests),
/// or the server is shutting down, this handler stops asking and the pipelining handler's back-pressure
/// applies as before: at most one more batch of reads is taken in.
final class ReadInterest: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    /// Whether the connection's request is being answered from a task: set by the request handler.
    var answerPending = false
    /// Bytes arrived while the answer was pending.
    private var readWhilePending = false
    private var quiescing = false

    /// The pending answer is written.
    func answered() {
        answerPending = false
        readWhilePending = false
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if answerPending { readWhilePending = true }
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
        if answerPending, !readWhilePending, !quiescing {
            context.read()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent { quiescing = true }
        context.fireUserInboundEventTriggered(event)
    }
}
