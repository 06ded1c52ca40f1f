import Foundation
import XCTest
import B2
import Storage

/// Timings against the test front, next to the real b2 CLI doing the same:
/// 1000 small files up and down, one 100 MB file up and down. Runs only
/// with BUCKETFLOW_B2_BENCH=1 (it takes a while and measures the machine).
final class B2Benchmark: XCTestCase {
    func testThousandSmallFilesAndOneLargeAgainstTheCLI() async throws {
        guard ProcessInfo.processInfo.environment["BUCKETFLOW_B2_BENCH"] == "1" else {
            throw XCTSkip("set BUCKETFLOW_B2_BENCH=1 to run the B2 benchmark")
        }
        let server = try B2TestServer.fromEnvironment()
        let storage = try server.storage()
        let scratch = try Scratch()
        let bucket = B2TestServer.bucketName("bench")
        try await storage.createBucket(bucket)
        let account = scratch.path("account.sqlite")
        let small = scratch.path("small")
        try FileManager.default.createDirectory(at: small, withIntermediateDirectories: true)
        for index in 0..<1000 {
            try Scratch.bytes(1024, seed: UInt64(index + 1)).write(to: small.appendingPathComponent(String(format: "f%04d.bin", index)))
        }
        let big = try scratch.file("big.bin", Scratch.bytes(100_000_000, seed: 11))
        let concurrency = 16

        func time(_ label: String, _ body: () async throws -> Void) async rethrows -> Double {
            let start = Date()
            try await body()
            let seconds = Date().timeIntervalSince(start)
            print(String(format: "B2 benchmark: %-44@ %7.2f s", label as NSString, seconds))
            return seconds
        }

        let names = (0..<1000).map { String(format: "f%04d.bin", $0) }
        _ = try await time("bucketflow: upload 1000 x 1 KiB (16 at once)") {
            _ = try await forEach(names, limit: concurrency) { name in
                _ = try await storage.upload(from: small.appendingPathComponent(name), bucket: bucket, key: "bf/\(name)", options: PutOptions())
            }
        }
        let bfDown = scratch.path("bf-down")
        try FileManager.default.createDirectory(at: bfDown, withIntermediateDirectories: true)
        _ = try await time("bucketflow: download 1000 x 1 KiB (16 at once)") {
            _ = try await forEach(names, limit: concurrency) { name in
                _ = try await storage.download(bucket: bucket, key: "bf/\(name)", to: bfDown.appendingPathComponent(name))
            }
        }
        _ = try await time("bucketflow: upload 100 MB") {
            _ = try await storage.upload(from: big, bucket: bucket, key: "bf/big.bin", options: PutOptions())
        }
        _ = try await time("bucketflow: download 100 MB") {
            _ = try await storage.download(bucket: bucket, key: "bf/big.bin", to: scratch.path("bf-big.out"))
        }
        XCTAssertEqual(try Data(contentsOf: scratch.path("bf-big.out")), try Data(contentsOf: big))

        _ = try await time("b2 CLI: sync up 1000 x 1 KiB (--threads 16)") {
            try server.b2(["sync", "--no-progress", "--threads", "16", small.path, "b2://\(bucket)/cli"], accountInfo: account)
        }
        let cliDown = scratch.path("cli-down")
        _ = try await time("b2 CLI: sync down 1000 x 1 KiB (--threads 16)") {
            try server.b2(["sync", "--no-progress", "--threads", "16", "b2://\(bucket)/cli", cliDown.path], accountInfo: account)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cliDown.path).count, 1000)
        _ = try await time("b2 CLI: upload 100 MB") {
            try server.b2(["file", "upload", "--no-progress", bucket, big.path, "cli/big.bin"], accountInfo: account)
        }
        _ = try await time("b2 CLI: download 100 MB") {
            try server.b2(["file", "download", "--no-progress", "b2://\(bucket)/cli/big.bin", scratch.path("cli-big.out").path], accountInfo: account)
        }
        XCTAssertEqual(try Data(contentsOf: scratch.path("cli-big.out")), try Data(contentsOf: big))

        let all = try await storage.listAll(bucket: bucket, prefix: "")
        _ = try await storage.delete(bucket: bucket, keys: all.map(\.key))
        try await storage.deleteBucket(bucket)
        try await storage.shutdown()
    }
}

/// Runs `body` for each element, at most `limit` at once.
func forEach<T: Sendable>(_ items: [T], limit: Int, _ body: @escaping @Sendable (T) async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        var next = 0
        for _ in 0..<min(limit, items.count) {
            let item = items[next]; next += 1
            group.addTask { try await body(item) }
        }
        while try await group.next() != nil {
            if next < items.count {
                let item = items[next]; next += 1
                group.addTask { try await body(item) }
            }
        }
    }
}
