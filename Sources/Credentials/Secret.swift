/// A credential value. It prints, debug-prints and encodes as `[REDACTED]`,
/// so it cannot reach a log, an error message or a report by accident; only
/// a provider that needs the value calls ``revealed``.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, Encodable {
    private let value: String

    public init(_ value: String) { self.value = value }

    /// The actual value. Pass it only to the code that authenticates.
    public var revealed: String { value }

    public var description: String { "[REDACTED]" }
    public var debugDescription: String { "[REDACTED]" }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode("[REDACTED]")
    }
}

/// Credentials loaded from one source. Every value is a secret; only key
/// names and the source path may be shown.
public struct CredentialSet: Sendable {
    /// The file path, or `environment (PREFIX*)`.
    public var source: String
    public var values: [String: Secret]

    public init(source: String, values: [String: Secret]) {
        self.source = source
        self.values = values
    }

    public subscript(key: String) -> Secret? { values[key] }

    /// Key names, sorted.
    public var keys: [String] { values.keys.sorted() }
}

/// Replaces every known secret value in a text with `[REDACTED]`: a second
/// line of defence for messages that might quote a server's answer.
public struct Redactor: Sendable {
    private let secrets: [String]

    /// Values shorter than 4 characters are ignored: they would redact
    /// ordinary words and say nothing about the secret anyway.
    public init(secrets: [String]) {
        self.secrets = Array(Set(secrets.filter { $0.count >= 4 })).sorted { $0.count > $1.count }
    }

    public func redact(_ text: String) -> String {
        var result = text
        for secret in secrets where result.contains(secret) {
            result = result.components(separatedBy: secret).joined(separator: "[REDACTED]")
        }
        return result
    }
}

import Foundation
