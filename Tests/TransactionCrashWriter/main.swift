// The child process of the transaction crash test (Tests/EddyTests/TransactionCrashTests.swift): transfers
// money between accounts with TransactWriteItems from several tasks, and prints one line per acknowledged
// transaction, until it is killed with SIGKILL.
//
//   TransactionCrashWriter DATA_DIR ROUND
//
// The table `Bank` (stream of new and old images) holds the accounts `account-0` ... `account-9`, created
// with 1,000 each by one transaction in the first round, and one `transfer-…` item per transfer: each
// transfer is one transaction of three actions (take from one account on the condition that it has
// enough, give to another, put the transfer item with its accounts and amount). `TX <transfer id>` is
// written with one write(2) once transactWriteItems returned. `OPENING` and `OPENED` come before and after it
// opens the database; an error is reported as `ERROR ...` and ends it with status 1.
import ChildProcessSupport
import Eddy
import Foundation

let arguments = CommandLine.arguments
guard arguments.count == 3, let round = Int(arguments[2]) else {
    FileHandle.standardError.write(Data("usage: TransactionCrashWriter DATA_DIR ROUND\n".utf8))
    exit(2)
}
let table = "Bank"
let accounts = 10

/// Creates the table and its accounts, unless an earlier round did.
func createAccountsIfMissing(_ db: Database) async throws(EddyError) {
    do {
        try await db.createTable(CreateTableInput(
            tableName: table, keySchema: [KeySchemaElement(attributeName: "id", keyType: .hash)],
            attributeDefinitions: [AttributeDefinition(attributeName: "id", attributeType: .s)], billingMode: .payPerRequest,
            streamSpecification: StreamSpecification(streamEnabled: true, streamViewType: .newAndOldImages)))
    } catch {
        guard case .resourceInUse = error else { throw error }
    }
    do {
        try await db.transactWriteItems(TransactWriteItemsInput(transactItems: (0..<accounts).map { account in
            TransactWriteItem(put: TransactPut(
                tableName: table, item: ["id": .s("account-\(account)"), "balance": 1000], conditionExpression: "attribute_not_exists(id)"))
        }))
    } catch {
        // A later round: the accounts exist.
        guard case .transactionCanceled = error else { throw error }
    }
}

let db = await openOrExit(path: arguments[1], prepare: createAccountsIfMissing)

await withTaskGroup(of: Void.self) { group in
    for writer in 0..<4 {
        group.addTask {
            var random = SystemRandomNumberGenerator()
            var sequence = 0
            while true {
                sequence += 1
                let from = Int.random(in: 0..<accounts, using: &random)
                let to = (from + Int.random(in: 1..<accounts, using: &random)) % accounts
                let amount = AttributeValue.n(DecimalNumber(Int.random(in: 1...300, using: &random)))
                let id = "transfer-r\(round)-w\(writer)-\(sequence)"
                do {
                    try await db.transactWriteItems(TransactWriteItemsInput(transactItems: [
                        TransactWriteItem(update: TransactUpdate(
                            tableName: table, key: ["id": .s("account-\(from)")], updateExpression: "SET balance = balance - :x",
                            conditionExpression: "balance >= :x", expressionAttributeValues: [":x": amount])),
                        TransactWriteItem(update: TransactUpdate(
                            tableName: table, key: ["id": .s("account-\(to)")], updateExpression: "SET balance = balance + :x",
                            expressionAttributeValues: [":x": amount])),
                        TransactWriteItem(put: TransactPut(
                            tableName: table, item: ["id": .s(id), "from": .s("account-\(from)"), "to": .s("account-\(to)"), "amount": amount])),
                    ]))
                    writeLine("TX \(id)")
                } catch {
                    guard case .transactionCanceled? = error as? EddyError else {
                        writeLine("ERROR \(error)")
                        exit(1)
                    }
                }
            }
        }
    }
}
