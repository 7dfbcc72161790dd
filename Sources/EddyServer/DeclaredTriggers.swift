import Eddy
import EddyFunctions
import EddyKafka
import EddySearch
import Foundation
import ServiceLifecycle
import Synchronization

/// The trigger mappings a server runs without Swift code: Kafka sinks, search indexes and derivative tables
/// (``DeclaredTrigger``),
/// declared in `eddy serve --config`'s file or added while the server runs, through its admin API
/// (`/eddy/2026-12-01/triggers`, see ``EddyServer``) or `eddy triggers add`.
///
/// ```swift
/// let declared = DeclaredTriggers(runtime: runtime)
/// try await declared.restore()                      // those added before the restart
/// let trigger = try JSONDecoder().decode(DeclaredTrigger.self, from: body)
/// try await declared.add(trigger)
/// let group = ServiceGroup(services: [declared, runtime, server.service()], gracefulShutdownSignals: [.sigterm], logger: logger)
/// ```
///
/// Each mapping keeps its declaration and origin in the database (``TriggerMappingTarget/declaration``), so
/// that it is listed with its kind whoever reads the data directory, and so that those added come back when the
/// server starts again (``restore(skipping:)``), with their checkpoints; those of the configuration file are
/// registered from the file at each start.
///
/// It is a swift-service-lifecycle `Service`: ``run()`` runs the Kafka sinks, each from its mapping's
/// registration until the mapping is removed, or until graceful shutdown. List it before the runtime in the
/// `ServiceGroup`: a group stops its services in reverse order, so the runtime's last batches are sent before
/// the sinks close.
public final class DeclaredTriggers: Service, Sendable {
    /// The runtime the mappings are registered with.
    public let runtime: TriggerRuntime
    /// How long a new Kafka sink waits for its brokers to answer.
    private let connectTimeout: Duration
    /// The sinks handed to ``run()``, each with the signal that ends it.
    private let sinks = AsyncStream.makeStream(of: RunningSink.self)
    private let state = Mutex(State())

    private struct State {
        /// What ends each running Kafka sink, by mapping name.
        var stops: [String: AsyncStream<Void>.Continuation] = [:]
        /// The names being added, so that two additions of one name cannot both find it free.
        var adding: Set<String> = []
        /// The mappings registered from the configuration file by this process.
        var fromConfigurationFile: Set<String> = []
    }

    /// A Kafka sink and the signal that ends it: finished when its mapping lets go of it.
    private struct RunningSink: Sendable {
        var sink: KafkaSink
        var stop: AsyncStream<Void>
    }

    /// Declared mappings run by `runtime`; a Kafka sink waits at most `connectTimeout` for its brokers.
    public init(runtime: TriggerRuntime, connectTimeout: Duration = .seconds(10)) {
        self.runtime = runtime
        self.connectTimeout = connectTimeout
    }

    // MARK: Reading

    /// Every trigger mapping the database keeps, in name order: the declared ones, and the others (event
    /// source mappings to functions, Swift handlers of an application embedding Eddy).
    public func list() throws(EddyError) -> [TriggerDescription] {
        try runtime.mappings().map(Self.describe).sorted { $0.name < $1.name }
    }

    /// The mapping with this name or UUID.
    ///
    /// - Throws: `ResourceNotFoundException` if there is none.
    public func describe(_ nameOrUUID: String) throws(EddyError) -> TriggerDescription {
        Self.describe(try runtime.mapping(nameOrUUID))
    }

    // MARK: Changing

    /// Adds a Kafka, search-index or derivative mapping (the admin API's `POST`), which runs at once if the
    /// runtime runs, and again after each restart until it is removed.
    ///
    /// - Throws: `ValidationException` for a mapping to a function (Lambda's CreateEventSourceMapping makes
    ///   those), a source table without a stream, a missing target table, settings out of range, Kafka
    ///   brokers that do not answer or lack the topic, or an Elasticsearch endpoint that is not a URL, does
    ///   not answer or refuses the index; `ResourceNotFoundException` for a missing source table;
    ///   `ResourceInUseException` if a mapping of that name exists.
    @discardableResult
    public func add(_ trigger: DeclaredTrigger) async throws(EddyError) -> TriggerDescription {
        if let function = trigger.function {
            throw .validation(
                "Trigger \(trigger.name) goes to function \(function): a function's mappings are Lambda's event source mappings, made with Lambda's CreateEventSourceMapping on this server (aws lambda create-event-source-mapping --endpoint-url …)")
        }
        guard state.withLock({ $0.adding.insert(trigger.name).inserted }) else {
            throw .resourceInUse("The trigger mapping \(trigger.name) is being added")
        }
        defer { state.withLock { _ = $0.adding.remove(trigger.name) } }
        let existing: TriggerMapping?
        do {
            existing = try runtime.mapping(trigger.name)
        } catch {
            guard case .resourceNotFound = error else { throw error }
            existing = nil
        }
        if let existing {
            throw .resourceInUse(
                "A trigger mapping named \(trigger.name) exists already (\(Self.describe(existing).kind.rawValue), UUID \(existing.uuid)): remove it first, or choose another name")
        }
        return try await register(trigger, origin: .added, configuration: nil)
    }

    /// Registers a Kafka, search-index or derivative mapping from `origin`, on its table's latest stream: a mapping of that
    /// name takes the new declaration and settings, and keeps its UUID and checkpoints. `eddy serve` registers
    /// its configuration file's mappings so at each start, and `eddy triggers add-kafka` its own.
    ///
    /// - Throws: as ``add(_:)``, except that an existing name is taken over.
    @discardableResult
    public func register(_ trigger: DeclaredTrigger, origin: TriggerOrigin) async throws(EddyError) -> TriggerDescription {
        try await register(trigger, origin: origin, configuration: nil)
    }

    /// Registers again every mapping added through the admin API or `eddy triggers add` that the database
    /// keeps, with the settings and stream it had, except those named in `skipping` (the configuration file
    /// declares them, and its declaration wins). `eddy serve` calls it when it starts.
    ///
    /// - Returns: how many mappings it registered.
    /// - Throws: `ValidationException` naming the first mapping that cannot be registered again (its table
    ///   was deleted, its Kafka brokers or Elasticsearch do not answer), and how to remove it.
    @discardableResult
    public func restore(skipping names: Set<String> = []) async throws(EddyError) -> Int {
        var restored = 0
        for mapping in try runtime.mappings() {
            guard let stored = StoredDeclaration(of: mapping), stored.origin == .added, !names.contains(mapping.name) else { continue }
            do {
                try await register(stored.trigger, origin: .added, configuration: mapping.configuration)
            } catch {
                throw .validation(
                    "The trigger mapping \(mapping.name), added while a server ran, cannot run again: \(error.message) (`eddy triggers remove \(mapping.name) --data-dir DIR` removes it)")
            }
            restored += 1
        }
        return restored
    }

    /// Removes a mapping: it stops (its batch in flight finishes), its settings and checkpoints are deleted,
    /// and its Kafka sink, if it has one, closes. Returns it as it was, in state Deleting.
    ///
    /// - Throws: `ResourceNotFoundException` for an unknown mapping; `ValidationException` for a mapping to a
    ///   function (Lambda's DeleteEventSourceMapping removes those); `ResourceInUseException` for a mapping this
    ///   server registered from its configuration file (it would come back at the next start: take it out of
    ///   the file instead), or while another change of the mapping is in progress.
    @discardableResult
    public func remove(_ nameOrUUID: String) async throws(EddyError) -> TriggerDescription {
        let current = try describe(nameOrUUID)
        if current.kind == .function {
            throw .validation(
                "The trigger mapping \(current.name) is an event source mapping of function \(current.functionArn): delete it with Lambda's DeleteEventSourceMapping (UUID \(current.uuid))")
        }
        if state.withLock({ $0.fromConfigurationFile.contains(current.name) }) {
            throw .resourceInUse(
                "The trigger mapping \(current.name) is declared in the server's configuration file: take it out of the file, and it no longer runs from the next start")
        }
        let deleted = try await runtime.delete(current.name)
        stopSink(of: current.name)
        return Self.describe(deleted)
    }

    /// Starts a disabled mapping again from its checkpoints; returns once it runs (or after 30 seconds, in its
    /// transitional state).
    ///
    /// - Throws: `ResourceNotFoundException` for an unknown mapping; `ResourceInUseException` while another
    ///   change of it is in progress.
    @discardableResult
    public func enable(_ nameOrUUID: String) async throws(EddyError) -> TriggerDescription {
        Self.describe(try await runtime.settled(try await runtime.enable(nameOrUUID).uuid))
    }

    /// Stops a mapping, keeping its checkpoints (and its Kafka sink, idle), until it is enabled again; returns
    /// once its batch in flight has ended (or after 30 seconds, in its transitional state). A mapping of the
    /// configuration file is enabled again by the next start.
    ///
    /// - Throws: as ``enable(_:)``.
    @discardableResult
    public func disable(_ nameOrUUID: String) async throws(EddyError) -> TriggerDescription {
        Self.describe(try await runtime.settled(try await runtime.disable(nameOrUUID).uuid))
    }

    // MARK: Running

    /// Runs the Kafka sinks of the mappings, each until its mapping is removed or registered again with
    /// another sink, or until graceful shutdown (or cancellation), which closes every sink, waiting up to 10
    /// seconds for its messages in flight. Sinks registered before it starts wait for it. Run it once.
    public func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { [sinks] in
                try? await gracefulShutdown()
                sinks.continuation.finish()
            }
            for await running in sinks.stream {
                group.addTask { await Self.run(running) }
            }
        }
    }

    /// Runs one sink as the `Service` it is, until the group shuts down or its mapping lets go of it.
    private static func run(_ running: RunningSink) async {
        await withTaskGroup(of: Void.self) { group in
            // Returns at graceful shutdown or cancellation, once the sink is closed.
            group.addTask { await running.sink.run() }
            group.addTask {
                for await _ in running.stop {}
            }
            await group.next()
            group.cancelAll()
        }
    }

    // MARK: Internals

    @discardableResult
    private func register(
        _ trigger: DeclaredTrigger, origin: TriggerOrigin, configuration: TriggerMappingConfiguration?
    ) async throws(EddyError) -> TriggerDescription {
        let database = runtime.database
        let settings: TriggerMappingConfiguration
        if let configuration {
            settings = configuration
        } else {
            settings = try await trigger.mappingConfiguration(in: database)
        }
        let target = TriggerMappingTarget(
            functionArn: database.functionArn(ofMapping: trigger.name),
            declaration: StoredDeclaration(origin: origin, trigger: trigger).json)
        let mapping: TriggerMapping
        if let kafka = trigger.kafka {
            let sink: KafkaSink
            do throws(KafkaError) {
                sink = try await kafka.sink(timeout: connectTimeout)
            } catch {
                throw .validation("Trigger \(trigger.name): Kafka: \(error.message)")
            }
            do {
                mapping = try await runtime.registerKafka(
                    name: trigger.name, configuration: settings, sink: sink, format: kafka.messageFormat, target: target)
            } catch {
                start(sink, for: nil)
                throw error
            }
            start(sink, for: trigger.name)
        } else if let elasticsearch = trigger.elasticsearch {
            let sink: SearchSink
            do throws(SearchSinkError) {
                sink = try elasticsearch.sink()
            } catch {
                throw .validation("Trigger \(trigger.name): Elasticsearch: \(error.message)")
            }
            mapping = try await runtime.registerSearch(name: trigger.name, configuration: settings, sink: sink, target: target)
            stopSink(of: trigger.name)
        } else if let derivative = trigger.derivative {
            let stream = try await database.describeStream(DescribeStreamInput(streamArn: settings.eventSourceArn, limit: 1))
            let transform = try derivative.transform(viewType: stream.streamDescription.streamViewType)
            mapping = try await runtime.registerDerivative(
                name: trigger.name, configuration: settings, targetTables: [derivative.targetTable], target: target,
                transform: transform)
            stopSink(of: trigger.name)
        } else {
            throw .validation("Trigger \(trigger.name) goes to a function: EventSourceMappings registers those")
        }
        if origin == .configurationFile {
            state.withLock { _ = $0.fromConfigurationFile.insert(trigger.name) }
        }
        return Self.describe(mapping)
    }

    /// Hands `sink` to ``run()``, for the mapping `name` (in place of its earlier sink), or, with no name, to
    /// be closed at once.
    private func start(_ sink: KafkaSink, for name: String?) {
        let (stop, ending) = AsyncStream.makeStream(of: Void.self)
        if let name {
            state.withLock { $0.stops.updateValue(ending, forKey: name) }?.finish()
        } else {
            ending.finish()
        }
        if case .terminated = sinks.continuation.yield(RunningSink(sink: sink, stop: stop)) {
            // The server is shutting down and runs no more sinks: this one has sent nothing yet.
            sink.close(timeout: .zero)
        }
    }

    /// Ends the Kafka sink of mapping `name`, if it has one.
    private func stopSink(of name: String) {
        state.withLock { $0.stops.removeValue(forKey: name) }?.finish()
    }

    static func describe(_ mapping: TriggerMapping) -> TriggerDescription {
        let stored = StoredDeclaration(of: mapping)
        let kind: TriggerKind
        if let trigger = stored?.trigger {
            kind = trigger.kafka != nil ? .kafka : trigger.elasticsearch != nil ? .elasticsearch : .derivative
        } else {
            kind = EventSourceMappings.functionName(of: mapping) != nil ? .function : .handler
        }
        return TriggerDescription(
            name: mapping.name, uuid: mapping.uuid, kind: kind, tableName: mapping.tableName, state: mapping.state,
            lastProcessingResult: mapping.lastProcessingResult, lastModified: Double(mapping.lastModifiedMilliseconds) / 1000,
            functionArn: mapping.functionArn, origin: stored?.origin, declaration: stored?.trigger, settings: mapping.configuration,
            snapshotProgress: mapping.snapshotProgress)
    }
}

/// Where a declared trigger mapping comes from, which says what registers it when `eddy serve` starts.
public enum TriggerOrigin: String, Codable, Sendable {
    /// `eddy serve --config`'s file: registered from the file at each start, so a mapping taken out of the file
    /// no longer runs (its settings and checkpoints stay in the database).
    case configurationFile = "ConfigurationFile"
    /// The admin API (`POST /eddy/2026-12-01/triggers`) or `eddy triggers add`: registered again from the
    /// database at each start, until it is removed.
    case added = "Added"
    /// `eddy triggers add-kafka`, which runs its sink while the command runs.
    case addKafkaCommand = "AddKafkaCommand"
    /// `eddy triggers add-search`, which runs its sink while the command runs.
    case addSearchCommand = "AddSearchCommand"
}

/// What carries a trigger mapping's records to their destination.
public enum TriggerKind: String, Codable, Sendable {
    /// A declared Kafka sink.
    case kafka = "Kafka"
    /// A declared search-index sink.
    case elasticsearch = "Elasticsearch"
    /// A declared derivative table.
    case derivative = "Derivative"
    /// An event source mapping to a function (Lambda's API).
    case function = "Function"
    /// A Swift handler, registered by an application embedding Eddy.
    case handler = "Handler"
}

/// A trigger mapping as the admin API and `eddy triggers` show it.
public struct TriggerDescription: Codable, Sendable, Equatable {
    public var name: String
    public var uuid: String
    public var kind: TriggerKind
    /// The table whose stream the mapping reads.
    public var tableName: String
    public var state: TriggerMappingState
    /// What happened to the mapping's last batch, in Lambda's words (see ``TriggerMapping/lastProcessingResult``).
    public var lastProcessingResult: String
    /// When the settings last changed, in seconds since 1970 (Lambda's `LastModified`).
    public var lastModified: Double
    /// The function the mapping calls, or that its on-failure records name.
    public var functionArn: String
    /// A Kafka, search-index or derivative mapping's origin.
    public var origin: TriggerOrigin?
    /// A Kafka, search-index or derivative mapping's declaration, as it was added or declared.
    public var declaration: DeclaredTrigger?
    /// The mapping's settings, with Lambda's names (its stream is `EventSourceArn`).
    public var settings: TriggerMappingConfiguration
    /// How far the mapping's initial snapshot has come, for a mapping with `Snapshot`.
    public var snapshotProgress: TriggerSnapshotProgress?

    enum CodingKeys: String, CodingKey {
        case name = "Name", uuid = "UUID", kind = "Kind", tableName = "TableName", state = "State"
        case lastProcessingResult = "LastProcessingResult", lastModified = "LastModified", functionArn = "FunctionArn"
        case origin = "Origin", declaration = "Declaration", settings = "Settings", snapshotProgress = "SnapshotProgress"
    }
}

/// The admin API's list of trigger mappings (`GET /eddy/2026-12-01/triggers`).
public struct TriggerList: Codable, Sendable, Equatable {
    public var triggers: [TriggerDescription]

    public init(triggers: [TriggerDescription]) {
        self.triggers = triggers
    }

    enum CodingKeys: String, CodingKey { case triggers = "Triggers" }
}

/// What a declared mapping keeps with itself (``TriggerMappingTarget/declaration``), as JSON.
struct StoredDeclaration: Codable {
    var origin: TriggerOrigin
    var trigger: DeclaredTrigger

    enum CodingKeys: String, CodingKey { case origin = "Origin", trigger = "Trigger" }

    init(origin: TriggerOrigin, trigger: DeclaredTrigger) {
        self.origin = origin
        self.trigger = trigger
    }

    /// The declaration `mapping` keeps, if it is a declared Kafka, search-index or derivative mapping.
    init?(of mapping: TriggerMapping) {
        guard let text = mapping.target?.declaration,
            let stored = try? JSONDecoder().decode(StoredDeclaration.self, from: Data(text.utf8))
        else { return nil }
        self = stored
    }

    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        // Strings, numbers and booleans only: encoding cannot fail.
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }
}
