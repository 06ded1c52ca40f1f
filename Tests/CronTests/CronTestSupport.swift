import Foundation
import Cron

/// Parses an ISO 8601 timestamp with offset (test input).
func instant(_ text: String) -> Date {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    guard let date = formatter.date(from: text) else { fatalError("bad test timestamp \(text)") }
    return date
}

/// The next `count` fire times as ISO 8601 strings in the zone.
func fireTimes(_ expression: String, after start: String, in zoneName: String = "UTC", count: Int = 5) throws -> [String] {
    let zone = try CronTimeZone.named(zoneName)
    return try CronExpression(expression).nextFireDates(after: instant(start), in: zone, count: count)
        .map { ISO8601Offset.string($0, in: zone) }
}

/// The error an expression is rejected with, or nil if it parses.
func parseError(_ text: String) -> CronError? {
    do {
        _ = try CronExpression(text)
        return nil
    } catch {
        return error
    }
}
