import Benchmark
import Checksums
import Crypto
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Hashing throughput (MD5, SHA-256, CRC32C, CRC64NVME) over a 64 MiB
/// buffer that stays in memory. Besides the wall time per 64 MiB, each
/// benchmark records "ms/GiB" (wall time scaled to one GiB, the figure
/// issue 10 compares) and "CPU ms/GiB" (the thread's own CPU time, which a
/// busy shared machine inflates less than the wall time).
enum HashBenchmarks {
    static let bufferSize = 64 << 20

    static func register() {
        let buffer = [UInt8](unsafeUninitializedCapacity: bufferSize) { bytes, count in
            var state: UInt64 = 0x9E37_79B9_7F4A_7C15
            for i in 0..<bufferSize {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                bytes[i] = UInt8(truncatingIfNeeded: state >> 56)
            }
            count = bufferSize
        }
        let configuration = Benchmark.Configuration(
            metrics: [.wallClock, msPerGiB, cpuMsPerGiB],
            timeUnits: .milliseconds,
            warmupIterations: 1,
            maxDuration: .seconds(3),
            maxIterations: 20)

        Benchmark("hash MD5 (swift-crypto), 64 MiB", configuration: configuration) { benchmark in
            measure(benchmark) { buffer.withUnsafeBytes { Insecure.MD5.hash(data: $0) } }
        }
        Benchmark("hash SHA-256 (swift-crypto), 64 MiB", configuration: configuration) { benchmark in
            measure(benchmark) { buffer.withUnsafeBytes { SHA256.hash(data: $0) } }
        }
        let crcName = "hash CRC32C (Checksums, \(CRC32C.usesInstruction ? "CPU instruction" : "table: no CRC32 instruction")), 64 MiB"
        Benchmark(crcName, configuration: configuration) { benchmark in
            measure(benchmark) { buffer.withUnsafeBytes { CRC32C.checksum($0) } }
        }
        Benchmark("hash CRC32C portable table, 64 MiB", configuration: configuration) { benchmark in
            measure(benchmark) { buffer.withUnsafeBytes { CRC32C.portableChecksum($0) } }
        }
        Benchmark("hash CRC64NVME (Checksums), 64 MiB", configuration: configuration) { benchmark in
            measure(benchmark) { buffer.withUnsafeBytes { CRC64NVME.checksum($0) } }
        }
    }

    static let msPerGiB = BenchmarkMetric.custom("ms/GiB", polarity: .prefersSmaller, useScalingFactor: false)
    static let cpuMsPerGiB = BenchmarkMetric.custom("CPU ms/GiB", polarity: .prefersSmaller, useScalingFactor: false)

    /// Runs `hash` over the buffer once per iteration and records ms/GiB
    /// of wall and of thread CPU time.
    static func measure<Result>(_ benchmark: Benchmark, _ hash: () -> Result) {
        let scale = Double(1 << 30) / Double(bufferSize) / 1e6
        for _ in benchmark.scaledIterations {
            let (wall, cpu) = (now(CLOCK_MONOTONIC), now(CLOCK_THREAD_CPUTIME_ID))
            blackHole(hash())
            let (wallEnd, cpuEnd) = (now(CLOCK_MONOTONIC), now(CLOCK_THREAD_CPUTIME_ID))
            benchmark.measurement(msPerGiB, Int((Double(wallEnd - wall) * scale).rounded()))
            benchmark.measurement(cpuMsPerGiB, Int((Double(cpuEnd - cpu) * scale).rounded()))
        }
    }

    /// Nanoseconds on `clock`.
    static func now(_ clock: clockid_t) -> Int64 {
        var time = timespec()
        clock_gettime(clock, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}
