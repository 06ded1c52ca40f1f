import YAML

extension Loader {
    // MARK: references and dependencies

    enum ReferenceContext {
        case variable(String)
        case storage
        case step(Step)
        case condition(Step)
    }

    mutating func checkReferences(in template: Template, varNames: VarScope, steps: StepIndex, context: ReferenceContext) {
        for part in template.expressions {
            // Offsets count from the first character after `${{`.
            let base = YAMLMark(line: part.mark.line, column: part.mark.column + 3)
            checkExpression(part.expression, base: base, varNames: varNames, steps: steps, context: context)
        }
    }

    mutating func checkExpression(_ expression: Expression, base: YAMLMark, varNames: VarScope, steps: StepIndex, context: ReferenceContext) {
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
                error(at(call.offset), "unknown function \"\(call.name)\"\(hints.hint(for: call.name, in: known))")
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
                        error(mark, "unknown variable \"\(Self.clip(path[1]))\"\(hints.hint(for: path[1], in: varNames.visible))\(varNames.isEmpty ? "; declare it under `vars:`" : "")")
                    }
                }
            case "env":
                guard path.count == 2 else { error(mark, "write env.NAME"); continue }
            case "run":
                guard path.count == 2, ExpressionRoots.runFields.contains(path[1]) else {
                    let given = path.count > 1 ? path[1] : ""
                    error(mark, "unknown run field \"\(Self.clip(given))\"\(hints.hint(for: given, in: ExpressionRoots.runFields)); available: \(ExpressionRoots.runFields.joined(separator: ", "))")
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
                guard let target = steps.step(id) else {
                    if steps.declared.contains(id) { continue }   // a step with errors of its own
                    error(mark, "unknown step \"\(Self.clip(id))\"\(hints.hint(for: id, in: steps.ids))")
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
                    error(mark, "step \"\(id)\" (\(target.action.rawValue)) has no output \"\(output)\"\(hints.hint(for: output, in: target.action.outputs)); it has \(target.action.outputs.joined(separator: ", "))")
                } else if path.count > 4, !target.action.structuredOutputs.contains(output) {
                    error(mark, "output \"\(output)\" of step \"\(id)\" is a single value; it has no field \"\(path[4])\"")
                }
            default:
                error(mark, "unknown name \"\(path[0])\" in expression\(hints.hint(for: path[0], in: ExpressionRoots.all)); expressions start with vars., env., run. or steps.")
            }
        }
    }

    mutating func resolveDependencies(of step: inout Step, in index: StepIndex, storages: [StorageSpec], varNames: VarScope) {
        var dependencies: [String] = []
        var added: Set<String> = []
        let ownID = step.id
        func add(_ id: String) {
            if id != ownID, added.insert(id).inserted { dependencies.append(id) }
        }
        let marks = needMarks[step.id] ?? []
        for (position, need) in step.explicitNeeds.enumerated() {
            let mark = position < marks.count ? marks[position] : step.mark
            if need == step.id {
                error(mark, "step \"\(step.id)\" needs itself")
            } else if index.step(need) != nil {
                add(need)
            } else if !index.declared.contains(need) {
                error(mark, "step \"\(step.id)\" needs unknown step \"\(Self.clip(need))\"\(hints.hint(for: need, in: index.ids))")
            }
        }
        for parameter in step.action.parameters.map(\.name) {
            guard let value = step.parameters[parameter] else { continue }
            for template in value.templates {
                checkReferences(in: template, varNames: varNames, steps: index, context: .step(step))
                for part in template.expressions {
                    for reference in part.expression.references where reference.path.first == "steps" && reference.path.count > 1 {
                        if index.step(reference.path[1]) != nil { add(reference.path[1]) }
                    }
                }
                if let name = Location.storageName(in: template.literalPrefix), let dependencies = storageDependencies[name] {
                    for dependency in dependencies { add(dependency) }
                }
            }
        }
        if let condition = step.condition {
            checkExpression(condition.expression, base: condition.mark, varNames: varNames, steps: index, context: .condition(step))
            for reference in condition.expression.references where reference.path.first == "steps" && reference.path.count > 1 {
                if index.step(reference.path[1]) != nil { add(reference.path[1]) }
            }
        }
        step.dependencies = dependencies
    }

    /// The steps a storage depends on (its credentials step and the steps
    /// its settings refer to), checked once per storage.
    mutating func resolveStorageDependencies(_ storages: [StorageSpec], in index: StepIndex) {
        var credentialSteps: [String]?
        for storage in storages {
            var result: [String] = []
            if let credentials = storage.credentials {
                if let target = index.step(credentials) {
                    if target.action != .loadCredentials {
                        error(storage.mark, "`credentials` of storage \"\(storage.name)\" names step \"\(credentials)\", which is a \(target.action.rawValue) step, not load-credentials")
                    } else {
                        result.append(credentials)
                    }
                } else if !index.declared.contains(credentials) {
                    if credentialSteps == nil { credentialSteps = index.steps.filter { $0.action == .loadCredentials }.map(\.id) }
                    let candidates = credentialSteps ?? []
                    error(storage.mark, "`credentials` of storage \"\(storage.name)\" names unknown step \"\(Self.clip(credentials))\"\(hints.hint(for: credentials, in: candidates))")
                }
            }
            for value in storage.settings.values {
                for template in value.templates {
                    for part in template.expressions {
                        for reference in part.expression.references where reference.path.first == "steps" && reference.path.count > 1 {
                            if index.step(reference.path[1]) != nil { result.append(reference.path[1]) }
                        }
                    }
                }
            }
            storageDependencies[storage.name] = result
        }
    }
}

/// Steps by id, for lookups in O(1) while checking references.
struct StepIndex {
    let steps: [Step]
    let ids: [String]
    /// Every declared step id, including steps that failed to load.
    let declared: Set<String>
    private let byID: [String: Int]

    init(steps: [Step], declared: Set<String>) {
        self.steps = steps
        self.ids = steps.map(\.id)
        self.declared = declared
        var byID: [String: Int] = [:]
        for (i, step) in steps.enumerated() where byID[step.id] == nil { byID[step.id] = i }
        self.byID = byID
    }

    static let empty = StepIndex(steps: [], declared: [])

    func step(_ id: String) -> Step? { byID[id].map { steps[$0] } }
}

/// The variables an expression may use: all of them, or (inside `vars:`)
/// those declared before the one being checked. O(1) membership.
struct VarScope {
    let names: [String]
    private let position: [String: Int]
    let limit: Int

    init(names: [String]) {
        self.names = names
        var position: [String: Int] = [:]
        for (i, name) in names.enumerated() where position[name] == nil { position[name] = i }
        self.position = position
        self.limit = names.count
    }

    private init(names: [String], position: [String: Int], limit: Int) {
        self.names = names
        self.position = position
        self.limit = limit
    }

    /// The scope of the variable at `index`: only earlier ones.
    func before(_ index: Int) -> VarScope { VarScope(names: names, position: position, limit: index) }

    func contains(_ name: String) -> Bool { position[name].map { $0 < limit } ?? false }
    var isEmpty: Bool { limit == 0 }
    var visible: ArraySlice<String> { names[..<limit] }
}
