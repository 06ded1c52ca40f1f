public import Foundation
public import Workflow
import Scheduler

extension RunReport {
    /// The report of a run whose steps ran one per process (`--only`),
    /// assembled from their recorded outcomes (shards merged into their
    /// step), in the usual schema. A step with no recorded outcome is
    /// reported as skipped ("no recorded outcome") and makes the run
    /// `cancelled` unless a step failed.
    public static func assemble(workflow: Workflow, runID: String, outcomes: [String: StepReport]) -> RunReport {
        let steps = workflow.steps.map { step -> StepReport in
            if let recorded = outcomes[step.id] { return recorded }
            return StepReport(
                id: step.id, action: step.action.rawValue, status: .skipped, needs: step.dependencies, attempts: 0,
                startedAt: nil, finishedAt: nil, durationSeconds: nil, bytes: 0, objects: 0, counts: ObjectCounts(), retries: 0,
                continueOnError: step.continueOnError, outputs: [:], error: nil,
                skipReason: "no recorded outcome in the run's state (not run, or still running)", transfers: [], plan: nil)
        }
        let status: RunOutcomeStatus
        if steps.contains(where: { $0.status == .failed && !$0.continueOnError }) {
            status = .failed
        } else if steps.contains(where: { $0.status == .cancelled }) || workflow.steps.contains(where: { outcomes[$0.id] == nil }) {
            status = .cancelled
        } else {
            status = .succeeded
        }
        let starts = steps.compactMap { $0.startedAt.flatMap(Timestamps.parse) }
        let ends = steps.compactMap { $0.finishedAt.flatMap(Timestamps.parse) }
        let started = starts.min() ?? Date(), finished = ends.max() ?? started
        var report = RunReport(
            bucketflowVersion: BucketflowInfo.version,
            workflow: .init(name: workflow.name, file: workflow.file, sha256: workflow.sha256),
            // The steps' own strings: formatting a parsed time again can lose a millisecond.
            run: .init(id: runID, status: status, dryRun: false,
                       startedAt: steps.compactMap(\.startedAt).min() ?? Timestamps.rfc3339(started),
                       finishedAt: steps.compactMap(\.finishedAt).max() ?? Timestamps.rfc3339(finished),
                       durationSeconds: (max(0, finished.timeIntervalSince(started)) * 1000).rounded() / 1000,
                       exitCode: 0, vars: [:], host: ProcessInfo.processInfo.hostName, pid: ProcessInfo.processInfo.processIdentifier),
            steps: steps, totals: RunReport.totals(of: steps))
        report.run.exitCode = ExitStatus(report: report).rawValue
        return report
    }
}
