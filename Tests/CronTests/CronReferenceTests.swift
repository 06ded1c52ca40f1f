import Foundation
import Testing
@testable import Cron

/// Next fire times compared with croniter's (the fixture's generator is
/// Fixtures/make_croniter_fixture.py). Cases where bucketflow differs from
/// croniter on purpose carry our expected times and the reason.
struct CronReferenceTests {
    struct Fixture: Decodable {
        struct Case: Decodable {
            var expression: String
            var zone: String
            var start: String
            var next: [String]
            var expected: [String]?
            var reason: String?
        }
        var croniter: String
        var cases: [Case]
    }

    static let fixture: Fixture = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/croniter_cases.json")
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }()

    static func parse(_ text: String) -> Date {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)!
    }

    @Test func matchesCroniterOrTheDocumentedBehaviour() throws {
        let cases = Self.fixture.cases
        #expect(cases.count >= 2000)
        var mismatches: [String] = []
        var deviations = 0
        for item in cases {
            let zone = try CronTimeZone.named(item.zone)
            let expression = try CronExpression(item.expression)
            let got = expression.nextFireDates(after: Self.parse(item.start), in: zone, count: 5).map { ISO8601Offset.string($0, in: zone) }
            let want = item.expected ?? item.next
            if item.expected != nil { deviations += 1 }
            if got != want {
                mismatches.append("\(item.expression) [\(item.zone)] after \(item.start):\n  ours     \(got)\n  expected \(want)\(item.reason.map { "\n  (\($0))" } ?? "")")
            }
        }
        print("cron reference: \(cases.count) cases against croniter \(Self.fixture.croniter), \(deviations) documented deviations")
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches:\n\(mismatches.prefix(40).joined(separator: "\n"))")
    }
}
