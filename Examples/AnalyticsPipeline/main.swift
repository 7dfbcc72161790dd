// Eddy's analytics pipeline: a PageViews table whose changes a Kafka trigger sink streams to topic
// `page-views` (as Kinesis Data Streams for DynamoDB would), and a consumer built on EddyKafka that reads the
// topic and keeps, per page, the number of views in each minute.
//
//   swift run AnalyticsPipeline --bootstrap-servers 127.0.0.1:19092 [--views 2000] [--data-dir DIR]
//
// creates the topic (3 partitions) if the broker does not have it, writes the page views of this run (each
// tagged with a run id) at a steady pace while the mapping runs, prints the per-page counts of the latest
// minutes every second as the consumer updates them, and at the end prints every count next to a recount
// from a Scan of PageViews. It exits 0 when they agree, 1 if they still differ after 60 seconds. The consumer
// reads the topic from its start, counts the views of this run, drops repeated messages (delivery is at least
// once) by the eddy-table and eddy-sequence-number headers, and commits its offsets as it goes. Without
// --data-dir the database lives in a temporary directory, removed at the end.
import Eddy
import EddyKafka
import Foundation

let tableName = "PageViews"
let topic = "page-views"
let pages = ["/", "/pricing", "/docs", "/blog", "/signup", "/about"]

/// This run's id: the views it writes carry it.
let run = UUID().uuidString

/// The page and the minute (since 1970) of a PageViews image of this run.
func pageAndMinute(_ image: Item?) -> (page: String, minute: Int)? {
    guard image?["run"] == .s(run), case .s(let page)? = image?["page"], case .n(let time)? = image?["viewedAt"],
        let seconds = Int(time.description)
    else {
        return nil
    }
    return (page, seconds / 60)
}

/// Views per page and minute.
typealias Counts = [String: [Int: Int]]

/// The options: `--bootstrap-servers`, `--views`, `--data-dir`.
struct Options {
    var bootstrapServers = "127.0.0.1:9092"
    var views = 2000
    var dataDirectory: String?

    init(_ arguments: [String]) {
        var rest = arguments.makeIterator()
        while let name = rest.next() {
            guard let value = rest.next() else { Self.usage() }
            switch name {
            case "--bootstrap-servers": bootstrapServers = value
            case "--views":
                guard let count = Int(value), count > 0 else { Self.usage() }
                views = count
            case "--data-dir": dataDirectory = value
            default: Self.usage()
            }
        }
    }

    static func usage() -> Never {
        FileHandle.standardError.write(Data("usage: AnalyticsPipeline [--bootstrap-servers HOST:PORT] [--views N] [--data-dir DIR]\n".utf8))
        exit(2)
    }
}

/// Prints the counts of the last three minutes that have any, one line per page.
func printLatest(_ counts: Counts, consumed: Int, of total: Int) {
    let minutes = Set(counts.values.flatMap(\.keys)).sorted().suffix(3)
    var lines = ["consumed \(consumed) of \(total) views; views per minute (UTC):"]
    lines.append("page".padding(toLength: 10, withPad: " ", startingAt: 0) + minutes.map { clockTime($0).padding(toLength: 8, withPad: " ", startingAt: 0) }.joined())
    for page in pages {
        lines.append(page.padding(toLength: 10, withPad: " ", startingAt: 0) + minutes.map { String(counts[page]?[$0] ?? 0).padding(toLength: 8, withPad: " ", startingAt: 0) }.joined())
    }
    print(lines.joined(separator: "\n") + "\n")
}

/// A minute since 1970 as `HH:MM`.
func clockTime(_ minute: Int) -> String {
    String(format: "%02d:%02d", (minute / 60) % 24, minute % 60)
}

let options = Options(Array(CommandLine.arguments.dropFirst()))
let directory = options.dataDirectory ?? FileManager.default.temporaryDirectory.appendingPathComponent("eddy-analytics-\(run)").path

/// Removes the temporary database (unless given with --data-dir) and exits with `status`.
func finish(_ status: Int32) -> Never {
    if options.dataDirectory == nil { try? FileManager.default.removeItem(atPath: directory) }
    exit(status)
}
let kafka = ["bootstrap.servers": options.bootstrapServers]

do {
    let db = try Database(path: directory)
    if (try? await db.describeTable(tableName: tableName)) == nil {
        try await db.createTable(CreateTableInput(
            tableName: tableName,
            keySchema: [KeySchemaElement(attributeName: "viewId", keyType: .hash)],
            attributeDefinitions: [AttributeDefinition(attributeName: "viewId", attributeType: .s)],
            billingMode: .payPerRequest,
            streamSpecification: StreamSpecification(streamEnabled: true, streamViewType: .newImage)))
    }
    let admin = try KafkaAdmin(configuration: kafka)
    if try await admin.topics()[topic] == nil {
        try await admin.createTopic(topic, partitions: 3)
    }
    admin.close()

    // The sink: PageViews' stream to the topic.
    let sink = try await KafkaSink(configuration: kafka, topic: topic)
    let triggers = TriggerRuntime(database: db)
    var settings = TriggerMappingConfiguration(
        eventSourceArn: try await db.describeTable(tableName: tableName).latestStreamArn!, startingPosition: .trimHorizon)
    settings.batchSize = 100
    try await triggers.registerKafka(name: "page-views-to-kafka", configuration: settings, sink: sink)
    let running = Task { await triggers.run() }

    // The consumer: a group of its own, from the topic's start.
    let consumer = try KafkaConsumer(configuration: kafka.merging(["group.id": "page-counts-\(UUID().uuidString)"]) { $1 })
    try await consumer.subscribe(topics: [topic])

    // The page views, written at a steady pace: views spread over the last few minutes.
    let writer = Task {
        let start = Int(Date().timeIntervalSince1970) - 240
        for index in 0..<options.views {
            let page = pages[Int.random(in: 0..<pages.count)]
            let viewedAt = start + index * 300 / max(options.views, 1)
            try await db.putItem(PutItemInput(
                tableName: tableName,
                item: ["viewId": .s(UUID().uuidString), "page": .s(page), "viewedAt": .n(DecimalNumber(viewedAt)), "run": .s(run)]))
            if index % 50 == 49 { try await Task.sleep(for: .milliseconds(20)) }
        }
    }

    let total = options.views
    var counts: Counts = [:]
    var seen: Set<String> = []
    var consumed = 0
    var lastPrint = ContinuousClock.now
    // Closing the consumer ends its messages: the counts are then compared as they are.
    let watchdog = Task {
        try await Task.sleep(for: .seconds(60))
        await consumer.close()
    }
    for try await message in consumer.messages {
        let headers = Dictionary(message.headers.map { ($0.name, String(decoding: $0.value, as: UTF8.self)) }) { first, _ in first }
        let change = try JSONDecoder().decode(KinesisChangeRecord.self, from: Data(message.value))
        let identity = "\(headers[KafkaSinkHeader.table] ?? "")/\(headers[KafkaSinkHeader.sequenceNumber] ?? "")"
        // Another run's view (which may carry the same sequence number, from another database) is not counted.
        if change.eventName == .insert, let (page, minute) = pageAndMinute(change.dynamodb.newImage), seen.insert(identity).inserted {
            counts[page, default: [:]][minute, default: 0] += 1
            consumed += 1
        }
        try consumer.store(message)
        if ContinuousClock.now - lastPrint > .seconds(1) {
            try await consumer.commit()
            printLatest(counts, consumed: consumed, of: total)
            lastPrint = .now
        }
        if consumed >= total { break }
    }
    watchdog.cancel()
    try? await consumer.commit()
    try await writer.value
    await consumer.close()
    running.cancel()
    await running.value
    sink.close()

    // The counts against a recount from the table.
    var recount: Counts = [:]
    for item in try await scanViews(db) {
        if let (page, minute) = pageAndMinute(item) { recount[page, default: [:]][minute, default: 0] += 1 }
    }
    print("page      minute  consumer  table")
    for page in pages {
        for minute in Set((counts[page] ?? [:]).keys).union((recount[page] ?? [:]).keys).sorted() {
            let (fromKafka, fromTable) = (counts[page]?[minute] ?? 0, recount[page]?[minute] ?? 0)
            print(page.padding(toLength: 10, withPad: " ", startingAt: 0) + clockTime(minute) + "   "
                + String(fromKafka).padding(toLength: 10, withPad: " ", startingAt: 0) + String(fromTable) + (fromKafka == fromTable ? "" : "  DIFFERS"))
        }
    }
    guard counts == recount else {
        print("The consumer's counts differ from the table's.")
        finish(1)
    }
    print("The consumer counted all \(consumed) page views of this run, as the table has them.")
    finish(0)
} catch {
    print("ERROR \(error)")
    finish(1)
}

/// Every item of PageViews.
func scanViews(_ db: Database) async throws -> [Item] {
    var items: [Item] = []
    var start: Item?
    repeat {
        let page = try await db.scan(ScanInput(tableName: tableName, exclusiveStartKey: start))
        items += page.items ?? []
        start = page.lastEvaluatedKey
    } while start != nil
    return items
}
