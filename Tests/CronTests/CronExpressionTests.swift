import Foundation
import Testing
@testable import Cron

struct CronExpressionTests {
    let utc = TimeZone(identifier: "UTC")!

    func fire(_ expression: String, after: String, count: Int = 3, zone: String = "UTC") throws -> [String] {
        let tz = try CronTimeZone.named(zone)
        let formatter = ISO8601DateFormatter()
        let start = formatter.date(from: after)!
        return try CronExpression(expression).nextFireDates(after: start, in: tz, count: count).map { ISO8601Offset.string($0, in: tz) }
    }

    @Test(arguments: [
        ("61 2 * * *", "minute value 61 is out of range 0-59", 0),
        ("0 24 * * *", "hour value 24 is out of range 0-23", 2),
        ("0 0 * 13 *", "month value 13 is out of range 1-12", 6),
        ("0 0 5-1 * *", "day-of-month range 5-1 is reversed; write it from low to high", 4),
        ("*/0 * * * *", "step must be at least 1 in the minute field", 2),
        ("0 0 * * funday", "unknown day-of-week name \"funday\"; use sun-sat or numbers", 8),
        ("0 0 * foo *", "unknown month name \"foo\"; use jan-dec or numbers", 6),
        ("0 0 * *", "expected 5 fields (minute hour day-of-month month day-of-week), found 4", 0),
        ("x 0 * * *", "invalid minute value \"x\"", 0),
        ("0 0 1,,2 * *", "empty item in the day-of-month field", 6),
        ("@reboot", "@reboot has no fire times; use a time-based schedule such as @daily", 0),
        ("@fortnightly", "unknown macro \"@fortnightly\"; use @hourly, @daily, @weekly, @monthly or @yearly", 0),
    ])
    func errorsSayWhatAndWhere(expression: String, message: String, offset: Int) {
        #expect(throws: CronError(message: message, offset: offset)) { try CronExpression(expression) }
    }

    @Test func namesRangesListsAndSteps() throws {
        #expect(try fire("15 10 * * MON,wed", after: "2026-11-24T00:00:00Z") == ["2026-11-25T10:15:00+00:00", "2026-11-30T10:15:00+00:00", "2026-12-02T10:15:00+00:00"])
        #expect(try fire("0 0 1 jan-mar/2 *", after: "2026-11-24T00:00:00Z") == ["2027-01-01T00:00:00+00:00", "2027-03-01T00:00:00+00:00", "2028-01-01T00:00:00+00:00"])
        #expect(try fire("50/5 * * * *", after: "2026-11-24T00:00:00Z") == ["2026-11-24T00:50:00+00:00", "2026-11-24T00:55:00+00:00", "2026-11-24T01:50:00+00:00"])
        #expect(try fire("0 0 * * 7", after: "2026-11-24T00:00:00Z", count: 1) == ["2026-11-29T00:00:00+00:00"])
    }

    @Test func dayOfMonthOrDayOfWeekWhenBothAreRestricted() throws {
        // The 13th, or any Friday (Vixie cron's OR rule).
        #expect(try fire("0 6 13 * fri", after: "2026-11-24T00:00:00Z", count: 4) == [
            "2026-11-27T06:00:00+00:00", "2026-12-04T06:00:00+00:00", "2026-12-11T06:00:00+00:00", "2026-12-13T06:00:00+00:00",
        ])
        // With a star in either field, both must match: only Friday the 13th.
        #expect(try fire("0 6 13 * */1", after: "2026-11-24T00:00:00Z", count: 1) == ["2026-12-13T06:00:00+00:00"])
        #expect(try fire("0 6 * * fri", after: "2026-11-24T00:00:00Z", count: 1) == ["2026-11-27T06:00:00+00:00"])
    }

    @Test func leapDaysAndMonthEnds() throws {
        #expect(try fire("0 0 29 2 *", after: "2026-11-24T00:00:00Z", count: 2) == ["2028-02-29T00:00:00+00:00", "2032-02-29T00:00:00+00:00"])
        #expect(try fire("0 12 31 * *", after: "2026-11-24T00:00:00Z", count: 2) == ["2026-12-31T12:00:00+00:00", "2027-01-31T12:00:00+00:00"])
    }

    @Test func expressionsThatNeverFireReturnNothingQuickly() throws {
        let start = Date()
        #expect(try CronExpression("0 0 30 2 *").nextFireDate(after: Date(), in: utc) == nil)
        #expect(Date().timeIntervalSince(start) < 5)
    }

    @Test func macros() throws {
        #expect(try fire("@hourly", after: "2026-11-24T10:20:00Z", count: 2) == ["2026-11-24T11:00:00+00:00", "2026-11-24T12:00:00+00:00"])
        #expect(try fire("@weekly", after: "2026-11-24T10:20:00Z", count: 1) == ["2026-11-29T00:00:00+00:00"])
        #expect(try fire("@yearly", after: "2026-11-24T10:20:00Z", count: 1) == ["2027-01-01T00:00:00+00:00"])
    }

    @Test func daylightSavingTimeFollowsTheDocumentedRules() throws {
        // Berlin springs forward at 02:00 on 2026-03-29: a 02:30 job runs once, at 03:00.
        #expect(try fire("30 2 * * *", after: "2026-03-28T12:00:00Z", count: 2, zone: "Europe/Berlin") == ["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"])
        // A wildcard job has no times in the missing hour.
        #expect(try fire("*/30 * * * *", after: "2026-03-29T00:40:00Z", count: 2, zone: "Europe/Berlin") == ["2026-03-29T03:00:00+02:00", "2026-03-29T03:30:00+02:00"])
        // Berlin falls back at 03:00 on 2026-10-25: a 02:30 job runs once, at the first 02:30.
        #expect(try fire("30 2 * * *", after: "2026-10-24T12:00:00Z", count: 2, zone: "Europe/Berlin") == ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"])
        // A wildcard job runs in both passes of the repeated hour.
        #expect(try fire("30 * * * *", after: "2026-10-24T23:00:00Z", count: 4, zone: "Europe/Berlin") == ["2026-10-25T01:30:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-25T02:30:00+01:00", "2026-10-25T03:30:00+01:00"])
    }

    @Test func timeZonesAndOffsets() throws {
        #expect(throws: CronError(message: "unknown time zone \"Europe/Berln\"; use an IANA name such as Europe/Berlin, America/New_York or UTC", offset: 0)) {
            try CronTimeZone.named("Europe/Berln")
        }
        #expect(try fire("0 9 * * *", after: "2026-11-24T00:00:00Z", count: 1, zone: "Asia/Kolkata") == ["2026-11-24T09:00:00+05:30"])
        #expect(try fire("0 9 * * *", after: "2026-11-24T00:00:00Z", count: 1, zone: "America/St_Johns") == ["2026-11-24T09:00:00-03:30"])
    }
}
