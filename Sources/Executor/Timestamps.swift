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
        // gmtime_r and hand-made digits: this runs several times per step, and
        // Calendar plus String(format:) cost microseconds each.
        var clock = seconds.magnitude < 1e15 ? time_t(seconds) : 0
        var t = tm()
        guard Double(clock) == seconds, gmtime_r(&clock, &t) != nil, (1...9999).contains(Int(t.tm_year) + 1900) else {
            let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: seconds))
            return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!, millis)
        }
        var text = ""
        text.reserveCapacity(24)
        func append(_ value: Int, width: Int) {
            let digits = String(value)
            if digits.utf8.count < width { text += String(repeating: "0", count: width - digits.utf8.count) }
            text += digits
        }
        append(Int(t.tm_year) + 1900, width: 4)
        text += "-"; append(Int(t.tm_mon) + 1, width: 2)
        text += "-"; append(Int(t.tm_mday), width: 2)
        text += "T"; append(Int(t.tm_hour), width: 2)
        text += ":"; append(Int(t.tm_min), width: 2)
        text += ":"; append(Int(t.tm_sec), width: 2)
        text += "."; append(millis, width: 3)
        text += "Z"
        return text
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
