// Eddy's search-index sink (EddySearch, issue 25): how fast a mapping drains a stream into an Elasticsearch
// index, against a raw bulk client sending the same documents to the same service. See ../../README.md
// ("Search index").
//
//     SearchDrain.SinkAndRawBulk   a stream of EDDY_SEARCH_RECORDS (100,000) new 100-byte items written
//                                  beforehand, drained by a new mapping (BatchSize 1000) into a new index of
//                                  noida-db's Elasticsearch; then the same documents, with the same `_id`s and
//                                  external versions, sent by a raw bulk client into another new index;
//                                  documents per second of each
//
// The setup (untimed) writes the stream (BatchWriteItem, 25 items per call from 8 tasks, into a table with a
// NEW_AND_OLD_IMAGES stream of Eddy's default four shards), then reads it once through a trigger mapping whose
// handler builds, for every record, the bulk action the sink sends (`{"index":{"_id":…,"version":…,
// "version_type":"external"}}` and the item as plain JSON, written here by hand for the benchmark's four
// string attributes), packed into bodies of BatchSize actions, in the order the handler received them.
//
// Each iteration measures two things, each against a new, empty noida-db Elasticsearch (it slows down as it
// fills) on a free loopback port:
//
//     Sink documents (# / s)      a new TRIM_HORIZON mapping (BatchSize ``searchBatchSize``, no batching
//                                 window) whose handler is the one `TriggerRuntime.registerSearch` installs
//                                 (`SearchSink.store` of each batch, records in the Kinesis form), registered
//                                 with `registerReportingFailures` around a count of the records stored, so
//                                 that the end of the last batch is seen without polling the index. The time
//                                 runs from just before the index is made (`prepareIndex`, as registerSearch
//                                 does) to the end of the handler call that stored the last record.
//     Raw bulk documents (# / s)  the prebuilt bodies POSTed to `/{index}/_bulk` one after the other with
//                                 AsyncHTTPClient, into an index made beforehand as the sink makes its own;
//                                 the time runs from the first request to the last answer (each answer
//                                 checked: no item failed).
//
// After each, a `_count` (after a `_refresh`) must find every record.
//
// Elasticsearch (a Python process here), Eddy's runtime and this process share the machine's two cores, so the
// ratio is reported, not judged.
import AsyncHTTPClient
import Benchmark
import BenchmarkSupport
import Eddy
import EddySearch
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// The records of the drained stream (`EDDY_SEARCH_RECORDS` overrides it; a multiple of 200).
let searchRecordCount = ProcessInfo.processInfo.environment["EDDY_SEARCH_RECORDS"].flatMap { Int($0) } ?? 100_000
/// The drain mapping's BatchSize, and the raw client's documents per request.
let searchBatchSize = 1_000

let benchmarks: @Sendable () -> Void = {
    let sinkRate = BenchmarkMetric.custom("Sink documents (# / s)", polarity: .prefersLarger, useScalingFactor: false)
    let rawRate = BenchmarkMetric.custom("Raw bulk documents (# / s)", polarity: .prefersLarger, useScalingFactor: false)
    let configuration = Benchmark.Configuration(
        metrics: [sinkRate, rawRate],
        warmupIterations: 0,
        scalingFactor: .one,
        maxDuration: .seconds(600),
        maxIterations: 1
    )
    let box = Box<SearchDrainFixture>()
    Benchmark("SearchDrain.SinkAndRawBulk", configuration: configuration) { benchmark in
        let fixture = box.value!
        let sink = try await fixture.drainThroughSink()
        let raw = try await fixture.sendRaw()
        benchmark.measurement(sinkRate, Int(Double(searchRecordCount) * 1e9 / Double(sink)))
        benchmark.measurement(rawRate, Int(Double(searchRecordCount) * 1e9 / Double(raw)))
    } setup: {
        box.value = try await SearchDrainFixture()
    } teardown: {
        await box.take()?.close()
    }
}

struct SearchDrainFailure: Error, CustomStringConvertible {
    var description: String
}

/// The stream and its documents as bulk bodies, for `SearchDrain.SinkAndRawBulk`.
final class SearchDrainFixture: @unchecked Sendable {
    let directory = TemporaryDirectory()
    let db: Database
    let streamArn: String
    /// The raw client's request bodies: ``searchBatchSize`` actions each.
    private let bodies: [[UInt8]]
    private var drains = 0

    init() async throws {
        precondition(searchRecordCount % 200 == 0, "EDDY_SEARCH_RECORDS must be a multiple of 200")
        db = try await EddyFixture.openDatabase(at: directory.path, streamViewType: .newAndOldImages)
        streamArn = try await EddyFixture.streamArn(of: db)
        try await EddyFixture.fillStream(of: db, records: searchRecordCount, clients: 8)
        bodies = try await Self.collectBodies(of: db, streamArn: streamArn)
    }

    /// Reads the whole stream once through a mapping whose handler makes each record's bulk action.
    private static func collectBodies(of db: Database, streamArn: String) async throws -> [[UInt8]] {
        let actions = Mutex<[[UInt8]]>([])
        let (done, signal) = AsyncStream.makeStream(of: Void.self)
        var settings = TriggerMappingConfiguration(eventSourceArn: streamArn, startingPosition: .trimHorizon)
        settings.batchSize = 10_000
        settings.maximumBatchingWindowInSeconds = 0
        let runtime = TriggerRuntime(database: db)
        try await runtime.registerReportingFailures(name: "collect", configuration: settings, onFailure: nil, recordForm: .kinesis) { event in
            let built = event.records.map(Self.action)
            if actions.withLock({ $0 += built; return $0.count }) >= searchRecordCount { signal.yield() }
            return .success
        }
        let running = Task(executorPreference: CoreExecutor.shared) { await runtime.run() }
        var waiting = done.makeAsyncIterator()
        _ = await waiting.next()
        running.cancel()
        await running.value
        let all = actions.withLock { $0 }
        return stride(from: 0, to: all.count, by: searchBatchSize).map { all[$0..<min($0 + searchBatchSize, all.count)].flatMap { $0 } }
    }

    /// The bulk action of `record` as the sink makes it, for the benchmark's items (four string attributes).
    private static func action(_ record: TriggerEventRecord) -> [UInt8] {
        let image = record.dynamodb.newImage ?? [:]
        func text(_ name: String) -> String {
            guard case .s(let value)? = image[name] else { fatalError("a benchmark item without \(name)") }
            return value
        }
        let version = UInt64(record.dynamodb.sequenceNumber)!
        let line = "{\"index\":{\"_id\":\"\(text("id"))\",\"version\":\(version),\"version_type\":\"external\"}}\n"
            + "{\"id\":\"\(text("id"))\",\"name\":\"\(text("name"))\",\"email\":\"\(text("email"))\",\"payload\":\"\(text("payload"))\"}\n"
        return Array(line.utf8)
    }

    /// Drains the stream through a new mapping into a new index of a new service; the nanoseconds from just
    /// before the registration to the end of the handler call that stored the last record.
    ///
    /// The mapping's handler is the one `TriggerRuntime.registerSearch` installs (`SearchSink.store` of the
    /// batch, on records in the Kinesis form), registered here with `registerReportingFailures` around a count
    /// of the records stored, so that the benchmark sees the last batch end instead of polling the index;
    /// the index is made as `registerSearch` makes it, inside the timed span.
    func drainThroughSink() async throws -> UInt64 {
        drains += 1
        let service = try LocalSearchService()
        defer { service.stop() }
        var settings = TriggerMappingConfiguration(eventSourceArn: streamArn, startingPosition: .trimHorizon)
        settings.batchSize = searchBatchSize
        settings.maximumBatchingWindowInSeconds = 0
        let keys = SearchIndexKeys(partitionKey: AttributeDefinition(attributeName: "id", attributeType: .s))
        let sink = try SearchSink(endpoint: service.endpoint, index: "sink")
        let stored = Mutex(0)
        let (done, signal) = AsyncStream.makeStream(of: Void.self)
        let runtime = TriggerRuntime(database: db)
        let start = monotonicNanoseconds()
        try await sink.prepareIndex(keys: keys, deletedVersionsKeptSeconds: TriggerRuntime.deletedVersionsKeptSeconds(settings))
        try await runtime.registerReportingFailures(
            name: "search-\(drains)", configuration: settings, onFailure: nil, recordForm: .kinesis
        ) { event in
            try await sink.store(event.records, keys: keys)
            if stored.withLock({ $0 += event.records.count; return $0 }) >= searchRecordCount { signal.yield() }
            return .success
        }
        let running = Task(executorPreference: CoreExecutor.shared) { await runtime.run() }
        var waiting = done.makeAsyncIterator()
        _ = await waiting.next()
        let elapsed = monotonicNanoseconds() - start
        running.cancel()
        await running.value
        try await service.expectDocuments(in: "sink")
        return elapsed
    }

    /// Sends the prebuilt bodies one after the other into a new index of a new service, created as the sink
    /// creates its own; the nanoseconds from the first request to the last answer (each checked: no item
    /// failed).
    func sendRaw() async throws -> UInt64 {
        let service = try LocalSearchService()
        defer { service.stop() }
        let keys = SearchIndexKeys(partitionKey: AttributeDefinition(attributeName: "id", attributeType: .s))
        try await SearchSink(endpoint: service.endpoint, index: "raw").prepareIndex(keys: keys, deletedVersionsKeptSeconds: 172_800)
        let start = monotonicNanoseconds()
        for body in bodies {
            let answer = try await service.request(.POST, "/raw/_bulk", body: body, contentType: "application/x-ndjson")
            guard answer.contains("\"errors\":false") else {
                throw SearchDrainFailure(description: "a raw bulk request failed: \(answer.prefix(300))")
            }
        }
        let elapsed = monotonicNanoseconds() - start
        try await service.expectDocuments(in: "raw")
        return elapsed
    }

    func close() async {
        await db.close()
        directory.remove()
    }
}

/// noida-db's Elasticsearch, started for one measurement (empty: noida-db slows down as it fills) on a free
/// loopback port, and stopped after it.
final class LocalSearchService: @unchecked Sendable {
    let directory = TemporaryDirectory()
    let port: Int
    var endpoint: String { "http://127.0.0.1:\(port)" }

    init() throws {
        port = try freeLoopbackPort()
        let started = try runCommand("noida-db", ["up", "--only", "elasticsearch", "--elasticsearch-port", String(port), "--data-dir", directory.path])
        guard started.status == 0 else { throw SearchDrainFailure(description: "noida-db up failed: \(started.output)") }
    }

    func stop() {
        _ = try? runCommand("noida-db", ["down", "--data-dir", directory.path])
        directory.remove()
    }

    /// Checks, after a refresh, that `index` holds every record of the stream.
    func expectDocuments(in index: String) async throws {
        _ = try await request(.POST, "/\(index)/_refresh")
        let answer = try await request(.GET, "/\(index)/_count")
        let object = try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any]
        guard (object?["count"] as? Int) == searchRecordCount else {
            throw SearchDrainFailure(description: "index \(index) has \(answer), not \(searchRecordCount) documents")
        }
    }

    func request(_ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, contentType: String = "application/json") async throws -> String {
        var request = HTTPClientRequest(url: endpoint + path)
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        return String(buffer: try await response.body.collect(upTo: 64 << 20))
    }
}
