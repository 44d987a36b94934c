// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "fetchde",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "etl", targets: ["etl"]),
        .executable(name: "vault", targets: ["vault"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),  // 1.16: InMemoryLogging for the tests
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.0.0"),
    ],
    targets: [
        // C libraries: found by pkg-config, nothing else in these targets.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // Shims for macros and variadic/awkward C signatures.
        .target(name: "COpenSSLShims", dependencies: ["COpenSSL"]),
        .target(name: "CCurlShims", dependencies: ["CCurl"]),

        // Wrapper modules: the only ones that import the C targets.
        .target(name: "PIICrypto", dependencies: ["COpenSSL", "COpenSSLShims"]),
        // The opening half (HPKE and AES-GCM open, private-key files): only the vault links it.
        .target(name: "VaultCrypto", dependencies: ["PIICrypto", "COpenSSL", "COpenSSLShims"]),
        .target(name: "Postgres", dependencies: ["CLibPQ", .product(name: "Logging", package: "swift-log")]),
        .target(name: "SQS", dependencies: [
            "CCurl", "CCurlShims", "PIICrypto",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),

        // Application libraries.
        .target(name: "Settings", dependencies: [.product(name: "Configuration", package: "swift-configuration")]),
        .target(name: "VaultFormat", dependencies: ["PIICrypto"]),
        .target(
            name: "Schema",
            dependencies: ["Postgres", "PIICrypto", .product(name: "Logging", package: "swift-log")],
            exclude: ["SQL"],
            plugins: ["EmbedSQL"]
        ),
        .target(name: "Pipeline", dependencies: [
            "PIICrypto", "Postgres", "SQS", "Schema", "Settings", "VaultFormat",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .target(name: "Vault", dependencies: [
            "PIICrypto", "VaultCrypto", "Postgres", "Schema", "Settings", "VaultFormat", "Pipeline",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "CommandSupport", dependencies: [
            "Settings", "PIICrypto", "Postgres", "SQS", "Schema", "Pipeline", "VaultFormat",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // Thin executables: parse and wire.
        .executableTarget(name: "etl", dependencies: [
            "Pipeline", "CommandSupport", "Settings", "SQS", "PIICrypto", "Postgres", "Schema",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        ]),
        .executableTarget(name: "vault", dependencies: [
            "Vault", "CommandSupport", "PIICrypto", "Settings",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "fetchde-bench", dependencies: [
            "PIICrypto", "Pipeline", "SQS",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // Build tools: the schema's .sql files become Swift source (one binary per program).
        .executableTarget(name: "fetchde-embed-sql"),
        .plugin(name: "EmbedSQL", capability: .buildTool(), dependencies: ["fetchde-embed-sql"]),

        // Tests.
        .target(name: "TestSupport", dependencies: [
            "Postgres", "Schema", "PIICrypto", "VaultCrypto", "VaultFormat",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "InMemoryLogging", package: "swift-log"),
        ], path: "Tests/TestSupport"),
        .target(name: "PipelineTestSupport", dependencies: [
            "Pipeline", "Postgres", "PIICrypto", "VaultCrypto", "SQS", "Settings", "VaultFormat", "TestSupport",
            .product(name: "Logging", package: "swift-log"),
        ], path: "Tests/PipelineTestSupport"),
        .testTarget(name: "CommandSupportTests", dependencies: [
            "CommandSupport", "PIICrypto", "Pipeline", "Postgres", "SQS", "Schema", "Settings", "VaultFormat",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "PIICryptoTests", dependencies: ["PIICrypto", "VaultCrypto", "TestSupport"], resources: [.copy("Vectors")]),
        .testTarget(name: "SQSTests", dependencies: ["SQS", "PIICrypto", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "PIICrypto", "SQS", "TestSupport"]),
        .testTarget(name: "PostgresIntegrationTests", dependencies: [
            "Postgres", "TestSupport", .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "SQSIntegrationTests", dependencies: ["SQS", "TestSupport"]),
        .testTarget(name: "PipelineIntegrationTests", dependencies: [
            "Pipeline", "Schema", "Postgres", "SQS", "PIICrypto", "VaultCrypto", "TestSupport", "PipelineTestSupport",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], resources: [.copy("Fixtures")]),
        .testTarget(name: "VaultIntegrationTests", dependencies: [
            "Vault", "Pipeline", "Schema", "Postgres", "PIICrypto", "VaultCrypto", "VaultFormat", "TestSupport", "PipelineTestSupport",
        ]),
    ]
)

// One settings loop for every non-system target (as swift-crypto and swift-log do).
for target in package.targets where target.type != .system && target.type != .plugin {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    target.swiftSettings = settings
}
