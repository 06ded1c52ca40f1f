/// Credentials loaded from one source. Every value is a secret; only key
/// names and the source may be shown.
public struct CredentialSet: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The file path, or `environment`.
    public var source: String
    public var values: [String: Secret]

    public init(source: String, values: [String: Secret]) {
        self.source = source
        self.values = values
    }

    public subscript(key: String) -> Secret? { values[key] }

    /// Key names, sorted.
    public var keys: [String] { values.keys.sorted() }

    /// The source and the key names; never a value.
    public var description: String { "credentials from \(source) (keys: \(keys.joined(separator: ", ")))" }
    public var debugDescription: String { description }
}
