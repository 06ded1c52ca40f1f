import Foundation
import Testing

/// The command-line contract: exit codes, messages, plans that write
/// nothing, locks, signals and secrets.
@Suite(.serialized) struct CommandTests {
    @Test func validateReportsFileLineColumnAndExits2() throws {
        let tree = try ExampleTree()
        try Data("version: 1\nname: x\nsteps:\n  a:\n    action: lsit\n".utf8).write(to: tree.url("bad.yaml"))
        let result = try CLI.run(["validate", "bad.yaml", "workflows/daily-exports.yaml"], in: tree.root)
        #expect(result.status == 2)
        #expect(result.stderr == "bad.yaml:5:13: unknown action \"lsit\" in step \"a\" (did you mean \"list\"?)\n")
        #expect(result.stdout == "workflows/daily-exports.yaml: valid (6 steps)\n")
    }

    @Test func runOfAnInvalidWorkflowExits2WithoutTouchingAnything() throws {
        let tree = try ExampleTree()
        try Data("version: 1\nname: x\nsteps: [1]\n".utf8).write(to: tree.url("bad.yaml"))
        let result = try CLI.run(["run", "bad.yaml"], in: tree.root)
        #expect(result.status == 2)
        #expect(result.stderr == "bad.yaml:3:8: `steps` must be a mapping of step ids to steps, found a sequence\n")
        #expect(!FileManager.default.fileExists(atPath: tree.url("state").path))
    }

    @Test func unknownVarIsAUsageError() throws {
        let tree = try ExampleTree()
        let result = try CLI.run(["run", "workflows/daily-exports.yaml", "--var", "buckt=x"], in: tree.root)
        #expect(result.status == 2)
        #expect(result.stderr == "bucketflow: --var buckt: the workflow declares no variable \"buckt\" (did you mean \"bucket\"?); declared: bucket\n")
    }

    @Test func planWritesNothingAndShowsWavesAndASummary() throws {
        let tree = try ExampleTree()
        let before = tree.snapshot()
        let result = try CLI.run(["plan", "workflows/daily-exports.yaml", "--detailed-exitcode"], in: tree.root)
        #expect(result.status == 2, Comment(rawValue: result.stderr))
        #expect(tree.snapshot() == before)
        #expect(result.stdout.contains("wave 1:\n  make-bucket [create-bucket]\n    create bucket disk://exports\n"))
        #expect(result.stdout.contains("wave 2:\n  upload [upload] (after make-bucket)\n    upload 4 objects (521 B) to disk://exports/daily/"))
        // The download after the upload sees the planned objects (the plan follows its own order).
        #expect(result.stdout.hasSuffix("Plan: 1 bucket to create, 4 objects (521 B) to upload, 4 objects (521 B) to download, 0 unchanged, 0 to delete\n"))
    }

    @Test func planAfterARunHasNothingToDo() throws {
        let tree = try ExampleTree()
        #expect(try CLI.run(["run", "workflows/daily-exports.yaml"], in: tree.root).status == 0)
        let before = tree.snapshot()
        let result = try CLI.run(["plan", "workflows/daily-exports.yaml", "--detailed-exitcode"], in: tree.root)
        #expect(result.status == 0, Comment(rawValue: result.stdout + result.stderr))
        #expect(tree.snapshot() == before)
        #expect(result.stdout.hasSuffix("Plan: 0 buckets to create, 0 objects (0 B) to upload, 8 unchanged, 0 to delete\n"))
    }

    @Test func planJSONHasTheReportSchema() throws {
        let tree = try ExampleTree()
        let result = try CLI.run(["plan", "workflows/daily-exports.yaml", "--json"], in: tree.root)
        #expect(result.status == 0, Comment(rawValue: result.stderr))
        let report = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        ExampleWorkflowTests.checkSchema(report)
        #expect((report["run"] as? [String: Any])?["status"] as? String == "planned")
        #expect((report["run"] as? [String: Any])?["dryRun"] as? Bool == true)
        let steps = report["steps"] as! [[String: Any]]
        #expect(steps.allSatisfy { $0["status"] as? String == "planned" })
        let upload = steps.first { $0["id"] as? String == "upload" }!
        #expect((upload["transfers"] as? [[String: Any]])?.count == 4)
    }

    @Test func historyListsRunsAndKeepPrunes() throws {
        let tree = try ExampleTree()
        for _ in 0..<3 {
            #expect(try CLI.run(["run", "workflows/failure-handling.yaml", "--keep", "2"], in: tree.root).status == 1)
        }
        let history = try CLI.run(["history", "workflows/failure-handling.yaml"], in: tree.root)
        #expect(history.status == 0)
        let lines = history.stdout.split(separator: "\n")
        #expect(lines.count == 3)  // header + 2 kept runs
        #expect(lines.dropFirst().allSatisfy { $0.contains(" failed ") })
        let directory = tree.url("state/runs")
        let slug = try FileManager.default.contentsOfDirectory(atPath: directory.path).first!
        let latest = try FileManager.default.destinationOfSymbolicLink(atPath: directory.appendingPathComponent(slug).appendingPathComponent("latest.json").path)
        #expect(lines[1].hasSuffix(latest))  // newest first
        #expect(lines.dropFirst().allSatisfy { $0.contains(" optional-check ") })  // the failed step
    }

    @Test func jsonLogFormatPrintsOneObjectPerLine() throws {
        let tree = try ExampleTree()
        let result = try CLI.run(["run", "workflows/daily-exports.yaml", "--log-format", "json"], in: tree.root)
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count >= 8)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["event"] is String, "\(line)")
        }
    }

    @Test func secondRunIsRefusedWhileTheFirstHoldsTheLockAndAKilledRunLeavesNoStaleLock() throws {
        let tree = try ExampleTree()
        let feeder = try makeSlowWorkflow(tree)
        let (first, out, err) = try CLI.start(["run", "slow.yaml"], in: tree.root)
        try waitForTemporaryFile(tree)
        let second = try CLI.run(["run", "slow.yaml"], in: tree.root)
        #expect(second.status == 3)
        #expect(second.stderr.contains("slow.yaml is already running (pid \(first.processIdentifier), started "), Comment(rawValue: second.stderr))
        kill(first.processIdentifier, SIGKILL)
        _ = CLI.finish(first, out, err)
        // SIGKILL cannot be caught: its temporary file stays, but never under the real name.
        #expect(!FileManager.default.fileExists(atPath: tree.url("var/buckets/slow-bucket/stream.bin").path))
        for name in temporaryFiles(tree) { try FileManager.default.removeItem(at: tree.url(name)) }
        // The kernel released the flock with the process: the next run starts.
        let (fourth, out4, err4) = try CLI.start(["run", "slow.yaml"], in: tree.root)
        try waitForTemporaryFile(tree)
        kill(fourth.processIdentifier, SIGINT)
        feeder.feed(until: { !fourth.isRunning })
        let interrupted = CLI.finish(fourth, out4, err4)
        #expect(interrupted.status == 130, Comment(rawValue: interrupted.stdout + interrupted.stderr))
        #expect(interrupted.stdout.contains("Run cancelled"))
        #expect(!FileManager.default.fileExists(atPath: tree.url("var/buckets/slow-bucket/stream.bin").path))
        #expect(temporaryFiles(tree).isEmpty)
        let reportPath = interrupted.stdout.components(separatedBy: "Report: ").last!.trimmingCharacters(in: .whitespacesAndNewlines)
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: reportPath))) as! [String: Any]
        #expect((report["run"] as? [String: Any])?["status"] as? String == "cancelled")
    }

    @Test func secretsNeverReachOutputEvenWhenThingsFail() throws {
        let tree = try ExampleTree()
        let secret = "Sup3r-Secret-Application-Key-9f8e7d"
        try tree.prepareDataArea(secret: secret)
        // Make the upload fail after the credentials were loaded.
        try FileManager.default.removeItem(at: tree.url("data/tester/somecollection/somefile.png"))
        let result = try CLI.run(["run", "workflows/origin-local.yaml", "--data-dir", "data", "--report", "r.json", "--log-format", "json"], in: tree.root)
        #expect(result.status == 1)
        let report = try String(contentsOf: tree.url("r.json"), encoding: .utf8)
        for text in [result.stdout, result.stderr, report] { #expect(!text.contains(secret)) }
        #expect(report.contains("\"key_id\""))
    }

    @Test func looseCredentialsAreRefusedByTheRun() throws {
        let tree = try ExampleTree()
        try tree.prepareDataArea(mode: 0o640)
        let result = try CLI.run(["run", "workflows/origin-local.yaml", "--data-dir", "data"], in: tree.root)
        #expect(result.status == 1)
        #expect(result.stderr.contains("credentials.json"))
        #expect(result.stderr.contains("chmod 600"))
        #expect(!result.stderr.contains("K000c1ab70e8f7c67cf9d59128e3a3c"))
    }

    // MARK: helpers

    /// A workflow whose upload reads from a named pipe, so it stays in
    /// flight until the test feeds or stops it.
    func makeSlowWorkflow(_ tree: ExampleTree) throws -> PipeFeeder {
        let fifo = tree.url("stream.bin")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        try Data("""
            version: 1
            name: slow
            storage:
              disk: {provider: local, root: var/buckets}
            steps:
              bucket: {action: create-bucket, bucket: "disk://slow-bucket", if-exists: ok}
              push: {action: upload, needs: [bucket], from: stream.bin, to: "disk://slow-bucket/stream.bin"}
            """.utf8).write(to: tree.url("slow.yaml"))
        return PipeFeeder(path: fifo.path)
    }

    func temporaryFiles(_ tree: ExampleTree) -> [String] {
        tree.snapshot().keys.filter { ($0 as NSString).lastPathComponent.hasPrefix(".bucketflow-tmp-") }
    }

    func waitForTemporaryFile(_ tree: ExampleTree) throws {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let names = try? FileManager.default.contentsOfDirectory(atPath: tree.url("var/buckets/slow-bucket").path),
               names.contains(where: { $0.hasPrefix(".bucketflow-tmp-") }) { return }
            usleep(5000)
        }
        Issue.record("the download never started")
    }
}

/// The writing end of a named pipe (opened read-write so opening never blocks).
final class PipeFeeder {
    let fd: Int32
    let chunk = [UInt8](repeating: 1, count: 4096)

    init(path: String) {
        fd = open(path, O_RDWR)
        // Never block the feeder when the reader has stopped (the pipe fills up).
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        _ = write(fd, chunk, chunk.count)
    }

    deinit { close(fd) }

    /// Writes a chunk every 20 ms, so a blocked reader wakes and notices it was
    /// cancelled, until `done` or 10 s.
    func feed(until done: () -> Bool) {
        let deadline = Date().addingTimeInterval(10)
        while !done() && Date() < deadline {
            _ = write(fd, chunk, chunk.count)
            usleep(20_000)
        }
    }
}

/// `schedule --next` and `cron`: what users check before trusting a schedule.
struct ScheduleCommandTests {
    @Test func nextPrintsFireTimesWithOffsets() throws {
        let tree = try ExampleTree()
        try Data("""
            version: 1
            name: nightly
            schedule:
              - {cron: "30 2 * * *", timezone: Europe/Berlin}
            storage:
              disk: {provider: local, root: var/buckets}
            steps:
              look: {action: list, at: "disk://some-bucket/"}
            """.utf8).write(to: tree.url("nightly.yaml"))
        let result = try CLI.run(["schedule", "--next", "3", "nightly.yaml"], in: tree.root)
        #expect(result.status == 0, Comment(rawValue: result.stderr))
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        for line in lines {
            #expect(line.range(of: #"^\d{4}-\d\d-\d\dT02:30:00\+0[12]:00$"#, options: .regularExpression) != nil, Comment(rawValue: line))
        }
    }

    @Test func cronPrintsAbsolutePathsAndALogFile() throws {
        let tree = try ExampleTree()
        let result = try CLI.run(["cron", "workflows/daily-exports.yaml"], in: tree.root)
        #expect(result.status == 0, Comment(rawValue: result.stderr))
        let entry = try #require(result.stdout.split(separator: "\n").first { $0.hasPrefix("30 2 * * * ") })
        #expect(entry.contains("BUCKETFLOW_STATE_DIR=\(tree.url("state").path) USER=tester \(CLI.binary.path) run \(tree.url("workflows/daily-exports.yaml").path) --data-dir \(tree.url("data").path) >> "))
        #expect(entry.hasSuffix(".log 2>&1"))
        #expect(entry.contains(tree.url("state/logs").path))
    }

    @Test func aWorkflowWithoutScheduleIsAUsageError() throws {
        let tree = try ExampleTree()
        let result = try CLI.run(["cron", "workflows/origin-local.yaml"], in: tree.root)
        #expect(result.status == 2)
        #expect(result.stderr.contains("has no `schedule:`"))
    }

    @Test func theForegroundSchedulerStopsCleanlyOnSIGTERM() throws {
        let tree = try ExampleTree()
        let (process, out, err) = try CLI.start(["schedule", "workflows/daily-exports.yaml"], in: tree.root)
        // Wait for the first line: by then the signal handlers are installed.
        var early = Data()
        while !String(decoding: early, as: UTF8.self).contains("\n") && process.isRunning {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            early.append(chunk)
        }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            Issue.record("bucketflow schedule did not exit within 20 s of SIGTERM")
        }
        var result = CLI.finish(process, out, err)
        result.stdout = String(decoding: early, as: UTF8.self) + result.stdout
        #expect(result.status == 0, Comment(rawValue: result.stdout + result.stderr))
        #expect(result.stdout.contains("scheduling daily-exports (workflows/daily-exports.yaml): \"30 2 * * *\" in UTC, next "))
        #expect(result.stdout.contains("stopping: signal 15"))
        // One time format on every line: ISO 8601 with the zone's offset.
        for line in result.stdout.split(separator: "\n") {
            #expect(line.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d "#, options: .regularExpression) != nil, Comment(rawValue: String(line)))
        }
    }
}
