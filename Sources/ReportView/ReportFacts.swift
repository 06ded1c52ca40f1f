public import Foundation
public import Executor
import Scheduler

/// Derived numbers shared by the text and HTML views: time offsets from the
/// run's start, failures, throughput.
public struct ReportFacts: Sendable {
    public struct Bar: Sendable, Hashable {
        public var label: String
        /// Seconds from the run's start.
        public var start: Double
        public var end: Double
        public var status: String
        public var detail: String
    }

    public struct Failure: Sendable, Hashable {
        public var step: String
        public var record: ObjectRecord
    }

    public let report: RunReport
    public let runStart: Date?
    /// The run's length in seconds (at least the span of its steps).
    public let span: Double

    public init(_ report: RunReport) {
        self.report = report
        runStart = Timestamps.parse(report.run.startedAt)
        var span = report.run.durationSeconds
        if let runStart {
            for step in report.steps {
                if let end = step.finishedAt.flatMap(Timestamps.parse) { span = max(span, end.timeIntervalSince(runStart)) }
                for record in step.transfers {
                    if let end = record.finishedAt.flatMap(Timestamps.parse) { span = max(span, end.timeIntervalSince(runStart)) }
                }
            }
        }
        self.span = max(span, 0.001)
    }

    public var isPlan: Bool { report.run.status == .planned || report.run.dryRun }

    func offset(_ text: String?) -> Double? {
        guard let runStart, let text, let date = Timestamps.parse(text) else { return nil }
        return max(0, date.timeIntervalSince(runStart))
    }

    /// One bar per step that ran.
    public var stepBars: [Bar] {
        report.steps.compactMap { step in
            guard let start = offset(step.startedAt) else { return nil }
            let end = offset(step.finishedAt) ?? start + (step.durationSeconds ?? 0)
            var detail = "\(step.status.rawValue), \(Format.seconds(end - start))"
            if step.attempts > 1 { detail += ", \(step.attempts) attempts" }
            return Bar(label: step.id, start: start, end: max(end, start), status: step.status.rawValue, detail: detail)
        }
    }

    /// Per-object bars of one step (objects that have transfer times).
    public func objectBars(_ step: RunReport.StepReport) -> [Bar] {
        step.transfers.compactMap { record in
            guard let start = offset(record.startedAt), let end = offset(record.finishedAt) else { return nil }
            return Bar(label: record.name, start: start, end: max(end, start), status: record.outcome.rawValue,
                       detail: "\(record.operation.rawValue) \(record.outcome.rawValue), \(ByteCount.format(record.bytes)), \(Format.seconds(end - start))")
        }
    }

    /// Every failed or refused object, in step order.
    public var failures: [Failure] {
        report.steps.flatMap { step in
            step.transfers.filter { $0.outcome == .failed || $0.outcome == .refused }.map { Failure(step: step.id, record: $0) }
        }
    }

    /// Transferred bytes per second over the whole run.
    public var averageThroughput: Double { Double(report.totals.bytes) / span }

    /// Transferred bytes per second in `bins` equal slices of the run,
    /// spreading each transferred object's bytes evenly over its transfer time.
    /// Nil when no object has transfer times.
    public func throughput(bins: Int) -> [Double]? {
        var result = Array(repeating: 0.0, count: bins)
        let width = span / Double(bins)
        var any = false
        for step in report.steps {
            for record in step.transfers where record.outcome == .transferred && record.bytes > 0 {
                guard let start = offset(record.startedAt), let end = offset(record.finishedAt) else { continue }
                any = true
                let duration = max(end - start, 1e-6)
                let rate = Double(record.bytes) / duration
                if end - start < 1e-6 {
                    let index = min(bins - 1, Int(start / width))
                    result[index] += Double(record.bytes) / width
                    continue
                }
                var index = min(bins - 1, Int(start / width))
                while index < bins {
                    let lo = max(start, Double(index) * width), hi = min(end, Double(index + 1) * width)
                    if hi <= lo && Double(index) * width > end { break }
                    if hi > lo { result[index] += rate * (hi - lo) / width }
                    index += 1
                }
            }
        }
        return any ? result : nil
    }
}

/// Small formatting helpers.
public enum Format {
    public static func seconds(_ s: Double) -> String {
        if s > 0 && s < 0.0005 { return "<1ms" }
        if s < 1 { return String(format: "%.0fms", s * 1000) }
        if s < 60 { return String(format: "%.2fs", s) }
        let minutes = Int(s) / 60
        if minutes < 60 { return String(format: "%dm%02ds", minutes, Int(s) % 60) }
        return String(format: "%dh%02dm", minutes / 60, minutes % 60)
    }

    public static func rate(_ bytesPerSecond: Double) -> String {
        ByteCount.format(Int64(bytesPerSecond.isFinite ? bytesPerSecond : 0)) + "/s"
    }
}
