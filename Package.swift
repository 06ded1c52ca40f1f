// swift-tools-version: 6.1
import Foundation
import PackageDescription

/// The git commit `bucketflow --version` shows: scripts/install sets
/// BUCKETFLOW_GIT_COMMIT; a plain `swift build` says "unknown".
let gitCommit: String = {
    let raw = ProcessInfo.processInfo.environment["BUCKETFLOW_GIT_COMMIT"] ?? ""
    let clean = String(raw.filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }.prefix(64))
    return clean.isEmpty ? "unknown" : clean
}()

let package = Package(
    name: "bucketflow",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "bucketflow", targets: ["bucketflow"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // libyaml through pkg-config (Debian: libyaml-dev).
        .systemLibrary(
            name: "CYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]
        ),
        // YAML text -> node tree where every node keeps its line and column.
        .target(name: "YAML", dependencies: ["CYAML"]),
        // Extended attributes (<sys/xattr.h>), which Glibc's module does not export.
        .systemLibrary(name: "CXattr"),
        // CRC-32C (CPU instruction, table fallback) and CRC-64/NVME in C.
        .target(name: "CChecksum"),
        // Swift face of CChecksum: the cheap checksums transfers verify with.
        .target(name: "Checksums", dependencies: ["CChecksum"]),
        // Storage protocol, the provider registry types, locations and the data:// area.
        .target(name: "Storage", dependencies: [
            "CXattr", "Checksums",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // provider: local (a directory whose sub-directories are buckets).
        .target(name: "LocalProvider", dependencies: ["Storage"]),
        // Credential files (JSON, AWS shared credentials, environment) and redaction.
        .target(name: "Credentials"),
        // AWS Signature Version 4 (header signing, presigned URLs).
        .target(name: "SigV4", dependencies: [
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // The HTTP layer every HTTP provider sends through: pooled client,
        // timeouts and whole-response deadline, retry policy, redaction,
        // streaming file bodies and download temp files.
        .target(name: "HTTPTransport", dependencies: [
            "Storage",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // S3-compatible provider over async-http-client.
        .target(name: "S3", dependencies: [
            "Storage", "SigV4", "HTTPTransport", "Checksums",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOFoundationCompat", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Backblaze B2 native-API provider over async-http-client.
        .target(name: "B2", dependencies: [
            "Storage", "HTTPTransport",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOFoundationCompat", package: "swift-nio"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The one list of providers the CLI wires up: a new provider is a new
        // target and one line in Sources/Providers/BuiltInProviders.swift.
        .target(name: "Providers", dependencies: ["Storage", "LocalProvider", "S3", "B2"]),
        // Cron expressions: parsing and next fire times in IANA zones.
        .target(name: "Cron"),
        // Workflow file model, expressions and validation with file:line:col diagnostics.
        .target(name: "Workflow", dependencies: [
            "YAML", "Cron", "Storage",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // The pure dependency-graph state machine: events in, actions out.
        .target(name: "Scheduler"),
        // Runs a validated workflow: actions, retries, cancellation, report.
        .target(name: "Executor", dependencies: [
            "Workflow", "Scheduler", "Storage", "Credentials", "YAML",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Exports the step graph to Argo Workflows and Kubernetes CronJobs; shard assignment.
        .target(name: "Export", dependencies: ["Workflow"]),
        // Renders run reports and plans for people: a text summary and a standalone HTML page.
        .target(name: "ReportView", dependencies: ["Executor", "Scheduler"]),
        // The git commit embedded at build time (a C define carries a value; Swift's -D cannot).
        .target(name: "CBuildInfo", cSettings: [.define("BUCKETFLOW_GIT_COMMIT", to: gitCommit)]),
        // Command-line front end; the executable only calls into it.
        .target(name: "BucketflowCLI", dependencies: [
            "Executor", "Workflow", "Cron", "Storage", "Providers", "Scheduler", "Export", "ReportView", "CBuildInfo",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "bucketflow", dependencies: ["BucketflowCLI"]),

        .testTarget(name: "YAMLTests", dependencies: ["YAML"]),
        .testTarget(name: "StorageTests", dependencies: ["Storage"]),
        .testTarget(name: "ChecksumsTests", dependencies: ["Checksums"]),
        .testTarget(name: "CredentialsTests", dependencies: ["Credentials"]),
        .testTarget(name: "SigV4Tests", dependencies: ["SigV4"], exclude: ["Fixtures"]),
        .testTarget(name: "S3Tests", dependencies: [
            "S3", "Storage", "SigV4", "HTTPTransport",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOFoundationCompat", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .testTarget(name: "HTTPTransportTests", dependencies: [
            "HTTPTransport", "Storage",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .testTarget(name: "B2Tests", dependencies: [
            "B2", "Storage", "HTTPTransport",
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .testTarget(name: "CronTests", dependencies: ["Cron"], exclude: ["Fixtures"]),
        .testTarget(name: "WorkflowTests", dependencies: ["Workflow", "YAML", "Providers"]),
        .testTarget(name: "SchedulerTests", dependencies: ["Scheduler"]),
        .testTarget(name: "ExecutorTests", dependencies: ["Executor", "Workflow", "Storage", "Scheduler", "Providers"]),
        .testTarget(name: "CLITests", dependencies: ["BucketflowCLI", "Workflow", "Providers"], exclude: ["Scripts"]),
        // One suite, every provider, each built through the registry.
        .testTarget(name: "ConformanceTests", dependencies: ["Providers", "Storage"]),
        .testTarget(name: "ReportViewTests", dependencies: ["ReportView", "Executor", "Workflow", "Scheduler", "Providers"]),
        .testTarget(name: "ExportTests", dependencies: ["Export", "Workflow", "YAML", "Providers"]),
    ]
)

for target in package.targets where target.type != .system && !["CBuildInfo", "CChecksum"].contains(target.name) {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    target.swiftSettings = settings
}

// The libFuzzer target over the workflow loader (scripts/fuzz SECONDS). It is
// declared only when BUCKETFLOW_FUZZ is set, so it is never part of the
// normal build or tests; the script builds it with -sanitize=fuzzer,address.
if Context.environment["BUCKETFLOW_FUZZ"] != nil {
    package.targets.append(.target(name: "CFuzzDriver", path: "Fuzz/CFuzzDriver"))
    package.targets.append(.executableTarget(name: "bucketflow-fuzz", dependencies: ["Workflow", "YAML", "CFuzzDriver"], path: "Fuzz/WorkflowFuzz"))
    package.products.append(.executable(name: "bucketflow-fuzz", targets: ["bucketflow-fuzz"]))
}

// The micro-benchmarks of the hot paths (scripts/microbench, docs/benchmarks.md)
// with ordo-one/benchmark. Like the fuzzer, the dependency and the target are
// declared only when BUCKETFLOW_MICROBENCH is set, so a normal build, the tests
// and CI neither resolve nor build them.
if Context.environment["BUCKETFLOW_MICROBENCH"] != nil {
    package.dependencies.append(.package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]))
    package.targets.append(.executableTarget(
        name: "MicroBenchmarks",
        dependencies: [
            "SigV4", "S3", "Cron", "YAML", "Workflow", "Providers", "Checksums",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Benchmark", package: "benchmark"),
        ],
        path: "Benchmarks/MicroBenchmarks",
        plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
    ))
}
