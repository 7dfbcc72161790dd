import Foundation

/// A function's settings and state as Lambda's `FunctionConfiguration` shows them (CreateFunction,
/// GetFunctionConfiguration, ListFunctions, UpdateFunctionCode, UpdateFunctionConfiguration answer with it),
/// with Lambda's JSON member names.
public struct FunctionConfiguration: Codable, Sendable, Equatable {
    public var functionName: String
    public var functionArn: String
    /// `provided.al2023`, `provided.al2` or `python3.10` … `python3.14`.
    public var runtime: String
    public var role: String
    /// For a Python runtime, `module.function`; for a `provided` runtime, passed to `bootstrap` as `_HANDLER`.
    public var handler: String
    public var codeSize: Int64
    public var description: String
    /// Seconds an invocation may run (1–900, 3 by default).
    public var timeout: Int
    /// Megabytes (128–10240, 128 by default): told to the function, not enforced.
    public var memorySize: Int
    /// When the function last changed, as Lambda prints it (`2026-12-06T18:30:00.000+0000`).
    public var lastModified: String
    /// The SHA-256 of the code's zip, base64.
    public var codeSha256: String
    public var version: String
    public var environment: FunctionEnvironment?
    public var revisionId: String
    public var state: String
    public var lastUpdateStatus: String
    public var packageType: String
    public var architectures: [String]
    public var ephemeralStorage: EphemeralStorage
    public var tracingConfig: TracingConfig
    public var loggingConfig: LoggingConfig

    enum CodingKeys: String, CodingKey {
        case functionName = "FunctionName", functionArn = "FunctionArn", runtime = "Runtime", role = "Role"
        case handler = "Handler", codeSize = "CodeSize", description = "Description", timeout = "Timeout"
        case memorySize = "MemorySize", lastModified = "LastModified", codeSha256 = "CodeSha256", version = "Version"
        case environment = "Environment", revisionId = "RevisionId", state = "State"
        case lastUpdateStatus = "LastUpdateStatus", packageType = "PackageType", architectures = "Architectures"
        case ephemeralStorage = "EphemeralStorage", tracingConfig = "TracingConfig", loggingConfig = "LoggingConfig"
    }
}

/// A function's environment variables (`Environment.Variables`).
public struct FunctionEnvironment: Codable, Sendable, Equatable {
    public var variables: [String: String]?

    public init(variables: [String: String]?) {
        self.variables = variables
    }

    enum CodingKeys: String, CodingKey { case variables = "Variables" }
}

/// The size of a function's `/tmp` in MB, as Lambda reports it; Eddy's functions share the machine's.
public struct EphemeralStorage: Codable, Sendable, Equatable {
    public var size: Int

    enum CodingKeys: String, CodingKey { case size = "Size" }
}

/// X-Ray tracing: always `PassThrough` here.
public struct TracingConfig: Codable, Sendable, Equatable {
    public var mode: String

    enum CodingKeys: String, CodingKey { case mode = "Mode" }
}

/// Where the function's log goes, as Lambda names it; Eddy writes it to files under the data directory.
public struct LoggingConfig: Codable, Sendable, Equatable {
    public var logFormat: String
    public var logGroup: String

    enum CodingKeys: String, CodingKey { case logFormat = "LogFormat", logGroup = "LogGroup" }
}
