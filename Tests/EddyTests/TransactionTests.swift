import ChildProcessSupport
import Foundation
import Testing

@testable import Eddy

// Transactions, from the DynamoDB Developer Guide ("Amazon DynamoDB Transactions") and the TransactWriteItems
// and TransactGetItems API references: all or nothing, cancellation reasons in request order, conflicts,
// idempotent client request tokens, one stream record per written item, reads as of one moment.

private func update(_ table: String, _ key: Item, _ expression: String, condition: String? = nil, values: [String: AttributeValue]? = nil)
    -> TransactWriteItem
{
    TransactWriteItem(update: TransactUpdate(
        tableName: table, key: key, updateExpression: expression, conditionExpression: condition, expressionAttributeValues: values))
}

private func put(_ table: String, _ item: Item, condition: String? = nil) -> TransactWriteItem {
    TransactWriteItem(put: TransactPut(tableName: table, item: item, conditionExpression: condition))
}

/// The reasons of a TransactionCanceledException thrown by `body`, or nil (recording an issue) if it threw
/// anything else or nothing.
private func cancellationReasons(sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void) async -> [CancellationReason]? {
    let error = await expectEddyError("TransactionCanceledException", sourceLocation: sourceLocation, body)
    guard case .transactionCanceled(let message, let reasons)? = error else { return nil }
    #expect(message == "Transaction cancelled, please refer cancellation reasons for specific reasons [\(reasons.map(\.code).joined(separator: ", "))]")
    return reasons
}

@Suite(.timeLimit(.minutes(5))) struct TransactWriteItemsTests {
    @Test func allActionsCommitTogetherWithOneRecordPerWrittenItem() async throws {
        try await withStreamDatabase { db, _ in
            let orders = try #require(try await createStreamTable(db, "Orders").latestStreamArn)
            let stock = try #require(try await createStreamTable(db, "Stock").latestStreamArn)
            try await db.putItem(PutItemInput(tableName: "Stock", item: ["pk": "widget", "count": 5]))
            try await db.putItem(PutItemInput(tableName: "Stock", item: ["pk": "gone", "count": 0]))
            try await db.putItem(PutItemInput(tableName: "Orders", item: ["pk": "customer", "status": "gold"]))
            let before = Set(try await readStream(db, orders).map(\.record.eventID) + readStream(db, stock).map(\.record.eventID))

            try await db.transactWriteItems(TransactWriteItemsInput(transactItems: [
                put("Orders", ["pk": "order-1", "item": "widget"], condition: "attribute_not_exists(pk)"),
                update("Stock", ["pk": "widget"], "SET #c = #c - :one", condition: "#c >= :one", values: [":one": 1])
                    .named(["#c": "count"]),
                TransactWriteItem(delete: TransactDelete(tableName: "Stock", key: ["pk": "gone"])),
                TransactWriteItem(conditionCheck: TransactConditionCheck(
                    tableName: "Orders", key: ["pk": "customer"], conditionExpression: "#s = :gold",
                    expressionAttributeNames: ["#s": "status"], expressionAttributeValues: [":gold": "gold"])),
            ]))

            #expect(try await db.getItem(GetItemInput(tableName: "Orders", key: ["pk": "order-1"])).item == ["pk": "order-1", "item": "widget"])
            #expect(try await db.getItem(GetItemInput(tableName: "Stock", key: ["pk": "widget"])).item == ["pk": "widget", "count": 4])
            #expect(try await db.getItem(GetItemInput(tableName: "Stock", key: ["pk": "gone"])).item == nil)
            let orderRecords = try await readStream(db, orders).map(\.record).filter { !before.contains($0.eventID) }
            let stockRecords = try await readStream(db, stock).map(\.record).filter { !before.contains($0.eventID) }
            #expect(orderRecords.map(\.eventName) == [.insert])
            #expect(Set(stockRecords.map { "\($0.eventName.rawValue) \($0.dynamodb.keys)" }) == [
                "MODIFY \(["pk": AttributeValue.s("widget")])", "REMOVE \(["pk": AttributeValue.s("gone")])",
            ])
        }
    }

    @Test func aFailedConditionCancelsEveryActionWithReasonsInRequestOrder() async throws {
        try await withStreamDatabase { db, _ in
            let arn = try #require(try await createStreamTable(db, "Things").latestStreamArn)
            try await db.putItem(PutItemInput(tableName: "Things", item: ["pk": "checked", "v": 1]))
            try await db.putItem(PutItemInput(tableName: "Things", item: ["pk": "counter", "n": 1]))
            let recordsBefore = try await readStream(db, arn).count
            let reasons = await cancellationReasons {
                try await db.transactWriteItems(TransactWriteItemsInput(transactItems: [
                    put("Things", ["pk": "new"]),
                    TransactWriteItem(conditionCheck: TransactConditionCheck(
                        tableName: "Things", key: ["pk": "checked"], conditionExpression: "v = :two",
                        expressionAttributeValues: [":two": 2], returnValuesOnConditionCheckFailure: .allOld)),
                    update("Things", ["pk": "counter"], "SET n = n + :one", values: [":one": 1]),
                    put("Things", ["pk": "counter-2"], condition: "attribute_exists(pk)"),
                ]))
            }
            #expect(reasons == [
                .none,
                CancellationReason(code: "ConditionalCheckFailed", message: "The conditional request failed", item: ["pk": "checked", "v": 1]),
                .none,
                CancellationReason(code: "ConditionalCheckFailed", message: "The conditional request failed"),
            ])
            #expect(try await db.getItem(GetItemInput(tableName: "Things", key: ["pk": "new"])).item == nil)
            #expect(try await db.getItem(GetItemInput(tableName: "Things", key: ["pk": "counter"])).item == ["pk": "counter", "n": 1])
            #expect(try await readStream(db, arn).count == recordsBefore)
        }
    }

    @Test func anInvalidChangeUnderTheLockCancelsWithAValidationError() async throws {
        try await withStreamDatabase { db, _ in
            try await createTable(db, "Things")
            try await db.putItem(PutItemInput(tableName: "Things", item: ["pk": "text", "n": "not a number"]))
            let reasons = await cancellationReasons {
                try await db.transactWriteItems(TransactWriteItemsInput(transactItems: [
                    put("Things", ["pk": "new"]),
                    update("Things", ["pk": "text"], "SET n = n + :one", values: [":one": 1]),
                ]))
            }
            #expect(reasons == [
                .none, CancellationReason(code: "ValidationError", message: "An operand in the update expression has an incorrect data type"),
            ])
            #expect(try await db.getItem(GetItemInput(tableName: "Things", key: ["pk": "new"])).item == nil)
        }
    }

    @Test func malformedRequestsAreValidationExceptions() async throws {
        try await withStreamDatabase { db, _ in
            try await createTable(db, "Things")
            await expectValidation(
                "1 validation error detected: Value '[]' at 'transactItems' failed to satisfy constraint: Member must have length greater than or equal to 1"
            ) { try await db.transactWriteItems(TransactWriteItemsInput(transactItems: [])) }
            await expectValidation(
                "1 validation error detected: Value '[101 items]' at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100"
            ) {
                try await db.transactWriteItems(TransactWriteItemsInput(transactItems: (0..<101).map { put("Things", ["pk": .s("k\($0)")]) }))
            }
            try await db.transactWriteItems(TransactWriteItemsInput(transactItems: (0..<100).map { put("Things", ["pk": .s("k\($0)")]) }))
            await expectValidation("Transaction request cannot include multiple operations on one item") {
                try await db.transactWriteItems(TransactWriteItemsInput(transactItems: [
                    put("Things", ["pk": "same", "v": 1]), update("Things", ["pk": "same"], "SET v = :v", values: [":v": 2]),
                ]))
            }
            await expectValidation("TransactItems can only contain one of Check, Put, Update or Delete") {
                try await db.transactWriteItems(TransactWriteItemsInput(transactItems: [
                    TransactWriteItem(put: TransactPut(tableName: "Things", item: ["pk": "a"]), delete: TransactDelete(tableName: "Things", key: ["pk": "a"])),
                ]))
            }
            await expectValidation("TransactItems can only contain one of Check, Put, Update or Delete") {
                try await db.transactWriteItems(TransactWriteItemsInput(transactItems: [TransactWriteItem()]))
            }
            await expectValidation { try await db.transactWriteItems(TransactWriteItemsInput(transactItems: [put("Things", ["pk": 1])])) }
            await expectValidation {
                try await db.transactWriteItems(TransactWriteItemsInput(transactItems: [update("Things", ["pk": "a"], "SET v = :undefined")]))
            }
            await expectEddyError("ResourceNotFoundException") {
                try await db.transactWriteItems(TransactWriteItemsInput(transactItems: [put("Nowhere", ["pk": "a"])]))
            }
            // Eleven items of 390 KB: each is allowed, together they pass 4 MB.
            let big = String(repeating: "x", count: 390 * 1024)
            await expectValidation("Transaction request cannot be larger than 4 MB") {
                try await db.transactWriteItems(TransactWriteItemsInput(transactItems: (0..<11).map { put("Things", ["pk": .s("big\($0)"), "data": .s(big)]) }))
            }
            #expect(try await db.scan(ScanInput(tableName: "Things", select: .count)).count == 100)
        }
    }

    @Test func aTransactionMeetingAHeldItemIsCancelledAndAWriteMeetingATransactionConflicts() async throws {
        try await withStreamDatabase { db, _ in
            try await createTable(db, "Things")
            let table = try db.resolveTable("Things")
            let key = ItemKey(table: table, key: ["pk": "busy"])
            try await db.locks.withLock(key) { () async throws(EddyError) in
                let reasons = await cancellationReasons {
                    try await db.transactWriteItems(TransactWriteItemsInput(transactItems: [put("Things", ["pk": "free"]), put("Things", ["pk": "busy"])]))
                }
                #expect(reasons == [.none, CancellationReason(code: "TransactionConflict", message: "Transaction is ongoing for the item")])
            }
            let outcome = try await db.locks.withTransactionLocks([key]) { () async throws(EddyError) in
                await expectEddyError("TransactionConflictException", "Transaction is ongoing for the item") {
                    try await db.putItem(PutItemInput(tableName: "Things", item: ["pk": "busy"]))
                }
                await expectEddyError("TransactionConflictException") {
                    try await db.updateItem(UpdateItemInput(tableName: "Things", key: ["pk": "busy"], updateExpression: "SET v = :v", expressionAttributeValues: [":v": 1]))
                }
                await expectEddyError("TransactionConflictException") {
                    try await db.deleteItem(DeleteItemInput(tableName: "Things", key: ["pk": "busy"]))
                }
                await expectEddyError("TransactionConflictException") {
                    try await db.batchWriteItem(BatchWriteItemInput(requestItems: ["Things": [WriteRequest(putRequest: PutRequest(item: ["pk": "busy"]))]]))
                }
            }
            #expect(throws: Never.self) { try outcome.get() }
            #expect(try await db.scan(ScanInput(tableName: "Things")).count == 0)
            try await db.putItem(PutItemInput(tableName: "Things", item: ["pk": "busy"]))
        }
    }

    /// How a contender of ``competingTransactionsOnOneItemCommitExactlyOnce()`` ended.
    private enum ContenderOutcome: Sendable {
        case committed
        /// Cancelled, with the code of each action's cancellation reason, in request order.
        case cancelled([String])
        case failed(String)
    }

    @Test func competingTransactionsOnOneItemCommitExactlyOnce() async throws {
        try await withStreamDatabase { db, _ in
            let arn = try #require(try await createStreamTable(db, "Things").latestStreamArn)
            for round in 0..<20 {
                let key: Item = ["pk": .s("contested-\(round)")]
                try await db.putItem(PutItemInput(tableName: "Things", item: key.merging(["version": 0]) { $1 }))
                let outcomes = await withTaskGroup(of: ContenderOutcome.self) { group in
                    for writer in 0..<8 {
                        group.addTask {
                            do {
                                try await db.transactWriteItems(TransactWriteItemsInput(transactItems: [
                                    update("Things", key, "SET version = :one, winner = :w", condition: "version = :zero",
                                           values: [":one": 1, ":zero": 0, ":w": .n(DecimalNumber(writer))]),
                                    put("Things", ["pk": .s("log-\(round)-\(writer)")]),
                                ]))
                                return .committed
                            } catch EddyError.transactionCanceled(_, let reasons) {
                                return .cancelled(reasons.map(\.code))
                            } catch {
                                return .failed("\(error)")
                            }
                        }
                    }
                    return await group.reduce(into: []) { $0.append($1) }
                }
                // The first to hold the contested item commits (its condition holds: nobody has changed the item
                // yet); every other one is cancelled, because the item is held (TransactionConflict) or because
                // the winner has changed it (ConditionalCheckFailed), and its own log item is not to blame.
                let committed = outcomes.count { if case .committed = $0 { true } else { false } }
                #expect(committed == 1, "round \(round): \(outcomes)")
                for outcome in outcomes {
                    switch outcome {
                    case .committed:
                        continue
                    case .cancelled(let codes):
                        #expect(
                            codes.count == 2 && ["TransactionConflict", "ConditionalCheckFailed"].contains(codes[0]) && codes[1] == "None",
                            "round \(round): cancellation reasons \(codes)")
                    case .failed(let error):
                        Issue.record("round \(round): a contender failed with \(error), not a cancellation")
                    }
                }
                let item = try #require(try await db.getItem(GetItemInput(tableName: "Things", key: key)).item)
                let logs = try await db.scan(ScanInput(
                    tableName: "Things", filterExpression: "begins_with(pk, :p)", expressionAttributeValues: [":p": .s("log-\(round)-")])).items ?? []
                #expect(logs.count == 1)
                guard case .n(let winner)? = item["winner"] else {
                    Issue.record("round \(round): the contested item has no winner: \(item)")
                    continue
                }
                #expect(logs.first?["pk"] == .s("log-\(round)-\(winner)"))
            }
            // Every record is of a committed change: one INSERT per item, one MODIFY per winner.
            let records = try await readStream(db, arn).map(\.record)
            let modifies = records.filter { $0.eventName == .modify }.count
            let logs = records.filter { $0.eventName == .insert && ($0.dynamodb.keys["pk"].map { "\($0)" } ?? "").contains("log-") }.count
            #expect(modifies == 20 && logs == 20)
        }
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func transfersUnderContentionKeepTheTotal(seed: UInt64) async throws {
        try await withStreamDatabase { db, _ in
            try await createTable(db, "Accounts")
            let accounts = 6
            for account in 0..<accounts {
                try await db.putItem(PutItemInput(tableName: "Accounts", item: ["pk": .s("a\(account)"), "balance": 100]))
            }
            let committed = await withTaskGroup(of: Int.self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        var random = SplitMix64(seed: seed &* 1000 &+ UInt64(worker))
                        var done = 0
                        for _ in 0..<150 {
                            let from = Int(random.next() % UInt64(accounts))
                            let to = (from + 1 + Int(random.next() % UInt64(accounts - 1))) % accounts
                            let amount = AttributeValue.n(DecimalNumber(Int(random.next() % 40) + 1))
                            do {
                                try await db.transactWriteItems(TransactWriteItemsInput(transactItems: [
                                    update("Accounts", ["pk": .s("a\(from)")], "SET balance = balance - :x", condition: "balance >= :x", values: [":x": amount]),
                                    update("Accounts", ["pk": .s("a\(to)")], "SET balance = balance + :x", values: [":x": amount]),
                                ]))
                                done += 1
                            } catch EddyError.transactionCanceled(_, let reasons) {
                                // A conflict or too little money: the transfer is simply not made.
                                let codes = Set(reasons.map(\.code))
                                #expect(codes.isSubset(of: ["None", "TransactionConflict", "ConditionalCheckFailed"]) && codes != ["None"], "\(reasons)")
                            } catch {
                                Issue.record("a transfer failed with \(error), not a cancellation")
                            }
                            // Readers see a consistent total too, at any moment.
                            if done % 10 == 0 {
                                let read = try? await db.transactGetItems(TransactGetItemsInput(transactItems: (0..<accounts).map {
                                    TransactGetItem(get: TransactGet(tableName: "Accounts", key: ["pk": .s("a\($0)")]))
                                }))
                                let total = read?.responses.reduce(0) { sum, response in
                                    guard case .n(let balance)? = response.item?["balance"] else { return sum }
                                    return sum + (Int(balance.description) ?? 0)
                                }
                                #expect(total == 100 * accounts)
                            }
                        }
                        return done
                    }
                }
                return await group.reduce(0, +)
            }
            let items = try await db.scan(ScanInput(tableName: "Accounts")).items ?? []
            let balances = items.compactMap { item -> Int? in
                guard case .n(let balance)? = item["balance"] else { return nil }
                return Int(balance.description)
            }
            #expect(balances.count == accounts)
            #expect(balances.reduce(0, +) == 100 * accounts)
            #expect(balances.allSatisfy { $0 >= 0 })
            #expect(committed > 0)
        }
    }
}

@Suite(.timeLimit(.minutes(5))) struct ClientRequestTokenTests {
    private static func increment(_ token: String, by amount: Int = 1) -> TransactWriteItemsInput {
        TransactWriteItemsInput(
            transactItems: [update("Things", ["pk": "counter"], "ADD n :x", values: [":x": .n(DecimalNumber(amount))])],
            clientRequestToken: token)
    }

    private static func counter(_ db: Database) async throws -> AttributeValue? {
        try await db.getItem(GetItemInput(tableName: "Things", key: ["pk": "counter"])).item?["n"]
    }

    @Test func aRepeatedTokenWritesOnceForTenMinutes() async throws {
        try await withStreamDatabase { db, clock in
            let arn = try #require(try await createStreamTable(db, "Things").latestStreamArn)
            try await db.transactWriteItems(Self.increment("token-1"))
            try await db.transactWriteItems(Self.increment("token-1"))
            #expect(try await Self.counter(db) == 1)
            #expect(try await readStream(db, arn).count == 1)
            await expectEddyError("IdempotentParameterMismatchException") { try await db.transactWriteItems(Self.increment("token-1", by: 5)) }
            try await db.transactWriteItems(Self.increment("token-2"))
            #expect(try await Self.counter(db) == 2)
            clock.advance(bySeconds: 599)
            try await db.transactWriteItems(Self.increment("token-1"))
            #expect(try await Self.counter(db) == 2)
            clock.advance(bySeconds: 2)
            try await db.transactWriteItems(Self.increment("token-1"))
            #expect(try await Self.counter(db) == 3)
        }
    }

    @Test func aCancelledTransactionLeavesItsTokenFree() async throws {
        try await withStreamDatabase { db, _ in
            try await createTable(db, "Things")
            let failing = TransactWriteItemsInput(
                transactItems: [put("Things", ["pk": "counter", "n": 10], condition: "attribute_exists(pk)")], clientRequestToken: "retry-me")
            _ = await cancellationReasons { try await db.transactWriteItems(failing) }
            try await db.putItem(PutItemInput(tableName: "Things", item: ["pk": "counter", "n": 1]))
            try await db.transactWriteItems(failing)
            #expect(try await Self.counter(db) == 10)
        }
    }

    @Test func aTokenOutlivesReopeningTheDatabase() async throws {
        try await withTemporaryDirectory { path in
            let clock = ManualWallClock(milliseconds: 1_750_000_000_000)
            do {
                let db = try Database(path: path + "/db", configuration: .init(clock: clock))
                try await createTable(db, "Things")
                try await db.transactWriteItems(Self.increment("durable"))
            }
            let reopened = try Database(path: path + "/db", configuration: .init(clock: clock))
            try await reopened.transactWriteItems(Self.increment("durable"))
            #expect(try await Self.counter(reopened) == 1)
            await expectEddyError("IdempotentParameterMismatchException") { try await reopened.transactWriteItems(Self.increment("durable", by: 2)) }
        }
    }

    @Test func aTokenStillRunningIsInProgressAndTokensAreValidated() async throws {
        try await withStreamDatabase { db, clock in
            try await createTable(db, "Things")
            let request = Self.increment("running")
            _ = try await db.transactionTokens.begin(
                "running", fingerprint: TransactionTokens.fingerprint(of: request), now: clock.nowMilliseconds(), store: db.store)
            await expectEddyError("TransactionInProgressException") { try await db.transactWriteItems(request) }
            db.transactionTokens.end("running")
            try await db.transactWriteItems(request)
            await expectValidation { try await db.transactWriteItems(Self.increment("")) }
            await expectValidation { try await db.transactWriteItems(Self.increment(String(repeating: "t", count: 37))) }
            try await db.transactWriteItems(Self.increment(String(repeating: "t", count: 36)))
        }
    }
}

@Suite(.timeLimit(.minutes(5))) struct TransactGetItemsTests {
    @Test func readsEveryItemInRequestOrderWithProjections() async throws {
        try await withStreamDatabase { db, _ in
            try await createTable(db, "Users")
            try await createTable(db, "Orders", hash: "customer", range: "number", .n)
            try await db.putItem(PutItemInput(tableName: "Users", item: ["pk": "ada", "name": "Ada", "secret": "x"]))
            try await db.putItem(PutItemInput(tableName: "Orders", item: ["customer": "ada", "number": 1, "total": 10]))
            let output = try await db.transactGetItems(TransactGetItemsInput(transactItems: [
                TransactGetItem(get: TransactGet(tableName: "Orders", key: ["customer": "ada", "number": 1])),
                TransactGetItem(get: TransactGet(tableName: "Users", key: ["pk": "nobody"])),
                TransactGetItem(get: TransactGet(tableName: "Users", key: ["pk": "ada"], projectionExpression: "#n", expressionAttributeNames: ["#n": "name"])),
            ]))
            #expect(output.responses == [
                ItemResponse(item: ["customer": "ada", "number": 1, "total": 10]), ItemResponse(item: nil), ItemResponse(item: ["name": "Ada"]),
            ])
            await expectValidation("Transaction request cannot include multiple operations on one item") {
                _ = try await db.transactGetItems(TransactGetItemsInput(transactItems: [
                    TransactGetItem(get: TransactGet(tableName: "Users", key: ["pk": "ada"])),
                    TransactGetItem(get: TransactGet(tableName: "Users", key: ["pk": "ada"])),
                ]))
            }
            await expectValidation { _ = try await db.transactGetItems(TransactGetItemsInput(transactItems: [])) }
            await expectValidation {
                _ = try await db.transactGetItems(TransactGetItemsInput(transactItems: [TransactGetItem(get: TransactGet(tableName: "Users", key: ["nope": "x"]))]))
            }
            await expectEddyError("ResourceNotFoundException") {
                _ = try await db.transactGetItems(TransactGetItemsInput(transactItems: [TransactGetItem(get: TransactGet(tableName: "Nowhere", key: ["pk": "x"]))]))
            }
        }
    }
}

extension TransactWriteItem {
    /// The action with `names` as its ExpressionAttributeNames.
    fileprivate func named(_ names: [String: String]) -> TransactWriteItem {
        var action = self
        action.update?.expressionAttributeNames = names
        action.conditionCheck?.expressionAttributeNames = names
        action.put?.expressionAttributeNames = names
        action.delete?.expressionAttributeNames = names
        return action
    }
}
