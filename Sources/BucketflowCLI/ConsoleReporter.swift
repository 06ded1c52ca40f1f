import Foundation
import Executor

/// Prints run events: one concise line per step for people, or one JSON
/// object per event for machines (`--log-format json`).
///
/// With live progress (`--progress`, see ``ProgressReporter``) the text lines
/// are printed above the redrawn block, and JSON output gains periodic
/// `progress` events; without it the output is exactly the plain lines.
struct ConsoleReporter: EventSink {
    let format: LogFormat
    /// Show each object as it moves (text format only).
    let verbose: Bool
    /// Live progress, when enabled and the run is not a plan.
    let progress: ProgressReporter?

    init(format: LogFormat, verbose: Bool, progress mode: ProgressMode? = nil, stderrIsTerminal: Bool = isatty(STDERR_FILENO) == 1) {
        self.format = format
        self.verbose = verbose
        let mode = mode ?? ProgressMode.current
        progress = mode.isEnabled(stderrIsTerminal: stderrIsTerminal)
            ? ProgressReporter(style: format == .json ? .json : .terminal, color: ProgressReporter.colorAllowed())
            : nil
    }

    func emit(_ event: RunEvent) {
        switch format {
        case .text: text(event)
        case .json: json(event)
        }
        progress?.handle(event)
    }

    private func out(_ line: String) {
        if let progress { progress.printAbove(line, toStderr: false) } else { Console.out(line) }
    }

    private func err(_ line: String) {
        if let progress { progress.printAbove(line, toStderr: true) } else { Console.error(line) }
    }

    private func seconds(_ s: Double) -> String { String(format: "%.2fs", s) }

    private func text(_ event: RunEvent) {
        switch event {
        case .runStarted(let workflow, let runID, let dryRun, let steps):
            out("\(dryRun ? "plan" : "run") \(workflow) (\(runID)): \(plural(steps, "step"))")
        case .stepStarted(let step, _, let attempt):
            if attempt > 1 { out("  \(step): attempt \(attempt)") }
        case .stepRetrying(let step, let attempt, let delay, let error):
            err("  \(step): failed, retrying (attempt \(attempt)) in \(seconds(delay)): \(error)")
        case .stepSucceeded(let step, let action, let s, _, _, let summary):
            out("  ok       \(step) [\(action)] \(seconds(s))\(summary.map { ": \($0)" } ?? "")")
        case .stepFailed(let step, let action, let s, let code, let message, let continueOnError):
            err("  FAILED   \(step) [\(action)] \(seconds(s)): \(message) (\(code))\(continueOnError ? " — continuing (continue-on-error)" : "")")
        case .stepSkipped(let step, let reason):
            out("  skipped  \(step): \(reason)")
        case .stepCancelled(let step, let reason):
            out("  cancelled \(step): \(reason)")
        case .stepPlanned:
            break // plans are printed whole by PlanPrinter
        case .objectTransferred(let step, let operation, let target, let bytes):
            if verbose { out("    \(step): \(operation) \(target) (\(ByteCount.format(bytes)))") }
        case .warning(let step, let message):
            err("  warning\(step.map { " \($0)" } ?? ""): \(message)")
        case .runFinished:
            break // the command prints the outcome line with the report path
        }
    }

    private func json(_ event: RunEvent) {
        var object: [String: JSONValue] = ["time": .string(Timestamps.rfc3339(Date()))]
        switch event {
        case .runStarted(let workflow, let runID, let dryRun, let steps):
            object["event"] = "run-started"; object["workflow"] = .string(workflow); object["runId"] = .string(runID)
            object["dryRun"] = .bool(dryRun); object["steps"] = .number(Double(steps))
        case .stepStarted(let step, let action, let attempt):
            object["event"] = "step-started"; object["step"] = .string(step); object["action"] = .string(action); object["attempt"] = .number(Double(attempt))
        case .stepRetrying(let step, let attempt, let delay, let error):
            object["event"] = "step-retrying"; object["step"] = .string(step); object["attempt"] = .number(Double(attempt))
            object["delaySeconds"] = .number(delay); object["error"] = .string(error)
        case .stepSucceeded(let step, let action, let s, let bytes, let objects, let summary):
            object["event"] = "step-succeeded"; object["step"] = .string(step); object["action"] = .string(action)
            object["durationSeconds"] = .number(s); object["bytes"] = .number(Double(bytes)); object["objects"] = .number(Double(objects))
            if let summary { object["summary"] = .string(summary) }
        case .stepFailed(let step, let action, let s, let code, let message, let continueOnError):
            object["event"] = "step-failed"; object["step"] = .string(step); object["action"] = .string(action)
            object["durationSeconds"] = .number(s); object["code"] = .string(code); object["message"] = .string(message)
            object["continueOnError"] = .bool(continueOnError)
        case .stepSkipped(let step, let reason):
            object["event"] = "step-skipped"; object["step"] = .string(step); object["reason"] = .string(reason)
        case .stepCancelled(let step, let reason):
            object["event"] = "step-cancelled"; object["step"] = .string(step); object["reason"] = .string(reason)
        case .stepPlanned(let step, let action, let lines):
            object["event"] = "step-planned"; object["step"] = .string(step); object["action"] = .string(action)
            object["plan"] = .array(lines.map(JSONValue.string))
        case .objectTransferred(let step, let operation, let target, let bytes):
            object["event"] = "object-transferred"; object["step"] = .string(step); object["operation"] = .string(operation)
            object["target"] = .string(target); object["bytes"] = .number(Double(bytes))
        case .warning(let step, let message):
            object["event"] = "warning"; object["message"] = .string(message)
            if let step { object["step"] = .string(step) }
        case .runFinished(let status, let s):
            object["event"] = "run-finished"; object["status"] = .string(status); object["durationSeconds"] = .number(s)
        }
        Console.out(JSONValue.object(object).encoded())
    }
}

/// Minimal JSON for event lines (keys sorted, one line).
enum JSONValue: Encodable, ExpressibleByStringLiteral {
    case string(String)
    case number(Double)
    case bool(Bool)
    case array([JSONValue])
    case object([String: JSONValue])

    init(stringLiteral value: String) { self = .string(value) }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let s): try container.encode(s)
        case .number(let n):
            if n.rounded() == n && abs(n) < 9e15 { try container.encode(Int64(n)) } else { try container.encode(n) }
        case .bool(let b): try container.encode(b)
        case .array(let a): try container.encode(a)
        case .object(let o): try container.encode(o)
        }
    }

    func encoded() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
