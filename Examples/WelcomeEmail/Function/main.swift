// Eddy's WelcomeEmail example as a Lambda function: the same welcome mails as the embedded example, sent by a
// function that `eddy serve` runs (or AWS Lambda's provided.al2023 runtime: it speaks only the public Runtime
// API). An event source mapping from the Users table's stream, filtered to INSERT records, calls it with each
// batch of sign-ups; it mails each new user over SMTP (SMTP_HOST, default 127.0.0.1, and SMTP_PORT from the
// function's environment) with a Message-ID derived from the sign-up's eventID, and prints `SENT <id>
// <message-id>` to its log.
//
// Delivery is at least once: a batch the server redelivers after a crash mails its users again, with the same
// Message-ID, by which a receiver drops the copy. A mail that fails ends the batch there: the records from it
// on are reported as failed (ReportBatchItemFailures), so the retry starts at that record.
//
// Build it with `swift build --product WelcomeEmailFunction` and give the executable to CreateFunction as the
// zip's `bootstrap` (Tests/server/test_welcome_email_function.py does, through `eddy serve --config`).
import EddyLambdaRuntime
import Foundation
import WelcomeMail

/// The function's environment lacks a setting.
struct MissingSetting: Error, CustomStringConvertible {
    var name: String
    var description: String { "the function's environment has no valid \(name)" }
}

await LambdaFunction.run(setUp: { _ in
    let variables = ProcessInfo.processInfo.environment
    guard let port = variables["SMTP_PORT"].flatMap(UInt16.init) else { throw MissingSetting(name: "SMTP_PORT") }
    let smtp = SMTPClient(host: variables["SMTP_HOST"] ?? "127.0.0.1", port: port)
    return { (event: TriggerEvent, _: LambdaContext) -> TriggerBatchResponse in
        for record in event.records where record.eventName == .insert {
            guard case .s(let id)? = record.dynamodb.keys["id"], let image = record.dynamodb.newImage,
                case .s(let address)? = image["email"], Mail.isPlainAddress(address)
            else {
                print("UNDELIVERABLE \(record.eventID)")
                continue
            }
            var name: String?
            if case .s(let given)? = image["name"] { name = given }
            let mail = Mail.welcome(id: id, name: name, address: address, eventID: record.eventID)
            do {
                try await smtp.send(mail)
            } catch {
                print("RETRY \(id): \(error)")
                return TriggerBatchResponse(batchItemFailures: [.init(itemIdentifier: record.dynamodb.sequenceNumber)])
            }
            print("SENT \(id) \(mail.messageId)")
        }
        return .success
    }
})
