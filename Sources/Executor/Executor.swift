import Foundation
public import Workflow
import YAML
public import Scheduler
import Storage
import Credentials

/// Runs a validated workflow: drives the ``SchedulerStateMachine`` with a task
/// group, runs each step's action, and renders the report from its model.
///
/// The driver is the one owner of every step's state (``RunModel``) and, via
/// each attempt's ``StepJournal``, of every object's outcome; the scheduler
/// decides what happens next, and the report is rendered once, at the end.
///
/// Cancel the task that calls ``run(cancellation:)``, or call
/// ``RunCancellation/cancel()``, to stop the run: no new steps start, in-flight
/// transfers are cancelled and remove their partial files, cleanup steps
/// (`if: cancelled()`) still run, and the report says `cancelled`.
public struct Executor: Sendable {
    public let workflow: Workflow
    public let options: RunOptions
    public let events: any EventSink
    let makeStorage: StorageMaker

    public init(workflow: Workflow, options: RunOptions, events: any EventSink = NullEventSink()) {
        self.workflow = workflow
        self.options = options
        self.events = events
        self.makeStorage = StorageFactory.make
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
                throw StepError(code: .expressionError, message: "\(workflow.file):\(error.mark.line):\(error.mark.column): variable \(name): \(error)")
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

    enum AttemptOutcome: Sendable {
        case succeeded(StepResult)
        case failed(StepError, StepResult?)
        case cancelled
        /// Plans only: parameters known only at run time.
        case unknown(String)
    }

    /// Runs the workflow to the end (or until cancelled) and returns its report.
    public func run(cancellation: RunCancellation = RunCancellation()) async -> RunReport {
        await withTaskCancellationHandler {
            await drive(cancellation, replay: nil)
        } onCancel: {
            cancellation.cancel()
        }
    }

    /// Runs one step (`--only`), as a full run would at that point: the
    /// outcomes and outputs of the steps it needs (transitively) are
    /// replayed from `recorded`, its `if:` is evaluated against them, and it
    /// gets one attempt (the engine that runs it, e.g. Argo, retries).
    /// `load-credentials` steps it needs run again (their values are never
    /// recorded).
    ///
    /// - Throws: ``StepStateError`` when a needed step has no recorded outcome.
    public func runOnly(_ target: String, recorded: [String: RunReport.StepReport], cancellation: RunCancellation = RunCancellation()) async throws(StepStateError) -> RunReport {
        guard let step = workflow.step(target) else {
            throw StepStateError("the workflow has no step \"\(target)\"" + (Suggestions.closest(to: target, in: workflow.steps.map(\.id)).map { " (did you mean \"\($0)\"?)" } ?? ""))
        }
        var ancestors: Set<String> = []
        var stack = step.dependencies
        while let next = stack.popLast() {
            guard ancestors.insert(next).inserted else { continue }
            stack += workflow.step(next)?.dependencies ?? []
        }
        let missing = ancestors.filter { recorded[$0] == nil }.sorted()
        guard missing.isEmpty else {
            throw StepStateError("step \"\(target)\" needs \(missing.map { "\"\($0)\"" }.joined(separator: ", ")), which \(missing.count == 1 ? "has" : "have") no recorded outcome in this run's state; run \(missing.count == 1 ? "it" : "them") first (bucketflow run FILE --only STEP with the same --state and --run-id)")
        }
        let rerun = Set(ancestors.filter { workflow.step($0)?.action == .loadCredentials && recorded[$0]?.status == .succeeded })
        let replay = Replay(target: target, steps: ancestors.union([target]), recorded: recorded.filter { ancestors.contains($0.key) && !rerun.contains($0.key) })
        return await withTaskCancellationHandler {
            await drive(cancellation, replay: replay)
        } onCancel: {
            cancellation.cancel()
        }
    }

    /// `--only`: which steps take part and which outcomes are replayed.
    struct Replay: Sendable {
        var target: String
        var steps: Set<String>
        var recorded: [String: RunReport.StepReport]

        /// The outcome a replayed step reports when the scheduler starts it.
        func outcome(_ id: String) -> AttemptOutcome? {
            guard let record = recorded[id] else { return nil }
            let result = StepResult(outputs: record.outputs, plan: [], summary: "recorded outcome")
            switch record.status {
            case .succeeded, .planned: return .succeeded(result)
            case .failed: return .failed(StepError(code: record.error?.code ?? .internalError, message: record.error?.message ?? "failed in its own run"), result)
            default: return .cancelled
            }
        }
    }

    private func drive(_ cancellation: RunCancellation, replay: Replay?) async -> RunReport {
        // Every console event passes the redaction layer, which learns each
        // secret as soon as a load-credentials step has read it.
        let events = RedactingEventSink(self.events)
        if !options.dryRun { RunProgress.shared.reset() }
        events.emit(.runStarted(workflow: workflow.name, runID: options.runID, dryRun: options.dryRun, steps: workflow.steps.count))
        var model = RunModel(workflow: workflow)
        var base = EvaluationContext(env: options.environment, run: Self.runFields(options: options, workflow: workflow))
        base.planning = options.dryRun
        do {
            base.vars = try Self.resolveVariables(workflow, overrides: options.varOverrides, context: base)
        } catch {
            let message = (error as? StepError)?.message ?? "\(error)"
            for step in workflow.steps { model.skip(step.id, reason: "the workflow's variables could not be resolved: \(message)") }
            events.emit(.warning(step: nil, message: message))
            return render(model, status: .failed, vars: [:], secrets: [])
        }

        let state = RunState(workflow: workflow, options: options, events: events, makeStorage: makeStorage)
        let selected = replay.map { replay in workflow.steps.filter { replay.steps.contains($0.id) } } ?? workflow.steps
        let machineSteps = selected.map { step in
            var condition = Self.schedulerCondition(step)
            if let record = replay?.recorded[step.id] {
                // Replayed: skipped steps are skipped again (through the condition), the others start and end as recorded.
                condition = record.status == .skipped ? .expression : .always
            }
            return SchedulerStateMachine.Step(
                id: step.id, needs: step.dependencies, condition: condition,
                retry: RetryPolicy(attempts: options.dryRun || replay != nil ? 1 : step.retry.attempts, backoff: step.retry.backoff, maxBackoff: step.retry.maxBackoff),
                continueOnError: step.continueOnError,
                runsAfterCancel: step.condition.map { $0.expression.calls.contains { $0.name == "cancelled" } } ?? false)
        }
        var machine = SchedulerStateMachine(steps: machineSteps, concurrency: workflow.concurrency ?? options.concurrency)
        var runStatus = RunStatus.succeeded
        let visibility = StepVisibility(workflow: workflow)

        await withTaskGroup(of: DriverEvent.self) { group in
            // Actions to carry out, in order; `next` is the first not yet done.
            var pending = machine.start()
            var next = 0
            var cancelHandled = false
            func handleCancel() {
                if !cancelHandled && cancellation.isCancelled {
                    cancelHandled = true
                    pending += machine.cancel()
                }
            }
            while true {
                handleCancel()
                while next < pending.count {
                    let action = pending[next]
                    next += 1
                    switch action {
                    case .startStep(let id, let attempt):
                        guard let step = workflow.step(id) else { continue }
                        if let outcome = replay?.outcome(id) {
                            _ = model.startAttempt(id, attempt: attempt)
                            group.addTask { .finished(step: id, outcome: outcome) }
                            continue
                        }
                        let journal = model.startAttempt(id, attempt: attempt)
                        if !options.dryRun { events.emit(.stepStarted(step: id, action: step.action.rawValue, attempt: attempt)) }
                        var evaluation = model.evaluationContext(base, visible: visibility.steps(for: id))
                        evaluation.cancelled = cancelHandled
                        let context = StepContext(step: step, state: state, evaluation: evaluation, dryRun: options.dryRun,
                                                  workflow: workflow, options: options, journal: journal)
                        let metrics = model.records[id]!.metrics
                        let cancellable = !cancelHandled
                        group.addTask {
                            let outcome = await cancellation.run(cancellable: cancellable) {
                                await self.attempt(context, metrics: metrics)
                            }
                            return .finished(step: id, outcome: outcome)
                        }
                    case .scheduleRetry(let id, let attempt, let baseDelay):
                        let delay = RetryPolicy(attempts: 2, backoff: baseDelay, maxBackoff: baseDelay).delay(beforeAttempt: 2, random: options.random())
                        events.emit(.stepRetrying(step: id, attempt: attempt, delaySeconds: delay, error: model.records[id]?.error?.message ?? ""))
                        group.addTask {
                            await cancellation.run(cancellable: true) { try? await Task.sleep(for: .seconds(delay)) }
                            return .retryElapsed(step: id)
                        }
                    case .skipStep(let id, let reason):
                        model.skip(id, reason: reason)
                        events.emit(.stepSkipped(step: id, reason: reason))
                    case .evaluateCondition(let id, let success, let failure):
                        if let record = replay?.recorded[id] {
                            pending += machine.conditionEvaluated(id, result: false, reason: record.skipReason ?? "skipped in its own run")
                            continue
                        }
                        guard let condition = workflow.step(id)?.condition else { continue }
                        var context = model.evaluationContext(base, visible: visibility.steps(for: id))
                        context.success = success
                        context.failure = failure
                        context.cancelled = cancelHandled
                        do {
                            let result = try Evaluator.condition(condition, in: context)
                            pending += machine.conditionEvaluated(id, result: result, reason: "if: \(condition.source) is false")
                        } catch EvaluationError.unresolved where options.dryRun {
                            // A plan cannot know run-time values: show the step as it would run.
                            model.note(id, "runs only if \(condition.source) (known at run time)")
                            pending += machine.conditionEvaluated(id, result: true, reason: "")
                        } catch {
                            // An `if:` that cannot be evaluated fails the step, visibly.
                            model.attemptFailed(id, error: StepError(code: .expressionError, message: "if: \(condition.source): \(error)"))
                            pending += machine.conditionEvaluated(id, result: false, reason: "if: \(condition.source) could not be evaluated: \(error)")
                        }
                    case .cancelRunning:
                        break // RunCancellation already cancelled their tasks
                    case .cancelStep(let id, let reason):
                        model.finish(id, status: .cancelled, reason: reason)
                        events.emit(.stepCancelled(step: id, reason: reason))
                    case .runFinished(let status):
                        runStatus = status
                    }
                }
                pending.removeAll(keepingCapacity: true)
                next = 0
                guard let event = await group.next() else { break }
                // A cancelled run must not read a cancelled step's end as a
                // reason to skip its dependents: cancel first.
                handleCancel()
                switch event {
                case .retryElapsed(let id):
                    pending += machine.retryDelayElapsed(id)
                case .finished(let id, let outcome):
                    let step = workflow.step(id)!
                    switch outcome {
                    case .succeeded(var result):
                        if options.dryRun, let note = model.records[id]?.planNote { result.plan.insert(note, at: 0) }
                        model.succeed(id, result: result, planned: options.dryRun)
                        let record = model.records[id]!
                        if options.dryRun {
                            events.emit(.stepPlanned(step: id, action: step.action.rawValue, lines: result.plan))
                        } else if replay?.recorded[id] != nil {
                            // A need's recorded outcome (--only): nothing ran here.
                        } else {
                            let counts = record.journal.counts
                            events.emit(.stepSucceeded(step: id, action: step.action.rawValue, seconds: record.duration, bytes: counts.bytes, objects: counts.transferred, summary: result.summary))
                        }
                        pending += machine.stepFinished(id, outcome: .succeeded)
                    case .unknown(let reason):
                        var result = StepResult()
                        result.plan = ["\(step.action.rawValue): \(reason)"]
                        model.succeed(id, result: result, planned: true, outputsKnown: false)
                        events.emit(.stepPlanned(step: id, action: step.action.rawValue, lines: result.plan))
                        pending += machine.stepFinished(id, outcome: .succeeded)
                    case .failed(let error, let partial):
                        let redacted = StepError(code: error.code, message: await state.redact(error.message))
                        pending += machine.stepFinished(id, outcome: .failed)
                        if machine.status(of: id) == .failed {
                            model.fail(id, error: redacted, partial: partial)
                            events.emit(.stepFailed(step: id, action: step.action.rawValue, seconds: model.records[id]!.duration, code: redacted.code.rawValue, message: redacted.message, continueOnError: step.continueOnError))
                        } else {
                            model.attemptFailed(id, error: redacted) // waiting to retry
                        }
                    case .cancelled:
                        model.finish(id, status: .cancelled, reason: "the run was cancelled while this step was running")
                        events.emit(.stepCancelled(step: id, reason: "cancelled while running"))
                        pending += machine.stepFinished(id, outcome: .cancelled)
                    }
                }
            }
        }
        await state.shutdownStorages()
        if cancellation.isCancelled { runStatus = .cancelled }
        let secrets = await state.loadedSecrets
        let report = render(model, status: runStatus, vars: base.vars, secrets: secrets)
        events.emit(.runFinished(status: report.run.status.rawValue, seconds: report.run.durationSeconds))
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
    private func attempt(_ context: StepContext, metrics: TransferMetrics) async -> AttemptOutcome {
        do {
            let result = try await TransferMetrics.$current.withValue(metrics) {
                try await withTimeout(context.step.timeout) {
                    try await Self.perform(context.step.action, context)
                }
            }
            return .succeeded(result)
        } catch {
            if error is CancellationError || (Task.isCancelled && !(error is TimeoutError)) { return .cancelled }
            if let failure = error as? StepFailure { return .failed(failure.error, failure.partial) }
            if let unknown = error as? PlanUnknown, options.dryRun { return .unknown(unknown.reason) }
            return .failed(Self.stepError(error), nil)
        }
    }

    static func stepError(_ error: any Error) -> StepError {
        switch error {
        case let error as StepError: return error
        case let error as StepFailure: return error.error
        case let error as StorageError: return StepError(code: ErrorCode(error.code), message: error.description)
        case let error as TimeoutError: return StepError(code: .timeout, message: "the step did not finish within \(Self.formatSeconds(error.seconds)); raise its `timeout:` if it needs longer")
        case let error as CredentialError: return StepError(code: .credentialsError, message: error.description)
        default: return StepError(code: .internalError, message: "\(error)")
        }
    }

    static func formatSeconds(_ seconds: Double) -> String {
        if seconds < 1 { return "\(Int((seconds * 1000).rounded()))ms" }
        return seconds.rounded() == seconds && seconds < 1e15 ? "\(Int(seconds))s" : String(format: "%.1fs", seconds)
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

    /// The report, rendered once from the model, every text passed through
    /// the redaction layer.
    private func render(_ model: RunModel, status: RunStatus, vars: [String: String], secrets: [String]) -> RunReport {
        let finished = max(Date(), model.latestFinish ?? .distantPast)
        let started = options.startedAt
        let seconds = max(0, finished.timeIntervalSince(started))
        let steps = workflow.steps.map { model.records[$0.id]!.report(dryRun: options.dryRun) }
        let reportStatus: RunOutcomeStatus
        switch status {
        case .succeeded: reportStatus = options.dryRun ? .planned : .succeeded
        case .failed: reportStatus = .failed
        case .cancelled: reportStatus = .cancelled
        }
        var report = RunReport(
            bucketflowVersion: BucketflowInfo.version,
            workflow: .init(name: workflow.name, file: workflow.file, sha256: workflow.sha256),
            run: .init(
                id: options.runID, status: reportStatus, dryRun: options.dryRun,
                startedAt: Timestamps.rfc3339(started), finishedAt: Timestamps.rfc3339(finished),
                durationSeconds: (seconds * 1000).rounded() / 1000,
                exitCode: 0, vars: vars,
                host: ProcessInfo.processInfo.hostName, pid: ProcessInfo.processInfo.processIdentifier),
            steps: steps,
            totals: RunReport.totals(of: steps))
        if options.dryRun { report.summary = PlanSummary(report: report) }
        report.run.exitCode = ExitStatus(report: report).rawValue
        return Redaction(secrets: secrets).apply(to: report)
    }
}
