import ArgumentParser
import Foundation
import Executor
import Storage
import Workflow

/// Options shared by the commands that execute or plan a workflow.
struct WorkflowOptions: ParsableArguments {
    @Argument(help: "The workflow file.", completion: .file(extensions: ["yaml", "yml"]))
    var file: String

    @Option(name: .customLong("var"), help: ArgumentHelp("Override a declared variable (repeatable).", valueName: "name=value"))
    var vars: [String] = []

    @Option(name: .customLong("data-dir"), help: ArgumentHelp("Root of the hosted data area (data://NAMESPACE/path). Default: $BUCKETFLOW_DATA_DIR, else $XDG_DATA_HOME/bucketflow/data, else ~/.local/share/bucketflow/data.", valueName: "dir"))
    var dataDir: String?

    @Option(help: "Steps in flight at once (the workflow's `concurrency:` wins).")
    var concurrency: Int = 4

    @Option(help: "Object transfers in flight at once, across all steps.")
    var transfers: Int = 16

    @Option(name: .customLong("log-format"), help: "Console output: text (concise, for people) or json (one object per event).")
    var logFormat: LogFormat = .text

    @Option(help: ArgumentHelp("Live progress on stderr: auto (only when stderr is a terminal), always or never. With --log-format json: periodic `progress` events.", valueName: "when"))
    var progress: ProgressMode = .auto

    func validate() throws {
        ProgressMode.current = progress
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        guard transfers >= 1 else { throw ValidationError("--transfers must be at least 1") }
    }

    /// Loads the workflow, printing diagnostics and exiting 2 when invalid.
    func loadWorkflow() throws -> Workflow {
        do {
            return try WorkflowLoader.load(path: file)
        } catch {
            Console.error(error.description)
            throw ExitCodes.invalid
        }
    }

    /// Parses `--var name=value`, refusing undeclared names.
    func overrides(for workflow: Workflow) throws -> [String: String] {
        var result: [String: String] = [:]
        let declared = workflow.vars.map(\.name)
        for entry in vars {
            guard let equals = entry.firstIndex(of: "=") else {
                Console.error("bucketflow: --var \(entry): expected name=value")
                throw ExitCodes.invalid
            }
            let name = String(entry[..<equals])
            guard declared.contains(name) else {
                let suggestion = Suggestions.closest(to: name, in: declared).map { " (did you mean \"\($0)\"?)" } ?? ""
                Console.error("bucketflow: --var \(name): the workflow declares no variable \"\(name)\"\(suggestion)" + (declared.isEmpty ? "; declare it under `vars:`" : "; declared: \(declared.joined(separator: ", "))"))
                throw ExitCodes.invalid
            }
            result[name] = String(entry[entry.index(after: equals)...])
        }
        return result
    }

    func runOptions(for workflow: Workflow, dryRun: Bool) throws -> RunOptions {
        let environment = ProcessInfo.processInfo.environment
        let dataDirectory = dataDir.map { URL(fileURLWithPath: $0).standardizedFileURL } ?? DataArea.defaultRoot(environment: environment)
        var options = RunOptions(dataDirectory: dataDirectory, userName: DataArea.currentUserName(environment: environment))
        options.dryRun = dryRun
        options.concurrency = concurrency
        options.transfers = transfers
        options.varOverrides = try overrides(for: workflow)
        options.environment = environment
        return options
    }
}

enum LogFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}
