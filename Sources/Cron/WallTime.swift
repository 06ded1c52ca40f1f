import Foundation

/// A wall-clock minute (what a clock on the wall shows), with calendar
/// arithmetic that ignores time zones.
struct WallTime: Sendable, Hashable {
    var year: Int
    var month: Int
    var day: Int
    var hour: Int
    var minute: Int

    init(year: Int, month: Int, day: Int, hour: Int, minute: Int) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
    }

    init(_ date: Date, in timeZone: TimeZone) {
        let seconds = Int64(floor(date.timeIntervalSince1970)) + Int64(timeZone.secondsFromGMT(for: date))
        let days = Int(floorDiv(seconds, 86_400))
        let rest = Int(seconds - Int64(days) * 86_400)
        (year, month, day) = Self.civil(fromDays: days)
        hour = rest / 3600
        minute = (rest % 3600) / 60
    }

    static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    static func daysIn(_ y: Int, _ m: Int) -> Int {
        switch m {
        case 2: return isLeap(y) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// 0 = Sunday.
    var weekday: Int {
        let days = Self.days(fromCivil: year, month, day)
        return Int(((days % 7) + 11) % 7)  // 1970-01-01 was a Thursday (4)
    }

    func addingMinute() -> WallTime {
        var w = self
        w.minute += 1
        if w.minute == 60 { w.minute = 0; w.hour += 1 }
        if w.hour == 24 { return WallTime(year: year, month: month, day: day, hour: 0, minute: 0).nextDay() }
        return w
    }

    func nextDay() -> WallTime {
        if day < Self.daysIn(year, month) { return WallTime(year: year, month: month, day: day + 1, hour: 0, minute: 0) }
        return firstOfNextMonth()
    }

    func firstOfNextMonth() -> WallTime {
        month == 12 ? WallTime(year: year + 1, month: 1, day: 1, hour: 0, minute: 0) : WallTime(year: year, month: month + 1, day: 1, hour: 0, minute: 0)
    }

    /// Seconds since the epoch if this wall time were UTC.
    var naiveSeconds: Double {
        Double(Self.days(fromCivil: year, month, day)) * 86_400 + Double(hour * 3600 + minute * 60)
    }

    /// The instants at which clocks in `timeZone` show this wall time: none
    /// in a spring-forward gap, two in a fall-back repeat, else one.
    func instants(in timeZone: TimeZone) -> [Date] {
        let naive = naiveSeconds
        let offsets = Set([-86_400.0, 0, 86_400].map { timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: naive + $0)) })
        return offsets.compactMap { offset -> Date? in
            let candidate = Date(timeIntervalSince1970: naive - Double(offset))
            return timeZone.secondsFromGMT(for: candidate) == offset ? candidate : nil
        }.sorted()
    }

    /// For a wall time inside a spring-forward gap: the instant the clocks
    /// jumped (the first instant after the gap).
    func gapEnd(in timeZone: TimeZone) -> Date? {
        let naive = naiveSeconds
        let before = Double(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: naive - 86_400)))
        let after = Double(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: naive + 86_400)))
        guard after > before else { return nil }
        // The offset is `before` at `low` and `after` at `high`; find the change.
        var low = naive - after - 1, high = naive - before
        guard Double(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: low))) == before else { return nil }
        while high - low > 1 {
            let mid = floor((low + high) / 2)
            if Double(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: mid))) == before { low = mid } else { high = mid }
        }
        return Date(timeIntervalSince1970: high)
    }

    // Howard Hinnant's days_from_civil / civil_from_days.
    static func days(fromCivil y: Int, _ m: Int, _ d: Int) -> Int64 {
        let y = Int64(m <= 2 ? y - 1 : y)
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let mp = Int64((m + 9) % 12)
        let doy = (153 * mp + 2) / 5 + Int64(d) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays days: Int) -> (Int, Int, Int) {
        let z = Int64(days) + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        return (Int(y), Int(m), Int(d))
    }
}

func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    a >= 0 ? a / b : -((-a + b - 1) / b)
}
