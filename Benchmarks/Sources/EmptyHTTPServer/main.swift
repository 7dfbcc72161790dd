import CRocksDBBench
import Glibc
import NIOCore
import NIOHTTP1
import NIOPosix

// The floors of `eddy serve` for Benchmarks/server.sh: an HTTP/1.1 server on SwiftNIO's `NIOHTTP1` with the
// pipeline, socket options and event loops `eddy serve` has (Sources/EddyServer/HTTPService.swift:
// `MultiThreadedEventLoopGroup.singleton`, one loop per core).
//
//   EmptyHTTPServer PORT               # the empty server: gathers each request's body and answers 200 with a
//                                      # fixed JSON body, doing nothing else
//   EmptyHTTPServer PORT STORAGE_DIR   # the storage floor: the same, plus the one RocksDB call a request of
//                                      # Benchmarks/Server/dynamodb.lua needs, with RocksDB's C API
//
// The storage floor opens (or creates) a RocksDB database in STORAGE_DIR with RocksDB's default options and
// puts bench.py's 10,000 preloaded items in it (key `preload-NNNNNN`, value the item's DynamoDB JSON). For a
// request whose X-Amz-Target ends in `GetItem` it gets the key (the text after the body's first `"S":"`) and
// answers `{"Item":<value>}`, the size of Eddy's answer (`{}` without one); for `PutItem` it puts the key with the body's `Item`
// JSON as the value (RocksDB's default write options: the WAL written, not synced, as `eddy serve` writes by
// default) and answers `{}`. It checks nothing else: it is what a server doing no more than the storage call
// costs, next to which Eddy's SigV4 check, request parsing, validation, item encoding, index, stream and
// counter upkeep and answer are measured.
//
// The signals keep their default action, which ends the process: there is nothing in flight worth finishing.
// A port it cannot listen on, or a database it cannot open, is written to standard error with an exit status of 1.

/// A RocksDB database opened with the C API, shared by the event loops (RocksDB's calls are thread-safe).
final class RawStore: Sendable {
    nonisolated(unsafe) private let db: OpaquePointer
    nonisolated(unsafe) private let readOptions = rocksdb_readoptions_create()
    nonisolated(unsafe) private let writeOptions = rocksdb_writeoptions_create()

    init(path: String) {
        let options = rocksdb_options_create()
        rocksdb_options_set_create_if_missing(options, 1)
        var error: UnsafeMutablePointer<CChar>?
        let opened = rocksdb_open(options, path, &error)
        rocksdb_options_destroy(options)
        guard let opened, error == nil else { fail("EmptyHTTPServer: cannot open \(path): \(error.map { String(cString: $0) } ?? "?")", status: 1) }
        db = opened
    }

    func put(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        var error: UnsafeMutablePointer<CChar>?
        rocksdb_put(
            db, writeOptions, key.baseAddress?.assumingMemoryBound(to: CChar.self), key.count,
            value.baseAddress?.assumingMemoryBound(to: CChar.self), value.count, &error)
        if let error { fail("EmptyHTTPServer: put: \(String(cString: error))", status: 1) }
    }

    /// Appends the value of `key` to `buffer`; false if there is none.
    func get(key: UnsafeRawBufferPointer, into buffer: inout ByteBuffer) -> Bool {
        var error: UnsafeMutablePointer<CChar>?
        var length = 0
        guard let value = rocksdb_get(db, readOptions, key.baseAddress?.assumingMemoryBound(to: CChar.self), key.count, &length, &error) else {
            return false
        }
        buffer.writeBytes(UnsafeRawBufferPointer(start: value, count: length))
        rocksdb_free(value)
        return true
    }

    /// bench.py's preloaded items (Benchmarks/Server/bench.py, `item`).
    func preload() {
        for number in 0..<10_000 {
            let digits = String(number)
            let key = "preload-" + String(repeating: "0", count: 6 - digits.count) + digits
            var value = #"{"id":{"S":""# + key + #""},"name":{"S":"Ada Lovelace0001"},"email":{"S":"ada@example.invalid0001"},"#
            value += #""city":{"S":"London000001"},"note":{"S":"benchmarkitem000"}}"#
            key.utf8.withContiguousStorageIfAvailable { key in
                value.utf8.withContiguousStorageIfAvailable { value in put(key: UnsafeRawBufferPointer(key), value: UnsafeRawBufferPointer(value)) }
            }
        }
    }
}

/// Answers every request, whatever its method, path and body, once its body has been read; with a store,
/// after its GetItem or PutItem call.
final class EmptyHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// The empty server's answer: `"Item"` is in it so that Benchmarks/Server/dynamodb.lua counts a GetItem
    /// answer as one that found its item.
    private static let answer = #"{"Item":{}}"#

    private let store: RawStore?
    private var body = ByteBuffer()
    private var keepAlive = true
    private var target = ""

    init(store: RawStore?) {
        self.store = store
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            keepAlive = head.isKeepAlive
            if store != nil { target = head.headers.first(name: "x-amz-target") ?? "" }
            body.clear()
        case .body(var chunk):
            body.writeBuffer(&chunk)
        case .end:
            var answer = context.channel.allocator.buffer(capacity: 256)
            if let store {
                body.withUnsafeReadableBytes { request in
                    Self.serve(request, target: target, store: store, answer: &answer)
                }
            } else {
                answer.writeString(Self.answer)
            }
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: "application/x-amz-json-1.0")
            headers.add(name: "content-length", value: String(answer.readableBytes))
            if !keepAlive {
                headers.add(name: "connection", value: "close")
            }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(answer))), promise: nil)
            let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
            if !keepAlive {
                let channel = context.channel
                written.whenComplete { _ in channel.close(promise: nil) }
            }
        }
    }

    /// The storage floor's work for one request: its one RocksDB call, and its answer.
    private static func serve(_ request: UnsafeRawBufferPointer, target: String, store: RawStore, answer: inout ByteBuffer) {
        guard let key = range(after: #""S":""#, upTo: UInt8(ascii: "\""), in: request) else {
            answer.writeString("{}")
            return
        }
        if target.hasSuffix("GetItem") {
            answer.writeString(#"{"Item":"#)
            if store.get(key: UnsafeRawBufferPointer(rebasing: request[key]), into: &answer) {
                answer.writeString("}")
            } else {
                answer.clear()
                answer.writeString("{}")
            }
        } else {
            if target.hasSuffix("PutItem"), let item = range(after: #""Item":"#, upTo: nil, in: request), item.count > 1 {
                // The item's JSON: from after `"Item":` to before the body's closing brace.
                store.put(key: UnsafeRawBufferPointer(rebasing: request[key]), value: UnsafeRawBufferPointer(rebasing: request[item.dropLast()]))
            }
            answer.writeString("{}")
        }
    }

    /// The bytes after the first `marker` in `bytes`, up to the next `end` byte (to the end with nil).
    private static func range(after marker: StaticString, upTo end: UInt8?, in bytes: UnsafeRawBufferPointer) -> Range<Int>? {
        let pattern = UnsafeRawBufferPointer(start: marker.utf8Start, count: marker.utf8CodeUnitCount)
        guard bytes.count >= pattern.count else { return nil }
        for start in 0...(bytes.count - pattern.count) where bytes[start] == pattern[0] {
            guard UnsafeRawBufferPointer(rebasing: bytes[start..<start + pattern.count]).elementsEqual(pattern) else { continue }
            let from = start + pattern.count
            guard let end else { return from..<bytes.count }
            return bytes[from...].firstIndex(of: end).map { from..<$0 }
        }
        return nil
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

let arguments = CommandLine.arguments
guard (2...3).contains(arguments.count), let port = Int(arguments[1]) else {
    fail("usage: EmptyHTTPServer PORT [STORAGE_DIR]", status: 2)
}
let store = arguments.count == 3 ? RawStore(path: arguments[2]) : nil
store?.preload()
do {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .serverChannelOption(.backlog, value: 256)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: false)
                try channel.pipeline.syncOperations.addHandler(EmptyHandler(store: store))
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
