import ArgumentParser
import Foundation
import Executor
import Workflow

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a workflow and write its JSON report.",
        discussion: """
            The report goes to the run history: STATE/runs/WORKFLOW-HASH/RUNID.json, with \
            latest.json pointing at the newest; STATE is $BUCKETFLOW_STATE_DIR, else \
            $XDG_STATE_HOME/bucketflow, else ~/.local/state/bucketflow. With --report PATH it is \
            also written to PATH (which must be a regular file or not exist). The last line \
            printed states the outcome and the report path.

            A run takes a per-workflow lock; while another run holds it, the workflow's \
            `overlap:` decides: forbid (default: exit 3 at once), allow, or queue (wait).

            Exit codes: 0 success, 1 a step failed, 2 invalid workflow or usage, 3 locked, \
            130 interrupted (SIGINT/SIGTERM: the report is still written, status cancelled).
            """)

    @OptionGroup var workflowOptions: WorkflowOptions

    @Option(help: ArgumentHelp("Also write the report here (a regular file; its directory must be writable).", valueName: "path"))
    var report: String?

    @Flag(name: .customLong("dry-run"), help: "Plan only: show what would happen and write nothing (same as `bucketflow plan`).")
    var dryRun = false

    @Option(help: ArgumentHelp("Reports to keep in the run history (default: the workflow's `keep:`, else 50).", valueName: "n"))
    var keep: Int?

    @Flag(name: .shortAndLong, help: "Print every object as it moves.")
    var verbose = false

    func validate() throws {
        if let keep, keep < 1 { throw ValidationError("--keep must be at least 1") }
    }

    func run() async throws {
        let workflow = try workflowOptions.loadWorkflow()
        let options = try workflowOptions.runOptions(for: workflow, dryRun: dryRun)
        if dryRun {
            throw try await PlanCommand.plan(workflow: workflow, options: options, json: false, reportPath: report, detailedExitCode: false, logFormat: workflowOptions.logFormat)
        }
        let session = RunSession(workflow: workflow, options: options, events: ConsoleReporter(format: workflowOptions.logFormat, verbose: verbose, progress: workflowOptions.progress),
                                 reportPath: report.map { URL(fileURLWithPath: $0) }, keep: keep)
        do { try session.preflight() } catch {
            Console.error("bucketflow: \(error)")
            throw ExitCodes.invalid
        }
        let result = await Interruptible.run { cancellation in await session.run(cancellation: cancellation) }
        if let message = result.message { Console.error("bucketflow: \(message)") }
        if let report = result.report, let path = result.reportPath {
            if workflowOptions.logFormat == .json {
                Console.out(JSONValue.object(["event": "report-written", "status": .string(report.run.status.rawValue), "report": .string(path.path), "exitCode": .number(Double(result.exitStatus.rawValue))]).encoded())
            } else {
                Console.out(Self.outcomeLine(report, path: path.path))
            }
        }
        throw ExitCode(result.exitStatus.rawValue)
    }

    /// `Run failed in 1.20s: 2 succeeded, 1 failed, 0 skipped; 3 objects (1.2 MiB), 2 failed. Report: PATH`
    static func outcomeLine(_ report: RunReport, path: String) -> String {
        let totals = report.totals
        let verdict: String
        switch report.run.status {
        case .succeeded: verdict = "Run succeeded"
        case .cancelled: verdict = "Run cancelled"
        default: verdict = "Run failed"
        }
        var objects = "\(plural(totals.objects, "object")) transferred (\(ByteCount.format(totals.bytes)))"
        if totals.objectsUnchanged > 0 { objects += ", \(totals.objectsUnchanged) unchanged" }
        if totals.objectsFailed > 0 { objects += ", \(totals.objectsFailed) failed" }
        if totals.objectsRefused > 0 { objects += ", \(totals.objectsRefused) refused" }
        if totals.objectsCancelled > 0 { objects += ", \(totals.objectsCancelled) cancelled" }
        return "\(verdict) in \(String(format: "%.2f", report.run.durationSeconds))s: \(totals.succeeded) succeeded, \(totals.failed) failed, \(totals.skipped) skipped\(totals.cancelled > 0 ? ", \(totals.cancelled) cancelled" : ""); \(objects). Report: \(path)"
    }
}

/// "1 object", "2 objects".
func plural(_ count: Int, _ word: String) -> String {
    "\(count) \(word)\(count == 1 ? "" : "s")"
}

/// Runs work that SIGINT/SIGTERM cancel: the handler is installed before the
/// work starts, so no signal arrives unhandled.
enum Interruptible {
    static func run<T: Sendable>(_ work: @escaping @Sendable (RunCancellation) async -> T) async -> T {
        let cancellation = RunCancellation()
        let signals = SignalHandler { _ in cancellation.cancel() }
        defer { signals.stop() }
        return await work(cancellation)
    }
}
