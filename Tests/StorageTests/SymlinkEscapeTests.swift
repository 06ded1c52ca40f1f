import Foundation
import Testing
@testable import Storage

/// Everything below `directory`, without following links: relative path →
/// kind, mode, size, mtime and content (or link target).
func snapshot(_ directory: String) -> [String: String] {
    var result: [String: String] = [:]
    func visit(_ path: String, _ relative: String) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        let common = "mode=\(st.st_mode) size=\(st.st_size) mtime=\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)"
        switch st.st_mode & S_IFMT {
        case S_IFDIR:
            result[relative] = "dir " + common
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            for name in names { visit(path + "/" + name, relative + "/" + name) }
        case S_IFLNK:
            result[relative] = "link " + ((try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?")
        default:
            let content = FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? "?"
            result[relative] = "file " + common + " " + content
        }
    }
    visit(directory, ".")
    return result
}

/// Runs `body` and checks it fails with `UnsafePath`, naming a link.
func expectUnsafe(_ what: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void) async {
    do {
        try await body()
        Issue.record("\(what): not refused", sourceLocation: sourceLocation)
    } catch let error as StorageError {
        #expect(error.code == .unsafePath, "\(what): \(error)", sourceLocation: sourceLocation)
        if error.code == .unsafePath {
            #expect(error.message.contains("symbolic links are not followed"), "\(what): \(error)", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("\(what): \(error)", sourceLocation: sourceLocation)
    }
}

/// Links planted inside a local storage root, pointing outside it: every
/// operation refuses them and nothing outside changes.
///
/// Planted: `bucket-l -> OUTSIDE` (a bucket), `bucket-a/sub -> OUTSIDE` (a
/// folder), `bucket-a/file.txt -> OUTSIDE/secret.txt` (an object),
/// `bucket-a/folder -> OUTSIDE/dir` (a folder marker).
final class SymlinkEscapeTests {
    let fixture: LocalFixture
    let outside: String
    var storage: LocalStorage { fixture.storage }

    init() async throws {
        fixture = try LocalFixture()
        outside = fixture.base.path + "/outside"
        try FileManager.default.createDirectory(atPath: outside + "/dir/deeper", withIntermediateDirectories: true)
        try Data("secret".utf8).write(to: URL(fileURLWithPath: outside + "/secret.txt"))
        try Data("inner".utf8).write(to: URL(fileURLWithPath: outside + "/dir/inner.txt"))
        try await fixture.storage.createBucket("bucket-a")
        try await fixture.put("real/a.txt", "hello")
        let root = fixture.root.path
        #expect(symlink(outside, root + "/bucket-l") == 0)
        #expect(symlink(outside, root + "/bucket-a/sub") == 0)
        #expect(symlink(outside + "/secret.txt", root + "/bucket-a/file.txt") == 0)
        #expect(symlink(outside + "/dir", root + "/bucket-a/folder") == 0)
        #expect(symlink(outside + "/secret.txt", root + "/bucket-a/real/link.txt") == 0)
    }

    /// Objects reached through a link: (bucket, key).
    static let objects: [(String, String)] = [
        ("bucket-l", "secret.txt"),          // the bucket is a link
        ("bucket-a", "sub/secret.txt"),      // a folder is a link
        ("bucket-a", "sub/dir/inner.txt"),   // a folder two levels up is a link
        ("bucket-a", "file.txt"),            // the object is a link
        ("bucket-a", "real/link.txt"),       // the object is a link, in a real folder
    ]

    /// Folder markers reached through a link.
    static let folders: [(String, String)] = [
        ("bucket-l", "dir/"),
        ("bucket-a", "sub/dir/"),
        ("bucket-a", "sub/dir/deeper/"),
        ("bucket-a", "folder/"),
    ]

    /// Keys that do not exist yet, whose writing would go through a link.
    static let newKeys: [(String, String)] = [
        ("bucket-l", "new.txt"),
        ("bucket-a", "sub/new.txt"),
        ("bucket-a", "sub/newdir/new.txt"),
        ("bucket-a", "folder/new.txt"),
        ("bucket-a", "sub/dir/new.txt"),
    ]

    @Test func headAndReadRefuseEveryLink() async throws {
        let before = snapshot(outside)
        for (bucket, key) in Self.objects + Self.folders {
            await expectUnsafe("head \(bucket)/\(key)") { _ = try await storage.head(bucket: bucket, key: key) }
            await expectUnsafe("read \(bucket)/\(key)") { _ = try await fixture.collect(try await storage.read(bucket: bucket, key: key, range: nil)) }
        }
        #expect(snapshot(outside) == before)
        #expect(try await fixture.collect(try await storage.read(bucket: "bucket-a", key: "real/a.txt", range: nil)) == Array("hello".utf8))
    }

    @Test func downloadRefusesAnObjectBehindALink() async throws {
        let before = snapshot(outside)
        let target = fixture.base.appendingPathComponent("downloads/x.txt")
        for (bucket, key) in Self.objects + Self.folders {
            await expectUnsafe("download \(bucket)/\(key)") { _ = try await storage.download(bucket: bucket, key: key, to: target) }
            #expect(!fixture.exists(target.path))
        }
        #expect(snapshot(outside) == before)
    }

    @Test func uploadRefusesToWriteThroughALink() async throws {
        let before = snapshot(outside)
        let source = try fixture.file("overwritten")
        let empty = try fixture.file("")
        for (bucket, key) in Self.objects + Self.newKeys {
            await expectUnsafe("upload \(bucket)/\(key)") { _ = try await storage.upload(from: source, bucket: bucket, key: key, options: PutOptions()) }
        }
        for (bucket, key) in Self.folders + [("bucket-a", "sub/made/"), ("bucket-a", "file.txt/")] {
            await expectUnsafe("upload marker \(bucket)/\(key)") { _ = try await storage.upload(from: empty, bucket: bucket, key: key, options: PutOptions()) }
        }
        #expect(snapshot(outside) == before)
        #expect(fixture.temporaries(under: fixture.base).isEmpty)
    }

    @Test func copyRefusesLinksOnEitherSide() async throws {
        let before = snapshot(outside)
        for (bucket, key) in Self.objects + Self.folders {
            await expectUnsafe("copy from \(bucket)/\(key)") {
                _ = try await storage.copy(fromBucket: bucket, fromKey: key, toBucket: "bucket-a", toKey: "copied.txt")
            }
        }
        #expect(!fixture.exists(fixture.path("bucket-a", "copied.txt")))
        for (bucket, key) in Self.objects + Self.newKeys {
            await expectUnsafe("copy to \(bucket)/\(key)") {
                _ = try await storage.copy(fromBucket: "bucket-a", fromKey: "real/a.txt", toBucket: bucket, toKey: key)
            }
        }
        #expect(snapshot(outside) == before)
    }

    @Test func deleteRefusesEveryLinkAndRemovesNothingOutside() async throws {
        let before = snapshot(outside)
        let keys = (Self.objects + Self.folders).filter { $0.0 == "bucket-a" }.map(\.1)
        let failures = try await storage.delete(bucket: "bucket-a", keys: keys)
        #expect(Set(failures.map(\.key)) == Set(keys))
        #expect(failures.allSatisfy { $0.code == "UnsafePath" }, "\(failures)")
        await expectUnsafe("delete in a linked bucket") { _ = try await storage.delete(bucket: "bucket-l", keys: ["secret.txt", "dir/"]) }
        #expect(snapshot(outside) == before)
        // The links themselves stay too: a delete never acts on a link.
        #expect(fixture.exists(fixture.path("bucket-a", "sub")))
        // Real objects next to them still go.
        #expect(try await storage.delete(bucket: "bucket-a", keys: ["real/a.txt"]).isEmpty)
        #expect(!fixture.exists(fixture.path("bucket-a", "real/a.txt")))
    }

    /// `delete-folder` lists, then deletes what it listed: links are never listed.
    @Test func listingsSkipLinksAndNeverDescendThroughThem() async throws {
        let before = snapshot(outside)
        #expect(try await storage.listAll(bucket: "bucket-a", prefix: "").map(\.key) == ["real/a.txt"])
        for prefix in ["sub/", "sub/dir/", "folder/", "file.txt", "sub"] {
            #expect(try await storage.listAll(bucket: "bucket-a", prefix: prefix).isEmpty, "prefix \(prefix)")
        }
        let top = try await storage.listPage(bucket: "bucket-a", prefix: "", delimiter: "/", continuationToken: nil, maxKeys: 100)
        #expect(top.commonPrefixes == ["real/"])
        #expect(top.objects.isEmpty)
        await expectUnsafe("list a linked bucket") { _ = try await storage.listPage(bucket: "bucket-l", prefix: "", delimiter: nil, continuationToken: nil, maxKeys: 10) }
        #expect(try await storage.listBuckets().map(\.name) == ["bucket-a"])
        #expect(snapshot(outside) == before)
    }

    @Test func bucketOperationsRefuseALinkedBucket() async throws {
        let before = snapshot(outside)
        await expectUnsafe("bucketExists") { _ = try await storage.bucketExists("bucket-l") }
        await expectUnsafe("createBucket") { try await storage.createBucket("bucket-l") }
        await expectUnsafe("deleteBucket") { try await storage.deleteBucket("bucket-l") }
        #expect(snapshot(outside) == before)
        #expect(fixture.exists(fixture.root.path + "/bucket-l"))
    }

    @Test func aLinkSwappedInAfterTheWalkStartsIsNotFollowed() async throws {
        // The object's folder becomes a link between two writes; the second write is refused.
        try await fixture.put("moving/a.txt", "one")
        try FileManager.default.removeItem(atPath: fixture.path("bucket-a", "moving"))
        #expect(symlink(outside, fixture.path("bucket-a", "moving")) == 0)
        let before = snapshot(outside)
        await expectUnsafe("write through a swapped folder") { _ = try await fixture.put("moving/secret.txt", "pwned") }
        #expect(snapshot(outside) == before)
    }

    @Test func theRootItselfMayBeALink() async throws {
        let link = fixture.base.path + "/root-link"
        #expect(symlink(fixture.root.path, link) == 0)
        let viaLink = LocalStorage(root: URL(fileURLWithPath: link))
        #expect(try await viaLink.bucketExists("bucket-a"))
        _ = try await viaLink.upload(from: try fixture.file("via link"), bucket: "bucket-a", key: "v/x.txt", options: PutOptions())
        #expect(try await viaLink.listAll(bucket: "bucket-a", prefix: "v/").map(\.key) == ["v/x.txt"])
        #expect(try await viaLink.head(bucket: "bucket-a", key: "v/x.txt").size == 8)
        #expect(FileManager.default.contents(atPath: fixture.path("bucket-a", "v/x.txt")) == Data("via link".utf8))
    }
}
