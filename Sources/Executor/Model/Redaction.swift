import Credentials
import Foundation
import Workflow

/// The one redaction layer every output of a run passes through (console
/// events, JSON log lines, the report, plans, history): every loaded secret
/// value becomes `[REDACTED]`, whatever route a workflow gave it (an error
/// message, a key name, an output, a variable), as CI systems mask secrets.
///
/// Server messages are also scrubbed of `Signature=` and `Credential=`
/// values, which carry request signatures and key ids.
struct Redaction: Sendable {
    let redactor: Redactor

    init(secrets: [String]) { redactor = Redactor(secrets: secrets) }

    func text(_ text: String) -> String {
        Self.scrubSignatures(redactor.redact(text))
    }

    /// `Signature=abc…`, `Credential=AKIA…/…` → `Signature=[REDACTED]`.
    static func scrubSignatures(_ text: String) -> String {
        // Every name below ends with "=": most texts have none, skip them cheaply.
        guard text.utf8.contains(UInt8(ascii: "=")) else { return text }
        guard text.contains("Signature=") || text.contains("Credential=") || text.contains("X-Amz-Signature") else { return text }
        var result = ""
        var rest = Substring(text)
        let names = ["Signature=", "Credential=", "X-Amz-Signature=", "X-Amz-Credential="]
        while let (range, _) = names.compactMap({ name in rest.range(of: name).map { ($0, name) } }).min(by: { $0.0.lowerBound < $1.0.lowerBound }) {
            result += rest[..<range.upperBound]
            rest = rest[range.upperBound...]
            let end = rest.firstIndex(where: { $0 == "," || $0 == " " || $0 == "&" || $0 == "\"" || $0 == "<" || $0 == "\n" }) ?? rest.endIndex
            result += "[REDACTED]"
            rest = rest[end...]
        }
        return result + rest
    }

    func value(_ value: ExpressionValue) -> ExpressionValue {
        switch value {
        case .string(let s): return .string(text(s))
        case .list(let items): return .list(items.map(self.value))
        case .object(let object):
            var result: [String: ExpressionValue] = [:]
            for (key, item) in object { result[text(key)] = self.value(item) }
            return .object(result)
        default: return value
        }
    }

    func apply(to report: RunReport) -> RunReport {
        var report = report
        report.run.vars = report.run.vars.mapValues(text)
        for index in report.steps.indices {
            var step = report.steps[index]
            step.outputs = step.outputs.mapValues(value)
            step.error = step.error.map { ErrorInfo(code: $0.code, message: text($0.message)) }
            step.skipReason = step.skipReason.map(text)
            step.plan = step.plan?.map(text)
            step.transfers = step.transfers.map { record in
                var record = record
                record.source = record.source.map(text)
                record.target = record.target.map(text)
                record.error = record.error.map { ErrorInfo(code: $0.code, message: text($0.message)) }
                return record
            }
            report.steps[index] = step
        }
        return report
    }
}
