/// Bucket naming rules per provider, in one table keyed by provider so a
/// provider registry can supply its own later. Validation applies them to
/// bucket names written literally in locations (`NAME://bucket/key`).
public struct BucketNamingRule: Sendable {
    /// What the rule allows, for the hint after an error.
    public var summary: String
    /// Why `name` is refused, or nil when it is acceptable.
    public var check: @Sendable (String) -> String?

    public init(summary: String, check: @escaping @Sendable (String) -> String?) {
        self.summary = summary
        self.check = check
    }
}

public enum BucketNaming {
    /// The rule of each provider.
    public static let rules: [StorageSpec.Provider: BucketNamingRule] = [
        .s3: BucketNamingRule(
            summary: "S3 bucket names have 3 to 63 characters: lowercase letters, digits, '.' and '-', starting and ending with a letter or digit, not like an IP address",
            check: s3),
        .b2: BucketNamingRule(
            summary: "B2 bucket names have 6 to 50 characters: letters, digits and '-', and do not start with \"b2-\"",
            check: b2),
        // Mirrors LocalStorage.validateBucket (Sources/Storage/LocalStorage+Files.swift).
        .local: BucketNamingRule(
            summary: "local bucket names have 3 to 63 characters: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit",
            check: local),
    ]

    /// Why `name` is not a valid bucket name for `provider`, or nil.
    public static func problem(with name: String, provider: StorageSpec.Provider) -> String? {
        rules[provider]?.check(name)
    }

    static func isLowerAlnum(_ byte: UInt8) -> Bool { (0x61...0x7a).contains(byte) || (0x30...0x39).contains(byte) }

    static func length(_ count: Int, _ range: ClosedRange<Int>) -> String? {
        range.contains(count) ? nil : "it has \(count) characters, not \(range.lowerBound) to \(range.upperBound)"
    }

    @Sendable static func s3(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        if let problem = length(bytes.count, 3...63) { return problem }
        if !bytes.allSatisfy({ isLowerAlnum($0) || $0 == 0x2d || $0 == 0x2e }) {
            return "only lowercase letters, digits, '.' and '-' are allowed"
        }
        if !isLowerAlnum(bytes[0]) || !isLowerAlnum(bytes[bytes.count - 1]) { return "it must start and end with a letter or digit" }
        if name.contains("..") { return "it contains '..'" }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 4, parts.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isASCII) && UInt8($0) != nil }) {
            return "it looks like an IP address"
        }
        if name.hasPrefix("xn--") { return "it starts with \"xn--\"" }
        return nil
    }

    @Sendable static func b2(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        if let problem = length(bytes.count, 6...50) { return problem }
        func isAlnum(_ b: UInt8) -> Bool { isLowerAlnum(b) || (0x41...0x5a).contains(b) }
        if !bytes.allSatisfy({ isAlnum($0) || $0 == 0x2d }) { return "only letters, digits and '-' are allowed" }
        if name.lowercased().hasPrefix("b2-") { return "names starting with \"b2-\" are reserved by Backblaze" }
        return nil
    }

    @Sendable static func local(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        if bytes.count < 3 || bytes.count > 63 { return "it has \(bytes.count) characters, not 3 to 63" }
        if !bytes.allSatisfy({ isLowerAlnum($0) || $0 == 0x2d || $0 == 0x2e }) {
            return "only lowercase letters, digits, '-' and '.' are allowed"
        }
        if !isLowerAlnum(bytes[0]) || !isLowerAlnum(bytes[bytes.count - 1]) { return "it must start and end with a letter or digit" }
        if name.contains("..") { return "it contains '..'" }
        return nil
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
