import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A Lambda Runtime API (version 2018-06-01) for the tests, on 127.0.0.1 and a port the system picks, with
/// SwiftNIO's HTTP/1.1 codec (not the client's own parser): it hands out the invocations a test queued, answers
/// every POST, and records every request it received.
///
/// With `finishWhenIdle`, a `GET …/invocation/next` that finds no invocation queued stops the server: it stops
/// listening, then closes the connection, so that a runtime finds the Runtime API gone, as when Lambda tears
/// down an execution environment. Without, such a request waits for ``enqueue(_:)``.
final class FakeRuntimeAPI: @unchecked Sendable {
    /// One invocation to hand out.
    struct Invocation: Sendable {
        var requestId: String
        var event: [UInt8]
        /// Headers besides the request id (the deadline and the ARN have defaults; a nil value leaves one out).
        var headers: [String: String?] = [:]
    }

    /// One request the server received.
    struct Request: Sendable {
        var method: String
        var uri: String
        var headers: HTTPHeaders
        var body: [UInt8]

        var text: String { String(decoding: body, as: UTF8.self) }
        /// The body as a JSON object.
        var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] }
    }

    /// How the server answers, beyond the Runtime API's normal answers.
    struct Behaviour: Sendable {
        /// Stop once a runtime asks for an invocation and none is queued.
        var finishWhenIdle = true
        /// The status of every answer to a POST (`202 Accepted` as Lambda's).
        var postStatus: HTTPResponseStatus = .accepted
        /// Send events with chunked transfer encoding, in two chunks, instead of a Content-Length.
        var chunkedEvents = false
        /// Answer every request with `Connection: close` and close the connection after the answer.
        var connectionClose = false
        /// Close the connection without a word after answering each POST, as a server that drops idle
        /// keep-alive connections does.
        var dropConnectionAfterPost = false
    }

    let port: Int
    private let behaviour: Behaviour
    private let serverChannel: Channel
    private let lock = NSLock()
    private var queued: [Invocation] = []
    private var waiting: Channel?
    private var received: [Request] = []
    private var connectionCount = 0

    private init(port: Int, behaviour: Behaviour, serverChannel: Channel) {
        self.port = port
        self.behaviour = behaviour
        self.serverChannel = serverChannel
    }

    /// Starts a server that will hand out `invocations`, in order.
    static func start(_ invocations: [Invocation] = [], behaviour: Behaviour = Behaviour()) async throws -> FakeRuntimeAPI {
        let box = APIBox()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                do {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(RequestHandler(api: box.api!))
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let api = FakeRuntimeAPI(port: channel.localAddress!.port!, behaviour: behaviour, serverChannel: channel)
        api.queued = invocations
        box.api = api
        return api
    }

    /// `host:port`, as `AWS_LAMBDA_RUNTIME_API` names the endpoint.
    var endpoint: String { "127.0.0.1:\(port)" }

    /// Every request received so far, in order.
    var requests: [Request] {
        lock.withLock { received }
    }

    /// How many connections the server has accepted.
    var connections: Int {
        lock.withLock { connectionCount }
    }

    /// Queues `invocation`, handing it to a runtime waiting for one.
    func enqueue(_ invocation: Invocation) {
        let channel: Channel? = lock.withLock {
            guard let channel = waiting else {
                queued.append(invocation)
                return nil
            }
            waiting = nil
            return channel
        }
        if let channel { answerNext(invocation, on: channel) }
    }

    /// Stops listening and closes every connection.
    func stop() async {
        try? await serverChannel.close()
        let channel = lock.withLock {
            defer { waiting = nil }
            return waiting
        }
        try? await channel?.close()
    }

    fileprivate func accepted() {
        lock.withLock { connectionCount += 1 }
    }

    fileprivate func handle(_ request: Request, on channel: Channel) {
        enum Action {
            case answer(Invocation)
            case wait
            case finish
            case post
        }
        let action: Action = lock.withLock {
            received.append(request)
            guard request.method == "GET" else { return .post }
            if !queued.isEmpty { return .answer(queued.removeFirst()) }
            if behaviour.finishWhenIdle { return .finish }
            waiting = channel
            return .wait
        }
        switch action {
        case .answer(let invocation):
            answerNext(invocation, on: channel)
        case .wait:
            break
        case .finish:
            // Stop listening first, so that the runtime's new connection is refused.
            serverChannel.close().whenComplete { _ in channel.close(promise: nil) }
        case .post:
            var headers = HTTPHeaders([("Content-Type", "application/json")])
            if behaviour.connectionClose { headers.add(name: "Connection", value: "close") }
            let body = behaviour.postStatus == .accepted ? #"{"status":"OK"}"# : #"{"errorMessage":"refused","errorType":"Test"}"#
            headers.add(name: "Content-Length", value: String(body.utf8.count))
            write(status: behaviour.postStatus, headers: headers, body: [Array(body.utf8)], on: channel)
                .whenComplete { _ in
                    if self.behaviour.connectionClose || self.behaviour.dropConnectionAfterPost {
                        channel.close(promise: nil)
                    }
                }
        }
    }

    private func answerNext(_ invocation: Invocation, on channel: Channel) {
        var fields: [String: String?] = [
            "Lambda-Runtime-Aws-Request-Id": invocation.requestId,
            "Lambda-Runtime-Deadline-Ms": "4102444800000",
            "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:000000000000:function:echo",
            "Lambda-Runtime-Trace-Id": "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1",
        ]
        fields.merge(invocation.headers) { $1 }
        var headers = HTTPHeaders([("Content-Type", "application/json")])
        for (name, value) in fields.sorted(by: { $0.key < $1.key }) {
            if let value { headers.add(name: name, value: value) }
        }
        if behaviour.connectionClose { headers.add(name: "Connection", value: "close") }
        let parts: [[UInt8]]
        if behaviour.chunkedEvents {
            let half = invocation.event.count / 2
            parts = [Array(invocation.event[..<half]), Array(invocation.event[half...])]
        } else {
            headers.add(name: "Content-Length", value: String(invocation.event.count))
            parts = [invocation.event]
        }
        write(status: .ok, headers: headers, body: parts, on: channel).whenComplete { _ in
            if self.behaviour.connectionClose { channel.close(promise: nil) }
        }
    }

    private func write(
        status: HTTPResponseStatus, headers: HTTPHeaders, body: [[UInt8]], on channel: Channel
    ) -> EventLoopFuture<Void> {
        channel.write(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers)), promise: nil)
        for part in body where !part.isEmpty {
            channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: part))), promise: nil)
        }
        return channel.writeAndFlush(HTTPServerResponsePart.end(nil))
    }
}

/// The server, for the channel initializer that runs before the server exists.
private final class APIBox: @unchecked Sendable {
    var api: FakeRuntimeAPI?
}

/// Collects one request at a time and hands it to the server.
private final class RequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart

    private let api: FakeRuntimeAPI
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(api: FakeRuntimeAPI) {
        self.api = api
    }

    func channelActive(context: ChannelHandlerContext) {
        api.accepted()
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            body = []
        case .body(var buffer):
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let head else { return }
            api.handle(
                FakeRuntimeAPI.Request(method: head.method.rawValue, uri: head.uri, headers: head.headers, body: body),
                on: context.channel)
        }
    }
}
