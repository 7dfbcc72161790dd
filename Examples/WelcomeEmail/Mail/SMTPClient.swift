// A small SMTP client (RFC 5321) for the WelcomeEmail example: one mail per connection, plain TCP over POSIX
// sockets, no TLS and no authentication, as a local relay or test server takes them.
import Foundation

#if canImport(Glibc)
import Glibc

/// The socket type of a TCP socket.
private let streamSocketType = Int32(SOCK_STREAM.rawValue)
/// `send` flags: a peer that went away makes `send` fail with EPIPE instead of killing the process.
private let sendFlags = Int32(MSG_NOSIGNAL)
#elseif canImport(Darwin)
import Darwin

private let streamSocketType = SOCK_STREAM
/// `send` flags (SO_NOSIGPIPE on the socket keeps a gone peer from killing the process).
private let sendFlags: Int32 = 0
#endif

/// A plain-text mail.
public struct Mail: Sendable {
    public var from: String
    public var to: String
    public var subject: String
    /// The `Message-ID` header, angle brackets included: a receiver can tell a resent copy by it.
    public var messageId: String
    public var body: String
    public var date = Date()

    public init(from: String, to: String, subject: String, messageId: String, body: String) {
        self.from = from
        self.to = to
        self.subject = subject
        self.messageId = messageId
        self.body = body
    }

    /// The welcome mail of the user `id` called `name` at `address`, for the sign-up whose stream record is
    /// `eventID`: its Message-ID is derived from the eventID, so every copy sent for one sign-up has the same.
    public static func welcome(id: String, name: String?, address: String, eventID: String) -> Mail {
        Mail(
            from: "welcome@eddy.example", to: address, subject: "Welcome to Eddy", messageId: "<\(eventID)@welcome.eddy>",
            body: "Hi \(name ?? "there"),\n\nwelcome to Eddy! Your account \(id) is ready.\n\nThe Eddy team")
    }

    /// Whether `address` is a bare `local@domain` that is safe inside SMTP commands and headers: printable
    /// ASCII without spaces or angle brackets, one `@`, at most 254 characters.
    public static func isPlainAddress(_ address: String) -> Bool {
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty && address.utf8.count <= 254
            && address.utf8.allSatisfy { (0x21...0x7E).contains($0) && $0 != UInt8(ascii: "<") && $0 != UInt8(ascii: ">") }
    }

    /// The message as it goes after DATA: headers, a blank line, the body with CRLF line ends and every line
    /// that starts with a dot doubled (dot-stuffing), and the terminating `.` line.
    func dataSection() -> String {
        let dateFormatter = DateFormatter()
        dateFormatter.locale = Locale(identifier: "en_US_POSIX")
        dateFormatter.timeZone = TimeZone(identifier: "UTC")
        dateFormatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        let headers = [
            "From: \(from)", "To: \(to)", "Subject: \(subject)", "Message-ID: \(messageId)",
            "Date: \(dateFormatter.string(from: date))", "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit",
        ]
        let lines = body.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
            .map { $0.hasPrefix(".") ? "." + $0 : String($0) }
        return (headers + [""] + lines + ["."]).map { $0 + "\r\n" }.joined()
    }
}

/// Why a mail was not sent.
public enum SMTPError: Error, CustomStringConvertible {
    /// A socket call failed with `errno`.
    case system(call: String, errno: Int32)
    case invalidHost(String)
    /// The server closed the connection before its reply was complete.
    case connectionClosed
    case malformedReply(String)
    /// The server answered `command` with a code other than the expected ones.
    case rejected(command: String, reply: String)

    public var description: String {
        switch self {
        case .system(let call, let number): "\(call) failed: \(String(cString: strerror(number)))"
        case .invalidHost(let host): "not an IPv4 address: \(host)"
        case .connectionClosed: "the SMTP server closed the connection"
        case .malformedReply(let line): "malformed SMTP reply: \(line)"
        case .rejected(let command, let reply): "the SMTP server answered \(command) with \(reply)"
        }
    }
}

/// Sends mails to one SMTP server, each over a connection of its own.
public struct SMTPClient: Sendable {
    /// The server's IPv4 address.
    public var host: String
    public var port: UInt16
    /// How long one read or write may block.
    public var timeoutSeconds = 10

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Sends `mail` and returns once the server has accepted it (250 after the data). The blocking socket
    /// calls run on a thread of their own, never on the cooperative pool.
    public func send(_ mail: Mail) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            Thread { continuation.resume(with: Result { try sendBlocking(mail) }) }.start()
        }
    }

    /// The SMTP dialogue: greeting, EHLO (HELO if the server does not know it), MAIL FROM, RCPT TO, DATA, QUIT.
    private func sendBlocking(_ mail: Mail) throws {
        let connection = try SMTPConnection(host: host, port: port, timeoutSeconds: timeoutSeconds)
        try connection.expect([220], after: "the connection")
        if try connection.command("EHLO localhost").code != 250 {
            try connection.command("HELO localhost", expecting: [250])
        }
        try connection.command("MAIL FROM:<\(mail.from)>", expecting: [250])
        try connection.command("RCPT TO:<\(mail.to)>", expecting: [250, 251])
        try connection.command("DATA", expecting: [354])
        try connection.write(mail.dataSection())
        try connection.expect([250], after: "the message")
        // The mail is accepted: a failing goodbye changes nothing.
        _ = try? connection.command("QUIT")
    }
}

/// One TCP connection to an SMTP server, read and written with blocking calls.
private final class SMTPConnection {
    private let descriptor: Int32
    /// Received bytes not yet consumed as reply lines.
    private var received: [UInt8] = []

    init(host: String, port: UInt16, timeoutSeconds: Int) throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { throw SMTPError.invalidHost(host) }
        descriptor = socket(AF_INET, streamSocketType, 0)
        guard descriptor >= 0 else { throw SMTPError.system(call: "socket", errno: errno) }
        // From here on, a throw closes the socket in deinit.
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        for option in [SO_RCVTIMEO, SO_SNDTIMEO] {
            guard setsockopt(descriptor, SOL_SOCKET, option, &timeout, socklen_t(MemoryLayout<timeval>.size)) == 0 else {
                throw SMTPError.system(call: "setsockopt", errno: errno)
            }
        }
        #if canImport(Darwin)
        var noSignal: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_NOSIGPIPE, &noSignal, socklen_t(MemoryLayout<Int32>.size))
        #endif
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw SMTPError.system(call: "connect", errno: errno) }
    }

    deinit {
        close(descriptor)
    }

    /// Sends `line` and returns the server's reply.
    @discardableResult
    func command(_ line: String) throws -> (code: Int, text: String) {
        try write(line + "\r\n")
        return try readReply()
    }

    /// Sends `line` and throws unless the reply's code is one of `codes`.
    func command(_ line: String, expecting codes: Set<Int>) throws {
        try write(line + "\r\n")
        try expect(codes, after: line)
    }

    /// Reads a reply and throws unless its code is one of `codes`; `what` names what it answers.
    func expect(_ codes: Set<Int>, after what: String) throws {
        let reply = try readReply()
        guard codes.contains(reply.code) else { throw SMTPError.rejected(command: what, reply: reply.text) }
    }

    /// Writes all of `text`.
    func write(_ text: String) throws {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, sendFlags) }
            if count < 0 {
                if errno == EINTR { continue }
                throw SMTPError.system(call: "send", errno: errno)
            }
            offset += count
        }
    }

    /// Reads one reply, which may span lines: `250-…` lines continue it, a `250 …` line ends it.
    private func readReply() throws -> (code: Int, text: String) {
        var lines: [String] = []
        while true {
            let line = try readLine()
            guard line.utf8.count >= 3, let code = Int(line.prefix(3)) else { throw SMTPError.malformedReply(line) }
            lines.append(line)
            if line.utf8.count == 3 || line.dropFirst(3).first != "-" {
                return (code, lines.joined(separator: " | "))
            }
        }
    }

    /// Reads one line, without its CRLF.
    private func readLine() throws -> String {
        while true {
            if let newline = received.firstIndex(of: UInt8(ascii: "\n")) {
                var line = received[..<newline]
                if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
                received.removeSubrange(...newline)
                return String(decoding: line, as: UTF8.self)
            }
            var chunk = [UInt8](repeating: 0, count: 1024)
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                received += chunk[..<count]
            } else if count == 0 {
                throw SMTPError.connectionClosed
            } else if errno != EINTR {
                throw SMTPError.system(call: "recv", errno: errno)
            }
        }
    }
}
