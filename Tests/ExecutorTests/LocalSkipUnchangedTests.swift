import Foundation
import Testing
@testable import Executor

/// `skip-unchanged` against the local provider, which copies with the
/// kernel and computes checksums only when one is needed: it must still
/// skip what is unchanged and transfer what changed (same size included).
struct LocalSkipUnchangedTests {
    static let header = """
        version: 1
        name: skip
        storage:
          disk:
            provider: local
            root: buckets
        """

    /// `count` bytes of `fill`, with `mark` as the first byte.
    static func bytes(_ count: Int, fill: UInt8 = 7, mark: UInt8 = 0) -> Data {
        var data = Data(repeating: fill, count: count)
        data[0] = mark
        return data
    }

    static func setModified(_ url: URL, _ date: Date) throws {
        try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: url.path)
    }

    @Test func anUploadLargerThanHeadHashesSkipsOnlyWhatIsUnchanged() async throws {
        let ws = try TestWorkspace()
        // Larger than the 16 MiB a head hashes lazily: only the stamp the
        // skip-unchanged upload wrote can prove it unchanged.
        let size = 17 << 20
        let source = ws.url("files/big.bin")
        try FileManager.default.createDirectory(at: source.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Self.bytes(size).write(to: source)
        let yaml = Self.header + """

            steps:
              bucket: {action: create-bucket, bucket: "disk://bkt", if-exists: ok}
              up: {action: upload, needs: [bucket], from: files/big.bin, to: "disk://bkt/big.bin", skip-unchanged: true}
            """
        #expect(try await ws.run(yaml).step("up").counts.transferred == 1)
        #expect(try await ws.run(yaml).step("up").counts.unchanged == 1)

        // Same size, new content: transferred.
        try Self.bytes(size, mark: 1).write(to: source)
        #expect(try await ws.run(yaml).step("up").counts.transferred == 1)
        #expect(FileManager.default.contents(atPath: ws.url("buckets/bkt/big.bin").path)?.first == 1)

        // Only the mtime changed: the content is the same, so skipped.
        try Self.setModified(source, Date(timeIntervalSinceNow: -3600))
        #expect(try await ws.run(yaml).step("up").counts.unchanged == 1)

        // The object changed in place by hand (same size, new mtime): its stamp and its
        // recorded checksum no longer prove anything, so it is transferred again.
        try Self.bytes(size, mark: 9).write(to: ws.url("buckets/bkt/big.bin"))
        #expect(try await ws.run(yaml).step("up").counts.transferred == 1)
        #expect(FileManager.default.contents(atPath: ws.url("buckets/bkt/big.bin").path)?.first == 1)
    }

    @Test func downloadsAndCopiesOfPlainUploadsSkipWhatIsUnchanged() async throws {
        let ws = try TestWorkspace()
        try ws.write("files/a.csv", "1,1\n")
        try ws.write("files/b.csv", "2,2\n")
        // Plain uploads store no checksum: download and copy must get one lazily.
        let yaml = Self.header + """

            steps:
              bucket: {action: create-bucket, bucket: "disk://bkt", if-exists: ok}
              up: {action: upload, needs: [bucket], from: "files/*.csv", to: "disk://bkt/in/"}
              down: {action: download, needs: [up], from: "disk://bkt/in/", to: out/, skip-unchanged: true}
              dup: {action: copy, needs: [up], from: "disk://bkt/in/", to: "disk://bkt/copy/", skip-unchanged: true}
            """
        let first = try await ws.run(yaml)
        #expect(first.step("down").counts.transferred == 2)
        #expect(first.step("dup").counts.transferred == 2)
        let second = try await ws.run(yaml)
        #expect(second.step("up").counts.transferred == 2, "a plain upload always copies")
        #expect(second.step("down").counts.unchanged == 2)
        #expect(second.step("dup").counts.unchanged == 2)

        // Same size, new content (and an mtime that might even match): transferred.
        let old = try FileManager.default.attributesOfItem(atPath: ws.url("files/b.csv").path)[.modificationDate] as? Date
        try ws.write("files/b.csv", "3,3\n")
        if let old { try Self.setModified(ws.url("files/b.csv"), old) }
        let third = try await ws.run(yaml)
        #expect(third.step("down").counts.transferred == 1)
        #expect(third.step("down").counts.unchanged == 1)
        #expect(third.step("dup").counts.transferred == 1)
        #expect(third.step("dup").counts.unchanged == 1)
        #expect(try ws.read("out/b.csv") == "3,3\n")
        #expect(try ws.read("buckets/bkt/copy/b.csv") == "3,3\n")
    }
}
