import Foundation

/// Scrubs request signatures and configured secrets from text a server
/// sent back (error bodies, messages) before it leaves a provider: a server
/// that echoes the `Authorization` header or a presigned URL must not get a
/// signature into stderr, logs or the report.
///
/// Removed: the values of `Signature=`, `Credential=`, `X-Amz-Signature=`,
/// `X-Amz-Credential=`, `X-Amz-Security-Token=`, of an `Authorization`
/// header (`Authorization: ...` or `"Authorization": "..."`), a whole
/// `AWS4-HMAC-SHA256 ...` value, and every secret the provider was
/// configured with (at least 4 characters, matched literally).
public struct Redactor: Sendable {
    public static let mask = "[redacted]"
    private var secrets: [String]

    public init(secrets: [String] = []) {
        // Longest first, so a secret containing another is masked whole.
        self.secrets = Array(Set(secrets.filter { $0.count >= 4 })).sorted { $0.count > $1.count }
    }

    /// A redactor that also masks `more`.
    public func adding(_ more: [String]) -> Redactor { Redactor(secrets: secrets + more) }

    /// Parameter names whose values are signatures or credentials.
    static let parameterNames = ["x-amz-signature", "x-amz-credential", "x-amz-security-token", "signature", "credential"]

    public func redact(_ text: String) -> String {
        var text = text
        for secret in secrets where text.contains(secret) {
            text = text.replacingOccurrences(of: secret, with: Self.mask)
        }
        text = Self.redactAuthorizationHeaders(text)
        text = Self.redactAWS4(text)
        text = Self.redactParameters(text)
        return text
    }

    /// `Name=value` (case-insensitive name, after a non-identifier
    /// character): the value, up to `,`, `&`, whitespace, a quote or `<`.
    static func redactParameters(_ text: String) -> String {
        guard text.range(of: "=", options: .literal) != nil else { return text }
        let lower = Array(text.lowercased().utf8)
        let bytes = Array(text.utf8)
        guard lower.count == bytes.count else { return redactParametersSlow(text) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        outer: while i < bytes.count {
            let atBoundary = i == 0 || !Self.isNameByte(lower[i - 1])
            if atBoundary {
                for name in parameterNames {
                    let n = Array(name.utf8)
                    if i + n.count < lower.count, lower[i + n.count] == UInt8(ascii: "="), Array(lower[i..<(i + n.count)]) == n {
                        out += bytes[i...(i + n.count)]
                        var j = i + n.count + 1
                        while j < bytes.count, !Self.isValueEnd(bytes[j]) { j += 1 }
                        out += Array(mask.utf8)
                        i = j
                        continue outer
                    }
                }
            }
            out.append(bytes[i])
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Lowercasing changed the byte length (rare scripts): mask by regex.
    static func redactParametersSlow(_ text: String) -> String {
        var text = text
        for name in parameterNames {
            text = text.replacingOccurrences(of: "(?i)(?<![A-Za-z0-9_-])(\(name)=)[^,&\\s\"'<]*", with: "$1\(mask)", options: .regularExpression)
        }
        return text
    }

    static func isNameByte(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x61...0x7a).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
    }

    static func isValueEnd(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: ","), UInt8(ascii: "&"), UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"),
             UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "<"), UInt8(ascii: ";"): return true
        default: return false
        }
    }

    /// `Authorization: value` up to the end of the line, and JSON-ish
    /// `"Authorization": "value"`.
    static func redactAuthorizationHeaders(_ text: String) -> String {
        guard text.range(of: "authorization", options: .caseInsensitive) != nil else { return text }
        var text = text
        text = text.replacingOccurrences(of: "(?i)(authorization\"?\\s*[:=]\\s*\"?)[^\"\\r\\n<]*", with: "$1\(mask)", options: .regularExpression)
        return text
    }

    /// A SigV4 Authorization value anywhere (`AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`).
    static func redactAWS4(_ text: String) -> String {
        guard text.contains("AWS4-HMAC-SHA256") else { return text }
        return text.replacingOccurrences(of: "AWS4-HMAC-SHA256[^\"\\r\\n<]*", with: "AWS4-HMAC-SHA256 \(mask)", options: .regularExpression)
    }
}
