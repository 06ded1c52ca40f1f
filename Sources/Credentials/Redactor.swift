/// Replaces every known secret value in a text with `[REDACTED]`: a second
/// line of defence for messages that might quote a server's answer or a
/// command line.
public struct Redactor: Sendable {
    /// UTF-8 bytes of the secrets, longest first, so a secret that contains
    /// another is replaced whole.
    private let secrets: [[UInt8]]
    private static let marker = Array("[REDACTED]".utf8)

    /// Values shorter than 4 characters are ignored: they would redact
    /// ordinary words and say nothing about the secret anyway.
    public init(secrets: [String]) {
        self.secrets = Set(secrets.filter { $0.count >= 4 }).map { Array($0.utf8) }
            .sorted { $0.count != $1.count ? $0.count > $1.count : $0.lexicographicallyPrecedes($1) }
    }

    /// `text` with every occurrence of a secret replaced by `[REDACTED]`.
    ///
    /// Matching is on bytes, so it finds a secret whatever the characters
    /// around it (a combining mark right after it, for instance), and a
    /// single pass means the marker itself is never redacted again.
    public func redact(_ text: String) -> String {
        guard !secrets.isEmpty else { return text }
        let bytes = Array(text.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        var changed = false
        scan: while index < bytes.count {
            for secret in secrets where secret.count <= bytes.count - index && bytes[index] == secret[0] {
                if bytes[index..<(index + secret.count)].elementsEqual(secret) {
                    output += Self.marker
                    index += secret.count
                    changed = true
                    continue scan
                }
            }
            output.append(bytes[index])
            index += 1
        }
        return changed ? String(decoding: output, as: UTF8.self) : text
    }
}
