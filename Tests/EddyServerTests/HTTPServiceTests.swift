import NIOCore
import NIOEmbedded
import Testing

@testable import EddyServer

/// ``ReadInterest``: when the connection asks for its next read itself, and when it leaves that to NIO's
/// pipelining handler (which holds the read back while an answer is pending).
@Suite("Read interest while an answer is pending")
struct HTTPServiceTests {
    /// Counts the reads the handlers after it ask for: it stands where the channel's head would take them.
    private final class ReadCounter: ChannelOutboundHandler {
        typealias OutboundIn = Never
        var reads = 0

        func read(context: ChannelHandlerContext) {
            reads += 1
            context.read()
        }
    }

    private static func connection() throws -> (EmbeddedChannel, ReadInterest, ReadCounter) {
        let channel = EmbeddedChannel()
        let counter = ReadCounter()
        let readInterest = ReadInterest()
        try channel.pipeline.syncOperations.addHandler(counter)
        try channel.pipeline.syncOperations.addHandler(readInterest)
        return (channel, readInterest, counter)
    }

    @Test("No answer pending: the read is left to NIO")
    func idle() throws {
        let (channel, _, counter) = try Self.connection()
        try channel.writeInbound(ByteBuffer(string: "POST / HTTP/1.1\r\n"))
        channel.pipeline.fireChannelReadComplete()
        #expect(counter.reads == 0)
    }

    @Test("An answer pending and nothing read meanwhile: the next read is asked for at each read's end")
    func pending() throws {
        let (channel, readInterest, counter) = try Self.connection()
        try channel.writeInbound(ByteBuffer(string: "POST / HTTP/1.1\r\n\r\n"))
        readInterest.answerPending = true
        channel.pipeline.fireChannelReadComplete()
        #expect(counter.reads == 1)
        readInterest.answered()
        channel.pipeline.fireChannelReadComplete()
        #expect(counter.reads == 1)
    }

    @Test("Bytes read while an answer is pending: no more reads are asked for until it is written")
    func pipelined() throws {
        let (channel, readInterest, counter) = try Self.connection()
        readInterest.answerPending = true
        try channel.writeInbound(ByteBuffer(string: "POST / HTTP/1.1\r\n\r\n"))
        channel.pipeline.fireChannelReadComplete()
        #expect(counter.reads == 0)
        readInterest.answered()
        readInterest.answerPending = true
        channel.pipeline.fireChannelReadComplete()
        #expect(counter.reads == 1)
    }

    @Test("A quiescing server asks for no reads")
    func quiescing() throws {
        let (channel, readInterest, counter) = try Self.connection()
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        readInterest.answerPending = true
        channel.pipeline.fireChannelReadComplete()
        #expect(counter.reads == 0)
    }
}
