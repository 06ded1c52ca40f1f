import Foundation
import YAML

extension Loader {
    // MARK: parameters

    mutating func checkParameter(_ spec: ActionKind.Parameter, _ node: YAMLNode, stepID: String, storages: [StorageSpec]) -> Value? {
        let v = value(node)
        let storageNames = self.storageNames
        func requireString() -> Template? {
            if let t = v.template { return t }
            if case .number(let n) = v.kind { return Template(literal: ExpressionValue.format(n), mark: v.mark) }
            error(v.mark, "`\(spec.name)` of step \"\(stepID)\" must be a string, found a \(v.kindName)")
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
                    if let declared = storagesByName[storage] {
                        checkBucket(in: t, storage: declared, label: "`\(spec.name)` of step \"\(stepID)\"", mark: v.mark)
                    } else {
                        error(v.mark, "unknown storage \"\(Self.clip(storage))\" in `\(spec.name)` of step \"\(stepID)\"\(hints.hint(for: storage, in: storageNames))\(storageNames.isEmpty ? "; declare it under `storage:`" : "")")
                    }
                } else if t.parts.first.map({ if case .literal = $0 { return true } else { return false } }) ?? true {
                    error(v.mark, "`\(spec.name)` of step \"\(stepID)\" must be a storage location like \(storageNames.first ?? "NAME")://bucket/key, found \"\(Self.clip(t.source))\"")
                } else if !spec.dynamicStorage {
                    error(v.mark, "`\(spec.name)` of step \"\(stepID)\" must start with the storage name written out (NAME://...), not an expression")
                }
            } else if let storage {
                if spec.type == .localPath {
                    error(v.mark, "`\(spec.name)` of step \"\(stepID)\" must be a local path or data:// path, not the storage location \"\(Self.clip(t.source))\"")
                } else if let declared = storagesByName[storage] {
                    checkBucket(in: t, storage: declared, label: "`\(spec.name)` of step \"\(stepID)\"", mark: v.mark)
                } else {
                    error(v.mark, "unknown storage \"\(Self.clip(storage))\" in `\(spec.name)` of step \"\(stepID)\"\(hints.hint(for: storage, in: storageNames))")
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
            let range = NumericLimits.parameter(spec.name) ?? 0...Int64.max
            if case .number(let n) = v.kind, let i = Int64(exactly: n), range.contains(i) { return v }
            if let t = v.template, t.literal == nil { return v }
            error(v.mark, "`\(spec.name)` must be a whole number from \(range.lowerBound) to \(range.upperBound), found \(Self.shown(v))")
            return nil
        case .byteSize:
            let before = diagnostics.count
            checkSize(v, label: "`\(spec.name)`", range: NumericLimits.parameter(spec.name) ?? 0...Int64.max)
            return diagnostics.count == before ? v : nil
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
                error(v.mark, "`\(spec.name)` must be one of \(choices.joined(separator: ", ")), found \"\(Self.clip(given))\"\(hints.hint(for: given, in: choices))")
                return nil
            }
            return v
        case .expectations:
            guard let entries = v.entries else {
                error(v.mark, "`expect` must be a mapping such as {min-size: 1, content-type: text/csv}")
                return nil
            }
            for entry in entries where !ActionKind.expectationKeys.contains(entry.key) {
                error(entry.keyMark, "unknown expectation \"\(Self.clip(entry.key))\"\(hints.hint(for: entry.key, in: ActionKind.expectationKeys)); expected one of \(ActionKind.expectationKeys.joined(separator: ", "))")
            }
            for key in ["min-size", "max-size", "size"] {
                guard let entry = entries.first(where: { $0.key == key }) else { continue }
                checkSize(entry.value, label: "`\(key)`", range: NumericLimits.objectSize)
            }
            for (key, digits) in [("sha256", 64), ("md5", 32)] {
                guard let entry = entries.first(where: { $0.key == key }) else { continue }
                guard let t = entry.value.template else {
                    error(entry.value.mark, "`\(key)` must be \(digits) hexadecimal digits, found a \(entry.value.kindName)")
                    continue
                }
                guard let literal = t.literal else { continue }
                let text = literal.trimmingWhitespace()
                if text.utf8.count != digits || !text.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) || (0x41...0x46).contains($0) }) {
                    error(entry.value.mark, "`\(key)` must be \(digits) hexadecimal digits, found \(text.utf8.count) characters \"\(Self.clip(text))\"")
                }
            }
            if let entry = entries.first(where: { $0.key == "exists" }) {
                switch entry.value.kind {
                case .bool: break
                case .string(let t) where t.literal == nil: break
                default: error(entry.value.mark, "`exists` must be true or false, found \(Self.shown(entry.value))")
                }
            }
            if let entry = entries.first(where: { $0.key == "json" }), entry.value.entries == nil {
                error(entry.value.mark, "`json` expectations must map JSON paths (a.b.0) to expected values")
            }
            return v
        }
    }

    /// A bucket name written literally in a location (`NAME://bucket/...`,
    /// no `${{ }}` in the bucket part) checked against the provider's rules.
    mutating func checkBucket(in template: Template, storage: StorageSpec, label: String, mark: YAMLMark) {
        let prefix = template.literalPrefix
        guard let range = prefix.range(of: "://") else { return }
        let rest = prefix[range.upperBound...]
        let bucket: Substring
        if let slash = rest.firstIndex(of: "/") {
            bucket = rest[..<slash]
        } else if template.literal != nil {
            bucket = rest
        } else {
            return
        }
        if bucket.contains("${{") { return }   // an expression that did not parse (reported already)
        guard !bucket.isEmpty else {
            error(mark, "\(label) names no bucket (write \(storage.name)://BUCKET/key)")
            return
        }
        if let problem = BucketNaming.problem(with: String(bucket), provider: storage.provider) {
            let summary = BucketNaming.summary(provider: storage.provider)
            error(mark, "invalid bucket name \"\(Self.clip(String(bucket)))\" in \(label) for storage \"\(storage.name)\" (provider \(storage.provider.rawValue)): \(problem); \(summary)")
        }
    }
}
