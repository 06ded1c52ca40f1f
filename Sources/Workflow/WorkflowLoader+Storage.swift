public import Foundation
import YAML
public import Storage

extension WorkflowLoader {
    /// Loads `path`, validating storages against `registry` instead of
    /// ``StorageRegistry/standard``.
    public static func load(path: String, registry: StorageRegistry) throws(WorkflowError) -> Workflow {
        let result: Result<Workflow, WorkflowError> = StorageRegistry.$scoped.withValue(registry) {
            do throws(WorkflowError) { return .success(try load(path: path)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Like ``load(source:file:directory:sha256:)`` against `registry`.
    public static func load(source: String, file: String, directory: URL, registry: StorageRegistry) throws(WorkflowError) -> Workflow {
        let result: Result<Workflow, WorkflowError> = StorageRegistry.$scoped.withValue(registry) {
            do throws(WorkflowError) { return .success(try load(source: source, file: file, directory: directory)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}

extension Loader {
    // MARK: storage

    /// Storage blocks, checked against the providers of the registry in use
    /// (``StorageRegistry/standard``): provider names, keys, required keys and
    /// each literal setting's type come from ``StorageProvider/settings``.
    mutating func loadStorages(_ node: YAMLNode?) -> [StorageSpec] {
        guard let node, !node.isNull else { return [] }
        guard let pairs = node.mapping else {
            error(node.mark, "`storage` must be a mapping of storage names to settings, found a \(node.kindName)")
            return []
        }
        let registry = StorageRegistry.standard
        let names = registry.names
        let listed = Self.listing(names)
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
                error(pair.key.mark, "storage \"\(name)\" is missing required key \"provider\" (one of \(names.joined(separator: ", ")))")
                continue
            }
            guard let providerName = providerNode.string, let provider = registry.provider(named: providerName) else {
                let given = providerNode.string ?? ""
                error(providerNode.mark, "unknown provider \"\(Self.clip(given))\" for storage \"\(name)\"; use \(listed)\(hints.hint(for: given, in: names))")
                continue
            }
            let allowed = ["provider", "credentials"] + provider.settings.map(\.key)
            var values: [String: Value] = [:]
            var written = Set<String>()
            var credentials: String?
            for setting in settings {
                guard let key = setting.key.string, setting.key.scalar != nil else {
                    error(setting.key.mark, "keys of storage \"\(name)\" must be strings, found a \(setting.key.kindName)")
                    continue
                }
                guard allowed.contains(key) else {
                    error(setting.key.mark, "unknown key \"\(Self.clip(key))\" in storage \"\(name)\" (provider \(provider.name))\(hints.hint(for: key, in: allowed))")
                    continue
                }
                written.insert(key)
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
            for required in provider.settings where required.required && values[required.key] == nil && !written.contains(required.key) {
                error(pair.key.mark, "storage \"\(name)\" (provider \(provider.name)) is missing required key \"\(required.key)\" (\(required.doc))")
            }
            if provider.requiresCredentials, credentials == nil {
                error(pair.key.mark, "storage \"\(name)\" (provider \(provider.name)) is missing required key \"credentials\" (a load-credentials step with \(provider.credentialKeysHint))")
            }
            checkStorageSettings(name: name, provider: provider, values: values)
            var literals: [String: String] = [:]
            for (key, v) in values {
                switch v.kind {
                case .string(let t): if let literal = t.literal { literals[key] = literal }
                case .bool(let b): literals[key] = b ? "true" : "false"
                case .number(let n): literals[key] = ExpressionValue.format(n)
                default: break
                }
            }
            for problem in provider.problems(literals: literals, written: written) {
                error(pair.key.mark, "storage \"\(name)\" (provider \(provider.name)) \(problem)")
            }
            result.append(StorageSpec(name: name, mark: pair.key.mark, provider: StorageSpec.Provider(rawValue: provider.name), settings: values, credentials: credentials))
        }
        return result
    }

    /// "local, s3 or b2".
    static func listing(_ names: [String]) -> String {
        guard names.count > 1 else { return names.first ?? "(no providers registered)" }
        return names.dropLast().joined(separator: ", ") + " or " + names.last!
    }

    /// Literal settings checked without I/O, by each key's declared type:
    /// URLs are http(s) with a host, sizes and counts are in range, switches
    /// are booleans, choices are among the listed words.
    mutating func checkStorageSettings(name: String, provider: any StorageProvider, values: [String: Value]) {
        for setting in provider.settings {
            guard let v = values[setting.key] else { continue }
            let label = "`\(setting.key)` of storage \"\(name)\""
            switch setting.kind {
            case .string:
                continue
            case .url:
                if case .string(let t) = v.kind {
                    if let literal = t.literal, let problem = EndpointCheck.problem(with: literal) {
                        let example = setting.example.map { " such as \($0)" } ?? ""
                        error(v.mark, "\(label) must be an http(s) URL\(example): \(problem), found \"\(Self.clip(literal))\"")
                    }
                } else {
                    error(v.mark, "\(label) must be an http(s) URL, found a \(v.kindName)")
                }
            case .bytes(let range):
                checkSize(v, label: label, range: range)
            case .int(let range):
                checkCount(v, label: label, range: range)
            case .bool:
                if case .bool = v.kind { continue }
                if let t = v.template, t.literal == nil { continue }
                error(v.mark, "\(label) must be true or false, found a \(v.kindName)")
            case .choice(let words):
                guard let t = v.template, let literal = t.literal else {
                    if v.template == nil { error(v.mark, "\(label) must be one of \(Self.listing(words)), found a \(v.kindName)") }
                    continue
                }
                if !words.contains(literal) {
                    error(v.mark, "unknown \(setting.key) \"\(Self.clip(literal))\" for storage \"\(name)\"; use \(Self.listing(words))\(hints.hint(for: literal, in: words))")
                }
            }
        }
    }

    /// A literal size (bytes or `10MiB`) in `range`; expressions pass.
    /// `label` names the setting in messages (``"`part-size` of storage "s3"``).
    mutating func checkSize(_ v: Value, label: String, range: ClosedRange<Int64>) {
        let bytes: Double?
        switch v.kind {
        case .number(let n): bytes = n
        case .string(let t):
            guard let literal = t.literal else { return }
            bytes = Units.unboundedBytes(literal)
        default: bytes = nil
        }
        let allowed = "from \(Units.describe(bytes: range.lowerBound)) to \(Units.describe(bytes: range.upperBound))"
        guard let bytes, !bytes.isNaN else {
            error(v.mark, "\(label) must be a size such as 1048576, 10MiB or 5MB (\(allowed)), found \(Self.shown(v))")
            return
        }
        guard bytes >= Double(range.lowerBound), bytes <= Double(range.upperBound), bytes.rounded(.down) == bytes else {
            error(v.mark, "\(label) must be a whole number of bytes \(allowed), found \(Self.shown(v))")
            return
        }
    }

    /// A literal whole number in `range`; expressions pass.
    mutating func checkCount(_ v: Value, label: String, range: ClosedRange<Int64>) {
        switch v.kind {
        case .number(let n):
            if let i = Int64(exactly: n), range.contains(i) { return }
        case .string(let t):
            guard let literal = t.literal else { return }
            if let i = Int64(literal.trimmingWhitespace()), range.contains(i) { return }
        default: break
        }
        error(v.mark, "\(label) must be a whole number from \(range.lowerBound) to \(range.upperBound), found \(Self.shown(v))")
    }
}
