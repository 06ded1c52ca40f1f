public import Foundation
public import Workflow
public import Scheduler

/// The JSON document written for every run (and, with status `planned`, for
/// every plan). `reportVersion` changes only when a field changes meaning.
///
/// A report is rendered once, from the run driver's model, when the run
/// ends; nothing patches it afterwards.
public struct RunReport: Sendable, Codable, Hashable {
    /// Version 2: typed per-object outcomes in `steps[].transfers`, object
    /// counts by outcome, `run.exitCode`, `run.vars`, the plan `summary`.
    public static let currentVersion = 2

    public struct WorkflowInfo: Sendable, Codable, Hashable {
        public var name: String
        public var file: String
        public var sha256: String
    }

    public struct RunInfo: Sendable, Codable, Hashable {
        public var id: String
        public var status: RunOutcomeStatus
        public var dryRun: Bool
        public var startedAt: String
        public var finishedAt: String
        public var durationSeconds: Double
        /// The process exit code this run ends with (see the README).
        public var exitCode: Int32
        /// The declared variables after `--var` overrides (secrets masked).
        public var vars: [String: String]
        /// Host and process, so a report can be traced back to its run.
        public var host: String
        public var pid: Int32
    }

    public struct StepReport: Sendable, Codable, Hashable {
        public var id: String
        public var action: String
        public typealias Status = StepStatus
        public var status: StepStatus
        public var needs: [String]
        public var attempts: Int
        public var startedAt: String?
        public var finishedAt: String?
        public var durationSeconds: Double?
        /// Bytes of the objects transferred (plans: that would be).
        public var bytes: Int64
        /// Objects transferred (plans: that would be).
        public var objects: Int
        /// Objects by outcome.
        public var counts: ObjectCounts
        /// Request-level retries made by the storage providers.
        public var retries: Int
        public var continueOnError: Bool
        public var outputs: [String: ExpressionValue]
        public var error: ErrorInfo?
        public var skipReason: String?
        /// Every object the step touched, with its outcome.
        public var transfers: [ObjectRecord]
        /// Plans only: what the step would do, in words.
        public var plan: [String]?

        enum CodingKeys: String, CodingKey {
            case id, action, status, needs, attempts, startedAt, finishedAt, durationSeconds, bytes, objects
            case counts, retries, continueOnError, outputs, error, skipReason, transfers, plan
        }

        /// Like the synthesized encoding, but `error` and `skipReason` are
        /// always present (null when empty), as the report format promises.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(action, forKey: .action)
            try c.encode(status, forKey: .status)
            try c.encode(needs, forKey: .needs)
            try c.encode(attempts, forKey: .attempts)
            try c.encodeIfPresent(startedAt, forKey: .startedAt)
            try c.encodeIfPresent(finishedAt, forKey: .finishedAt)
            try c.encodeIfPresent(durationSeconds, forKey: .durationSeconds)
            try c.encode(bytes, forKey: .bytes)
            try c.encode(objects, forKey: .objects)
            try c.encode(counts, forKey: .counts)
            try c.encode(retries, forKey: .retries)
            try c.encode(continueOnError, forKey: .continueOnError)
            try c.encode(outputs, forKey: .outputs)
            try c.encode(error, forKey: .error)
            try c.encode(skipReason, forKey: .skipReason)
            try c.encode(transfers, forKey: .transfers)
            try c.encodeIfPresent(plan, forKey: .plan)
        }
    }

    public struct Totals: Sendable, Codable, Hashable {
        public var steps = 0
        public var succeeded = 0
        public var failed = 0
        public var skipped = 0
        public var cancelled = 0
        public var planned = 0
        /// Bytes of objects transferred (plans: that would be).
        public var bytes: Int64 = 0
        /// Objects transferred (plans: that would be).
        public var objects = 0
        public var objectsUnchanged = 0
        public var objectsFailed = 0
        public var objectsRefused = 0
        public var objectsCancelled = 0
        public var retries = 0

        public init() {}
    }

    public var reportVersion = RunReport.currentVersion
    /// The bucketflow version that wrote the report.
    public var bucketflowVersion: String
    public var workflow: WorkflowInfo
    public var run: RunInfo
    public var steps: [StepReport]
    public var totals: Totals
    /// Plans only: what would change.
    public var summary: PlanSummary?

    /// Pretty JSON with sorted keys (stable diffs between runs).
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(self)
        data.append(0x0A)
        return data
    }

    public static func decode(_ data: Data) throws -> RunReport {
        try JSONDecoder().decode(RunReport.self, from: data)
    }

    static func totals(of steps: [StepReport]) -> Totals {
        var totals = Totals()
        totals.steps = steps.count
        for step in steps {
            switch step.status {
            case .succeeded: totals.succeeded += 1
            case .failed: totals.failed += 1
            case .skipped: totals.skipped += 1
            case .cancelled, .pending, .running: totals.cancelled += 1
            case .planned: totals.planned += 1
            }
            totals.bytes += step.bytes
            totals.objects += step.objects
            totals.objectsUnchanged += step.counts.unchanged
            totals.objectsFailed += step.counts.failed
            totals.objectsRefused += step.counts.refused
            totals.objectsCancelled += step.counts.cancelled
            totals.retries += step.retries
        }
        return totals
    }
}

/// How a run (or plan) ended, as the report says it.
public enum RunOutcomeStatus: String, Sendable, Hashable, Codable {
    case succeeded, failed, cancelled
    /// A plan that could be made completely.
    case planned
}
