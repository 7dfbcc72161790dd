import Foundation

/// Function names as Lambda's API takes them: a name, an ARN, or a partial ARN (`123456789012:function:name`),
/// with at most the `$LATEST` qualifier.
enum FunctionNames {
    /// A function name or ARN, with its parts named; built once.
    nonisolated(unsafe) private static let arnExpression =
        /(arn:(aws[a-zA-Z-]*)?:lambda:)?(?<region>[a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(?<account>\d{12}:)?(function:)?(?<name>[a-zA-Z0-9\-_]+)(:(?<qualifier>\$LATEST|[a-zA-Z0-9\-_]+))?/

    private static func isNameByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
    }

    /// Lambda's pattern for a function name or ARN, as its validation message prints it.
    static let pattern =
        #"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?"#

    /// The function name in `value`.
    ///
    /// - Throws: `ValidationException` if `value` is no function name or ARN; `ResourceNotFoundException` if
    ///   it names another Region or account, or a version other than `$LATEST`.
    static func name(_ value: String, field: String, region: String, account: String) throws(LambdaError) -> String {
        // Most calls name a function plainly: no expression to run (building one costs hundreds of µs).
        if (1...64).contains(value.utf8.count), value.utf8.allSatisfy(isNameByte) { return value }
        guard (1...140).contains(value.count), let match = value.wholeMatch(of: arnExpression) else {
            throw .constraint(value: value, field: field, "Member must satisfy regular expression pattern: \(pattern)")
        }
        let name = String(match.output.name)
        guard name.count <= 64 else {
            throw .constraint(value: value, field: field, "Member must have length less than or equal to 64")
        }
        let arn = "arn:aws:lambda:\(region):\(account):function:\(name)"
        if let given = match.output.region, given.dropLast() != region { throw .resourceNotFound("Function not found: \(value)") }
        if let given = match.output.account, given.dropLast() != account { throw .resourceNotFound("Function not found: \(value)") }
        if let qualifier = match.output.qualifier, qualifier != "$LATEST" {
            throw .resourceNotFound("Function not found: \(arn):\(qualifier)")
        }
        return name
    }
}

/// The checks of CreateFunction's and UpdateFunctionConfiguration's settings, with Lambda's messages.
enum FunctionValidation {
    /// The machine's architecture, the only one its functions run on.
    #if arch(arm64)
    static let architecture = "arm64"
    #else
    static let architecture = "x86_64"
    #endif

    /// Lambda's default account concurrency (1,000) less the 100 it keeps unreserved.
    static let maximumReservedConcurrency = 900

    /// Lambda's reserved environment variables, which a function's `Environment` may not set.
    static let reservedVariables: Set = [
        "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
    ]

    static let rolePattern = #"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+"#

    static func validateCreate(_ request: CreateFunctionRequest) throws(LambdaError) {
        try validateRole(request.role)
        if let packageType = request.packageType, packageType != "Zip" {
            guard packageType == "Image" else {
                throw .constraint(value: packageType, field: "packageType", "Member must satisfy enum value set: [Image, Zip]")
            }
            throw .invalidParameterValue("Eddy runs functions packaged as Zip only: it serves no container images")
        }
        guard let runtime = request.runtime, let handler = request.handler else {
            throw .invalidParameterValue("Runtime and Handler are mandatory parameters for functions created with deployment packages.")
        }
        try FunctionRuntimes.validate(runtime)
        try validateHandler(handler)
        try validateSettings(timeout: request.timeout, memorySize: request.memorySize, description: request.description)
        try validateEnvironment(request.environment)
        if let architectures = request.architectures {
            guard architectures.count == 1, ["x86_64", "arm64"].contains(architectures[0]) else {
                throw .constraint(
                    value: "\(architectures)", field: "architectures",
                    "Member must have length less than or equal to 1, Member must satisfy enum value set: [x86_64, arm64]")
            }
            guard architectures[0] == architecture else {
                throw .invalidParameterValue("Eddy runs functions on this machine's architecture only: \(architecture)")
            }
        }
    }

    static func validateUpdate(_ request: UpdateFunctionConfigurationRequest) throws(LambdaError) {
        if let role = request.role { try validateRole(role) }
        if let runtime = request.runtime { try FunctionRuntimes.validate(runtime) }
        if let handler = request.handler { try validateHandler(handler) }
        try validateSettings(timeout: request.timeout, memorySize: request.memorySize, description: request.description)
        try validateEnvironment(request.environment)
    }

    /// The message for code given other than as a zip.
    static func codeSourceMessage(_ source: String?) -> String {
        guard let source else { return "Please provide a source for function code." }
        return "Eddy takes a function's code as ZipFile only, not \(source): it serves no S3 and no container images"
    }

    /// An Invoke payload must be JSON (or empty).
    static func validatePayload(_ payload: [UInt8]) throws(LambdaError) {
        guard !payload.isEmpty else { return }
        do {
            _ = try JSONSerialization.jsonObject(with: Data(payload), options: [.fragmentsAllowed])
        } catch {
            throw .invalidRequestContent("Could not parse request body into json: Could not parse payload into json: \(error.localizedDescription)")
        }
    }

    private static func validateRole(_ role: String) throws(LambdaError) {
        guard role.wholeMatch(of: /arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-\/]+/) != nil else {
            throw .constraint(value: role, field: "role", "Member must satisfy regular expression pattern: \(rolePattern)")
        }
    }

    private static func validateHandler(_ handler: String) throws(LambdaError) {
        guard handler.count <= 128 else {
            throw .constraint(value: handler, field: "handler", "Member must have length less than or equal to 128")
        }
        guard handler.wholeMatch(of: /[^\s]+/) != nil else {
            throw .constraint(value: handler, field: "handler", #"Member must satisfy regular expression pattern: [^\s]+"#)
        }
    }

    private static func validateSettings(timeout: Int?, memorySize: Int?, description: String?) throws(LambdaError) {
        if let timeout {
            if timeout < 1 {
                throw .constraint(value: "\(timeout)", field: "timeout", "Member must have value greater than or equal to 1")
            }
            if timeout > 900 {
                throw .constraint(value: "\(timeout)", field: "timeout", "Member must have value less than or equal to 900")
            }
        }
        if let memorySize {
            if memorySize < 128 {
                throw .constraint(value: "\(memorySize)", field: "memorySize", "Member must have value greater than or equal to 128")
            }
            if memorySize > 10240 {
                throw .constraint(value: "\(memorySize)", field: "memorySize", "Member must have value less than or equal to 10240")
            }
        }
        if let description, description.count > 256 {
            throw .constraint(value: description, field: "description", "Member must have length less than or equal to 256")
        }
    }

    private static func validateEnvironment(_ environment: FunctionEnvironment?) throws(LambdaError) {
        let variables = environment?.variables ?? [:]
        let reserved = variables.keys.filter(reservedVariables.contains).sorted()
        guard reserved.isEmpty else {
            throw .invalidParameterValue(
                "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: \(reserved.joined(separator: ", "))")
        }
        for key in variables.keys.sorted() where key.wholeMatch(of: /[a-zA-Z]([a-zA-Z0-9_])+/) == nil {
            throw .constraint(
                value: key, field: "environment.variables", "Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+")
        }
        let size = variables.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
        guard size <= 4096 else {
            throw .invalidParameterValue(
                "Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: \(size) bytes")
        }
    }
}
