// Eddy's trigger runtime (`TriggerRuntime`): how soon a committed change reaches a handler, and how fast a
// mapping drains a stream into a handler or into a derivative table. See ../../README.md for the command that
// runs them and prints the figures.
//
//     TriggerDelivery.PutItem        commit → handler call latency, BatchSize 1, no batching window
//     TriggerDrain.Handler           a no-op handler, BatchSize 1000, draining a 500,000-record stream
//     TriggerDrain.Derivative        one counter update per record (derivative table, exactly once),
//                                    draining a 200,000-record stream
//
// TriggerDelivery.swift and TriggerDrain.swift hold the two kinds. Every benchmark gets a fresh temporary
// data directory in its setup and deletes it in its teardown.
import Benchmark
import BenchmarkSupport
import Eddy
import Foundation

/// Writers of the untimed stream fills.
let clientCount = 8

let benchmarks: @Sendable () -> Void = {
    registerTriggerDeliveryBenchmark()
    registerDrainBenchmarks()
}

