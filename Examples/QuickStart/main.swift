// Eddy's quick start: create a table with a change stream, follow the stream live while writing items,
// update one with an expression, read it back with a projection, query a partition with a key condition and
// a filter a page at a time, scan the table, and read the stream back with the DynamoDB Streams API.
// Run it with `swift run QuickStart [DATA_DIR]`; without a directory it makes a fresh one.
import Eddy
import Foundation

let dataDirectory = CommandLine.arguments.dropFirst().first
    ?? FileManager.default.temporaryDirectory.appendingPathComponent("eddy-quickstart-\(UUID().uuidString)").path
print("Opening an Eddy database in \(dataDirectory)")
let db = try Database(path: dataDirectory)

let tableName = "Music"
if (try? await db.describeTable(tableName: tableName)) == nil {
    let table = try await db.createTable(CreateTableInput(
        tableName: tableName,
        keySchema: [
            KeySchemaElement(attributeName: "Artist", keyType: .hash),
            KeySchemaElement(attributeName: "SongTitle", keyType: .range),
        ],
        attributeDefinitions: [
            AttributeDefinition(attributeName: "Artist", attributeType: .s),
            AttributeDefinition(attributeName: "SongTitle", attributeType: .s),
        ],
        billingMode: .payPerRequest,
        streamSpecification: StreamSpecification(streamEnabled: true, streamViewType: .newAndOldImages)))
    print("Created table \(table.tableName) (\(table.tableArn)), status \(table.tableStatus.rawValue)")
}

// A live reader: it wakes on each commit (no polling) and sees every change once, in commit order per item.
// Its starting point (`.latest`) is fixed here, before the first write.
let changes = try db.streamChanges(tableName: tableName, from: .latest)
let live = Task {
    var seen = 0
    for try await change in changes {
        let record = change.record
        guard case .s(let title)? = record.dynamodb.keys["SongTitle"] else { continue }
        print("  stream: \(record.eventName.rawValue) \(title) (sequence \(record.dynamodb.sequenceNumber))")
        seen += 1
        if record.eventName == .remove { break }
    }
    return seen
}

let songs: [(artist: String, title: String, year: Int, genres: [String])] = [
    ("No One You Know", "Call Me Today", 2015, ["pop"]),
    ("No One You Know", "My Dog Spot", 2008, ["folk", "pop"]),
    ("No One You Know", "Somewhere Down The Road", 2011, ["rock"]),
    ("No One You Know", "Blue Sky Blues", 2003, ["blues"]),
    ("No One You Know", "Under The Bridge", 2019, ["rock", "indie"]),
    ("Acme Band", "Happy Day", 2020, ["pop"]),
    ("Acme Band", "PartiQL Rocks", 2021, ["rock"]),
]
for song in songs {
    try await db.putItem(PutItemInput(tableName: tableName, item: [
        "Artist": .s(song.artist),
        "SongTitle": .s(song.title),
        "Year": .n(DecimalNumber(song.year)),
        "Genres": .ss(song.genres),
        "Details": .m(["Plays": 0, "Explicit": false]),
    ]))
}
print("Put \(songs.count) items")

let key: Item = ["Artist": "Acme Band", "SongTitle": "Happy Day"]
let played = try await db.updateItem(UpdateItemInput(
    tableName: tableName, key: key,
    returnValues: .updatedNew,
    updateExpression: "SET Details.Plays = Details.Plays + :one ADD Genres :new",
    conditionExpression: "attribute_exists(Artist)",
    expressionAttributeValues: [":one": 1, ":new": .ss(["dance"])]))
print("UpdateItem returned:", try String(decoding: JSONEncoder().encode(played.attributes), as: UTF8.self))
/// Puts `item` only if no item has its key, and says what happened.
func putIfAbsent(_ item: Item) async throws(EddyError) {
    do {
        try await db.putItem(PutItemInput(
            tableName: tableName, item: item, conditionExpression: "attribute_not_exists(SongTitle)"))
        print("A conditional put wrote a new item")
    } catch {
        guard case .conditionalCheckFailed = error else { throw error }
        print("A conditional put refused to overwrite: \(error.errorType): \(error.message)")
    }
}
try await putIfAbsent(["Artist": "Acme Band", "SongTitle": "Happy Day"])
let item = try await db.getItem(GetItemInput(
    tableName: tableName, key: key, projectionExpression: "SongTitle, #y, Details.Plays",
    expressionAttributeNames: ["#y": "Year"])).item
print("GetItem with a projection:", try String(decoding: JSONEncoder().encode(item), as: UTF8.self))

print("Query 'No One You Know', titles from 'C' on, released after 2005, two read per page:")
var startKey: Item? = nil
var page = 0
repeat {
    let result = try await db.query(QueryInput(
        tableName: tableName,
        keyConditionExpression: "Artist = :artist AND SongTitle >= :from",
        limit: 2,
        exclusiveStartKey: startKey,
        filterExpression: "#y > :year",
        expressionAttributeNames: ["#y": "Year"],
        expressionAttributeValues: [":artist": "No One You Know", ":from": "C", ":year": 2005]))
    page += 1
    let titles = (result.items ?? []).compactMap { item -> String? in
        if case .s(let title) = item["SongTitle"] { return title }
        return nil
    }
    print("  page \(page): \(titles) (\(result.count) of \(result.scannedCount) read)")
    startKey = result.lastEvaluatedKey
} while startKey != nil

let scanned = try await db.scan(ScanInput(tableName: tableName, select: .count))
print("Scan counted \(scanned.count) items")
let description = try await db.describeTable(tableName: tableName)
print("DescribeTable: \(description.itemCount) items, \(description.tableSizeBytes) bytes")

// The last change: a delete, which the live reader is waiting for.
try await db.deleteItem(DeleteItemInput(tableName: tableName, key: ["Artist": "Acme Band", "SongTitle": "PartiQL Rocks"]))
print("The live reader saw \(try await live.value) changes")

// The same records through the DynamoDB Streams API, as GetRecords returns them to any client.
if let streamArn = description.latestStreamArn {
    let shards = try await db.describeStream(DescribeStreamInput(streamArn: streamArn)).streamDescription.shards
    var count = 0
    for shard in shards {
        let iterator = try await db.getShardIterator(GetShardIteratorInput(
            streamArn: streamArn, shardId: shard.shardId, shardIteratorType: .trimHorizon)).shardIterator
        if let iterator { count += try await db.getRecords(GetRecordsInput(shardIterator: iterator)).records.count }
    }
    print("Stream \(streamArn): \(shards.count) shards, \(count) records")
}
