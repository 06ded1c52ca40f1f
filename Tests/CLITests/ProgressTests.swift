import Foundation
import Testing

/// Live progress: redrawn on a terminal (a pseudo-terminal from `script`),
/// absent without one, JSON events for machines.
@Suite(.serialized) struct ProgressTests {
    static let workflow = """
        version: 1
        name: slow
        storage:
          disk: { provider: local, root: buckets }
        steps:
          make:
            action: create-bucket
            bucket: disk://slowb
            if-exists: ok
          up:
            action: upload
            needs: [make]
            from: slow.fifo
            to: disk://slowb/slow.bin

        """

    /// A workflow uploading from a FIFO that a background thread feeds in
    /// `chunks` pieces, `delay` apart: a slow transfer with no server.
    static func slowTree(chunks: Int = 16, delay: Double = 0.15) throws -> (ExampleTree, Thread) {
        let tree = try ExampleTree()
        try Data(workflow.utf8).write(to: tree.url("slow.yaml"))
        let fifo = tree.url("slow.fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let feeder = Thread {
            // Blocks until the run opens the FIFO for reading.
            guard let handle = FileHandle(forWritingAtPath: fifo) else { return }
            let chunk = Data(repeating: 0x61, count: 32 * 1024)
            for _ in 0..<chunks {
                handle.write(chunk)
                Thread.sleep(forTimeInterval: delay)
            }
            try? handle.close()
        }
        feeder.start()
        return (tree, feeder)
    }

    /// Runs `bucketflow ARGS` on the pseudo-terminal `script` makes; what
    /// the terminal showed (stdout and stderr together) comes back.
    static func runOnTerminal(_ arguments: [String], in tree: ExampleTree, environment: [String: String] = [:]) throws -> CLIResult {
        let command = ([CLI.binary.path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        var env = ProcessInfo.processInfo.environment
        env["BUCKETFLOW_STATE_DIR"] = tree.url("state").path
        env["BUCKETFLOW_DATA_DIR"] = tree.url("data").path
        env["USER"] = "tester"
        env["TERM"] = "xterm"
        env["COLUMNS"] = "120"
        env["NO_COLOR"] = nil
        for (key, value) in environment { env[key] = value }
        return try CLI.runTool("/usr/bin/script", ["-q", "-e", "-c", command, "/dev/null"], in: tree.root, environment: env)
    }

    static let redraw = "\u{1B}[2A\r\u{1B}[J"

    @Test func redrawsDuringASlowTransferOnATerminal() throws {
        let (tree, _) = try Self.slowTree()
        let result = try Self.runOnTerminal(["run", "slow.yaml"], in: tree)
        #expect(result.status == 0, "\(result.stdout)")
        let screen = result.stdout
        // The block (aggregate line + the active step) is redrawn in place
        // many times before the upload's "ok" line.
        let beforeDone = screen.components(separatedBy: "  ok       up [upload]").first ?? ""
        let redraws = beforeDone.components(separatedBy: Self.redraw).count - 1
        #expect(redraws >= 4, "expected redraws during the ~2.4 s transfer, saw \(redraws):\n\(screen.debugDescription)")
        // The engine announced the step's total (1 object) before the transfer.
        #expect(beforeDone.contains("  up [upload] 0/1 objects, "))
        #expect(beforeDone.contains("1/2 steps"))
        #expect(beforeDone.contains("\u{1B}[36m▶\u{1B}[0m 0/1 objects  "))
        // At most four redraws a second.
        let seconds = try #require(Double(screen.components(separatedBy: "Run succeeded in ").last?.prefix { $0 != "s" } ?? ""))
        let all = screen.components(separatedBy: Self.redraw).count - 1
        #expect(Double(all) <= seconds * 4 + 2, "\(all) redraws in \(seconds)s")
        // The block is gone at the end: the last thing shown is the outcome line.
        let lastLine = screen.split(separator: "\r\n").last.map(String.init) ?? ""
        #expect(lastLine.hasPrefix("Run succeeded in ") && lastLine.contains("Report: \(tree.url("state").path)/runs/"), "\(lastLine.debugDescription)")
        let afterDone = screen.components(separatedBy: "  ok       up [upload]").last ?? ""
        #expect(!afterDone.contains("▶"))
        // The object arrived whole.
        let size = try FileManager.default.attributesOfItem(atPath: tree.url("buckets/slowb/slow.bin").path)[.size] as? Int
        #expect(size == 16 * 32 * 1024)
    }

    @Test func noColorKeepsRedrawsButDropsColour() throws {
        let (tree, _) = try Self.slowTree(chunks: 6)
        let result = try Self.runOnTerminal(["run", "slow.yaml"], in: tree, environment: ["NO_COLOR": "1"])
        #expect(result.status == 0, "\(result.stdout)")
        #expect(result.stdout.contains(Self.redraw))
        #expect(result.stdout.contains("▶ 0/1 objects"))
        #expect(!result.stdout.contains("\u{1B}[36m"))
        #expect(!result.stdout.contains("\u{1B}[0m"))
    }

    @Test func neverOnATerminalPrintsThePlainLines() throws {
        let (tree, _) = try Self.slowTree(chunks: 6)
        let result = try Self.runOnTerminal(["run", "slow.yaml", "--progress", "never"], in: tree)
        #expect(result.status == 0, "\(result.stdout)")
        #expect(!result.stdout.contains("\u{1B}"))
        #expect(!result.stdout.contains("▶"))
    }

    @Test func withoutATerminalOutputIsUnchanged() throws {
        let (tree, _) = try Self.slowTree(chunks: 6)
        let result = try CLI.run(["run", "slow.yaml"], in: tree.root)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stdout.contains("\u{1B}") && !result.stderr.contains("\u{1B}"))
        #expect(!result.stdout.contains("\r") && !result.stderr.contains("\r"))
        #expect(result.stderr.isEmpty)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(lines[0].hasPrefix("run slow ("))
        #expect(lines[1].hasPrefix("  ok       make [create-bucket] "))
        #expect(lines[2].hasPrefix("  ok       up [upload] "))
        #expect(lines[3].hasPrefix("Run succeeded in "))
    }

    @Test func jsonLogsGetPeriodicProgressEvents() throws {
        let (tree, _) = try Self.slowTree(chunks: 24)
        let result = try CLI.run(["run", "slow.yaml", "--log-format", "json", "--progress", "always"], in: tree.root)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stdout.contains("\u{1B}") && !result.stderr.contains("\u{1B}"))
        let events = try result.stdout.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        let progress = events.filter { $0["event"] as? String == "progress" }
        #expect(progress.count >= 2, "one a second during a ~3.6 s upload")
        for event in progress {
            #expect(event["stepsTotal"] as? Int == 2)
            #expect(event["objectsDone"] is Int)
            #expect(event["bytesDone"] is Int)
            #expect(event["bytesPerSecond"] is Int)
            #expect(event["elapsedSeconds"] is NSNumber)
        }
        let active = progress.compactMap { ($0["activeSteps"] as? [[String: Any]])?.first }
        #expect(active.contains { $0["step"] as? String == "up" && $0["action"] as? String == "upload" })
        // Progress events come between the run's start and its end.
        let names = events.compactMap { $0["event"] as? String }
        #expect(names.first == "run-started")
        #expect(names.lastIndex(of: "progress")! < names.firstIndex(of: "run-finished")!)
        // Without --progress (not a terminal): none.
        let (quiet, _) = try Self.slowTree(chunks: 4)
        let plain = try CLI.run(["run", "slow.yaml", "--log-format", "json"], in: quiet.root)
        #expect(plain.status == 0)
        #expect(!plain.stdout.contains("\"event\":\"progress\""))
    }
}
