import Foundation
import YAML

extension Loader {
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
}
