import YAML

extension Loader {
    static let storageKeys: [StorageSpec.Provider: [String]] = [
        .local: ["provider", "root", "credentials"],
        .s3: ["provider", "endpoint", "region", "preset", "account", "credentials", "addressing", "allow-insecure-http",
              "multipart-threshold", "part-size", "part-concurrency", "max-attempts", "keep-alive"],
        .b2: ["provider", "credentials", "endpoint", "bucket-id"],
    ]

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
                error(providerNode.mark, "unknown provider \"\(Self.clip(given))\" for storage \"\(name)\"; use local, s3 or b2\(hints.hint(for: given, in: StorageSpec.Provider.allCases.map(\.rawValue)))")
                continue
            }
            let allowed = Self.storageKeys[provider] ?? []
            var values: [String: Value] = [:]
            var credentials: String?
            for setting in settings {
                guard let key = setting.key.string, setting.key.scalar != nil else {
                    error(setting.key.mark, "keys of storage \"\(name)\" must be strings, found a \(setting.key.kindName)")
                    continue
                }
                guard allowed.contains(key) else {
                    error(setting.key.mark, "unknown key \"\(Self.clip(key))\" in storage \"\(name)\" (provider \(provider.rawValue))\(hints.hint(for: key, in: allowed))")
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
            if provider == .b2, credentials == nil {
                error(pair.key.mark, "storage \"\(name)\" (provider b2) is missing required key \"credentials\" (a load-credentials step with key_id and application_key)")
            }
            checkStorageSettings(name: name, provider: provider, values: values)
            if let preset = values["preset"]?.template?.literal, !["aws", "b2", "r2", "minio", "wasabi"].contains(preset) {
                error(values["preset"]!.mark, "unknown preset \"\(Self.clip(preset))\"; use aws, b2, r2, minio or wasabi\(hints.hint(for: preset, in: ["aws", "b2", "r2", "minio", "wasabi"]))")
            }
            if let addressing = values["addressing"]?.template?.literal, !["auto", "path", "virtual"].contains(addressing) {
                error(values["addressing"]!.mark, "`addressing` must be auto, path or virtual")
            }
            result.append(StorageSpec(name: name, mark: pair.key.mark, provider: provider, settings: values, credentials: credentials))
        }
        return result
    }

    /// Literal settings checked without I/O: endpoints are http(s) URLs with
    /// a host, sizes and counts are in range, switches are booleans.
    mutating func checkStorageSettings(name: String, provider: StorageSpec.Provider, values: [String: Value]) {
        if let endpoint = values["endpoint"] {
            if case .string(let t) = endpoint.kind {
                if let literal = t.literal, let problem = EndpointCheck.problem(with: literal) {
                    let example = provider == .b2 ? "https://api.backblazeb2.com" : "https://s3.us-west-004.backblazeb2.com"
                    error(endpoint.mark, "`endpoint` of storage \"\(name)\" must be an http(s) URL such as \(example): \(problem), found \"\(Self.clip(literal))\"")
                }
            } else {
                error(endpoint.mark, "`endpoint` of storage \"\(name)\" must be an http(s) URL, found a \(endpoint.kindName)")
            }
        }
        for key in ["multipart-threshold", "part-size"] {
            guard let v = values[key] else { continue }
            checkSize(v, label: "`\(key)` of storage \"\(name)\"", range: NumericLimits.partSize)
        }
        for (key, range) in [("part-concurrency", NumericLimits.partConcurrency), ("max-attempts", NumericLimits.maxAttempts)] {
            guard let v = values[key] else { continue }
            checkCount(v, label: "`\(key)` of storage \"\(name)\"", range: range)
        }
        for key in ["allow-insecure-http", "keep-alive"] {
            guard let v = values[key] else { continue }
            if case .bool = v.kind { continue }
            if let t = v.template, t.literal == nil { continue }
            error(v.mark, "`\(key)` of storage \"\(name)\" must be true or false, found a \(v.kindName)")
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
