/// Why a step failed, as the report and the console show it.
///
/// `code` is stable for machines (`NoSuchBucket`, `ExpectationFailed`,
/// `CredentialsError`, ...); `message` says what went wrong and what to do.
public struct StepError: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    static func invalid(_ message: String) -> StepError { StepError(code: "InvalidParameter", message: message) }
}
