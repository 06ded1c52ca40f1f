import ArgumentParser
import Foundation
import Executor
import Scheduler
import Workflow

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what a run would do, in order, without writing anything.",
        discussion: """
            Resolves every expression it can, expands local globs and reads (never writes) \
            remote listings to show which buckets, folders and objects would be created, \
            uploaded, downloaded, copied, deleted or left unchanged. Steps are grouped in \
            waves that can run together; each step sees what the steps planned before it \
            would change. Values known only at run time are shown as such.

            A plan fails closed: a storage that cannot be read (connection refused, DNS, TLS, \
            rejected credentials) or a step that would fail is an error, never "unknown".

            --json prints the plan in the run report's schema (steps with status "planned", \
            a "summary" with the counts and changesPending).

            Exit codes: 0 the plan was made, 1 it could not be made completely, 2 invalid \
            workflow or usage. With --detailed-exitcode (as Terraform): 0 nothing to do, \
            1 any error (invalid or missing file, bad --var, unreadable remote state), \
            2 changes pending.
            """)

    @OptionGroup var workflowOptions: WorkflowOptions

    @Flag(help: "Print the plan as JSON in the run report's schema.")
    var json = false

    @Flag(name: .customLong("detailed-exitcode"), help: "Exit 0 when nothing would change, 2 when changes are pending, 1 on any error.")
    var detailedExitCode = false

    func run() async throws {
        let workflow: Workflow
        let options: RunOptions
        do {
            workflow = try workflowOptions.loadWorkflow()
            options = try workflowOptions.runOptions(for: workflow, dryRun: true)
        } catch let code as ExitCode where detailedExitCode && code == ExitCodes.invalid {
            // Terraform's contract: 2 means "changes pending" only; an invalid
            // or missing file, or a bad --var, is an error (1).
            throw ExitCodes.stepFailed
        }
        throw try await Self.plan(workflow: workflow, options: options, json: json, reportPath: nil, detailedExitCode: detailedExitCode, logFormat: workflowOptions.logFormat)
    }

    /// Runs the workflow in dry-run mode and prints the plan.
    ///
    /// - Returns: The exit code to end with.
    static func plan(workflow: Workflow, options: RunOptions, json: Bool, reportPath: String?, detailedExitCode: Bool, logFormat: LogFormat) async throws -> ExitCode {
        let events: any EventSink = logFormat == .json && !json ? ConsoleReporter(format: .json, verbose: false) : NullEventSink()
        let session = RunSession(workflow: workflow, options: options, events: events, reportPath: reportPath.map { URL(fileURLWithPath: $0) }, keep: nil)
        do { try session.preflight() } catch {
            Console.error("bucketflow: \(error)")
            return detailedExitCode ? ExitCodes.stepFailed : ExitCodes.invalid
        }
        let result = await Interruptible.run { cancellation in await session.run(cancellation: cancellation) }
        if let message = result.message { Console.error("bucketflow: \(message)") }
        guard let report = result.report else { return ExitCode(result.exitStatus.rawValue) }
        let summary = report.summary ?? PlanSummary(report: report)
        if json {
            Console.out(String(decoding: try report.jsonData(), as: UTF8.self).trimmingCharacters(in: .newlines))
        } else if logFormat == .text {
            PlanPrinter.print(report, workflow: workflow, summary: summary)
        }
        for step in report.steps where step.status == .failed {
            if !json && logFormat == .text { continue } // printed in the plan already
            Console.error("bucketflow: \(step.id): \(step.error?.message ?? "failed") (\(step.error?.code.rawValue ?? "Error"))")
        }
        let status = result.exitStatus
        if status != .success { return ExitCode(status.rawValue) }
        if detailedExitCode { return summary.changesPending ? ExitCode(ExitStatus.changesPending.rawValue) : ExitCodes.success }
        return ExitCodes.success
    }
}

/// The human form of a plan: waves of steps that can run together.
enum PlanPrinter {
    static func print(_ report: RunReport, workflow: Workflow, summary: PlanSummary) {
        Console.out("Plan for \(workflow.name) (\(workflow.file)), nothing has been changed:")
        let byID = Dictionary(uniqueKeysWithValues: report.steps.map { ($0.id, $0) })
        for (index, wave) in workflow.graph.waves.enumerated() {
            Console.out("")
            Console.out("wave \(index + 1):")
            for id in wave {
                guard let step = byID[id] else { continue }
                let needs = step.needs.isEmpty ? "" : " (after \(step.needs.joined(separator: ", ")))"
                switch step.status {
                case .planned:
                    Console.out("  \(id) [\(step.action)]\(needs)")
                    for line in step.plan ?? [] { Console.out("    \(line)") }
                case .skipped:
                    Console.out("  \(id) [\(step.action)]\(needs): would be skipped: \(step.skipReason ?? "")")
                case .failed:
                    Console.out("  \(id) [\(step.action)]\(needs): ERROR: \(step.error?.message ?? "") (\(step.error?.code.rawValue ?? "Error"))")
                default:
                    Console.out("  \(id) [\(step.action)]\(needs): \(step.status.rawValue): \(step.skipReason ?? "")")
                }
            }
        }
        Console.out("")
        Console.out(summary.line)
    }
}
