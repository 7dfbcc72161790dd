// Eddy's materialized view: an Orders table and CustomerTotals, a derivative table holding each customer's
// order count and total, kept by a trigger mapping from the Orders stream. The runtime commits a batch's
// writes to CustomerTotals with the mapping's checkpoint in one atomic write, so every change of Orders is
// applied exactly once, across crashes and restarts too.
//
//   swift run MaterializedView [DATA_DIR]
//
// writes random orders (placed, repriced, moved to another customer, cancelled) from three tasks while the
// mapping runs, waits until CustomerTotals agrees with a recomputation from Orders, prints both side by side
// and exits 0, or 1 if they still differ after 30 seconds. Without a directory it makes a fresh one; run it
// again on the same directory and the view carries on from where it stopped.
//
//   MaterializedView --worker DATA_DIR SEED
//
// is the child of the crash test (Tests/EddyTests/MaterializedViewTests.swift): the same mapping and a
// random workload from SEED, without end, printing `ACK <operation> <order>` after each write returns, until
// it is killed (after `OPENING` and `OPENED` around the opening of the database).
import Eddy
import Foundation

let ordersTable = "Orders"
let totalsTable = "CustomerTotals"
/// The mapping's name: registering it again, in this process or a later one, resumes at its checkpoint.
let mappingName = "customer-totals"

/// A customer's order count and the sum of their orders' amounts, in cents.
struct Totals: Equatable {
    var orders = 0
    var cents = 0
}

/// Opens the database in `path` and creates the two tables unless they exist.
func openDatabase(path: String) async throws -> Database {
    let db = try Database(path: path)
    try await createTableIfMissing(
        db, ordersTable, key: "orderId",
        stream: StreamSpecification(streamEnabled: true, streamViewType: .newAndOldImages))
    try await createTableIfMissing(db, totalsTable, key: "customerId", stream: nil)
    return db
}

/// Creates table `name` keyed by the string `key`, unless it exists.
func createTableIfMissing(_ db: Database, _ name: String, key: String, stream: StreamSpecification?) async throws(EddyError) {
    do {
        try await db.createTable(CreateTableInput(
            tableName: name,
            keySchema: [KeySchemaElement(attributeName: key, keyType: .hash)],
            attributeDefinitions: [AttributeDefinition(attributeName: key, attributeType: .s)],
            billingMode: .payPerRequest,
            streamSpecification: stream))
    } catch {
        guard case .resourceInUse = error else { throw error }
    }
}

/// The customer and amount of an order image, if it is one.
func placedOrder(in image: Item?) -> (customer: String, cents: Int)? {
    guard case .s(let customer)? = image?["customerId"], case .n(let amount)? = image?["amountCents"],
        let cents = Int(amount.description)
    else { return nil }
    return (customer, cents)
}

/// The writes one Orders record makes to CustomerTotals: the order as it was (the old image) leaves its
/// customer's totals and the order as it is (the new image) joins its customer's. So an INSERT adds one
/// order and its amount, a REMOVE subtracts them, and a MODIFY adds the difference of the amounts, or moves
/// the order from one customer to another.
func totalsWrites(for record: StreamRecord) -> [DerivativeWrite] {
    var deltas: [String: Totals] = [:]
    if let old = placedOrder(in: record.dynamodb.oldImage) {
        deltas[old.customer, default: Totals()].orders -= 1
        deltas[old.customer, default: Totals()].cents -= old.cents
    }
    if let new = placedOrder(in: record.dynamodb.newImage) {
        deltas[new.customer, default: Totals()].orders += 1
        deltas[new.customer, default: Totals()].cents += new.cents
    }
    return deltas.filter { $0.value != Totals() }.map { customer, delta in
        .update(
            tableName: totalsTable, key: ["customerId": .s(customer)],
            updateExpression: "ADD #orders :orders, #cents :cents",
            expressionAttributeNames: ["#orders": "orderCount", "#cents": "totalCents"],
            expressionAttributeValues: [":orders": .n(DecimalNumber(delta.orders)), ":cents": .n(DecimalNumber(delta.cents))])
    }
}

/// Registers the mapping that keeps CustomerTotals from the Orders stream, from its oldest record on.
func registerView(_ triggers: TriggerRuntime, _ db: Database) async throws {
    guard let streamArn = try await db.describeTable(tableName: ordersTable).latestStreamArn else {
        throw EddyError.validation("Table \(ordersTable) has no stream")
    }
    var settings = TriggerMappingConfiguration(eventSourceArn: streamArn, startingPosition: .trimHorizon)
    settings.batchSize = 25
    settings.parallelizationFactor = 3
    try await triggers.registerDerivative(
        name: mappingName, configuration: settings, targetTables: [totalsTable], transform: totalsWrites)
}

/// Every item of `table`, over all Scan pages.
func scanAll(_ db: Database, _ table: String) async throws -> [Item] {
    var items: [Item] = []
    var start: Item?
    repeat {
        let page = try await db.scan(ScanInput(tableName: table, exclusiveStartKey: start))
        items += page.items ?? []
        start = page.lastEvaluatedKey
    } while start != nil
    return items
}

/// The customers CustomerTotals holds, leaving out those whose orders have all gone (count and total 0).
func viewTotals(_ db: Database) async throws -> [String: Totals] {
    var totals: [String: Totals] = [:]
    for item in try await scanAll(db, totalsTable) {
        guard case .s(let customer)? = item["customerId"] else { continue }
        let orders = item["orderCount"].flatMap(integer) ?? 0
        let cents = item["totalCents"].flatMap(integer) ?? 0
        if orders != 0 || cents != 0 { totals[customer] = Totals(orders: orders, cents: cents) }
    }
    return totals
}

/// The integer a number attribute holds.
func integer(_ value: AttributeValue) -> Int? {
    guard case .n(let number) = value else { return nil }
    return Int(number.description)
}

/// What CustomerTotals should hold, recomputed from the orders themselves.
func recomputedTotals(_ db: Database) async throws -> [String: Totals] {
    var totals: [String: Totals] = [:]
    for item in try await scanAll(db, ordersTable) {
        guard let order = placedOrder(in: item) else { continue }
        totals[order.customer, default: Totals()].orders += 1
        totals[order.customer, default: Totals()].cents += order.cents
    }
    return totals
}

/// A small seeded generator, so that a workload can be replayed from its seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Makes random changes to 60 orders of 8 customers from three concurrent tasks seeded from `seed`,
/// `operations` per task or, when nil, until the process ends; calls `acknowledged` with the operation and
/// the order after each write returns. An order is placed (PutItem, which may replace it with another
/// customer and amount), repriced or moved to another customer (UpdateItem, if it exists), or cancelled
/// (DeleteItem).
func runWorkload(
    _ db: Database, seed: UInt64, operations: Int?, acknowledged: @escaping @Sendable (String, String) -> Void
) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for writer in 0..<3 {
            group.addTask {
                var random = SplitMix64(state: seed &+ UInt64(writer) &* 0x1000_0001)
                var done = 0
                while operations.map({ done < $0 }) ?? true {
                    done += 1
                    let orderId = "o\(Int.random(in: 0..<60, using: &random))"
                    let customer = AttributeValue.s("c\(Int.random(in: 0..<8, using: &random))")
                    let amount = AttributeValue.n(DecimalNumber(Int.random(in: 100..<50_000, using: &random)))
                    let operation: String
                    switch Int.random(in: 0..<10, using: &random) {
                    case 0..<4:
                        operation = "place"
                        try await db.putItem(PutItemInput(
                            tableName: ordersTable, item: ["orderId": .s(orderId), "customerId": customer, "amountCents": amount]))
                    case 4..<6:
                        operation = "reprice"
                        guard try await updateIfPlaced(db, orderId, "SET amountCents = :value", amount) else { continue }
                    case 6..<8:
                        operation = "move"
                        guard try await updateIfPlaced(db, orderId, "SET customerId = :value", customer) else { continue }
                    default:
                        operation = "cancel"
                        try await db.deleteItem(DeleteItemInput(tableName: ordersTable, key: ["orderId": .s(orderId)]))
                    }
                    acknowledged(operation, orderId)
                }
            }
        }
        try await group.waitForAll()
    }
}

/// Applies `expression` with `:value` to order `orderId` if it exists; false if it does not.
func updateIfPlaced(_ db: Database, _ orderId: String, _ expression: String, _ value: AttributeValue) async throws(EddyError) -> Bool {
    do {
        try await db.updateItem(UpdateItemInput(
            tableName: ordersTable, key: ["orderId": .s(orderId)], updateExpression: expression,
            conditionExpression: "attribute_exists(orderId)", expressionAttributeValues: [":value": value]))
        return true
    } catch {
        guard case .conditionalCheckFailed = error else { throw error }
        return false
    }
}

/// The crash test's child: runs the mapping and a workload without end, one `ACK` line per returned write,
/// each written with one write(2) so that a line on stdout means the write was acknowledged; `OPENING` and
/// `OPENED` come before and after it opens the database (and creates the tables).
func runWorker(path: String, seed: UInt64) async throws {
    let report: @Sendable (String) -> Void = { line in FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
    report("OPENING")
    let db = try await openDatabase(path: path)
    report("OPENED")
    let triggers = TriggerRuntime(database: db)
    try await registerView(triggers, db)
    let view = Task { await triggers.run() }
    defer { view.cancel() }
    try await runWorkload(db, seed: seed, operations: nil) { operation, orderId in report("ACK \(operation) \(orderId)") }
}

/// The demo: a workload while the mapping runs, then the view beside its recomputation. Returns whether
/// they agree.
func runDemo(path: String) async throws -> Bool {
    print("Opening an Eddy database in \(path)")
    let db = try await openDatabase(path: path)
    let triggers = TriggerRuntime(database: db)
    try await registerView(triggers, db)
    let view = Task { await triggers.run() }
    try await runWorkload(db, seed: UInt64.random(in: 0...UInt64.max), operations: 100) { _, _ in }
    print("Ran 3 × 100 random order operations; waiting for \(totalsTable) to catch up")
    let deadline = ContinuousClock.now + .seconds(30)
    var (stored, expected) = (try await viewTotals(db), try await recomputedTotals(db))
    while stored != expected, ContinuousClock.now < deadline {
        try await Task.sleep(for: .milliseconds(20))
        (stored, expected) = (try await viewTotals(db), try await recomputedTotals(db))
    }
    // Stopped before the database closes: the process must not exit while the mapping still uses it.
    view.cancel()
    await view.value
    print("customer   \(totalsTable) (orders, cents)   recomputed from \(ordersTable) (orders, cents)")
    for customer in Set(stored.keys).union(expected.keys).sorted() {
        let shown = [stored[customer], expected[customer]].map { totals in
            totals.map { "\($0.orders), \($0.cents)" } ?? "none"
        }
        let mark = stored[customer] == expected[customer] ? "" : "   <- differs"
        print(customer.padding(toLength: 11, withPad: " ", startingAt: 0)
            + shown[0].padding(toLength: 32, withPad: " ", startingAt: 0) + shown[1] + mark)
    }
    print(stored == expected ? "The view agrees with the recomputation" : "The view still differs after 30 seconds")
    return stored == expected
}

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "--worker" {
    guard arguments.count == 3, let seed = UInt64(arguments[2]) else {
        FileHandle.standardError.write(Data("usage: MaterializedView --worker DATA_DIR SEED\n".utf8))
        exit(2)
    }
    do {
        try await runWorker(path: arguments[1], seed: seed)
    } catch {
        FileHandle.standardOutput.write(Data("ERROR \(error)\n".utf8))
        exit(1)
    }
} else {
    let path = arguments.first
        ?? FileManager.default.temporaryDirectory.appendingPathComponent("eddy-materialized-view-\(UUID().uuidString)").path
    exit(try await runDemo(path: path) ? 0 : 1)
}
