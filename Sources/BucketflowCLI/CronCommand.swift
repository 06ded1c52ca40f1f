import ArgumentParser
import Foundation
import Executor
import Workflow

struct CronCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cron",
        abstract: "Print crontab lines that run a workflow at its `schedule:` times.",
        discussion: """
            For users who prefer the system cron: prints one line per schedule entry with \
            the absolute paths of this binary and of the workflow, output appended to a log \
            file under the state directory. Add them with `crontab -e`. A schedule in a time \
            zone other than the machine's is preceded by CRON_TZ=ZONE, which cronie and \
            systemd-cron honour; Debian's cron does not, so there use the machine's zone or \
            `bucketflow schedule`.
            """)

    @Argument(help: "The workflow file.", completion: .file(extensions: ["yaml", "yml"]))
    var file: String

    @Option(name: .customLong("data-dir"), help: ArgumentHelp("Passed to each run.", valueName: "dir"))
    var dataDir: String?

    func run() throws {
        let workflow: Workflow
        do { workflow = try WorkflowLoader.load(path: file) } catch {
            Console.error(error.description)
            throw ExitCodes.invalid
        }
        guard !workflow.schedules.isEmpty else {
            Console.error("\(file): the workflow has no `schedule:`; add e.g. `schedule: [{cron: \"30 2 * * *\", timezone: UTC}]`")
            throw ExitCodes.invalid
        }
        let environment = ProcessInfo.processInfo.environment
        let absolute = URL(fileURLWithPath: file).standardizedFileURL.path
        let slug = StateDirectory.slug(workflowName: workflow.name, absolutePath: absolute)
        let log = StateDirectory.resolve(environment: environment).appendingPathComponent("logs").appendingPathComponent("\(slug).log").path
        let local = TimeZone.current.identifier
        var command = "\(shellQuote(SelfPath.executable)) run \(shellQuote(absolute))"
        if let dataDir { command += " --data-dir \(shellQuote(URL(fileURLWithPath: dataDir).standardizedFileURL.path))" }
        Console.out("# bucketflow: \(workflow.name) (\(absolute)); create the log directory first: mkdir -p \(shellQuote((log as NSString).deletingLastPathComponent))")
        for schedule in workflow.schedules {
            let zoneNeeded = schedule.timeZone != local && !(["UTC", "Etc/UTC", "GMT"].contains(schedule.timeZone) && ["UTC", "Etc/UTC", "GMT"].contains(local))
            if zoneNeeded { Console.out("CRON_TZ=\(schedule.timeZone)") }
            Console.out("\(cronField(schedule.cron)) \(command) >> \(shellQuote(log)) 2>&1")
        }
    }

    /// `@daily` and friends are understood by cron as they are.
    func cronField(_ expression: String) -> String { expression.trimmingCharacters(in: .whitespaces) }

    func shellQuote(_ text: String) -> String {
        if text.allSatisfy({ $0.isLetter || $0.isNumber || "/._-+:@".contains($0) }) { return text }
        return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
