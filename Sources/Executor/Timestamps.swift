public import Foundation

/// RFC 3339 timestamps with milliseconds in UTC, so step overlap is visible
/// in reports, formatted without locale-dependent formatters.
public enum Timestamps {
    private static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    /// `2026-11-24T02:30:00.123Z`
    public static func rfc3339(_ date: Date) -> String {
        // Whole milliseconds first (to the nearest: a time parsed from this
        // format must format back to the same text), then the calendar.
        let totalMillis = (date.timeIntervalSince1970 * 1000).rounded()
        let seconds = (totalMillis / 1000).rounded(.down)
        let millis = Int(totalMillis - seconds * 1000)
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: seconds))
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!, millis)
    }

    /// `2026-11-24` (UTC), the value of `${{ run.date }}`.
    public static func date(_ date: Date) -> String {
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
    }

    /// `023000` (UTC), the value of `${{ run.time }}`.
    public static func time(_ date: Date) -> String {
        let c = calendar.dateComponents([.hour, .minute, .second], from: date)
        return String(format: "%02d%02d%02d", c.hour!, c.minute!, c.second!)
    }

    /// `20261124T023000Z`, for file names.
    public static func compact(_ date: Date) -> String {
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d%02d%02dT%02d%02d%02dZ", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
    }

    /// Parses what ``rfc3339(_:)`` writes (and the same without milliseconds).
    public static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}
