import ArgumentParser
import Foundation
import Executor
import ReportView

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Show a run report or plan for people: a summary, or a standalone HTML page.",
        discussion: """
            Reads a report written by `run` (the run history or --report PATH) or a plan \
            (`plan --json`, `run --dry-run --report`) and prints its outcome, a table of the \
            steps and every failed or refused object with its error; for plans, what would change.

            With --html OUT.html it writes one standalone page instead (inline CSS and SVG, no \
            scripts, nothing fetched from the network): the run summary, a timeline of the steps \
            and their objects' transfers, throughput over time, the step table and the failed objects.

            Exit codes: 0 shown or written, 2 the report is missing, unreadable or not a report.
            """)

    @Argument(help: ArgumentHelp("The report (JSON).", valueName: "report.json"), completion: .file(extensions: ["json"]))
    var file: String

    @Option(help: ArgumentHelp("Write a standalone HTML page here instead of printing the summary.", valueName: "out.html"), completion: .file(extensions: ["html"]))
    var html: String?

    func run() throws {
        let report: RunReport
        do { report = try ReportLoader.load(path: file) } catch {
            Console.error("bucketflow: \(error.description)")
            throw ExitCodes.invalid
        }
        guard let html else {
            FileHandle.standardOutput.write(Data(TextSummary.render(report, path: file).utf8))
            return
        }
        do {
            try Data(HTMLReport.render(report).utf8).write(to: URL(fileURLWithPath: html), options: .atomic)
        } catch {
            Console.error("bucketflow: cannot write \(html): \((error as NSError).localizedDescription)")
            throw ExitCodes.invalid
        }
        Console.out("Wrote \(html) (\(report.workflow.name), \(report.run.status.rawValue))")
    }
}
