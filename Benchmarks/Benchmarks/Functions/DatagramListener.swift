import Foundation
import Glibc

/// A UDP socket on `127.0.0.1` that the benchmark's functions send their reports to, and the thread that
/// receives them: each datagram is passed, as text, to the listener's closure, in the order they arrived.
///
/// A function reports over UDP because it is the cheapest way out of its process: one `sendto`, which never
/// waits for the benchmark. A function sends its report before it returns, so before the invocation that
/// ran it ends; ``fence()`` waits until every report that reached the socket before it has been handled.
final class DatagramListener: Sendable {
    /// The port functions send to.
    let port: Int
    private let descriptor: Int32
    private let fences = Fences()
    private let stopped = DispatchSemaphore(value: 0)

    /// The text of the fence datagram, which no function sends.
    private static let fenceText = "fence"

    /// Counts the fences sent and those the thread has seen.
    private final class Fences: @unchecked Sendable {
        let condition = NSCondition()
        var sent = 0
        var seen = 0
    }

    /// Opens the socket on a free port and starts receiving: `receive` is called on the listener's thread
    /// with the text of each datagram.
    init(receive: @escaping @Sendable (Substring) -> Void) {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        precondition(descriptor >= 0, "socket: \(errno)")
        // Room for the reports of many batches, should the thread fall behind.
        var bufferBytes: Int32 = 4 << 20
        setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &bufferBytes, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        precondition(bound == 0, "bind: \(errno)")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
        let (fences, stopped) = (self.fences, self.stopped)
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
                guard count > 0 else { break }
                let text = String(decoding: buffer[..<count], as: UTF8.self)
                if text == Self.fenceText {
                    fences.condition.lock()
                    fences.seen += 1
                    fences.condition.broadcast()
                    fences.condition.unlock()
                } else {
                    receive(text[...])
                }
            }
            stopped.signal()
        }
        thread.name = "eddy-bench-datagrams"
        thread.start()
    }

    /// Returns once every datagram that reached the socket before this call has been handled: it sends a
    /// datagram of its own to the socket and waits for the thread to receive it (a socket's datagrams are
    /// received in the order they arrived).
    func fence() {
        fences.condition.lock()
        fences.sent += 1
        let awaited = fences.sent
        fences.condition.unlock()
        var address = Self.loopback(port: port)
        let sent = Array(Self.fenceText.utf8).withUnsafeBytes { bytes in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(descriptor, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        precondition(sent == Self.fenceText.utf8.count, "sendto: \(errno)")
        fences.condition.lock()
        while fences.seen < awaited { fences.condition.wait() }
        fences.condition.unlock()
    }

    /// Stops the thread and closes the socket.
    func close() {
        // `shutdown` wakes the thread's `recv`, which then returns 0.
        shutdown(descriptor, Int32(SHUT_RDWR))
        stopped.wait()
        Glibc.close(descriptor)
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}
