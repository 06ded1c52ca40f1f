/// Why credentials could not be loaded. Messages name the file, the profile
/// and the keys or variables, never a value, and say how to fix the problem.
public struct CredentialError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The file does not exist.
        case notFound
        /// The file exists but cannot be read (or is not a regular file).
        case unreadable
        /// Group or others may access the file.
        case tooOpen
        /// Not valid JSON, or an AWS file with a line that is neither a
        /// section nor `key = value`.
        case malformed
        /// Valid JSON, but not a flat object of strings.
        case notAnObject
        /// Required keys are absent or empty.
        case missingKeys
        /// The AWS file has no such profile.
        case profileNotFound
        /// Required environment variables are unset or empty.
        case environmentMissing
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
