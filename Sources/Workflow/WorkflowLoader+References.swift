import YAML

extension Loader {
    // MARK: references and dependencies

    enum ReferenceContext {
        case variable(String)
        case storage
        case step(Step)
        case condition(Step)
    }

    mutating func checkReferences(in template: Template, varNames: [String], steps: [Step], context: ReferenceContext) {
        for part in template.expressions {
            // Offsets count from the first character after `${{`.
            let base = YAMLMark(line: part.mark.line, column: part.mark.column + 3)
            checkExpression(part.expression, base: base, varNames: varNames, steps: steps, context: context)
        }
    }

    mutating func checkExpression(_ expression: Expression, base: YAMLMark, varNames: [String], steps: [Step], context: ReferenceContext) {
        func at(_ offset: Int) -> YAMLMark { YAMLMark(line: base.line, column: base.column + offset) }
        var isCondition = false
        if case .condition = context { isCondition = true }
        for call in expression.calls {
            if ExpressionRoots.statusFunctions.contains(call.name) {
                if !isCondition {
                    error(at(call.offset), "\(call.name)() can only be used in `if:`")
                } else if call.arity != 0 {
                    error(at(call.offset), "\(call.name)() takes no arguments")
                }
            } else if let arity = ExpressionRoots.functions[call.name] {
                if !arity.contains(call.arity) {
                    error(at(call.offset), "\(call.name)() takes \(arity.lowerBound == arity.upperBound ? "\(arity.lowerBound)" : "\(arity.lowerBound) to \(arity.upperBound)") arguments, found \(call.arity)")
                }
            } else {
                let known = Array(ExpressionRoots.functions.keys) + (isCondition ? ExpressionRoots.statusFunctions : [])
                error(at(call.offset), "unknown function \"\(call.name)\"\(Suggestions.hint(for: call.name, in: known))")
            }
        }
        for reference in expression.references {
            let path = reference.path
            let mark = at(reference.offset)
            switch path[0] {
            case "vars":
                guard path.count == 2 else { error(mark, "write vars.NAME"); continue }
                if !varNames.contains(path[1]) {
                    if case .variable(let name) = context, name == path[1] {
                        error(mark, "variable \"\(name)\" refers to itself")
                    } else {
                        error(mark, "unknown variable \"\(path[1])\"\(Suggestions.hint(for: path[1], in: varNames))\(varNames.isEmpty ? "; declare it under `vars:`" : "")")
                    }
                }
            case "env":
                guard path.count == 2 else { error(mark, "write env.NAME"); continue }
            case "run":
                guard path.count == 2, ExpressionRoots.runFields.contains(path[1]) else {
                    let given = path.count > 1 ? path[1] : ""
                    error(mark, "unknown run field \"\(given)\"\(Suggestions.hint(for: given, in: ExpressionRoots.runFields)); available: \(ExpressionRoots.runFields.joined(separator: ", "))")
                    continue
                }
            case "steps":
                switch context {
                case .variable:
                    error(mark, "variables cannot refer to step outputs; use the step reference where the value is needed")
                    continue
                default: break
                }
                guard path.count >= 2 else { error(mark, "write steps.ID.outputs.NAME"); continue }
                let id = path[1]
                guard let target = steps.first(where: { $0.id == id }) else {
                    error(mark, "unknown step \"\(id)\"\(Suggestions.hint(for: id, in: steps.map(\.id)))")
                    continue
                }
                switch context {
                case .step(let step), .condition(let step):
                    if step.id == id { error(mark, "step \"\(id)\" refers to its own outputs"); continue }
                default: break
                }
                if path.count == 3, path[2] == "status" { continue }
                guard path.count >= 4, path[2] == "outputs" else {
                    error(mark, "write steps.\(id).outputs.NAME (or steps.\(id).status)")
                    continue
                }
                let output = path[3]
                if !target.action.outputs.contains(output) {
                    error(mark, "step \"\(id)\" (\(target.action.rawValue)) has no output \"\(output)\"\(Suggestions.hint(for: output, in: target.action.outputs)); it has \(target.action.outputs.joined(separator: ", "))")
                } else if path.count > 4, !target.action.structuredOutputs.contains(output) {
                    error(mark, "output \"\(output)\" of step \"\(id)\" is a single value; it has no field \"\(path[4])\"")
                }
            default:
                error(mark, "unknown name \"\(path[0])\" in expression\(Suggestions.hint(for: path[0], in: ExpressionRoots.all)); expressions start with vars., env., run. or steps.")
            }
        }
    }

    mutating func resolveDependencies(of step: inout Step, allSteps: [Step], storages: [StorageSpec], varNames: [String]) {
        var dependencies: [String] = []
        func add(_ id: String) {
            if id != step.id, !dependencies.contains(id) { dependencies.append(id) }
        }
        for need in step.explicitNeeds {
            if need == step.id {
                error(step.mark, "step \"\(step.id)\" needs itself")
            } else if allSteps.contains(where: { $0.id == need }) {
                add(need)
            } else {
                error(step.mark, "step \"\(step.id)\" needs unknown step \"\(need)\"\(Suggestions.hint(for: need, in: allSteps.map(\.id)))")
            }
        }
        for parameter in step.action.parameters.map(\.name) {
            guard let value = step.parameters[parameter] else { continue }
            for template in value.templates {
                checkReferences(in: template, varNames: varNames, steps: allSteps, context: .step(step))
                for part in template.expressions {
                    for reference in part.expression.references where reference.path.first == "steps" && reference.path.count > 1 {
                        if allSteps.contains(where: { $0.id == reference.path[1] }) { add(reference.path[1]) }
                    }
                }
                if let name = Location.storageName(in: template.literalPrefix), let storage = storages.first(where: { $0.name == name }) {
                    for dependency in storageDependencies(storage, allSteps: allSteps) { add(dependency) }
                }
            }
        }
        if let condition = step.condition {
            checkExpression(condition.expression, base: condition.mark, varNames: varNames, steps: allSteps, context: .condition(step))
            for reference in condition.expression.references where reference.path.first == "steps" && reference.path.count > 1 {
                if allSteps.contains(where: { $0.id == reference.path[1] }) { add(reference.path[1]) }
            }
        }
        step.dependencies = dependencies
    }

    mutating func storageDependencies(_ storage: StorageSpec, allSteps: [Step]) -> [String] {
        var result: [String] = []
        if let credentials = storage.credentials {
            if let target = allSteps.first(where: { $0.id == credentials }) {
                if target.action != .loadCredentials {
                    error(storage.mark, "`credentials` of storage \"\(storage.name)\" names step \"\(credentials)\", which is a \(target.action.rawValue) step, not load-credentials")
                } else {
                    result.append(credentials)
                }
            } else {
                let candidates = allSteps.filter { $0.action == .loadCredentials }.map(\.id)
                error(storage.mark, "`credentials` of storage \"\(storage.name)\" names unknown step \"\(credentials)\"\(Suggestions.hint(for: credentials, in: candidates))")
            }
        }
        for value in storage.settings.values {
            for template in value.templates {
                for part in template.expressions {
                    for reference in part.expression.references where reference.path.first == "steps" && reference.path.count > 1 {
                        result.append(reference.path[1])
                    }
                }
            }
        }
        return result
    }
}
