import Glibc
import NIOCore
import NIOHTTP1
import NIOPosix

// The floor of `eddy serve`'s HTTP stack for Benchmarks/server.sh: an HTTP/1.1 server on SwiftNIO's `NIOHTTP1`
// with the pipeline, socket options and event loops `eddy serve` has (Sources/EddyServer/HTTPService.swift:
// `MultiThreadedEventLoopGroup.singleton`, one loop per core), whose handler gathers each request's body and
// answers 200 with a fixed JSON body, doing nothing else.
//
//   EmptyHTTPServer PORT     # listens on 127.0.0.1:PORT until SIGTERM or SIGINT ends it
//
// The signals keep their default action, which ends the process: there is nothing in flight worth finishing.
// A port it cannot listen on is written to standard error with an exit status of 1.

/// Answers every request, whatever its method, path and body, once its body has been read.
final class EmptyHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// The answer's body: `"Item"` is in it so that Benchmarks/Server/dynamodb.lua counts a GetItem answer as
    /// one that found its item.
    private static let answer = #"{"Item":{}}"#

    private var body = ByteBuffer()
    private var keepAlive = true

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            keepAlive = head.isKeepAlive
            body.clear()
        case .body(var chunk):
            body.writeBuffer(&chunk)
        case .end:
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: "application/x-amz-json-1.0")
            headers.add(name: "content-length", value: String(Self.answer.utf8.count))
            if !keepAlive {
                headers.add(name: "connection", value: "close")
            }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: Self.answer)))), promise: nil)
            let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
            if !keepAlive {
                let channel = context.channel
                written.whenComplete { _ in channel.close(promise: nil) }
            }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// Writes `message` to standard error and exits with `status`.
func fail(_ message: String, status: Int32) -> Never {
    var line = message + "\n"
    line.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
    exit(status)
}

guard CommandLine.arguments.count == 2, let port = Int(CommandLine.arguments[1]) else {
    fail("usage: EmptyHTTPServer PORT", status: 2)
}
do {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .serverChannelOption(.backlog, value: 256)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: false)
                try channel.pipeline.syncOperations.addHandler(EmptyHandler())
            }
        }
        .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
        .childChannelOption(.maxMessagesPerRead, value: 16)
        .bind(host: "127.0.0.1", port: port)
        .get()
    try await channel.closeFuture.get()
} catch {
    fail("EmptyHTTPServer: \(error)", status: 1)
}
