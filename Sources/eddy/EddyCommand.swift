import ArgumentParser
import Eddy
import EddyServer
import Foundation
import NIOCore
import NIOPosix

/// `eddy`: Eddy's command line. Requests and results are JSON in DynamoDB's shapes, as the AWS CLI's
/// `--cli-input-json` and output.
@main
struct EddyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eddy",
        abstract: "Eddy, a DynamoDB-compatible database with change streams.",
        subcommands: [Tables.self, Items.self, Stream.self, Triggers.self, Check.self, Serve.self]
    )

    /// Parses the command line and runs the command. `eddy serve` first makes SwiftNIO's event loops Swift
    /// Concurrency's global executor (before any task runs, as that requires), so that a request is read,
    /// run against the database and answered on one thread.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if command is Serve {
                NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
            }
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

/// The data directory `eddy serve` serves.
struct DatabaseOptions: ParsableArguments {
    /// Where a command finds the database when it is given no `--data-dir`.
    static let defaultDataDirectory = "./eddy-data"

    @Option(help: "The database directory (created if missing).")
    var dataDir: String = DatabaseOptions.defaultDataDirectory
}

/// Reads a request: inline JSON, `file://PATH`, or standard input when absent.
func readRequest<Request: Decodable>(_ text: String?, as type: Request.Type) throws -> Request {
    let json: Data
    switch text {
    case let text? where text.hasPrefix("file://"):
        json = try Data(contentsOf: URL(fileURLWithPath: String(text.dropFirst("file://".count))))
    case let text?:
        json = Data(text.utf8)
    case nil:
        json = FileHandle.standardInput.readDataToEndOfFile()
    }
    do {
        return try JSONDecoder().decode(Request.self, from: json)
    } catch let error as EddyError {
        throw error
    } catch {
        throw EddyError.validation("The request is not valid JSON of the expected shape: \(error)")
    }
}

/// Prints a result as pretty JSON.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Runs one operation, turning an ``EddyError``, or the error a server answered, into the AWS CLI's wording and
/// exit status 254; a server that cannot be reached is exit status 255, as with the AWS CLI.
func runOperation(_ operation: String, _ body: () async throws -> Void) async throws {
    func fail(_ type: String, _ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("An error occurred (\(type)) when calling the \(operation) operation: \(message)\n".utf8))
        return ExitCode(254)
    }
    do {
        try await body()
    } catch let error as EddyError {
        throw fail(error.errorType, error.message)
    } catch let error as ServerError {
        throw fail(error.type, error.message)
    } catch let error as EddyClient.ClientError {
        FileHandle.standardError.write(Data("\(error.description)\n".utf8))
        throw ExitCode(255)
    }
}
