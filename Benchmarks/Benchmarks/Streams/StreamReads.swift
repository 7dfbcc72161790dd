import Benchmark
import BenchmarkSupport
import Eddy
import Foundation

// How fast a stream reads back through the DynamoDB Streams API.
//
// The setup writes a stream of 1,000,000 records (untimed): BatchWriteItem of 25 new 100-byte items per call,
// from 8 concurrent tasks, into a table with a NEW_AND_OLD_IMAGES stream of Eddy's default four shards. One
// iteration then reads the whole stream back, as a client does (`readAllRecords(of:streamArn:)`): DescribeStream,
// then for every shard GetShardIterator(TRIM_HORIZON) and GetRecords of up to 1,000 records per call until the
// shard has nothing more. Every iteration checks it read all 1,000,000 records. The metric "Records (# / s)"
// is the records divided by the wall-clock time of that read. Each iteration then reads the stream again
// with one task per shard, as DynamoDB Streams consumers read (`readAllRecordsShardParallel(of:streamArn:)`):
// "Shard-parallel records (# / s)". Last, it reads the stream as the first time and also writes each page as
// the server's GetRecords response body (`GetRecordsOutput.write(to:)` into a `JSONWriter` of the server's
// starting capacity, what `eddy serve` sends): "JSON body records (# / s)", the read with the cost of its JSON.

/// The records of the stream the benchmark reads.
let streamRecordCount = 1_000_000

/// Registers `StreamRead.GetRecords`.
func registerReadBenchmark() {
    let recordsPerSecond = BenchmarkMetric.custom("Records (# / s)", polarity: .prefersLarger, useScalingFactor: false)
    let parallelRecordsPerSecond = BenchmarkMetric.custom(
        "Shard-parallel records (# / s)", polarity: .prefersLarger, useScalingFactor: false)
    let jsonRecordsPerSecond = BenchmarkMetric.custom("JSON body records (# / s)", polarity: .prefersLarger, useScalingFactor: false)
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, recordsPerSecond, parallelRecordsPerSecond, jsonRecordsPerSecond],
        warmupIterations: 1,
        scalingFactor: .one,
        maxDuration: .seconds(60),
        maxIterations: 3
    )
    let box = Box<ReadFixture>()
    Benchmark("StreamRead.GetRecords", configuration: configuration) { benchmark in
        let fixture = box.value!
        let db: Database = fixture.db
        benchmark.startMeasurement()
        let start = monotonicNanoseconds()
        let records = try await readAllRecords(of: db, streamArn: fixture.streamArn)
        let elapsed = monotonicNanoseconds() - start
        let parallelStart = monotonicNanoseconds()
        let parallelRecords = try await readAllRecordsShardParallel(of: db, streamArn: fixture.streamArn)
        let parallelElapsed = monotonicNanoseconds() - parallelStart
        let jsonStart = monotonicNanoseconds()
        var jsonBytes = 0
        let jsonRecords = try await readAllRecords(of: db, streamArn: fixture.streamArn) { page in
            var json = JSONWriter(capacity: 256)
            page.write(to: &json)
            jsonBytes += json.bytes.count
        }
        let jsonElapsed = monotonicNanoseconds() - jsonStart
        benchmark.stopMeasurement()
        guard records == streamRecordCount, parallelRecords == streamRecordCount, jsonRecords == streamRecordCount,
            jsonBytes > 100 * streamRecordCount
        else {
            fatalError("read \(records), \(parallelRecords) and \(jsonRecords) records (\(jsonBytes) bytes of JSON), not \(streamRecordCount)")
        }
        benchmark.measurement(recordsPerSecond, Int(Double(records) * 1e9 / Double(elapsed)))
        benchmark.measurement(parallelRecordsPerSecond, Int(Double(parallelRecords) * 1e9 / Double(parallelElapsed)))
        benchmark.measurement(jsonRecordsPerSecond, Int(Double(jsonRecords) * 1e9 / Double(jsonElapsed)))
    } setup: {
        box.value = try await ReadFixture()
    } teardown: {
        box.take()?.close()
    }
}

/// An Eddy database whose table's NEW_AND_OLD_IMAGES stream holds ``streamRecordCount`` records.
final class ReadFixture: @unchecked Sendable {
    let directory = TemporaryDirectory()
    private(set) var db: Database!
    let streamArn: String

    init() async throws {
        let db = try await EddyFixture.openDatabase(at: directory.path, streamViewType: .newAndOldImages)
        self.db = db
        streamArn = try await EddyFixture.streamArn(of: db)
        try await EddyFixture.fillStream(of: db, records: streamRecordCount, clients: clientCount)
    }

    /// Closes the database and deletes the directory.
    func close() {
        db = nil  // the last reference: the Database and its RocksDB close here
        directory.remove()
    }
}
