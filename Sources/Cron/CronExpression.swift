/// A five-field cron expression (`minute hour day-of-month month
/// day-of-week`) or a macro such as `@daily`, and its fire times in a time zone.
///
/// The syntax and matching are Vixie cron's (the cron of Debian): names
/// (`jan`, `mon`), ranges, lists and steps; day-of-week 0 and 7 are Sunday;
/// when both day fields are restricted (neither starts with `*`) a day
/// matches if *either* matches. Daylight saving transitions follow ISC cron;
/// docs/cron.md describes both precisely.
public struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    /// The source text, exactly as given.
    public let description: String
    let minute: CronField
    let hour: CronField
    let dayOfMonth: CronField
    let month: CronField
    let dayOfWeek: CronField

    /// Macros and what they stand for, as in Vixie cron.
    static let macros: [(name: String, expansion: String)] = [
        ("@yearly", "0 0 1 1 *"), ("@annually", "0 0 1 1 *"), ("@monthly", "0 0 1 * *"), ("@weekly", "0 0 * * 0"),
        ("@daily", "0 0 * * *"), ("@midnight", "0 0 * * *"), ("@hourly", "0 * * * *"),
    ]

    /// Parses an expression.
    ///
    /// Fields are separated by spaces or tabs; leading and trailing blanks are
    /// ignored. Names and macros are case-insensitive.
    ///
    /// - Parameter text: e.g. `30 2 * * *`, `*/15 9-17 * * mon-fri`, `@daily`.
    /// - Throws: A ``CronError`` whose message names the field and what it
    ///   accepts, and whose offset is where the bad field or token starts.
    public init(_ text: String) throws(CronError) {
        let fields = try Self.parseFields(text)
        description = text
        minute = fields[0]
        hour = fields[1]
        dayOfMonth = fields[2]
        month = fields[3]
        dayOfWeek = fields[4]
    }

    /// The five fields of `text`, a macro expanded.
    static func parseFields(_ text: String) throws(CronError) -> [CronField] {
        let characters = Array(text)
        let tokens = Self.tokens(characters)
        if let first = tokens.first, characters[first].first == "@" {
            let name = String(characters[first]).lowercased()
            if name == "@reboot" {
                throw CronError(
                    message: "@reboot has no fire times (it means \"when cron starts\"); use a time-based schedule such as @daily or \"0 3 * * *\"",
                    offset: first.lowerBound)
            }
            guard let macro = Self.macros.first(where: { $0.name == name }) else {
                throw CronError(
                    message: "unknown macro \"\(String(characters[first]))\"; use @hourly, @daily (@midnight), @weekly, @monthly or @yearly (@annually)",
                    offset: first.lowerBound)
            }
            if tokens.count > 1 {
                let rest = String(characters[tokens[1].lowerBound..<tokens[tokens.count - 1].upperBound])
                throw CronError(message: "\(name) stands alone; remove \"\(rest)\"", offset: tokens[1].lowerBound)
            }
            return try parseFields(macro.expansion)
        }
        guard tokens.count == 5 else {
            throw Self.fieldCountError(tokens)
        }
        var fields: [CronField] = []
        for (kind, range) in zip(CronField.Kind.allCases, tokens) {
            fields.append(try CronField.parse(characters[range], kind: kind, offset: range.lowerBound))
        }
        return fields
    }

    /// The ranges of the blank-separated tokens.
    static func tokens(_ characters: [Character]) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var index = 0
        while index < characters.count {
            if characters[index] == " " || characters[index] == "\t" {
                index += 1
                continue
            }
            let start = index
            while index < characters.count, characters[index] != " ", characters[index] != "\t" { index += 1 }
            result.append(start..<index)
        }
        return result
    }

    static func fieldCountError(_ tokens: [Range<Int>]) -> CronError {
        let expected = "expected 5 fields (minute hour day-of-month month day-of-week)"
        if tokens.isEmpty {
            return CronError(message: "empty cron expression; \(expected) or a macro such as @daily", offset: 0)
        }
        if tokens.count < 5 {
            let missing = CronField.Kind.allCases[tokens.count...].map(\.name).joined(separator: ", ")
            return CronError(message: "\(expected), found \(tokens.count); missing: \(missing)", offset: tokens[0].lowerBound)
        }
        let hint = tokens.count <= 7 ? " (seconds and year fields are not supported)" : ""
        return CronError(message: "\(expected), found \(tokens.count)\(hint)", offset: tokens[5].lowerBound)
    }

    // MARK: Matching wall-clock times

    /// Whether the day fields are combined with OR (Vixie cron: both restricted).
    var daysUseOr: Bool { !dayOfMonth.startsWithStar && !dayOfWeek.startsWithStar }

    /// ISC cron's "wildcard" jobs (minute or hour field starts with `*`):
    /// they follow the wall clock through daylight saving transitions, while
    /// fixed-time jobs are made to run exactly once per wall-clock time.
    var isWildcardTime: Bool { minute.startsWithStar || hour.startsWithStar }

    func dayMatches(year: Int, month: Int, day: Int) -> Bool {
        let weekday = WallTime(year: year, month: month, day: day).weekday
        if daysUseOr { return dayOfMonth.contains(day) || dayOfWeek.contains(weekday) }
        return dayOfMonth.contains(day) && dayOfWeek.contains(weekday)
    }

    /// Whether some calendar date can ever match. Over a 400-year Gregorian
    /// cycle every valid date falls on every weekday, so the only dead
    /// expressions are those whose day-of-month must match and never fits
    /// an allowed month (`0 0 30 2 *`, `0 0 31 4,6 *`).
    var canMatchSomeDay: Bool {
        if daysUseOr { return true }
        for month in 1...12 where self.month.contains(month) {
            let longest = month == 2 ? 29 : WallTime.daysIn(year: 2001, month: month)
            if let day = dayOfMonth.smallest, day <= longest { return true }
        }
        return false
    }
}
