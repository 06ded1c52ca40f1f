import ArgumentParser
import Foundation
import Executor
import ReportView
import Workflow
import Storage

struct ReportCommand: AsyncParsableCommand {
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

            With --state LOCATION --run-id ID, FILE is the workflow instead, and the report is \
            assembled from the outcomes its steps recorded when they ran one per process \
            (`run --only`, e.g. on Argo Workflows), shards merged; --json prints it as JSON.

            Exit codes: 0 shown or written, 2 the report is missing, unreadable or not a report.
            """)

    @Argument(help: ArgumentHelp("The report (JSON); with --state, the workflow file.", valueName: "report.json"), completion: .file(extensions: ["json", "yaml", "yml"]))
    var file: String

    @Option(help: ArgumentHelp("Assemble the report from the step outcomes recorded here (a directory or NAME://bucket/prefix/).", valueName: "location"))
    var state: String?

    @Option(name: .customLong("run-id"), help: ArgumentHelp("With --state: the run to assemble.", valueName: "id"))
    var runID: String?

    @Flag(help: "With --state: print the assembled report as JSON.")
    var json = false

    @Option(name: .customLong("data-dir"), help: ArgumentHelp("With --state in a storage: root of data:// for its credentials.", valueName: "dir"))
    var dataDir: String?

    func validate() throws {
        if state != nil && runID == nil { throw ValidationError("--state needs --run-id ID") }
        if state == nil && (runID != nil || json) { throw ValidationError("--run-id and --json need --state LOCATION") }
    }

    /// `--state LOCATION --run-id ID WORKFLOW`: the run's report from its steps' recorded outcomes.
    func assemble() async throws -> RunReport {
        let workflow: Workflow
        do { workflow = try WorkflowLoader.load(path: file) } catch {
            Console.error(error.description)
            throw ExitCodes.invalid
        }
        do {
            try StepStateStore.checkRunID(runID!)
            let store = try StepStateStore(location: state!, workflow: workflow)
            let environment = ProcessInfo.processInfo.environment
            var options = RunOptions(dataDirectory: dataDir.map { URL(fileURLWithPath: $0).standardizedFileURL } ?? DataArea.defaultRoot(environment: environment),
                                     userName: DataArea.currentUserName(environment: environment), runID: runID!)
            options.environment = environment
            let outcomes = try await RunSession.outcomes(workflow: workflow, options: options, store: store)
            guard !outcomes.isEmpty else {
                Console.error("bucketflow: no step of run \(runID!) has recorded an outcome in \(state!)")
                throw ExitCodes.invalid
            }
            return RunReport.assemble(workflow: workflow, runID: runID!, outcomes: outcomes)
        } catch let error as ExitCode {
            throw error
        } catch {
            Console.error("bucketflow: \(error)")
            throw ExitCodes.invalid
        }
    }

    @Option(help: ArgumentHelp("Write a standalone HTML page here instead of printing the summary.", valueName: "out.html"), completion: .file(extensions: ["html"]))
    var html: String?

    func run() async throws {
        let report: RunReport
        if state != nil {
            report = try await assemble()
            if json {
                Console.out(String(decoding: try report.jsonData(), as: UTF8.self).trimmingCharacters(in: .newlines))
                return
            }
        } else {
            do { report = try ReportLoader.load(path: file) } catch {
                Console.error("bucketflow: \(error.description)")
                throw ExitCodes.invalid
            }
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
