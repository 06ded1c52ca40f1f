public import Foundation
public import Workflow
import Scheduler

/// One step's recorded outcome in a run whose steps run one per process
/// (`bucketflow run FILE --only STEP --state LOCATION --run-id ID`), e.g. one
/// per pod on Argo Workflows. Later steps read the outcomes and outputs of
/// their needs from these documents; `bucketflow report --state` assembles
/// them into the usual run report.
///
/// Credential values are never in it: `load-credentials` outputs hold only
/// key names, and everything passed the run's redaction layer.
public struct StepStateDocument: Sendable, Codable, Hashable {
    public static let currentVersion = 1

    public var stateVersion = StepStateDocument.currentVersion
    public var bucketflowVersion: String
    public var workflow: RunReport.WorkflowInfo
    public var runId: String
    /// `K/N` for one shard of a sharded step.
    public var shard: String?
    public var recordedAt: String
    public var step: RunReport.StepReport

    /// The file name of a step's document: `STEP.json`, or
    /// `STEP.shard-K-of-N.json` for a shard.
    public static func fileName(step: String, shard: ShardAssignment?) -> String {
        guard let shard, shard.count > 1 else { return "\(step).json" }
        return "\(step).shard-\(shard.index)-of-\(shard.count).json"
    }

    /// Merges the shards of one step into the step as a whole run would
    /// report it: failed if any shard failed (else cancelled, skipped, or
    /// succeeded), counts and objects summed, list outputs concatenated.
    public static func merge(_ parts: [RunReport.StepReport]) -> RunReport.StepReport? {
        guard var merged = parts.first else { return nil }
        guard parts.count > 1 else { return merged }
        for status in [StepStatusOrder.failed, .cancelled, .skipped, .succeeded, .planned] where parts.contains(where: { $0.status == status.status }) {
            merged.status = status.status
            break
        }
        merged.error = parts.first { $0.error != nil }?.error
        merged.skipReason = parts.first { $0.skipReason != nil }?.skipReason
        merged.startedAt = parts.compactMap(\.startedAt).min()
        merged.finishedAt = parts.compactMap(\.finishedAt).max()
        if let start = merged.startedAt.flatMap(Timestamps.parse), let end = merged.finishedAt.flatMap(Timestamps.parse) {
            merged.durationSeconds = (end.timeIntervalSince(start) * 1000).rounded() / 1000
        }
        merged.attempts = parts.map(\.attempts).max() ?? 1
        merged.bytes = parts.reduce(0) { $0 + $1.bytes }
        merged.objects = parts.reduce(0) { $0 + $1.objects }
        merged.retries = parts.reduce(0) { $0 + $1.retries }
        merged.counts = parts.reduce(into: ObjectCounts()) { $0.add($1.counts) }
        merged.transfers = parts.flatMap(\.transfers)
        merged.outputs = mergeOutputs(parts.map(\.outputs))
        return merged
    }

    /// Numbers add up, lists concatenate, anything else keeps the first shard's value.
    static func mergeOutputs(_ all: [[String: ExpressionValue]]) -> [String: ExpressionValue] {
        var result: [String: ExpressionValue] = [:]
        for outputs in all {
            for (name, value) in outputs {
                switch (result[name], value) {
                case (nil, _): result[name] = value
                case (.number(let a)?, .number(let b)): result[name] = .number(a + b)
                case (.list(let a)?, .list(let b)): result[name] = .list(a + b)
                default: break
                }
            }
        }
        return result
    }
}

/// Which shard status wins when merging.
private enum StepStatusOrder {
    case failed, cancelled, skipped, succeeded, planned

    var status: RunReport.StepReport.Status {
        switch self {
        case .failed: return .failed
        case .cancelled: return .cancelled
        case .skipped: return .skipped
        case .succeeded: return .succeeded
        case .planned: return .planned
        }
    }
}
