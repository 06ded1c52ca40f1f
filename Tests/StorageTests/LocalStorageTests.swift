import Foundation
import Testing
@testable import Storage

/// The local provider on the real file system, in a fresh directory per test.
final class LocalStorageTests {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("bucketflow-local-\(UUID().uuidString)")
    lazy var storage = LocalStorage(root: root)

    deinit { try? FileManager.default.removeItem(at: root) }

    func file(_ text: String) throws -> URL {
        let url = root.deletingLastPathComponent().appendingPathComponent("src-\(UUID().uuidString)")
        try Data(text.utf8).write(to: url)
        return url
    }

    func put(_ key: String, _ text: String = "x", bucket: String = "bucket-a") async throws {
        _ = try await storage.upload(from: try file(text), bucket: bucket, key: key, options: PutOptions())
    }

    @Test func bucketsAreDirectories() async throws {
        try await storage.createBucket("bucket-a")
        #expect(try await storage.bucketExists("bucket-a"))
        #expect(try await storage.listBuckets().map(\.name) == ["bucket-a"])
        await #expect(throws: StorageError(.bucketAlreadyExists, "bucket \"bucket-a\" already exists in \(root.path)")) {
            try await self.storage.createBucket("bucket-a")
        }
        try await put("k")
        await #expect(throws: StorageError(.bucketNotEmpty, "bucket \"bucket-a\" is not empty", hint: "use force: true to empty it first")) {
            try await self.storage.deleteBucket("bucket-a")
        }
        _ = try await storage.delete(bucket: "bucket-a", keys: ["k"])
        try await storage.deleteBucket("bucket-a")
        #expect(try await storage.bucketExists("bucket-a") == false)
        await #expect(throws: StorageError(.invalidBucketName, "invalid bucket name \"Bad_Name\"", hint: "use 3 to 63 lowercase letters, digits, '-' and '.', starting and ending with a letter or digit")) {
            try await self.storage.createBucket("Bad_Name")
        }
    }

    @Test func objectsRoundTripWithChecksumsAndMetadata() async throws {
        try await storage.createBucket("bucket-a")
        let result = try await storage.upload(from: try file("hello"), bucket: "bucket-a", key: "dir/ünï code & +.txt", options: PutOptions(contentType: "text/x-test", metadata: ["owner": "team"]))
        #expect(result.checksums["sha256"] == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        let info = try await storage.head(bucket: "bucket-a", key: "dir/ünï code & +.txt")
        #expect(info.size == 5)
        #expect(info.contentType == "text/x-test")
        #expect(info.metadata == ["owner": "team"])
        #expect(info.checksums["sha256"] == result.checksums["sha256"])
        var bytes: [UInt8] = []
        for try await chunk in try await storage.read(bucket: "bucket-a", key: "dir/ünï code & +.txt", range: 1..<4) { bytes += chunk }
        #expect(String(decoding: bytes, as: UTF8.self) == "ell")
        let destination = root.deletingLastPathComponent().appendingPathComponent("dl-\(UUID().uuidString)/out.txt")
        try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        _ = try await storage.download(bucket: "bucket-a", key: "dir/ünï code & +.txt", to: destination)
        let downloaded = try Data(contentsOf: destination)
        #expect(downloaded == Data("hello".utf8), "downloaded \(downloaded.count) bytes: \(String(decoding: downloaded, as: UTF8.self))")
        _ = try await storage.copy(fromBucket: "bucket-a", fromKey: "dir/ünï code & +.txt", toBucket: "bucket-a", toKey: "copy.txt")
        #expect(try await storage.head(bucket: "bucket-a", key: "copy.txt").contentType == "text/x-test")
    }

    @Test func missingThingsAreNamed() async throws {
        await #expect(throws: StorageError(.noSuchBucket, "bucket \"nope-bucket\" does not exist in \(root.path)", hint: "create it first with a create-bucket step")) {
            _ = try await self.storage.head(bucket: "nope-bucket", key: "k")
        }
        try await storage.createBucket("bucket-a")
        await #expect(throws: StorageError(.noSuchKey, "bucket-a/missing.txt does not exist")) {
            _ = try await self.storage.head(bucket: "bucket-a", key: "missing.txt")
        }
    }

    @Test(arguments: ["", "/abs", "a//b", "a/../b", "./a", ".bucketflow-tmp-x"])
    func unsafeKeysAreRefused(key: String) async throws {
        try await storage.createBucket("bucket-a")
        await #expect(throws: StorageError.self) { try await self.put(key) }
    }

    @Test func listingPaginatesInByteOrderWithDelimiters() async throws {
        try await storage.createBucket("bucket-a")
        let names = (0..<2500).map { String(format: "logs/%04d.txt", $0) } + ["a.txt", "logs/sub/x.txt", "z/y.txt"]
        let source = try file("1")
        for name in names { _ = try await storage.upload(from: source, bucket: "bucket-a", key: name, options: PutOptions()) }
        var pages = 0
        var token: String?
        var keys: [String] = []
        repeat {
            let page = try await storage.listPage(bucket: "bucket-a", prefix: "logs/", delimiter: nil, continuationToken: token, maxKeys: 1000)
            keys += page.objects.map(\.key)
            token = page.isTruncated ? page.nextContinuationToken : nil
            pages += 1
        } while token != nil
        #expect(pages == 3)
        #expect(keys == names.filter { $0.hasPrefix("logs/") }.sorted())
        let top = try await storage.listPage(bucket: "bucket-a", prefix: "", delimiter: "/", continuationToken: nil, maxKeys: 1000)
        #expect(top.objects.map(\.key) == ["a.txt"])
        #expect(top.commonPrefixes == ["logs/", "z/"])
        let small = try await storage.listPage(bucket: "bucket-a", prefix: "", delimiter: "/", continuationToken: nil, maxKeys: 2)
        #expect(small.objects.map(\.key) == ["a.txt"] && small.commonPrefixes == ["logs/"] && small.isTruncated)
        let rest = try await storage.listPage(bucket: "bucket-a", prefix: "", delimiter: "/", continuationToken: small.nextContinuationToken, maxKeys: 2)
        #expect(rest.commonPrefixes == ["z/"] && rest.objects.isEmpty && !rest.isTruncated)
    }

    @Test func foldersAreDirectoriesAndEmptyParentsGoAway() async throws {
        try await storage.createBucket("bucket-a")
        _ = try await storage.upload(from: try file(""), bucket: "bucket-a", key: "kept/", options: PutOptions())
        try await put("kept/a.txt")
        try await put("implicit/deep/b.txt")
        #expect(try await storage.listAll(bucket: "bucket-a", prefix: "").map(\.key) == ["implicit/deep/b.txt", "kept/a.txt"])
        _ = try await storage.delete(bucket: "bucket-a", keys: ["kept/a.txt", "implicit/deep/b.txt"])
        // The explicit folder stays (as S3's marker would); the implicit one is gone.
        #expect(try await storage.listAll(bucket: "bucket-a", prefix: "").map(\.key) == ["kept/"])
        _ = try await storage.delete(bucket: "bucket-a", keys: ["kept/"])
        #expect(try await storage.listAll(bucket: "bucket-a", prefix: "").isEmpty)
    }

    @Test func aCancelledTransferLeavesNeitherTheObjectNorATemporary() async throws {
        try await storage.createBucket("bucket-a")
        // A named pipe as the source keeps the transfer in flight for as long as the test wants.
        let fifo = root.deletingLastPathComponent().appendingPathComponent("fifo-\(UUID().uuidString)")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        defer { unlink(fifo.path) }
        let writer = open(fifo.path, O_RDWR)
        defer { close(writer) }
        let chunk = [UInt8](repeating: 1, count: 4096)
        _ = write(writer, chunk, chunk.count)
        let storage = self.storage
        let task = Task { try await storage.upload(from: fifo, bucket: "bucket-a", key: "partial.bin", options: PutOptions()) }
        let bucket = root.appendingPathComponent("bucket-a")
        while (try FileManager.default.contentsOfDirectory(atPath: bucket.path)).isEmpty { try await Task.sleep(for: .milliseconds(5)) }
        task.cancel()
        // Feed the pipe so the blocked read returns and sees the cancellation.
        let feeder = Task.detached {
            // Stop when cancelled: the descriptor is closed right after, and a
            // write to a reused descriptor number would corrupt another file.
            for _ in 0..<200 where !Task.isCancelled {
                _ = write(writer, chunk, chunk.count)
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        await #expect(throws: CancellationError.self) { _ = try await task.value }
        feeder.cancel()
        await feeder.value
        #expect(try FileManager.default.contentsOfDirectory(atPath: bucket.path).isEmpty)
    }

    @Test func dataAreaResolvesMyToTheUser() throws {
        let area = DataArea(root: URL(fileURLWithPath: "/srv/data"), userName: "ana")
        #expect(try area.resolve(".my/BackblazeCredentials/credentials.json").path == "/srv/data/ana/BackblazeCredentials/credentials.json")
        #expect(try area.resolve("team/x.csv").path == "/srv/data/team/x.csv")
        #expect(throws: StorageError.self) { try area.resolve(".my/../bob/secret") }
        #expect(DataArea.defaultRoot(environment: ["HOME": "/home/ana"]).path == "/home/ana/.local/share/bucketflow/data")
        #expect(DataArea.defaultRoot(environment: ["BUCKETFLOW_DATA_DIR": "/d"]).path == "/d")
    }
}
