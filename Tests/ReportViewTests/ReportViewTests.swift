import Foundation
import Testing
@testable import Executor
import ReportView
import Scheduler
import Workflow

/// A report as the engine builds it, with hostile text in every free field.
func sampleReport(status: RunOutcomeStatus = .failed, withTimes: Bool = true) -> RunReport {
    let evil = #"<script>alert("x")</script> & 'quoted'"#
    func t(_ ms: Int) -> String { Timestamps.rfc3339(Date(timeIntervalSince1970: 1_800_000_000 + Double(ms) / 1000)) }
    var counts = ObjectCounts()
    let records = [
        ObjectRecord(operation: .upload, outcome: .transferred, source: "/in/a.csv", target: "disk://b/a.csv", bytes: 4000,
                     startedAt: withTimes ? t(100) : nil, finishedAt: withTimes ? t(300) : nil),
        ObjectRecord(operation: .upload, outcome: .transferred, source: "/in/b.csv", target: "disk://b/b.csv", bytes: 6000,
                     startedAt: withTimes ? t(150) : nil, finishedAt: withTimes ? t(450) : nil),
        ObjectRecord(operation: .upload, outcome: .failed, source: "/in/<c>.csv", target: "disk://b/<c>.csv", bytes: 7,
                     error: ErrorInfo(code: .noSuchBucket, message: "bucket " + evil + " is gone"),
                     startedAt: withTimes ? t(160) : nil, finishedAt: withTimes ? t(170) : nil),
        ObjectRecord(operation: .download, outcome: .refused, source: "disk://b/x/../../y", bytes: 3,
                     error: ErrorInfo(code: .unsafeKey, message: "object key \"x/../../y\" cannot be saved safely")),
    ]
    for record in records { counts.add(record) }
    let upload = RunReport.StepReport(
        id: "upload", action: "upload", status: .failed, needs: ["make-bucket"], attempts: 2,
        startedAt: t(90), finishedAt: t(460), durationSeconds: 0.37, bytes: counts.bytes, objects: counts.transferred,
        counts: counts, retries: 1, continueOnError: false, outputs: [:],
        error: ErrorInfo(code: .noSuchBucket, message: "1 of 3 uploads failed: " + evil), skipReason: nil,
        transfers: records, plan: nil)
    let make = RunReport.StepReport(
        id: "make-bucket", action: "create-bucket", status: .succeeded, needs: [], attempts: 1,
        startedAt: t(10), finishedAt: t(80), durationSeconds: 0.07, bytes: 0, objects: 0,
        counts: ObjectCounts(), retries: 0, continueOnError: false, outputs: ["bucket": .string("b")],
        error: nil, skipReason: nil,
        transfers: [ObjectRecord(operation: .createBucket, outcome: .unchanged, target: "disk://b")], plan: nil)
    let fetch = RunReport.StepReport(
        id: "fetch", action: "download", status: .skipped, needs: ["upload"], attempts: 0,
        startedAt: nil, finishedAt: nil, durationSeconds: nil, bytes: 0, objects: 0,
        counts: ObjectCounts(), retries: 0, continueOnError: false, outputs: [:],
        error: nil, skipReason: "needs 'upload' failed", transfers: [], plan: nil)
    let steps = [make, upload, fetch]
    return RunReport(
        bucketflowVersion: BucketflowInfo.version,
        workflow: .init(name: "demo " + evil, file: "workflows/demo.yaml", sha256: "abc"),
        run: .init(id: "20270115T080000.000Z-1", status: status, dryRun: false, startedAt: t(0), finishedAt: t(500),
                   durationSeconds: 0.5, exitCode: 1, vars: ["bucket": "b&<b>"], host: "host", pid: 42),
        steps: steps, totals: RunReport.totals(of: steps), summary: nil)
}

@Suite struct ReportViewTests {
    @Test func decodesWhatRunReportEncodes() throws {
        let report = sampleReport()
        let decoded = try ReportLoader.decode(try report.jsonData(), name: "r.json")
        #expect(decoded == report)
    }

    @Test func htmlEscapesEveryReportText() {
        let html = HTMLReport.render(sampleReport())
        #expect(!html.contains("<script"))
        #expect(!html.contains("alert(\"x\")"))
        #expect(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quoted&#39;"))
        #expect(html.contains("disk://b/&lt;c&gt;.csv"))
        #expect(html.contains("bucket=b&amp;&lt;b&gt;"))
        // Standalone: no external resources.
        #expect(!html.contains("src="))
        #expect(!html.contains("href="))
        #expect(!html.contains("@import"))
        #expect(!html.contains("url("))
    }

    @Test func htmlHasTimelineObjectBarsThroughputAndFailures() {
        let html = HTMLReport.render(sampleReport())
        #expect(html.contains("aria-label=\"Timeline of steps\""))
        #expect(html.contains("aria-label=\"Throughput over time\""))
        // Three objects have transfer times: three thin bars with their names.
        #expect(html.components(separatedBy: "height=\"5\"").count - 1 == 3)
        #expect(html.contains("<title>disk://b/a.csv: upload transferred, 3.9 KiB, 200ms</title>"))
        // The skipped step has no bar, but has a table row with its reason.
        #expect(!html.contains("<title>fetch:"))
        #expect(html.contains("needs &#39;upload&#39; failed"))
        #expect(html.contains("Failed objects (2)"))
        #expect(html.contains("UnsafeKey"))
        #expect(html.contains("<title>upload: failed, 37") && html.contains("ms, 2 attempts</title>"))
    }

    @Test func htmlWithoutTransferTimesSaysSo() {
        let html = HTMLReport.render(sampleReport(withTimes: false))
        #expect(html.components(separatedBy: "height=\"5\"").count == 1)
        #expect(html.contains("No object transfer times in this report"))
    }

    @Test func throughputSpreadsBytesOverTransferTime() throws {
        let facts = ReportFacts(sampleReport())
        let bins = try #require(facts.throughput(bins: 50))
        let width = facts.span / 50
        let total = bins.reduce(0, +) * width
        #expect(abs(total - 10_000) < 1)
        // Nothing moved before 100ms or after 450ms.
        #expect(bins[0] == 0)
        #expect(bins[49] == 0)
    }

    @Test func textSummaryListsStepsAndEveryFailedObject() {
        let text = TextSummary.render(sampleReport())
        #expect(text.hasPrefix("Run demo <script>"))
        #expect(text.contains("failed in 500ms, exit code 1"))
        #expect(text.contains("Failed objects (2):"))
        #expect(text.contains("upload: upload failed /in/<c>.csv -> disk://b/<c>.csv: NoSuchBucket: bucket <script>"))
        #expect(text.contains("upload: download refused disk://b/x/../../y: UnsafeKey: object key"))
        let lines = text.split(separator: "\n").map(String.init)
        let row = lines.first { $0.hasPrefix("upload ") }
        #expect(row?.contains("failed") == true)
        #expect(row?.contains("2 (1 failed, 1 refused)") == true)
        #expect(row?.contains("9.8 KiB") == true)
        #expect(lines.contains { $0.hasPrefix("fetch ") && $0.contains("skipped") && $0.contains("needs 'upload' failed") })
    }

    @Test func textSummaryNeutralizesControlCharacters() {
        var report = sampleReport()
        report.steps[1].error = ErrorInfo(code: .transient, message: "line1\nline2\u{1B}[31mred")
        let text = TextSummary.render(report)
        #expect(!text.contains("\u{1B}"))
        #expect(text.contains("line1 line2\\u{1B}[31mred"))
    }

    @Test func loaderNamesWhatIsWrong() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func message(_ path: String) -> String? {
            do { _ = try ReportLoader.load(path: path); return nil } catch { return error.description }
        }
        #expect(message(dir.appendingPathComponent("nope.json").path)?.hasSuffix("nope.json: no such file") == true)
        #expect(message(dir.path)?.hasSuffix("is a directory, not a report file") == true)
        let bad = dir.appendingPathComponent("bad.json")
        try Data("{\"run\": ".utf8).write(to: bad)
        #expect(message(bad.path)?.contains("bad.json: not valid JSON") == true)
        try Data("[1, 2]".utf8).write(to: bad)
        #expect(message(bad.path)?.contains("not a bucketflow run report") == true)
        try Data(#"{"reportVersion": 1, "run": {}, "steps": []}"#.utf8).write(to: bad)
        #expect(message(bad.path)?.contains("report version 1 is not supported") == true)
        var object = try JSONSerialization.jsonObject(with: try sampleReport().jsonData()) as! [String: Any]
        object["totals"] = nil
        try JSONSerialization.data(withJSONObject: object).write(to: bad)
        #expect(message(bad.path)?.contains("missing field \"totals\"") == true)
    }

    @Test func planShowsSummaryAndLines() {
        var report = sampleReport(status: .planned)
        report.run.dryRun = true
        report.steps[0].plan = ["create bucket disk://b"]
        var summary = PlanSummary()
        summary.bucketsToCreate = 1
        summary.changesPending = true
        report.summary = summary
        let text = TextSummary.render(report)
        #expect(text.hasPrefix("Plan demo"))
        #expect(text.contains("    create bucket disk://b"))
        #expect(text.contains("Plan: 1 bucket to create"))
        let html = HTMLReport.render(report)
        #expect(html.contains("<li><code>create bucket disk://b</code></li>"))
        #expect(html.contains("Plan: 1 bucket to create"))
    }
}

@Suite struct SampleReportTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// samples/reports/daily-exports.run.json is a real run's report; the
    /// page beside it is its rendering (regenerate both with the README's commands).
    @Test func committedSampleDecodesAndMatchesItsPage() throws {
        let report = try ReportLoader.load(path: Self.root.appendingPathComponent("samples/reports/daily-exports.run.json").path)
        #expect(report.run.status == .succeeded)
        #expect(report.steps.map(\.id) == ["make-bucket", "upload", "listing", "summary", "manifest", "fetch"])
        #expect(report.steps.first { $0.id == "upload" }?.transfers.allSatisfy { $0.startedAt != nil && $0.finishedAt != nil } == true)
        let page = try String(contentsOf: Self.root.appendingPathComponent("samples/reports/daily-exports.html"), encoding: .utf8)
        #expect(page == HTMLReport.render(report))
        let png = try Data(contentsOf: Self.root.appendingPathComponent("samples/reports/daily-exports.png"))
        #expect(png.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
    }
}

@Suite struct LargeReportTests {
    @Test func manyObjectsAreCappedInTheTimelineButAllFailuresListed() {
        var report = sampleReport()
        let base = report.steps[1].transfers[0]
        var records: [ObjectRecord] = []
        for i in 0..<5000 {
            var record = base
            record.target = "disk://b/part-\(i)"
            if i % 1000 == 0 { record.outcome = .failed; record.error = ErrorInfo(code: .transient, message: "reset \(i)") }
            records.append(record)
        }
        report.steps[1].transfers = records
        let html = HTMLReport.render(report)
        #expect(html.components(separatedBy: "height=\"5\"").count - 1 == HTMLReport.maxObjectBars)
        #expect(html.contains("3000 more objects not drawn (the report lists them)"))
        #expect(html.contains("Failed objects (5)"))
        #expect(html.contains("reset 4000"))
    }
}

@Suite struct AxisTests {
    @Test func neighbouringTicksDiffer() {
        for span in [0.0031, 0.012, 0.4, 3.7, 95.0, 4000.0] {
            let step = HTMLReport.tickStep(span)
            let labels = stride(from: 0.0, through: span, by: step).map { HTMLReport.tickLabel($0, step: step) }
            #expect(Set(labels).count == labels.count, "\(span): \(labels)")
        }
        #expect(HTMLReport.tickLabel(0.0015, step: 0.0005) == "1.5ms")
        #expect(HTMLReport.tickLabel(2, step: 1) == "2s")
    }
}
