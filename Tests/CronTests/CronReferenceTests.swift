import Foundation
import Testing
import Cron

/// Next fire times compared with croniter's, case by case. The fixture and its
/// generator are in Fixtures/; cases where bucketflow differs from croniter on
/// purpose carry croniter's answer and the reason, and expect ours.
struct CronReferenceTests {
    struct Fixture: Decodable {
        struct Case: Decodable {
            var expression: String
            var zone: String
            var start: String
            /// What we must produce: croniter's times, or the documented ones for a deviation.
            var next: [String]
            /// croniter's times, only on a documented deviation.
            var croniter: [String]?
            var reason: String?
        }

        var croniter: String
        var count: Int
        /// The generator's counts ("cases", "deviations", per-kind counts).
        var summary: [String: Int]
        var cases: [Case]
    }

    static func loadFixture() throws -> Fixture {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/croniter_cases.json")
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    static func instant(_ text: String) throws -> Date {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return try #require(formatter.date(from: text), "bad timestamp \(text) in the fixture")
    }

    @Test func everyCaseMatchesCroniterOrTheDocumentedDeviation() throws {
        let fixture = try Self.loadFixture()
        #expect(fixture.cases.count >= 500)
        var failures: [String] = []
        var deviations: [String: Int] = [:]
        var zones: [String: TimeZone] = [:]
        for item in fixture.cases {
            #expect(item.next.count == fixture.count, "\(item.expression): fixture has \(item.next.count) times")
            let zone = try zones[item.zone] ?? CronTimeZone.named(item.zone)
            zones[item.zone] = zone
            let got = try CronExpression(item.expression)
                .nextFireDates(after: Self.instant(item.start), in: zone, count: fixture.count)
                .map { ISO8601Offset.string($0, in: zone) }
            if let croniter = item.croniter {
                let reason = try #require(item.reason, "deviation without a reason: \(item.expression)")
                #expect(croniter != item.next, "a deviation must differ from croniter: \(item.expression)")
                deviations[reason, default: 0] += 1
            }
            if got != item.next {
                var line = "\(item.expression) [\(item.zone)] after \(item.start)\n  ours     \(got)\n  expected \(item.next)"
                if let reason = item.reason { line += "\n  (deviation: \(reason))" }
                failures.append(line)
            }
        }
        let total = deviations.values.reduce(0, +)
        print("Cron reference: \(fixture.cases.count) cases against croniter \(fixture.croniter); \(total) documented deviations")
        for (reason, count) in deviations.sorted(by: { $0.key < $1.key }) { print("  \(count) × \(reason)") }
        #expect(total > 0 && total < fixture.cases.count / 4)
        #expect(fixture.summary["cases"] == fixture.cases.count && fixture.summary["deviations"] == total,
                "fixture edited by hand? regenerate it with Fixtures/make_croniter_fixture.py")
        #expect(failures.isEmpty, "\(failures.count) of \(fixture.cases.count) cases differ:\n\(failures.prefix(30).joined(separator: "\n"))")
    }
}
