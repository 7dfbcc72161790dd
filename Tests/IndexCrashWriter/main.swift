// The child process of the index crash test (Tests/EddyTests/IndexCrashTests.swift): writes items of a table
// with global secondary indexes from several tasks, and adds an index that backfills, until it is killed
// with SIGKILL.
//
//   IndexCrashWriter DATA_DIR ROUND
//
// The table `Catalog` (key `id`, stream of new and old images) has the index `byOwner` (owner, seq; ALL)
// from its creation. Round 0 loads `ITEMS` items (`category` a string for most, a number for some — which
// the later index skips — and absent for others) and prints `LOADED`. From round 1 on, if the table lacks
// the index `byCategory` (category; INCLUDE owner), the round adds it with UpdateTable and prints `CREATED`:
// its backfill then runs while the writers write. Each of 4 writers owns the items whose number is its
// index modulo 4 and changes them one at a time: a put, an update or a delete (sometimes inside a
// TransactWriteItems, cancelled with TransactionConflict when the backfill holds the item's lock: then not
// acknowledged), each setting `seq` to an increasing number; `W <id> <seq>` or `D <id> <seq>` is written with
// one write(2) once the call returned. `OPENING` and `OPENED` come before and after it opens the database (whose
// open resumes an interrupted backfill); an error is reported as `ERROR ...` and ends it with status 1.
//
// Time to Live: every item may have `expiresAt` (expired, in an hour, more than five years past, a string, or
// none; the loader's and each write's). From round 1 on, if Time to Live is off, the round enables it and
// prints `TTL`: the backfill of the expiry index then runs beside the index's, and the sweep (every 100 ms)
// deletes expired items while the writers write.
import ChildProcessSupport
import Eddy
import Foundation

let arguments = CommandLine.arguments
guard arguments.count == 3, let round = Int(arguments[2]) else {
    FileHandle.standardError.write(Data("usage: IndexCrashWriter DATA_DIR ROUND\n".utf8))
    exit(2)
}
let table = "Catalog"
let items = 12_000

/// The category of item `number` as loaded (`salt` 0: sometimes a number) or as a writer sets it (a string
/// or nothing, which the index accepts).
func category(_ number: Int, _ salt: Int) -> AttributeValue? {
    switch (number + salt) % 10 {
    case 0: nil
    case 1 where salt == 0: .n(DecimalNumber(number))
    default: .s("cat-\((number + salt) % 7)")
    }
}

/// The `expiresAt` of item `number` as loaded (`salt` 0) or as a writer sets it: expired, in an hour, more
/// than five years past (never expires), a string (never expires), or none.
func expiry(_ number: Int, _ salt: Int) -> AttributeValue? {
    let now = Int(Date().timeIntervalSince1970)
    switch (number * 7 + salt) % 6 {
    case 0: return nil
    case 1: return .s("\(now - 30)")
    case 2: return .n(DecimalNumber(now - 30))
    case 3: return .n(DecimalNumber(now - 6 * 365 * 86_400))
    default: return .n(DecimalNumber(now + 3_600))
    }
}

/// Round 0 creates the table and loads it; a later round adds the index `byCategory` unless an earlier one did.
func prepare(_ db: Database) async throws {
    if round == 0 {
        try await db.createTable(CreateTableInput(
            tableName: table, keySchema: [KeySchemaElement(attributeName: "id", keyType: .hash)],
            attributeDefinitions: [
                AttributeDefinition(attributeName: "id", attributeType: .s), AttributeDefinition(attributeName: "owner", attributeType: .s),
                AttributeDefinition(attributeName: "seq", attributeType: .n),
            ],
            billingMode: .payPerRequest,
            streamSpecification: StreamSpecification(streamEnabled: true, streamViewType: .newAndOldImages),
            globalSecondaryIndexes: [GlobalSecondaryIndex(
                indexName: "byOwner", keySchema: [KeySchemaElement(attributeName: "owner", keyType: .hash), KeySchemaElement(attributeName: "seq", keyType: .range)],
                projection: Projection(projectionType: .all))]))
        for start in stride(from: 0, to: items, by: 25) {
            let requests = (start..<min(start + 25, items)).map { number in
                var item: Item = ["id": .s("item-\(number)"), "owner": .s("owner-\(number % 13)"), "seq": 0, "payload": .s(String(repeating: "x", count: 100))]
                item["category"] = category(number, 0)
                item["expiresAt"] = expiry(number, 0)
                return WriteRequest(putRequest: PutRequest(item: item))
            }
            _ = try await db.batchWriteItem(BatchWriteItemInput(requestItems: [table: requests]))
        }
        writeLine("LOADED")
    } else if try await db.describeTable(tableName: table).globalSecondaryIndexes?.contains(where: { $0.indexName == "byCategory" }) != true {
        try await db.updateTable(UpdateTableInput(
            tableName: table, attributeDefinitions: [AttributeDefinition(attributeName: "category", attributeType: .s)],
            globalSecondaryIndexUpdates: [GlobalSecondaryIndexUpdate(create: GlobalSecondaryIndex(
                indexName: "byCategory", keySchema: [KeySchemaElement(attributeName: "category", keyType: .hash)],
                projection: Projection(projectionType: .include, nonKeyAttributes: ["owner"])))]))
        writeLine("CREATED")
    }
    if round > 0, try await db.describeTimeToLive(DescribeTimeToLiveInput(tableName: table)).timeToLiveDescription.timeToLiveStatus != .enabled {
        try await db.updateTimeToLive(UpdateTimeToLiveInput(
            tableName: table, timeToLiveSpecification: TimeToLiveSpecification(enabled: true, attributeName: "expiresAt")))
        writeLine("TTL")
    }
}

let db = await openOrExit(
    path: arguments[1], configuration: Database.Configuration(timeToLiveSweepInterval: .milliseconds(100)), prepare: prepare)

await withTaskGroup(of: Void.self) { group in
    for writer in 0..<4 {
        group.addTask {
            var random = SystemRandomNumberGenerator()
            var sequence = 0
            while true {
                sequence += 1
                let seq = round * 1_000_000 + sequence
                let number = Int.random(in: 0..<(items / 4), using: &random) * 4 + writer
                let id = "item-\(number)"
                var item: Item = ["id": .s(id), "owner": .s("owner-\(Int.random(in: 0..<13, using: &random))"), "seq": .n(DecimalNumber(seq))]
                item["category"] = category(number, seq)
                item["expiresAt"] = expiry(number, seq)
                do {
                    switch Int.random(in: 0..<6, using: &random) {
                    case 0:
                        try await db.deleteItem(DeleteItemInput(tableName: table, key: ["id": .s(id)]))
                        writeLine("D \(id) \(seq)")
                        continue
                    case 1:
                        try await db.transactWriteItems(TransactWriteItemsInput(transactItems: [
                            TransactWriteItem(put: TransactPut(tableName: table, item: item))
                        ]))
                    case 2, 3:
                        let names = ["#o": "owner", "#s": "seq", "#c": "category", "#x": "expiresAt"]
                        var values: [String: AttributeValue] = [":o": item["owner"]!, ":s": item["seq"]!]
                        var expression = "SET #o = :o, #s = :s"
                        if let category = item["category"] {
                            values[":c"] = category
                            expression += ", #c = :c"
                        }
                        if let expiresAt = item["expiresAt"] {
                            values[":x"] = expiresAt
                            expression += ", #x = :x"
                        }
                        var removed = item["category"] == nil ? ["#c"] : []
                        if item["expiresAt"] == nil { removed.append("#x") }
                        if !removed.isEmpty { expression += " REMOVE " + removed.joined(separator: ", ") }
                        try await db.updateItem(UpdateItemInput(
                            tableName: table, key: ["id": .s(id)], updateExpression: expression, expressionAttributeNames: names,
                            expressionAttributeValues: values))
                    default:
                        try await db.putItem(PutItemInput(tableName: table, item: item))
                    }
                    writeLine("W \(id) \(seq)")
                } catch {
                    // A transaction never waits: it is cancelled if the backfill holds its item's lock.
                    guard case .transactionCanceled? = error as? EddyError else {
                        writeLine("ERROR \(error)")
                        exit(1)
                    }
                }
            }
        }
    }
}
