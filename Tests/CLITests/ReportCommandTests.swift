import Foundation
import Testing

/// Headless Chromium, when installed (Debian `chromium`).
enum Chromium {
    static let path: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }
    /// CI must have it (scripts/install-deps installs it); elsewhere the test is skipped.
    static let required = ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty } ?? false

    /// Renders `page` to a PNG of `width`×`height`.
    static func screenshot(_ page: URL, to png: URL, width: Int = 1200, height: Int = 900) throws -> CLIResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(path, "chromium is not installed (apt-get install -y chromium)"))
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=\(profile.path)",
                             "--screenshot=\(png.path)", "--window-size=\(width),\(height)", page.absoluteString]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        return CLI.finish(process, out, err)
    }
}

/// PNG statistics by Tests/CLITests/Scripts/png_stats.py (zlib only).
struct PNGStats: Decodable {
    var width: Int?
    var height: Int?
    var colours: Int?
    var nonWhite: Double?
    var near: [String: Int]?
    var error: String?

    static func of(_ png: URL, near colours: [String]) throws -> PNGStats {
        let script = CLI.packageRoot.appendingPathComponent("Tests/CLITests/Scripts/png_stats.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, png.path] + colours
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let result = CLI.finish(process, out, err)
        #expect(result.status == 0, "\(result.stderr)")
        return try JSONDecoder().decode(PNGStats.self, from: Data(result.stdout.utf8))
    }
}

@Suite(.serialized) struct ReportCommandTests {
    /// A real run of the example workflow, with its report at `run.json`.
    func runDailyExports(_ tree: ExampleTree) throws {
        let run = try CLI.run(["run", "workflows/daily-exports.yaml", "--report", "run.json"], in: tree.root)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
    }

    @Test func summarizesARealRun() throws {
        let tree = try ExampleTree()
        try runDailyExports(tree)
        let result = try CLI.run(["report", "run.json"], in: tree.root)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("Run daily-exports (") == true)
        #expect(lines.first?.contains("): succeeded in ") == true)
        #expect(lines.contains { $0.hasPrefix("STEP") && $0.contains("ACTION") && $0.contains("STATUS") })
        for step in ["make-bucket", "upload", "listing", "summary", "manifest", "fetch"] {
            #expect(lines.contains { $0.hasPrefix(step + " ") && $0.contains("succeeded") }, "no row for \(step)")
        }
        #expect(lines.contains { $0.hasPrefix("upload ") && $0.contains(" 4 ") })
        #expect(result.stdout.contains("Objects: 8 transferred"))
        #expect(!result.stdout.contains("Failed objects"))
    }

    @Test func listsEveryFailedObjectWithItsError() throws {
        let tree = try ExampleTree()
        try runDailyExports(tree)
        // The real report, with two of fetch's objects turned into a failure
        // and a refusal (messages with characters HTML must escape).
        let report = tree.url("run.json")
        var object = try JSONSerialization.jsonObject(with: Data(contentsOf: report)) as! [String: Any]
        var steps = object["steps"] as! [[String: Any]]
        let fetch = steps.firstIndex { $0["id"] as? String == "fetch" }!
        var transfers = steps[fetch]["transfers"] as! [[String: Any]]
        transfers[0]["outcome"] = "failed"
        transfers[0]["error"] = ["code": "NoSuchKey", "message": "gone <now> & \"then\""]
        transfers[1]["outcome"] = "refused"
        transfers[1]["error"] = ["code": "UnsafeKey", "message": "object key \"x/../../y\" cannot be saved safely"]
        steps[fetch]["transfers"] = transfers
        steps[fetch]["status"] = "failed"
        object["steps"] = steps
        try JSONSerialization.data(withJSONObject: object).write(to: tree.url("failed.json"))
        let result = try CLI.run(["report", "failed.json"], in: tree.root)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Failed objects (2):"))
        #expect(result.stdout.contains(": NoSuchKey: gone <now> & \"then\""))
        #expect(result.stdout.contains("fetch: download refused "))
        let html = try CLI.run(["report", "failed.json", "--html", "failed.html"], in: tree.root)
        #expect(html.status == 0, "\(html.stderr)")
        let page = try String(contentsOf: tree.url("failed.html"), encoding: .utf8)
        #expect(page.contains("gone &lt;now&gt; &amp; &quot;then&quot;"))
        #expect(!page.contains("<now>"))
        #expect(page.contains("Failed objects (2)"))
    }

    @Test func summarizesAPlan() throws {
        let tree = try ExampleTree()
        let plan = try CLI.run(["plan", "workflows/daily-exports.yaml", "--json"], in: tree.root)
        #expect(plan.status == 0, "\(plan.stderr)")
        try Data(plan.stdout.utf8).write(to: tree.url("plan.json"))
        let result = try CLI.run(["report", "plan.json"], in: tree.root)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("Plan daily-exports ("))
        #expect(result.stdout.contains("planned"))
        #expect(result.stdout.contains("Plan: 1 bucket to create, 4 objects"))
        #expect(result.stdout.contains("    create bucket disk://exports"))
    }

    @Test func missingUnreadableOrInvalidReportsExit2() throws {
        let tree = try ExampleTree()
        var result = try CLI.run(["report", "nope.json"], in: tree.root)
        #expect(result.status == 2)
        #expect(result.stderr == "bucketflow: nope.json: no such file\n")
        #expect(result.stdout.isEmpty)

        try Data("{\"run\": {".utf8).write(to: tree.url("broken.json"))
        result = try CLI.run(["report", "broken.json"], in: tree.root)
        #expect(result.status == 2)
        #expect(result.stderr.hasPrefix("bucketflow: broken.json: not valid JSON"))

        try Data("{\"name\": \"x\"}".utf8).write(to: tree.url("other.json"))
        result = try CLI.run(["report", "other.json", "--html", "x.html"], in: tree.root)
        #expect(result.status == 2)
        #expect(result.stderr == "bucketflow: other.json: valid JSON, but not a bucketflow run report (no \"run\" and \"steps\")\n")
        #expect(!FileManager.default.fileExists(atPath: tree.url("x.html").path))

        result = try CLI.run(["report", "workflows"], in: tree.root)
        #expect(result.status == 2)
        #expect(result.stderr == "bucketflow: workflows: is a directory, not a report file\n")

        if getuid() != 0 {
            try Data("{}".utf8).write(to: tree.url("secret.json"))
            try FileManager.default.setAttributes([.posixPermissions: 0], ofItemAtPath: tree.url("secret.json").path)
            result = try CLI.run(["report", "secret.json"], in: tree.root)
            #expect(result.status == 2)
            #expect(result.stderr.contains("cannot be read"))
        }
    }

    @Test(.enabled(if: Chromium.path != nil || Chromium.required, "chromium is not installed (CI requires it)"))
    func htmlRendersInHeadlessChromium() throws {
        let tree = try ExampleTree()
        try runDailyExports(tree)
        let result = try CLI.run(["report", "run.json", "--html", "run.html"], in: tree.root)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "Wrote run.html (daily-exports, succeeded)\n")
        let page = try String(contentsOf: tree.url("run.html"), encoding: .utf8)
        #expect(page.hasPrefix("<!DOCTYPE html>"))
        #expect(!page.contains("<script"))
        // Nothing fetched: the only URL is the SVG namespace name.
        let withoutNamespaces = page.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "")
        #expect(!withoutNamespaces.contains("http:") && !withoutNamespaces.contains("https:"))

        let png = tree.url("run.png")
        let shot = try Chromium.screenshot(tree.url("run.html"), to: png)
        #expect(shot.status == 0, "\(shot.stderr)")
        #expect(FileManager.default.fileExists(atPath: png.path))
        // The step bars and the "succeeded" badge are #2e7d32; the throughput area is #64b5f6 at 55%.
        let stats = try PNGStats.of(png, near: ["2e7d32"])
        #expect(stats.error == nil)
        #expect(stats.width == 1200)
        #expect(stats.height == 900)
        #expect((stats.colours ?? 0) > 50, "a blank or near-blank page: \(stats.colours ?? 0) colours")
        #expect((stats.nonWhite ?? 0) > 0.05)
        #expect((stats.near?["2e7d32"] ?? 0) > 500, "no green step bars or badge in the screenshot")
    }
}
