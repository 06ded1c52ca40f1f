public import Foundation

/// IANA time zones for schedules.
public enum CronTimeZone {
    /// Resolves an IANA name such as `Europe/Berlin` or `UTC`.
    public static func named(_ name: String) throws(CronError) -> TimeZone {
        if let zone = TimeZone(identifier: name), name.contains("/") || ["UTC", "GMT"].contains(name) || TimeZone.knownTimeZoneIdentifiers.contains(name) {
            return zone
        }
        throw CronError(message: "unknown time zone \"\(name)\"; use an IANA name such as Europe/Berlin, America/New_York or UTC", offset: 0)
    }
}

/// ISO 8601 timestamps with the zone's offset (`2026-11-24T02:30:00+01:00`).
public enum ISO8601Offset {
    public static func string(_ date: Date, in timeZone: TimeZone) -> String {
        let wall = WallTime(date, in: timeZone)
        let seconds = Int(floor(date.timeIntervalSince1970))
        let second = ((seconds % 60) + 60) % 60
        let offset = timeZone.secondsFromGMT(for: date)
        let sign = offset < 0 ? "-" : "+"
        let hours = abs(offset) / 3600, minutes = (abs(offset) % 3600) / 60
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d", wall.year, wall.month, wall.day, wall.hour, wall.minute, second)
            + sign + String(format: "%02d:%02d", hours, minutes)
    }
}
