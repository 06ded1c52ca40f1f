public import YAML
import Foundation

/// What expressions can see while a run (or a plan) is in progress.
public struct EvaluationContext: Sendable {
    public var vars: [String: String]
    public var env: [String: String]
    public var run: [String: String]
    /// Outputs of steps that have finished.
    public var outputs: [String: [String: ExpressionValue]]
    /// Status of steps that have finished (`succeeded`, `failed`, ...).
    public var statuses: [String: String]
    /// What `success()` and `failure()` mean for the step being evaluated.
    public var success: Bool
    public var failure: Bool
    /// Whether the run has been cancelled (SIGINT/SIGTERM): what
    /// `cancelled()` returns.
    public var cancelled: Bool
    /// Planning (dry run): outputs a step could not predict are unknown,
    /// not null.
    public var planning = false

    public init(vars: [String: String] = [:], env: [String: String] = [:], run: [String: String] = [:],
                outputs: [String: [String: ExpressionValue]] = [:], statuses: [String: String] = [:],
                success: Bool = true, failure: Bool = false, cancelled: Bool = false) {
        self.vars = vars
        self.env = env
        self.run = run
        self.outputs = outputs
        self.statuses = statuses
        self.success = success
        self.failure = failure
        self.cancelled = cancelled
    }
}

/// Why an expression could not be evaluated.
public enum EvaluationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Refers to a step output that does not exist yet (in a plan: known only at run time).
    case unresolved(reference: String, mark: YAMLMark)
    case failed(message: String, mark: YAMLMark)

    public var description: String {
        switch self {
        case .unresolved(let reference, _): return "\(reference) is not known yet"
        case .failed(let message, _): return message
        }
    }

    public var mark: YAMLMark {
        switch self {
        case .unresolved(_, let mark), .failed(_, let mark): return mark
        }
    }
}

/// Evaluates expressions, templates and parameter values.
public enum Evaluator {
    /// The longest string an expression or a template may produce (1 MiB of
    /// UTF-8): `format()`, `join()`, `toJSON()` and interpolation fail with
    /// a clear error beyond it instead of growing without bound.
    public static let maxStringLength = 1 << 20

    static func checkLength(_ text: String, _ what: String, mark: YAMLMark) throws(EvaluationError) -> String {
        guard text.utf8.count <= maxStringLength else {
            throw .failed(message: "\(what) would be longer than \(maxStringLength) bytes (1 MiB)", mark: mark)
        }
        return text
    }

    public static func evaluate(_ expression: Expression, in context: EvaluationContext, mark: YAMLMark) throws(EvaluationError) -> ExpressionValue {
        switch expression {
        case .literal(let value):
            return value
        case .reference(let path, _):
            return try lookup(path, in: context, mark: mark)
        case .not(let inner):
            return .bool(!(try evaluate(inner, in: context, mark: mark).isTruthy))
        case .and(let l, let r):
            let left = try evaluate(l, in: context, mark: mark)
            return left.isTruthy ? try evaluate(r, in: context, mark: mark) : left
        case .or(let l, let r):
            let left = try evaluate(l, in: context, mark: mark)
            return left.isTruthy ? left : try evaluate(r, in: context, mark: mark)
        case .compare(let op, let l, let r):
            let left = try evaluate(l, in: context, mark: mark)
            let right = try evaluate(r, in: context, mark: mark)
            return .bool(compare(op, left, right))
        case .call(let name, let arguments, _):
            var values: [ExpressionValue] = []
            for argument in arguments { values.append(try evaluate(argument, in: context, mark: mark)) }
            return try call(name, values, context: context, mark: mark)
        }
    }

    /// Whether a step's `if:` holds. Without a status function
    /// (`success()`, `failure()`, `always()`, `cancelled()`), the expression
    /// is combined with `success()`, as in GitHub Actions.
    public static func condition(_ condition: Condition, in context: EvaluationContext) throws(EvaluationError) -> Bool {
        let usesStatus = condition.expression.calls.contains { ExpressionRoots.statusFunctions.contains($0.name) }
        if !usesStatus && !context.success { return false }
        return try evaluate(condition.expression, in: context, mark: condition.mark).isTruthy
    }

    /// Renders a template to text.
    public static func render(_ template: Template, in context: EvaluationContext) throws(EvaluationError) -> String {
        var text = ""
        for part in template.parts {
            switch part {
            case .literal(let literal): text += literal
            case .expression(let expression, _, let mark):
                text += try evaluate(expression, in: context, mark: mark).description
                _ = try checkLength(text, "the text of '\(template.source.prefix(60))'", mark: mark)
            }
        }
        return try checkLength(text, "the text of '\(template.source.prefix(60))'", mark: template.mark)
    }

    /// Resolves a parameter value; a string that is exactly one expression
    /// keeps the expression's type (a list stays a list).
    public static func resolve(_ value: Value, in context: EvaluationContext) throws(EvaluationError) -> ExpressionValue {
        switch value.kind {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .number(let n): return .number(n)
        case .string(let template):
            if template.parts.count == 1, case .expression(let expression, _, let mark) = template.parts[0] {
                return try evaluate(expression, in: context, mark: mark)
            }
            return .string(try render(template, in: context))
        case .list(let items):
            var result: [ExpressionValue] = []
            for item in items { result.append(try resolve(item, in: context)) }
            return .list(result)
        case .map(let entries):
            var result: [String: ExpressionValue] = [:]
            for entry in entries { result[entry.key] = try resolve(entry.value, in: context) }
            return .object(result)
        }
    }

    static func lookup(_ path: [String], in context: EvaluationContext, mark: YAMLMark) throws(EvaluationError) -> ExpressionValue {
        let dotted = path.joined(separator: ".")
        switch path[0] {
        case "vars":
            guard path.count == 2, let value = context.vars[path[1]] else {
                throw .failed(message: "unknown variable \(dotted)", mark: mark)
            }
            return .string(value)
        case "env":
            guard path.count == 2 else { throw .failed(message: "write env.NAME", mark: mark) }
            return context.env[path[1]].map(ExpressionValue.string) ?? .string("")
        case "run":
            guard path.count == 2, let value = context.run[path[1]] else {
                throw .failed(message: "unknown run field \(dotted)", mark: mark)
            }
            return .string(value)
        case "steps":
            guard path.count >= 3 else { throw .failed(message: "write steps.ID.outputs.NAME", mark: mark) }
            if path.count == 3, path[2] == "status" {
                guard let status = context.statuses[path[1]] else { throw .unresolved(reference: dotted, mark: mark) }
                return .string(status)
            }
            guard path.count >= 4, path[2] == "outputs" else { throw .failed(message: "write steps.ID.outputs.NAME", mark: mark) }
            guard let outputs = context.outputs[path[1]] else {
                if let status = context.statuses[path[1]], !context.planning {
                    throw .failed(message: "\(dotted) is not available: step \"\(path[1])\" \(status)", mark: mark)
                }
                throw .unresolved(reference: dotted, mark: mark)
            }
            guard let output = outputs[path[3]] else {
                if context.planning { throw .unresolved(reference: dotted, mark: mark) }
                return .null
            }
            return output.value(at: path[4...]) ?? .null
        default:
            throw .failed(message: "unknown name \(path[0])", mark: mark)
        }
    }

    static func compare(_ op: ComparisonOperator, _ l: ExpressionValue, _ r: ExpressionValue) -> Bool {
        let numeric: Bool
        switch (l, r) {
        case (.number, _), (_, .number): numeric = l.number != nil && r.number != nil
        default: numeric = false
        }
        if numeric, let a = l.number, let b = r.number {
            switch op {
            case .equal: return a == b
            case .notEqual: return a != b
            case .less: return a < b
            case .lessOrEqual: return a <= b
            case .greater: return a > b
            case .greaterOrEqual: return a >= b
            }
        }
        switch op {
        case .equal: return l == r || (isScalar(l) && isScalar(r) && l.description == r.description)
        case .notEqual: return !(l == r || (isScalar(l) && isScalar(r) && l.description == r.description))
        case .less: return l.description < r.description
        case .lessOrEqual: return l.description <= r.description
        case .greater: return l.description > r.description
        case .greaterOrEqual: return l.description >= r.description
        }
    }

    /// `format('{0} of {1}', a, b)`: one pass over the pattern, so a value
    /// that contains `{1}` is not expanded again; `{{` and `}}` are literal
    /// braces. The result is capped at ``maxStringLength``.
    static func format(_ pattern: String, _ values: [String], mark: YAMLMark) throws(EvaluationError) -> String {
        var result = ""
        let scalars = Array(pattern.unicodeScalars)
        var i = 0
        var size = 0
        func append(_ text: String) throws(EvaluationError) {
            size += text.utf8.count
            guard size <= maxStringLength else {
                throw .failed(message: "format() would be longer than \(maxStringLength) bytes (1 MiB)", mark: mark)
            }
            result += text
        }
        while i < scalars.count {
            let c = scalars[i]
            if c == "{", i + 1 < scalars.count, scalars[i + 1] == "{" { try append("{"); i += 2; continue }
            if c == "}", i + 1 < scalars.count, scalars[i + 1] == "}" { try append("}"); i += 2; continue }
            if c == "{" {
                var j = i + 1
                var digits = ""
                while j < scalars.count, ("0"..."9").contains(scalars[j]), digits.count < 3 { digits.unicodeScalars.append(scalars[j]); j += 1 }
                if !digits.isEmpty, j < scalars.count, scalars[j] == "}", let n = Int(digits), n < values.count {
                    try append(values[n])
                    i = j + 1
                    continue
                }
            }
            try append(String(c))
            i += 1
        }
        return result
    }

    static func isScalar(_ v: ExpressionValue) -> Bool {
        switch v {
        case .list, .object: return false
        default: return true
        }
    }

    static func call(_ name: String, _ args: [ExpressionValue], context: EvaluationContext, mark: YAMLMark) throws(EvaluationError) -> ExpressionValue {
        switch name {
        case "success": return .bool(context.success)
        case "failure": return .bool(context.failure)
        case "always": return .bool(true)
        case "cancelled": return .bool(context.cancelled)
        case "contains":
            if case .list(let items) = args[0] {
                return .bool(items.contains { compare(.equal, $0, args[1]) })
            }
            return .bool(args[0].description.contains(args[1].description))
        case "startsWith": return .bool(args[0].description.hasPrefix(args[1].description))
        case "endsWith": return .bool(args[0].description.hasSuffix(args[1].description))
        case "toJSON": return .string(try checkLength(args[0].jsonText, "toJSON()", mark: mark))
        case "join":
            let separator = args.count > 1 ? args[1].description : ","
            if case .list(let items) = args[0] {
                var total = 0
                for item in items {
                    total += item.description.utf8.count + separator.utf8.count
                    if total > maxStringLength + separator.utf8.count { break }
                }
                guard total <= maxStringLength + separator.utf8.count else {
                    throw .failed(message: "join() would be longer than \(maxStringLength) bytes (1 MiB)", mark: mark)
                }
                return .string(try checkLength(items.map(\.description).joined(separator: separator), "join()", mark: mark))
            }
            return .string(args[0].description)
        case "format":
            return .string(try format(args[0].description, Array(args.dropFirst()).map(\.description), mark: mark))
        default:
            throw .failed(message: "unknown function \(name)()", mark: mark)
        }
    }
}

