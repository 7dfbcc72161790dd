import Crypto
import Foundation
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix

/// An HTTP/1.1 client of a server on 127.0.0.1 that signs its requests with AWS Signature Version 4 as the AWS
/// SDKs do. It sends requests pipelined on one keep-alive connection, opened again after the server closes it.
///
/// The signature is computed here from the AWS documentation's steps, not with the server's own code, so that
/// a request the server refuses as wrongly signed shows a disagreement between the two.
///
/// ```swift
/// let client = SignedHTTPClient(port: port, credentials: .init(accessKeyId: "AKID", secretAccessKey: "secret"))
/// let answers = await client.send([.init(target: "DynamoDB_20120810.ListTables", body: Array("{}".utf8))])
/// await client.close()
/// ```
final class SignedHTTPClient {
    /// An access key pair.
    struct Credentials: Sendable {
        var accessKeyId: String
        var secretAccessKey: String
    }

    /// A request: `POST /` with `X-Amz-Target: target` (no such header when nil), signed with
    /// `secretAccessKey` (the client's own secret when nil).
    struct Request {
        var target: String?
        var body: [UInt8]
        var secretAccessKey: String?
    }

    /// A response: its status, headers and body.
    struct Answer {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]
    }

    let port: Int
    let credentials: Credentials
    let region: String
    private var channel: (any Channel)?

    init(port: Int, credentials: Credentials, region: String = "us-east-1") {
        self.port = port
        self.credentials = credentials
        self.region = region
    }

    /// Sends `requests` pipelined, the server answering them in order, and returns their answers, or what
    /// NIO threw for those with none (the connection could not be opened, or closed before the answer).
    func send(_ requests: [Request]) async -> [Result<Answer, any Error>] {
        let channel: any Channel
        do {
            channel = try await connection()
        } catch {
            return requests.map { _ in .failure(error) }
        }
        let responses = requests.map { request in
            let signed = SignedRequest(
                head: head(target: request.target, body: request.body, secretAccessKey: request.secretAccessKey ?? credentials.secretAccessKey),
                body: ByteBuffer(bytes: request.body))
            let promise = channel.eventLoop.makePromise(of: NIOHTTPClientResponseFull.self)
            channel.write((signed, promise), promise: nil)
            return promise.futureResult
        }
        channel.flush()
        var answers: [Result<Answer, any Error>] = []
        var closes = false
        for response in responses {
            do {
                let response = try await response.get()
                closes = closes || !response.head.isKeepAlive
                let body = response.body.map { Array($0.readableBytesView) } ?? []
                answers.append(.success(Answer(status: Int(response.head.status.code), headers: response.head.headers, body: body)))
            } catch {
                closes = true
                answers.append(.failure(error))
            }
        }
        if closes {
            await close()
        }
        return answers
    }

    /// Closes the connection, if one is open.
    func close() async {
        guard let channel else { return }
        self.channel = nil
        try? await channel.close()
    }

    /// The open connection, or a new one.
    private func connection() async throws -> any Channel {
        if let channel, channel.isActive { return channel }
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHTTPClientHandlers()
                    try pipeline.addHandler(NIOHTTPClientResponseAggregator(maxContentLength: Self.responseBytesMax))
                    try pipeline.addHandler(RequestWriter())
                    try pipeline.addHandler(RequestResponseHandler<SignedRequest, NIOHTTPClientResponseFull>())
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .get()
        self.channel = channel
        return channel
    }

    /// Far more than any answer of the fuzzed requests: a page of Query or Scan is at most 1 MB.
    private static let responseBytesMax = 64 * 1024 * 1024

    // MARK: - Signing

    /// The request's headers, the `Authorization` header last, as the AWS documentation's "Create a signed
    /// AWS API request" builds them: the canonical request covers the method, path, empty query, the
    /// signed headers and the body's SHA-256; the string to sign its SHA-256 under the date and scope.
    private func head(target: String?, body: [UInt8], secretAccessKey: String) -> HTTPRequestHead {
        let date = Self.timestamp(Date())
        let day = String(date.prefix(8))
        var signed: [(name: String, value: String)] = [
            ("content-type", "application/x-amz-json-1.0"), ("host", "127.0.0.1:\(port)"), ("x-amz-date", date),
        ]
        if let target { signed.append(("x-amz-target", target)) }
        let signedNames = signed.map(\.name).joined(separator: ";")
        let canonical = (["POST", "/", ""] + signed.map { "\($0.name):\($0.value)" } + ["", signedNames, Self.hex(SHA256.hash(data: body))])
            .joined(separator: "\n")
        let scope = "\(day)/\(region)/dynamodb/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", date, scope, Self.hex(SHA256.hash(data: Array(canonical.utf8)))].joined(separator: "\n")
        var key = SymmetricKey(data: Array("AWS4\(secretAccessKey)".utf8))
        for part in [day, region, "dynamodb", "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
        var headers = HTTPHeaders(signed)
        headers.add(name: "content-length", value: String(body.count))
        headers.add(
            name: "authorization",
            value: "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyId)/\(scope), SignedHeaders=\(signedNames), Signature=\(signature)")
        return HTTPRequestHead(version: .http1_1, method: .POST, uri: "/", headers: headers)
    }

    /// `date` as SigV4's `YYYYMMDD'T'HHMMSS'Z'`.
    private static func timestamp(_ date: Date) -> String {
        let parts = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
        func digits(_ value: Int?, _ count: Int) -> String {
            let text = String(value ?? 0)
            return String(repeating: "0", count: max(0, count - text.count)) + text
        }
        return digits(parts.year, 4) + digits(parts.month, 2) + digits(parts.day, 2) + "T" + digits(parts.hour, 2)
            + digits(parts.minute, 2) + digits(parts.second, 2) + "Z"
    }

    /// `bytes` in lower-case hexadecimal.
    private static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// A whole request, for ``RequestWriter`` to write as NIO's HTTP parts.
private struct SignedRequest: Sendable {
    var head: HTTPRequestHead
    var body: ByteBuffer
}

/// Writes a ``SignedRequest`` as its head, body and end, so that the connection's pipeline takes whole
/// requests and gives whole responses.
private final class RequestWriter: ChannelOutboundHandler {
    typealias OutboundIn = SignedRequest
    typealias OutboundOut = HTTPClientRequestPart

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        context.write(wrapOutboundOut(.head(request.head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(request.body))), promise: nil)
        context.write(wrapOutboundOut(.end(nil)), promise: promise)
    }
}
