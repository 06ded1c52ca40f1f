import Foundation
import Testing

/// Every workflow in workflows/ that runs on the local provider is run here,
/// by the real binary, and its report checked against the brief's schema.
@Suite(.serialized) struct ExampleWorkflowTests {
    static let secret = "K000c1ab70e8f7c67cf9d59128e3a3c"

    /// The fields the product brief promises in every report.
    static func checkSchema(_ report: [String: Any]) {
        #expect(report["reportVersion"] as? Int == 2)
        #expect(report["bucketflowVersion"] as? String != nil)
        let workflow = report["workflow"] as? [String: Any] ?? [:]
        for key in ["name", "file", "sha256"] { #expect(workflow[key] != nil, "workflow.\(key)") }
        let run = report["run"] as? [String: Any] ?? [:]
        for key in ["id", "status", "dryRun", "startedAt", "finishedAt", "durationSeconds", "exitCode", "vars"] { #expect(run[key] != nil, "run.\(key)") }
        let steps = report["steps"] as? [[String: Any]] ?? []
        #expect(!steps.isEmpty)
        for step in steps {
            for key in ["id", "action", "status", "needs", "attempts", "bytes", "objects", "counts", "outputs", "transfers"] {
                #expect(step[key] != nil, "steps[].\(key)")
            }
            for record in step["transfers"] as? [[String: Any]] ?? [] {
                #expect(["transferred", "unchanged", "failed", "refused", "cancelled", "planned", "inspected"].contains(record["outcome"] as? String ?? ""), "outcome of \(record)")
                if record["outcome"] as? String == "failed" || record["outcome"] as? String == "refused" {
                    #expect((record["error"] as? [String: Any])?["code"] as? String != nil, "error of \(record)")
                }
            }
            // Every step's times lie inside its run's.
            if let started = step["startedAt"] as? String, let finished = step["finishedAt"] as? String,
               let runStarted = run["startedAt"] as? String, let runFinished = run["finishedAt"] as? String {
                #expect(runStarted <= started && started <= finished && finished <= runFinished, "step \(step["id"] ?? "") \(started)…\(finished) outside its run \(runStarted)…\(runFinished)")
            }
            if step["status"] as? String != "skipped" && step["status"] as? String != "cancelled" {
                for key in ["startedAt", "finishedAt", "durationSeconds"] { #expect(step[key] != nil, "steps[].\(key)") }
            }
        }
        let totals = report["totals"] as? [String: Any] ?? [:]
        for key in ["steps", "succeeded", "failed", "skipped", "bytes", "objects", "objectsUnchanged", "objectsFailed", "objectsRefused", "objectsCancelled"] { #expect(totals[key] != nil, "totals.\(key)") }
        // Millisecond timestamps.
        #expect((run["startedAt"] as? String)?.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"#, options: .regularExpression) != nil)
    }

    @Test func originWorkflowRunsOnTheLocalProvider() throws {
        let tree = try ExampleTree()
        try tree.prepareDataArea()
        let result = try CLI.run(["run", "workflows/origin-local.yaml", "--data-dir", "data", "--report", "report.json"], in: tree.root)
        #expect(result.status == 0, Comment(rawValue: "\(result.stdout)\n\(result.stderr)"))
        let report = try tree.report("report.json")
        Self.checkSchema(report)
        #expect((report["run"] as? [String: Any])?["status"] as? String == "succeeded")
        #expect(FileManager.default.fileExists(atPath: tree.url("var/buckets/some-bucket-name/remotefolder/remotefile.png").path))
        #expect(try Data(contentsOf: tree.url("var/out/remotefile.png")) == Data(contentsOf: tree.url("samples/data/somecollection/somefile.png")))
        #expect(result.stdout.contains("Run succeeded"))
        #expect(result.stdout.hasSuffix("Report: \(tree.url("report.json").path)\n"))
        // The secret never leaves the credentials file.
        let reportText = try String(contentsOf: tree.url("report.json"), encoding: .utf8)
        for text in [result.stdout, result.stderr, reportText] { #expect(!text.contains(Self.secret)) }
    }

    @Test func dailyExportsFansOutAndRerunsIdempotently() throws {
        let tree = try ExampleTree()
        let first = try CLI.run(["run", "workflows/daily-exports.yaml", "--report", "r1.json"], in: tree.root)
        #expect(first.status == 0, Comment(rawValue: "\(first.stdout)\n\(first.stderr)"))
        let report = try tree.report("r1.json")
        Self.checkSchema(report)
        let steps = report["steps"] as! [[String: Any]]
        #expect(steps.allSatisfy { $0["status"] as? String == "succeeded" })
        let second = try CLI.run(["run", "workflows/daily-exports.yaml", "--report", "r2.json"], in: tree.root)
        #expect(second.status == 0, Comment(rawValue: second.stderr))
        let upload = (try tree.report("r2.json")["steps"] as! [[String: Any]]).first { $0["id"] as? String == "upload" }!
        #expect((upload["counts"] as? [String: Any])?["transferred"] as? Int == 0)
        #expect((upload["counts"] as? [String: Any])?["unchanged"] as? Int == 4)
        #expect((upload["transfers"] as? [[String: Any]])?.allSatisfy { $0["outcome"] as? String == "unchanged" } == true)
    }

    @Test func failureHandlingSkipsContinuesAndCleansUp() throws {
        let tree = try ExampleTree()
        let result = try CLI.run(["run", "workflows/failure-handling.yaml", "--report", "r.json"], in: tree.root)
        #expect(result.status == 1)
        let report = try tree.report("r.json")
        Self.checkSchema(report)
        let steps = Dictionary(uniqueKeysWithValues: (report["steps"] as! [[String: Any]]).map { ($0["id"] as! String, $0) })
        #expect(steps["optional-check"]?["status"] as? String == "failed")
        #expect(steps["verify"]?["status"] as? String == "failed")
        #expect(steps["verify"]?["attempts"] as? Int == 2)
        #expect(steps["publish"]?["status"] as? String == "skipped")
        #expect(steps["publish"]?["skipReason"] as? String == "needs 'verify' failed")
        #expect(steps["clean-up"]?["status"] as? String == "succeeded")
        #expect(result.stderr.contains("FAILED   verify [inspect]"))
        #expect(result.stdout.contains("Run failed"))
    }

    @Test func everyExampleValidates() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: CLI.packageRoot.appendingPathComponent("workflows").path).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(files.count >= 3)
        let result = try CLI.run(["validate"] + files.map { "workflows/\($0)" }, in: CLI.packageRoot)
        #expect(result.status == 0, Comment(rawValue: result.stderr))
    }
}
