import Foundation
import Storage

/// A local file chosen by an upload's `from:`, with the key suffix it maps to.
struct LocalFile: Sendable, Hashable {
    var url: URL
    /// Path relative to the directory or glob base ("a/b.csv"), or the file name.
    var relativePath: String
    var size: Int64
}

/// Expands an upload's `from:`: one file, a directory (recursively) or a glob
/// (`*`, `?`, `[abc]` within a path segment, `**` across segments).
enum LocalFiles {
    static func expand(_ path: String, resolved: URL, exclude: [String] = [], cancellation: CancellationFlag? = nil) throws -> [LocalFile] {
        let fm = FileManager.default
        let text = resolved.path
        let files: [LocalFile]
        if hasGlob(text) {
            let components = text.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
            let fixedCount = components.firstIndex(where: hasGlob) ?? components.count
            let base = "/" + components[..<fixedCount].joined(separator: "/")
            let pattern = Array(components[fixedCount...])
            var matches: [LocalFile] = []
            for file in try walk(URL(fileURLWithPath: base), cancellation: cancellation) where matchSegments(pattern[...], file.relativePath.split(separator: "/").map(String.init)[...]) {
                matches.append(file)
            }
            files = matches
        } else {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: text, isDirectory: &isDirectory) else {
                throw StepError(code: .noSuchFile, message: "\(path) does not exist (resolved to \(text))")
            }
            if isDirectory.boolValue {
                files = try walk(resolved, cancellation: cancellation)
            } else {
                let attributes = try fm.attributesOfItem(atPath: text)
                files = [LocalFile(url: resolved, relativePath: resolved.lastPathComponent, size: (attributes[.size] as? NSNumber)?.int64Value ?? 0)]
            }
        }
        let excluded = exclude.map { $0.split(separator: "/").map(String.init) }
        return files.filter { file in
            let segments = file.relativePath.split(separator: "/").map(String.init)
            return !excluded.contains { pattern in
                matchSegments(pattern[...], segments[...]) || (pattern.count == 1 && fnmatch(pattern[0], segments.last ?? "", 0) == 0)
            }
        }.sorted { $0.relativePath.utf8.lexicographicallyPrecedes($1.relativePath.utf8) }
    }

    static func hasGlob<S: StringProtocol>(_ text: S) -> Bool {
        text.contains("*") || text.contains("?") || text.contains("[")
    }

    /// Every regular file under `directory`, skipping bucketflow's temp files.
    /// Checks `cancellation` as it goes: the walk runs on a Dispatch thread
    /// (BlockingIO), where `Task.checkCancellation()` would see no task.
    static func walk(_ directory: URL, cancellation: CancellationFlag? = nil) throws -> [LocalFile] {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else { return [] }
        guard let enumerator = fm.enumerator(at: directory, includingPropertiesForKeys: [.isRegularFileKey, .fileSizeKey], options: []) else { return [] }
        let basePath = directory.standardizedFileURL.path
        var files: [LocalFile] = []
        for case let url as URL in enumerator {
            try cancellation?.check()
            let values = try url.resourceValues(forKeys: [.isRegularFileKey, .fileSizeKey])
            guard values.isRegularFile == true else { continue }
            if url.lastPathComponent.hasPrefix(".bucketflow-tmp-") { continue }
            let path = url.standardizedFileURL.path
            guard path.hasPrefix(basePath) else { continue }
            var relative = String(path.dropFirst(basePath.count))
            while relative.hasPrefix("/") { relative.removeFirst() }
            files.append(LocalFile(url: url, relativePath: relative, size: Int64(values.fileSize ?? 0)))
        }
        return files
    }

    static func matchSegments(_ pattern: ArraySlice<String>, _ path: ArraySlice<String>) -> Bool {
        guard let first = pattern.first else { return path.isEmpty }
        if first == "**" {
            var rest = path
            while true {
                if matchSegments(pattern.dropFirst(), rest) { return true }
                guard !rest.isEmpty else { return false }
                rest = rest.dropFirst()
            }
        }
        guard let segment = path.first, fnmatch(first, segment, FNM_PERIOD) == 0 else { return false }
        return matchSegments(pattern.dropFirst(), path.dropFirst())
    }
}
