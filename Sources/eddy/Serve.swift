import ArgumentParser
import Eddy
import EddyFunctions
import EddyServer
import Foundation
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

/// `eddy serve`: DynamoDB's, DynamoDB Streams' and Lambda's HTTP protocols over a data directory.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a data directory over DynamoDB's, DynamoDB Streams' and Lambda's HTTP protocols, until SIGINT or SIGTERM.",
        discussion: """
            Point boto3, the AWS CLI or an AWS SDK at http://HOST:PORT (for the AWS CLI: --endpoint-url). Without \
            --credentials any well-formed signature is accepted, as DynamoDB Local does; with them every \
            request's AWS Signature Version 4 is checked, and the server may listen on other addresses than \
            loopback. GET /health says it is up; GET /metrics \
            shows request counts and latencies per operation in Prometheus's text format. Expired items of \
            tables with Time to Live enabled are deleted every --ttl-sweep-interval seconds. SIGINT and SIGTERM \
            stop the server once the requests in flight are answered, then the trigger mappings, then the \
            functions' environments, then close the databases; the process then exits with status 0. With \
            --in-memory the databases live in memory (RocksDB's in-memory environment) and nothing is written to \
            DATA_DIR: everything is gone when the server stops (functions' code and logs are kept in a temporary \
            directory, removed when it stops). Lambda's API (aws lambda … --endpoint-url) creates functions, which run as \
            local processes (python3.x under awslambdaric, provided.* as the zip's bootstrap) kept under \
            DATA_DIR/functions, and event source mappings from table streams to them. Kafka sinks and \
            derivative tables can also be added, listed and removed while it runs, through its admin API \
            (eddy triggers … --endpoint-url); those added come back when it starts again.
            """)

    @OptionGroup var database: DatabaseOptions
    @Flag(help: "Keep every table in memory, not in --data-dir: nothing is written to disk, and all is gone when the server stops (as DynamoDB Local's -inMemory).")
    var inMemory = false
    @Option(help: "The address to listen on.") var host: String = "127.0.0.1"
    @Option(help: "The TCP port to listen on (0: any free port, printed at start).") var port: Int = 8000
    @Option(help: ArgumentHelp(
        "A JSON file mapping access key ids to secret access keys: every request's signature is then checked.",
        valueName: "file"))
    var credentials: String?
    @Option(help: ArgumentHelp(
        "A YAML or JSON file declaring tables to create and trigger mappings to run: Kafka sinks and derivative tables (copy, project, count, sum).",
        valueName: "file"))
    var config: String?
    @Option(help: "The home AWS Region: that of the trigger mappings, functions and admin API. Requests signed for another Region see that Region's tables, kept in DATA_DIR/regions.") var region: String = "us-east-1"
    @Option(help: "The AWS account id named in ARNs (12 digits).") var accountId: String = "000000000000"
    @Option(help: ArgumentHelp(
        "How often expired items (Time to Live) are looked for and deleted.", valueName: "seconds"))
    var ttlSweepInterval: Double = 60
    @Option(help: "The log level: trace, debug (one line per request), info, notice, warning, error or critical.")
    var logLevel: String = "info"
    @Flag(help: "Throttle no request: ignore provisioned throughput, on-demand maximums and partition key limits (for bulk loads). DynamoDB, and Eddy by default, throttle.")
    var noThrottling = false

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        guard accountId.count == 12, accountId.allSatisfy(\.isASCII), accountId.allSatisfy(\.isNumber) else {
            throw ValidationError("--account-id must be 12 digits")
        }
        guard !region.isEmpty, region.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
            throw ValidationError("--region must be a Region name such as us-east-1")
        }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard ttlSweepInterval >= 0.01, ttlSweepInterval <= 86_400 else {
            throw ValidationError("--ttl-sweep-interval must be between 0.01 and 86400 seconds")
        }
        guard !inMemory || database.dataDir == DatabaseOptions.defaultDataDirectory else {
            throw ValidationError("--in-memory writes nothing to disk: it takes no --data-dir")
        }
        guard credentials != nil || Self.isLoopback(host) else {
            throw ValidationError("Listening on \(host), not a loopback address, needs --credentials: without them any request is accepted")
        }
    }

    func run() async throws {
        var logger = Logger(label: "eddy.server")
        logger.logLevel = Logger.Level(rawValue: logLevel)!
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(EddyServer.metricsFactory(registry))
        let configuration = Database.Configuration(
            region: region, accountId: accountId, timeToLiveSweepInterval: .milliseconds(Int64(ttlSweepInterval * 1000)),
            throttlingEnabled: !noThrottling)
        // Tables belong to a Region: requests signed for another Region than --region use a database of their own.
        let regions =
            inMemory
            ? RegionalDatabases(inMemoryHome: try Database(inMemory: configuration))
            : RegionalDatabases(
                home: try Database(path: database.dataDir, configuration: configuration), directory: "\(database.dataDir)/regions")
        // Functions keep their settings, code and logs in the data directory, or in memory's stead a temporary
        // directory removed when the server stops.
        let functionsDirectory =
            inMemory
            ? FileManager.default.temporaryDirectory.appendingPathComponent("eddy-functions-\(UUID().uuidString)").path
            : "\(database.dataDir)/functions"
        defer {
            if inMemory { try? FileManager.default.removeItem(atPath: functionsDirectory) }
        }
        do {
            try await serve(regions: regions, functionsDirectory: functionsDirectory, logger: logger, registry: registry)
        } catch {
            await regions.close()
            throw error
        }
        // The databases closed when the services stopped; RocksDB must be closed before the process exits, or
        // its static destructors racing a database still open abort the process.
        await regions.close()
    }

    /// Runs the server until a signal stops it, then stops the services in order: the server, the trigger
    /// mappings, the Kafka sinks and derivative tables, the functions' environments, and last the databases.
    private func serve(
        regions: RegionalDatabases, functionsDirectory: String, logger: Logger, registry: PrometheusCollectorRegistry
    ) async throws {
        let db = regions.home
        let secrets = try credentials.map(Self.readCredentials)
        // An environment calls back with the first of the server's credentials, if it checks signatures.
        let key = secrets?.sorted { $0.key < $1.key }.first
        let functions = try Functions(
            configuration: .init(
                directory: functionsDirectory, region: region, accountId: accountId, accessKeyId: key?.key ?? "eddy",
                secretAccessKey: key?.value ?? "eddy"))
        let runtime = TriggerRuntime(database: db, changesReturnAtOnce: true)
        let mappings = EventSourceMappings(runtime: runtime, functions: functions)
        try await mappings.restore()
        let declared = DeclaredTriggers(runtime: runtime)
        // Shutdown goes in reverse: the server stops taking requests, then the triggers, then the Kafka sinks,
        // then the functions' environments (the triggers' last batches may still call them), then the databases.
        let services: [any Service] = [regions, functions, declared, runtime]
        var declaredInFile: Set<String> = []
        if let config {
            let setup = try ServeConfiguration.read(config)
            try await setup.createTables(in: db)
            try await setup.declareFunctions(in: functions)
            try await setup.register(with: declared, mappings: mappings)
            declaredInFile = Set(setup.triggers.map(\.name))
            logger.info("Running \(setup.triggers.count) trigger mapping(s) from \(config)")
        }
        let restored = try await declared.restore(skipping: declaredInFile)
        if restored > 0 {
            logger.info("Running \(restored) trigger mapping(s) added through the admin API")
        }
        let server = EddyServer(
            regions: regions, configuration: .init(host: host, port: port, credentials: secrets, prometheus: registry), functions: mappings,
            triggers: declared)
        let serving = inMemory ? "an in-memory database" : database.dataDir
        let group = ServiceGroup(services: services + [server.service(logger: logger) { [host] port in
            functions.setEndpointURL("http://\(host):\(port)")
            FileHandle.standardOutput.write(Data("Eddy is serving \(serving) at http://\(host):\(port)\n".utf8))
        }], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }

    /// The access key id → secret access key object of the JSON file at `path`.
    private static func readCredentials(_ path: String) throws -> [String: String] {
        let secrets: [String: String]
        do {
            secrets = try JSONDecoder().decode([String: String].self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw ValidationError("--credentials \(path) must be a JSON object of access key ids to secret access keys: \(error.localizedDescription)")
        }
        guard !secrets.isEmpty else { throw ValidationError("--credentials \(path) holds no credentials") }
        return secrets
    }

    private static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}
