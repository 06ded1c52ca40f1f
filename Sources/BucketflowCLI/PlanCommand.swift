import ArgumentParser
import Foundation
import Executor
import Workflow

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what a run would do, in order, without writing anything.",
        discussion: """
            Resolves every expression it can, expands local globs and, where a storage is \
            reachable with the credentials available, reads (never writes) remote listings \
            to show which buckets, folders and objects would be created, uploaded, \
            downloaded, copied, deleted or skipped as unchanged. Steps are grouped in waves \
            that can run together. Values only known at run time are shown as such.

            --json prints the plan in the run report's schema (steps with status "planned").
            --detailed-exitcode: 0 nothing to do, 2 changes pending, 1 error.
            """)

    @OptionGroup var workflowOptions: WorkflowOptions

    @Flag(help: "Print the plan as JSON in the run report's schema.")
    var json = false

    @Flag(name: .customLong("detailed-exitcode"), help: "Exit 0 when nothing would change, 2 when changes are pending, 1 on error.")
    var detailedExitCode = false

    func run() async throws {
        let workflow = try workflowOptions.loadWorkflow()
        let options = try workflowOptions.runOptions(for: workflow, dryRun: true)
        throw try await Self.plan(workflow: workflow, options: options, json: json, reportPath: nil, detailedExitCode: detailedExitCode, logFormat: workflowOptions.logFormat)
    }

    /// Runs the workflow in dry-run mode and prints the plan.
    ///
    /// - Returns: The exit code to end with.
    static func plan(workflow: Workflow, options: RunOptions, json: Bool, reportPath: String?, detailedExitCode: Bool, logFormat: LogFormat) async throws -> ExitCode {
        let executor = Executor(workflow: workflow, options: options, events: logFormat == .json && !json ? ConsoleReporter(format: .json, verbose: false) : NullEventSink())
        let report = await executor.run()
        if let reportPath {
            try ReportWriter.write(report, to: URL(fileURLWithPath: reportPath))
        }
        let summary = PlanSummary(report: report)
        if json {
            Console.out(String(decoding: try report.jsonData(), as: UTF8.self).trimmingCharacters(in: .newlines))
        } else if logFormat == .text {
            PlanPrinter.print(report, workflow: workflow, summary: summary)
        }
        if report.totals.failed > 0 || report.run.status == "failed" { return ExitCodes.stepFailed }
        if report.run.status == "cancelled" { return ExitCodes.interrupted }
        if detailedExitCode { return summary.hasChanges ? ExitCode(2) : ExitCodes.success }
        return ExitCodes.success
    }
}

/// Counts of what a plan would change.
struct PlanSummary {
    var bucketsToCreate = 0
    var bucketsToDelete = 0
    var foldersToCreate = 0
    var uploads = 0, uploadBytes: Int64 = 0
    var downloads = 0, downloadBytes: Int64 = 0
    var copies = 0, copyBytes: Int64 = 0
    var unchanged = 0
    var deletes = 0

    init(report: RunReport) {
        for step in report.steps {
            for transfer in step.transfers {
                switch transfer.operation {
                case "create-bucket": bucketsToCreate += 1
                case "delete-bucket": bucketsToDelete += 1
                case "create-folder": foldersToCreate += 1
                case "upload": uploads += 1; uploadBytes += transfer.bytes
                case "download": downloads += 1; downloadBytes += transfer.bytes
                case "copy": copies += 1; copyBytes += transfer.bytes
                case "skip": unchanged += 1
                case "delete": deletes += 1
                default: break
                }
            }
        }
    }

    var hasChanges: Bool {
        bucketsToCreate + bucketsToDelete + foldersToCreate + uploads + downloads + copies + deletes > 0
    }

    var line: String {
        func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
        var parts = ["\(plural(bucketsToCreate, "bucket")) to create"]
        if foldersToCreate > 0 { parts.append("\(plural(foldersToCreate, "folder")) to create") }
        parts.append("\(plural(uploads, "object")) (\(ByteCount.format(uploadBytes))) to upload")
        if downloads > 0 { parts.append("\(plural(downloads, "object")) (\(ByteCount.format(downloadBytes))) to download") }
        if copies > 0 { parts.append("\(plural(copies, "object")) (\(ByteCount.format(copyBytes))) to copy") }
        parts.append("\(unchanged) unchanged")
        parts.append("\(deletes) to delete")
        if bucketsToDelete > 0 { parts.append("\(plural(bucketsToDelete, "bucket")) to delete") }
        return "Plan: " + parts.joined(separator: ", ")
    }
}

/// The human form of a plan: waves of steps that can run together.
enum PlanPrinter {
    static func waves(_ workflow: Workflow) -> [[String]] {
        var level: [String: Int] = [:]
        func depth(_ id: String) -> Int {
            if let known = level[id] { return known }
            let d = (workflow.step(id)?.dependencies.map(depth).max() ?? -1) + 1
            level[id] = d
            return d
        }
        var result: [[String]] = []
        for step in workflow.steps {
            let d = depth(step.id)
            while result.count <= d { result.append([]) }
            result[d].append(step.id)
        }
        return result
    }

    static func print(_ report: RunReport, workflow: Workflow, summary: PlanSummary) {
        Console.out("Plan for \(workflow.name) (\(workflow.file)), nothing has been changed:")
        let byID = Dictionary(uniqueKeysWithValues: report.steps.map { ($0.id, $0) })
        for (index, wave) in waves(workflow).enumerated() {
            Console.out("")
            Console.out("wave \(index + 1):")
            for id in wave {
                guard let step = byID[id] else { continue }
                let needs = step.needs.isEmpty ? "" : " (after \(step.needs.joined(separator: ", ")))"
                switch step.status {
                case "planned":
                    Console.out("  \(id) [\(step.action)]\(needs)")
                    for line in step.plan ?? [] { Console.out("    \(line)") }
                case "skipped":
                    Console.out("  \(id) [\(step.action)]\(needs): would be skipped: \(step.skipReason ?? "")")
                default:
                    let message = step.error?.message ?? step.skipReason ?? step.status
                    if step.error?.code == "Unresolved" {
                        Console.out("  \(id) [\(step.action)]\(needs): \(message)")
                    } else {
                        Console.out("  \(id) [\(step.action)]\(needs): \(step.status == "failed" ? "would fail" : step.status): \(message)")
                    }
                }
            }
        }
        Console.out("")
        Console.out(summary.line)
    }
}
