import Foundation
import Workflow
import Scheduler
import Storage

/// Every step's state during one run: the driver's single source of truth.
///
/// The scheduler decides transitions; the driver applies them here, and the
/// report and the expression context (`steps.X.outputs`, statuses) are both
/// derived from this model.
struct RunModel {
    private(set) var records: [String: StepRecord]
    /// For expressions: derived from `records`, kept in step with them by
    /// the mutating methods below (the only writers).
    private var statuses: [String: String] = [:]
    private var outputs: [String: [String: ExpressionValue]] = [:]
    /// The latest time any step ended (a report never ends before its steps).
    private(set) var latestFinish: Date?

    init(workflow: Workflow) {
        records = Dictionary(uniqueKeysWithValues: workflow.steps.map { ($0.id, StepRecord(step: $0)) })
    }

    /// What expressions see now, for the steps in `visible` (see
    /// ``StepVisibility``): fresh tables, never the model's own, so the
    /// model's later updates do not copy them.
    func evaluationContext(_ base: EvaluationContext, visible: [String]) -> EvaluationContext {
        var context = base
        var outputs: [String: [String: ExpressionValue]] = [:]
        var statuses: [String: String] = [:]
        for id in visible {
            if let value = self.outputs[id] { outputs[id] = value }
            if let status = self.statuses[id] { statuses[id] = status }
        }
        context.outputs = outputs
        context.statuses = statuses
        return context
    }

    /// A new attempt starts: it gets a fresh journal.
    mutating func startAttempt(_ id: String, attempt: Int) -> StepJournal {
        let journal = StepJournal()
        records[id]?.attempts = attempt
        if records[id]?.startedAt == nil { records[id]?.startedAt = Date() }
        records[id]?.journal = journal
        set(id, .running)
        return journal
    }

    mutating func succeed(_ id: String, result: StepResult, planned: Bool, outputsKnown: Bool = true) {
        records[id]?.result = result
        records[id]?.error = nil
        // In a plan, a step that could not predict its outputs leaves them unknown.
        if outputsKnown && !(planned && result.outputs.isEmpty) { outputs[id] = result.outputs }
        set(id, planned ? .planned : .succeeded)
        // Expressions see plans as "succeeded": a plan shows the run that would happen.
        if planned { statuses[id] = StepStatus.succeeded.rawValue }
        end(id)
    }

    mutating func fail(_ id: String, error: StepError, partial: StepResult?) {
        records[id]?.error = error
        if let partial {
            records[id]?.result = partial
            outputs[id] = partial.outputs
        }
        set(id, .failed)
        end(id)
    }

    mutating func skip(_ id: String, reason: String) {
        records[id]?.skipReason = reason
        set(id, .skipped)
    }

    mutating func finish(_ id: String, status: StepStatus, reason: String) {
        records[id]?.skipReason = reason
        set(id, status)
        if records[id]?.startedAt != nil { end(id) }
    }

    private mutating func set(_ id: String, _ status: StepStatus) {
        records[id]?.status = status
        statuses[id] = status.rawValue
    }

    private mutating func end(_ id: String) {
        let now = Date()
        records[id]?.finishedAt = now
        latestFinish = now
    }

    /// A note shown before a planned step's lines.
    mutating func note(_ id: String, _ text: String) { records[id]?.planNote = text }

    /// The error of an attempt that will be retried (shown with the retry).
    mutating func attemptFailed(_ id: String, error: StepError) { records[id]?.error = error }
}

/// One step's state and results.
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
    /// The current (last) attempt's objects.
    var journal = StepJournal()
    let metrics = TransferMetrics()

    init(step: Step) { self.step = step }

    var duration: Double {
        guard let startedAt, let finishedAt else { return 0 }
        return finishedAt.timeIntervalSince(startedAt)
    }

    func report(dryRun: Bool) -> RunReport.StepReport {
        let counts = journal.counts
        return RunReport.StepReport(
            id: step.id, action: step.action.rawValue,
            status: status == .pending || status == .running ? .cancelled : status,
            needs: step.dependencies, attempts: attempts,
            startedAt: startedAt.map(Timestamps.rfc3339), finishedAt: finishedAt.map(Timestamps.rfc3339),
            durationSeconds: startedAt == nil ? nil : (duration * 1000).rounded() / 1000,
            bytes: counts.bytes, objects: dryRun ? counts.planned : counts.transferred,
            counts: counts, retries: metrics.retries,
            continueOnError: step.continueOnError,
            outputs: result?.outputs ?? [:],
            error: error.map(ErrorInfo.init),
            skipReason: skipReason, transfers: journal.records,
            plan: dryRun ? (result?.plan ?? []) : nil)
    }
}
