import Foundation
import ZIPFoundation

/// CreateFunction's request body, as Lambda's API takes it (only what Eddy runs; other members are ignored).
public struct CreateFunctionRequest: Decodable, Sendable {
    public var functionName: String
    public var runtime: String?
    public var role: String
    public var handler: String?
    public var code: FunctionCode
    public var description: String?
    public var timeout: Int?
    public var memorySize: Int?
    public var environment: FunctionEnvironment?
    public var packageType: String?
    public var architectures: [String]?

    public init(
        functionName: String, runtime: String, role: String = "arn:aws:iam::000000000000:role/eddy", handler: String,
        zipFile: [UInt8], timeout: Int? = nil, environment: [String: String]? = nil
    ) {
        self.functionName = functionName
        self.runtime = runtime
        self.role = role
        self.handler = handler
        code = FunctionCode(zipFile: zipFile)
        self.timeout = timeout
        self.environment = environment.map { FunctionEnvironment(variables: $0) }
    }

    enum CodingKeys: String, CodingKey {
        case functionName = "FunctionName", runtime = "Runtime", role = "Role", handler = "Handler", code = "Code"
        case description = "Description", timeout = "Timeout", memorySize = "MemorySize", environment = "Environment"
        case packageType = "PackageType", architectures = "Architectures"
    }
}

/// A function's code: a zip archive (`ZipFile`, base64 in JSON). Lambda's other sources (S3, container
/// images) are refused with a message that says so.
public struct FunctionCode: Decodable, Sendable {
    public var zipFile: [UInt8]?
    var otherSource: String?

    public init(zipFile: [UInt8]) {
        self.zipFile = zipFile
    }

    enum CodingKeys: String, CodingKey {
        case zipFile = "ZipFile", s3Bucket = "S3Bucket", imageUri = "ImageUri"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        zipFile = try container.decodeIfPresent(Data.self, forKey: .zipFile).map(Array.init)
        if container.contains(.s3Bucket) {
            otherSource = "S3Bucket"
        } else if container.contains(.imageUri) {
            otherSource = "ImageUri"
        }
    }
}

/// UpdateFunctionCode's request body: the new zip, with the members of CreateFunction's `Code`.
public struct UpdateFunctionCodeRequest: Decodable, Sendable {
    public var code: FunctionCode

    public init(zipFile: [UInt8]) {
        code = FunctionCode(zipFile: zipFile)
    }

    public init(from decoder: any Decoder) throws {
        code = try FunctionCode(from: decoder)
    }
}

/// UpdateFunctionConfiguration's request body: the members given change, the others stay.
public struct UpdateFunctionConfigurationRequest: Decodable, Sendable {
    public var runtime: String?
    public var role: String?
    public var handler: String?
    public var description: String?
    public var timeout: Int?
    public var memorySize: Int?
    public var environment: FunctionEnvironment?

    public init(timeout: Int? = nil, environment: [String: String]? = nil) {
        self.timeout = timeout
        self.environment = environment.map { FunctionEnvironment(variables: $0) }
    }

    enum CodingKeys: String, CodingKey {
        case runtime = "Runtime", role = "Role", handler = "Handler", description = "Description", timeout = "Timeout"
        case memorySize = "MemorySize", environment = "Environment"
    }
}

/// How Invoke runs a function (`X-Amz-Invocation-Type`).
public enum InvocationType: String, Sendable {
    /// Synchronously: the answer is the function's response.
    case requestResponse = "RequestResponse"
    /// Asynchronously: queued, answered 202 at once, retried twice on a function error.
    case event = "Event"
    /// Only checks that the call would be allowed (204).
    case dryRun = "DryRun"
}

/// What a synchronous invocation returned.
public struct InvocationResult: Sendable {
    /// The function's response, or the error document `{"errorMessage","errorType","stackTrace"}` of a
    /// function error.
    public var payload: [UInt8]
    /// `Unhandled` when the function failed (it threw, timed out, crashed or could not start); nil otherwise.
    public var functionError: String?
    /// The last 4 KB of the invocation's log, when asked for.
    public var logTail: [UInt8]?
    /// The version that ran: always `$LATEST`.
    public var executedVersion: String
    /// The invocation's request id.
    public var requestId: String
}

extension FunctionCode {
    /// The files under `directory` as a zip (deflated, with their permissions), as CreateFunction takes code.
    ///
    /// - Throws: ``LambdaError`` `InvalidParameterValueException` if the directory cannot be read.
    public static func zip(directory: String) throws(LambdaError) -> [UInt8] {
        let base = URL(fileURLWithPath: directory, isDirectory: true).standardizedFileURL
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: base.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .invalidParameterValue("The code directory \(directory) does not exist")
        }
        do {
            let archive = try Archive(data: Data(), accessMode: .create)
            let files = FileManager.default.enumerator(atPath: base.path)?.compactMap { $0 as? String }.sorted() ?? []
            for path in files {
                try archive.addEntry(with: path, relativeTo: base, compressionMethod: .deflate)
            }
            return Array(archive.data ?? Data())
        } catch {
            throw .invalidParameterValue("The code directory \(directory) cannot be zipped: \(error)")
        }
    }
}
