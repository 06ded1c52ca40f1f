import Foundation
import YAML

extension Loader {
    static let stepKeys = ["action", "needs", "if", "retry", "timeout", "continue-on-error", "description"]

    // MARK: steps

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

    mutating func loadStep(id: String, idMark: YAMLMark, node: YAMLNode, storages: [StorageSpec]) -> Step? {
        guard let pairs = node.mapping else {
            error(node.mark, "step \"\(id)\" must be a mapping with an `action`, found a \(node.kindName)")
            return nil
        }
        guard let actionNode = node["action"] else {
            error(idMark, "step \"\(id)\" is missing required key \"action\" (one of \(ActionKind.allCases.map(\.rawValue).joined(separator: ", ")))")
            return nil
        }
        guard let actionName = actionNode.string, let action = ActionKind(rawValue: actionName) else {
            let given = actionNode.string ?? ""
            error(actionNode.mark, "unknown action \"\(given)\" in step \"\(id)\"\(Suggestions.hint(for: given, in: ActionKind.allCases.map(\.rawValue)))")
            return nil
        }
        let parameterSpecs = action.parameters
        let allowed = Self.stepKeys + parameterSpecs.map(\.name)
        var parameters: [String: Value] = [:]
        var step = Step(
            id: id, mark: idMark, action: action, description: nil, explicitNeeds: [], dependencies: [],
            condition: nil, retry: .none, timeout: nil, continueOnError: false, parameters: [:])
        for pair in pairs {
            guard let key = pair.key.string else { continue }
            guard allowed.contains(key) else {
                error(pair.key.mark, "unknown key \"\(key)\" in step \"\(id)\" (action \(action.rawValue))\(Suggestions.hint(for: key, in: allowed))")
                continue
            }
            let v = pair.value
            switch key {
            case "action":
                continue
            case "description":
                step.description = v.string
            case "needs":
                if let s = v.string, v.scalar != nil, !v.isNull {
                    step.explicitNeeds = [s]
                } else if let list = v.sequence {
                    for item in list {
                        if let s = item.string, item.scalar != nil { step.explicitNeeds.append(s) } else {
                            error(item.mark, "`needs` entries must be step ids")
                        }
                    }
                } else {
                    error(v.mark, "`needs` must be a step id or a list of step ids")
                }
            case "if":
                step.condition = loadCondition(v, stepID: id)
            case "retry":
                step.retry = loadRetry(v)
            case "timeout":
                if let text = v.string, let seconds = Units.seconds(text), seconds > 0 { step.timeout = seconds } else {
                    error(v.mark, "`timeout` must be a duration such as 30s, 5m or 1h")
                }
            case "continue-on-error":
                if let b = v.bool { step.continueOnError = b } else { error(v.mark, "`continue-on-error` must be true or false") }
            default:
                let spec = parameterSpecs.first { $0.name == key }!
                if let checked = checkParameter(spec, v, stepID: id, storages: storages) {
                    parameters[key] = checked
                }
            }
        }
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
        if let n = node.int {
            guard n >= 1 else { error(node.mark, "`retry` attempts must be at least 1"); return .none }
            policy.attempts = n
            return policy
        }
        guard let pairs = node.mapping else {
            error(node.mark, "`retry` must be a number of attempts or a mapping like {attempts: 4, backoff: 1s}")
            return .none
        }
        for pair in pairs {
            let key = pair.key.string ?? ""
            switch key {
            case "attempts":
                if let n = pair.value.int, n >= 1 { policy.attempts = n } else { error(pair.value.mark, "`attempts` must be a whole number of at least 1") }
            case "backoff", "max-backoff":
                if let text = pair.value.string, let seconds = Units.seconds(text) {
                    if key == "backoff" { policy.backoff = seconds } else { policy.maxBackoff = seconds }
                } else {
                    error(pair.value.mark, "`\(key)` must be a duration such as 500ms, 1s or 2m")
                }
            default:
                error(pair.key.mark, "unknown key \"\(key)\" in retry\(Suggestions.hint(for: key, in: ["attempts", "backoff", "max-backoff"]))")
            }
        }
        return policy
    }
}
