// Eddy's WelcomeEmail example: a trigger with a side effect outside the database. A Users table has a stream;
// a trigger mapping filtered to INSERT records (sign-ups) sends each new user a welcome mail over SMTP, then
// marks the user with a conditional update. Delivery to handlers is at least once, and SMTP cannot be exactly
// once across a crash: marking before sending could lose a mail, marking after (as here) can send it twice
// when the process dies between the two. So each mail's Message-ID is derived from the sign-up's stream
// eventID: a duplicate carries the same Message-ID, by which a receiver can drop it; and the marker, read
// before sending, keeps a redelivered batch from mailing anyone already welcomed.
//
//   WelcomeEmail DATA_DIR --smtp-port PORT [--smtp-host IPV4] [--signups N] [--from-id K] [--until-done]
//
// It creates the table if missing and runs the trigger; with --signups it signs up N users, user-K to
// user-(K+N-1), with addresses user-K@example.com and so on. With --until-done it exits once every user in
// the table has been welcomed (or marked as having no usable address); without, it runs until killed, and a
// restart resumes where it left off.
// Lines on stdout, each written with one write(2): `SIGNUP <id> <email>` once a sign-up is stored, and
// `SENT <id> <message-id>` once the SMTP server accepted that user's mail.
// `bash Examples/WelcomeEmail/run.sh` runs it against a local SMTP server (Python's aiosmtpd).
import Eddy
import Foundation
import WelcomeMail

/// The command line.
struct Options {
    var dataDirectory: String
    var smtpHost = "127.0.0.1"
    var smtpPort: UInt16 = 0
    var signups = 0
    var firstId = 0
    var untilDone = false

    /// Parses `arguments` (without the program name); nil if they are not valid.
    init?(_ arguments: ArraySlice<String>) {
        guard let directory = arguments.first, !directory.hasPrefix("--") else { return nil }
        dataDirectory = directory
        var rest = arguments.dropFirst()
        while let option = rest.popFirst() {
            if option == "--until-done" {
                untilDone = true
                continue
            }
            guard let value = rest.popFirst() else { return nil }
            switch option {
            case "--smtp-host": smtpHost = value
            case "--smtp-port": smtpPort = UInt16(value) ?? 0
            case "--signups": signups = Int(value) ?? -1
            case "--from-id": firstId = Int(value) ?? -1
            default: return nil
            }
        }
        guard smtpPort > 0, signups >= 0, firstId >= 0 else { return nil }
    }
}

/// Writes `line` to `descriptor` with one write(2), so that a line printed is a line whole.
func emit(_ line: String, to descriptor: Int32 = 1) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
}

/// The example's work on the Users table: sign-ups, welcome mails and their markers.
struct Welcomer: Sendable {
    static let table = "Users"

    let db: Database
    let smtp: SMTPClient

    /// Creates the Users table with a stream of new images unless it exists; returns the stream's ARN.
    func createTableIfMissing() async throws(EddyError) -> String {
        do {
            try await db.createTable(CreateTableInput(
                tableName: Self.table,
                keySchema: [KeySchemaElement(attributeName: "id", keyType: .hash)],
                attributeDefinitions: [AttributeDefinition(attributeName: "id", attributeType: .s)],
                billingMode: .payPerRequest,
                streamSpecification: StreamSpecification(streamEnabled: true, streamViewType: .newImage)))
        } catch {
            guard case .resourceInUse = error else { throw error }
        }
        guard let arn = try await db.describeTable(tableName: Self.table).latestStreamArn else {
            throw .validation("Table: \(Self.table) has no stream")
        }
        return arn
    }

    /// Signs up the users with numbers `ids`; a user that exists already is left as it is.
    func signUp(_ ids: Range<Int>) async throws(EddyError) {
        let names = ["Ada", "Grace", "Edsger", "Barbara", "Donald", "Frances", "Alan", "Margaret"]
        for number in ids {
            let id = "user-\(number)"
            let email = "\(id)@example.com"
            do {
                try await db.putItem(PutItemInput(
                    tableName: Self.table,
                    item: ["id": .s(id), "email": .s(email), "name": .s(names[number % names.count])],
                    conditionExpression: "attribute_not_exists(id)"))
                emit("SIGNUP \(id) \(email)")
            } catch {
                guard case .conditionalCheckFailed = error else { throw error }
            }
        }
    }

    /// Welcomes the user of the sign-up `record` (an INSERT): sends the mail unless the user is gone or was
    /// welcomed already, then marks the user. A thrown error fails the batch, which the runtime retries.
    func welcome(_ record: TriggerEventRecord) async throws {
        guard case .s(let id)? = record.dynamodb.keys["id"] else { return }
        // The user as it is now, not as it signed up: a later change of address counts, and a user deleted
        // since, or welcomed by an earlier delivery of this record, gets no mail.
        let key: Item = ["id": .s(id)]
        guard let user = try await db.getItem(GetItemInput(tableName: Self.table, key: key, consistentRead: true)).item,
            user["welcomeSentAt"] == nil, user["welcomeUndeliverable"] == nil
        else { return }
        guard case .s(let address)? = user["email"], Mail.isPlainAddress(address) else {
            // Retrying cannot help: mark the user so that it neither blocks the stream nor counts as pending.
            emit("UNDELIVERABLE \(id)", to: 2)
            try await mark(key, "SET welcomeUndeliverable = :reason", [":reason": "no usable email address"])
            return
        }
        var name: String?
        if case .s(let given)? = user["name"] { name = given }
        let mail = Mail.welcome(id: id, name: name, address: address, eventID: record.eventID)
        try await smtp.send(mail)
        let messageId = mail.messageId
        emit("SENT \(id) \(messageId)")
        try await mark(
            key, "SET welcomeSentAt = :at, welcomeMessageId = :message",
            [":at": .s(Date().ISO8601Format()), ":message": .s(messageId)])
    }

    /// Applies `update` to the user `key` if it still exists and has not been welcomed; a user that does not
    /// qualify any more (deleted, or marked by another delivery) is left alone.
    private func mark(_ key: Item, _ update: String, _ values: [String: AttributeValue]) async throws(EddyError) {
        do {
            try await db.updateItem(UpdateItemInput(
                tableName: Self.table, key: key, updateExpression: update,
                conditionExpression: "attribute_exists(id) AND attribute_not_exists(welcomeSentAt)",
                expressionAttributeValues: values))
        } catch {
            guard case .conditionalCheckFailed = error else { throw error }
        }
    }

    /// Whether every user in the table has been welcomed (or marked undeliverable).
    func everyoneWelcomed() async throws(EddyError) -> Bool {
        var start: Item? = nil
        repeat {
            let page = try await db.scan(ScanInput(
                tableName: Self.table, exclusiveStartKey: start, select: .count,
                filterExpression: "attribute_not_exists(welcomeSentAt) AND attribute_not_exists(welcomeUndeliverable)"))
            if page.count > 0 { return false }
            start = page.lastEvaluatedKey
        } while start != nil
        return true
    }
}

guard let options = Options(CommandLine.arguments.dropFirst()) else {
    emit("usage: WelcomeEmail DATA_DIR --smtp-port PORT [--smtp-host IPV4] [--signups N] [--from-id K] [--until-done]", to: 2)
    exit(2)
}
let db = try Database(path: options.dataDirectory)
let welcomer = Welcomer(db: db, smtp: SMTPClient(host: options.smtpHost, port: options.smtpPort))
var settings = TriggerMappingConfiguration(eventSourceArn: try await welcomer.createTableIfMissing(), startingPosition: .trimHorizon)
// Only sign-ups: the markers, renames and deletions are MODIFY and REMOVE records, skipped and checkpointed.
settings.filterCriteria = try FilterCriteria(patterns: [#"{"eventName": ["INSERT"]}"#])
settings.batchSize = 10
let triggers = TriggerRuntime(database: db)
// Registering under the same name in a restarted process resumes at the mapping's checkpoint.
try await triggers.register(name: "welcome-email", configuration: settings) { event in
    for record in event.records {
        do {
            try await welcomer.welcome(record)
        } catch {
            emit("RETRY \(record.eventID): \(error)", to: 2)
            throw error
        }
    }
}
// Each change of the table (a marker among them) wakes the check for the end; fixed before the first write.
let changes = try db.streamChanges(tableName: Welcomer.table, from: .latest)
let running = Task { await triggers.run() }
try await welcomer.signUp(options.firstId..<options.firstId + options.signups)
if options.untilDone {
    if try await !welcomer.everyoneWelcomed() {
        for try await _ in changes {
            if try await welcomer.everyoneWelcomed() { break }
        }
    }
    // A batch being handled finishes and is checkpointed before the runtime returns.
    running.cancel()
}
await running.value
