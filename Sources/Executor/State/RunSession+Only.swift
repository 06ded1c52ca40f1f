public import Foundation
public import Workflow
import Storage
import Scheduler

extension RunSession {
    /// `run FILE --only STEP --state LOCATION --run-id ID [--shard K/N]`:
    /// reads the outcomes of the steps STEP needs from the state, runs STEP
    /// as a full run would at that point, and records its outcome
    /// atomically. No lock and no history: the steps of one run execute in
    /// parallel processes.
    ///
    /// Exit status: 0 when the step succeeded or was skipped, 1 when it
    /// failed (also with `continue-on-error`, which the engine running the
    /// steps honours) or a needed step has no recorded outcome, 130 when
    /// interrupted.
    public func runOnly(step: String, store: StepStateStore, cancellation: RunCancellation = RunCancellation()) async -> RunSessionResult {
        let executor = Executor(workflow: workflow, options: options, events: events)
        do {
            let storage = try await executor.stateStorage(store)
            let recorded = try await store.outcomes(runID: options.runID, storage: storage)
            let report: RunReport
            do {
                report = try await executor.runOnly(step, recorded: recorded, cancellation: cancellation)
            } catch {
                return RunSessionResult(report: nil, reportPath: nil, exitStatus: .stepFailed, message: error.description)
            }
            guard let outcome = report.steps.first(where: { $0.id == step }) else {
                return RunSessionResult(report: report, reportPath: nil, exitStatus: .stepFailed, message: "step \(step) did not run")
            }
            let document = StepStateDocument(
                bucketflowVersion: BucketflowInfo.version, workflow: report.workflow, runId: options.runID,
                shard: options.shard.map { "\($0.assignment.index)/\($0.assignment.count)" },
                recordedAt: Timestamps.rfc3339(Date()), step: outcome)
            try await store.write(document, storage: storage)
            let status: ExitStatus
            switch outcome.status {
            case .succeeded, .skipped, .planned: status = report.run.status == .cancelled ? .interrupted : .success
            case .failed: status = .stepFailed
            case .cancelled, .pending, .running: status = .interrupted
            }
            return RunSessionResult(report: report, reportPath: nil, exitStatus: status, message: nil)
        } catch {
            return RunSessionResult(report: nil, reportPath: nil, exitStatus: .stepFailed, message: "the run's state at \(store.place) cannot be used: \(error)")
        }
    }

    /// Every step outcome recorded for `options.runID` in `store`, shards merged.
    public static func outcomes(workflow: Workflow, options: RunOptions, store: StepStateStore) async throws -> [String: RunReport.StepReport] {
        let storage = try await Executor(workflow: workflow, options: options).stateStorage(store)
        return try await store.outcomes(runID: options.runID, storage: storage)
    }

    /// The run's start time shared by all of its `--only` processes (so
    /// `${{ run.date }}` is the same in every step): the first process to
    /// ask records it in a directory state; later ones read it.
    public static func sharedStart(store: StepStateStore, runID: String, now: Date = Date()) -> Date {
        guard case .directory(let root) = store.place else { return now }
        let directory = root.appendingPathComponent(runID)
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent(".started-at")
        let fd = open(file.path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        if fd >= 0 {
            let text = Timestamps.rfc3339(now)
            _ = text.withCString { write(fd, $0, strlen($0)) }
            close(fd)
            return Timestamps.parse(text) ?? now
        }
        for _ in 0..<50 {
            if let text = try? String(contentsOf: file, encoding: .utf8), let date = Timestamps.parse(text) { return date }
            usleep(20_000)
        }
        return now
    }
}

extension Executor {
    /// The storage a state location lives in, with its credentials loaded
    /// (the load-credentials step it names runs here; its values are never
    /// recorded).
    func stateStorage(_ store: StepStateStore) async throws -> (any ObjectStorage)? {
        guard let name = store.storageName, let spec = workflow.storage(name) else { return nil }
        let state = RunState(workflow: workflow, options: options, events: NullEventSink(), makeStorage: makeStorage)
        var base = EvaluationContext(env: options.environment, run: Self.runFields(options: options, workflow: workflow))
        base.vars = try Self.resolveVariables(workflow, overrides: options.varOverrides, context: base)
        if let credentialStep = spec.credentials.flatMap(workflow.step) {
            let context = StepContext(step: credentialStep, state: state, evaluation: base, dryRun: false, workflow: workflow, options: options, journal: StepJournal())
            _ = try await LoadCredentialsAction.run(context)
        }
        return try await state.storage(named: name, context: base)
    }
}
