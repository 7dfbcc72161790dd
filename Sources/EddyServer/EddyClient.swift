import Foundation
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix

/// An HTTP/1.1 client of an Eddy server (`eddy serve`) that signs each request with AWS Signature Version 4,
/// as the AWS SDKs do: DynamoDB's and DynamoDB Streams' JSON protocol, and Eddy's admin API (see
/// ``EddyServer``). Requests go pipelined over one keep-alive connection, opened again after the server closes
/// it. `eddy --endpoint-url` sends its requests with it.
///
/// ```swift
/// let client = try EddyClient(endpointURL: "http://127.0.0.1:8000", credentials: .init(accessKeyId: "AKID", secretAccessKey: "secret"))
/// let answer = try await client.send(.target("DynamoDB_20120810.ListTables", body: Array("{}".utf8)))
/// await client.close()
/// ```
public actor EddyClient {
    /// A request: the method, the path (percent-encoded), the query, headers besides `Host`, `X-Amz-Date`,
    /// `Authorization` and `Content-Length` (which the client adds), the body, and the service its signature is
    /// for.
    public struct Request: Sendable {
        public var method: String
        public var path: String
        public var query: String
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]
        /// The service the signature's scope names: `dynamodb` for DynamoDB and DynamoDB Streams, `eddy` for
        /// the admin API.
        public var service: String
        /// Signs with these credentials instead of the client's.
        public var credentials: SigV4Credentials?

        public init(
            method: String, path: String, query: String = "", headers: [(name: String, value: String)] = [], body: [UInt8] = [],
            service: String, credentials: SigV4Credentials? = nil
        ) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.body = body
            self.service = service
            self.credentials = credentials
        }

        /// `POST /` with `X-Amz-Target: target` (none when nil), as DynamoDB's and DynamoDB Streams' JSON
        /// protocol sends an operation.
        public static func target(_ target: String?, body: [UInt8], credentials: SigV4Credentials? = nil) -> Request {
            var headers = [(name: "Content-Type", value: "application/x-amz-json-1.0")]
            if let target { headers.append((name: "X-Amz-Target", value: target)) }
            return Request(method: "POST", path: "/", headers: headers, body: body, service: "dynamodb", credentials: credentials)
        }

        /// A request of Eddy's admin API: `path` below `/eddy/2026-12-01/`, each segment percent-encoded here.
        public static func admin(_ method: String, _ segments: [String], body: [UInt8] = []) -> Request {
            let path = AdminAPI.prefix + segments.map(Self.percentEncoded).joined(separator: "/")
            let headers = body.isEmpty ? [] : [(name: "Content-Type", value: "application/json")]
            return Request(method: method, path: path, headers: headers, body: body, service: "eddy")
        }

        private static func percentEncoded(_ segment: String) -> String {
            var bytes: [UInt8] = []
            URIEncoding.append(segment.utf8, to: &bytes)
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// A response: its status, headers and body.
    public struct Response: Sendable {
        public var status: Int
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]

        /// The first value of header `name` (compared without case), if the response has it.
        public func header(_ name: String) -> String? {
            headers.first { ASCII.equalsIgnoringCase($0.name, name) }?.value
        }
    }

    /// What keeps a client from being made or a request from being answered.
    public struct ClientError: Error, CustomStringConvertible {
        public var description: String
    }

    public nonisolated let host: String
    public nonisolated let port: Int
    public nonisolated let credentials: SigV4Credentials
    public nonisolated let region: String
    private var channel: (any Channel)?

    /// A client of the server at `host`:`port`, signing as `credentials` for `region`.
    public init(host: String = "127.0.0.1", port: Int, credentials: SigV4Credentials, region: String = "us-east-1") {
        self.host = host
        self.port = port
        self.credentials = credentials
        self.region = region
    }

    /// A client of the server at `endpointURL`, `http://HOST[:PORT]` (port 80 when absent), as the AWS CLI's
    /// `--endpoint-url` names it.
    ///
    /// - Throws: ``ClientError`` for another scheme (the server speaks plain HTTP), a path, or no host.
    public init(endpointURL: String, credentials: SigV4Credentials, region: String = "us-east-1") throws(ClientError) {
        guard let url = URLComponents(string: endpointURL), url.scheme?.lowercased() == "http", let host = url.host, !host.isEmpty,
            ["", "/"].contains(url.path), url.query == nil
        else {
            throw ClientError(description: "The endpoint URL \(endpointURL) is not http://HOST[:PORT] (eddy serve speaks plain HTTP)")
        }
        self.init(host: host, port: url.port ?? 80, credentials: credentials, region: region)
    }

    /// Sends `request` and returns the server's response, whatever its status.
    ///
    /// - Throws: ``ClientError`` if the server cannot be reached, or closes the connection before answering.
    public func send(_ request: Request) async throws(ClientError) -> Response {
        try await send([request])[0].get()
    }

    /// Sends `requests` pipelined, the server answering them in order, and returns their responses, or why
    /// there is none (the connection could not be opened, or closed before the answer).
    public func send(_ requests: [Request]) async -> [Result<Response, ClientError>] {
        let channel: any Channel
        do {
            channel = try await connection()
        } catch {
            let failure = ClientError(description: "Could not connect to the endpoint URL: \"\(endpoint)\" (\(error))")
            return requests.map { _ in .failure(failure) }
        }
        let responses = requests.map { request in
            let promise = channel.eventLoop.makePromise(of: NIOHTTPClientResponseFull.self)
            channel.write((signed(request), promise), promise: nil)
            return promise.futureResult
        }
        channel.flush()
        var answers: [Result<Response, ClientError>] = []
        var closes = false
        for response in responses {
            do {
                let response = try await response.get()
                closes = closes || !response.head.isKeepAlive
                answers.append(.success(Response(
                    status: Int(response.head.status.code), headers: response.head.headers.map { (name: $0.name, value: $0.value) },
                    body: response.body.map { Array($0.readableBytesView) } ?? [])))
            } catch {
                closes = true
                answers.append(.failure(ClientError(description: "The connection to \(endpoint) closed before the answer (\(error))")))
            }
        }
        if closes {
            await close()
        }
        return answers
    }

    /// Closes the connection, if one is open.
    public func close() async {
        guard let channel else { return }
        self.channel = nil
        try? await channel.close()
    }

    private var endpoint: String { "http://\(host):\(port)/" }

    /// `request` signed, as NIO's parts.
    private func signed(_ request: Request) -> WholeRequest {
        let hostHeader = port == 80 ? host : "\(host):\(port)"
        let signer = SigV4Signer(credentials: request.credentials ?? credentials, region: region, service: request.service)
        let signed = signer.signed(SigV4Request(
            method: request.method, path: request.path, query: request.query, headers: [(name: "Host", value: hostHeader)] + request.headers,
            body: request.body))
        var headers = HTTPHeaders(signed.headers.map { ($0.name, $0.value) })
        headers.add(name: "Content-Length", value: String(request.body.count))
        let uri = request.query.isEmpty ? request.path : "\(request.path)?\(request.query)"
        return WholeRequest(
            head: HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: request.method), uri: uri, headers: headers),
            body: ByteBuffer(bytes: request.body))
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
                    try pipeline.addHandler(RequestResponseHandler<WholeRequest, NIOHTTPClientResponseFull>())
                }
            }
            .connect(host: host, port: port)
            .get()
        self.channel = channel
        return channel
    }

    /// Far more than any answer: a page of Query, Scan or GetRecords is at most 1 MB.
    private static let responseBytesMax = 64 * 1024 * 1024
}

/// A whole request, for ``RequestWriter`` to write as NIO's HTTP parts.
private struct WholeRequest: Sendable {
    var head: HTTPRequestHead
    var body: ByteBuffer
}

/// Writes a ``WholeRequest`` as its head, body and end, so that the connection's pipeline takes whole
/// requests and gives whole responses.
private final class RequestWriter: ChannelOutboundHandler {
    typealias OutboundIn = WholeRequest
    typealias OutboundOut = HTTPClientRequestPart

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        context.write(wrapOutboundOut(.head(request.head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(request.body))), promise: nil)
        context.write(wrapOutboundOut(.end(nil)), promise: promise)
    }
}
