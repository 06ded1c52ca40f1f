import Foundation
import Testing
import Cron

struct CronTimeZoneTests {
    @Test func resolvesIANANames() throws {
        for name in ["UTC", "GMT", "Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "America/St_Johns", "Etc/GMT+5"] {
            #expect(throws: Never.self) { try CronTimeZone.named(name) }
        }
        #expect(try CronTimeZone.named("Asia/Kolkata").secondsFromGMT(for: Date(timeIntervalSince1970: 0)) == 19_800)
    }

    @Test func suggestsTheClosestNameForATypo() {
        #expect(throws: CronError(message: "unknown time zone \"Europe/Berln\"; use an IANA name such as Europe/Berlin", offset: 0)) {
            try CronTimeZone.named("Europe/Berln")
        }
        #expect(throws: CronError(message: "unknown time zone \"europe/berlin\"; use an IANA name such as Europe/Berlin", offset: 0)) {
            try CronTimeZone.named("europe/berlin")
        }
    }

    @Test func rejectsAbbreviationsAndUnknownNames() {
        for name in ["CET", "PST", "GMT+1", "Mars/Olympus_Mons", ""] {
            #expect(throws: CronError.self, "\(name)") { try CronTimeZone.named(name) }
        }
        #expect(throws: CronError(message: "unknown time zone \"Mars/Olympus_Mons\"; use an IANA name such as Europe/Berlin, America/New_York or UTC", offset: 0)) {
            try CronTimeZone.named("Mars/Olympus_Mons")
        }
    }
}

struct ISO8601OffsetTests {
    @Test func writesTheZonesOffset() throws {
        let date = instant("2026-11-24T01:30:00Z")
        #expect(ISO8601Offset.string(date, in: try CronTimeZone.named("UTC")) == "2026-11-24T01:30:00+00:00")
        #expect(ISO8601Offset.string(date, in: try CronTimeZone.named("Europe/Berlin")) == "2026-11-24T02:30:00+01:00")
        #expect(ISO8601Offset.string(date, in: try CronTimeZone.named("Asia/Kolkata")) == "2026-11-24T07:00:00+05:30")
        #expect(ISO8601Offset.string(date, in: try CronTimeZone.named("America/St_Johns")) == "2026-11-23T22:00:00-03:30")
        #expect(ISO8601Offset.string(date.addingTimeInterval(0.999), in: try CronTimeZone.named("UTC")) == "2026-11-24T01:30:00+00:00")
        #expect(ISO8601Offset.string(instant("1969-12-31T23:59:59Z"), in: try CronTimeZone.named("UTC")) == "1969-12-31T23:59:59+00:00")
    }

    @Test func showsBothOccurrencesOfARepeatedHourDistinctly() throws {
        let berlin = try CronTimeZone.named("Europe/Berlin")
        #expect(ISO8601Offset.string(instant("2026-10-25T00:30:00Z"), in: berlin) == "2026-10-25T02:30:00+02:00")
        #expect(ISO8601Offset.string(instant("2026-10-25T01:30:00Z"), in: berlin) == "2026-10-25T02:30:00+01:00")
    }
}
