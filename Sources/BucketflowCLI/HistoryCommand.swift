import ArgumentParser
import Foundation
import Executor
import Workflow

struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "List recent runs of a workflow (time, status, duration, bytes).")

    @Argument(help: "The workflow file.", completion: .file(extensions: ["yaml", "yml"]))
    var file: String

    @Option(help: "How many runs to show, newest last.")
    var limit = 20

    func run() throws {
        let workflow: Workflow
        do { workflow = try WorkflowLoader.load(path: file) } catch {
            Console.error(error.description)
            throw ExitCodes.invalid
        }
        let environment = ProcessInfo.processInfo.environment
        let slug = StateDirectory.slug(workflowName: workflow.name, absolutePath: URL(fileURLWithPath: workflow.file).standardizedFileURL.path)
        let history = RunHistory(stateDirectory: StateDirectory.resolve(environment: environment), slug: slug)
        let reports = history.reports().suffix(max(1, limit))
        guard !reports.isEmpty else {
            Console.out("no runs of \(workflow.name) recorded in \(history.directory.path)")
            return
        }
        Console.out("STARTED                   STATUS     DURATION  OBJECTS  BYTES       REPORT")
        for url in reports {
            guard let data = try? Data(contentsOf: url), let report = try? RunReport.decode(data) else {
                Console.out("(unreadable)              -          -         -        -           \(url.path)")
                continue
            }
            func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
            Console.out(pad(report.run.startedAt, 26) + pad(report.run.status, 11) + pad(String(format: "%.2fs", report.run.durationSeconds), 10)
                        + pad(String(report.totals.objects), 9) + pad(ByteCount.format(report.totals.bytes), 12) + url.path)
        }
    }
}
