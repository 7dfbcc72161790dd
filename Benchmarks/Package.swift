// swift-tools-version: 6.1
// The benchmarks of Eddy, kept in their own package so that building or testing Eddy never compiles the
// benchmark tooling. Run them from this directory; see README.md.
import PackageDescription

let package = Package(
    name: "EddyBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Eddy", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        // RocksDB's C API for the raw baseline: the same system library Eddy links, imported under a name of
        // its own because Eddy's `CRocksDB` target is not a product of the Eddy package.
        .systemLibrary(
            name: "CRocksDBBench",
            pkgConfig: "rocksdb",
            providers: [.apt(["librocksdb-dev"])]
        ),
        // librdkafka's C API for the Kafka benchmark's raw producer baseline: the same system library EddyKafka
        // links, under a name of its own because Eddy's `CRdKafka` target is not a product of the Eddy package.
        .systemLibrary(
            name: "CRdKafkaBench",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        // What the benchmark targets share: the items and their stored bytes, the raw RocksDB client, the
        // client threads and executor, temporary directories.
        .target(
            name: "BenchmarkSupport",
            dependencies: [
                .product(name: "Eddy", package: "Eddy"),
                .product(name: "EddyStorage", package: "Eddy"),
                "CRocksDBBench",
            ]
        ),
        .executableTarget(
            name: "ItemThroughput",
            dependencies: [
                .product(name: "Eddy", package: "Eddy"),
                .product(name: "EddyStorage", package: "Eddy"),
                .product(name: "Benchmark", package: "benchmark"),
                "BenchmarkSupport",
            ],
            path: "Benchmarks/ItemThroughput",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "Streams",
            dependencies: [
                .product(name: "Eddy", package: "Eddy"),
                .product(name: "Benchmark", package: "benchmark"),
                "BenchmarkSupport",
            ],
            path: "Benchmarks/Streams",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "Triggers",
            dependencies: [
                .product(name: "Eddy", package: "Eddy"),
                .product(name: "Benchmark", package: "benchmark"),
                "BenchmarkSupport",
            ],
            path: "Benchmarks/Triggers",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // The no-op Swift Lambda function of the Functions benchmark, on EddyLambdaRuntime: its executable is the
        // function's `bootstrap`.
        .executableTarget(
            name: "DrainFunction",
            dependencies: [.product(name: "EddyLambdaRuntime", package: "Eddy")]
        ),
        // The empty HTTP/1.1 server Benchmarks/server.sh measures beside `eddy serve`: the same SwiftNIO pipeline
        // and event loops, a handler that reads the body and answers 200; given a directory, also one raw RocksDB
        // get or put per request (the storage floor).
        .executableTarget(
            name: "EmptyHTTPServer",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                "CRocksDBBench",
            ]
        ),
        .executableTarget(
            name: "Functions",
            dependencies: [
                .product(name: "Eddy", package: "Eddy"),
                .product(name: "EddyFunctions", package: "Eddy"),
                .product(name: "Benchmark", package: "benchmark"),
                "BenchmarkSupport",
                // Listed so that building the benchmark (as `swift package benchmark` does) builds the function
                // it zips too.
                "DrainFunction",
            ],
            path: "Benchmarks/Functions",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "Kafka",
            dependencies: [
                .product(name: "Eddy", package: "Eddy"),
                .product(name: "EddyKafka", package: "Eddy"),
                .product(name: "Benchmark", package: "benchmark"),
                "BenchmarkSupport",
                "CRdKafkaBench",
            ],
            path: "Benchmarks/Kafka",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "Search",
            dependencies: [
                .product(name: "Eddy", package: "Eddy"),
                .product(name: "EddySearch", package: "Eddy"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Benchmark", package: "benchmark"),
                "BenchmarkSupport",
            ],
            path: "Benchmarks/Search",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "Indexes",
            dependencies: [
                .product(name: "Eddy", package: "Eddy"),
                .product(name: "Benchmark", package: "benchmark"),
                "BenchmarkSupport",
            ],
            path: "Benchmarks/Indexes",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "TableMetadata",
            dependencies: [
                .product(name: "Eddy", package: "Eddy"),
                .product(name: "Benchmark", package: "benchmark"),
                "BenchmarkSupport",
            ],
            path: "Benchmarks/TableMetadata",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "TimeToLive",
            dependencies: [
                .product(name: "Eddy", package: "Eddy"),
                .product(name: "Benchmark", package: "benchmark"),
                "BenchmarkSupport",
            ],
            path: "Benchmarks/TimeToLive",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "Transactions",
            dependencies: [
                .product(name: "Eddy", package: "Eddy"),
                .product(name: "Benchmark", package: "benchmark"),
                "BenchmarkSupport",
            ],
            path: "Benchmarks/Transactions",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "Capacity",
            dependencies: [
                .product(name: "Eddy", package: "Eddy"),
                .product(name: "Benchmark", package: "benchmark"),
                "BenchmarkSupport",
            ],
            path: "Benchmarks/Capacity",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "InMemory",
            dependencies: [
                .product(name: "Eddy", package: "Eddy"),
                .product(name: "Benchmark", package: "benchmark"),
                "BenchmarkSupport",
            ],
            path: "Benchmarks/InMemory",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "Fsync",
            dependencies: [
                .product(name: "Eddy", package: "Eddy"),
                .product(name: "EddyStorage", package: "Eddy"),
                .product(name: "Benchmark", package: "benchmark"),
                "BenchmarkSupport",
            ],
            path: "Benchmarks/Fsync",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "ExpressionEvaluation",
            dependencies: [
                .product(name: "Eddy", package: "Eddy"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/ExpressionEvaluation",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
