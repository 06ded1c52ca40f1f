import Benchmark
import Cron
import Foundation

/// Next fire times: a common schedule in UTC, the same in a DST zone, and a
/// sparse one (Feb 29 only) that needs the field-by-field search to skip
/// far ahead.
enum CronBenchmarks {
    static func register() {
        let utc = try! CronTimeZone.named("UTC")
        let berlin = try! CronTimeZone.named("Europe/Berlin")
        let workdays = try! CronExpression("*/15 6-18 * * 1-5")
        let nightly = try! CronExpression("30 2 * * *")
        let leapDay = try! CronExpression("0 0 29 2 *")
        // Saturday before the October fall-back in Berlin, so the next week
        // of fire times crosses the transition.
        let start = Date(timeIntervalSince1970: 1_792_886_400)

        Benchmark("cron next fire, */15 6-18 * * 1-5, UTC") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(workdays.nextFireDate(after: start, in: utc))
            }
        }
        Benchmark("cron next fire, */15 6-18 * * 1-5, Europe/Berlin") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(workdays.nextFireDate(after: start, in: berlin))
            }
        }
        Benchmark("cron next 100 fires, 30 2 * * *, Europe/Berlin (crosses DST)") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(nightly.nextFireDates(after: start, in: berlin, count: 100))
            }
        }
        Benchmark("cron next fire, 0 0 29 2 * (leap day), Europe/Berlin") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(leapDay.nextFireDate(after: start, in: berlin))
            }
        }
    }
}
