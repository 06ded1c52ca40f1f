import Foundation
import Testing
@testable import Storage

/// Buckets are the root's sub-directories, named as S3 names buckets.
struct LocalStorageBucketTests {
    let fixture: LocalFixture
    var storage: LocalStorage { fixture.storage }
    var root: String { fixture.root.path }

    init() throws { fixture = try LocalFixture() }

    @Test func displayNameIsTheAbsoluteRoot() throws {
        #expect(storage.displayName == "local:\(root)")
        #expect(LocalStorage(root: URL(fileURLWithPath: "/srv/buckets/")).displayName == "local:/srv/buckets")
        #expect(LocalStorage(root: URL(fileURLWithPath: "/srv/x/../buckets")).displayName == "local:/srv/buckets")
    }

    @Test func createListExistsDelete() async throws {
        #expect(try await storage.listBuckets().isEmpty, "a missing root has no buckets")
        try await storage.createBucket("bucket-b")
        try await storage.createBucket("bucket-a")
        #expect(FileManager.default.fileExists(atPath: root + "/bucket-a"), "the root is created when missing")
        #expect(try await storage.bucketExists("bucket-a"))
        #expect(try await storage.bucketExists("bucket-c") == false)
        let buckets = try await storage.listBuckets()
        #expect(buckets.map(\.name) == ["bucket-a", "bucket-b"])
        #expect(buckets.allSatisfy { $0.createdAt != nil })
        try await storage.deleteBucket("bucket-b")
        #expect(try await storage.bucketExists("bucket-b") == false)
        #expect(try await storage.listBuckets().map(\.name) == ["bucket-a"])
    }

    @Test func listingSkipsFilesAndUnaddressableDirectories() async throws {
        try await storage.createBucket("bucket-a")
        try FileManager.default.createDirectory(atPath: root + "/Not A Bucket", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/.hidden", withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: root + "/stray-file", contents: Data("x".utf8)))
        #expect(try await storage.listBuckets().map(\.name) == ["bucket-a"])
    }

    @Test func creatingAnExistingBucketFails() async throws {
        try await storage.createBucket("bucket-a")
        await #expect(throws: StorageError(.bucketAlreadyExists, "bucket \"bucket-a\" already exists in \(root)")) {
            try await storage.createBucket("bucket-a")
        }
        #expect(FileManager.default.createFile(atPath: root + "/file-bucket", contents: Data()))
        await #expect(throws: StorageError(.io, "cannot create bucket \"file-bucket\": \(root)/file-bucket exists and is not a directory", hint: "move that file out of the storage root")) {
            try await storage.createBucket("file-bucket")
        }
    }

    @Test func deletingANonEmptyBucketSaysHowToEmptyIt() async throws {
        try await storage.createBucket("bucket-a")
        try await fixture.put("dir/k.txt")
        await #expect(throws: StorageError(.bucketNotEmpty, "bucket \"bucket-a\" is not empty", hint: "use force: true to empty it first")) {
            try await storage.deleteBucket("bucket-a")
        }
        #expect(try await storage.bucketExists("bucket-a"))
        _ = try await storage.delete(bucket: "bucket-a", keys: ["dir/k.txt"])
        try await storage.deleteBucket("bucket-a")
        #expect(try await storage.bucketExists("bucket-a") == false)
    }

    @Test func leftoverTemporaryFilesDoNotKeepABucket() async throws {
        try await storage.createBucket("bucket-a")
        #expect(FileManager.default.createFile(atPath: root + "/bucket-a/.bucketflow-tmp-123", contents: Data("partial".utf8)))
        try await storage.deleteBucket("bucket-a")
        #expect(!fixture.exists(root + "/bucket-a"))
    }

    @Test func deletingAMissingBucketNamesIt() async throws {
        await #expect(throws: StorageError(.noSuchBucket, "bucket \"nope-bucket\" does not exist in \(root)", hint: "create it first with a create-bucket step")) {
            try await storage.deleteBucket("nope-bucket")
        }
    }

    @Test(arguments: [
        ("ab", "it has 2 characters"),
        (String(repeating: "a", count: 64), "it has 64 characters"),
        ("Bad_Name", "only lowercase letters, digits, '-' and '.' are allowed"),
        ("my bucket", "only lowercase letters, digits, '-' and '.' are allowed"),
        ("bücket", "only lowercase letters, digits, '-' and '.' are allowed"),
        ("-abc", "it must start and end with a letter or digit"),
        ("abc.", "it must start and end with a letter or digit"),
        ("a..b", "it contains '..'"),
    ])
    func invalidBucketNamesAreExplained(name: String, reason: String) async throws {
        let expected = StorageError(
            .invalidBucketName, "invalid bucket name \"\(name)\": \(reason)",
            hint: "use 3 to 63 lowercase letters, digits, '-' and '.', starting and ending with a letter or digit")
        await #expect(throws: expected) { try await storage.createBucket(name) }
        await #expect(throws: expected) { _ = try await storage.bucketExists(name) }
        await #expect(throws: expected) { _ = try await storage.head(bucket: name, key: "k") }
        #expect(!fixture.exists(root + "/" + name))
    }

    @Test(arguments: ["abc", "my-bucket.v2", "0day", String(repeating: "a", count: 63)])
    func validBucketNames(name: String) async throws {
        try await storage.createBucket(name)
        #expect(try await storage.bucketExists(name))
    }
}
