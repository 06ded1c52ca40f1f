/// Why a step (or one object of it) failed, as the report and the console show it.
///
/// `code` is stable for machines; `message` says what went wrong and what to do.
public struct StepError: Error, Sendable, Hashable, Codable, CustomStringConvertible {
    public var code: ErrorCode
    public var message: String

    public init(code: ErrorCode, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    static func invalid(_ message: String) -> StepError { StepError(code: .invalidParameter, message: message) }
}
