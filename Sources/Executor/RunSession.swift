public import Foundation
public import Workflow

/// One run as a command starts it: the per-workflow lock, the executor, and
/// where the report goes (a file, the run history, or both). Commands stay
/// thin: they parse arguments, call ``preflight()`` and ``run(cancellation:)``,
/// print the outcome line and exit with ``RunSessionResult/exitStatus``.
public struct RunSession: Sendable {
    public let workflow: Workflow
    public let options: RunOptions
    public let events: any EventSink
    /// `--report PATH`, if given: the report is written there *and* indexed
    /// in the run history.
    public let reportPath: URL?
    /// Reports kept in the history.
    public let keep: Int

    public init(workflow: Workflow, options: RunOptions, events: any EventSink, reportPath: URL?, keep: Int?) {
        self.workflow = workflow
        self.options = options
        self.events = events
        self.reportPath = reportPath
        self.keep = keep ?? workflow.keepReports ?? RunHistory.defaultKeep
    }

    /// `$BUCKETFLOW_STATE_DIR` and friends, from the run's environment.
    public var stateDirectory: URL { StateDirectory.resolve(environment: options.environment) }

    /// The workflow's history and lock key: its name plus a hash of its real
    /// path (symlinks resolved), so two paths to one file share a lock.
    public var slug: String { StateDirectory.slug(workflowName: workflow.name, absolutePath: Self.realPath(workflow.file)) }

    public var history: RunHistory { RunHistory(stateDirectory: stateDirectory, slug: slug) }

    static func realPath(_ path: String) -> String {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        guard let resolved = realpath(absolute, nil) else { return absolute }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Everything that can be checked before the run starts, so a run never
    /// does its work and then finds it cannot write its report.
    ///
    /// - Throws: ``RunSessionError/invalidReportPath(_:)`` (exit 2).
    public func preflight() throws(RunSessionError) {
        if let reportPath { try Self.checkReportPath(reportPath) }
    }

    /// `--report PATH` must be a regular file or nothing, in a directory we
    /// can write (created if missing). Device nodes, directories, sockets and
    /// symbolic links are refused: the report is replaced by a rename, which
    /// would replace whatever is there.
    public static func checkReportPath(_ url: URL) throws(RunSessionError) {
        var st = stat()
        if lstat(url.path, &st) == 0 {
            let kind = st.st_mode & S_IFMT
            if kind != S_IFREG {
                let what = kind == S_IFDIR ? "a directory" : kind == S_IFLNK ? "a symbolic link" : kind == S_IFCHR || kind == S_IFBLK ? "a device" : "not a regular file"
                throw .invalidReportPath("--report \(url.path) is \(what); give the path of a regular file (it is replaced when the run ends)")
            }
        }
        let directory = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw .invalidReportPath("--report \(url.path): cannot create the directory \(directory.path): \(error.localizedDescription)")
        }
        if access(directory.path, W_OK) != 0 {
            throw .invalidReportPath("--report \(url.path): the directory \(directory.path) is not writable (\(String(cString: strerror(errno))))")
        }
    }

    /// Takes the lock, runs, writes the report.
    public func run(cancellation: RunCancellation = RunCancellation()) async -> RunSessionResult {
        let lock: WorkflowLock?
        if workflow.overlap == .allow || options.dryRun {
            lock = nil
        } else {
            let url = stateDirectory.appendingPathComponent("locks").appendingPathComponent("\(slug).lock")
            let runID = options.runID, started = Timestamps.rfc3339(options.startedAt), wait = workflow.overlap == .queue
            do {
                // `overlap: queue` waits in flock(2): off the cooperative pool.
                lock = try await BlockingLock.acquire(at: url, runID: runID, startedAt: started, wait: wait)
            } catch let failure as WorkflowLock.Failure {
                switch failure {
                case .held(let holder):
                    let who = holder.map { "pid \($0.pid), started \($0.startedAt), run \($0.runID)" } ?? "another process"
                    return RunSessionResult(report: nil, reportPath: nil, exitStatus: .locked,
                                            message: "\(workflow.file) is already running (\(who)); overlap: \(workflow.overlap.rawValue) — not starting another run")
                case .io(let message):
                    return RunSessionResult(report: nil, reportPath: nil, exitStatus: .stepFailed, message: message)
                }
            } catch {
                return RunSessionResult(report: nil, reportPath: nil, exitStatus: .interrupted, message: "interrupted while waiting for the lock")
            }
        }
        defer { _ = lock }

        let report = await Executor(workflow: workflow, options: options, events: events).run(cancellation: cancellation)
        if options.dryRun {
            if let reportPath {
                do { try ReportWriter.write(report, to: reportPath) } catch {
                    return RunSessionResult(report: report, reportPath: nil, exitStatus: .stepFailed, message: "could not write the report to \(reportPath.path): \(error.localizedDescription)")
                }
            }
            return RunSessionResult(report: report, reportPath: reportPath, exitStatus: ExitStatus(report: report), message: nil)
        }
        do {
            let recorded = try history.record(report, keep: keep)
            var path = recorded
            if let reportPath {
                try ReportWriter.write(report, to: reportPath)
                path = reportPath
            }
            return RunSessionResult(report: report, reportPath: path, exitStatus: ExitStatus(report: report), message: nil)
        } catch {
            return RunSessionResult(report: report, reportPath: nil, exitStatus: .stepFailed, message: "could not write the report: \(error.localizedDescription)")
        }
    }
}

/// What a session ended with.
public struct RunSessionResult: Sendable {
    /// Nil when the run never started (lock held).
    public var report: RunReport?
    public var reportPath: URL?
    public var exitStatus: ExitStatus
    /// A problem to print on stderr (lock held, report not written).
    public var message: String?
}

public enum RunSessionError: Error, Sendable, CustomStringConvertible {
    case invalidReportPath(String)

    public var description: String {
        switch self {
        case .invalidReportPath(let message): return message
        }
    }
}

/// Takes a ``WorkflowLock`` on a Dispatch thread, so waiting for it
/// (`overlap: queue`) never parks a cooperative-pool thread.
enum BlockingLock {
    static func acquire(at url: URL, runID: String, startedAt: String, wait: Bool) async throws -> WorkflowLock {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<WorkflowLock, any Error>) in
            DispatchQueue.global().async {
                continuation.resume(with: Result { () throws(WorkflowLock.Failure) in
                    try WorkflowLock.acquire(at: url, runID: runID, startedAt: startedAt, wait: wait)
                }.mapError { $0 as any Error })
            }
        }
    }
}
