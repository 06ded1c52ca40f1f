public import Foundation

/// ISO 8601 timestamps with the zone's UTC offset, the way schedules are shown
/// to users (`bucketflow schedule --next`).
public enum ISO8601Offset {
    /// Formats `date` as the wall-clock time in `timeZone` with its offset,
    /// e.g. `2026-11-24T02:30:00+01:00`.
    ///
    /// The offset is always written out (`+00:00` for UTC, never `Z`) so that
    /// every line has the same shape and the offset change across a daylight
    /// saving transition is visible. Fractions of a second are dropped.
    public static func string(_ date: Date, in timeZone: TimeZone) -> String {
        let instant = Int64(date.timeIntervalSince1970.rounded(.down))
        let offset = timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant)))
        let wall = WallTime(naiveSeconds: instant + Int64(offset))
        let sign = offset < 0 ? "-" : "+"
        let magnitude = abs(offset)
        return "\(pad(wall.year, 4))-\(pad(wall.month))-\(pad(wall.day))T\(pad(wall.hour)):\(pad(wall.minute)):\(pad(wall.second))"
            + "\(sign)\(pad(magnitude / 3600)):\(pad(magnitude % 3600 / 60))"
    }

    static func pad(_ value: Int, _ width: Int = 2) -> String {
        let digits = String(abs(value))
        return (value < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
