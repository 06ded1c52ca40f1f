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
            throw WorkflowError([Diagnostic(file: path, mark: Self.firstInvalidUTF8(data), message: "the workflow file is not UTF-8 text (invalid byte sequence here)")])
        }
        return try load(source: text, file: path, directory: url.deletingLastPathComponent().standardizedFileURL, sha256: SHA256Hex.hash(data))
    }

    /// Validates workflow text; `file` is only used in diagnostics.
    public static func load(source: String, file: String, directory: URL, sha256: String? = nil) throws(WorkflowError) -> Workflow {
        let root: YAMLNode?
        var duplicates: [YAMLError] = []
        do {
            root = try YAMLParser.parse(source, duplicateKeys: &duplicates)
        } catch {
            throw WorkflowError([Diagnostic(file: file, mark: error.mark, message: error.message)])
        }
        var loader = Loader(file: file)
        for duplicate in duplicates { loader.error(duplicate.mark, duplicate.message) }
        guard let root else {
            throw WorkflowError([Diagnostic(file: file, mark: YAMLMark(line: 1, column: 1), message: "the workflow file is empty; it needs at least `version: 1`, `name:` and `steps:`")])
        }
        let workflow = loader.load(root: root, directory: directory, sha256: sha256 ?? SHA256Hex.hash(Data(source.utf8)))
        if !loader.diagnostics.isEmpty || workflow == nil {
            throw WorkflowError(loader.diagnostics)
        }
        return workflow!
    }

    /// Line and column (in characters) of the first byte that is not valid UTF-8.
    static func firstInvalidUTF8(_ data: Data) -> YAMLMark {
        var line = 1, column = 1
        var iterator = data.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                if scalar == "\n" { line += 1; column = 1 } else { column += 1 }
            case .emptyInput, .error:
                return YAMLMark(line: line, column: column)
            }
        }
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

/// Validation state: every check appends to `diagnostics` and carries on.
struct Loader {
    let file: String
    var diagnostics: [Diagnostic] = []
    /// Bounds the time spent on "did you mean" hints.
    let hints = HintBudget()
    /// Every step id declared, including steps too broken to load (so
    /// `needs` naming them is not reported a second time).
    var declaredStepIDs: Set<String> = []
    /// Where each `needs:` entry is written, per step id.
    var needMarks: [String: [YAMLMark]] = [:]
    /// Declared storages, for O(1) lookups.
    var storagesByName: [String: StorageSpec] = [:]
    var storageNames: [String] = []
    /// The steps each storage implies (see `resolveStorageDependencies`).
    var storageDependencies: [String: [String]] = [:]

    init(file: String) { self.file = file }

    /// Records a problem. Messages quote user text clipped; as a last
    /// guard, no message is longer than 1,000 characters.
    mutating func error(_ mark: YAMLMark, _ message: String) {
        let text = message.unicodeScalars.count <= 1000 ? message : String(String.UnicodeScalarView(message.unicodeScalars.prefix(1000))) + "…"
        diagnostics.append(Diagnostic(file: file, mark: mark, message: text))
    }

    static let topLevelKeys = ["version", "name", "description", "vars", "storage", "steps", "schedule", "overlap", "keep", "concurrency"]
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
                error(pair.key.mark, "unknown key \"\(Self.clip(key))\" at the top level\(hints.hint(for: key, in: Self.topLevelKeys))")
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
        storageNames = storages.map(\.name)
        for storage in storages where storagesByName[storage.name] == nil { storagesByName[storage.name] = storage }
        var steps = loadSteps(seen["steps"], rootMark: root.mark, storages: storages)
        let schedules = loadSchedules(seen["schedule"])
        var overlap = OverlapPolicy.forbid
        if let node = seen["overlap"] {
            if let s = node.string, let policy = OverlapPolicy(rawValue: s) { overlap = policy } else {
                error(node.mark, "`overlap` must be one of forbid, allow, queue\(hints.hint(for: node.string ?? "", in: OverlapPolicy.allCases.map(\.rawValue)))")
            }
        }
        let keep = wholeNumber(seen["keep"], key: "keep", in: NumericLimits.keep)
        let concurrency = wholeNumber(seen["concurrency"], key: "concurrency", in: NumericLimits.concurrency)

        // References are checked once everything is known.
        let varNames = VarScope(names: vars.map(\.name))
        for (index, variable) in vars.enumerated() {
            checkReferences(in: variable.value, varNames: varNames.before(index), steps: .empty, context: .variable(variable.name))
        }
        let stepIndex = StepIndex(steps: steps, declared: declaredStepIDs)
        for storage in storages {
            for value in storage.settings.values {
                for template in value.templates {
                    checkReferences(in: template, varNames: varNames, steps: stepIndex, context: .storage)
                }
            }
        }
        resolveStorageDependencies(storages, in: stepIndex)
        for index in steps.indices {
            resolveDependencies(of: &steps[index], in: stepIndex, storages: storages, varNames: varNames)
        }
        let graph = DependencyGraph(steps: steps)
        let byID = Dictionary(steps.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        for cycle in graph.cycles {
            guard let first = byID[cycle[0]] else { continue }
            let names = (cycle + [cycle[0]]).map { "\"\($0)\"" }
            if names.count <= 12 {
                error(first.mark, "dependency cycle: \(names.joined(separator: " needs "))")
            } else {
                let shown = names.prefix(5).joined(separator: " needs ") + " needs … needs " + names.suffix(3).joined(separator: " needs ")
                error(first.mark, "dependency cycle of \(cycle.count) steps: \(shown)")
            }
        }

        return Workflow(
            file: file, directory: directory, sha256: sha256, version: version, name: name, description: description,
            vars: vars, storages: storages, steps: steps, schedules: schedules, overlap: overlap,
            keepReports: keep, concurrency: concurrency, graph: graph)
    }

    /// A whole number in `range`, or a located error naming the range.
    mutating func wholeNumber(_ node: YAMLNode?, key: String, in range: ClosedRange<Int64>) -> Int? {
        guard let node else { return nil }
        guard let value = node.int, let wide = Int64(exactly: value), range.contains(wide), let result = Int(exactly: wide) else {
            error(node.mark, "`\(key)` must be a whole number from \(range.lowerBound) to \(range.upperBound), found \(Self.shown(node))")
            return nil
        }
        return result
    }

    /// A node's text for a message, clipped.
    static func shown(_ node: YAMLNode) -> String {
        guard let text = node.string else { return "a \(node.kindName)" }
        return "\"\(clip(text))\""
    }

    /// A value's text for a message, clipped.
    static func shown(_ value: Value) -> String {
        switch value.kind {
        case .number(let n): return ExpressionValue.format(n)
        case .bool(let b): return b ? "true" : "false"
        case .string(let t): return "\"\(clip(t.source))\""
        default: return "a \(value.kindName)"
        }
    }

    /// User text quoted in a message, at most 80 characters.
    static func clip(_ text: String) -> String {
        text.unicodeScalars.count <= 80 ? text : String(String.UnicodeScalarView(text.unicodeScalars.prefix(80))) + "…"
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
}
