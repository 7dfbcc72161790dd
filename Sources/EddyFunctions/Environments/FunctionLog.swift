import Foundation
import Glibc
import Logging
import Synchronization

/// A function's log: what its execution environments print and the lines the server writes about its
/// invocations (`START RequestId: …`, `END RequestId: …`, `REPORT RequestId: … Duration: 12.34 ms …`).
///
/// It appends to `function.log` in its directory (created when missing), in bounded files: when an append
/// would take `function.log` past ``maximumFileBytes``, the file becomes `function.log.1`, the older ones move
/// up one number (`.1` to `.2` and so on), the one past ``keptFiles`` is deleted, and a new `function.log`
/// starts. Many environments append at once; each append is written whole, never interleaved with another.
/// An append that fails (a full disk, a missing directory) is counted in ``failedAppendCount`` and dropped:
/// the first failure is logged, later ones only counted. One `FunctionLog` writes a directory: two would
/// rotate each other's files.
///
/// An environment runs one invocation at a time, and routes what it prints to the file and to that
/// invocation's ``LogCapture`` (for Invoke's `X-Amz-Log-Type: Tail`) with one call:
///
/// ```swift
/// let capture = LogCapture()
/// log.append(line: "START RequestId: \(requestId) Version: $LATEST", to: capture)
/// // The environment's ChildProcess output closure, meanwhile: log.append(bytes, to: currentCapture)
/// …
/// child.drainOutput()
/// log.append(line: "END RequestId: \(requestId)", to: capture)
/// let logResult = Data(capture.tail()).base64EncodedString()
/// ```
final class FunctionLog: Sendable {
    /// The name of the file being appended to; rotated files add `.1`, `.2`….
    static let fileName = "function.log"

    /// The directory of the log's files.
    let directory: String
    /// The size past which `function.log` is not appended to but rotated; an append larger than this alone is
    /// split across files.
    let maximumFileBytes: Int
    /// How many rotated files (`function.log.1` … `function.log.<keptFiles>`) are kept besides `function.log`.
    let keptFiles: Int

    private static let logger = Logger(label: "eddy.functions.log")
    private let file = Mutex(LogFile())

    /// A log in `directory`, created at the first append if it is missing.
    ///
    /// - Parameters:
    ///   - directory: The directory of `function.log` and its rotated files.
    ///   - maximumFileBytes: The most bytes one file holds (5 MiB by default); more than 0.
    ///   - keptFiles: How many rotated files are kept (3 by default); 0 deletes a full file.
    init(directory: String, maximumFileBytes: Int = 5 << 20, keptFiles: Int = 3) {
        precondition(maximumFileBytes > 0, "A log file holds at least a byte")
        precondition(keptFiles >= 0, "A log keeps no rotated file or some")
        self.directory = directory
        self.maximumFileBytes = maximumFileBytes
        self.keptFiles = keptFiles
    }

    /// How many appends failed, in whole or in part, since the log was created.
    var failedAppendCount: Int {
        file.withLock { $0.failedAppendCount }
    }

    /// Appends `bytes` to the log's file, whole, and to `capture` if there is one.
    func append(_ bytes: [UInt8], to capture: LogCapture? = nil) {
        capture?.append(bytes)
        guard !bytes.isEmpty else { return }
        let failure = file.withLock { file -> String? in
            do throws(LogFileError) {
                try write(bytes, to: &file)
                return nil
            } catch {
                file.failedAppendCount += 1
                file.closeDescriptor()
                let isFirstFailure = !file.reportedFailure
                file.reportedFailure = true
                return isFirstFailure ? error.message : nil
            }
        }
        if let failure {
            Self.logger.error("\(failure); the log's later failures are counted, not reported")
        }
    }

    /// Appends `line` and a newline, as ``append(_:to:)`` does.
    func append(line: String, to capture: LogCapture? = nil) {
        append(Array((line + "\n").utf8), to: capture)
    }

    private func write(_ bytes: [UInt8], to file: inout LogFile) throws(LogFileError) {
        var rest = bytes[...]
        while !rest.isEmpty {
            if file.descriptor == nil {
                try open(&file)
            }
            if file.sizeBytes > 0, file.sizeBytes + rest.count > maximumFileBytes {
                file.closeDescriptor()
                try rotate()
                try open(&file)
            }
            guard let fd = file.descriptor else { preconditionFailure("The log file was just opened") }
            // A file that another writer overfilled takes the rest whole, rather than be rotated again and again.
            let roomBytes = maximumFileBytes - file.sizeBytes
            let piece = roomBytes > 0 ? rest.prefix(roomBytes) : rest
            let (writtenBytes, error) = Self.writeAll(piece, to: fd)
            file.sizeBytes += writtenBytes
            if let error {
                throw LogFileError(message: "Cannot write \(path(0)): \(String(cString: strerror(error)))")
            }
            rest = rest.dropFirst(piece.count)
        }
    }

    /// Writes `bytes` to `fd`: returns how many were written, and the `errno` that stopped it if it stopped
    /// short.
    private static func writeAll(_ bytes: ArraySlice<UInt8>, to fd: Int32) -> (writtenBytes: Int, error: Int32?) {
        bytes.withUnsafeBytes { buffer in
            var written = 0
            while written < buffer.count {
                let count = Glibc.write(fd, buffer.baseAddress! + written, buffer.count - written)
                guard count >= 0 else {
                    if errno == EINTR { continue }
                    return (written, errno)
                }
                written += count
            }
            return (written, nil)
        }
    }

    /// Opens `function.log` for appending, creating it and its directory when missing.
    private func open(_ file: inout LogFile) throws(LogFileError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw LogFileError(message: "Cannot create the log directory \(directory): \(error.localizedDescription)")
        }
        let fd = Glibc.open(path(0), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        var info = stat()
        guard fd >= 0, fstat(fd, &info) == 0 else {
            let text = String(cString: strerror(errno))
            if fd >= 0 { close(fd) }
            throw LogFileError(message: "Cannot open \(path(0)): \(text)")
        }
        file.descriptor = fd
        file.sizeBytes = Int(info.st_size)
    }

    /// Shifts the rotated files up one number, dropping the one past ``keptFiles``, and makes `function.log`
    /// the first of them.
    private func rotate() throws(LogFileError) {
        guard keptFiles > 0 else {
            guard unlink(path(0)) == 0 || errno == ENOENT else { throw renameError(0) }
            return
        }
        for number in (0..<keptFiles).reversed() {
            guard rename(path(number), path(number + 1)) == 0 || errno == ENOENT else { throw renameError(number) }
        }
    }

    private func renameError(_ number: Int) -> LogFileError {
        LogFileError(message: "Cannot rotate \(path(number)): \(String(cString: strerror(errno)))")
    }

    /// `function.log` for 0, `function.log.<number>` for the rotated files.
    private func path(_ number: Int) -> String {
        let name = number == 0 ? Self.fileName : "\(Self.fileName).\(number)"
        return (directory as NSString).appendingPathComponent(name)
    }
}

/// The open `function.log` of a ``FunctionLog``, and its failures.
private struct LogFile {
    var descriptor: Int32?
    /// The file's size, counted from its size when opened and the bytes written since.
    var sizeBytes = 0
    var failedAppendCount = 0
    var reportedFailure = false

    mutating func closeDescriptor() {
        if let descriptor { close(descriptor) }
        descriptor = nil
    }
}

private struct LogFileError: Error {
    let message: String
}

/// The last bytes of one invocation's log, for Invoke's `X-Amz-Log-Type: Tail`, whose `X-Amz-Log-Result` is
/// the invocation's last 4 KB.
///
/// It keeps only its last ``keptBytes`` in a ring, however much is appended. Safe to use from any thread.
final class LogCapture: Sendable {
    /// How much of an invocation's log Lambda returns with `X-Amz-Log-Type: Tail`.
    static let tailBytesMax = 4096

    /// The most bytes the capture keeps: the latest ones.
    let keptBytes: Int
    private let ring: Mutex<ByteRing>

    /// A capture keeping the last `keptBytes` (more than 0) appended to it.
    init(keptBytes: Int = LogCapture.tailBytesMax) {
        precondition(keptBytes > 0, "A capture keeps at least a byte")
        self.keptBytes = keptBytes
        self.ring = Mutex(ByteRing(capacity: keptBytes))
    }

    /// Adds `bytes` after what the capture holds, forgetting the oldest bytes past ``keptBytes``.
    func append(_ bytes: [UInt8]) {
        ring.withLock { $0.append(bytes) }
    }

    /// The last `maximumBytes` appended (all of them if fewer were, at most ``keptBytes``), oldest first.
    func tail(maximumBytes: Int = LogCapture.tailBytesMax) -> [UInt8] {
        ring.withLock { $0.last(maximumBytes) }
    }
}

/// A fixed-capacity ring of the latest bytes appended.
private struct ByteRing {
    private var storage: [UInt8]
    /// Where the next byte goes; once the ring is full, also where its oldest byte is.
    private var next = 0
    private var count = 0

    init(capacity: Int) {
        storage = [UInt8](repeating: 0, count: capacity)
    }

    mutating func append(_ bytes: [UInt8]) {
        let capacity = storage.count
        // Of an append larger than the ring, only its end could be kept.
        let kept = bytes.suffix(capacity)
        let firstPart = min(kept.count, capacity - next)
        storage.replaceSubrange(next..<next + firstPart, with: kept.prefix(firstPart))
        storage.replaceSubrange(0..<kept.count - firstPart, with: kept.dropFirst(firstPart))
        next = (next + kept.count) % capacity
        count = min(count + kept.count, capacity)
    }

    func last(_ maximumBytes: Int) -> [UInt8] {
        let wanted = min(max(maximumBytes, 0), count)
        let start = (next - wanted + storage.count) % storage.count
        if start + wanted <= storage.count {
            return Array(storage[start..<start + wanted])
        }
        return Array(storage[start...] + storage[..<(start + wanted - storage.count)])
    }
}
