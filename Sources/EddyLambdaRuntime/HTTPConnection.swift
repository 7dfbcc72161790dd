import Foundation

#if canImport(Glibc)
import Glibc
private let streamSocketType = Int32(SOCK_STREAM.rawValue)
#elseif canImport(Musl)
import Musl
private let streamSocketType = SOCK_STREAM
#endif

/// A blocking HTTP/1.1 client of one server over one keep-alive TCP connection: what the runtime needs to
/// talk to the Runtime API, which is a local endpoint answering one request at a time.
///
/// Every call blocks its thread (the next invocation is a long poll without a timeout), so the runtime calls
/// it from a thread of its own, never from the cooperative pool. A connection the server closed while idle is
/// opened again once; a server that refuses a new connection ends the exchange with an error.
final class HTTPConnection {
    /// The largest response head (status line and headers) read.
    static let headBytesMax = 64 * 1024

    let host: String
    let port: UInt16
    /// Bodies larger than this are refused (the connection is then closed).
    let bodyBytesMax: Int
    private var fd: Int32 = -1
    /// Bytes received and not yet parsed, from `unreadStart` on.
    private var unread: [UInt8] = []
    private var unreadStart = 0

    init(host: String, port: UInt16, bodyBytesMax: Int) {
        self.host = host
        self.port = port
        self.bodyBytesMax = bodyBytesMax
    }

    deinit {
        closeConnection()
    }

    /// Sends a request and reads its response. If the connection was open from an earlier exchange and the
    /// server had closed it before answering, opens a new one and sends the request again, once.
    func request(
        _ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8] = []
    ) throws(HTTPConnectionError) -> HTTPResponse {
        let reused = fd >= 0
        if !reused { try openConnection() }
        do {
            return try exchange(method, path, headers: headers, body: body)
        } catch HTTPConnectionError.closed(beforeResponse: true, _) where reused {
            try openConnection()
            return try exchange(method, path, headers: headers, body: body)
        }
    }

    private func exchange(
        _ method: String, _ path: String, headers: [(String, String)], body: [UInt8]
    ) throws(HTTPConnectionError) -> HTTPResponse {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(hostHeader)\r\nUser-Agent: EddyLambdaRuntime\r\n"
        for (name, value) in headers {
            // A line break in a value (an error type is the function's to choose) would end the header early.
            head += "\(name): \(value.filter { !$0.isNewline })\r\n"
        }
        if method != "GET" || !body.isEmpty { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        do {
            try sendAll(Array(head.utf8))
            try sendAll(body)
            let response = try readResponse()
            if response.closesConnection { closeConnection() }
            return response
        } catch {
            closeConnection()
            throw error
        }
    }

    private var hostHeader: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    // MARK: - Socket

    private func openConnection() throws(HTTPConnectionError) {
        closeConnection()
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = streamSocketType
        var addresses: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &addresses)
        guard status == 0, let first = addresses else {
            throw .connectFailed("\(hostHeader): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(first) }
        var lastError: Int32 = 0
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let address = candidate {
            candidate = address.pointee.ai_next
            let opened = socket(address.pointee.ai_family, address.pointee.ai_socktype, address.pointee.ai_protocol)
            guard opened >= 0 else {
                lastError = errno
                continue
            }
            if connect(opened, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0 {
                // Requests are small and each waits for its answer: Nagle's delay would only add latency.
                var on: Int32 = 1
                setsockopt(opened, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
                fd = opened
                return
            }
            lastError = errno
            close(opened)
        }
        throw .connectFailed("\(hostHeader): \(String(cString: strerror(lastError)))")
    }

    private func closeConnection() {
        if fd >= 0 { close(fd) }
        fd = -1
        unread.removeAll(keepingCapacity: true)
        unreadStart = 0
    }

    private func sendAll(_ bytes: [UInt8]) throws(HTTPConnectionError) {
        var sent = 0
        while sent < bytes.count {
            // MSG_NOSIGNAL: a server that went away makes the call fail with EPIPE instead of killing the
            // process with SIGPIPE.
            let count = bytes.withUnsafeBytes { buffer in
                send(fd, buffer.baseAddress! + sent, buffer.count - sent, Int32(MSG_NOSIGNAL))
            }
            if count < 0 {
                if errno == EINTR { continue }
                // The server closed the connection before reading the request: it never answered it.
                throw .closed(beforeResponse: true, "sending to \(hostHeader): \(String(cString: strerror(errno)))")
            }
            sent += count
        }
    }

    /// Reads more bytes into `unread`; false at the end of the stream.
    private func receive() throws(HTTPConnectionError) -> Bool {
        let chunk = 64 * 1024
        let start = unread.count
        unread.append(contentsOf: repeatElement(0, count: chunk))
        while true {
            let count = unread.withUnsafeMutableBytes { buffer in
                recv(fd, buffer.baseAddress! + start, chunk, 0)
            }
            if count < 0, errno == EINTR { continue }
            unread.removeLast(chunk - max(count, 0))
            if count < 0 {
                throw .closed(beforeResponse: false, "reading from \(hostHeader): \(String(cString: strerror(errno)))")
            }
            return count > 0
        }
    }

    // MARK: - Response

    private func readResponse() throws(HTTPConnectionError) -> HTTPResponse {
        // What the previous response left is consumed; positions within this one stay valid while it is read.
        unread.removeFirst(unreadStart)
        unreadStart = 0
        let headEnd = try readHead()
        let head = String(decoding: unread[unreadStart..<headEnd], as: UTF8.self)
        unreadStart = headEnd + 4
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst()
        let statusParts = statusLine.split(separator: " ", maxSplits: 2)
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), let status = Int(statusParts[1]) else {
            throw .malformed("status line \(statusLine.debugDescription)")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { throw .malformed("header line \(line.debugDescription)") }
            headers.append((
                line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        var response = HTTPResponse(status: status, headers: headers, body: [])
        response.closesConnection =
            response.header("connection")?.lowercased() == "close" || statusParts[0] == "HTTP/1.0"
        if response.header("transfer-encoding")?.lowercased().contains("chunked") == true {
            response.body = try readChunkedBody()
        } else if let length = response.header("content-length") {
            guard let count = Int(length), count >= 0 else { throw .malformed("Content-Length \(length)") }
            guard count <= bodyBytesMax else { throw .tooLarge("a body of \(count) bytes") }
            response.body = try readBody(count: count)
        } else if status == 204 || status == 304 {
            response.body = []
        } else {
            response.body = try readBodyToEnd()
            response.closesConnection = true
        }
        return response
    }

    /// Reads until the head's blank line; returns where it starts in `unread`.
    private func readHead() throws(HTTPConnectionError) -> Int {
        var searchFrom = unreadStart
        while true {
            if let end = Self.find([13, 10, 13, 10], in: unread, from: searchFrom) { return end }
            guard unread.count - unreadStart <= Self.headBytesMax else { throw .tooLarge("a response head") }
            searchFrom = max(unreadStart, unread.count - 3)
            let nothingYet = unread.count == unreadStart
            let more: Bool
            do {
                more = try receive()
            } catch .closed(_, let detail) where nothingYet {
                // A reset before any byte of the answer: the server dropped the connection unread.
                throw .closed(beforeResponse: true, detail)
            }
            guard more else {
                throw .closed(beforeResponse: nothingYet, "\(hostHeader) closed the connection before its response")
            }
        }
    }

    private func readBody(count: Int) throws(HTTPConnectionError) -> [UInt8] {
        while unread.count - unreadStart < count {
            guard try receive() else {
                throw .closed(beforeResponse: false, "\(hostHeader) closed the connection within a body")
            }
        }
        let body = Array(unread[unreadStart..<(unreadStart + count)])
        unreadStart += count
        return body
    }

    private func readLine() throws(HTTPConnectionError) -> String {
        var searchFrom = unreadStart
        while true {
            if let end = Self.find([13, 10], in: unread, from: searchFrom) {
                let line = String(decoding: unread[unreadStart..<end], as: UTF8.self)
                unreadStart = end + 2
                return line
            }
            guard unread.count - unreadStart <= Self.headBytesMax else { throw .tooLarge("a chunk line") }
            searchFrom = max(unreadStart, unread.count - 1)
            guard try receive() else {
                throw .closed(beforeResponse: false, "\(hostHeader) closed the connection within a chunked body")
            }
        }
    }

    private func readChunkedBody() throws(HTTPConnectionError) -> [UInt8] {
        var body: [UInt8] = []
        while true {
            let line = try readLine()
            let sizeText = line.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16), size >= 0 else {
                throw .malformed("chunk size \(line.debugDescription)")
            }
            if size == 0 {
                // Trailer fields, if any, up to the blank line.
                while try !readLine().isEmpty {}
                return body
            }
            guard body.count + size <= bodyBytesMax else { throw .tooLarge("a chunked body") }
            body += try readBody(count: size)
            guard try readLine().isEmpty else { throw .malformed("chunk of \(size) bytes not followed by CRLF") }
        }
    }

    private func readBodyToEnd() throws(HTTPConnectionError) -> [UInt8] {
        while try receive() {
            guard unread.count - unreadStart <= bodyBytesMax else { throw .tooLarge("a body read to its end") }
        }
        let body = Array(unread[unreadStart...])
        unreadStart = unread.count
        return body
    }

    private static func find(_ pattern: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard bytes.count - start >= pattern.count else { return nil }
        for index in start...(bytes.count - pattern.count)
        where bytes[index] == pattern[0] && bytes[index..<(index + pattern.count)].elementsEqual(pattern) {
            return index
        }
        return nil
    }
}

/// An HTTP response: status, headers (names lowercased) and the whole body.
struct HTTPResponse {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]
    /// The server closes the connection after this response.
    var closesConnection = false

    /// The first value of header `name` (lowercase).
    func header(_ name: String) -> String? {
        headers.first { $0.name == name }?.value
    }
}

/// Why an exchange with the server failed.
enum HTTPConnectionError: Error, CustomStringConvertible {
    /// No connection could be opened.
    case connectFailed(String)
    /// The connection broke; `beforeResponse` when not a byte of the response had arrived.
    case closed(beforeResponse: Bool, String)
    /// The response is not HTTP/1.1.
    case malformed(String)
    /// The response is larger than the client accepts.
    case tooLarge(String)

    var description: String {
        switch self {
        case .connectFailed(let detail): "cannot connect to \(detail)"
        case .closed(_, let detail): "connection lost: \(detail)"
        case .malformed(let detail): "malformed HTTP response: \(detail)"
        case .tooLarge(let what): "the server sent \(what) larger than the client accepts"
        }
    }
}
