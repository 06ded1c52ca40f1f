import Foundation
import Testing

/// Issue 12 through the binary: a workflow run step by step with
/// `--only/--state/--run-id` (as Argo runs it, one step per pod) produces
/// the same objects and an equivalent assembled report as one `run`; a
/// sharded step moves every object exactly once; a missing need is refused.
@Suite(.serialized) struct SingleStepRunTests {
    static let order = ["make-bucket", "upload", "listing", "summary", "manifest", "fetch"]

    func stepByStep(_ tree: ExampleTree, state: String, runID: String, file: String = "workflows/daily-exports.yaml", steps: [String] = order, extra: [String] = []) throws {
        for step in steps {
            let result = try CLI.run(["run", file, "--only", step, "--state", state, "--run-id", runID] + extra, in: tree.root)
            #expect(result.status == 0, Comment(rawValue: "\(step): \(result.stdout)\(result.stderr)"))
        }
    }

    func summary(_ report: [String: Any]) -> [String] {
        (report["steps"] as! [[String: Any]]).map { step in
            let counts = step["counts"] as? [String: Any] ?? [:]
            return "\(step["id"]!) \(step["status"]!) transferred=\(counts["transferred"] ?? 0) inspected=\(counts["inspected"] ?? 0) bytes=\(step["bytes"]!)"
        }
    }

    @Test(arguments: ["state-dir", "disk://run-state/runs/"])
    func aWorkflowRunStepByStepEqualsOneRun(state: String) throws {
        let single = try ExampleTree()
        #expect(try CLI.run(["run", "workflows/daily-exports.yaml", "--report", "full.json"], in: single.root).status == 0)
        let full = try single.report("full.json")

        let split = try ExampleTree()
        if state.hasPrefix("disk://") {
            // The state lives in the workflow's own local storage.
            try FileManager.default.createDirectory(at: split.url("var/buckets/run-state"), withIntermediateDirectories: true)
        }
        try stepByStep(split, state: state, runID: "argo-run-1")
        let assembled = try CLI.run(["report", "--state", state, "--run-id", "argo-run-1", "--json", "workflows/daily-exports.yaml"], in: split.root)
        #expect(assembled.status == 0, Comment(rawValue: assembled.stderr))
        let report = try JSONSerialization.jsonObject(with: Data(assembled.stdout.utf8)) as! [String: Any]
        ExampleWorkflowTests.checkSchema(report)
        #expect((report["run"] as? [String: Any])?["status"] as? String == "succeeded")
        #expect(summary(report) == summary(full))
        // The same objects, the same downloaded files.
        func files(_ tree: ExampleTree, _ folder: String) -> [String: Int] { tree.snapshot(folder).filter { !$0.key.hasPrefix(".") } }
        #expect(files(split, "var/buckets/exports") == files(single, "var/buckets/exports"))
        #expect(files(split, "var/out") == files(single, "var/out"))
        #expect(!files(split, "var/out").isEmpty)
    }

    @Test func aStepWhoseNeedsHaveNoRecordedOutcomeIsRefused() throws {
        let tree = try ExampleTree()
        let result = try CLI.run(["run", "workflows/daily-exports.yaml", "--only", "fetch", "--state", "st", "--run-id", "r1"], in: tree.root)
        #expect(result.status == 1)
        #expect(result.stderr.contains("no recorded outcome"))
        #expect(result.stderr.contains("\"upload\""))
        #expect(!FileManager.default.fileExists(atPath: tree.url("var/out").path))
        // Usage: --only needs --state and --run-id; --state needs --only.
        #expect(try CLI.run(["run", "workflows/daily-exports.yaml", "--only", "fetch"], in: tree.root).status == 2)
        #expect(try CLI.run(["run", "workflows/daily-exports.yaml", "--state", "st"], in: tree.root).status == 2)
        #expect(try CLI.run(["run", "workflows/daily-exports.yaml", "--only", "fetch", "--state", "st", "--run-id", "../x"], in: tree.root).status == 2)
        #expect(try CLI.run(["run", "workflows/daily-exports.yaml", "--only", "fetc", "--state", "st", "--run-id", "r1"], in: tree.root).status == 2)
    }

    /// `if:` is evaluated as a full run would: a failed need skips the
    /// default step and runs the `failure()` handler.
    @Test func conditionsSeeTheRecordedOutcomes() throws {
        let tree = try ExampleTree()
        try Data("""
            version: 1
            name: conditions
            storage:
              disk: {provider: local, root: ../var/buckets}
            steps:
              bucket: {action: create-bucket, bucket: "disk://cond-bucket", if-exists: ok}
              broken: {action: inspect, needs: [bucket], at: "disk://cond-bucket/missing.txt"}
              after: {action: create-folder, needs: [broken], at: "disk://cond-bucket/after/"}
              on-failure: {action: create-folder, needs: [broken], if: failure(), at: "disk://cond-bucket/failed/"}
            """.utf8).write(to: tree.url("workflows/conditions.yaml"))
        func only(_ step: String) throws -> Int32 {
            try CLI.run(["run", "workflows/conditions.yaml", "--only", step, "--state", "st", "--run-id", "c1"], in: tree.root).status
        }
        #expect(try only("bucket") == 0)
        #expect(try only("broken") == 1)
        #expect(try only("after") == 0)      // skipped: exit 0, recorded as skipped
        #expect(try only("on-failure") == 0)
        #expect(!FileManager.default.fileExists(atPath: tree.url("var/buckets/cond-bucket/after").path))
        #expect(FileManager.default.fileExists(atPath: tree.url("var/buckets/cond-bucket/failed").path))
        let assembled = try CLI.run(["report", "--state", "st", "--run-id", "c1", "--json", "workflows/conditions.yaml"], in: tree.root)
        let report = try JSONSerialization.jsonObject(with: Data(assembled.stdout.utf8)) as! [String: Any]
        let statuses = Dictionary(uniqueKeysWithValues: (report["steps"] as! [[String: Any]]).map { ($0["id"] as! String, $0["status"] as! String) })
        #expect(statuses == ["bucket": "succeeded", "broken": "failed", "after": "skipped", "on-failure": "succeeded"])
        #expect((report["run"] as? [String: Any])?["status"] as? String == "failed")
    }

    /// A step with `shards: 3` run shard by shard moves every object
    /// exactly once, and the assembled report shows it as one step.
    @Test func shardsTogetherMoveEveryObjectExactlyOnce() throws {
        let tree = try ExampleTree()
        let payload = tree.url("payload")
        try FileManager.default.createDirectory(at: payload, withIntermediateDirectories: true)
        for i in 0..<40 { try Data("object \(i)\n".utf8).write(to: payload.appendingPathComponent("f\(i).txt")) }
        try Data("""
            version: 1
            name: sharded
            storage:
              disk: {provider: local, root: ../var/buckets}
            steps:
              bucket: {action: create-bucket, bucket: "disk://shard-bucket", if-exists: ok}
              push: {action: upload, needs: [bucket], from: ../payload/, to: "disk://shard-bucket/in/", shards: 3}
              count: {action: list, needs: [push], at: "disk://shard-bucket/in/"}
            """.utf8).write(to: tree.url("workflows/sharded.yaml"))
        #expect(try CLI.run(["validate", "workflows/sharded.yaml"], in: tree.root).status == 0)
        let base = ["run", "workflows/sharded.yaml", "--state", "st", "--run-id", "s1"]
        #expect(try CLI.run(base + ["--only", "bucket"], in: tree.root).status == 0)
        for k in 1...3 {
            let shard = try CLI.run(base + ["--only", "push", "--shard", "\(k)/3"], in: tree.root)
            #expect(shard.status == 0, Comment(rawValue: shard.stdout + shard.stderr))
        }
        #expect(try CLI.run(base + ["--only", "count"], in: tree.root).status == 0)
        // Each shard recorded its own share; together exactly the 40 files, none twice.
        var targets: [String] = []
        for k in 1...3 {
            let data = try Data(contentsOf: tree.url("st/s1/push.shard-\(k)-of-3.json"))
            let document = try JSONSerialization.jsonObject(with: data) as! [String: Any]
            let step = document["step"] as! [String: Any]
            let records = step["transfers"] as! [[String: Any]]
            #expect(!records.isEmpty, "shard \(k) moved nothing")
            targets += records.compactMap { $0["target"] as? String }
        }
        #expect(targets.count == 40)
        #expect(Set(targets).count == 40)
        let stored = try FileManager.default.contentsOfDirectory(atPath: tree.url("var/buckets/shard-bucket/in").path).filter { !$0.hasPrefix(".") }
        #expect(stored.count == 40)
        let assembled = try CLI.run(["report", "--state", "st", "--run-id", "s1", "--json", "workflows/sharded.yaml"], in: tree.root)
        let report = try JSONSerialization.jsonObject(with: Data(assembled.stdout.utf8)) as! [String: Any]
        let steps = report["steps"] as! [[String: Any]]
        #expect(steps.map { $0["id"] as! String } == ["bucket", "push", "count"])
        let push = steps[1]
        #expect(push["status"] as? String == "succeeded")
        #expect(push["objects"] as? Int == 40)
        #expect((steps[2]["outputs"] as? [String: Any])?["count"] as? Int == 40)
        // --shard only for steps that move objects.
        #expect(try CLI.run(base + ["--only", "count", "--shard", "1/2"], in: tree.root).status == 2)
        #expect(try CLI.run(base + ["--only", "push", "--shard", "4/3"], in: tree.root).status == 2)
    }
}
