import Foundation
import Testing

/// Retries through scripts/fault_proxy.py, which scripts/s3-test-servers
/// puts in front of rclone and which answers every third request with
/// `503 SlowDown`: transfers restart cleanly, the bytes arrive intact, and
/// the report counts the retries.
@Suite(.serialized) struct RetryTests {
    static let faulty: [String] = {
        let env = ProcessInfo.processInfo.environment
        guard let endpoint = env["BUCKETFLOW_TEST_S3_FAULTY_ENDPOINT"] else {
            print("retry tests SKIPPED: no fault proxy; run `scripts/s3-test-servers start` (CI does).")
            return []
        }
        return [endpoint]
    }()

    @Test func faultProxyIsConfiguredInCI() {
        if ProcessInfo.processInfo.environment["CI"] != nil {
            #expect(!Self.faulty.isEmpty, "CI must run the retry tests: scripts/test starts the fault proxy")
        }
    }

    @Test(.enabled(if: !faulty.isEmpty, "no fault proxy: run scripts/s3-test-servers start"), arguments: faulty)
    func slowDownIsRetriedAndCounted(endpoint: String) throws {
        let env = ProcessInfo.processInfo.environment
        let key = try #require(env["BUCKETFLOW_TEST_S3_RCLONE_ACCESS_KEY"])
        let secret = try #require(env["BUCKETFLOW_TEST_S3_RCLONE_SECRET_KEY"])
        let tree = try ExampleTree()
        let files = tree.url("payload")
        try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
        for i in 0..<20 { try Data("file \(i)\n".utf8).write(to: files.appendingPathComponent("f\(i).txt")) }
        // 12 MiB: goes up in three 5 MiB parts and comes down in ranges.
        let big = Data((0..<(12 << 20)).map { UInt8(truncatingIfNeeded: $0 >> 12) })
        try big.write(to: files.appendingPathComponent("big.bin"))
        let bucket = "bf-retry-\(UUID().uuidString.lowercased().prefix(10))"
        try Data("""
            version: 1
            name: retry
            storage:
              s3:
                provider: s3
                endpoint: \(endpoint)
                credentials: creds
                multipart-threshold: 6MiB
                part-size: 5MiB
                max-attempts: 6
            steps:
              creds: {action: load-credentials, env-prefix: RETRY_}
              bucket: {action: create-bucket, bucket: "s3://\(bucket)", if-exists: ok}
              up: {action: upload, needs: [bucket], from: payload/, to: "s3://\(bucket)/p/"}
              down: {action: download, needs: [up], from: "s3://\(bucket)/p/", to: back/}
              clean: {action: delete-bucket, needs: [down], bucket: "s3://\(bucket)", force: true}
            """.utf8).write(to: tree.url("retry.yaml"))
        let result = try CLI.run(["run", "retry.yaml", "--report", "r.json"], in: tree.root,
                                 environment: ["RETRY_KEY_ID": key, "RETRY_APPLICATION_KEY": secret])
        #expect(result.status == 0, Comment(rawValue: result.stdout + result.stderr))
        #expect(try Data(contentsOf: tree.url("back/big.bin")) == big)
        for i in 0..<20 { #expect(try String(contentsOf: tree.url("back/f\(i).txt"), encoding: .utf8) == "file \(i)\n") }
        let steps = try tree.report("r.json")["steps"] as! [[String: Any]]
        let up = steps.first { $0["id"] as? String == "up" }!
        let down = steps.first { $0["id"] as? String == "down" }!
        #expect((up["retries"] as? Int ?? 0) > 0)
        #expect((down["retries"] as? Int ?? 0) > 0)
        #expect(up["attempts"] as? Int == 1)  // retried per request, not per step
    }
}
