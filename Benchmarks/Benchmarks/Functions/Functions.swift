// Lambda functions run as local processes (`EddyFunctions`) behind event source mappings of DynamoDB streams,
// each next to an in-process trigger handler doing the same in the same run: how soon a committed change
// reaches a function, and how fast a new mapping drains a stream into one. See ../../README.md for the command
// that runs them and prints the figures.
//
//     FunctionDelivery.Handler   commit → in-process handler call latency, BatchSize 1 (the baseline)
//     FunctionDelivery.Python    commit → Python function call latency, BatchSize 1
//     FunctionDrain.Handler      a no-op in-process handler, BatchSize 1000, draining a 200,000-record stream
//                                (the baseline)
//     FunctionDrain.Python       a no-op Python function, BatchSize 1000, draining a 200,000-record stream
//     FunctionDrain.Swift        a no-op Swift function (EddyLambdaRuntime), BatchSize 1000, draining a
//                                200,000-record stream
//
// FunctionDelivery.swift and FunctionDrain.swift hold the two kinds; BenchmarkFunctions.swift the functions'
// code (the Swift function is the `DrainFunction` executable, Sources/DrainFunction), and DatagramListener.swift
// the socket their reports come to. Every benchmark gets fresh temporary directories in its setup and deletes
// them in its teardown, where it also stops the functions' processes.
import Benchmark

let benchmarks: @Sendable () -> Void = {
    registerFunctionDeliveryBenchmarks()
    registerFunctionDrainBenchmarks()
}
