public import Foundation

/// Reports of past runs of one workflow: `STATE/runs/SLUG/RUNID.json`
/// (run ids start with the UTC start time, so names sort by date) and
/// `latest.json`, a symbolic link to the newest.
public struct RunHistory: Sendable {
    public let directory: URL
    public static let defaultKeep = 50

    public init(stateDirectory: URL, slug: String) {
        self.directory = stateDirectory.appendingPathComponent("runs").appendingPathComponent(slug)
    }

    public func reportURL(runID: String) -> URL {
        directory.appendingPathComponent("\(runID).json")
    }

    public var latestURL: URL { directory.appendingPathComponent("latest.json") }

    /// Writes the report, points `latest.json` at it and prunes old reports.
    ///
    /// - Returns: The report's path.
    @discardableResult
    public func record(_ report: RunReport, keep: Int) throws -> URL {
        let url = reportURL(runID: report.run.id)
        try ReportWriter.write(report, to: url)
        // Replace the link atomically: make a new link, rename it over the old.
        let temporary = directory.appendingPathComponent(".latest-\(UInt32.random(in: 0...UInt32.max))")
        if symlink(url.lastPathComponent, temporary.path) == 0 {
            if rename(temporary.path, latestURL.path) != 0 { unlink(temporary.path) }
        }
        try prune(keep: keep)
        return url
    }

    /// Report files, oldest first.
    public func reports() -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".json") && $0 != "latest.json" && !$0.hasPrefix(".") }
            .sorted()
            .map { directory.appendingPathComponent($0) }
    }

    /// Deletes all but the newest `keep` reports.
    public func prune(keep: Int) throws {
        let all = reports()
        guard all.count > keep else { return }
        for url in all.prefix(all.count - max(1, keep)) {
            try FileManager.default.removeItem(at: url)
        }
    }
}
