public import Storage

/// Bucket naming rules come from each provider (``StorageProvider/bucketNaming``),
/// looked up in the registry the workflow is validated against.
public enum BucketNaming {
    /// Why `name` is not a valid bucket name for `provider`, or nil.
    public static func problem(with name: String, provider: StorageSpec.Provider, registry: StorageRegistry = .standard) -> String? {
        registry.provider(named: provider.rawValue)?.bucketNaming.check(name)
    }

    /// What `provider` allows, for the hint after an error.
    public static func summary(provider: StorageSpec.Provider, registry: StorageRegistry = .standard) -> String {
        registry.provider(named: provider.rawValue)?.bucketNaming.summary ?? ""
    }
}

/// Literal endpoint URLs: `http(s)://host[:port][/path]`.
public enum EndpointCheck {
    /// Why `text` is not an http(s) URL with a host, or nil.
    public static func problem(with text: String) -> String? {
        let lower = text.lowercased()
        let scheme: String
        if lower.hasPrefix("https://") { scheme = "https://" } else if lower.hasPrefix("http://") { scheme = "http://" } else {
            return "it does not start with https:// or http://"
        }
        let rest = text.dropFirst(scheme.count)
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if authority.contains("@") { return "it carries credentials (user@host); use `credentials:` instead" }
        var host = Substring(authority)
        var port: Substring?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return "its IPv6 host has no closing ']'" }
            let after = host[host.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return "unexpected text after the IPv6 host" }
                port = after.dropFirst()
            }
            host = host[...close]
        } else if let colon = host.lastIndex(of: ":") {
            port = host[host.index(after: colon)...]
            host = host[..<colon]
        }
        if host.isEmpty || host == "[]" { return "it names no host" }
        if !host.hasPrefix("["), !host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }) {
            return "its host \"\(host.prefix(80))\" has characters a host name cannot have"
        }
        if let port {
            guard let number = Int(port), (1...65535).contains(number) else { return "its port \"\(port.prefix(20))\" is not a number from 1 to 65535" }
        }
        if text.contains(where: { $0 == " " || $0 == "\t" || $0 == "\n" }) { return "it contains whitespace" }
        return nil
    }
}
