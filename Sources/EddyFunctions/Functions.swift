import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Lambda functions run as local processes: the operations of Lambda's API on functions (create, read,
/// update, delete, invoke, concurrency), with each function's code kept in a directory and run in execution
/// environments — child processes started on demand that poll a Lambda Runtime API endpoint of their own.
///
/// `provided.al2023` and `provided.al2` functions run the zip's `bootstrap` executable; `python3.10` …
/// `python3.14` functions run the machine's python3 with the `awslambdaric` package (`python3 -m awslambdaric
/// <handler>`). An environment is a process of the user running Eddy, in its own process group: nothing is
/// isolated beyond that.
///
/// ```swift
/// let functions = try Functions(configuration: .init(directory: "/var/lib/eddy/functions"))
/// _ = try await functions.create(CreateFunctionRequest(
///     functionName: "hello", runtime: "python3.12", handler: "app.handler", zipFile: zip))
/// let result = try await functions.invoke("hello", payload: Array(#"{"name":"Ada"}"#.utf8))
/// ```
///
/// As a swift-service-lifecycle `Service`, it stops every environment at graceful shutdown.
public final class Functions: Service, Sendable {
    /// Where functions are kept and what their environments are told.
    public struct Configuration: Sendable {
        /// The directory holding the functions' settings, code and logs.
        public var directory: String
        public var region: String
        public var accountId: String
        /// The credentials functions get (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`), for the AWS SDKs they use.
        public var accessKeyId: String
        public var secretAccessKey: String
        /// The most environments a function without reserved concurrency runs at once.
        public var maximumEnvironmentsPerFunction: Int
        /// The Python interpreter of `python3.x` functions (its `awslambdaric` package runs them).
        public var python: String
        /// The waits before the retries of an asynchronous invocation that failed: Lambda's one, then two
        /// minutes.
        public var asynchronousRetryDelays: [Duration]

        public init(
            directory: String, region: String = "us-east-1", accountId: String = "000000000000",
            accessKeyId: String = "eddy", secretAccessKey: String = "eddy", maximumEnvironmentsPerFunction: Int = 10,
            python: String = "python3", asynchronousRetryDelays: [Duration] = [.seconds(60), .seconds(120)]
        ) {
            self.directory = directory
            self.region = region
            self.accountId = accountId
            self.accessKeyId = accessKeyId
            self.secretAccessKey = secretAccessKey
            self.maximumEnvironmentsPerFunction = maximumEnvironmentsPerFunction
            self.python = python
            self.asynchronousRetryDelays = asynchronousRetryDelays
        }
    }

    private struct Entry: Sendable {
        var stored: StoredFunction
        let pool: FunctionPool
    }

    private struct State: Sendable {
        var functions: [String: Entry] = [:]
        /// Names being created, so that two creations of one name cannot both succeed.
        var creating: Set<String> = []
        /// The URL functions reach Eddy at (`AWS_ENDPOINT_URL`), once the server listens.
        var endpointURL: String?
    }

    public let configuration: Configuration
    private let store: FunctionStore
    private let state = Mutex(State())
    private let asynchronous: AsynchronousInvocations
    /// The interpreter of Python functions, resolved once.
    private let pythonExecutable: String
    static let logger = Logger(label: "eddy.functions")

    /// Opens the functions kept in `configuration.directory`.
    ///
    /// - Throws: ``LambdaError`` if the directory cannot be created or a function's file cannot be read.
    public init(configuration: Configuration) throws(LambdaError) {
        self.configuration = configuration
        store = try FunctionStore(root: configuration.directory)
        pythonExecutable = Self.resolvePython(configuration.python)
        asynchronous = AsynchronousInvocations(retryDelays: configuration.asynchronousRetryDelays)
        let loaded = try store.load()
        let entries = loaded.mapValues { Entry(stored: $0, pool: makePool($0, endpointURL: nil)) }
        state.withLock { $0.functions = entries }
    }

    /// Tells functions where Eddy serves (`AWS_ENDPOINT_URL`), once the server knows its port.
    public func setEndpointURL(_ url: String) {
        let entries = state.withLock { state in
            state.endpointURL = url
            return Array(state.functions.values)
        }
        for entry in entries { entry.pool.relaunch(launch(for: entry.stored)) }
    }

    // MARK: Functions

    /// Creates a function (Lambda's CreateFunction): checks the settings, unpacks the zip into the data
    /// directory and stores the function. Returns its configuration, `Active`.
    ///
    /// - Throws: `ValidationException` or `InvalidParameterValueException` for bad settings or code (a zip
    ///   that does not unpack: "Could not unzip uploaded file…"), `ResourceConflictException` if the
    ///   function exists.
    public func create(_ request: CreateFunctionRequest) async throws(LambdaError) -> FunctionConfiguration {
        let name = try FunctionNames.name(request.functionName, field: "functionName", region: configuration.region, account: configuration.accountId)
        try FunctionValidation.validateCreate(request)
        guard let zip = request.code.zipFile else {
            throw .invalidParameterValue(FunctionValidation.codeSourceMessage(request.code.otherSource))
        }
        try state.withLock { state throws(LambdaError) in
            guard state.functions[name] == nil, !state.creating.contains(name) else {
                throw .resourceConflict("Function already exist: \(name)")
            }
            state.creating.insert(name)
        }
        defer { _ = state.withLock { $0.creating.remove(name) } }
        let code: (digest: String, sha256: String, size: Int64)
        do {
            code = try store.install(zip: zip, for: name)
            let stored = StoredFunction(
                configuration: FunctionConfiguration(
                    functionName: name, functionArn: functionArn(name), runtime: request.runtime ?? "",
                    role: request.role, handler: request.handler ?? "", codeSize: code.size,
                    description: request.description ?? "", timeout: request.timeout ?? 3, memorySize: request.memorySize ?? 128,
                    lastModified: Self.timestamp(), codeSha256: code.sha256, version: "$LATEST",
                    environment: request.environment, revisionId: UUID().uuidString.lowercased(), state: "Active",
                    lastUpdateStatus: "Successful", packageType: "Zip", architectures: request.architectures ?? [FunctionValidation.architecture],
                    ephemeralStorage: EphemeralStorage(size: 512), tracingConfig: TracingConfig(mode: "PassThrough"),
                    loggingConfig: LoggingConfig(logFormat: "Text", logGroup: "/aws/lambda/\(name)")),
                reservedConcurrency: nil, codeDigest: code.digest)
            try store.save(stored)
            state.withLock { state in
                state.functions[name] = Entry(stored: stored, pool: makePool(stored, endpointURL: state.endpointURL))
            }
            return stored.configuration
        } catch {
            store.remove(name)
            throw error
        }
    }

    /// The function's configuration (GetFunctionConfiguration).
    ///
    /// - Throws: `ResourceNotFoundException` ("Function not found: <arn>").
    public func configuration(of function: String) throws(LambdaError) -> FunctionConfiguration {
        try entry(function).stored.configuration
    }

    /// The function's reserved concurrency, if set (GetFunction's `Concurrency`, GetFunctionConcurrency).
    public func reservedConcurrency(of function: String) throws(LambdaError) -> Int? {
        try entry(function).stored.reservedConcurrency
    }

    /// Every function, by name (ListFunctions).
    public func list() -> [FunctionConfiguration] {
        state.withLock { $0.functions.values.map(\.stored.configuration) }.sorted { $0.functionName < $1.functionName }
    }

    /// Replaces the function's code (UpdateFunctionCode): new invocations run it; environments running the
    /// old code finish their invocation and stop.
    public func updateCode(_ function: String, _ request: UpdateFunctionCodeRequest) async throws(LambdaError) -> FunctionConfiguration {
        let name = try entry(function).stored.configuration.functionName
        guard let zip = request.code.zipFile else {
            throw .invalidParameterValue(FunctionValidation.codeSourceMessage(request.code.otherSource))
        }
        let code = try store.install(zip: zip, for: name)
        return try change(name) { stored in
            stored.codeDigest = code.digest
            stored.configuration.codeSha256 = code.sha256
            stored.configuration.codeSize = code.size
        }
    }

    /// Changes the function's settings (UpdateFunctionConfiguration); members not given stay.
    public func updateConfiguration(
        _ function: String, _ request: UpdateFunctionConfigurationRequest
    ) async throws(LambdaError) -> FunctionConfiguration {
        let name = try entry(function).stored.configuration.functionName
        try FunctionValidation.validateUpdate(request)
        return try change(name) { stored in
            if let runtime = request.runtime { stored.configuration.runtime = runtime }
            if let role = request.role { stored.configuration.role = role }
            if let handler = request.handler { stored.configuration.handler = handler }
            if let description = request.description { stored.configuration.description = description }
            if let timeout = request.timeout { stored.configuration.timeout = timeout }
            if let memorySize = request.memorySize { stored.configuration.memorySize = memorySize }
            if let environment = request.environment { stored.configuration.environment = environment }
        }
    }

    /// Sets the function's reserved concurrency (PutFunctionConcurrency): at most `count` environments at
    /// once, none with 0 (every invocation is throttled).
    public func putConcurrency(_ function: String, _ count: Int) throws(LambdaError) -> Int {
        guard count >= 0 else {
            throw .constraint(value: "\(count)", field: "reservedConcurrentExecutions", "Member must have value greater than or equal to 0")
        }
        guard count <= FunctionValidation.maximumReservedConcurrency else {
            throw .invalidParameterValue(
                "Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100].")
        }
        let name = try entry(function).stored.configuration.functionName
        _ = try change(name, relaunch: false) { $0.reservedConcurrency = count }
        try entry(name).pool.setCapacity(count, reserved: true)
        return count
    }

    /// Removes the function's reserved concurrency (DeleteFunctionConcurrency).
    public func deleteConcurrency(_ function: String) throws(LambdaError) {
        let name = try entry(function).stored.configuration.functionName
        _ = try change(name, relaunch: false) { $0.reservedConcurrency = nil }
        try entry(name).pool.setCapacity(configuration.maximumEnvironmentsPerFunction, reserved: false)
    }

    /// Deletes the function (DeleteFunction): its environments are stopped and its code and logs removed.
    public func delete(_ function: String) throws(LambdaError) {
        let name = try entry(function).stored.configuration.functionName
        let removed = state.withLock { $0.functions.removeValue(forKey: name) }
        removed?.pool.close()
        store.remove(name)
    }

    /// The function's ARN, as Lambda prints it.
    public func functionArn(_ name: String) -> String {
        "arn:aws:lambda:\(configuration.region):\(configuration.accountId):function:\(name)"
    }

    /// The name of the function `nameOrArn` names (a name, an ARN, or a partial ARN; `$LATEST` only).
    public func resolve(_ nameOrArn: String) throws(LambdaError) -> String {
        try entry(nameOrArn).stored.configuration.functionName
    }

    // MARK: Invoking

    /// Invokes the function synchronously with `payload` (JSON): runs it in an execution environment and
    /// returns its response, or its error document with `functionError` `Unhandled` (the function threw,
    /// timed out — `Sandbox.Timedout` —, crashed — `Runtime.ExitError` — or could not start). With
    /// `logTail`, the result carries the last 4 KB of the invocation's log. With `waitForCapacity`, a call
    /// that finds every environment busy waits for one instead of being throttled (as an event source
    /// mapping's poller does).
    ///
    /// - Throws: `ResourceNotFoundException` for an unknown function; `InvalidRequestContentException` for a
    ///   payload that is not JSON; `TooManyRequestsException` when the function's concurrency is used up.
    public func invoke(
        _ function: String, payload: [UInt8], clientContext: String? = nil, logTail: Bool = false, waitForCapacity: Bool = false
    ) async throws(LambdaError) -> InvocationResult {
        try FunctionValidation.validatePayload(payload)
        return try await invokeValidated(
            function, payload: payload, clientContext: clientContext, logTail: logTail, waitForCapacity: waitForCapacity)
    }

    /// Invokes the function with `payload`, known to be JSON (an event source mapping's batch, which Eddy
    /// wrote itself): as ``invoke(_:payload:clientContext:logTail:waitForCapacity:)`` without parsing it again.
    func invokeValidated(
        _ function: String, payload: [UInt8], clientContext: String? = nil, logTail: Bool = false, waitForCapacity: Bool = false
    ) async throws(LambdaError) -> InvocationResult {
        let entry = try entry(function)
        let requestId = UUID().uuidString.lowercased()
        let (outcome, log) = try await entry.pool.invoke(
            payload: payload.isEmpty ? Array("{}".utf8) : payload, requestId: requestId, clientContext: clientContext,
            wait: waitForCapacity, captureLog: logTail)
        return InvocationResult(
            payload: outcome.payload, functionError: outcome.isError ? "Unhandled" : nil, logTail: log, executedVersion: "$LATEST",
            requestId: requestId)
    }

    /// Queues an asynchronous invocation (Invoke with `Event`): it runs as soon as an environment is free and
    /// is retried on a function error after each of ``Configuration-swift.struct/asynchronousRetryDelays``
    /// (twice, after one, then two minutes, as Lambda does). Returns its request id. One that fails every
    /// time is dropped, and the function's log and Eddy's say so. The queue is kept in memory: invocations
    /// still queued when the server stops are logged as dropped.
    ///
    /// - Throws: as ``invoke(_:payload:clientContext:logTail:waitForCapacity:)`` for the function and payload.
    @discardableResult
    public func invokeAsynchronously(_ function: String, payload: [UInt8]) throws(LambdaError) -> String {
        let entry = try entry(function)
        let name = entry.stored.configuration.functionName
        try FunctionValidation.validatePayload(payload)
        let requestId = UUID().uuidString.lowercased()
        asynchronous.start(requestId: requestId, function: name, log: entry.pool.log) { [weak self] attempt in
            guard let self else { return true }
            do throws(LambdaError) {
                let result = try await self.invoke(name, payload: payload, waitForCapacity: true)
                guard result.functionError != nil else { return true }
                Self.logger.warning(
                    "Asynchronous invocation \(requestId) of \(name) failed (attempt \(attempt)): \(String(decoding: result.payload, as: UTF8.self))")
                return false
            } catch {
                Self.logger.warning("Asynchronous invocation \(requestId) of \(name) failed (attempt \(attempt)): \(error)")
                return error.type == "ResourceNotFoundException"
            }
        }
        return requestId
    }

    /// Checks that the function exists and would take `payload` (Invoke with `DryRun`).
    public func checkInvocation(_ function: String, payload: [UInt8]) throws(LambdaError) {
        _ = try entry(function)
        try FunctionValidation.validatePayload(payload)
    }

    /// How many execution environments the function has now.
    public func environmentCount(of function: String) throws(LambdaError) -> Int {
        try entry(function).pool.environmentCount
    }

    // MARK: Service

    /// Waits for graceful shutdown (or cancellation), then stops every environment.
    public func run() async throws {
        try? await gracefulShutdown()
        shutdown()
    }

    /// Stops every environment of every function and drops queued asynchronous invocations (logged).
    public func shutdown() {
        let pools = state.withLock { $0.functions.values.map(\.pool) }
        for pool in pools { pool.close() }
        asynchronous.cancelAll()
    }

    // MARK: Internals

    private func entry(_ nameOrArn: String) throws(LambdaError) -> Entry {
        let name = try FunctionNames.name(nameOrArn, field: "functionName", region: configuration.region, account: configuration.accountId)
        guard let entry = state.withLock({ $0.functions[name] }) else {
            throw .resourceNotFound("Function not found: \(functionArn(name))")
        }
        return entry
    }

    /// Applies `update` to function `name`'s stored settings, saves them, and (with `relaunch`) makes new
    /// invocations use them.
    private func change(_ name: String, relaunch: Bool = true, _ update: (inout StoredFunction) -> Void) throws(LambdaError) -> FunctionConfiguration {
        guard var entry = state.withLock({ $0.functions[name] }) else {
            throw .resourceNotFound("Function not found: \(functionArn(name))")
        }
        update(&entry.stored)
        entry.stored.configuration.lastModified = Self.timestamp()
        entry.stored.configuration.revisionId = UUID().uuidString.lowercased()
        try store.save(entry.stored)
        let stored = entry.stored
        state.withLock { $0.functions[name]?.stored = stored }
        if relaunch {
            entry.pool.relaunch(launch(for: stored))
            store.removeCode(of: name, except: stored.codeDigest)
        }
        return stored.configuration
    }

    private func makePool(_ stored: StoredFunction, endpointURL: String?) -> FunctionPool {
        FunctionPool(
            launch: launch(for: stored, endpointURL: endpointURL),
            capacity: stored.reservedConcurrency ?? configuration.maximumEnvironmentsPerFunction,
            reserved: stored.reservedConcurrency != nil,
            log: FunctionLog(directory: store.logDirectory(of: stored.configuration.functionName)))
    }

    private func launch(for stored: StoredFunction) -> EnvironmentLaunch {
        launch(for: stored, endpointURL: state.withLock { $0.endpointURL })
    }

    /// How `stored`'s environments start: its runtime's command and Lambda's environment variables.
    private func launch(for stored: StoredFunction, endpointURL: String?) -> EnvironmentLaunch {
        let function = stored.configuration
        let code = store.codeDirectory(of: function.functionName, digest: stored.codeDigest)
        var variables: [String: String] = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "LAMBDA_TASK_ROOT": code,
            "LAMBDA_RUNTIME_DIR": code,
            "_HANDLER": function.handler,
            "AWS_LAMBDA_FUNCTION_NAME": function.functionName,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": String(function.memorySize),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": function.loggingConfig.logGroup,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_EXECUTION_ENV": "AWS_Lambda_\(function.runtime)",
            "AWS_REGION": configuration.region,
            "AWS_DEFAULT_REGION": configuration.region,
            "AWS_ACCESS_KEY_ID": configuration.accessKeyId,
            "AWS_SECRET_ACCESS_KEY": configuration.secretAccessKey,
        ]
        if let endpointURL { variables["AWS_ENDPOINT_URL"] = endpointURL }
        let executable: String
        let arguments: [String]
        if FunctionRuntimes.python.contains(function.runtime) {
            executable = pythonExecutable
            arguments = ["-m", "awslambdaric", function.handler]
            variables["PYTHONUNBUFFERED"] = "1"
        } else {
            executable = "\(code)/bootstrap"
            arguments = []
        }
        variables.merge(function.environment?.variables ?? [:]) { _, given in given }
        return EnvironmentLaunch(
            executable: executable, arguments: arguments, workingDirectory: code, variables: variables,
            functionArn: function.functionArn, timeout: .seconds(function.timeout), timeoutSeconds: function.timeout,
            memorySize: function.memorySize)
    }

    /// The interpreter `configuration.python` runs (its `sys.executable`), found once; so that environments
    /// run it directly, without the shell wrappers (pyenv's shims, say) a `python3` on the PATH may be.
    private static func resolvePython(_ python: String) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, "-c", "import sys; print(sys.executable)"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return python }
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let path = String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return process.terminationStatus == 0 && !path.isEmpty ? path : python
    }

    /// Now, as Lambda's `LastModified` prints it: `2026-12-06T18:30:00.000+0000`.
    static func timestamp() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss.SSSZ"
        return formatter.string(from: Date())
    }
}

/// The asynchronous invocations in flight: each a task that tries once, then once more after each retry delay.
final class AsynchronousInvocations: Sendable {
    private let tasks = Mutex<[String: Task<Void, Never>]>([:])
    private let retryDelays: [Duration]

    init(retryDelays: [Duration]) {
        self.retryDelays = retryDelays
    }

    /// Runs `attempt` (given its number, from 1) until it returns true or has failed after every retry
    /// delay; then the invocation is dropped, which `log` (the function's) and Eddy's log say.
    func start(requestId: String, function: String, log: FunctionLog, _ attempt: @escaping @Sendable (Int) async -> Bool) {
        let retryDelays = retryDelays
        // Registered under the lock that its own removal takes, so that a quick task cannot end first.
        tasks.withLock { tasks in tasks[requestId] = Task { [weak self] in
            for number in 1...(retryDelays.count + 1) {
                if await attempt(number) { break }
                guard number <= retryDelays.count else {
                    let message = "Asynchronous invocation \(requestId) of \(function) failed \(number) times and is dropped"
                    log.append(line: message)
                    Functions.logger.error("\(message)")
                    break
                }
                do {
                    try await Task.sleep(for: retryDelays[number - 1])
                } catch {
                    break
                }
            }
            _ = self?.tasks.withLock { $0.removeValue(forKey: requestId) }
        } }
    }

    /// Cancels every invocation still queued or waiting to be retried, saying how many.
    func cancelAll() {
        let pending = tasks.withLock { tasks in
            defer { tasks = [:] }
            return Array(tasks.values)
        }
        if !pending.isEmpty {
            Functions.logger.warning("Dropping \(pending.count) asynchronous invocation(s) not yet done at shutdown")
        }
        for task in pending { task.cancel() }
    }
}
