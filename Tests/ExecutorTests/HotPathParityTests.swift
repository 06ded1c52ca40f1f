import Foundation
import Testing
import Workflow
@testable import Executor

/// Faster forms of per-step work (issue 10 item 5) give exactly what the
/// plain forms gave.
struct HotPathParityTests {
    /// What `Timestamps.rfc3339` wrote with Calendar and String(format:).
    static func calendarRFC3339(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let totalMillis = (date.timeIntervalSince1970 * 1000).rounded()
        let seconds = (totalMillis / 1000).rounded(.down)
        let millis = Int(totalMillis - seconds * 1000)
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: seconds))
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!, millis)
    }

    @Test func rfc3339MatchesTheCalendar() {
        var dates: [Date] = [
            Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: -0.0004), Date(timeIntervalSince1970: -1.5),
            Date(timeIntervalSince1970: 1_795_000_000.9995), Date(timeIntervalSince1970: 951_782_400.123),   // 2000-02-29
            Date(timeIntervalSince1970: -2_208_988_800), Date(timeIntervalSince1970: 253_402_300_799.999),  // 1900, 9999-12-31
            Date(timeIntervalSince1970: 4_102_444_800), Date(),
        ]
        var seed: UInt64 = 42
        for _ in 0..<2000 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            dates.append(Date(timeIntervalSince1970: Double(seed % 8_000_000_000_000) / 1000 - 2_000_000_000))
        }
        for date in dates {
            #expect(Timestamps.rfc3339(date) == Self.calendarRFC3339(date), "\(date.timeIntervalSince1970)")
            #expect(Timestamps.parse(Timestamps.rfc3339(date)) != nil)
        }
    }

    @Test func signatureScrubbingStillFindsEveryName() {
        #expect(Redaction.scrubSignatures("no equals sign here") == "no equals sign here")
        #expect(Redaction.scrubSignatures("a=b") == "a=b")
        #expect(Redaction.scrubSignatures("Credential=AKIA/x, Signature=abc") == "Credential=[REDACTED], Signature=[REDACTED]")
        #expect(Redaction.scrubSignatures("?X-Amz-Signature=ff&y=1") == "?X-Amz-Signature=[REDACTED]&y=1")
    }
}
