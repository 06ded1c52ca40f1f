/// Bucket naming rules the built-in providers supply through
/// ``StorageProvider/bucketNaming``.
public enum BucketNames {
    public static let s3Rule = BucketNamingRule(
        summary: "S3 bucket names have 3 to 63 characters: lowercase letters, digits, '.' and '-', starting and ending with a letter or digit, not like an IP address",
        check: s3)
    public static let b2Rule = BucketNamingRule(
        summary: "B2 bucket names have 6 to 50 characters: letters, digits and '-', and do not start with \"b2-\"",
        check: b2)
    /// Mirrors LocalStorage.validateBucket (Sources/Storage/LocalStorage+Files.swift).
    public static let localRule = BucketNamingRule(
        summary: "local bucket names have 3 to 63 characters: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit",
        check: local)

    static func isLowerAlnum(_ byte: UInt8) -> Bool { (0x61...0x7a).contains(byte) || (0x30...0x39).contains(byte) }

    static func length(_ count: Int, _ range: ClosedRange<Int>) -> String? {
        range.contains(count) ? nil : "it has \(count) characters, not \(range.lowerBound) to \(range.upperBound)"
    }

    @Sendable public static func s3(_ name: String) -> String? {
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

    @Sendable public static func b2(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        if let problem = length(bytes.count, 6...50) { return problem }
        func isAlnum(_ b: UInt8) -> Bool { isLowerAlnum(b) || (0x41...0x5a).contains(b) }
        if !bytes.allSatisfy({ isAlnum($0) || $0 == 0x2d }) { return "only letters, digits and '-' are allowed" }
        if name.lowercased().hasPrefix("b2-") { return "names starting with \"b2-\" are reserved by Backblaze" }
        return nil
    }

    @Sendable public static func local(_ name: String) -> String? {
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
