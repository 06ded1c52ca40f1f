/// A cron expression or time zone that cannot be used, and where in the
/// expression the problem starts.
public struct CronError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    /// 0-based character offset into the expression (callers add it to the
    /// column where the expression starts in the file).
    public var offset: Int

    public init(message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }

    public var description: String { message }
}
