import ArgumentParser
import Foundation
import Synchronization
import Executor
import Workflow

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a workflow and write its JSON report.",
        discussion: """
            Without --report, the report goes to the run history: \
            STATE/runs/WORKFLOW-HASH/RUNID.json, with latest.json pointing at the newest; \
            STATE is $BUCKETFLOW_STATE_DIR, else $XDG_STATE_HOME/bucketflow, else \
            ~/.local/state/bucketflow. The last line printed states the outcome and the report path.

            A run takes a per-workflow lock; while another run holds it, the workflow's \
            `overlap:` decides: forbid (default: exit 3 at once), allow, or queue (wait).
            """)

    @OptionGroup var workflowOptions: WorkflowOptions

    @Option(help: ArgumentHelp("Write the report here instead of the run history.", valueName: "path"))
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
            let code = try await PlanCommand.plan(workflow: workflow, options: options, json: false, reportPath: report, detailedExitCode: false, logFormat: workflowOptions.logFormat)
            throw code
        }
        let environment = options.environment
        let state = StateDirectory.resolve(environment: environment)
        let absolute = URL(fileURLWithPath: workflow.file).standardizedFileURL.path
        let slug = StateDirectory.slug(workflowName: workflow.name, absolutePath: absolute)

        // The lock is held until this function returns.
        let lock: WorkflowLock?
        if workflow.overlap == .allow {
            lock = nil
        } else {
            do {
                lock = try WorkflowLock.acquire(
                    at: state.appendingPathComponent("locks").appendingPathComponent("\(slug).lock"),
                    runID: options.runID, startedAt: Timestamps.rfc3339(options.startedAt), wait: workflow.overlap == .queue)
            } catch {
                switch error {
                case .held(let holder):
                    let who = holder.map { "pid \($0.pid), started \($0.startedAt), run \($0.runID)" } ?? "another process"
                    Console.error("bucketflow: \(workflow.file) is already running (\(who)); overlap: forbid — not starting another run")
                    throw ExitCodes.locked
                case .io(let message):
                    Console.error("bucketflow: \(message)")
                    throw ExitCodes.stepFailed
                }
            }
        }
        defer { _ = lock }

        let reporter = ConsoleReporter(format: workflowOptions.logFormat, verbose: verbose)
        let executor = Executor(workflow: workflow, options: options, events: reporter)
        // Install the handler before the run starts, so no signal can arrive
        // unhandled; it cancels the run once the run exists.
        let running = Mutex<Task<RunReport, Never>?>(nil)
        let interrupted = Mutex(false)
        let signals = SignalHandler { _ in
            interrupted.withLock { $0 = true }
            running.withLock { $0?.cancel() }
        }
        let task = Task { await executor.run() }
        running.withLock { $0 = task }
        if interrupted.withLock({ $0 }) { task.cancel() }
        let result = await task.value
        signals.stop()

        let path: URL
        do {
            if let report {
                path = URL(fileURLWithPath: report)
                try ReportWriter.write(result, to: path)
            } else {
                let history = RunHistory(stateDirectory: state, slug: slug)
                path = try history.record(result, keep: keep ?? workflow.keepReports ?? RunHistory.defaultKeep)
            }
        } catch {
            Console.error("bucketflow: could not write the report: \(error.localizedDescription)")
            throw ExitCodes.stepFailed
        }
        let totals = result.totals
        let line = "\(result.run.status == "succeeded" ? "Run succeeded" : result.run.status == "cancelled" ? "Run cancelled" : "Run failed") in \(String(format: "%.2f", result.run.durationSeconds))s: \(totals.succeeded) succeeded, \(totals.failed) failed, \(totals.skipped) skipped\(totals.cancelled > 0 ? ", \(totals.cancelled) cancelled" : ""); \(totals.objects) objects, \(ByteCount.format(totals.bytes)). Report: \(path.path)"
        if workflowOptions.logFormat == .json {
            Console.out(JSONValue.object(["event": "report-written", "status": .string(result.run.status), "report": .string(path.path)]).encoded())
        } else {
            Console.out(line)
        }
        switch result.run.status {
        case "succeeded": return
        case "cancelled": throw ExitCodes.interrupted
        default: throw ExitCodes.stepFailed
        }
    }
}
