/// Why credentials could not be loaded. Messages name the file and the keys,
/// never a value, and say how to fix the problem.
public struct CredentialError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        case notFound, unreadable, tooOpen, malformed, missingKeys, profileNotFound, environmentMissing
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
