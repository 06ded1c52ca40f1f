import Testing
import Cron

/// The daylight saving rules of docs/cron.md, with the examples it shows.
struct CronDaylightSavingTests {
    // Europe/Berlin 2026: spring forward 2026-03-29 02:00 CET -> 03:00 CEST,
    // fall back 2026-10-25 03:00 CEST -> 02:00 CET.

    @Test func fixedTimeInTheGapRunsOnceAtTheEndOfTheGap() throws {
        #expect(try fireTimes("30 2 * * *", after: "2026-03-28T12:00:00+01:00", in: "Europe/Berlin", count: 2)
            == ["2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"])
        // Two times in the same gap still run once.
        #expect(try fireTimes("0,30 2 * * *", after: "2026-03-28T12:00:00+01:00", in: "Europe/Berlin", count: 3)
            == ["2026-03-29T03:00:00+02:00", "2026-03-30T02:00:00+02:00", "2026-03-30T02:30:00+02:00"])
        // 03:00 itself and a gap time coincide: one run.
        #expect(try fireTimes("30 2,3 * * *", after: "2026-03-29T01:59:00+01:00", in: "Europe/Berlin", count: 2)
            == ["2026-03-29T03:00:00+02:00", "2026-03-29T03:30:00+02:00"])
    }

    @Test func wildcardJobsHaveNoFireTimesInTheGap() throws {
        #expect(try fireTimes("*/30 * * * *", after: "2026-03-29T01:00:00+01:00", in: "Europe/Berlin", count: 3)
            == ["2026-03-29T01:30:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T03:30:00+02:00"])
        // A wildcard minute makes a wildcard job too (ISC cron), even with a fixed hour.
        #expect(try fireTimes("* 2 * * *", after: "2026-03-28T12:00:00+01:00", in: "Europe/Berlin", count: 1)
            == ["2026-03-30T02:00:00+02:00"])
        #expect(try fireTimes("@hourly", after: "2026-03-29T00:30:00+01:00", in: "Europe/Berlin", count: 3)
            == ["2026-03-29T01:00:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T04:00:00+02:00"])
    }

    @Test func fixedTimeRepeatedByFallBackRunsAtTheFirstOccurrence() throws {
        #expect(try fireTimes("30 2 * * *", after: "2026-10-24T12:00:00+02:00", in: "Europe/Berlin", count: 2)
            == ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"])
        // Starting between the two occurrences: the second one is not a fire time.
        #expect(try fireTimes("30 2 * * *", after: "2026-10-25T02:40:00+02:00", in: "Europe/Berlin", count: 1)
            == ["2026-10-26T02:30:00+01:00"])
        #expect(try fireTimes("30 1 * * *", after: "2026-11-01T01:15:00-05:00", in: "America/New_York", count: 1)
            == ["2026-11-02T01:30:00-05:00"])
    }

    @Test func anExplicitMinuteRangeMakesAFixedTimeJob() throws {
        // docs/cron.md: write 0-59 instead of * to run once after the gap.
        #expect(try fireTimes("0-59 2 * * *", after: "2026-03-28T12:00:00+01:00", in: "Europe/Berlin", count: 2)
            == ["2026-03-29T03:00:00+02:00", "2026-03-30T02:00:00+02:00"])
    }

    @Test func wildcardJobsRunInBothOccurrences() throws {
        #expect(try fireTimes("30 * * * *", after: "2026-10-25T01:00:00+02:00", in: "Europe/Berlin", count: 4)
            == ["2026-10-25T01:30:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-25T02:30:00+01:00", "2026-10-25T03:30:00+01:00"])
        #expect(try fireTimes("*/30 * * * *", after: "2026-10-25T01:50:00+02:00", in: "Europe/Berlin", count: 6)
            == ["2026-10-25T02:00:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-25T02:00:00+01:00",
                "2026-10-25T02:30:00+01:00", "2026-10-25T03:00:00+01:00", "2026-10-25T03:30:00+01:00"])
        // From inside the first pass, the second pass comes next.
        #expect(try fireTimes("*/20 * * * *", after: "2026-11-01T01:45:00-04:00", in: "America/New_York", count: 3)
            == ["2026-11-01T01:00:00-05:00", "2026-11-01T01:20:00-05:00", "2026-11-01T01:40:00-05:00"])
    }

    @Test func southernHemisphere() throws {
        // Sydney falls back on 2026-04-05 03:00 AEDT -> 02:00 AEST and springs forward on 2026-10-04 02:00 -> 03:00.
        #expect(try fireTimes("30 2 * * *", after: "2026-04-04T12:00:00+11:00", in: "Australia/Sydney", count: 2)
            == ["2026-04-05T02:30:00+11:00", "2026-04-06T02:30:00+10:00"])
        #expect(try fireTimes("30 2 * * *", after: "2026-10-03T12:00:00+10:00", in: "Australia/Sydney", count: 2)
            == ["2026-10-04T03:00:00+11:00", "2026-10-05T02:30:00+11:00"])
    }

    @Test func halfHourShifts() throws {
        // Lord Howe Island moves its clocks by 30 minutes: 02:00 -> 02:30 and 02:00 -> 01:30.
        #expect(try fireTimes("15 2 * * *", after: "2026-10-03T12:00:00+10:30", in: "Australia/Lord_Howe", count: 2)
            == ["2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00"])
        #expect(try fireTimes("*/15 * * * *", after: "2026-04-05T01:20:00+11:00", in: "Australia/Lord_Howe", count: 6)
            == ["2026-04-05T01:30:00+11:00", "2026-04-05T01:45:00+11:00", "2026-04-05T01:30:00+10:30",
                "2026-04-05T01:45:00+10:30", "2026-04-05T02:00:00+10:30", "2026-04-05T02:15:00+10:30"])
    }

    @Test func aSkippedDayRunsFixedTimeJobsOnceAfterIt() throws {
        // Samoa skipped 2011-12-30 entirely (-10:00 -> +14:00).
        #expect(try fireTimes("0 12 * * *", after: "2011-12-29T13:00:00-10:00", in: "Pacific/Apia", count: 3)
            == ["2011-12-31T00:00:00+14:00", "2011-12-31T12:00:00+14:00", "2012-01-01T12:00:00+14:00"])
        #expect(try fireTimes("0 * * * *", after: "2011-12-29T23:30:00-10:00", in: "Pacific/Apia", count: 2)
            == ["2011-12-31T00:00:00+14:00", "2011-12-31T01:00:00+14:00"])
    }

    @Test func aWildcardJobWhoseOnlyMatchIsInTheGapWaitsForTheNextMatch() throws {
        // 2026-03-29 is Berlin's spring-forward day: 02:xx does not exist.
        #expect(try fireTimes("* 2 29 3 *", after: "2026-01-01T00:00:00Z", in: "Europe/Berlin", count: 1)
            == ["2027-03-29T02:00:00+02:00"])
        #expect(try fireTimes("0 2 29 3 *", after: "2026-01-01T00:00:00Z", in: "Europe/Berlin", count: 2)
            == ["2026-03-29T03:00:00+02:00", "2027-03-29T02:00:00+02:00"])
    }
}
