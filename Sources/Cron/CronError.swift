/// Why a cron expression or time zone cannot be used, and where in the
/// expression the problem starts.
///
/// The message is written for the person editing the workflow file: it names
/// the field and says what would be accepted. `offset` lets callers point at
/// the bad token (`file:line:col`) instead of at the whole value.
public struct CronError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong and how to fix it, e.g. "minute value 61 is out of range 0-59".
    public var message: String
    /// 0-based character offset into the expression where the bad field or
    /// token starts; callers add it to the column where the expression starts.
    /// Too few fields: where the expression starts; too many: the first extra
    /// field; a time zone name: 0.
    public var offset: Int

    public init(message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }

    public var description: String { message }
}
