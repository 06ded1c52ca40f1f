import YAML

extension Loader {
    static let storageKeys: [StorageSpec.Provider: [String]] = [
        .local: ["provider", "root", "credentials"],
        .s3: ["provider", "endpoint", "region", "preset", "account", "credentials", "addressing", "allow-insecure-http",
              "multipart-threshold", "part-size", "part-concurrency", "max-attempts", "keep-alive"],
        .b2: ["provider", "credentials", "bucket-id"],
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
}
