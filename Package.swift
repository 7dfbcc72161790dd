// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Eddy",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Eddy", targets: ["Eddy"]),
        .library(name: "EddyModel", targets: ["EddyModel"]),
        .library(name: "EddyLambdaRuntime", targets: ["EddyLambdaRuntime"]),
        .library(name: "EddyStorage", targets: ["EddyStorage"]),
        .library(name: "EddyKafka", targets: ["EddyKafka"]),
        .library(name: "EddySearch", targets: ["EddySearch"]),
        .library(name: "EddyServer", targets: ["EddyServer"]),
        .library(name: "EddyFunctions", targets: ["EddyFunctions"]),
        .executable(name: "eddy", targets: ["eddy"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CRocksDB",
            pkgConfig: "rocksdb",
            providers: [.apt(["librocksdb-dev"])]
        ),
        .target(name: "EddyStorage", dependencies: ["CRocksDB"]),
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        .target(
            name: "EddyKafka",
            dependencies: [
                "CRdKafka", "Eddy", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "EddySearch",
            dependencies: [
                "Eddy",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(name: "EddyModel"),
        .target(name: "EddyLambdaRuntime", dependencies: ["EddyModel"]),
        .target(
            name: "Eddy",
            dependencies: [
                "EddyModel",
                "EddyStorage",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "EddyFunctions",
            dependencies: [
                "Eddy",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "EddyServer",
            dependencies: [
                "Eddy",
                "EddyKafka",
                "EddySearch",
                "EddyFunctions",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "eddy",
            dependencies: [
                "Eddy",
                "EddyKafka",
                "EddySearch",
                "EddyServer",
                "EddyFunctions",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // libFuzzer's target for the request parser (scripts/fuzz.sh builds it with -sanitize=fuzzer).
        .executableTarget(name: "RequestParserFuzzer", dependencies: ["EddyModel"]),
        .executableTarget(name: "QuickStart", dependencies: ["Eddy"], path: "Examples/QuickStart"),
        .executableTarget(name: "MaterializedView", dependencies: ["Eddy"], path: "Examples/MaterializedView"),
        .executableTarget(
            name: "WelcomeEmail", dependencies: ["Eddy", "WelcomeMail"], path: "Examples/WelcomeEmail",
            exclude: ["run.sh", "smtp_sink.py", "Mail", "Function"]),
        .target(name: "WelcomeMail", path: "Examples/WelcomeEmail/Mail"),
        .executableTarget(
            name: "WelcomeEmailFunction", dependencies: ["EddyLambdaRuntime", "WelcomeMail"], path: "Examples/WelcomeEmail/Function"),
        .executableTarget(name: "AnalyticsPipeline", dependencies: ["Eddy", "EddyKafka"], path: "Examples/AnalyticsPipeline"),
        .executableTarget(name: "CrashWriter", dependencies: ["Eddy", "ChildProcessSupport"], path: "Tests/CrashWriter"),
        .executableTarget(name: "TransactionCrashWriter", dependencies: ["Eddy", "ChildProcessSupport"], path: "Tests/TransactionCrashWriter"),
        .executableTarget(name: "IndexCrashWriter", dependencies: ["Eddy", "ChildProcessSupport"], path: "Tests/IndexCrashWriter"),
        .executableTarget(name: "TriggerCrashWorker", dependencies: ["Eddy", "ChildProcessSupport"], path: "Tests/TriggerCrashWorker"),
        .executableTarget(name: "KafkaSinkWorker", dependencies: ["Eddy", "EddyKafka", "ChildProcessSupport"], path: "Tests/KafkaSinkWorker"),
        .executableTarget(
            name: "SnapshotSinkWorker", dependencies: ["Eddy", "EddyKafka", "ChildProcessSupport"], path: "Tests/SnapshotSinkWorker"),
        .executableTarget(name: "LambdaEchoFunction", dependencies: ["EddyLambdaRuntime"], path: "Tests/LambdaEchoFunction"),
        .executableTarget(name: "LambdaResultsFunction", dependencies: ["EddyLambdaRuntime"], path: "Tests/LambdaResultsFunction"),
        .target(name: "ChildProcessSupport", dependencies: ["Eddy"], path: "Tests/ChildProcessSupport"),
        .testTarget(
            name: "EddyKafkaTests",
            dependencies: [
                "EddyKafka", "Eddy", "ChildProcessSupport", "KafkaSinkWorker", "SnapshotSinkWorker", "AnalyticsPipeline",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
        .testTarget(
            name: "EddySearchTests",
            dependencies: [
                "EddySearch", "Eddy", "ChildProcessSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
        .testTarget(
            name: "EddyServerTests",
            dependencies: [
                "EddyServer",
                "Eddy",
                "ChildProcessSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/EddyServerTests"
        ),
        .testTarget(
            name: "EddyLambdaRuntimeTests",
            dependencies: [
                "EddyLambdaRuntime",
                "LambdaEchoFunction",
                "ChildProcessSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "EddyFunctionsTests",
            dependencies: ["EddyFunctions", "Eddy", .product(name: "ZIPFoundation", package: "ZIPFoundation")]
        ),
        .testTarget(
            name: "EddyStorageTests",
            dependencies: [
                "EddyStorage",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(
            name: "EddyTests",
            dependencies: [
                "Eddy",
                "ChildProcessSupport",
                "CrashWriter",
                "TransactionCrashWriter",
                "IndexCrashWriter",
                "MaterializedView",
                "WelcomeEmail",
                "TriggerCrashWorker",
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ]
)
