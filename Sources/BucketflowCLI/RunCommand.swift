import ArgumentParser
import Foundation
import Executor
import Workflow
import Storage
import Scheduler

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

            --only STEP --state LOCATION --run-id ID runs one step of a run, as engines that \
            run each step in its own pod do (see `bucketflow export argo` and docs/argo.md): the \
            outcomes and outputs of the steps it needs are read from the state, its `if:` is \
            evaluated as in a full run, and its own outcome is recorded atomically. It exits 1 \
            when a needed step has no recorded outcome. `bucketflow report --state LOCATION \
            --run-id ID FILE` assembles the run's report.
            """)

    @OptionGroup var workflowOptions: WorkflowOptions

    @Option(help: ArgumentHelp("Also write the report here (a regular file; its directory must be writable).", valueName: "path"))
    var report: String?

    @Flag(name: .customLong("dry-run"), help: "Plan only: show what would happen and write nothing (same as `bucketflow plan`).")
    var dryRun = false

    @Option(help: ArgumentHelp("Reports to keep in the run history (default: the workflow's `keep:`, else 50).", valueName: "n"))
    var keep: Int?

    @Option(name: .customLong("memory-budget"), help: ArgumentHelp("Memory all transfers of the run may hold in buffers at once (upload parts, small files read whole), e.g. 64MiB; parts shrink to fit. Default 20MiB, at least 5MiB, at most 1TiB. The process itself needs about 40MiB more.", valueName: "size"))
    var memoryBudget: String?

    @Flag(name: .shortAndLong, help: "Print every object as it moves.")
    var verbose = false

    @Flag(help: "Flush every written file to disk (fsync) before renaming it into place, so a power loss cannot leave a torn file (slower; see docs/local-storage.md).")
    var fsync = false

    @Option(help: ArgumentHelp("Run only this step, its needs' outcomes read from --state (one step per pod on Argo Workflows).", valueName: "step"))
    var only: String?

    @Option(help: ArgumentHelp("With --only: where steps record their outcomes: a directory, or NAME://bucket/prefix/ in a declared storage.", valueName: "location"))
    var state: String?

    @Option(name: .customLong("run-id"), help: ArgumentHelp("With --only: the run the step belongs to (Argo: {{workflow.name}}).", valueName: "id"))
    var runID: String?

    @Option(help: ArgumentHelp("With --only: run shard K of N of a sharded step (objects split by a stable hash of their key).", valueName: "K/N"))
    var shard: String?

    @Option(name: .customLong("started-at"), help: ArgumentHelp("With --only: the run's start time (RFC 3339), so ${{ run.date }} agrees across steps (Argo: {{workflow.creationTimestamp}}). Default: recorded in a directory --state by the run's first step.", valueName: "time"))
    var startedAt: String?

    func validate() throws {
        if let keep, keep < 1 { throw ValidationError("--keep must be at least 1") }
        _ = try memoryBudgetBytes()
        if only != nil {
            guard state != nil else { throw ValidationError("--only needs --state LOCATION (where the steps of the run record their outcomes)") }
            guard let runID else { throw ValidationError("--only needs --run-id ID (the same for every step of the run)") }
            do { try StepStateStore.checkRunID(runID) } catch { throw ValidationError(error.description) }
            guard !dryRun else { throw ValidationError("--only cannot be combined with --dry-run") }
            if let startedAt, Timestamps.parse(startedAt) == nil, ISO8601DateFormatter().date(from: startedAt) == nil {
                throw ValidationError("--started-at \(startedAt): expected an RFC 3339 time such as 2026-11-24T02:30:00Z")
            }
            if let shard { do { _ = try ShardAssignment(parsing: shard) } catch { throw ValidationError("--shard \(shard): \(error)") } }
        } else {
            for (name, value) in [("--state", state), ("--run-id", runID), ("--shard", shard), ("--started-at", startedAt)] where value != nil {
                throw ValidationError("\(name) is only for single-step runs: add --only STEP")
            }
        }
    }

    /// `--memory-budget SIZE` in bytes (the default when not given).
    func memoryBudgetBytes() throws -> Int64 {
        guard let memoryBudget else { return MemoryBudget.defaultCapacity }
        guard let size = Units.unboundedBytes(memoryBudget) else {
            throw ValidationError("--memory-budget \(memoryBudget): expected a size such as 64MiB")
        }
        guard size <= Double(MemoryBudget.maximumCapacity), let bytes = Units.bytes(memoryBudget) else {
            throw ValidationError("--memory-budget \(memoryBudget) is above \(Units.describe(bytes: MemoryBudget.maximumCapacity)); give a size such as 64MiB (buffers beyond what a run can use do not make it faster)")
        }
        guard bytes >= MemoryBudget.minimumCapacity else {
            throw ValidationError("--memory-budget \(memoryBudget) is below \(Units.describe(bytes: MemoryBudget.minimumCapacity)), the size of one S3 part; give at least 5MiB")
        }
        return bytes
    }

    /// `--only STEP --state LOCATION --run-id ID`: one step of a run.
    func runOnly(_ step: String, workflow: Workflow) async throws {
        var options = try workflowOptions.runOptions(for: workflow, dryRun: false)
        options.memoryBudget = try memoryBudgetBytes()
        let store: StepStateStore
        do { store = try StepStateStore(location: state!, workflow: workflow) } catch {
            Console.error("bucketflow: \(error)")
            throw ExitCodes.invalid
        }
        guard workflow.step(step) != nil else {
            Console.error("bucketflow: --only \(step): the workflow has no step \"\(step)\"" + (Suggestions.closest(to: step, in: workflow.steps.map(\.id)).map { " (did you mean \"\($0)\"?)" } ?? ""))
            throw ExitCodes.invalid
        }
        options.runID = runID!
        options.startedAt = startedAt.flatMap { Timestamps.parse($0) ?? ISO8601DateFormatter().date(from: $0) }
            ?? RunSession.sharedStart(store: store, runID: runID!)
        if let shard {
            let assignment = try ShardAssignment(parsing: shard)
            guard let kind = workflow.step(step)?.action, [.upload, .download, .copy, .delete].contains(kind) else {
                Console.error("bucketflow: --shard: only upload, download, copy and delete steps can be sharded; \(step) is not one")
                throw ExitCodes.invalid
            }
            options.shard = (step, assignment)
        }
        let session = RunSession(workflow: workflow, options: options, events: ConsoleReporter(format: workflowOptions.logFormat, verbose: verbose, progress: workflowOptions.progress),
                                 reportPath: nil, keep: nil)
        let result = await Interruptible.run { cancellation in await session.runOnly(step: step, store: store, cancellation: cancellation) }
        if let message = result.message { Console.error("bucketflow: \(message)") }
        if let report = result.report, let outcome = report.steps.first(where: { $0.id == step }) {
            let line = "Step \(step)\(shard.map { " (shard \($0))" } ?? "") \(outcome.status.rawValue): \(plural(outcome.objects, "object")) transferred (\(ByteCount.format(outcome.bytes))). Recorded in \(state!) for run \(runID!)."
            if workflowOptions.logFormat == .json {
                Console.out(JSONValue.object(["event": "step-recorded", "step": .string(step), "status": .string(outcome.status.rawValue), "runId": .string(runID!), "exitCode": .number(Double(result.exitStatus.rawValue))]).encoded())
            } else {
                Console.out(line)
            }
        }
        throw ExitCode(result.exitStatus.rawValue)
    }

    func run() async throws {
        let workflow = try workflowOptions.loadWorkflow()
        if fsync { Durability.policy = .powerLoss }
        if let only { try await runOnly(only, workflow: workflow) }
        var options = try workflowOptions.runOptions(for: workflow, dryRun: dryRun)
        options.memoryBudget = try memoryBudgetBytes()
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
