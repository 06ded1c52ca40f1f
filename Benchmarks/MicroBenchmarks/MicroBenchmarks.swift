import Benchmark

// Micro-benchmarks for bucketflow's hot paths (issue 10, item 7).
// Run them with scripts/microbench; docs/benchmarks.md explains the table.
// These are not tests: nothing here asserts a time.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        timeUnits: .nanoseconds,
        warmupIterations: 3,
        maxDuration: .seconds(2),
        maxIterations: 10_000
    )
    SigV4Benchmarks.register()
    ListingBenchmarks.register()
    CronBenchmarks.register()
    WorkflowBenchmarks.register()
    ExpressionBenchmarks.register()
    HashBenchmarks.register()
}
