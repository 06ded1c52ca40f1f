public import Foundation

/// A five-field cron expression (`minute hour day-of-month month
/// day-of-week`) or a macro (`@hourly`, `@daily`, `@weekly`, `@monthly`,
/// `@yearly`), and its fire times in a time zone.
///
/// Semantics follow Vixie cron: names (`jan`, `mon`), ranges, lists, steps;
/// day-of-week 0 and 7 are Sunday; when both day fields are restricted
/// (neither starts with `*`), a day matches if *either* matches. Time zone
/// transitions: see `docs/cron.md` ("Daylight saving time").
public struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    public let description: String
    let minute: CronField
    let hour: CronField
    let dayOfMonth: CronField
    let month: CronField
    let dayOfWeek: CronField

    static let macros: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
        "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]

    public init(_ text: String) throws(CronError) {
        description = text
        var source = text.trimmingCharacters(in: .whitespaces)
        let leading = text.prefix { $0 == " " || $0 == "\t" }.count
        if source.hasPrefix("@") {
            let macro = source.lowercased()
            if macro == "@reboot" {
                throw CronError(message: "@reboot has no fire times; use a time-based schedule such as @daily", offset: leading)
            }
            guard let expanded = Self.macros[macro] else {
                throw CronError(message: "unknown macro \"\(source)\"; use @hourly, @daily, @weekly, @monthly or @yearly", offset: leading)
            }
            source = expanded
        }
        // Fields with their offsets in the original text.
        var fields: [(Substring, Int)] = []
        var index = source.startIndex
        var offset = text.hasPrefix("@") || text.trimmingCharacters(in: .whitespaces).hasPrefix("@") ? -1 : leading
        while index < source.endIndex {
            if source[index] == " " || source[index] == "\t" {
                index = source.index(after: index)
                if offset >= 0 { offset += 1 }
                continue
            }
            let start = index
            while index < source.endIndex, source[index] != " ", source[index] != "\t" { index = source.index(after: index) }
            fields.append((source[start..<index], max(offset, leading)))
            if offset >= 0 { offset += source.distance(from: start, to: index) }
        }
        guard fields.count == 5 else {
            throw CronError(message: "expected 5 fields (minute hour day-of-month month day-of-week), found \(fields.count)", offset: leading)
        }
        minute = try CronField.parse(fields[0].0, kind: .minute, offset: fields[0].1)
        hour = try CronField.parse(fields[1].0, kind: .hour, offset: fields[1].1)
        dayOfMonth = try CronField.parse(fields[2].0, kind: .dayOfMonth, offset: fields[2].1)
        month = try CronField.parse(fields[3].0, kind: .month, offset: fields[3].1)
        dayOfWeek = try CronField.parse(fields[4].0, kind: .dayOfWeek, offset: fields[4].1)
    }

    /// Whether this job has a fixed time of day (neither minute nor hour
    /// starts with `*`); such jobs fire once across a DST change, others
    /// follow the clock (see docs/cron.md).
    var isFixedTime: Bool { !minute.isStar && !hour.isStar }

    public static func == (a: CronExpression, b: CronExpression) -> Bool { a.description == b.description }
    public func hash(into hasher: inout Hasher) { hasher.combine(description) }

    // MARK: Fire times

    /// The first fire time strictly after `date`, or nil if there is none
    /// within eight years (e.g. `0 0 30 2 *`).
    public func nextFireDate(after date: Date, in timeZone: TimeZone) -> Date? {
        let window: TimeInterval = 3 * 3600
        let nearTransition = timeZone.secondsFromGMT(for: date.addingTimeInterval(-window)) != timeZone.secondsFromGMT(for: date.addingTimeInterval(window))
        if nearTransition {
            // Around a fall-back the wall clock repeats an hour: wall times
            // already passed once may come again. Look at every wall time
            // near `date` and take the earliest instant after it.
            var best: Date?
            var wall = WallTime(date.addingTimeInterval(-window), in: timeZone).addingMinute()
            let stop = WallTime(date.addingTimeInterval(2 * window), in: timeZone).naiveSeconds
            while let match = nextMatch(atOrAfter: wall), match.naiveSeconds <= stop {
                for instant in candidates(for: match, in: timeZone) where instant > date {
                    if best == nil || instant < best! { best = instant }
                }
                wall = match.addingMinute()
            }
            if let best { return best }
        }
        var wall = WallTime(date, in: timeZone).addingMinute()
        // Each pass either returns or moves `wall` forward; 8 years of days bounds it.
        for _ in 0..<(366 * 8 * 2) {
            guard let match = nextMatch(atOrAfter: wall) else { return nil }
            let instants = match.instants(in: timeZone)
            if instants.isEmpty {
                // Spring-forward gap: this wall time does not exist.
                // A fixed-time job fires once, at the first instant after the gap.
                if isFixedTime, let transition = match.gapEnd(in: timeZone), transition > date {
                    return transition
                }
            } else if isFixedTime {
                // Fall-back repeat: a fixed-time job fires at the first occurrence only.
                if instants[0] > date { return instants[0] }
            } else if let first = instants.first(where: { $0 > date }) {
                return first
            }
            wall = match.addingMinute()
        }
        return nil
    }

    /// The instants a matching wall time fires at, by the DST rules.
    func candidates(for match: WallTime, in timeZone: TimeZone) -> [Date] {
        let instants = match.instants(in: timeZone)
        if instants.isEmpty { return isFixedTime ? match.gapEnd(in: timeZone).map { [$0] } ?? [] : [] }
        return isFixedTime ? [instants[0]] : instants
    }

    public func nextFireDates(after date: Date, in timeZone: TimeZone, count: Int) -> [Date] {
        var result: [Date] = []
        var cursor = date
        while result.count < count, let next = nextFireDate(after: cursor, in: timeZone) {
            result.append(next)
            cursor = next
        }
        return result
    }

    func dayMatches(_ wall: WallTime) -> Bool {
        let domMatch = dayOfMonth.contains(wall.day)
        let dowMatch = dayOfWeek.contains(wall.weekday)
        if dayOfMonth.isStar || dayOfWeek.isStar { return domMatch && dowMatch }
        return domMatch || dowMatch
    }

    /// The first wall-clock time >= `start` that the fields allow (no time zone involved).
    func nextMatch(atOrAfter start: WallTime) -> WallTime? {
        var wall = start
        for _ in 0..<(366 * 8) {
            if !month.contains(wall.month) {
                wall = wall.firstOfNextMonth()
                continue
            }
            if dayMatches(wall) {
                var h = wall.hour
                var m = wall.minute
                while let hh = hour.next(atOrAfter: h) {
                    if hh != h { m = 0 }
                    if let mm = minute.next(atOrAfter: m) {
                        return WallTime(year: wall.year, month: wall.month, day: wall.day, hour: hh, minute: mm)
                    }
                    h = hh + 1
                    m = 0
                }
            }
            wall = wall.nextDay()
        }
        return nil
    }
}
