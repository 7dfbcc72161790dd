/// The runtimes Lambda names, and the ones Eddy runs.
enum FunctionRuntimes {
    /// Lambda's `Runtime` enum: any other value is a ValidationException.
    static let lambda = [
        "nodejs", "nodejs4.3", "nodejs6.10", "nodejs8.10", "nodejs10.x", "nodejs12.x", "nodejs14.x", "nodejs16.x", "java8",
        "java8.al2", "java11", "python2.7", "python3.6", "python3.7", "python3.8", "python3.9", "dotnetcore1.0",
        "dotnetcore2.0", "dotnetcore2.1", "dotnetcore3.1", "dotnet6", "dotnet8", "nodejs4.3-edge", "go1.x", "ruby2.5",
        "ruby2.7", "provided", "provided.al2", "nodejs18.x", "python3.10", "java17", "ruby3.2", "ruby3.3", "ruby3.4",
        "python3.11", "nodejs20.x", "provided.al2023", "python3.12", "java21", "python3.13", "nodejs22.x", "nodejs24.x",
        "python3.14", "java25", "dotnet10",
    ]

    /// The `provided` runtimes Eddy runs: the zip's `bootstrap` executable.
    static let provided: Set = ["provided.al2023", "provided.al2"]
    /// The Python runtimes Eddy runs, all with the machine's python3 and awslambdaric.
    static let python: Set = ["python3.10", "python3.11", "python3.12", "python3.13", "python3.14"]

    /// Checks `runtime`: Lambda's ValidationException outside Lambda's set, InvalidParameterValueException for
    /// a runtime Lambda has that Eddy does not run.
    static func validate(_ runtime: String) throws(LambdaError) {
        guard lambda.contains(runtime) else {
            throw .constraint(
                value: runtime, field: "runtime", "Member must satisfy enum value set: [\(lambda.joined(separator: ", "))]")
        }
        guard provided.contains(runtime) || python.contains(runtime) else {
            throw .invalidParameterValue(
                "The runtime parameter of \(runtime) is not supported by Eddy, which runs provided.al2023, provided.al2 and python3.10 to python3.14 functions.")
        }
    }
}
