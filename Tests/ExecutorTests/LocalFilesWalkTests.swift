import Foundation
import Testing
@testable import Executor

/// What an upload's `from:` folder expands to: regular files only, hidden
/// ones included, links and special files skipped, nested folders walked.
@Suite struct LocalFilesWalkTests {
    @Test func theWalkChoosesRegularFilesAndSkipsLinksAndSpecialFiles() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("bucketflow-walk-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let fm = FileManager.default
        let src = root.appendingPathComponent("src")
        for folder in ["d/e/f", "realdir", "empty"] {
            try fm.createDirectory(at: src.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        let files = ["a": 1, ".hidden": 2, "d/b": 3, "d/e/f/deep": 4, "realdir/r": 5, "d/é ü.txt": 6]
        for (path, size) in files {
            try Data(repeating: 7, count: size).write(to: src.appendingPathComponent(path))
        }
        try Data("x".utf8).write(to: src.appendingPathComponent("d/.bucketflow-tmp-123-abc"))
        try fm.createSymbolicLink(atPath: src.appendingPathComponent("d/link-to-file").path, withDestinationPath: "../a")
        try fm.createSymbolicLink(atPath: src.appendingPathComponent("linkdir").path, withDestinationPath: "realdir")
        try fm.createSymbolicLink(atPath: src.appendingPathComponent("outside").path, withDestinationPath: "/etc")
        #expect(mkfifo(src.appendingPathComponent("fifo").path, 0o600) == 0)

        let found = try LocalFiles.expand(src.path, resolved: src)
        #expect(found.map(\.relativePath) == files.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        for file in found {
            #expect(file.size == Int64(files[file.relativePath]!))
            #expect(file.url.path == src.path + "/" + file.relativePath)
            #expect(FileManager.default.fileExists(atPath: file.url.path))
        }
        // A glob below the folder and an exclude work on the same walk.
        #expect(try LocalFiles.expand(src.path + "/d/**", resolved: URL(fileURLWithPath: src.path + "/d/**")).map(\.relativePath) == ["b", "e/f/deep", "é ü.txt"])
        #expect(try LocalFiles.expand(src.path, resolved: src, exclude: ["d/**"]).map(\.relativePath) == [".hidden", "a", "realdir/r"])
        // A folder that is missing or not a folder has nothing to walk.
        #expect(try LocalFiles.walk(root.appendingPathComponent("missing")).isEmpty)
        #expect(try LocalFiles.walk(src.appendingPathComponent("a")).isEmpty)
    }
}
