public import Foundation

extension CronExpression {
    /// How far ahead the search looks: one full 400-year Gregorian cycle,
    /// after which the calendar repeats, so an expression with no fire time
    /// in this window has none at all (barring time zone rule changes).
    static let searchYears: Int64 = 400

    /// The first fire time strictly after `date`, in `timeZone`.
    ///
    /// Fields are matched against the zone's wall-clock time. Across daylight
    /// saving transitions (see docs/cron.md):
    /// - a wall time skipped by spring-forward fires once at the first
    ///   instant after the gap, for fixed-time jobs (minute and hour fields
    ///   not starting with `*`); jobs with a wildcard minute or hour have no
    ///   fire time in the gap;
    /// - a wall time repeated by fall-back fires only at its first
    ///   occurrence for fixed-time jobs, at both for wildcard jobs.
    ///
    /// The search steps field by field (month, day, hour, minute) through
    /// each stretch of constant UTC offset, so even a rare match costs little.
    ///
    /// - Returns: The fire time, or nil if there is none within 400 years
    ///   (e.g. `0 0 30 2 *`, detected without searching).
    public func nextFireDate(after date: Date, in timeZone: TimeZone) -> Date? {
        guard canMatchSomeDay, date.timeIntervalSince1970.isFinite else { return nil }
        // Fire times are whole seconds; "strictly after date" is "after its floor".
        let after = Int64(date.timeIntervalSince1970.rounded(.down))
        var cursor = after
        var offset = Self.offset(of: timeZone, at: cursor)
        var from = roundUp(after + offset + 1, toMultipleOf: 60)
        let limit = from + Self.searchYears * 146_097 / 400 * 86_400
        if !isWildcardTime, let (transition, previous) = Self.recentFallBack(in: timeZone, before: cursor, offset: offset) {
            // Wall times up to transition+previous were already shown before
            // the clocks went back; a fixed-time job had its run then.
            from = max(from, roundUp(transition + previous, toMultipleOf: 60))
        }
        while true {
            let transition = Self.nextTransition(in: timeZone, after: cursor)
            let end = min(transition.map { $0 + offset } ?? limit, limit)
            if let match = nextMatch(from: from, before: end) {
                return Date(timeIntervalSince1970: Double(match - offset))
            }
            guard let transition, transition + offset < limit else { return nil }
            let newOffset = Self.offset(of: timeZone, at: transition)
            if newOffset > offset, !isWildcardTime,
               nextMatch(from: roundUp(transition + offset, toMultipleOf: 60), before: transition + newOffset) != nil {
                // Spring-forward: a wall time in the gap runs at the first instant after it.
                return Date(timeIntervalSince1970: Double(transition))
            }
            // After a fall-back, a fixed-time job skips the repeated wall times.
            let firstFresh = newOffset < offset && !isWildcardTime ? transition + offset : transition + newOffset
            from = roundUp(firstFresh, toMultipleOf: 60)
            offset = newOffset
            cursor = transition
        }
    }

    /// The next `count` fire times after `date`, fewer if the expression
    /// runs out (see ``nextFireDate(after:in:)``).
    public func nextFireDates(after date: Date, in timeZone: TimeZone, count: Int) -> [Date] {
        var result: [Date] = []
        var cursor = date
        while result.count < count, let next = nextFireDate(after: cursor, in: timeZone) {
            result.append(next)
            cursor = next
        }
        return result
    }

    // MARK: Wall-clock search

    /// The first wall time (naive seconds, whole minutes) in `from..<end`
    /// that the fields allow, stepping month, day, hour and minute in turn.
    func nextMatch(from: Int64, before end: Int64) -> Int64? {
        var wall = WallTime(naiveSeconds: from)
        wall.second = 0
        while wall.naiveSeconds < end {
            guard let month = self.month.next(atOrAfter: wall.month) else {
                wall = WallTime(year: wall.year + 1, month: 1, day: 1)
                continue
            }
            if month != wall.month {
                wall = WallTime(year: wall.year, month: month, day: 1)
                continue
            }
            let days = WallTime.daysIn(year: wall.year, month: wall.month)
            guard let day = (wall.day...days).first(where: { dayMatches(year: wall.year, month: wall.month, day: $0) }) else {
                wall = Self.firstOfNextMonth(wall)
                continue
            }
            if day != wall.day {
                wall = WallTime(year: wall.year, month: wall.month, day: day)
                continue
            }
            guard let hour = self.hour.next(atOrAfter: wall.hour) else {
                wall = day < days ? WallTime(year: wall.year, month: wall.month, day: day + 1) : Self.firstOfNextMonth(wall)
                continue
            }
            if hour != wall.hour {
                wall = WallTime(year: wall.year, month: wall.month, day: day, hour: hour)
                continue
            }
            guard let minute = self.minute.next(atOrAfter: wall.minute) else {
                // Next hour; hour 24 rolls over through the hour check above.
                if hour == 23 {
                    wall = day < days ? WallTime(year: wall.year, month: wall.month, day: day + 1) : Self.firstOfNextMonth(wall)
                } else {
                    wall = WallTime(year: wall.year, month: wall.month, day: day, hour: hour + 1)
                }
                continue
            }
            wall.minute = minute
            let seconds = wall.naiveSeconds
            return seconds < end ? seconds : nil
        }
        return nil
    }

    static func firstOfNextMonth(_ wall: WallTime) -> WallTime {
        wall.month == 12 ? WallTime(year: wall.year + 1, month: 1, day: 1) : WallTime(year: wall.year, month: wall.month + 1, day: 1)
    }

    // MARK: Time zone transitions

    static func offset(of timeZone: TimeZone, at instant: Int64) -> Int64 {
        Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant))))
    }

    /// The next instant after `instant` at which the zone's offset may change
    /// (Foundation reports every rule change, not only daylight saving).
    static func nextTransition(in timeZone: TimeZone, after instant: Int64) -> Int64? {
        guard let next = timeZone.nextDaylightSavingTimeTransition(after: Date(timeIntervalSince1970: Double(instant))) else {
            return nil
        }
        // Guard against a transition reported at or before `instant`, which would loop.
        return max(Int64(next.timeIntervalSince1970.rounded(.up)), instant + 1)
    }

    /// The latest transition at or before `instant` that set the clocks back,
    /// if its repeated wall times could still lie ahead (within two days),
    /// with the offset before it.
    static func recentFallBack(in timeZone: TimeZone, before instant: Int64, offset: Int64) -> (Int64, Int64)? {
        var latest: Int64?
        var probe = instant - 2 * 86_400
        while let transition = nextTransition(in: timeZone, after: probe), transition <= instant {
            latest = transition
            probe = transition
        }
        guard let latest else { return nil }
        let previous = Self.offset(of: timeZone, at: latest - 1)
        return previous > offset ? (latest, previous) : nil
    }
}
