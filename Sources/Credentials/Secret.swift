/// A credential value. It prints, debug-prints, dumps and encodes as
/// `[REDACTED]`, so it cannot reach a log, an error message or a report by
/// accident; only a provider that needs the value calls ``revealed``.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable, Encodable {
    private let value: String

    public init(_ value: String) { self.value = value }

    /// The actual value. Pass it only to the code that authenticates.
    public var revealed: String { value }

    public var description: String { "[REDACTED]" }
    public var debugDescription: String { "[REDACTED]" }

    /// No children, so `dump` and other reflection cannot reach the value.
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode("[REDACTED]")
    }
}
