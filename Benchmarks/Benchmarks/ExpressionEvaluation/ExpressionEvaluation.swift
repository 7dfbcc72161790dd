// The cost of Eddy's expressions on the request path. Each iteration runs 1,000 requests' worth of
// expression work: binding the request's placeholders to the cached parse of the expression text (what
// every UpdateItem/PutItem with an expression pays) and evaluating it. Target: under 2 µs per evaluation.
//
//     Expression.Condition.3comparisons   `a = :a AND b > :b AND c <> :c` on a 10-attribute item
//     Expression.Update.SETarithmetic      `SET a = a + :one, b = :b` applied to a 10-attribute item
import Benchmark
import Eddy

/// Evaluations per iteration; equals the `.kilo` scaling factor.
let evaluationsPerIteration = 1_000

/// Ten attributes of the common types.
let item: Item = [
    "id": "user-000042", "a": 42, "b": "beta", "c": .bool(true), "d": .n(try! DecimalNumber("3.25")),
    "e": .ss(["x", "y"]), "f": .m(["g": 1]), "h": .l(["i", 2]), "j": .null, "k": .b([1, 2, 3]),
]

let benchmarks: @Sendable () -> Void = {
    let configuration = Benchmark.Configuration(
        metrics: [.throughput, .wallClock, .mallocCountTotal],
        warmupIterations: 10,
        scalingFactor: .kilo,
        maxDuration: .seconds(10),
        maxIterations: 2_000
    )

    Benchmark("Expression.Condition.3comparisons", configuration: configuration) { benchmark in
        let values: Item = [":a": 42, ":b": "alpha", ":c": .bool(false)]
        var holds = 0
        for _ in 0..<evaluationsPerIteration {
            let condition = try ConditionExpression(
                "a = :a AND b > :b AND c <> :c", expressionAttributeValues: values)
            if try condition.evaluate(on: item) { holds += 1 }
        }
        precondition(holds == evaluationsPerIteration)
        blackHole(holds)
    }

    Benchmark("Expression.Update.SETarithmetic", configuration: configuration) { benchmark in
        let values: Item = [":one": 1, ":b": "gamma"]
        for _ in 0..<evaluationsPerIteration {
            let update = try UpdateExpression("SET a = a + :one, b = :b", expressionAttributeValues: values)
            blackHole(try update.apply(to: item))
        }
    }
}
