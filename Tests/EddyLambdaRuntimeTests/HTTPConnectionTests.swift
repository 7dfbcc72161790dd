import Foundation
import NIOCore
import NIOPosix
import Testing

@testable import EddyLambdaRuntime

/// The runtime's HTTP/1.1 client against a server that answers each request with bytes the test wrote, sent
/// a few bytes at a time, so that every parse meets answers split anywhere.
@Suite struct HTTPConnectionTests {
    @Test func aChunkedBodyWithExtensionsAndTrailersIsJoinedAndTheConnectionKeptForTheNextRequest() async throws {
        let server = try await ScriptedServer.start([
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
            "HTTP/1.1 202 Accepted\r\ncontent-LENGTH: 2\r\nX-Two:  a b \r\n\r\nok",
        ])
        let connection = HTTPConnection(host: "127.0.0.1", port: server.port, bodyBytesMax: 1024)
        let first = try connection.request("GET", "/first")
        #expect(first.status == 200)
        #expect(String(decoding: first.body, as: UTF8.self) == "hello world")
        let second = try connection.request(
            "POST", "/second", headers: [("X-Test", "1\r\nX-Injected: yes\n")], body: Array("body".utf8))
        #expect(second.status == 202)
        #expect(second.body == Array("ok".utf8))
        #expect(second.header("x-two") == "a b")
        #expect(server.connections == 1)
        #expect(server.requests == [
            "GET /first HTTP/1.1\r\nHost: 127.0.0.1:\(server.port)\r\nUser-Agent: EddyLambdaRuntime\r\n\r\n",
            "POST /second HTTP/1.1\r\nHost: 127.0.0.1:\(server.port)\r\nUser-Agent: EddyLambdaRuntime\r\nX-Test: 1X-Injected: yes\r\nContent-Length: 4\r\n\r\nbody",
        ])
        await server.stop()
    }

    @Test func aBodyWithoutALengthRunsToTheEndOfTheConnectionAndTheNextRequestOpensANewOne() async throws {
        let server = try await ScriptedServer.start(
            ["HTTP/1.1 200 OK\r\n\r\nto the end", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"], closeAfter: [0])
        let connection = HTTPConnection(host: "127.0.0.1", port: server.port, bodyBytesMax: 1024)
        #expect(try connection.request("GET", "/a").body == Array("to the end".utf8))
        #expect(try connection.request("GET", "/b").body == [])
        #expect(server.connections == 2)
        await server.stop()
    }

    @Test func aConnectionTheServerDroppedWhileIdleIsOpenedAgainOnce() async throws {
        let server = try await ScriptedServer.start(
            ["HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"],
            closeAfter: [0])
        let connection = HTTPConnection(host: "127.0.0.1", port: server.port, bodyBytesMax: 1024)
        #expect(try connection.request("GET", "/a").body == Array("a".utf8))
        try await Task.sleep(for: .milliseconds(100))
        #expect(try connection.request("GET", "/b").body == Array("b".utf8))
        #expect(server.connections == 2)
        await server.stop()
    }

    @Test func aConnectionLostWithinAnAnswerIsNotRetried() async throws {
        let server = try await ScriptedServer.start(["HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"], closeAfter: [0])
        let connection = HTTPConnection(host: "127.0.0.1", port: server.port, bodyBytesMax: 1024)
        let error = #expect(throws: HTTPConnectionError.self) { try connection.request("GET", "/a") }
        guard case .closed(beforeResponse: false, _)? = error else { Issue.record("failed with \(String(describing: error))"); return }
        #expect(server.connections == 1)
        await server.stop()
    }

    @Test(arguments: [
        ("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world", "tooLarge"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n", "tooLarge"),
        ("SMTP 220 hello\r\n\r\n", "malformed"),
        ("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "malformed"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "malformed"),
        ("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "malformed"),
    ])
    func anAnswerTheClientCannotTakeIsAnError(answer: String, expected: String) async throws {
        let server = try await ScriptedServer.start([answer])
        let connection = HTTPConnection(host: "127.0.0.1", port: server.port, bodyBytesMax: 10)
        let error = #expect(throws: HTTPConnectionError.self) { try connection.request("GET", "/a") }
        switch error {
        case .tooLarge?: #expect(expected == "tooLarge")
        case .malformed?: #expect(expected == "malformed")
        default: Issue.record("failed with \(String(describing: error))")
        }
        await server.stop()
    }

    @Test func aServerThatIsNotListeningRefusesTheConnection() throws {
        let held = try HeldPort()
        let connection = HTTPConnection(host: "127.0.0.1", port: held.port, bodyBytesMax: 10)
        let error = #expect(throws: HTTPConnectionError.self) { try connection.request("GET", "/a") }
        guard case .connectFailed? = error else { Issue.record("failed with \(String(describing: error))"); return }
    }
}

/// A TCP server that answers the n-th request it receives (head, and body by its Content-Length) with the
/// n-th scripted answer, written 7 bytes a millisecond; after the answers numbered in `closeAfter` it closes the
/// connection, without a `Connection: close` header unless the answer has one.
final class ScriptedServer: @unchecked Sendable {
    let port: UInt16
    private let channel: Channel
    private let state: State

    private init(port: UInt16, channel: Channel, state: State) {
        self.port = port
        self.channel = channel
        self.state = state
    }

    static func start(_ answers: [String], closeAfter: Set<Int> = []) async throws -> ScriptedServer {
        let state = State(answers: answers.map { Array($0.utf8) }, closeAfter: closeAfter)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                state.accepted()
                do {
                    try channel.pipeline.syncOperations.addHandler(ScriptHandler(state: state))
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return ScriptedServer(port: UInt16(channel.localAddress!.port!), channel: channel, state: state)
    }

    /// Every request received, as text.
    var requests: [String] { state.lock.withLock { state.requests } }

    var connections: Int { state.lock.withLock { state.connections } }

    func stop() async {
        try? await channel.close()
    }

    fileprivate final class State: @unchecked Sendable {
        let lock = NSLock()
        let answers: [[UInt8]]
        let closeAfter: Set<Int>
        var requests: [String] = []
        var connections = 0

        init(answers: [[UInt8]], closeAfter: Set<Int>) {
            self.answers = answers
            self.closeAfter = closeAfter
        }

        func accepted() {
            lock.withLock { connections += 1 }
        }

        /// Records `request`; returns its answer and whether to close after it.
        func answer(to request: [UInt8]) -> (answer: [UInt8], close: Bool) {
            lock.withLock {
                let index = requests.count
                requests.append(String(decoding: request, as: UTF8.self))
                guard index < answers.count else { return ([], true) }
                return (answers[index], closeAfter.contains(index))
            }
        }
    }
}

private final class ScriptHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let state: ScriptedServer.State
    private var received: [UInt8] = []

    init(state: ScriptedServer.State) {
        self.state = state
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        received += buffer.readBytes(length: buffer.readableBytes) ?? []
        while let request = takeRequest() {
            let (answer, close) = state.answer(to: request)
            // A piece every millisecond, so that the client's reads end anywhere in the answer.
            let pieces = stride(from: 0, to: answer.count, by: 7).map { answer[$0..<min($0 + 7, answer.count)] }
            let loop = context.eventLoop
            let channel = context.channel
            for (index, piece) in pieces.enumerated() {
                let buffer = ByteBuffer(bytes: piece)
                loop.scheduleTask(in: .milliseconds(Int64(index))) { channel.writeAndFlush(buffer, promise: nil) }
            }
            if close {
                loop.scheduleTask(in: .milliseconds(Int64(pieces.count))) { channel.close(promise: nil) }
                return
            }
        }
    }

    /// The first complete request in `received`, removed from it.
    private func takeRequest() -> [UInt8]? {
        let text = String(decoding: received, as: UTF8.self)
        guard let headEnd = text.range(of: "\r\n\r\n") else { return nil }
        let head = text[..<headEnd.lowerBound]
        let length = head.split(separator: "\r\n")
            .first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
        let total = text.utf8.distance(from: text.utf8.startIndex, to: headEnd.upperBound) + length
        guard received.count >= total else { return nil }
        defer { received.removeFirst(total) }
        return Array(received[..<total])
    }
}
