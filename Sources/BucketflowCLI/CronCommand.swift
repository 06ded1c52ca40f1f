import ArgumentParser
import Foundation
import Executor
import Workflow
import Storage

struct CronCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cron",
        abstract: "Print crontab lines that run a workflow at its `schedule:` times.",
        discussion: """
            For users who prefer the system cron: prints one line per schedule entry with \
            the absolute paths of this binary and of the workflow, output appended to a log \
            file under the state directory. Add them with `crontab -e`.

            Cron runs jobs with a bare environment (no BUCKETFLOW_* variables, maybe another \
            HOME), so each line carries every setting this invocation resolved: \
            BUCKETFLOW_STATE_DIR (history, locks, logs), --data-dir (credentials under \
            data://) and USER (data://.my), as absolute values. The run under cron then reads \
            the same credentials and lands in the same history as `bucketflow history` here.

            A schedule in a time zone other than the machine's is preceded by CRON_TZ=ZONE \
            (cronie and systemd-cron honour it; Debian's cron does not, so there use the \
            machine's zone or `bucketflow schedule`), and followed by CRON_TZ=LOCAL, so the \
            zone never leaks into the crontab entries after it.
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
        let options = RunOptions(dataDirectory: dataDir.map { URL(fileURLWithPath: $0).standardizedFileURL } ?? DataArea.defaultRoot(environment: environment),
                                 userName: DataArea.currentUserName(environment: environment))
        var probe = options
        probe.environment = environment
        let session = RunSession(workflow: workflow, options: probe, events: NullEventSink(), reportPath: nil, keep: nil)
        let state = session.stateDirectory.standardizedFileURL.path
        let log = URL(fileURLWithPath: state).appendingPathComponent("logs").appendingPathComponent("\(session.slug).log").path
        let local = TimeZone.current.identifier
        let settings = "BUCKETFLOW_STATE_DIR=\(shellQuote(state)) USER=\(shellQuote(options.userName))"
        let command = "\(settings) \(shellQuote(SelfPath.executable)) run \(shellQuote(absolute)) --data-dir \(shellQuote(options.dataDirectory.path))"
        Console.out("# bucketflow: \(workflow.name) (\(absolute)); create the log directory first: mkdir -p \(shellQuote((log as NSString).deletingLastPathComponent))")
        for schedule in workflow.schedules {
            let zoneNeeded = schedule.timeZone != local && !(["UTC", "Etc/UTC", "GMT"].contains(schedule.timeZone) && ["UTC", "Etc/UTC", "GMT"].contains(local))
            if zoneNeeded { Console.out("CRON_TZ=\(schedule.timeZone)") }
            Console.out("\(cronField(schedule.cron)) \(command) >> \(shellQuote(log)) 2>&1")
            // Back to the machine's zone, so later crontab entries are unaffected.
            if zoneNeeded { Console.out("CRON_TZ=\(local)") }
        }
    }

    /// `@daily` and friends are understood by cron as they are.
    func cronField(_ expression: String) -> String { expression.trimmingCharacters(in: .whitespaces) }

    func shellQuote(_ text: String) -> String {
        if text.allSatisfy({ $0.isLetter || $0.isNumber || "/._-+:@".contains($0) }) { return text }
        return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
