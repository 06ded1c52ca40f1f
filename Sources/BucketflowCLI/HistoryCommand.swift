import ArgumentParser
import Foundation
import Executor
import Scheduler
import Workflow

struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "List recent runs of a workflow (time, status, duration, objects, failed step).",
        discussion: """
            Reads the run history of the workflow (STATE/runs/WORKFLOW-HASH/, where runs with \
            --report are indexed too). Runs are keyed by the workflow's name and real path, so \
            the same file reached through a symbolic link shares its history. A run that holds \
            the workflow's lock right now is shown as running.
            """)

    @Argument(help: "The workflow file.", completion: .file(extensions: ["yaml", "yml"]))
    var file: String

    @Option(help: "How many runs to show.")
    var limit = 20

    @Flag(help: "Print the runs as a JSON array, newest first.")
    var json = false

    func validate() throws {
        if limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    struct Entry: Encodable {
        var runId: String
        var status: String
        var startedAt: String
        var durationSeconds: Double?
        var bytes: Int64?
        var objects: Int?
        var failedStep: String?
        var error: ErrorInfo?
        var report: String?
    }

    func run() throws {
        let workflow: Workflow
        do { workflow = try WorkflowLoader.load(path: file) } catch {
            Console.error(error.description)
            throw ExitCodes.invalid
        }
        var options = RunOptions(dataDirectory: URL(fileURLWithPath: "/"), userName: "")
        options.environment = ProcessInfo.processInfo.environment
        let session = RunSession(workflow: workflow, options: options, events: NullEventSink(), reportPath: nil, keep: nil)
        let history = session.history
        var entries: [Entry] = []
        if let running = WorkflowLock.holder(at: session.stateDirectory.appendingPathComponent("locks").appendingPathComponent("\(session.slug).lock")) {
            entries.append(Entry(runId: running.runID, status: "running", startedAt: running.startedAt, report: nil))
        }
        for url in history.reports().reversed().prefix(limit) {
            guard let data = try? Data(contentsOf: url), let report = try? RunReport.decode(data) else {
                entries.append(Entry(runId: url.deletingPathExtension().lastPathComponent, status: "unreadable", startedAt: "", report: url.path))
                continue
            }
            let failed = report.steps.first { $0.status == .failed }
            entries.append(Entry(runId: report.run.id, status: report.run.status.rawValue, startedAt: report.run.startedAt,
                                 durationSeconds: report.run.durationSeconds, bytes: report.totals.bytes, objects: report.totals.objects,
                                 failedStep: failed?.id, error: failed?.error, report: url.path))
        }
        entries = Array(entries.prefix(limit))
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            Console.out(String(decoding: try encoder.encode(entries), as: UTF8.self))
            return
        }
        guard !entries.isEmpty else {
            Console.out("no runs of \(workflow.name) recorded in \(history.directory.path)")
            return
        }
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
        Console.out(pad("STARTED", 25) + pad("STATUS", 11) + pad("DURATION", 10) + pad("OBJECTS", 9) + pad("BYTES", 11) + pad("FAILED STEP", 16) + "REPORT")
        for entry in entries {
            Console.out(pad(entry.startedAt, 25) + pad(entry.status, 11) + pad(entry.durationSeconds.map { String(format: "%.2fs", $0) } ?? "-", 10)
                        + pad(entry.objects.map(String.init) ?? "-", 9) + pad(entry.bytes.map(ByteCount.format) ?? "-", 11)
                        + pad(entry.failedStep ?? "-", 16) + (entry.report ?? "-"))
        }
    }
}
