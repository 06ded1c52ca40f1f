public import Foundation
public import Workflow
import Scheduler

/// The JSON document written for every run (and, with status `planned`, for
/// every plan). `reportVersion` changes only when a field changes meaning.
public struct RunReport: Sendable, Codable, Hashable {
    public struct WorkflowInfo: Sendable, Codable, Hashable {
        public var name: String
        public var file: String
        public var sha256: String
    }

    public struct RunInfo: Sendable, Codable, Hashable {
        public var id: String
        /// succeeded | failed | cancelled (runs); planned (plans).
        public var status: String
        public var dryRun: Bool
        public var startedAt: String
        public var finishedAt: String
        public var durationSeconds: Double
        /// Host and process, so a report can be traced back to its run.
        public var host: String
        public var pid: Int32
    }

    public struct ErrorInfo: Sendable, Codable, Hashable {
        public var code: String
        public var message: String
    }

    /// One object moved (or planned to move) by a step.
    public struct Transfer: Sendable, Codable, Hashable {
        /// upload | download | copy | delete | create-bucket | delete-bucket | create-folder | skip
        public var operation: String
        public var source: String?
        public var target: String?
        public var bytes: Int64
        /// Checksums computed while the bytes streamed (algorithm → hex).
        public var checksums: [String: String]?
        /// Why nothing was moved (`unchanged`), for skipped objects.
        public var reason: String?
    }

    public struct StepReport: Sendable, Codable, Hashable {
        public var id: String
        public var action: String
        /// succeeded | failed | skipped | cancelled | planned
        public var status: String
        public var needs: [String]
        public var attempts: Int
        public var startedAt: String?
        public var finishedAt: String?
        public var durationSeconds: Double?
        public var bytes: Int64
        public var objects: Int
        /// Objects moved, objects skipped because unchanged, objects that failed.
        public var transferred: Int
        public var skippedUnchanged: Int
        public var failedObjects: Int
        /// Request-level retries made by the storage providers.
        public var retries: Int
        public var continueOnError: Bool
        public var outputs: [String: ExpressionValue]
        public var error: ErrorInfo?
        public var skipReason: String?
        public var transfers: [Transfer]
        /// Plans only: what the step would do, in words.
        public var plan: [String]?

        enum CodingKeys: String, CodingKey {
            case id, action, status, needs, attempts, startedAt, finishedAt, durationSeconds, bytes, objects
            case transferred, skippedUnchanged, failedObjects, retries, continueOnError, outputs, error, skipReason, transfers, plan
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
            try c.encode(transferred, forKey: .transferred)
            try c.encode(skippedUnchanged, forKey: .skippedUnchanged)
            try c.encode(failedObjects, forKey: .failedObjects)
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
        public var steps: Int
        public var succeeded: Int
        public var failed: Int
        public var skipped: Int
        public var cancelled: Int
        public var planned: Int
        public var bytes: Int64
        public var objects: Int
    }

    public var reportVersion = 1
    public var workflow: WorkflowInfo
    public var run: RunInfo
    public var steps: [StepReport]
    public var totals: Totals

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
        func count(_ status: StepStatus) -> Int { steps.filter { $0.status == status.rawValue }.count }
        return Totals(
            steps: steps.count, succeeded: count(.succeeded), failed: count(.failed), skipped: count(.skipped),
            cancelled: count(.cancelled), planned: count(.planned),
            bytes: steps.reduce(0) { $0 + $1.bytes }, objects: steps.reduce(0) { $0 + $1.objects })
    }
}
