import Foundation
import Testing
@testable import BucketflowCLI
import Executor

/// The numbers behind the progress block, fed as the engine would (events
/// plus the RunProgress hook), with a clock the test controls.
@Suite struct ProgressNumbersTests {
    @Test func withoutTheHookTotalsAndETAAreUnknown() {
        let reporter = ProgressReporter(style: .terminal, color: false, source: RunProgress(), ticking: false)
        reporter.handle(.runStarted(workflow: "w", runID: "r", dryRun: false, steps: 3))
        reporter.handle(.stepStarted(step: "up", action: "upload", attempt: 1))
        reporter.handle(.objectTransferred(step: "up", operation: "upload", target: "a", bytes: 2048))
        let (numbers, active, running) = reporter.snapshot(now: Date())
        #expect(running)
        #expect(numbers.objectsDone == 1 && numbers.bytesDone == 2048)
        #expect(numbers.objectsTotal == nil && numbers.bytesTotal == nil && numbers.etaSeconds == nil)
        let lines = ProgressReporter.lines(numbers, active: active, color: false, width: 200)
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix("▶ 1 object  2.0 KiB  "))
        #expect(lines[0].contains("ETA --  0/3 steps"))
        #expect(lines[1].hasPrefix("  up [upload] 1 object, 2.0 KiB, "))
    }

    @Test func withTheHookTotalsRateAndETA() {
        let source = RunProgress()
        let reporter = ProgressReporter(style: .terminal, color: false, source: source, ticking: false)
        reporter.handle(.runStarted(workflow: "w", runID: "r", dryRun: false, steps: 2))
        reporter.handle(.stepStarted(step: "up", action: "upload", attempt: 1))
        source.expect(step: "up", objects: 4, bytes: 4_000_000)
        let t0 = Date()
        _ = reporter.snapshot(now: t0)
        // One second later: one object done (1 MB), 1 MB of the next in flight.
        reporter.handle(.objectTransferred(step: "up", operation: "upload", target: "a", bytes: 1_000_000))
        source.moved(step: "up", bytes: 1_000_000)
        let (numbers, active, _) = reporter.snapshot(now: t0.addingTimeInterval(1))
        #expect(numbers.objectsDone == 1 && numbers.objectsTotal == 4)
        #expect(numbers.bytesDone == 2_000_000 && numbers.bytesTotal == 4_000_000)
        #expect(abs(numbers.bytesPerSecond - 2_000_000) < 1)
        #expect(numbers.etaSeconds.map { abs($0 - 1) < 0.01 } == true)
        let lines = ProgressReporter.lines(numbers, active: active, color: false, width: 200)
        #expect(lines[0].hasPrefix("▶ 1/4 objects  1.9 MiB / 3.8 MiB  1.9 MiB/s  ETA 1s  0/2 steps"))
        #expect(lines[1].hasPrefix("  up [upload] 1/4 objects, 1.9 MiB of 3.8 MiB (50%), "))
        // The step ends after two objects (two were left unchanged): the
        // totals become what it moved.
        source.settled(step: "up", bytes: 1_000_000)
        reporter.handle(.objectTransferred(step: "up", operation: "upload", target: "b", bytes: 1_000_000))
        reporter.handle(.stepSucceeded(step: "up", action: "upload", seconds: 1, bytes: 2_000_000, objects: 2, summary: nil))
        let (after, activeAfter, _) = reporter.snapshot(now: t0.addingTimeInterval(2))
        #expect(activeAfter.isEmpty)
        #expect(after.stepsDone == 1 && after.objectsDone == 2 && after.bytesDone == 2_000_000)
        #expect(after.objectsTotal == 2 && after.bytesTotal == 2_000_000)
    }

    @Test func aRetryStartsTheStepsCountsOver() {
        let reporter = ProgressReporter(style: .json, color: false, source: RunProgress(), ticking: false)
        reporter.handle(.runStarted(workflow: "w", runID: "r", dryRun: false, steps: 1))
        reporter.handle(.stepStarted(step: "up", action: "upload", attempt: 1))
        reporter.handle(.objectTransferred(step: "up", operation: "upload", target: "a", bytes: 10))
        reporter.handle(.stepStarted(step: "up", action: "upload", attempt: 2))
        let (numbers, active, _) = reporter.snapshot(now: Date())
        #expect(numbers.objectsDone == 0 && numbers.bytesDone == 0)
        #expect(active.first?.0.attempt == 2)
        let event = ProgressReporter.jsonEvent(numbers, active: active)
        #expect(event.contains("\"event\":\"progress\""))
        #expect(event.contains("\"attempt\":2"))
    }

    @Test func plansShowNoProgress() {
        let reporter = ProgressReporter(style: .terminal, color: false, source: RunProgress(), ticking: false)
        reporter.handle(.runStarted(workflow: "w", runID: "r", dryRun: true, steps: 1))
        #expect(reporter.snapshot(now: Date()).2 == false)
    }

    @Test func linesNeverWrap() {
        let numbers = ProgressReporter.Numbers(objectsDone: 1, objectsTotal: nil, bytesDone: 1, bytesTotal: nil, bytesPerSecond: 0, etaSeconds: nil, stepsDone: 0, stepsTotal: 1, elapsed: 1)
        let step = ProgressReporter.ActiveStep(id: String(repeating: "x", count: 300), action: "upload", started: Date(), attempt: 1)
        let lines = ProgressReporter.lines(numbers, active: [(step, nil)], color: true, width: 40)
        #expect(lines[1].count == 39)
        #expect(lines[1].hasSuffix("…"))
    }

    @Test func noColorTurnsColourOff() {
        #expect(ProgressReporter.colorAllowed(environment: ["TERM": "xterm"]))
        #expect(!ProgressReporter.colorAllowed(environment: ["TERM": "xterm", "NO_COLOR": "1"]))
        #expect(ProgressReporter.colorAllowed(environment: ["TERM": "xterm", "NO_COLOR": ""]))
        #expect(!ProgressReporter.colorAllowed(environment: ["TERM": "dumb"]))
        #expect(ProgressMode.auto.isEnabled(stderrIsTerminal: true))
        #expect(!ProgressMode.auto.isEnabled(stderrIsTerminal: false))
        #expect(ProgressMode.always.isEnabled(stderrIsTerminal: false))
        #expect(!ProgressMode.never.isEnabled(stderrIsTerminal: true))
    }
}
