import Foundation
public import Executor
import Scheduler

/// One standalone HTML page for a report or plan: inline CSS and SVG, no
/// scripts, no network. Every text from the report is escaped.
public enum HTMLReport {
    static let chartWidth = 1100.0
    static let labelWidth = 190.0
    /// Object bars drawn per step at most.
    public static let maxObjectBars = 2000

    public static func render(_ report: RunReport) -> String {
        let facts = ReportFacts(report)
        var html = ""
        let title = "\(facts.isPlan ? "Plan" : "Run") \(report.workflow.name) — \(report.run.status.rawValue)"
        html += """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(htmlEscape(title))</title>
            <style>\(css)</style>
            </head>
            <body>

            """
        html += header(facts)
        html += cards(facts)
        html += timeline(facts)
        html += throughput(facts)
        html += stepTable(facts)
        html += failures(facts)
        if facts.isPlan { html += plan(facts) }
        html += "<footer>Report version \(report.reportVersion), written by bucketflow \(htmlEscape(report.bucketflowVersion)); workflow sha256 <code>\(htmlEscape(report.workflow.sha256))</code></footer>\n"
        html += "</body>\n</html>\n"
        return html
    }

    static let css = """
        :root{--ok:#2e7d32;--fail:#c62828;--skip:#9e9e9e;--cancel:#ef6c00;--plan:#1565c0;--unch:#90a4ae;--ink:#1d2430;--mute:#5f6b7a;--line:#e3e7ee}
        *{box-sizing:border-box}
        body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--ink);margin:0;padding:24px 32px;background:#f7f8fa}
        h1{font-size:22px;margin:0 0 4px}
        h2{font-size:16px;margin:28px 0 8px}
        code{font:12px ui-monospace,"DejaVu Sans Mono",monospace}
        .badge{display:inline-block;padding:2px 10px;border-radius:12px;color:#fff;font-size:13px;font-weight:600;vertical-align:middle;margin-left:8px}
        .s-succeeded{background:var(--ok)}.s-failed{background:var(--fail)}.s-skipped{background:var(--skip)}.s-cancelled{background:var(--cancel)}.s-planned{background:var(--plan)}
        .meta{color:var(--mute);margin:0}
        .cards{display:flex;flex-wrap:wrap;gap:12px;margin-top:16px}
        .card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:10px 16px;min-width:150px}
        .card b{display:block;font-size:20px}
        .card span{color:var(--mute);font-size:12px}
        .panel{background:#fff;border:1px solid var(--line);border-radius:8px;padding:12px;overflow-x:auto}
        table{border-collapse:collapse;width:100%;background:#fff}
        th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top;white-space:nowrap}
        td.wrap{white-space:normal;overflow-wrap:anywhere;min-width:8em}
        th{font-size:12px;color:var(--mute);font-weight:600;background:#fafbfc}
        td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
        td.err{color:var(--fail)}
        .st{font-weight:600}.st-succeeded{color:var(--ok)}.st-failed{color:var(--fail)}.st-skipped{color:var(--skip)}.st-cancelled{color:var(--cancel)}.st-planned{color:var(--plan)}
        .empty{color:var(--mute);font-style:italic}
        svg text{font:11px system-ui,"DejaVu Sans",sans-serif;fill:var(--ink)}
        svg .axis{fill:var(--mute)}
        ul.plan{margin:4px 0 8px 0}
        footer{margin-top:28px;color:var(--mute);font-size:12px}
        """

    static func color(_ status: String) -> String {
        switch status {
        case "succeeded", "transferred": return "#2e7d32"
        case "failed": return "#c62828"
        case "refused": return "#ad1457"
        case "skipped": return "#9e9e9e"
        case "cancelled": return "#ef6c00"
        case "planned": return "#1565c0"
        case "unchanged": return "#90a4ae"
        case "inspected": return "#5c6bc0"
        default: return "#607d8b"
        }
    }

    static func header(_ facts: ReportFacts) -> String {
        let report = facts.report
        let run = report.run
        var html = "<header>\n<h1>\(htmlEscape(report.workflow.name))<span class=\"badge s-\(htmlEscape(run.status.rawValue))\">\(htmlEscape(run.status.rawValue))</span></h1>\n"
        html += "<p class=\"meta\">\(facts.isPlan ? "Plan" : "Run") <code>\(htmlEscape(run.id))</code> of <code>\(htmlEscape(report.workflow.file))</code></p>\n"
        html += "<p class=\"meta\">Started \(htmlEscape(run.startedAt)), finished \(htmlEscape(run.finishedAt)) on \(htmlEscape(run.host)) (pid \(run.pid))</p>\n"
        if !run.vars.isEmpty {
            html += "<p class=\"meta\">Variables: " + run.vars.sorted { $0.key < $1.key }.map { "<code>\(htmlEscape($0.key))=\(htmlEscape($0.value))</code>" }.joined(separator: " ") + "</p>\n"
        }
        return html + "</header>\n"
    }

    static func cards(_ facts: ReportFacts) -> String {
        let report = facts.report
        let totals = report.totals
        var cards: [(String, String)] = [
            (Format.seconds(report.run.durationSeconds), "duration"),
            ("\(report.run.exitCode)", "exit code"),
            facts.isPlan ? ("\(totals.planned)/\(totals.steps)", "steps planned") : ("\(totals.succeeded)/\(totals.steps)", "steps succeeded"),
            ("\(totals.objects)", facts.isPlan ? "objects to transfer" : "objects transferred"),
            (ByteCount.format(totals.bytes), facts.isPlan ? "to transfer" : "transferred"),
        ]
        if !facts.isPlan { cards.append((Format.rate(facts.averageThroughput), "average throughput")) }
        if totals.objectsUnchanged > 0 { cards.append(("\(totals.objectsUnchanged)", "unchanged")) }
        if totals.failed > 0 { cards.append(("\(totals.failed)", "steps failed")) }
        if totals.objectsFailed + totals.objectsRefused > 0 { cards.append(("\(totals.objectsFailed + totals.objectsRefused)", "objects failed or refused")) }
        if totals.retries > 0 { cards.append(("\(totals.retries)", "request retries")) }
        return "<section class=\"cards\">\n" + cards.map { "<div class=\"card\"><b>\(htmlEscape($0.0))</b><span>\(htmlEscape($0.1))</span></div>" }.joined(separator: "\n") + "\n</section>\n"
    }

    /// A 1-2-5 tick step that gives about `count` ticks over `span`.
    public static func tickStep(_ span: Double, count: Double = 8) -> Double {
        let raw = span / count
        let magnitude = pow(10, floor(log10(raw)))
        for factor in [1.0, 2, 5, 10] where factor * magnitude >= raw { return factor * magnitude }
        return 10 * magnitude
    }

    static func f(_ x: Double) -> String { String(format: "%.1f", x) }

    /// An axis label precise enough that neighbouring ticks differ.
    public static func tickLabel(_ t: Double, step: Double) -> String {
        if t == 0 { return "0" }
        if step < 1 {
            let decimals = max(0, Int(-floor(log10(step * 1000) + 1e-9)))
            return String(format: "%.\(decimals)fms", t * 1000)
        }
        if t < 60 || step < 60 { return String(format: "%gs", (t * 1000).rounded() / 1000) }
        return Format.seconds(t)
    }

    static func axis(span: Double, x0: Double, width: Double, y: Double, height: Double) -> String {
        var svg = ""
        let step = tickStep(span)
        var t = 0.0
        while t <= span + step * 1e-9 {
            let x = x0 + t / span * width
            svg += "<line x1=\"\(f(x))\" y1=\"\(f(y))\" x2=\"\(f(x))\" y2=\"\(f(y + height))\" stroke=\"#e3e7ee\"/>"
            svg += "<text class=\"axis\" x=\"\(f(x))\" y=\"\(f(y + height + 13))\" text-anchor=\"middle\">\(htmlEscape(tickLabel(t, step: step)))</text>\n"
            t += step
        }
        return svg
    }

    /// Objects packed into lanes (an object starts in the first lane free at its start).
    static func lanes(_ bars: [ReportFacts.Bar], max maxLanes: Int) -> [[ReportFacts.Bar]] {
        var lanes: [[ReportFacts.Bar]] = []
        var ends: [Double] = []
        for bar in bars.sorted(by: { ($0.start, $0.end) < ($1.start, $1.end) }) {
            if let index = ends.firstIndex(where: { $0 <= bar.start }) {
                lanes[index].append(bar); ends[index] = bar.end
            } else if lanes.count < maxLanes {
                lanes.append([bar]); ends.append(bar.end)
            } else {
                let index = ends.indices.min { ends[$0] < ends[$1] }!
                lanes[index].append(bar); ends[index] = max(ends[index], bar.end)
            }
        }
        return lanes
    }

    static func timeline(_ facts: ReportFacts) -> String {
        let bars = facts.stepBars
        var html = "<h2>Timeline</h2>\n<div class=\"panel\">\n"
        guard !bars.isEmpty else { return html + "<p class=\"empty\">No step ran.</p>\n</div>\n" }
        let x0 = labelWidth, width = chartWidth - labelWidth - 20
        let span = facts.span
        func x(_ t: Double) -> Double { x0 + t / span * width }
        var rows = ""
        var y = 8.0
        let byID = Dictionary(facts.report.steps.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for bar in bars {
            let w = max(2, x(bar.end) - x(bar.start))
            rows += "<text x=\"\(f(x0 - 8))\" y=\"\(f(y + 13))\" text-anchor=\"end\">\(htmlEscape(bar.label))</text>"
            rows += "<rect x=\"\(f(x(bar.start)))\" y=\"\(f(y + 2))\" width=\"\(f(w))\" height=\"14\" rx=\"3\" fill=\"\(color(bar.status))\"><title>\(htmlEscape(bar.label + ": " + bar.detail))</title></rect>"
            let attempts = byID[bar.label]?.attempts ?? 1
            let note = attempts > 1 ? ", \(attempts) attempts" : ""
            let label = htmlEscape(Format.seconds(bar.end - bar.start) + note)
            // After the bar when it fits, else before it.
            if x(bar.end) + 4 + Double(label.count) * 6.5 <= chartWidth {
                rows += "<text class=\"axis\" x=\"\(f(x(bar.end) + 4))\" y=\"\(f(y + 13))\">\(label)</text>\n"
            } else {
                rows += "<text class=\"axis\" x=\"\(f(x(bar.start) - 4))\" y=\"\(f(y + 13))\" text-anchor=\"end\">\(label)</text>\n"
            }
            y += 20
            if let step = byID[bar.label] {
                let all = facts.objectBars(step)
                // Thousands of thin bars add nothing but bytes: draw the first ones.
                let objects = Array(all.prefix(maxObjectBars))
                if !objects.isEmpty {
                    let packed = lanes(objects, max: 12)
                    for lane in packed {
                        for object in lane {
                            let ow = max(1.5, x(object.end) - x(object.start))
                            rows += "<rect x=\"\(f(x(object.start)))\" y=\"\(f(y))\" width=\"\(f(ow))\" height=\"5\" fill=\"\(color(object.status))\" opacity=\"0.75\"><title>\(htmlEscape(object.label + ": " + object.detail))</title></rect>"
                        }
                        rows += "\n"
                        y += 7
                    }
                    if all.count > objects.count {
                        rows += "<text class=\"axis\" x=\"\(f(x0))\" y=\"\(f(y + 9))\">\(all.count - objects.count) more objects not drawn (the report lists them)</text>\n"
                        y += 12
                    }
                    y += 4
                }
            }
        }
        let height = y + 24
        html += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(chartWidth))\" height=\"\(f(height))\" viewBox=\"0 0 \(f(chartWidth)) \(f(height))\" role=\"img\" aria-label=\"Timeline of steps\">\n"
        html += axis(span: span, x0: x0, width: width, y: 4, height: y - 4)
        html += rows
        html += "</svg>\n"
        html += "<p class=\"meta\">Bars: steps (thick) and, under each, its objects' transfers (thin, packed into lanes). Colours: "
        html += ["succeeded", "failed", "refused", "skipped", "cancelled", "unchanged", "planned"].map { "<span style=\"color:\(color($0))\">■</span> \($0)" }.joined(separator: " ")
        return html + "</p>\n</div>\n"
    }

    static func throughput(_ facts: ReportFacts) -> String {
        guard !facts.isPlan else { return "" }
        var html = "<h2>Throughput</h2>\n<div class=\"panel\">\n"
        let bins = 60
        guard let values = facts.throughput(bins: bins), let peak = values.max(), peak > 0 else {
            return html + "<p class=\"empty\">No object transfer times in this report; average \(htmlEscape(Format.rate(facts.averageThroughput))).</p>\n</div>\n"
        }
        let x0 = labelWidth, width = chartWidth - labelWidth - 20, top = 10.0, height = 120.0
        var points = "\(f(x0)),\(f(top + height))"
        for (i, v) in values.enumerated() {
            let xa = x0 + Double(i) / Double(bins) * width, xb = x0 + Double(i + 1) / Double(bins) * width
            let yv = top + height - v / peak * height
            points += " \(f(xa)),\(f(yv)) \(f(xb)),\(f(yv))"
        }
        points += " \(f(x0 + width)),\(f(top + height))"
        html += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(chartWidth))\" height=\"\(f(top + height + 24))\" role=\"img\" aria-label=\"Throughput over time\">\n"
        html += axis(span: facts.span, x0: x0, width: width, y: top, height: height)
        html += "<text class=\"axis\" x=\"\(f(x0 - 8))\" y=\"\(f(top + 10))\" text-anchor=\"end\">\(htmlEscape(Format.rate(peak)))</text>"
        html += "<text class=\"axis\" x=\"\(f(x0 - 8))\" y=\"\(f(top + height))\" text-anchor=\"end\">0</text>\n"
        html += "<polygon points=\"\(points)\" fill=\"#64b5f6\" fill-opacity=\"0.55\" stroke=\"#1565c0\" stroke-width=\"1\"/>\n"
        html += "</svg>\n"
        html += "<p class=\"meta\">Peak \(htmlEscape(Format.rate(peak))), average \(htmlEscape(Format.rate(facts.averageThroughput))) over the run (\(htmlEscape(ByteCount.format(facts.report.totals.bytes))) in \(htmlEscape(Format.seconds(facts.span)))).</p>\n"
        return html + "</div>\n"
    }

    static func stepTable(_ facts: ReportFacts) -> String {
        var html = "<h2>Steps</h2>\n<table>\n<thead><tr><th>Step</th><th>Action</th><th>Status</th><th class=\"num\">Attempts</th><th class=\"num\">Start</th><th class=\"num\">Duration</th><th class=\"num\">Objects</th><th class=\"num\">Bytes</th><th class=\"num\">Unchanged</th><th class=\"num\">Failed</th><th class=\"num\">Retries</th><th>Needs</th><th>Error / reason</th></tr></thead>\n<tbody>\n"
        for step in facts.report.steps {
            let status = step.status.rawValue
            let start = facts.offset(step.startedAt).map { "+" + Format.seconds($0) } ?? "–"
            let duration = step.durationSeconds.map(Format.seconds) ?? "–"
            var note = ""
            var noteClass = ""
            if let error = step.error {
                note = "\(error.code.rawValue): \(error.message)"; noteClass = " err"
            } else if let reason = step.skipReason { note = reason }
            if step.continueOnError && step.status == .failed { note += " (continue-on-error)" }
            html += "<tr><td><code>\(htmlEscape(step.id))</code></td><td>\(htmlEscape(step.action))</td><td class=\"st st-\(htmlEscape(status))\">\(htmlEscape(status))</td>"
            html += "<td class=\"num\">\(step.attempts)</td><td class=\"num\">\(htmlEscape(start))</td><td class=\"num\">\(htmlEscape(duration))</td>"
            html += "<td class=\"num\">\(step.objects)</td><td class=\"num\">\(htmlEscape(ByteCount.format(step.bytes)))</td><td class=\"num\">\(step.counts.unchanged)</td>"
            html += "<td class=\"num\">\(step.counts.failed + step.counts.refused)</td><td class=\"num\">\(step.retries)</td>"
            html += "<td class=\"wrap\">\(htmlEscape(step.needs.joined(separator: ", ")))</td><td class=\"wrap\(noteClass)\">\(htmlEscape(note))</td></tr>\n"
        }
        return html + "</tbody>\n</table>\n"
    }

    static func failures(_ facts: ReportFacts) -> String {
        let failures = facts.failures
        var html = "<h2>Failed objects (\(failures.count))</h2>\n"
        guard !failures.isEmpty else { return html + "<p class=\"empty\">None.</p>\n" }
        html += "<table>\n<thead><tr><th>Step</th><th>Operation</th><th>Outcome</th><th>Source</th><th>Target</th><th class=\"num\">Bytes</th><th>Code</th><th>Message</th></tr></thead>\n<tbody>\n"
        for failure in failures {
            let r = failure.record
            html += "<tr><td><code>\(htmlEscape(failure.step))</code></td><td>\(htmlEscape(r.operation.rawValue))</td><td class=\"st st-failed\">\(htmlEscape(r.outcome.rawValue))</td>"
            html += "<td class=\"wrap\"><code>\(htmlEscape(r.source ?? ""))</code></td><td class=\"wrap\"><code>\(htmlEscape(r.target ?? ""))</code></td><td class=\"num\">\(r.bytes)</td>"
            html += "<td>\(htmlEscape(r.error?.code.rawValue ?? ""))</td><td class=\"wrap err\">\(htmlEscape(r.error?.message ?? ""))</td></tr>\n"
        }
        return html + "</tbody>\n</table>\n"
    }

    static func plan(_ facts: ReportFacts) -> String {
        var html = "<h2>Plan</h2>\n<div class=\"panel\">\n"
        if let summary = facts.report.summary {
            html += "<p><b>\(htmlEscape(summary.line))</b>\(summary.changesPending ? "" : " — nothing to change")</p>\n"
        }
        for step in facts.report.steps {
            html += "<div><code>\(htmlEscape(step.id))</code> [\(htmlEscape(step.action))] <span class=\"st st-\(htmlEscape(step.status.rawValue))\">\(htmlEscape(step.status.rawValue))</span>"
            let lines = step.plan ?? []
            if lines.isEmpty { html += "</div>\n"; continue }
            html += "<ul class=\"plan\">" + lines.map { "<li><code>\(htmlEscape($0))</code></li>" }.joined() + "</ul></div>\n"
        }
        return html + "</div>\n"
    }
}
