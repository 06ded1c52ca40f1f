import ArgumentParser
import Foundation
import Synchronization
import Cron
import Executor
import Workflow
import Storage

struct ScheduleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schedule",
        abstract: "Run workflows at the times their `schedule:` gives, in the foreground.",
        discussion: """
            For systemd services, containers and tmux: stays in the foreground, starts \
            `bucketflow run FILE` as a child process at each fire time (so every run has \
            its own lock, report and exit code), and logs one line per run. A run's own \
            output is appended to STATE/logs/WORKFLOW-HASH.log. SIGTERM or SIGINT stops \
            scheduling, passes the signal to running runs, waits for them and exits.

            With --next N, prints each schedule's next N fire times instead (ISO 8601 \
            with the zone's offset, one per line) so an expression can be checked.
            """)

    @Argument(help: "Workflow files with a `schedule:`.", completion: .file(extensions: ["yaml", "yml"]))
    var files: [String]

    @Option(help: ArgumentHelp("Print the next N fire times of each schedule and exit.", valueName: "n"))
    var next: Int?

    @Option(name: .customLong("data-dir"), help: ArgumentHelp("Passed to each run.", valueName: "dir"))
    var dataDir: String?

    func validate() throws {
        if let next, next < 1 { throw ValidationError("--next must be at least 1") }
    }

    struct Entry: Sendable {
        var file: String
        var workflow: String
        var expression: CronExpression
        var zone: TimeZone
        var spec: ScheduleSpec
    }

    func entries() throws -> [Entry] {
        var result: [Entry] = []
        var invalid = false
        for file in files {
            do {
                let workflow = try WorkflowLoader.load(path: file)
                if workflow.schedules.isEmpty {
                    Console.error("\(file): the workflow has no `schedule:`; add e.g. `schedule: [{cron: \"30 2 * * *\", timezone: UTC}]`")
                    invalid = true
                }
                for spec in workflow.schedules {
                    result.append(Entry(file: file, workflow: workflow.name, expression: try CronExpression(spec.cron), zone: try CronTimeZone.named(spec.timeZone), spec: spec))
                }
            } catch let error as WorkflowError {
                Console.error(error.description)
                invalid = true
            }
        }
        if invalid { throw ExitCodes.invalid }
        return result
    }

    func run() async throws {
        let entries = try entries()
        if let next {
            let now = Date()
            for entry in entries {
                if entries.count > 1 { Console.out("# \(entry.file): \"\(entry.spec.cron)\" \(entry.spec.timeZone)") }
                for date in entry.expression.nextFireDates(after: now, in: entry.zone, count: next) {
                    Console.out(ISO8601Offset.string(date, in: entry.zone))
                }
            }
            return
        }
        try await ForegroundScheduler(entries: entries, dataDir: dataDir).run()
    }
}

/// The foreground scheduler loop.
private struct ForegroundScheduler {
    let entries: [ScheduleCommand.Entry]
    let dataDir: String?

    func run() async throws {
        let binary = SelfPath.executable
        let children = ChildProcesses()
        // Handlers first, so a signal that arrives early is not fatal.
        let running = Mutex<Task<Void, Never>?>(nil)
        let stopping = Mutex(false)
        let signals = SignalHandler { signal in
            Console.out("\(ISO8601Offset.string(Date(), in: TimeZone.current)) stopping: signal \(signal); waiting for running workflows")
            stopping.withLock { $0 = true }
            running.withLock { $0?.cancel() }
            children.forward(signal)
        }
        let task = Task {
            for entry in entries {
                Console.out("\(ISO8601Offset.string(Date(), in: entry.zone)) scheduling \(entry.workflow) (\(entry.file)): \"\(entry.spec.cron)\" in \(entry.spec.timeZone), next \(entry.expression.nextFireDate(after: Date(), in: entry.zone).map { ISO8601Offset.string($0, in: entry.zone) } ?? "never")")
            }
            await withTaskGroup(of: Void.self) { group in
                for entry in entries {
                    group.addTask {
                        var after = Date()
                        while !Task.isCancelled {
                            guard let fire = entry.expression.nextFireDate(after: after, in: entry.zone) else { return }
                            let wait = fire.timeIntervalSinceNow
                            if wait > 0 {
                                do { try await Task.sleep(for: .seconds(wait)) } catch { return }
                            }
                            after = fire
                            let started = Date()
                            let outcome = await children.run(binary: binary, entry: entry, dataDir: dataDir)
                            Console.out("\(ISO8601Offset.string(fire, in: entry.zone)) \(entry.workflow): \(outcome) (\(String(format: "%.1f", Date().timeIntervalSince(started)))s)")
                        }
                    }
                }
            }
        }
        running.withLock { $0 = task }
        if stopping.withLock({ $0 }) { task.cancel() }
        await task.value
        signals.stop()
    }
}

/// Runs started by the scheduler, so signals can be passed on to them.
private final class ChildProcesses: Sendable {
    private let running = Mutex<[Int32: Process]>([:])

    func forward(_ signal: Int32) {
        running.withLock { for pid in $0.keys { kill(pid, signal) } }
    }

    /// Runs one workflow to the end; returns a one-line outcome.
    func run(binary: String, entry: ScheduleCommand.Entry, dataDir: String?) async -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        var arguments = ["run", entry.file, "--log-format", "json"]
        if let dataDir { arguments += ["--data-dir", dataDir] }
        process.arguments = arguments
        let environment = ProcessInfo.processInfo.environment
        let state = StateDirectory.resolve(environment: environment)
        let slug = StateDirectory.slug(workflowName: entry.workflow, absolutePath: URL(fileURLWithPath: entry.file).standardizedFileURL.path)
        let logURL = state.appendingPathComponent("logs").appendingPathComponent("\(slug).log")
        try? FileManager.default.createDirectory(at: logURL.deletingLastPathComponent(), withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: logURL.path) { _ = FileManager.default.createFile(atPath: logURL.path, contents: nil) }
        guard let log = FileHandle(forWritingAtPath: logURL.path) else { return "could not open \(logURL.path)" }
        log.seekToEndOfFile()
        let output = Pipe()
        process.standardOutput = output
        process.standardError = log
        // Waiting parks no cooperative-pool thread: the exit arrives through
        // the termination handler, and the output is read on a Dispatch
        // thread (BlockingIO), so overlapping runs on 2 cores never starve
        // the scheduler's timers.
        let (exited, exit) = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { finished in
            exit.yield(finished.terminationStatus)
            exit.finish()
        }
        do { try process.run() } catch { return "could not start \(binary): \(error.localizedDescription)" }
        let pid = process.processIdentifier
        running.withLock { $0[pid] = process }
        let reader = output.fileHandleForReading
        let data = (try? await BlockingIO.run { _ in reader.readDataToEndOfFile() }) ?? Data()
        var status: Int32 = -1
        for await code in exited { status = code }
        running.withLock { _ = $0.removeValue(forKey: pid) }
        log.write(data)
        try? log.close()
        var report = ""
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n").reversed() {
            if let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], object["event"] as? String == "report-written" {
                report = " report \(object["report"] as? String ?? "")"
                break
            }
        }
        switch status {
        case 0: return "succeeded" + report
        case 1: return "failed" + report
        case 3: return "not started: the previous run still holds the lock (overlap: forbid)"
        case 130: return "cancelled" + report
        case let code: return "exited \(code)" + report + "; see \(logURL.path)"
        }
    }
}

/// The path of this very binary, for crontab lines and child runs.
enum SelfPath {
    static var executable: String {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        return URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }
}
