import Foundation
import Testing
import Cron

/// Field syntax and day matching, in UTC (daylight saving is in CronDaylightSavingTests).
struct CronExpressionTests {
    @Test func descriptionIsTheSourceText() throws {
        #expect(try CronExpression("30 2 * * *").description == "30 2 * * *")
        #expect(try CronExpression("@Daily").description == "@Daily")
        #expect(try CronExpression("  0 0 * * *\t").description == "  0 0 * * *\t")
        #expect(try CronExpression("30 2 * * *") == CronExpression("30 2 * * *"))
        #expect(try CronExpression("30 2 * * *") != CronExpression("30 2 * * 0-7"))
    }

    @Test func firesStrictlyAfterTheStart() throws {
        #expect(try fireTimes("30 2 * * *", after: "2026-11-24T02:30:00Z", count: 2)
            == ["2026-11-25T02:30:00+00:00", "2026-11-26T02:30:00+00:00"])
        #expect(try fireTimes("30 2 * * *", after: "2026-11-24T02:29:59Z", count: 1) == ["2026-11-24T02:30:00+00:00"])
        let justBefore = instant("2026-11-24T02:30:00Z").addingTimeInterval(-0.25)
        let next = try CronExpression("30 2 * * *").nextFireDate(after: justBefore, in: CronTimeZone.named("UTC"))
        #expect(next == instant("2026-11-24T02:30:00Z"))
    }

    @Test func startsFarFromToday() throws {
        let utc = try CronTimeZone.named("UTC")
        let daily = try CronExpression("@daily")
        #expect(daily.nextFireDate(after: Date(timeIntervalSince1970: .nan), in: utc) == nil)
        #expect(daily.nextFireDate(after: Date(timeIntervalSince1970: .infinity), in: utc) == nil)
        // distantPast is 0000-12-30 in the proleptic Gregorian calendar used here.
        #expect(daily.nextFireDate(after: .distantPast, in: utc).map { ISO8601Offset.string($0, in: utc) } == "0000-12-31T00:00:00+00:00")
        #expect(try fireTimes("0 0 1 1 *", after: "1969-12-31T12:00:00Z", count: 1) == ["1970-01-01T00:00:00+00:00"])
    }

    @Test func everyMinute() throws {
        #expect(try fireTimes("* * * * *", after: "2026-12-31T23:58:30Z", count: 3)
            == ["2026-12-31T23:59:00+00:00", "2027-01-01T00:00:00+00:00", "2027-01-01T00:01:00+00:00"])
    }

    @Test func macrosEqualTheirExpansions() throws {
        let macros = [
            "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
            "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
        ]
        for (macro, expansion) in macros {
            for spelling in [macro, macro.uppercased(), " \(macro) "] {
                #expect(try fireTimes(spelling, after: "2026-02-27T13:17:00Z") == fireTimes(expansion, after: "2026-02-27T13:17:00Z"), "\(spelling)")
            }
        }
        #expect(try fireTimes("@weekly", after: "2026-11-24T00:00:00Z", count: 2) == ["2026-11-29T00:00:00+00:00", "2026-12-06T00:00:00+00:00"])
        #expect(try fireTimes("@yearly", after: "2026-11-24T00:00:00Z", count: 1) == ["2027-01-01T00:00:00+00:00"])
    }

    @Test func namesAreCaseInsensitiveAndWorkInRanges() throws {
        let start = "2026-01-01T00:00:00Z"
        #expect(try fireTimes("0 9 * JAN-Mar mon-FRI", after: start, count: 40) == fireTimes("0 9 * 1-3 1-5", after: start, count: 40))
        #expect(try fireTimes("0 9 * * sun", after: start) == fireTimes("0 9 * * 0", after: start))
        #expect(try fireTimes("0 9 1 feb,Aug *", after: start, count: 2) == ["2026-02-01T09:00:00+00:00", "2026-08-01T09:00:00+00:00"])
    }

    @Test func sundayIsZeroAndSeven() throws {
        let start = "2026-11-24T00:00:00Z"  // a Tuesday
        #expect(try fireTimes("0 0 * * 7", after: start) == fireTimes("0 0 * * 0", after: start))
        #expect(try fireTimes("0 0 * * 5-7", after: start, count: 3)
            == ["2026-11-27T00:00:00+00:00", "2026-11-28T00:00:00+00:00", "2026-11-29T00:00:00+00:00"])
        #expect(try fireTimes("0 0 * * sat-7", after: start, count: 2) == ["2026-11-28T00:00:00+00:00", "2026-11-29T00:00:00+00:00"])
    }

    @Test func steps() throws {
        let start = "2026-11-24T10:00:00Z"
        #expect(try fireTimes("*/20 * * * *", after: start, count: 4)
            == ["2026-11-24T10:20:00+00:00", "2026-11-24T10:40:00+00:00", "2026-11-24T11:00:00+00:00", "2026-11-24T11:20:00+00:00"])
        // a-b/n
        #expect(try fireTimes("10-30/10 12 * * *", after: start, count: 4)
            == ["2026-11-24T12:10:00+00:00", "2026-11-24T12:20:00+00:00", "2026-11-24T12:30:00+00:00", "2026-11-25T12:10:00+00:00"])
        // a/n runs to the end of the range: 45, 50, 55, then the next hour.
        #expect(try fireTimes("45/5 * * * *", after: start, count: 4)
            == ["2026-11-24T10:45:00+00:00", "2026-11-24T10:50:00+00:00", "2026-11-24T10:55:00+00:00", "2026-11-24T11:45:00+00:00"])
        // Day-of-week a/n ends on Saturday: Monday, Wednesday, Friday.
        #expect(try fireTimes("0 0 * * 1/2", after: start, count: 4)
            == ["2026-11-25T00:00:00+00:00", "2026-11-27T00:00:00+00:00", "2026-11-30T00:00:00+00:00", "2026-12-02T00:00:00+00:00"])
        // A step larger than the range leaves only its start.
        #expect(try fireTimes("*/90 * * * *", after: start, count: 2) == ["2026-11-24T11:00:00+00:00", "2026-11-24T12:00:00+00:00"])
        // Lists mix all forms.
        #expect(try fireTimes("0 1,5-6,20/2 * * *", after: start, count: 5)
            == ["2026-11-24T20:00:00+00:00", "2026-11-24T22:00:00+00:00", "2026-11-25T01:00:00+00:00", "2026-11-25T05:00:00+00:00", "2026-11-25T06:00:00+00:00"])
    }

    @Test func leapDaysAndMonthEnds() throws {
        #expect(try fireTimes("0 0 29 2 *", after: "2026-01-01T00:00:00Z", count: 3)
            == ["2028-02-29T00:00:00+00:00", "2032-02-29T00:00:00+00:00", "2036-02-29T00:00:00+00:00"])
        // 2100 is not a leap year.
        #expect(try fireTimes("0 0 29 2 *", after: "2097-01-01T00:00:00Z", count: 2)
            == ["2104-02-29T00:00:00+00:00", "2108-02-29T00:00:00+00:00"])
        // The 31st only exists in seven months.
        #expect(try fireTimes("0 0 31 * *", after: "2026-03-31T00:00:00Z", count: 3)
            == ["2026-05-31T00:00:00+00:00", "2026-07-31T00:00:00+00:00", "2026-08-31T00:00:00+00:00"])
        #expect(try fireTimes("0 0 30 * *", after: "2026-01-30T00:00:00Z", count: 2) == ["2026-03-30T00:00:00+00:00", "2026-04-30T00:00:00+00:00"])
    }

    @Test func dayFieldsCombineWithOrWhenBothAreRestricted() throws {
        // Every 13th and every Friday (Vixie cron), not only Friday the 13th.
        #expect(try fireTimes("0 6 13 * fri", after: "2026-11-01T00:00:00Z", count: 4)
            == ["2026-11-06T06:00:00+00:00", "2026-11-13T06:00:00+00:00", "2026-11-20T06:00:00+00:00", "2026-11-27T06:00:00+00:00"])
        #expect(try fireTimes("0 6 12 * fri", after: "2026-11-01T00:00:00Z", count: 3)
            == ["2026-11-06T06:00:00+00:00", "2026-11-12T06:00:00+00:00", "2026-11-13T06:00:00+00:00"])
    }

    @Test func dayFieldsCombineWithAndWhenEitherStartsWithStar() throws {
        // Day-of-month */2 counts as unrestricted: odd days that are Mondays.
        #expect(try fireTimes("0 0 */2 * mon", after: "2026-11-01T00:00:00Z", count: 3)
            == ["2026-11-09T00:00:00+00:00", "2026-11-23T00:00:00+00:00", "2026-12-07T00:00:00+00:00"])
        // Day-of-week */6 = {0, 6}: the first of the month on a weekend.
        #expect(try fireTimes("0 0 1 * */6", after: "2026-01-01T00:00:00Z", count: 3)
            == ["2026-02-01T00:00:00+00:00", "2026-03-01T00:00:00+00:00", "2026-08-01T00:00:00+00:00"])
        #expect(try fireTimes("0 0 * * fri", after: "2026-11-01T00:00:00Z", count: 1) == ["2026-11-06T00:00:00+00:00"])
    }

    @Test func nextFireDatesReturnsExactlyCountIncreasingTimes() throws {
        let expression = try CronExpression("*/7 9-17 * * mon-fri")
        let zone = try CronTimeZone.named("Europe/Berlin")
        let start = instant("2026-11-24T02:30:00+01:00")
        #expect(expression.nextFireDates(after: start, in: zone, count: 0).isEmpty)
        let dates = expression.nextFireDates(after: start, in: zone, count: 500)
        #expect(dates.count == 500)
        #expect(zip(dates, dates.dropFirst()).allSatisfy { $0 < $1 })
        #expect(dates.first.map { ISO8601Offset.string($0, in: zone) } == "2026-11-24T09:00:00+01:00")
        // Each date is the next fire time after the previous one.
        #expect(expression.nextFireDate(after: dates[41], in: zone) == dates[42])
    }

    @Test func expressionWithoutFireTimesReturnsNilQuickly() throws {
        let zone = try CronTimeZone.named("Europe/Berlin")
        let clock = ContinuousClock()
        let started = clock.now
        for text in ["0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 30-31 feb *", "0 0 31 2 */2"] {
            let expression = try CronExpression(text)
            #expect(expression.nextFireDate(after: instant("2026-01-01T00:00:00Z"), in: zone) == nil, "\(text)")
            #expect(expression.nextFireDates(after: instant("2026-01-01T00:00:00Z"), in: zone, count: 3).isEmpty)
        }
        let elapsed = clock.now - started
        #expect(elapsed < .milliseconds(100))
    }

    @Test func rareExpressionsAreFoundWithoutScanning() throws {
        // Day-of-week */7 starts with * (AND rule): February 29th on a Sunday, 28 years after 2100.
        let clock = ContinuousClock()
        let started = clock.now
        let times = try fireTimes("0 0 29 2 */7", after: "2100-01-01T00:00:00Z", count: 2)
        let elapsed = clock.now - started
        #expect(times == ["2128-02-29T00:00:00+00:00", "2156-02-29T00:00:00+00:00"])
        #expect(elapsed < .milliseconds(200))
    }
}
