import Foundation
public import Executor
import Scheduler

/// The human summary `bucketflow report RUN.json` prints: outcome, a step
/// table, every failed or refused object with its error, and for plans what
/// would change.
public enum TextSummary {
    public static func render(_ report: RunReport, path: String? = nil) -> String {
        let facts = ReportFacts(report)
        var lines: [String] = []
        let run = report.run
        let kind = facts.isPlan ? "Plan" : "Run"
        lines.append("\(kind) \(report.workflow.name) (\(run.id)): \(run.status.rawValue) in \(Format.seconds(run.durationSeconds)), exit code \(run.exitCode)")
        lines.append("  workflow  \(report.workflow.file)")
        lines.append("  started   \(run.startedAt)  finished \(run.finishedAt)  on \(run.host) (pid \(run.pid))")
        if !run.vars.isEmpty {
            lines.append("  vars      " + run.vars.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        }
        if let path { lines.append("  report    \(path)") }
        lines.append("")

        let header = ["STEP", "ACTION", "STATUS", "TRIES", "START", "DURATION", "OBJECTS", "BYTES", "NOTE"]
        var rows: [[String]] = []
        for step in report.steps {
            let start = facts.offset(step.startedAt).map { "+" + Format.seconds($0) } ?? "-"
            let duration = step.durationSeconds.map(Format.seconds) ?? "-"
            var objects = "\(step.objects)"
            var extra: [String] = []
            if step.counts.unchanged > 0 { extra.append("\(step.counts.unchanged) unchanged") }
            if step.counts.failed > 0 { extra.append("\(step.counts.failed) failed") }
            if step.counts.refused > 0 { extra.append("\(step.counts.refused) refused") }
            if step.counts.cancelled > 0 { extra.append("\(step.counts.cancelled) cancelled") }
            if step.counts.inspected > 0 { extra.append("\(step.counts.inspected) inspected") }
            if !extra.isEmpty { objects += " (" + extra.joined(separator: ", ") + ")" }
            var note = ""
            if let error = step.error { note = "\(error.code.rawValue): \(oneLine(error.message))" }
            else if let reason = step.skipReason { note = oneLine(reason) }
            if step.retries > 0 { note = "\(step.retries) request retries" + (note.isEmpty ? "" : "; " + note) }
            if step.continueOnError && step.status == .failed { note += " (continue-on-error)" }
            rows.append([step.id, step.action, step.status.rawValue, "\(step.attempts)", start, duration, objects, ByteCount.format(step.bytes), note])
        }
        lines += table(header: header, rows: rows)

        let totals = report.totals
        lines.append("")
        var objectLine = "Objects: \(totals.objects) \(facts.isPlan ? "to transfer" : "transferred") (\(ByteCount.format(totals.bytes)))"
        for (count, word) in [(totals.objectsUnchanged, "unchanged"), (totals.objectsFailed, "failed"), (totals.objectsRefused, "refused"), (totals.objectsCancelled, "cancelled")] where count > 0 {
            objectLine += ", \(count) \(word)"
        }
        if !facts.isPlan && totals.bytes > 0 { objectLine += "; \(Format.rate(facts.averageThroughput)) over the run" }
        lines.append(objectLine)
        lines.append("Steps: \(totals.succeeded) succeeded, \(totals.failed) failed, \(totals.skipped) skipped, \(totals.cancelled) cancelled" + (totals.planned > 0 ? ", \(totals.planned) planned" : "") + (totals.retries > 0 ? "; \(totals.retries) request retries" : ""))

        let failures = facts.failures
        if !failures.isEmpty {
            lines.append("")
            lines.append("Failed objects (\(failures.count)):")
            for failure in failures {
                let record = failure.record
                let route = [record.source, record.target].compactMap { $0 }.joined(separator: " -> ")
                let error = record.error.map { "\($0.code.rawValue): \(oneLine($0.message))" } ?? "no error recorded"
                lines.append("  \(failure.step): \(record.operation.rawValue) \(record.outcome.rawValue) \(route): \(error)")
            }
        }

        if facts.isPlan {
            lines.append("")
            lines.append("Plan:")
            for step in report.steps {
                lines.append("  \(step.id) [\(step.action)] \(step.status.rawValue)")
                for line in step.plan ?? [] { lines.append("    \(oneLine(line))") }
            }
            if let summary = report.summary {
                lines.append("")
                lines.append(summary.line + (summary.changesPending ? "" : " (nothing to change)"))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Control characters (a newline inside a server message, an escape
    /// sequence in a key) must not reach the terminal raw.
    static func oneLine(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x0A, 0x0D: result += " "
            case 0x09: result += " "
            case 0..<0x20, 0x7F, 0x80..<0xA0: result += String(format: "\\u{%X}", scalar.value)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    static func table(header: [String], rows: [[String]]) -> [String] {
        let safeRows = rows.map { $0.map(oneLine) }
        var widths = header.map(\.count)
        for row in safeRows { for (i, cell) in row.enumerated() where i < header.count - 1 { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in i == cells.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingTrailingSpaces()
        }
        return [line(header)] + safeRows.map(line)
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
