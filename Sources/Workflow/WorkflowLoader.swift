public import Foundation
import YAML
import Cron

/// Reads a workflow file and validates it completely, collecting every
/// problem in one pass.
public enum WorkflowLoader {
    /// Loads and validates the workflow at `path`.
    ///
    /// - Parameter path: As the user typed it; diagnostics repeat it verbatim.
    /// - Throws: ``WorkflowError`` listing every problem as `file:line:col: message`.
    public static func load(path: String) throws(WorkflowError) -> Workflow {
        let url = URL(fileURLWithPath: path)
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw WorkflowError([Diagnostic(file: path, mark: YAMLMark(line: 1, column: 1), message: "cannot read the workflow file: \(Self.reason(error))")])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw WorkflowError([Diagnostic(file: path, mark: YAMLMark(line: 1, column: 1), message: "the workflow file is not UTF-8 text")])
        }
        return try load(source: text, file: path, directory: url.deletingLastPathComponent().standardizedFileURL, sha256: SHA256Hex.hash(data))
    }

    /// Validates workflow text; `file` is only used in diagnostics.
    public static func load(source: String, file: String, directory: URL, sha256: String? = nil) throws(WorkflowError) -> Workflow {
        let root: YAMLNode?
        do {
            root = try YAMLParser.parse(source)
        } catch {
            throw WorkflowError([Diagnostic(file: file, mark: error.mark, message: error.message)])
        }
        var loader = Loader(file: file)
        guard let root else {
            throw WorkflowError([Diagnostic(file: file, mark: YAMLMark(line: 1, column: 1), message: "the workflow file is empty; it needs at least `version: 1`, `name:` and `steps:`")])
        }
        let workflow = loader.load(root: root, directory: directory, sha256: sha256 ?? SHA256Hex.hash(Data(source.utf8)))
        if !loader.diagnostics.isEmpty || workflow == nil {
            throw WorkflowError(loader.diagnostics)
        }
        return workflow!
    }

    static func reason(_ error: any Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain,
           let message = strerror(Int32(underlying.code)) {
            return String(cString: message).lowercased()
        }
        if ns.domain == NSCocoaErrorDomain, ns.code == NSFileReadNoSuchFileError { return "no such file" }
        return ns.localizedDescription
    }
}

/// The names expressions may use at the top level.
enum ExpressionRoots {
    static let all = ["vars", "env", "run", "steps"]
    static let runFields = ["id", "date", "time", "timestamp", "started-at", "workflow"]
    static let statusFunctions = ["success", "failure", "always", "cancelled"]
    static let functions: [String: ClosedRange<Int>] = [
        "contains": 2...2, "startsWith": 2...2, "endsWith": 2...2, "toJSON": 1...1, "join": 1...2, "format": 1...20,
    ]
}

private struct Loader {
    let file: String
    var diagnostics: [Diagnostic] = []

    init(file: String) { self.file = file }

    mutating func error(_ mark: YAMLMark, _ message: String) {
        diagnostics.append(Diagnostic(file: file, mark: mark, message: message))
    }

    static let topLevelKeys = ["version", "name", "description", "vars", "storage", "steps", "schedule", "overlap", "keep", "concurrency"]
    static let stepKeys = ["action", "needs", "if", "retry", "timeout", "continue-on-error", "description"]
    static let storageKeys: [StorageSpec.Provider: [String]] = [
        .local: ["provider", "root", "credentials"],
        .s3: ["provider", "endpoint", "region", "preset", "account", "credentials", "addressing", "allow-insecure-http",
              "multipart-threshold", "part-size", "part-concurrency", "max-attempts", "keep-alive"],
        .b2: ["provider", "credentials", "bucket-id"],
    ]

    // MARK: Top level

    mutating func load(root: YAMLNode, directory: URL, sha256: String) -> Workflow? {
        guard let pairs = root.mapping else {
            error(root.mark, "a workflow must be a mapping with `version`, `name` and `steps`, found a \(root.kindName)")
            return nil
        }
        var seen: [String: YAMLNode] = [:]
        for pair in pairs {
            guard let key = pair.key.string else {
                error(pair.key.mark, "keys must be strings, found a \(pair.key.kindName)")
                continue
            }
            if Self.topLevelKeys.contains(key) {
                seen[key] = pair.value
            } else {
                error(pair.key.mark, "unknown key \"\(key)\" at the top level\(Suggestions.hint(for: key, in: Self.topLevelKeys))")
            }
        }

        var version = 1
        if let node = seen["version"] {
            if let v = node.int, v == 1 { version = v } else {
                error(node.mark, "unsupported version \(node.string ?? node.kindName); this bucketflow reads `version: 1`")
            }
        } else {
            error(root.mark, "missing required key \"version\" (add `version: 1`)")
        }
        var name = ""
        if let node = seen["name"] {
            if let s = node.string, !node.isNull, !s.isEmpty { name = s } else { error(node.mark, "`name` must be a non-empty string") }
        } else {
            error(root.mark, "missing required key \"name\"")
        }
        let description = seen["description"].flatMap { node -> String? in
            guard let s = node.string, node.scalar != nil else { error(node.mark, "`description` must be a string"); return nil }
            return s
        }
        let vars = loadVars(seen["vars"])
        let storages = loadStorages(seen["storage"])
        var steps = loadSteps(seen["steps"], rootMark: root.mark, storages: storages)
        let schedules = loadSchedules(seen["schedule"])
        var overlap = OverlapPolicy.forbid
        if let node = seen["overlap"] {
            if let s = node.string, let policy = OverlapPolicy(rawValue: s) { overlap = policy } else {
                error(node.mark, "`overlap` must be one of forbid, allow, queue\(Suggestions.hint(for: node.string ?? "", in: OverlapPolicy.allCases.map(\.rawValue)))")
            }
        }
        let keep = positiveInt(seen["keep"], key: "keep")
        let concurrency = positiveInt(seen["concurrency"], key: "concurrency")

        // References are checked once everything is known.
        let varNames = vars.map(\.name)
        for (index, variable) in vars.enumerated() {
            checkReferences(in: variable.value, varNames: Array(varNames[..<index]), steps: [], context: .variable(variable.name))
        }
        for storage in storages {
            for value in storage.settings.values {
                for template in value.templates {
                    checkReferences(in: template, varNames: varNames, steps: steps, context: .storage)
                }
            }
        }
        for index in steps.indices {
            resolveDependencies(of: &steps[index], allSteps: steps, storages: storages, varNames: varNames)
        }
        checkCycles(steps)

        return Workflow(
            file: file, directory: directory, sha256: sha256, version: version, name: name, description: description,
            vars: vars, storages: storages, steps: steps, schedules: schedules, overlap: overlap,
            keepReports: keep, concurrency: concurrency)
    }

    mutating func positiveInt(_ node: YAMLNode?, key: String) -> Int? {
        guard let node else { return nil }
        guard let value = node.int, value >= 1 else {
            error(node.mark, "`\(key)` must be a whole number of at least 1")
            return nil
        }
        return value
    }

    mutating func template(_ node: YAMLNode) -> Template? {
        var errors: [TemplateError] = []
        let value = Value.from(node, errors: &errors)
        for e in errors { error(e.mark, e.message) }
        return value.template
    }

    mutating func value(_ node: YAMLNode) -> Value {
        var errors: [TemplateError] = []
        let value = Value.from(node, errors: &errors)
        for e in errors { error(e.mark, e.message) }
        return value
    }

    // MARK: vars

    mutating func loadVars(_ node: YAMLNode?) -> [(name: String, value: Template)] {
        guard let node else { return [] }
        if node.isNull { return [] }
        guard let pairs = node.mapping else {
            error(node.mark, "`vars` must be a mapping of names to values, found a \(node.kindName)")
            return []
        }
        var result: [(name: String, value: Template)] = []
        for pair in pairs {
            guard let name = pair.key.string, Self.isIdentifier(name) else {
                error(pair.key.mark, "variable names may contain letters, digits, '-' and '_' and must start with a letter or '_'")
                continue
            }
            guard pair.value.scalar != nil else {
                error(pair.value.mark, "variable \"\(name)\" must be a string, number or boolean, found a \(pair.value.kindName)")
                continue
            }
            var errors: [TemplateError] = []
            let v = Value.from(pair.value, errors: &errors)
            for e in errors { error(e.mark, e.message) }
            let text = pair.value.isNull ? "" : (pair.value.string ?? "")
            result.append((name, v.template ?? Template(literal: text, mark: pair.value.mark)))
        }
        return result
    }

    static func isIdentifier(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first == "_" || first.properties.isAlphabetic else { return false }
        return s.unicodeScalars.allSatisfy { $0 == "_" || $0 == "-" || $0.properties.isAlphabetic || ("0"..."9").contains($0) }
    }

    // MARK: storage

    mutating func loadStorages(_ node: YAMLNode?) -> [StorageSpec] {
        guard let node, !node.isNull else { return [] }
        guard let pairs = node.mapping else {
            error(node.mark, "`storage` must be a mapping of storage names to settings, found a \(node.kindName)")
            return []
        }
        var result: [StorageSpec] = []
        for pair in pairs {
            guard let name = pair.key.string, Self.isIdentifier(name) else {
                error(pair.key.mark, "storage names may contain letters, digits, '-' and '_' and must start with a letter")
                continue
            }
            if name == Location.dataScheme {
                error(pair.key.mark, "\"data\" is reserved for the hosted data area (data://...); choose another storage name")
                continue
            }
            guard let settings = pair.value.mapping else {
                error(pair.value.mark, "storage \"\(name)\" must be a mapping with at least `provider`, found a \(pair.value.kindName)")
                continue
            }
            guard let providerNode = pair.value["provider"] else {
                error(pair.key.mark, "storage \"\(name)\" is missing required key \"provider\" (one of local, s3, b2)")
                continue
            }
            guard let providerName = providerNode.string, let provider = StorageSpec.Provider(rawValue: providerName) else {
                let given = providerNode.string ?? ""
                error(providerNode.mark, "unknown provider \"\(given)\" for storage \"\(name)\"; use local, s3 or b2\(Suggestions.hint(for: given, in: StorageSpec.Provider.allCases.map(\.rawValue)))")
                continue
            }
            if provider == .b2 {
                error(providerNode.mark, "provider \"b2\" (Backblaze's native API) is not available yet; use `provider: s3` with `endpoint: https://s3.REGION.backblazeb2.com` (B2's S3-compatible API)")
                continue
            }
            let allowed = Self.storageKeys[provider] ?? []
            var values: [String: Value] = [:]
            var credentials: String?
            for setting in settings {
                guard let key = setting.key.string else { continue }
                guard allowed.contains(key) else {
                    error(setting.key.mark, "unknown key \"\(key)\" in storage \"\(name)\" (provider \(provider.rawValue))\(Suggestions.hint(for: key, in: allowed))")
                    continue
                }
                if key == "provider" { continue }
                if key == "credentials" {
                    if let s = setting.value.string, setting.value.scalar != nil, !setting.value.isNull { credentials = s } else {
                        error(setting.value.mark, "`credentials` must name a load-credentials step")
                    }
                    continue
                }
                guard setting.value.scalar != nil, !setting.value.isNull else {
                    error(setting.value.mark, "`\(key)` of storage \"\(name)\" must be a string, number or boolean, found a \(setting.value.kindName)")
                    continue
                }
                values[key] = value(setting.value)
            }
            if provider == .local, values["root"] == nil {
                error(pair.key.mark, "storage \"\(name)\" (provider local) is missing required key \"root\" (the directory whose sub-directories are buckets, relative to this file)")
            }
            if provider == .s3, values["endpoint"] == nil, values["preset"] == nil {
                error(pair.key.mark, "storage \"\(name)\" (provider s3) needs `endpoint` (e.g. https://s3.us-west-004.backblazeb2.com) or `preset` (aws, b2, r2, minio)")
            }
            if let preset = values["preset"]?.template?.literal, !["aws", "b2", "r2", "minio", "wasabi"].contains(preset) {
                error(values["preset"]!.mark, "unknown preset \"\(preset)\"; use aws, b2, r2, minio or wasabi\(Suggestions.hint(for: preset, in: ["aws", "b2", "r2", "minio", "wasabi"]))")
            }
            if let addressing = values["addressing"]?.template?.literal, !["auto", "path", "virtual"].contains(addressing) {
                error(values["addressing"]!.mark, "`addressing` must be auto, path or virtual")
            }
            result.append(StorageSpec(name: name, mark: pair.key.mark, provider: provider, settings: values, credentials: credentials))
        }
        return result
    }

    // MARK: schedule

    mutating func loadSchedules(_ node: YAMLNode?) -> [ScheduleSpec] {
        guard let node, !node.isNull else { return [] }
        let entries: [YAMLNode]
        if let list = node.sequence { entries = list } else if node.mapping != nil { entries = [node] } else {
            error(node.mark, "`schedule` must be a list of {cron: \"30 2 * * *\", timezone: Europe/Berlin} entries")
            return []
        }
        var result: [ScheduleSpec] = []
        for entry in entries {
            guard let pairs = entry.mapping else {
                error(entry.mark, "a schedule entry must be a mapping like {cron: \"30 2 * * *\", timezone: UTC}")
                continue
            }
            for pair in pairs where !["cron", "timezone"].contains(pair.key.string ?? "") {
                error(pair.key.mark, "unknown key \"\(pair.key.string ?? "")\" in schedule entry\(Suggestions.hint(for: pair.key.string ?? "", in: ["cron", "timezone"]))")
            }
            guard let cronNode = entry["cron"], let cron = cronNode.string, cronNode.scalar != nil else {
                error(entry.mark, "schedule entry is missing required key \"cron\"")
                continue
            }
            var zone = "UTC"
            if let zoneNode = entry["timezone"] {
                if let z = zoneNode.string {
                    do {
                        _ = try CronTimeZone.named(z)
                        zone = z
                    } catch {
                        self.error(zoneNode.mark, error.message)
                        continue
                    }
                } else {
                    error(zoneNode.mark, "`timezone` must be an IANA name such as Europe/Berlin")
                }
            }
            do {
                _ = try CronExpression(cron)
            } catch {
                let quoted = cronNode.scalar.map { $0.style == .singleQuoted || $0.style == .doubleQuoted } ?? false
                let mark = YAMLMark(line: cronNode.mark.line, column: cronNode.mark.column + (quoted ? 1 : 0) + error.offset)
                self.error(mark, "invalid cron expression \"\(cron)\": \(error.message)")
                continue
            }
            result.append(ScheduleSpec(cron: cron, timeZone: zone, mark: cronNode.mark))
        }
        return result
    }

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

    // MARK: parameters

    mutating func checkParameter(_ spec: ActionKind.Parameter, _ node: YAMLNode, stepID: String, storages: [StorageSpec]) -> Value? {
        let v = value(node)
        let storageNames = storages.map(\.name)
        func requireString() -> Template? {
            if let t = v.template { return t }
            if case .number(let n) = v.kind { return Template(literal: ExpressionValue.format(n), mark: v.mark) }
            error(v.mark, "`\(spec.name)` must be a string, found a \(v.kindName)")
            return nil
        }
        switch spec.type {
        case .remoteLocation, .localPath, .anyLocation:
            guard let t = requireString() else { return nil }
            let prefix = t.literalPrefix
            let storage = Location.storageName(in: prefix)
            let isData = prefix.hasPrefix("data://")
            if spec.type == .remoteLocation {
                if isData {
                    error(v.mark, "`\(spec.name)` of step \"\(stepID)\" must be a storage location (NAME://bucket/key); data:// paths are local")
                } else if let storage {
                    if !storageNames.contains(storage) {
                        error(v.mark, "unknown storage \"\(storage)\" in `\(spec.name)` of step \"\(stepID)\"\(Suggestions.hint(for: storage, in: storageNames))\(storageNames.isEmpty ? "; declare it under `storage:`" : "")")
                    }
                } else if t.parts.first.map({ if case .literal = $0 { return true } else { return false } }) ?? true {
                    error(v.mark, "`\(spec.name)` of step \"\(stepID)\" must be a storage location like \(storageNames.first ?? "NAME")://bucket/key, found \"\(t.source)\"")
                } else {
                    error(v.mark, "`\(spec.name)` of step \"\(stepID)\" must start with the storage name written out (NAME://...), not an expression")
                }
            } else if let storage {
                if spec.type == .localPath {
                    error(v.mark, "`\(spec.name)` of step \"\(stepID)\" must be a local path or data:// path, not the storage location \"\(t.source)\"")
                } else if !storageNames.contains(storage) {
                    error(v.mark, "unknown storage \"\(storage)\" in `\(spec.name)` of step \"\(stepID)\"\(Suggestions.hint(for: storage, in: storageNames))")
                }
            }
            return Value(kind: .string(t), mark: v.mark)
        case .string:
            guard let t = requireString() else { return nil }
            return Value(kind: .string(t), mark: v.mark)
        case .bool:
            if case .bool = v.kind { return v }
            if let t = v.template, t.literal == nil { return v }
            error(v.mark, "`\(spec.name)` must be true or false")
            return nil
        case .integer:
            if case .number(let n) = v.kind, n.rounded() == n, n >= 0 { return v }
            if let t = v.template, t.literal == nil { return v }
            error(v.mark, "`\(spec.name)` must be a whole number")
            return nil
        case .byteSize:
            if case .number(let n) = v.kind, n >= 0 { return v }
            if let t = v.template, let literal = t.literal {
                if Units.bytes(literal) != nil { return v }
            } else if v.template != nil { return v }
            error(v.mark, "`\(spec.name)` must be a size such as 1048576, 10MiB or 5MB")
            return nil
        case .stringList:
            if v.template != nil { return Value(kind: .list([v]), mark: v.mark) }
            guard let items = v.list else {
                error(v.mark, "`\(spec.name)` must be a list of strings, found a \(v.kindName)")
                return nil
            }
            var ok: [Value] = []
            for item in items {
                if item.template != nil { ok.append(item) } else { error(item.mark, "`\(spec.name)` entries must be strings, found a \(item.kindName)") }
            }
            return Value(kind: .list(ok), mark: v.mark)
        case .stringMap:
            guard let entries = v.entries else {
                error(v.mark, "`\(spec.name)` must be a mapping of names to strings, found a \(v.kindName)")
                return nil
            }
            for entry in entries {
                switch entry.value.kind {
                case .string, .number, .bool: continue
                default: error(entry.value.mark, "`\(spec.name)` values must be strings, found a \(entry.value.kindName)")
                }
            }
            return v
        case .choice(let choices):
            guard let literal = v.template?.literal ?? (v.kind == .bool(true) ? "true" : nil), choices.contains(literal) else {
                let given = v.template?.literal ?? v.kindName
                error(v.mark, "`\(spec.name)` must be one of \(choices.joined(separator: ", ")), found \"\(given)\"\(Suggestions.hint(for: given, in: choices))")
                return nil
            }
            return v
        case .expectations:
            guard let entries = v.entries else {
                error(v.mark, "`expect` must be a mapping such as {min-size: 1, content-type: text/csv}")
                return nil
            }
            for entry in entries where !ActionKind.expectationKeys.contains(entry.key) {
                error(entry.keyMark, "unknown expectation \"\(entry.key)\"\(Suggestions.hint(for: entry.key, in: ActionKind.expectationKeys)); expected one of \(ActionKind.expectationKeys.joined(separator: ", "))")
            }
            for key in ["min-size", "max-size", "size"] {
                guard let entry = entries.first(where: { $0.key == key }) else { continue }
                switch entry.value.kind {
                case .number: continue
                case .string(let t) where t.literal == nil || Units.bytes(t.literal!) != nil: continue
                default: error(entry.value.mark, "`\(key)` must be a size such as 1, 10KiB or 5MB")
                }
            }
            if let entry = entries.first(where: { $0.key == "json" }), entry.value.entries == nil {
                error(entry.value.mark, "`json` expectations must map JSON paths (a.b.0) to expected values")
            }
            return v
        }
    }

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

    mutating func checkCycles(_ steps: [Step]) {
        let byID = Dictionary(uniqueKeysWithValues: steps.map { ($0.id, $0) })
        var state: [String: Int] = [:]   // 1 = on stack, 2 = done
        var stack: [String] = []
        var reported: Set<Set<String>> = []
        func visit(_ id: String) {
            state[id] = 1
            stack.append(id)
            for next in byID[id]?.dependencies ?? [] {
                switch state[next] {
                case 1:
                    let start = stack.firstIndex(of: next)!
                    let cycle = Array(stack[start...])
                    if reported.insert(Set(cycle)).inserted, let first = byID[cycle[0]] {
                        let path = (cycle + [cycle[0]]).map { "\"\($0)\"" }.joined(separator: " needs ")
                        error(first.mark, "dependency cycle: \(path)")
                    }
                case 2:
                    continue
                default:
                    visit(next)
                }
            }
            stack.removeLast()
            state[id] = 2
        }
        for step in steps where state[step.id] == nil { visit(step.id) }
    }
}
