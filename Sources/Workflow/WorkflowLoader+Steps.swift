import Foundation
import YAML

extension Loader {
    static let stepKeys = ["action", "needs", "if", "retry", "timeout", "continue-on-error", "description"]

    // MARK: steps

    /// Every key any step may have, for steps whose action is missing or unknown.
    static let anyStepKeys: [String] = {
        var keys = stepKeys
        for action in ActionKind.allCases {
            for parameter in action.parameters where !keys.contains(parameter.name) { keys.append(parameter.name) }
        }
        return keys
    }()

    mutating func loadSteps(_ node: YAMLNode?, rootMark: YAMLMark, storages: [StorageSpec]) -> [Step] {
        guard let node else {
            error(rootMark, "missing required key \"steps\"")
            return []
        }
        guard let pairs = node.mapping else {
            error(node.mark, "`steps` must be a mapping of step ids to steps, found a \(node.kindName)")
            return []
        }
        if pairs.isEmpty { error(node.mark, "`steps` is empty; add at least one step") }
        for pair in pairs {
            if let id = pair.key.string, Self.isIdentifier(id) { declaredStepIDs.insert(id) }
        }
        var steps: [Step] = []
        for pair in pairs {
            guard let id = pair.key.string, Self.isIdentifier(id) else {
                error(pair.key.mark, "step ids may contain letters, digits, '-' and '_' and must start with a letter or '_'")
                continue
            }
            if let step = loadStep(id: id, idMark: pair.key.mark, node: pair.value, storages: storages) {
                steps.append(step)
            }
        }
        return steps
    }

    /// Checks every key of a step, even when its `action` is missing or
    /// misspelt (then its parameters are checked against every action's).
    mutating func loadStep(id: String, idMark: YAMLMark, node: YAMLNode, storages: [StorageSpec]) -> Step? {
        guard let pairs = node.mapping else {
            error(node.mark, "step \"\(id)\" must be a mapping with an `action`, found a \(node.kindName)")
            return nil
        }
        var action: ActionKind?
        if let actionNode = node["action"] {
            if let actionName = actionNode.string, actionNode.scalar != nil, let kind = ActionKind(rawValue: actionName) {
                action = kind
            } else {
                let names = ActionKind.allCases.map(\.rawValue)
                if actionNode.scalar != nil {
                    let given = actionNode.string ?? ""
                    let hint = hints.hint(for: given, in: names)
                    error(actionNode.mark, "unknown action \"\(Self.clip(given))\" in step \"\(id)\"\(hint.isEmpty ? "; use one of \(names.joined(separator: ", "))" : hint)")
                } else {
                    error(actionNode.mark, "`action` of step \"\(id)\" must be a string, one of \(names.joined(separator: ", ")); found a \(actionNode.kindName)")
                }
            }
        } else {
            error(idMark, "step \"\(id)\" is missing required key \"action\" (one of \(ActionKind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let parameterSpecs = action?.parameters ?? []
        let allowed = action.map { Self.stepKeys + $0.parameters.map(\.name) } ?? Self.anyStepKeys
        let actionNote = action.map { " (action \($0.rawValue))" } ?? ""
        var parameters: [String: Value] = [:]
        var step = Step(
            id: id, mark: idMark, action: action ?? .list, description: nil, explicitNeeds: [], dependencies: [],
            condition: nil, retry: .none, timeout: nil, continueOnError: false, parameters: [:])
        var marks: [YAMLMark] = []
        for pair in pairs {
            guard let key = pair.key.string, pair.key.scalar != nil else {
                error(pair.key.mark, "keys of step \"\(id)\" must be strings, found a \(pair.key.kindName)")
                continue
            }
            guard allowed.contains(key) else {
                error(pair.key.mark, "unknown key \"\(Self.clip(key))\" in step \"\(id)\"\(actionNote)\(hints.hint(for: key, in: allowed))")
                continue
            }
            let v = pair.value
            switch key {
            case "action":
                continue
            case "description":
                if let s = v.string, v.scalar != nil { step.description = s } else { error(v.mark, "`description` must be a string, found a \(v.kindName)") }
            case "needs":
                if let s = v.string, v.scalar != nil, !v.isNull {
                    step.explicitNeeds = [s]
                    marks = [v.mark]
                } else if let list = v.sequence {
                    for item in list {
                        if let s = item.string, item.scalar != nil, !item.isNull {
                            step.explicitNeeds.append(s)
                            marks.append(item.mark)
                        } else {
                            error(item.mark, "`needs` entries must be step ids, found a \(item.kindName)")
                        }
                    }
                } else {
                    error(v.mark, "`needs` must be a step id or a list of step ids, found a \(v.kindName)")
                }
            case "if":
                step.condition = loadCondition(v, stepID: id)
            case "retry":
                step.retry = loadRetry(v)
            case "timeout":
                step.timeout = duration(v, key: "timeout", in: NumericLimits.timeoutSeconds, example: "30s, 5m or 1h")
            case "continue-on-error":
                if let b = v.bool { step.continueOnError = b } else { error(v.mark, "`continue-on-error` must be true or false") }
            default:
                guard let spec = parameterSpecs.first(where: { $0.name == key }) else { continue }
                if let checked = checkParameter(spec, v, stepID: id, storages: storages) {
                    parameters[key] = checked
                }
            }
        }
        needMarks[id] = marks
        guard let action else { return nil }
        for spec in parameterSpecs where spec.required && pairs.first(where: { $0.key.string == spec.name }) == nil {
            error(idMark, "step \"\(id)\" (action \(action.rawValue)) is missing required key \"\(spec.name)\"")
        }
        if action == .loadCredentials {
            let hasFrom = parameters["from"] != nil
            let isEnv = parameters["format"]?.template?.literal == "env" || parameters["env-prefix"] != nil
            if !hasFrom && !isEnv {
                error(idMark, "step \"\(id)\" (load-credentials) needs `from` (a credentials file) or `env-prefix` (environment variables)")
            }
        }
        step.parameters = parameters
        return step
    }

    /// A duration in `range` (seconds), or a located error naming the range.
    mutating func duration(_ node: YAMLNode, key: String, in range: ClosedRange<Double>, example: String) -> Double? {
        let text = node.scalar != nil && !node.isNull ? node.string : nil
        guard let text, let seconds = Units.unboundedSeconds(text) else {
            error(node.mark, "`\(key)` must be a duration such as \(example), found \(Self.shown(node))")
            return nil
        }
        guard range.contains(seconds) else {
            error(node.mark, "`\(key)` must be from \(Units.describe(seconds: range.lowerBound)) to \(Units.describe(seconds: range.upperBound)), found \(Self.shown(node))")
            return nil
        }
        return seconds
    }

    mutating func loadCondition(_ node: YAMLNode, stepID: String) -> Condition? {
        if let b = node.bool {
            return Condition(expression: .literal(.bool(b)), source: b ? "true" : "false", mark: node.mark)
        }
        guard let raw = node.string, node.scalar != nil else {
            error(node.mark, "`if` must be an expression such as failure() or \"steps.list.outputs.count > 0\"")
            return nil
        }
        var text = raw
        let quoted = node.scalar.map { $0.style == .singleQuoted || $0.style == .doubleQuoted } ?? false
        var offset = quoted ? 1 : 0
        let trimmed = raw.trimmingWhitespace()
        if trimmed.hasPrefix("${{"), trimmed.hasSuffix("}}"), trimmed.components(separatedBy: "${{").count == 2 {
            let leading = raw.count - raw.drop(while: { $0 == " " }).count
            offset += leading + 3
            text = String(trimmed.dropFirst(3).dropLast(2))
        }
        do {
            let expression = try ExpressionParser.parse(text)
            return Condition(expression: expression, source: text.trimmingWhitespace(), mark: YAMLMark(line: node.mark.line, column: node.mark.column + offset))
        } catch {
            self.error(YAMLMark(line: node.mark.line, column: node.mark.column + offset + error.offset), "invalid expression in `if` of step \"\(stepID)\": \(error.message)")
            return nil
        }
    }

    mutating func loadRetry(_ node: YAMLNode) -> RetryPolicySpec {
        var policy = RetryPolicySpec(attempts: 3, backoff: 1, maxBackoff: 300)
        let attempts = NumericLimits.retryAttempts
        if node.scalar != nil {
            if let n = wholeNumber(node, key: "retry", in: attempts) { policy.attempts = n; return policy }
            return .none
        }
        guard let pairs = node.mapping else {
            error(node.mark, "`retry` must be a number of attempts or a mapping like {attempts: 4, backoff: 1s}, found a \(node.kindName)")
            return .none
        }
        for pair in pairs {
            let key = pair.key.string ?? ""
            switch key {
            case "attempts":
                if let n = wholeNumber(pair.value, key: "attempts", in: attempts) { policy.attempts = n }
            case "backoff", "max-backoff":
                if let seconds = duration(pair.value, key: key, in: NumericLimits.backoffSeconds, example: "500ms, 1s or 2m") {
                    if key == "backoff" { policy.backoff = seconds } else { policy.maxBackoff = seconds }
                }
            default:
                error(pair.key.mark, "unknown key \"\(Self.clip(key))\" in retry\(hints.hint(for: key, in: ["attempts", "backoff", "max-backoff"]))")
            }
        }
        return policy
    }
}
