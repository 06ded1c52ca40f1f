import Foundation
public import Workflow
import YAML
import Scheduler
import Storage

/// Runs a validated workflow: drives the ``SchedulerStateMachine`` with a task
/// group, runs each step's action, and builds the report.
///
/// Cancel the task that calls ``run()`` (the CLI does so on SIGINT/SIGTERM) to
/// stop the run: no new steps start, in-flight transfers are cancelled and
/// remove their partial files, and the report says `cancelled`.
public struct Executor: Sendable {
    public let workflow: Workflow
    public let options: RunOptions
    public let events: any EventSink

    public init(workflow: Workflow, options: RunOptions, events: any EventSink = NullEventSink()) {
        self.workflow = workflow
        self.options = options
        self.events = events
    }

    /// The variables after `--var` overrides, rendered in declaration order.
    public static func resolveVariables(_ workflow: Workflow, overrides: [String: String], context: EvaluationContext) throws -> [String: String] {
        var context = context
        for (name, template) in workflow.vars {
            if let override = overrides[name] {
                context.vars[name] = override
                continue
            }
            do {
                context.vars[name] = try Evaluator.render(template, in: context)
            } catch {
                throw StepError(code: "ExpressionError", message: "\(workflow.file):\(error.mark.line):\(error.mark.column): variable \(name): \(error)")
            }
        }
        return context.vars
    }

    public static func runFields(options: RunOptions, workflow: Workflow) -> [String: String] {
        [
            "id": options.runID,
            "date": Timestamps.date(options.startedAt),
            "time": Timestamps.time(options.startedAt),
            "timestamp": Timestamps.compact(options.startedAt),
            "started-at": Timestamps.rfc3339(options.startedAt),
            "workflow": workflow.name,
        ]
    }

    private enum DriverEvent: Sendable {
        case finished(step: String, outcome: AttemptOutcome)
        case retryElapsed(step: String)
    }

    private enum AttemptOutcome: Sendable {
        case succeeded(StepResult)
        case failed(StepError, StepResult?)
        case cancelled
    }

    /// Runs the workflow to the end (or until cancelled) and returns its report.
    public func run() async -> RunReport {
        let started = options.startedAt
        let clockStart = ContinuousClock.now
        events.emit(.runStarted(workflow: workflow.name, runID: options.runID, dryRun: options.dryRun, steps: workflow.steps.count))

        var base = EvaluationContext(env: options.environment, run: Self.runFields(options: options, workflow: workflow))
        base.planning = options.dryRun
        var records: [String: StepRecord] = Dictionary(uniqueKeysWithValues: workflow.steps.map { ($0.id, StepRecord(step: $0)) })
        do {
            base.vars = try Self.resolveVariables(workflow, overrides: options.varOverrides, context: base)
        } catch {
            let message = (error as? StepError)?.message ?? "\(error)"
            for id in records.keys {
                records[id]?.status = .skipped
                records[id]?.skipReason = "the workflow's variables could not be resolved: \(message)"
            }
            events.emit(.warning(step: nil, message: message))
            return makeReport(records: records, status: .failed, started: started, clockStart: clockStart)
        }

        let state = RunState(workflow: workflow, options: options, baseContext: base, events: events)
        let machineSteps = workflow.steps.map { step in
            SchedulerStateMachine.Step(
                id: step.id, needs: step.dependencies, condition: Self.schedulerCondition(step),
                retry: RetryPolicy(attempts: options.dryRun ? 1 : step.retry.attempts, backoff: step.retry.backoff, maxBackoff: step.retry.maxBackoff),
                continueOnError: step.continueOnError)
        }
        var machine = SchedulerStateMachine(steps: machineSteps, concurrency: workflow.concurrency ?? options.concurrency)
        var runStatus = RunStatus.succeeded

        await withTaskGroup(of: DriverEvent.self) { group in
            var pending = machine.start()
            var cancelHandled = false
            while true {
                while !pending.isEmpty {
                    let action = pending.removeFirst()
                    switch action {
                    case .startStep(let id, let attempt):
                        guard let step = workflow.step(id) else { continue }
                        records[id]?.attempts = attempt
                        if records[id]?.startedAt == nil { records[id]?.startedAt = Date() }
                        records[id]?.status = .running
                        if !options.dryRun { events.emit(.stepStarted(step: id, action: step.action.rawValue, attempt: attempt)) }
                        let metrics = records[id]!.metrics
                        group.addTask {
                            let outcome = await self.attempt(step, state: state, metrics: metrics)
                            return .finished(step: id, outcome: outcome)
                        }
                    case .scheduleRetry(let id, let attempt, let baseDelay):
                        let delay = RetryPolicy(attempts: 2, backoff: baseDelay, maxBackoff: baseDelay).delay(beforeAttempt: 2, random: options.random())
                        events.emit(.stepRetrying(step: id, attempt: attempt, delaySeconds: delay, error: records[id]?.error?.message ?? ""))
                        group.addTask {
                            try? await Task.sleep(for: .seconds(delay))
                            return .retryElapsed(step: id)
                        }
                    case .skipStep(let id, let reason):
                        records[id]?.status = .skipped
                        records[id]?.skipReason = reason
                        await state.record(step: id, status: "skipped", outputs: nil)
                        events.emit(.stepSkipped(step: id, reason: reason))
                    case .evaluateCondition(let id, let success, let failure):
                        guard let condition = workflow.step(id)?.condition else { continue }
                        let context = await state.evaluationContext(success: success, failure: failure)
                        do {
                            let result = try Evaluator.condition(condition, in: context)
                            pending += machine.conditionEvaluated(id, result: result, reason: "if: \(condition.source) is false")
                        } catch EvaluationError.unresolved where options.dryRun {
                            // A plan cannot know run-time values: show the step as it would run.
                            records[id]?.planNote = "runs only if \(condition.source) (known at run time)"
                            pending += machine.conditionEvaluated(id, result: true, reason: "")
                        } catch {
                            // An `if:` that cannot be evaluated fails the step, visibly.
                            records[id]?.error = StepError(code: "ExpressionError", message: "if: \(condition.source): \(error)")
                            pending += machine.conditionEvaluated(id, result: false, reason: "if: \(condition.source) could not be evaluated: \(error)")
                        }
                    case .cancelRunning:
                        group.cancelAll()
                    case .cancelStep(let id, let reason):
                        records[id]?.status = .cancelled
                        records[id]?.skipReason = reason
                        events.emit(.stepCancelled(step: id, reason: reason))
                    case .runFinished(let status):
                        runStatus = status
                    }
                }
                if !cancelHandled && Task.isCancelled {
                    cancelHandled = true
                    pending += machine.cancel()
                    continue
                }
                guard let event = await group.next() else { break }
                // A cancelled run must not read a cancelled step's end as a
                // reason to skip its dependents: cancel first.
                if !cancelHandled && Task.isCancelled {
                    cancelHandled = true
                    pending += machine.cancel()
                }
                switch event {
                case .retryElapsed(let id):
                    pending += machine.retryDelayElapsed(id)
                case .finished(let id, let outcome):
                    records[id]?.finishedAt = Date()
                    let step = workflow.step(id)!
                    switch outcome {
                    case .succeeded(let result):
                        records[id]?.result = result
                        records[id]?.error = nil
                        records[id]?.status = options.dryRun ? .planned : .succeeded
                        if options.dryRun, let note = records[id]?.planNote { records[id]?.result?.plan.insert(note, at: 0) }
                        // In a plan, a step that could not predict its outputs leaves them unknown.
                        await state.record(step: id, status: "succeeded", outputs: options.dryRun && result.outputs.isEmpty ? nil : result.outputs)
                        let seconds = records[id]!.duration
                        if options.dryRun {
                            events.emit(.stepPlanned(step: id, action: step.action.rawValue, lines: result.plan))
                        } else {
                            events.emit(.stepSucceeded(step: id, action: step.action.rawValue, seconds: seconds, bytes: result.bytes, objects: result.objects, summary: result.summary))
                        }
                        pending += machine.stepFinished(id, outcome: .succeeded)
                    case .failed(let error, let partial):
                        let redacted = StepError(code: error.code, message: await state.redact(error.message))
                        records[id]?.error = redacted
                        if let partial { records[id]?.result = partial }
                        pending += machine.stepFinished(id, outcome: .failed)
                        if machine.status(of: id) == .failed {
                            records[id]?.status = .failed
                            await state.record(step: id, status: "failed", outputs: partial?.outputs)
                            events.emit(.stepFailed(step: id, action: step.action.rawValue, seconds: records[id]!.duration, code: redacted.code, message: redacted.message, continueOnError: step.continueOnError))
                        }
                    case .cancelled:
                        records[id]?.status = .cancelled
                        records[id]?.skipReason = "the run was cancelled while this step was running"
                        await state.record(step: id, status: "cancelled", outputs: nil)
                        events.emit(.stepCancelled(step: id, reason: "cancelled while running"))
                        pending += machine.stepFinished(id, outcome: .cancelled)
                    }
                }
            }
        }
        await state.shutdownStorages()
        if Task.isCancelled { runStatus = .cancelled }
        let report = makeReport(records: records, status: runStatus, started: started, clockStart: clockStart)
        events.emit(.runFinished(status: report.run.status, seconds: report.run.durationSeconds))
        return report
    }

    static func schedulerCondition(_ step: Step) -> StepCondition {
        guard let condition = step.condition else { return .success }
        switch condition.expression {
        case .call("success", [], _): return .success
        case .call("failure", [], _): return .failure
        case .call("always", [], _): return .always
        default: return .expression
        }
    }

    /// One attempt of a step, with its timeout, mapped to an outcome.
    private func attempt(_ step: Step, state: RunState, metrics: TransferMetrics) async -> AttemptOutcome {
        let context = StepContext(
            step: step, state: state, evaluation: await state.evaluationContext(), dryRun: options.dryRun,
            workflow: workflow, options: options)
        do {
            let result = try await TransferMetrics.$current.withValue(metrics) {
                try await withTimeout(step.timeout) {
                    try await Self.perform(step.action, context)
                }
            }
            return .succeeded(result)
        } catch {
            if Task.isCancelled || error is CancellationError { return .cancelled }
            if let failure = error as? StepFailure { return .failed(failure.error, failure.partial) }
            if options.dryRun, let stepError = error as? StepError, stepError.code == "Unresolved" {
                // A plan cannot know values that earlier steps produce only when they really run.
                var result = StepResult()
                result.plan = ["\(step.action.rawValue) — \(stepError.message)"]
                return .succeeded(result)
            }
            return .failed(Self.stepError(error), nil)
        }
    }

    static func stepError(_ error: any Error) -> StepError {
        switch error {
        case let error as StepError: return error
        case let error as StorageError: return StepError(code: error.code.rawValue, message: error.description)
        case let error as TimeoutError: return StepError(code: "Timeout", message: "the step did not finish within \(Self.formatSeconds(error.seconds))")
        default: return StepError(code: "Error", message: "\(error)")
        }
    }

    static func formatSeconds(_ seconds: Double) -> String {
        if seconds < 1 { return "\(Int((seconds * 1000).rounded()))ms" }
        return seconds.rounded() == seconds ? "\(Int(seconds))s" : String(format: "%.1fs", seconds)
    }

    static func perform(_ action: ActionKind, _ context: StepContext) async throws -> StepResult {
        switch action {
        case .loadCredentials: return try await LoadCredentialsAction.run(context)
        case .createBucket: return try await CreateBucketAction.run(context)
        case .deleteBucket: return try await DeleteBucketAction.run(context)
        case .createFolder: return try await CreateFolderAction.run(context)
        case .deleteFolder: return try await DeleteFolderAction.run(context)
        case .upload: return try await UploadAction.run(context)
        case .download: return try await DownloadAction.run(context)
        case .copy: return try await CopyAction.run(context)
        case .list: return try await ListAction.run(context)
        case .inspect: return try await InspectAction.run(context)
        case .delete: return try await DeleteAction.run(context)
        }
    }

    private func makeReport(records: [String: StepRecord], status: RunStatus, started: Date, clockStart: ContinuousClock.Instant) -> RunReport {
        let elapsed = ContinuousClock.now - clockStart
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let steps = workflow.steps.map { records[$0.id]!.report(dryRun: options.dryRun) }
        var runStatus = status.rawValue
        if options.dryRun && status == .succeeded { runStatus = "planned" }
        return RunReport(
            workflow: .init(name: workflow.name, file: workflow.file, sha256: workflow.sha256),
            run: .init(
                id: options.runID, status: runStatus, dryRun: options.dryRun,
                startedAt: Timestamps.rfc3339(started), finishedAt: Timestamps.rfc3339(started.addingTimeInterval(seconds)),
                durationSeconds: (seconds * 1000).rounded() / 1000,
                host: ProcessInfo.processInfo.hostName, pid: ProcessInfo.processInfo.processIdentifier),
            steps: steps,
            totals: RunReport.totals(of: steps))
    }
}

/// The report-in-progress of one step.
struct StepRecord: Sendable {
    let step: Step
    var status: StepStatus = .pending
    var attempts = 0
    var startedAt: Date?
    var finishedAt: Date?
    var result: StepResult?
    var error: StepError?
    var skipReason: String?
    /// Plans only: a line shown before the step's plan.
    var planNote: String?
    let metrics = TransferMetrics()

    init(step: Step) { self.step = step }

    var duration: Double {
        guard let startedAt, let finishedAt else { return 0 }
        return finishedAt.timeIntervalSince(startedAt)
    }

    func report(dryRun: Bool) -> RunReport.StepReport {
        RunReport.StepReport(
            id: step.id, action: step.action.rawValue,
            status: status == .pending || status == .running ? StepStatus.cancelled.rawValue : status.rawValue,
            needs: step.dependencies, attempts: attempts,
            startedAt: startedAt.map(Timestamps.rfc3339), finishedAt: finishedAt.map(Timestamps.rfc3339),
            durationSeconds: startedAt == nil ? nil : (duration * 1000).rounded() / 1000,
            bytes: result?.bytes ?? 0, objects: result?.objects ?? 0,
            transferred: result?.transferred ?? 0, skippedUnchanged: result?.skippedUnchanged ?? 0,
            failedObjects: result?.failedObjects ?? 0, retries: metrics.retries,
            continueOnError: step.continueOnError,
            outputs: result?.outputs ?? [:],
            error: error.map { RunReport.ErrorInfo(code: $0.code, message: $0.message) },
            skipReason: skipReason, transfers: result?.transfers ?? [],
            plan: dryRun ? (result?.plan ?? []) : nil)
    }
}
