import Foundation
import Testing
@testable import Storage

/// Listings in UTF-8 byte order with S3's prefix, delimiter and pagination
/// rules, and folders as S3 shows them.
struct LocalStorageListingTests {
    let fixture: LocalFixture
    var storage: LocalStorage { fixture.storage }

    init() async throws {
        fixture = try LocalFixture()
        try await fixture.storage.createBucket("bucket-a")
    }

    /// Every page of a listing.
    func pages(prefix: String, delimiter: String?, maxKeys: Int) async throws -> [ListPage] {
        var pages: [ListPage] = []
        var token: String?
        repeat {
            let page = try await storage.listPage(bucket: "bucket-a", prefix: prefix, delimiter: delimiter, continuationToken: token, maxKeys: maxKeys)
            pages.append(page)
            token = page.isTruncated ? page.nextContinuationToken : nil
            if page.isTruncated { #expect(token != nil) }
        } while token != nil && pages.count < 10_000
        return pages
    }

    @Test func paginatesManyKeysInByteOrder() async throws {
        let fixture = try LocalFixture(inMemory: true)
        let storage = fixture.storage
        try await storage.createBucket("bucket-a")
        func pages(prefix: String) async throws -> [ListPage] {
            var pages: [ListPage] = []
            var token: String?
            repeat {
                let page = try await storage.listPage(bucket: "bucket-a", prefix: prefix, delimiter: nil, continuationToken: token, maxKeys: 1000)
                pages.append(page)
                token = page.isTruncated ? page.nextContinuationToken : nil
            } while token != nil && pages.count < 100
            return pages
        }
        let names = (0..<2500).map { String(format: "logs/%04d.txt", $0) } + ["a.txt", "logs/sub/x.txt", "logs-old.txt", "z/y.txt"]
        for name in names.shuffled() { try fixture.place(name) }

        let logs = try await pages(prefix: "logs/")
        #expect(logs.map(\.objects.count) == [1000, 1000, 501])
        #expect(logs.map(\.isTruncated) == [true, true, false])
        #expect(logs.last?.nextContinuationToken == nil)
        #expect(logs.flatMap(\.objects).map(\.key) == names.filter { $0.hasPrefix("logs/") }.sorted())

        let all = try await pages(prefix: "")
        #expect(all.count == 3)
        #expect(all.flatMap(\.objects).map(\.key) == names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        #expect(try await storage.listAll(bucket: "bucket-a", prefix: "", pageSize: 250).count == names.count)
    }

    @Test func delimiterRollsUpFolders() async throws {
        for key in ["a.txt", "logs/1.txt", "logs/2/3.txt", "z/y.txt", "zz.txt"] { try await fixture.put(key) }
        let top = try await storage.listPage(bucket: "bucket-a", prefix: "", delimiter: "/", continuationToken: nil, maxKeys: 1000)
        #expect(top.objects.map(\.key) == ["a.txt", "zz.txt"])
        #expect(top.commonPrefixes == ["logs/", "z/"])
        #expect(!top.isTruncated)
        let logs = try await storage.listPage(bucket: "bucket-a", prefix: "logs/", delimiter: "/", continuationToken: nil, maxKeys: 1000)
        #expect(logs.objects.map(\.key) == ["logs/1.txt"])
        #expect(logs.commonPrefixes == ["logs/2/"])
        let small = try await storage.listPage(bucket: "bucket-a", prefix: "", delimiter: "/", continuationToken: nil, maxKeys: 2)
        #expect(small.objects.map(\.key) == ["a.txt"] && small.commonPrefixes == ["logs/"] && small.isTruncated)
        let rest = try await storage.listPage(bucket: "bucket-a", prefix: "", delimiter: "/", continuationToken: small.nextContinuationToken, maxKeys: 2)
        #expect(rest.commonPrefixes == ["z/"] && rest.objects.map(\.key) == ["zz.txt"] && !rest.isTruncated)
    }

    /// What S3 returns, computed from the key set: filter, sort by bytes,
    /// roll up, then cut into pages.
    static func expected(_ keys: [String], prefix: String, delimiter: String?) -> [(String, Bool)] {
        let prefixBytes = Array(prefix.utf8)
        var entries: [(String, Bool)] = []
        for key in keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) where Array(key.utf8).starts(with: prefixBytes) {
            let rest = Array(key.utf8.dropFirst(prefixBytes.count))
            if let delimiter, !delimiter.isEmpty, let end = LocalStorage.endOfFirst(Array(delimiter.utf8), in: rest, from: 0) {
                let common = String(decoding: prefixBytes + rest[..<end], as: UTF8.self)
                if entries.last?.0 != common || entries.last?.1 != true { entries.append((common, true)) }
            } else {
                entries.append((key, false))
            }
        }
        return entries
    }

    static let trickyKeys = [
        "a-b", "a.txt", "a/b", "a/c/d", "a/c/e.txt", "a0", "b/c/", "b/d/e/", "e\u{301}.txt", "\u{e9}.txt",
        "space dir/x y.txt", "logs/2024-01-01.txt", "logs/2024-01-02.txt", "logs/2024/02/x.txt", "z/y/x.txt",
        "x-y-z.txt", "x-y/z.txt", "~tilde", "Upper/Case.txt", "0/1/2/3/4/5.txt",
    ]

    @Test(arguments: ["", "a", "a/", "a/c", "b/", "b/c/", "logs/2024", "logs/2024-", "z/y/", "nope/", "../", "a//", ".", "e", "\u{e9}"])
    func listingsMatchS3Semantics(prefix: String) async throws {
        for key in Self.trickyKeys { try fixture.place(key) }
        for delimiter in [nil, "/", "-", "/2"] as [String?] {
            let entries = Self.expected(Self.trickyKeys, prefix: prefix, delimiter: delimiter)
            for maxKeys in [1, 2, 3, 1000] {
                let pages = try await pages(prefix: prefix, delimiter: delimiter, maxKeys: maxKeys)
                let chunks = stride(from: 0, to: max(entries.count, 1), by: maxKeys).map { Array(entries[$0..<min($0 + maxKeys, entries.count)]) }
                let context = "prefix \"\(prefix)\" delimiter \(delimiter ?? "nil") maxKeys \(maxKeys)"
                #expect(pages.count == chunks.count, "\(context)")
                for (page, chunk) in zip(pages, chunks) {
                    #expect(page.objects.map(\.key) == chunk.filter { !$0.1 }.map(\.0), "\(context)")
                    #expect(page.commonPrefixes == chunk.filter(\.1).map(\.0), "\(context)")
                }
                #expect(pages.dropLast().allSatisfy(\.isTruncated) && pages.last?.isTruncated == false, "\(context)")
            }
        }
    }

    @Test func emptyFoldersAreObjectsAndFullOnesAreNot() async throws {
        try await fixture.put("empty/", "")
        try await fixture.put("full/a.txt", "hello")
        try FileManager.default.createDirectory(atPath: fixture.path("bucket-a", "by-hand/inner"), withIntermediateDirectories: true)
        let objects = try await storage.listAll(bucket: "bucket-a", prefix: "")
        #expect(objects.map(\.key) == ["by-hand/inner/", "empty/", "full/a.txt"])
        #expect(objects[1].size == 0)
        #expect(objects[1].contentType == "application/x-directory")
        let marker = try await storage.head(bucket: "bucket-a", key: "empty/")
        #expect(marker.size == 0 && marker.key == "empty/")
        await #expect(throws: StorageError(.noSuchKey, "bucket-a/full/ does not exist")) {
            _ = try await storage.head(bucket: "bucket-a", key: "full/")
        }
        let page = try await storage.listPage(bucket: "bucket-a", prefix: "empty/", delimiter: "/", continuationToken: nil, maxKeys: 10)
        #expect(page.objects.map(\.key) == ["empty/"] && page.commonPrefixes.isEmpty)
    }

    @Test func aFolderMarkerNeedsAnEmptySource() async throws {
        await #expect(throws: StorageError(.invalidKey, "cannot store 5 bytes as bucket-a/folder/: a key ending in '/' is a folder on the local provider, and a folder holds no bytes", hint: "drop the trailing '/' to store a file")) {
            try await fixture.put("folder/", "hello")
        }
        #expect(try await storage.listAll(bucket: "bucket-a", prefix: "").isEmpty)
    }

    @Test func deletingAMarkerRemovesOnlyAnEmptyFolder() async throws {
        try await fixture.put("folder/", "")
        try await fixture.put("folder/a.txt")
        #expect(try await storage.delete(bucket: "bucket-a", keys: ["folder/"]).isEmpty)
        #expect(try await storage.listAll(bucket: "bucket-a", prefix: "").map(\.key) == ["folder/a.txt"], "the objects under it stay, as in S3")
        // The marker is gone, so the folder no longer outlives its last object.
        _ = try await storage.delete(bucket: "bucket-a", keys: ["folder/a.txt"])
        #expect(try await storage.listAll(bucket: "bucket-a", prefix: "").isEmpty)
        #expect(!fixture.exists(fixture.path("bucket-a", "folder")))
    }

    @Test func anExplicitFolderOutlivesItsContentsAsInS3() async throws {
        try await fixture.put("kept/", "")
        try await fixture.put("kept/a.txt")
        try await fixture.put("implicit/deep/b.txt")
        #expect(try await storage.listAll(bucket: "bucket-a", prefix: "").map(\.key) == ["implicit/deep/b.txt", "kept/a.txt"])
        _ = try await storage.delete(bucket: "bucket-a", keys: ["kept/a.txt", "implicit/deep/b.txt"])
        #expect(try await storage.listAll(bucket: "bucket-a", prefix: "").map(\.key) == ["kept/"])
        _ = try await storage.delete(bucket: "bucket-a", keys: ["kept/"])
        #expect(try await storage.listAll(bucket: "bucket-a", prefix: "").isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.root.path + "/bucket-a").isEmpty)
    }

    @Test func deletingAFolderAndItsContentsInOneBatch() async throws {
        try await fixture.put("f/", "")
        try await fixture.put("f/g/", "")
        try await fixture.put("f/g/h.txt")
        #expect(try await storage.delete(bucket: "bucket-a", keys: ["f/", "f/g/", "f/g/h.txt"]).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.root.path + "/bucket-a").isEmpty)
    }

    @Test func temporaryFilesAreNeverListed() async throws {
        try await fixture.put("dir/a.txt")
        #expect(FileManager.default.createFile(atPath: fixture.path("bucket-a", "dir/.bucketflow-tmp-1"), contents: Data()))
        try FileManager.default.createDirectory(atPath: fixture.path("bucket-a", "only-temp"), withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: fixture.path("bucket-a", "only-temp/.bucketflow-tmp-2"), contents: Data()))
        #expect(try await storage.listAll(bucket: "bucket-a", prefix: "").map(\.key) == ["dir/a.txt"])
        let top = try await storage.listPage(bucket: "bucket-a", prefix: "", delimiter: "/", continuationToken: nil, maxKeys: 10)
        #expect(top.commonPrefixes == ["dir/"])
    }

    @Test func aForeignContinuationTokenIsRefused() async throws {
        await #expect(throws: StorageError(.other, "the continuation token \"not a token\" was not issued by the local provider", hint: "pass the nextContinuationToken of the previous page unchanged")) {
            _ = try await storage.listPage(bucket: "bucket-a", prefix: "", delimiter: nil, continuationToken: "not a token", maxKeys: 10)
        }
    }

    @Test func aZeroMaxKeysStillMakesProgress() async throws {
        for key in ["a", "b", "c"] { try await fixture.put(key) }
        let pages = try await pages(prefix: "", delimiter: nil, maxKeys: 0)
        #expect(pages.flatMap(\.objects).map(\.key) == ["a", "b", "c"])
    }

    @Test func symbolicLinksAreSkippedEvenWhenTheyPointInside() async throws {
        try await fixture.put("real/a.txt", "hello")
        #expect(symlink(fixture.path("bucket-a", "real/a.txt"), fixture.path("bucket-a", "link.txt")) == 0)
        #expect(symlink(fixture.path("bucket-a", "real"), fixture.path("bucket-a", "loop")) == 0)
        #expect(try await storage.listAll(bucket: "bucket-a", prefix: "").map(\.key) == ["real/a.txt"])
        await expectUnsafe("head of a link") { _ = try await storage.head(bucket: "bucket-a", key: "link.txt") }
    }
}
