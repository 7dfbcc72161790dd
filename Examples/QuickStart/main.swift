// Eddy's quick start: create a table, write items, read one back, query a partition a page at a time, and
// scan the table. Run it with `swift run QuickStart [DATA_DIR]`; without a directory it makes a fresh one.
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
        billingMode: .payPerRequest))
    print("Created table \(table.tableName) (\(table.tableArn)), status \(table.tableStatus.rawValue)")
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
_ = try await db.updateItem(UpdateItemInput(
    tableName: tableName, key: key,
    attributeUpdates: ["Plays": AttributeValueUpdate(value: 1, action: .add)]))
let item = try await db.getItem(GetItemInput(tableName: tableName, key: key)).item
print("GetItem:", try String(decoding: JSONEncoder().encode(item), as: UTF8.self))

print("Query 'No One You Know', titles from 'C' on, two per page:")
var startKey: Item? = nil
var page = 0
repeat {
    let result = try await db.query(QueryInput(
        tableName: tableName,
        keyConditions: [
            "Artist": Condition(.eq, ["No One You Know"]),
            "SongTitle": Condition(.ge, ["C"]),
        ],
        limit: 2,
        exclusiveStartKey: startKey))
    page += 1
    let titles = (result.items ?? []).compactMap { item -> String? in
        if case .s(let title) = item["SongTitle"] { return title }
        return nil
    }
    print("  page \(page): \(titles)")
    startKey = result.lastEvaluatedKey
} while startKey != nil

let scanned = try await db.scan(ScanInput(tableName: tableName, select: .count))
print("Scan counted \(scanned.count) items")
let description = try await db.describeTable(tableName: tableName)
print("DescribeTable: \(description.itemCount) items, \(description.tableSizeBytes) bytes")
