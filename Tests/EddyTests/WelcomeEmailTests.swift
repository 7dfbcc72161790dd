import ChildProcessSupport
import Eddy
import Foundation
import Testing

/// The WelcomeEmail example (Examples/WelcomeEmail) against a real SMTP server: Python's aiosmtpd on
/// 127.0.0.1 (Examples/WelcomeEmail/smtp_sink.py), whose mailbox file the tests read.
///
/// SMTP cannot be exactly once across a crash, so the example sends at least once, each mail with a
/// Message-ID derived from the sign-up's INSERT eventID. The tests check that every sign-up got a mail, also
/// when the example is killed with SIGKILL mid-batch, that duplicates carry the same Message-ID, that no
/// mail went to anyone else, and that changes other than sign-ups send nothing.
@Suite(.timeLimit(.minutes(10))) struct WelcomeEmailTests {
    @Test func everySignUpGetsItsMailAcrossKillNine() async throws {
        try await withTemporaryDirectory { directory in
            // A slow server: a kill often lands after it has stored a mail but before the example has it marked.
            // Each round's sign-ups take longer to mail than the longest wait before the kill, even with the
            // stream's four shards handled concurrently, so kills land mid-batch.
            try await withSMTPSink(in: directory, replyDelaySeconds: 0.05) { sink in
                let data = directory + "/data"
                var signUpRun: [String: Int] = [:]
                var sent: [(run: Int, id: String, messageId: String)] = []
                let rounds = 6
                for round in 0...rounds {
                    let common = [data, "--smtp-port", String(sink.port)]
                    let child: ChildRun
                    if round < rounds {
                        let arguments = common + ["--signups", "24", "--from-id", String(round * 100)]
                        let delay = Int.random(in: 10...300)
                        child = try await offThePool { try runExample(arguments, killAfterFirstOutput: delay) }
                        #expect(child.killedByTest, "round \(round): the example exited by itself: \(child.errorOutput)")
                    } else {
                        let arguments = common + ["--signups", "6", "--from-id", "900", "--until-done"]
                        child = try await offThePool { try runExample(arguments, killAfterFirstOutput: nil) }
                        #expect(!child.killedByTest && child.exitStatus == 0, "the final run failed: \(child.errorOutput)")
                    }
                    for fields in child.lines.map({ $0.split(separator: " ").map(String.init) }) {
                        switch fields.first {
                        case "SIGNUP" where fields.count == 3: signUpRun[fields[1]] = round
                        case "SENT" where fields.count == 3: sent.append((round, fields[1], fields[2]))
                        default: Issue.record("round \(round): unexpected line \(fields)")
                        }
                    }
                }

                let db = try Database(path: data)
                let users = try await everyUser(db)
                let insertEventIDs = try await insertEventIDs(db)
                let mails = try sink.mails()
                let addresses = Dictionary(uniqueKeysWithValues: users.map { ($0.value.email, $0.key) })
                #expect(Set(signUpRun.keys).isSubset(of: users.keys), "acknowledged sign-ups missing from the table")
                for (id, user) in users {
                    let expected = insertEventIDs[id].map { "<\($0)@welcome.eddy>" }
                    #expect(expected != nil, "\(id) has no INSERT record")
                    let received = mails.filter { $0.recipients == [user.email] }
                    #expect(!received.isEmpty, "\(id) got no mail")
                    #expect(received.allSatisfy { $0.messageId == expected }, "\(id)'s mails: \(received.map(\.messageId)), expected \(expected ?? "?")")
                    #expect(user.welcomeSentAt != nil && user.welcomeMessageId == expected, "\(id) is not marked as welcomed: \(user)")
                }
                for mail in mails {
                    #expect(mail.recipients.count == 1 && addresses[mail.recipients[0]] != nil, "a mail to a non-user: \(mail.recipients)")
                    #expect(mail.headerTo == mail.recipients.first, "To: \(mail.headerTo) but sent to \(mail.recipients)")
                }
                for line in sent {
                    let expected = insertEventIDs[line.id].map { "<\($0)@welcome.eddy>" }
                    #expect(line.messageId == expected, "run \(line.run) printed SENT \(line.id) \(line.messageId)")
                }
                // The kills left work behind: some users signed up in one run were mailed only by a later one.
                let carriedOver = sent.filter { line in signUpRun[line.id].map { $0 < line.run } ?? false }
                #expect(!carriedOver.isEmpty, "no kill interrupted pending mail")
                let duplicates = mails.count - Set(mails.map(\.recipients)).count
                print("WelcomeEmail: \(users.count) sign-ups, \(mails.count) mails, \(duplicates) duplicates, \(Set(carriedOver.map(\.id)).count) users mailed after a restart")
            }
        }
    }

    @Test func changesOtherThanSignUpsSendNoMail() async throws {
        try await withTemporaryDirectory { directory in
            try await withSMTPSink(in: directory, replyDelaySeconds: 0) { sink in
                let data = directory + "/data"
                let base = [data, "--smtp-port", String(sink.port), "--until-done"]
                let first = try await offThePool { try runExample(base + ["--signups", "3"], killAfterFirstOutput: nil) }
                #expect(!first.killedByTest && first.exitStatus == 0, "\(first.errorOutput)")
                #expect(try sink.mails().count == 3)

                // Renames, a new address and a deletion (MODIFY and REMOVE records, like the markers themselves),
                // then one more sign-up, which the example waits for.
                try await changeUsers(in: data)
                let second = try await offThePool { try runExample(base + ["--signups", "1", "--from-id", "3"], killAfterFirstOutput: nil) }
                #expect(!second.killedByTest && second.exitStatus == 0, "\(second.errorOutput)")
                let reported = second.lines.map { $0.split(separator: " ").prefix(2).joined(separator: " ") }
                #expect(reported.count == 2 && Set(reported) == ["SIGNUP user-3", "SENT user-3"], "\(second.lines)")

                let mails = try sink.mails()
                #expect(mails.map(\.recipients).sorted { $0.joined() < $1.joined() } == (0...3).map { ["user-\($0)@example.com"] })
                #expect(!mails.contains { $0.message.contains("Renamed") || $0.message.contains("changed@example.com") })
                let users = try await everyUser(try Database(path: data))
                #expect(users.keys.sorted() == ["user-0", "user-1", "user-3"])
                #expect(users.values.allSatisfy { $0.welcomeSentAt != nil })
            }
        }
    }

    /// Renames user-0, gives user-1 a new address and deletes user-2.
    private func changeUsers(in data: String) async throws {
        let db = try Database(path: data)
        try await db.updateItem(UpdateItemInput(
            tableName: "Users", key: ["id": "user-0"], updateExpression: "SET #n = :name",
            expressionAttributeNames: ["#n": "name"], expressionAttributeValues: [":name": "Renamed"]))
        try await db.updateItem(UpdateItemInput(
            tableName: "Users", key: ["id": "user-1"], updateExpression: "SET email = :email",
            expressionAttributeValues: [":email": "changed@example.com"]))
        try await db.deleteItem(DeleteItemInput(tableName: "Users", key: ["id": "user-2"]))
    }
}

// MARK: - The example's data

/// A user as the example stores it.
private struct StoredUser {
    var email: String
    var welcomeSentAt: String?
    var welcomeMessageId: String?
}

/// Every user of the Users table, by id.
private func everyUser(_ db: Database) async throws -> [String: StoredUser] {
    var users: [String: StoredUser] = [:]
    var start: Item? = nil
    repeat {
        let page = try await db.scan(ScanInput(tableName: "Users", exclusiveStartKey: start))
        for item in page.items ?? [] {
            guard case .s(let id)? = item["id"], case .s(let email)? = item["email"] else {
                Issue.record("a user without a string id and email: \(item)")
                continue
            }
            users[id] = StoredUser(
                email: email, welcomeSentAt: stringAttribute(item["welcomeSentAt"]),
                welcomeMessageId: stringAttribute(item["welcomeMessageId"]))
        }
        start = page.lastEvaluatedKey
    } while start != nil
    return users
}

/// The eventID of each user's INSERT record, read with the DynamoDB Streams API from every shard of the
/// Users table's stream; a user with several INSERTs is reported.
private func insertEventIDs(_ db: Database) async throws -> [String: String] {
    let arn = try #require(try await db.describeTable(tableName: "Users").latestStreamArn)
    let shards = try await everyShard(of: arn, in: db)
    var eventIDs: [String: String] = [:]
    for shard in shards {
        var iterator = try await db.getShardIterator(
            GetShardIteratorInput(streamArn: arn, shardId: shard.shardId, shardIteratorType: .trimHorizon)).shardIterator
        while let current = iterator {
            let page = try await db.getRecords(GetRecordsInput(shardIterator: current))
            for record in page.records where record.eventName == .insert {
                guard case .s(let id)? = record.dynamodb.keys["id"] else { continue }
                #expect(eventIDs[id] == nil, "\(id) has two INSERT records")
                eventIDs[id] = record.eventID
            }
            // An open shard read to its newest record answers no records.
            iterator = page.records.isEmpty ? nil : page.nextShardIterator
        }
    }
    return eventIDs
}

/// The string of an `S` value; nil for anything else.
private func stringAttribute(_ value: AttributeValue?) -> String? {
    guard case .s(let text)? = value else { return nil }
    return text
}

// MARK: - The SMTP server

/// A running smtp_sink.py: a local SMTP server that appends each mail it receives to a JSON-lines file.
private struct SMTPSink: Sendable {
    var port: Int
    var mailbox: String

    /// A mail as the server received it.
    struct ReceivedMail: Decodable {
        /// The envelope's recipients (RCPT TO).
        var recipients: [String]
        var messageId: String
        var headerTo: String
        var message: String

        enum CodingKeys: String, CodingKey {
            case recipients = "rcpt_tos", messageId = "message_id", headerTo = "to", message
        }
    }

    /// Every mail received so far, in the order received.
    func mails() throws -> [ReceivedMail] {
        guard FileManager.default.fileExists(atPath: mailbox) else { return [] }
        let text = try String(contentsOfFile: mailbox, encoding: .utf8)
        return try text.split(separator: "\n").map { try JSONDecoder().decode(ReceivedMail.self, from: Data($0.utf8)) }
    }
}

/// Starts smtp_sink.py on a free port of 127.0.0.1, with `replyDelaySeconds` between storing a mail and
/// acknowledging it, runs `body`, and stops the server whether `body` returns or throws. The server also
/// stops if this process dies: its standard input is a pipe from here.
private func withSMTPSink(in directory: String, replyDelaySeconds: Double, _ body: (SMTPSink) async throws -> Void) async throws {
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Examples/WelcomeEmail/smtp_sink.py").path
    let portFile = directory + "/smtp-port"
    let logPath = directory + "/smtp-sink.log"
    _ = FileManager.default.createFile(atPath: logPath, contents: nil)
    let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [
        "python3", script, "--mailbox", directory + "/mailbox.jsonl", "--port-file", portFile,
        "--delay", String(replyDelaySeconds), "--stop-on-stdin-eof",
    ]
    let stdin = Pipe()
    process.standardInput = stdin
    process.standardOutput = log
    process.standardError = log
    try process.run()
    let outcome: Result<Void, any Error>
    do {
        let deadline = Date().addingTimeInterval(60)
        var port: Int?
        while port == nil, process.isRunning, Date() < deadline {
            port = (try? String(contentsOfFile: portFile, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            if port == nil { try await Task.sleep(for: .milliseconds(20)) }
        }
        guard let port else {
            let output = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            throw SinkDidNotStart(log: output + "\n(aiosmtpd is installed by scripts/install-deps.sh)")
        }
        try await body(SMTPSink(port: port, mailbox: directory + "/mailbox.jsonl"))
        outcome = .success(())
    } catch {
        outcome = .failure(error)
    }
    try await offThePool {
        try? stdin.fileHandleForWriting.close()
        process.terminate()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning, Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? log.close()
    }
    try outcome.get()
}

private struct SinkDidNotStart: Error {
    var log: String
}

// MARK: - The example as a child process

/// Runs the WelcomeEmail example with `arguments`. With `killAfterFirstOutput`, kills it
/// with SIGKILL that many milliseconds after its first line of output; without, waits for it to exit by itself
/// (at most 60 seconds, then kills it). Blocks its thread: call it through ``offThePool(_:)``.
private func runExample(_ arguments: [String], killAfterFirstOutput milliseconds: Int?) throws -> ChildRun {
    try runChild(
        "WelcomeEmail", arguments: arguments, killingAt: milliseconds.map { .afterFirstOutput(milliseconds: $0) })
}
