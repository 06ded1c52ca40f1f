import Foundation
import XCTest
import B2
import Storage
import Synchronization

/// The B2 provider against the test front over b2sdk's RawSimulator
/// (`scripts/b2-test-server`), cross-checked with the real b2 CLI.
final class B2StorageTests: XCTestCase {
    var server: B2TestServer!
    var storages: [B2Storage] = []
    var buckets: [(B2Storage, String)] = []

    override func setUpWithError() throws {
        server = try B2TestServer.fromEnvironment()
    }

    override func tearDown() async throws {
        for (storage, bucket) in buckets {
            if let objects = try? await storage.listAll(bucket: bucket, prefix: "") {
                _ = try? await storage.delete(bucket: bucket, keys: objects.map(\.key))
            }
            try? await storage.deleteBucket(bucket)
        }
        for storage in storages { try? await storage.shutdown() }
    }

    func makeStorage(largeFileThreshold: Int64? = nil, partSize: Int64? = nil, adjust: (inout B2Configuration) -> Void = { _ in }) throws -> B2Storage {
        let storage = try server.storage(largeFileThreshold: largeFileThreshold, partSize: partSize, adjust: adjust)
        storages.append(storage)
        return storage
    }

    func makeBucket(_ storage: B2Storage, _ tag: String) async throws -> String {
        let bucket = B2TestServer.bucketName(tag)
        try await storage.createBucket(bucket)
        buckets.append((storage, bucket))
        return bucket
    }

    func assertStorageError<T>(_ code: StorageError.Code, _ body: () async throws -> T, file: StaticString = #filePath, line: UInt = #line) async -> StorageError? {
        do {
            _ = try await body()
            XCTFail("expected \(code), got success", file: file, line: line)
        } catch let error as StorageError {
            XCTAssertEqual(error.code, code, "\(error)", file: file, line: line)
            return error
        } catch {
            XCTFail("expected \(code), got \(error)", file: file, line: line)
        }
        return nil
    }

    // MARK: - Buckets

    func testBucketsCreateListDeleteAndNonEmptyRefused() async throws {
        let storage = try makeStorage()
        let scratch = try Scratch()
        let bucket = try await makeBucket(storage, "buckets")
        let listed = try await storage.listBuckets().map(\.name)
        XCTAssertTrue(listed.contains(bucket), "\(listed)")
        let exists = try await storage.bucketExists(bucket)
        XCTAssertTrue(exists)
        let missing = try await storage.bucketExists(bucket + "-missing")
        XCTAssertFalse(missing)
        _ = await assertStorageError(.bucketAlreadyExists) { try await storage.createBucket(bucket) }

        _ = try await storage.upload(from: try scratch.file("a.txt", Data("a".utf8)), bucket: bucket, key: "a.txt", options: PutOptions())
        let notEmpty = await assertStorageError(.bucketNotEmpty) { try await storage.deleteBucket(bucket) }
        XCTAssertNotNil(notEmpty?.hint)

        let failures = try await storage.delete(bucket: bucket, keys: ["a.txt", "never-existed.txt"])
        XCTAssertEqual(failures, [])
        try await storage.deleteBucket(bucket)
        buckets.removeAll { $0.1 == bucket }
        let after = try await storage.bucketExists(bucket)
        XCTAssertFalse(after)
        _ = await assertStorageError(.noSuchBucket) { try await storage.deleteBucket(bucket) }
        _ = await assertStorageError(.noSuchBucket) { try await storage.head(bucket: bucket, key: "a.txt") }
    }

    // MARK: - Objects

    static let awkwardKeys = [
        "plain.txt", "dir/with space.txt", "dir/ünïcödé-日本.txt", "dir/sub/a+b.txt", "dir/sub/100%.txt",
        "dir/sub/q?&=#.txt", "top+plus %20 literal.txt", "dir/sub/deeper/x",
    ]

    func testPutGetListAwkwardNamesAndPagination() async throws {
        let storage = try makeStorage()
        let scratch = try Scratch()
        let bucket = try await makeBucket(storage, "objects")
        for (index, key) in Self.awkwardKeys.enumerated() {
            let data = Data("contents of \(key) #\(index)".utf8)
            let source = try scratch.file("src-\(index)", data)
            let result = try await storage.upload(from: source, bucket: bucket, key: key, options: PutOptions(metadata: ["Origin": "test \(index) ü"]))
            XCTAssertEqual(result.bytes, Int64(data.count))
            XCTAssertEqual(result.checksums["sha1"], try B2TestServer.sha1(of: source))
            let info = try await storage.head(bucket: bucket, key: key)
            XCTAssertEqual(info.key, key)
            XCTAssertEqual(info.size, Int64(data.count))
            XCTAssertEqual(info.checksums["sha1"], result.checksums["sha1"])
            XCTAssertEqual(info.metadata["origin"], "test \(index) ü")
            XCTAssertNotNil(info.lastModified)

            let destination = scratch.path("dl-\(index)")
            let downloaded = try await storage.download(bucket: bucket, key: key, to: destination)
            XCTAssertEqual(try Data(contentsOf: destination), data, key)
            XCTAssertEqual(downloaded.checksums["sha1"], result.checksums["sha1"])
            let read = try await storage.read(bucket: bucket, key: key, range: nil).collect()
            XCTAssertEqual(read, data, key)
            let part = try await storage.read(bucket: bucket, key: key, range: 3..<9).collect()
            XCTAssertEqual(part, data.subdata(in: 3..<9), key)
            let pastEnd = try await storage.read(bucket: bucket, key: key, range: 5..<10_000).collect()
            XCTAssertEqual(pastEnd, data.subdata(in: 5..<data.count), "a range past the end stops at the end")
        }
        XCTAssertEqual(try scratch.leftovers(), [])
        _ = await assertStorageError(.noSuchKey) { try await storage.head(bucket: bucket, key: "dir/missing") }
        _ = await assertStorageError(.noSuchKey) { try await storage.download(bucket: bucket, key: "dir/missing", to: scratch.path("missing")) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.path("missing").path))

        // Prefix + delimiter: files directly under dir/, and dir/sub/ rolled up.
        let page = try await storage.listPage(bucket: bucket, prefix: "dir/", delimiter: "/", continuationToken: nil, maxKeys: 1000)
        XCTAssertEqual(page.objects.map(\.key), ["dir/with space.txt", "dir/ünïcödé-日本.txt"])
        XCTAssertEqual(page.commonPrefixes, ["dir/sub/"])
        XCTAssertFalse(page.isTruncated)
        let top = try await storage.listPage(bucket: bucket, prefix: "", delimiter: "/", continuationToken: nil, maxKeys: 1000)
        XCTAssertEqual(top.objects.map(\.key), ["plain.txt", "top+plus %20 literal.txt"])
        XCTAssertEqual(top.commonPrefixes, ["dir/"])

        // Pagination: two at a time, with and without a delimiter.
        var keys: [String] = []
        var token: String? = nil
        var pages = 0
        repeat {
            let page = try await storage.listPage(bucket: bucket, prefix: "", delimiter: nil, continuationToken: token, maxKeys: 2)
            XCTAssertLessThanOrEqual(page.objects.count, 2)
            keys += page.objects.map(\.key)
            token = page.isTruncated ? page.nextContinuationToken : nil
            pages += 1
        } while token != nil
        XCTAssertEqual(keys, Self.awkwardKeys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
        XCTAssertGreaterThanOrEqual(pages, 4)
        var entries: [String] = []
        token = nil
        repeat {
            let page = try await storage.listPage(bucket: bucket, prefix: "dir/", delimiter: "/", continuationToken: token, maxKeys: 1)
            entries += page.objects.map(\.key) + page.commonPrefixes
            token = page.isTruncated ? page.nextContinuationToken : nil
        } while token != nil
        XCTAssertEqual(entries, ["dir/sub/", "dir/with space.txt", "dir/ünïcödé-日本.txt"])

        // Copy and delete.
        let copied = try await storage.copy(fromBucket: bucket, fromKey: "dir/sub/a+b.txt", toBucket: bucket, toKey: "copies/a+b copy.txt")
        let original = try await storage.head(bucket: bucket, key: "dir/sub/a+b.txt")
        XCTAssertEqual(copied.checksums["sha1"], original.checksums["sha1"])
        let copiedRead = try await storage.read(bucket: bucket, key: "copies/a+b copy.txt", range: nil).collect()
        XCTAssertEqual(copiedRead, Data("contents of dir/sub/a+b.txt #3".utf8))
        let failures = try await storage.delete(bucket: bucket, keys: Self.awkwardKeys + ["copies/a+b copy.txt"])
        XCTAssertEqual(failures, [])
        let left = try await storage.listAll(bucket: bucket, prefix: "")
        XCTAssertEqual(left.map(\.key), [])
    }

    func testDeleteRemovesEveryVersion() async throws {
        let storage = try makeStorage()
        let scratch = try Scratch()
        let bucket = try await makeBucket(storage, "versions")
        for round in 0..<3 {
            _ = try await storage.upload(from: try scratch.file("v\(round)", Data("version \(round)".utf8)), bucket: bucket, key: "same", options: PutOptions())
        }
        let latest = try await storage.read(bucket: bucket, key: "same", range: nil).collect()
        XCTAssertEqual(latest, Data("version 2".utf8))
        let failures = try await storage.delete(bucket: bucket, keys: ["same"])
        XCTAssertEqual(failures, [])
        // Every version gone: the bucket can be deleted.
        try await storage.deleteBucket(bucket)
        buckets.removeAll { $0.1 == bucket }
    }

    func testFolderMarkerAndFriendlyURL() async throws {
        let storage = try makeStorage()
        let bucket = try await makeBucket(storage, "folders")
        XCTAssertEqual(B2Storage.folderMarkerKey(for: "photos"), "photos/.bzEmpty")
        XCTAssertEqual(B2Storage.folderMarkerKey(for: "photos/"), "photos/.bzEmpty")
        XCTAssertTrue(B2Storage.isFolderMarker("a/b/.bzEmpty"))
        XCTAssertFalse(B2Storage.isFolderMarker("a/b/x.bzEmpty"))
        try await storage.createFolder(bucket: bucket, folder: "photos")
        let info = try await storage.head(bucket: bucket, key: "photos/.bzEmpty")
        XCTAssertEqual(info.size, 0)
        let page = try await storage.listPage(bucket: bucket, prefix: "", delimiter: "/", continuationToken: nil, maxKeys: 100)
        XCTAssertEqual(page.commonPrefixes, ["photos/"])
        let url = try await storage.friendlyURL(bucket: bucket, key: "dir/a b+c.txt")
        XCTAssertEqual(url, "\(server.endpoint)/file/\(bucket)/dir/a%20b%2Bc.txt")
    }

    // MARK: - Large files

    func testLargeFileRoundTripRangesAndCopies() async throws {
        let storage = try makeStorage(largeFileThreshold: 5_000_000, partSize: 5_000_000) { $0.largeCopyThreshold = 5_000_000 }
        let scratch = try Scratch()
        let bucket = try await makeBucket(storage, "large")
        let data = Scratch.bytes(12_000_000, seed: 42)
        let source = try scratch.file("large.bin", data)
        let expectedSHA1 = try B2TestServer.sha1(of: source)
        let before = try server.stats()
        let uploaded = try await storage.upload(from: source, bucket: bucket, key: "big/large file.bin", options: PutOptions(contentType: "application/x-test"))
        let after = try server.stats()
        XCTAssertEqual(uploaded.checksums["sha1"], expectedSHA1)
        XCTAssertEqual(uploaded.bytes, 12_000_000)
        XCTAssertEqual((after["b2_upload_part"] ?? 0) - (before["b2_upload_part"] ?? 0), 3, "12 MB in 5 MB parts")
        XCTAssertEqual((after["b2_finish_large_file"] ?? 0) - (before["b2_finish_large_file"] ?? 0), 1)

        let info = try await storage.head(bucket: bucket, key: "big/large file.bin")
        XCTAssertEqual(info.size, 12_000_000)
        XCTAssertEqual(info.checksums["sha1"], expectedSHA1, "large_file_sha1 surfaces as the sha1")
        XCTAssertEqual(info.contentType, "application/x-test")
        XCTAssertNil(info.metadata["large_file_sha1"])

        let destination = scratch.path("large.out")
        let downloaded = try await storage.download(bucket: bucket, key: "big/large file.bin", to: destination, known: info)
        XCTAssertEqual(downloaded.checksums["sha1"], expectedSHA1)
        XCTAssertEqual(try Data(contentsOf: destination), data)

        // A range across the part boundary at 5,000,000.
        let range: Range<Int64> = 4_999_990..<5_000_020
        let slice = try await storage.read(bucket: bucket, key: "big/large file.bin", range: range).collect()
        XCTAssertEqual(slice, data.subdata(in: 4_999_990..<5_000_020))
        let tail = try await storage.read(bucket: bucket, key: "big/large file.bin", range: 11_999_000..<12_000_000).collect()
        XCTAssertEqual(tail, data.subdata(in: 11_999_000..<12_000_000))

        // Copy above largeCopyThreshold: b2_copy_part in 5 MB parts.
        let copyBefore = try server.stats()
        let copied = try await storage.copy(fromBucket: bucket, fromKey: "big/large file.bin", toBucket: bucket, toKey: "big/copy.bin")
        let copyAfter = try server.stats()
        XCTAssertEqual((copyAfter["b2_copy_part"] ?? 0) - (copyBefore["b2_copy_part"] ?? 0), 3)
        XCTAssertEqual(copied.checksums["sha1"], expectedSHA1)
        let copyDestination = scratch.path("copy.out")
        let copyResult = try await storage.download(bucket: bucket, key: "big/copy.bin", to: copyDestination)
        XCTAssertEqual(copyResult.checksums["sha1"], expectedSHA1)
        XCTAssertEqual(try Data(contentsOf: copyDestination), data)
        XCTAssertEqual(try scratch.leftovers(), [])
    }

    func testCancellationMidUploadLeavesNoUnfinishedLargeFile() async throws {
        let storage = try makeStorage(largeFileThreshold: 5_000_000, partSize: 5_000_000) { $0.partConcurrency = 1 }
        let scratch = try Scratch()
        let bucket = try await makeBucket(storage, "cancel")
        let source = try scratch.file("big.bin", Scratch.bytes(40_000_000, seed: 7))
        // Every part takes at least 0.3 s, so the cancel lands mid-upload.
        try server.failNext("b2_upload_part", count: 8, delay: 0.3)
        defer { try? server.failNext("b2_upload_part", count: 0) }
        let startsBefore = try server.stats()["b2_start_large_file"] ?? 0
        let partsBefore = try server.stats()["b2_upload_part"] ?? 0
        let task = Task { try await storage.upload(from: source, bucket: bucket, key: "cancelled.bin", options: PutOptions()) }
        // Wait until the large file is started and a part went up.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let stats = try server.stats()
            if (stats["b2_start_large_file"] ?? 0) > startsBefore && (stats["b2_upload_part"] ?? 0) > partsBefore { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        task.cancel()
        do {
            _ = try await task.value
            XCTFail("the upload finished despite the cancellation (machine too fast for 8 parts?)")
        } catch is CancellationError {
        } catch {
            XCTFail("expected CancellationError, got \(error)")
        }
        let records = storage.cancelledLargeFiles.withLock { $0 }
        XCTAssertEqual(records.map(\.key), ["cancelled.bin"])
        XCTAssertEqual(records.map(\.succeeded), [true])
        // The real CLI sees no unfinished large file, and no file.
        let info = scratch.path("account.sqlite")
        let unfinished = try server.b2(["file", "large", "unfinished", "list", "b2://\(bucket)"], accountInfo: info)
        XCTAssertEqual(unfinished.trimmingCharacters(in: .whitespacesAndNewlines), "")
        let listed = try await storage.listAll(bucket: bucket, prefix: "")
        XCTAssertEqual(listed.map(\.key), [])
        // Nothing blocks deleting the bucket.
        try await storage.deleteBucket(bucket)
        buckets.removeAll { $0.1 == bucket }
    }

    // MARK: - Authorization

    func testExpiredTokenIsReauthorizedOnce() async throws {
        let storage = try makeStorage()
        let scratch = try Scratch()
        let bucket = try await makeBucket(storage, "expiry")
        _ = try await storage.upload(from: try scratch.file("1", Data("one".utf8)), bucket: bucket, key: "one", options: PutOptions())
        let before = try server.stats()["b2_authorize_account"] ?? 0
        try server.expireTokens()
        // API call, pooled upload URL (expired too), and download all recover.
        let page = try await storage.listPage(bucket: bucket, prefix: "", delimiter: nil, continuationToken: nil, maxKeys: 10)
        XCTAssertEqual(page.objects.map(\.key), ["one"])
        _ = try await storage.upload(from: try scratch.file("2", Data("two".utf8)), bucket: bucket, key: "two", options: PutOptions())
        let read = try await storage.read(bucket: bucket, key: "two", range: nil).collect()
        XCTAssertEqual(read, Data("two".utf8))
        let after = try server.stats()["b2_authorize_account"] ?? 0
        XCTAssertEqual(after - before, 1, "one new authorization for all of them")

        try server.expireTokens()
        async let a = storage.head(bucket: bucket, key: "one")
        async let b = storage.head(bucket: bucket, key: "two")
        async let c = storage.listBuckets()
        _ = try await (a, b, c)
        let concurrent = try server.stats()["b2_authorize_account"] ?? 0
        XCTAssertEqual(concurrent - after, 1, "concurrent requests share one authorization")
    }

    func testWrongKeyIsInvalidCredentialsWithoutTheSecret() async throws {
        let secret = "K-wrong-secret-\(UUID().uuidString)"
        let storage = try server.storage(applicationKey: secret)
        storages.append(storage)
        let error = await assertStorageError(.invalidCredentials) { try await storage.listBuckets() }
        XCTAssertFalse(error?.description.contains(secret) ?? true)
        XCTAssertThrowsError(try B2Storage(configuration: B2Configuration(keyId: "x", applicationKey: "y", authorizationURL: URL(string: "http://example.com")!))) { error in
            XCTAssertEqual((error as? StorageError)?.code, .invalidConfiguration)
        }
    }

    func testRestrictedKeyStaysInsideItsBucketAndPrefix() async throws {
        let storage = try makeStorage()
        let scratch = try Scratch()
        let bucket = try await makeBucket(storage, "restricted")
        let other = try await makeBucket(storage, "other")
        let output = try server.b2(["key", "create", "--bucket", bucket, "--name-prefix", "allowed/", "limited",
                                    "listBuckets,listFiles,readFiles,writeFiles,deleteFiles"], accountInfo: scratch.path("account.sqlite"))
        let parts = output.split(whereSeparator: \.isWhitespace).map(String.init)
        XCTAssertEqual(parts.count, 2, output)
        let limited = try server.storage(keyID: parts[0], applicationKey: parts[1])
        storages.append(limited)
        let file = try scratch.file("x", Data("x".utf8))
        _ = try await limited.upload(from: file, bucket: bucket, key: "allowed/x", options: PutOptions())
        let listed = try await limited.listPage(bucket: bucket, prefix: "allowed/", delimiter: nil, continuationToken: nil, maxKeys: 10)
        XCTAssertEqual(listed.objects.map(\.key), ["allowed/x"])
        let buckets = try await limited.listBuckets().map(\.name)
        XCTAssertEqual(buckets, [bucket])
        let outside = await assertStorageError(.accessDenied) { try await limited.upload(from: file, bucket: bucket, key: "elsewhere/x", options: PutOptions()) }
        XCTAssertTrue(outside?.message.contains("allowed/") ?? false, "\(String(describing: outside))")
        let otherBucket = await assertStorageError(.accessDenied) { try await limited.head(bucket: other, key: "allowed/x") }
        XCTAssertTrue(otherBucket?.message.contains(bucket) ?? false)
        _ = await assertStorageError(.accessDenied) { try await limited.listPage(bucket: bucket, prefix: "", delimiter: nil, continuationToken: nil, maxKeys: 10) }
        let deleteFailures = try await limited.delete(bucket: bucket, keys: ["allowed/x"])
        XCTAssertEqual(deleteFailures, [])
        XCTAssertFalse(outside?.description.contains(parts[1]) ?? true)

        // A key that may read but not list: head falls back to a HEAD on the download URL.
        _ = try await storage.upload(from: file, bucket: bucket, key: "readable/r.txt", options: PutOptions(metadata: ["tag": "a b/ü"]))
        let readOnly = try server.b2(["key", "create", "--bucket", bucket, "readonly", "readFiles"], accountInfo: scratch.path("account.sqlite"))
            .split(whereSeparator: \.isWhitespace).map(String.init)
        let reader = try server.storage(keyID: readOnly[0], applicationKey: readOnly[1])
        storages.append(reader)
        let info = try await reader.head(bucket: bucket, key: "readable/r.txt")
        let listedInfo = try await storage.head(bucket: bucket, key: "readable/r.txt")
        XCTAssertEqual(info, listedInfo)
        _ = await assertStorageError(.noSuchKey) { try await reader.head(bucket: bucket, key: "readable/missing") }
        let bytes = try await reader.read(bucket: bucket, key: "readable/r.txt", range: nil).collect()
        XCTAssertEqual(bytes, Data("x".utf8))
    }

    // MARK: - Cross-checks with the real b2 CLI

    func testCLIDownloadsWhatBucketflowUploaded() async throws {
        let storage = try makeStorage(largeFileThreshold: 5_000_000, partSize: 5_000_000)
        let scratch = try Scratch()
        let bucket = try await makeBucket(storage, "cli-down")
        let account = scratch.path("account.sqlite")
        let files: [(String, Data)] = [
            ("small/ünï +%.txt", Data("small file for the cli ü".utf8)),
            ("large/twelve mb.bin", Scratch.bytes(12_000_000, seed: 99)),
        ]
        for (index, (key, data)) in files.enumerated() {
            let source = try scratch.file("up-\(index)", data)
            let result = try await storage.upload(from: source, bucket: bucket, key: key, options: PutOptions())
            XCTAssertEqual(result.checksums["sha1"], try B2TestServer.sha1(of: source))
            let out = scratch.path("cli-\(index)")
            try server.b2(["file", "download", "--no-progress", "b2://\(bucket)/\(key)", out.path], accountInfo: account)
            XCTAssertEqual(try Data(contentsOf: out), data, key)
        }
        let listing = try server.b2(["ls", "-r", "b2://\(bucket)"], accountInfo: account)
        XCTAssertEqual(Set(listing.split(separator: "\n").map(String.init)), Set(files.map(\.0)))
    }

    func testBucketflowDownloadsWhatTheCLIUploaded() async throws {
        let storage = try makeStorage()
        let scratch = try Scratch()
        let bucket = try await makeBucket(storage, "cli-up")
        let account = scratch.path("account.sqlite")
        let small = try scratch.file("small", Data("uploaded by the b2 cli".utf8))
        let large = try scratch.file("large", Scratch.bytes(11_000_000, seed: 5))
        try server.b2(["file", "upload", "--no-progress", bucket, small.path, "cli/small +ü.txt"], accountInfo: account)
        let partsBefore = try server.stats()["b2_upload_part"] ?? 0
        try server.b2(["file", "upload", "--no-progress", "--min-part-size", "5000000", "--threads", "2", bucket, large.path, "cli/large.bin"], accountInfo: account)
        XCTAssertGreaterThanOrEqual((try server.stats()["b2_upload_part"] ?? 0) - partsBefore, 2, "the CLI used the large-file API")
        for (key, source) in [("cli/small +ü.txt", small), ("cli/large.bin", large)] {
            let info = try await storage.head(bucket: bucket, key: key)
            let expected = try B2TestServer.sha1(of: source)
            XCTAssertEqual(info.checksums["sha1"], expected, "the CLI stores large_file_sha1 too")
            let out = scratch.path("out-\(source.lastPathComponent)")
            let result = try await storage.download(bucket: bucket, key: key, to: out)
            XCTAssertEqual(result.checksums["sha1"], expected)
            XCTAssertEqual(try Data(contentsOf: out), try Data(contentsOf: source))
        }
    }
}

/// Retries and upload-URL handling, with errors injected by the front.
final class B2RetryTests: XCTestCase {
    var server: B2TestServer!
    var storage: B2Storage!
    var bucket: String!
    var scratch: Scratch!

    override func setUp() async throws {
        server = try B2TestServer.fromEnvironment()
        storage = try server.storage(largeFileThreshold: 5_000_000, partSize: 5_000_000) { $0.partConcurrency = 1 }
        bucket = B2TestServer.bucketName("retry")
        try await storage.createBucket(bucket)
        scratch = try Scratch()
    }

    override func tearDown() async throws {
        guard let storage else { return }
        try? server.failNext("b2_list_file_names", count: 0)
        if let objects = try? await storage.listAll(bucket: bucket, prefix: "") {
            _ = try? await storage.delete(bucket: bucket, keys: objects.map(\.key))
        }
        try? await storage.deleteBucket(bucket)
        try? await storage.shutdown()
    }

    func testUploadTakesANewUploadURLAfter503And429() async throws {
        let file = try scratch.file("a", Data("retry me".utf8))
        try server.failNext("b2_upload_file", status: 503, count: 2)
        var result: TransferResult?
        let changes = try await server.delta(["b2_get_upload_url", "injected_b2_upload_file", "b2_upload_file"]) {
            result = try await storage.upload(from: file, bucket: bucket, key: "a", options: PutOptions())
        }
        XCTAssertEqual(changes["injected_b2_upload_file"], 2)
        XCTAssertEqual(changes["b2_upload_file"], 3)
        XCTAssertEqual(changes["b2_get_upload_url"], 3, "a failed upload URL is never used again")
        XCTAssertEqual(result?.checksums["sha1"], try B2TestServer.sha1(of: file))

        try server.failNext("b2_upload_file", status: 429, code: "too_many_requests", count: 1)
        let second = try await server.delta(["b2_get_upload_url", "injected_b2_upload_file"]) {
            _ = try await storage.upload(from: file, bucket: bucket, key: "b", options: PutOptions())
        }
        XCTAssertEqual(second["injected_b2_upload_file"], 1)
        XCTAssertEqual(second["b2_get_upload_url"], 1, "the pooled URL failed with 429, one new one")
        // A good URL goes back to the pool and is reused.
        let third = try await server.delta(["b2_get_upload_url"]) {
            _ = try await storage.upload(from: file, bucket: bucket, key: "c", options: PutOptions())
        }
        XCTAssertEqual(third["b2_get_upload_url"], 0)
    }

    func testPartUploadRetriesWithANewPartURL() async throws {
        let data = Scratch.bytes(12_000_000, seed: 3)
        let file = try scratch.file("large", data)
        try server.failNext("b2_upload_part", status: 503, count: 1)
        var result: TransferResult?
        let changes = try await server.delta(["b2_get_upload_part_url", "b2_upload_part", "injected_b2_upload_part"]) {
            result = try await storage.upload(from: file, bucket: bucket, key: "large", options: PutOptions())
        }
        XCTAssertEqual(changes["injected_b2_upload_part"], 1)
        XCTAssertEqual(changes["b2_upload_part"], 4)
        XCTAssertEqual(changes["b2_get_upload_part_url"], 2)
        XCTAssertEqual(result?.checksums["sha1"], try B2TestServer.sha1(of: file))
        let back = try await storage.read(bucket: bucket, key: "large", range: nil).collect()
        XCTAssertEqual(back, data)
    }

    func testAPIAndDownloadRetries() async throws {
        _ = try await storage.upload(from: try scratch.file("x", Data("x".utf8)), bucket: bucket, key: "x", options: PutOptions())
        try server.failNext("b2_list_file_names", status: 500, code: "internal_error", count: 2)
        let page = try await storage.listPage(bucket: bucket, prefix: "", delimiter: nil, continuationToken: nil, maxKeys: 10)
        XCTAssertEqual(page.objects.map(\.key), ["x"])
        try server.failNext("download_by_name", status: 503, count: 1)
        let destination = scratch.path("x.out")
        _ = try await storage.download(bucket: bucket, key: "x", to: destination)
        XCTAssertEqual(try Data(contentsOf: destination), Data("x".utf8))
        XCTAssertEqual(try scratch.leftovers(), [])
    }

    func testNonRetryableAndExhaustedErrors() async throws {
        try server.failNext("b2_list_file_names", status: 400, code: "bad_request", count: 1)
        let once = try await server.delta(["b2_list_file_names"]) {
            do {
                _ = try await storage.listPage(bucket: bucket, prefix: "", delimiter: nil, continuationToken: nil, maxKeys: 10)
                XCTFail("expected an error")
            } catch let error as StorageError {
                XCTAssertEqual(error.code, .other)
                XCTAssertFalse(error.isRetryable)
            }
        }
        XCTAssertEqual(once["b2_list_file_names"], 1, "a 400 is not retried")

        try server.failNext("b2_list_file_names", status: 503, count: 100)
        do {
            _ = try await storage.listPage(bucket: bucket, prefix: "", delimiter: nil, continuationToken: nil, maxKeys: 10)
            XCTFail("expected an error")
        } catch let error as StorageError {
            XCTAssertEqual(error.code, .transient)
            XCTAssertTrue(error.isRetryable)
            XCTAssertTrue(error.message.contains("after 4 attempts"), error.message)
            XCTAssertFalse(error.description.contains(server.applicationKey))
        }
        try server.failNext("b2_list_file_names", count: 0)

        // A server message that echoes the application key is scrubbed.
        try server.failNext("b2_list_file_names", status: 400, code: "bad_request", count: 1, message: "key \(server.applicationKey) rejected")
        do {
            _ = try await storage.listPage(bucket: bucket, prefix: "", delimiter: nil, continuationToken: nil, maxKeys: 10)
            XCTFail("expected an error")
        } catch let error as StorageError {
            XCTAssertFalse(error.description.contains(server.applicationKey), error.description)
            XCTAssertTrue(error.description.contains("[redacted]"), error.description)
        }
    }

    func testConcurrentUploadsNeverShareAnUploadURL() async throws {
        let files = try (0..<40).map { try scratch.file("f\($0)", Data("file \($0)".utf8)) }
        let changes = try await server.delta(["auth_token_limit", "b2_upload_file", "b2_get_upload_url"]) {
            let storage: B2Storage = self.storage
            let bucket: String = self.bucket
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, file) in files.enumerated() {
                    group.addTask { _ = try await storage.upload(from: file, bucket: bucket, key: "many/\(index)", options: PutOptions()) }
                }
                try await group.waitForAll()
            }
        }
        XCTAssertEqual(changes["auth_token_limit"], 0, "no upload URL was used by two uploads at once")
        XCTAssertEqual(changes["b2_upload_file"], 40)
        XCTAssertLessThanOrEqual(changes["b2_get_upload_url"] ?? 0, 40)
        let listed = try await storage.listAll(bucket: bucket, prefix: "many/")
        XCTAssertEqual(listed.count, 40)
    }
}

extension B2RetryTests {
    func testBrokenDownloadsResumeOrStartOver() async throws {
        let data = Scratch.bytes(3_000_000, seed: 17)
        _ = try await storage.upload(from: try scratch.file("r", data), bucket: bucket, key: "resume me.bin", options: PutOptions())
        // read(): the stream resumes from the next byte, pinned to the same
        // version by id (b2_download_file_by_id with a Range).
        try server.failNext("download_by_name", status: 0, code: "truncate", count: 1)
        var read = Data()
        let changes = try await server.delta(["b2_download_file_by_id", "injected_download_by_name"]) {
            read = try await storage.read(bucket: bucket, key: "resume me.bin", range: nil).collect()
        }
        XCTAssertEqual(read, data)
        XCTAssertEqual(changes["injected_download_by_name"], 1)
        XCTAssertEqual(changes["b2_download_file_by_id"], 1)
        // A range that breaks resumes inside the range.
        try server.failNext("download_by_name", status: 0, code: "truncate", count: 1)
        let part = try await storage.read(bucket: bucket, key: "resume me.bin", range: 1000..<2_500_000).collect()
        XCTAssertEqual(part, data.subdata(in: 1000..<2_500_000))
        // download(): starts over, verified, no leftovers.
        try server.failNext("download_by_name", status: 0, code: "truncate", count: 2)
        let destination = scratch.path("resumed.bin")
        let result = try await storage.download(bucket: bucket, key: "resume me.bin", to: destination)
        XCTAssertEqual(try Data(contentsOf: destination), data)
        XCTAssertEqual(result.checksums["sha1"], try B2TestServer.sha1(of: scratch.path("r")))
        XCTAssertEqual(try scratch.leftovers(), [])
    }
}
