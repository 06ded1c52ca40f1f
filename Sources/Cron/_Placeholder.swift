// TEMPORARY compile stub until the Cron module lands (helper). Not for commit.
public import Foundation

public struct CronError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public var offset: Int
    public var description: String { message }
}

public struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    public var description: String
    public init(_ text: String) throws(CronError) { description = text }
    public func nextFireDate(after date: Date, in timeZone: TimeZone) -> Date? { nil }
    public func nextFireDates(after date: Date, in timeZone: TimeZone, count: Int) -> [Date] { [] }
}

public enum CronTimeZone {
    public static func named(_ name: String) throws(CronError) -> TimeZone {
        guard let zone = TimeZone(identifier: name) else { throw CronError(message: "unknown time zone \"\(name)\"", offset: 0) }
        return zone
    }
}

public enum ISO8601Offset {
    public static func string(_ date: Date, in timeZone: TimeZone) -> String { "\(date)" }
}
