// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Eddy",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Eddy", targets: ["Eddy"]),
        .library(name: "EddyStorage", targets: ["EddyStorage"]),
        .executable(name: "eddy", targets: ["eddy"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CRocksDB",
            pkgConfig: "rocksdb",
            providers: [.apt(["librocksdb-dev"])]
        ),
        .target(name: "EddyStorage", dependencies: ["CRocksDB"]),
        .target(name: "Eddy", dependencies: ["EddyStorage"]),
        .executableTarget(
            name: "eddy",
            dependencies: [
                "Eddy",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "QuickStart", dependencies: ["Eddy"], path: "Examples/QuickStart"),
        .executableTarget(name: "CrashWriter", dependencies: ["Eddy"], path: "Tests/CrashWriter"),
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
                "CrashWriter",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
    ]
)
