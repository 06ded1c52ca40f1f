import Foundation
import AsyncHTTPClient
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Synchronization
import Testing
@testable import S3
import Storage
import HTTPTransport

/// One conformance suite, run against every real S3 server that
/// `scripts/s3-test-servers` started (moto with signature checking, and
/// `rclone serve s3`). Each test works in a fresh bucket of its own.
@Suite(.serialized, .enabled(if: S3TestServer.configured, S3TestServer.skipMessage))
struct S3ConformanceTests {
    static let servers = S3TestServer.all
    /// A space, each of `+ & = ! ' ( ) * , ; : @ $ % [ ] ~`, unicode and deep prefixes.
    static let awkwardKeys = [
        "with space.txt", "plus+sign", "amp&ersand", "eq=uals", "bang!", "quote'", "paren(s)", "star*", "comma,", "semi;colon",
        "colon:", "at@", "dollar$", "percent%25 and %", "brackets[x]", "tilde~", "all + & = ! ' ( ) * , ; : @ $ % [ ] ~ in one",
        "ünïcödé/日本語 ファイル.txt", "emoji 🪣.bin", "deep/a/b/c/d/e/f/g/h.txt",
    ]

    @Test(arguments: servers)
    func bucketsAreCreatedListedCheckedAndDeleted(server: S3TestServer) async throws {
        let storage = try server.storage()
        let bucket = "bf-life-\(UUID().uuidString.lowercased().prefix(12))"
        #expect(try await storage.bucketExists(bucket) == false)
        try await storage.createBucket(bucket)
        #expect(try await storage.bucketExists(bucket))
        #expect(try await storage.listBuckets().map(\.name).contains(bucket))
        await #expect(throws: StorageError.self) { try await storage.createBucket(bucket) }
        do {
            try await storage.createBucket(bucket)
        } catch let error as StorageError {
            #expect(error.code == .bucketAlreadyExists, "\(error)")
        }
        let scratch = try Scratch()
        _ = try await storage.upload(from: try scratch.text("x", "x"), bucket: bucket, key: "x", options: PutOptions())
        do {
            try await storage.deleteBucket(bucket)
            Issue.record("deleted a bucket that holds an object")
        } catch let error as StorageError {
            #expect(error.code == .bucketNotEmpty, "\(error)")
        }
        #expect(try await storage.delete(bucket: bucket, keys: ["x"]).isEmpty)
        try await storage.deleteBucket(bucket)
        #expect(try await storage.bucketExists(bucket) == false)
        try await storage.shutdown()
    }

    @Test(arguments: servers)
    func awkwardKeysRoundTrip(server: S3TestServer) async throws {
        let scratch = try Scratch()
        try await server.withBucket { storage, bucket in
            for (index, key) in Self.awkwardKeys.enumerated() {
                let text = "content of \(key)"
                let source = try scratch.text("src\(index)", text)
                let put = try await storage.upload(from: source, bucket: bucket, key: key, options: PutOptions())
                #expect(put.checksums["md5"] == (try Scratch.md5(source)), "\(key)")
                let info = try await storage.head(bucket: bucket, key: key)
                #expect(info.size == Int64(text.utf8.count), "\(key)")
                #expect(info.etag == put.checksums["md5"], "\(key)")
                let destination = scratch.url("dst\(index)")
                let got = try await storage.download(bucket: bucket, key: key, to: destination)
                #expect(S3TestServer.sameContent(got, put), "\(key): \(got.checksums) vs \(put.checksums)")
                #expect(try String(contentsOf: destination, encoding: .utf8) == text, "\(key)")
            }
            let listed = try await storage.listAll(bucket: bucket, prefix: "").map(\.key)
            #expect(listed == Self.awkwardKeys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
            let top = try await storage.listPage(bucket: bucket, prefix: "", delimiter: "/", continuationToken: nil, maxKeys: 1000)
            #expect(top.commonPrefixes == ["deep/", "ünïcödé/"])
            #expect(top.objects.count == Self.awkwardKeys.count - 2)
            let deep = try await storage.listPage(bucket: bucket, prefix: "deep/a/", delimiter: "/", continuationToken: nil, maxKeys: 1000)
            #expect(deep.commonPrefixes == ["deep/a/b/"])
            #expect(deep.objects.isEmpty)
            let unicode = try await storage.listPage(bucket: bucket, prefix: "ünïcödé/", delimiter: "/", continuationToken: nil, maxKeys: 1000)
            #expect(unicode.objects.map(\.key) == ["ünïcödé/日本語 ファイル.txt"])
            // Server-side copies from and to awkward keys.
            for key in ["all + & = ! ' ( ) * , ; : @ $ % [ ] ~ in one", "ünïcödé/日本語 ファイル.txt"] {
                let copy = try await storage.copy(fromBucket: bucket, fromKey: key, toBucket: bucket, toKey: "copies/\(key)")
                #expect(copy.bytes == Int64("content of \(key)".utf8.count))
                #expect(try await storage.head(bucket: bucket, key: "copies/\(key)").etag == (try await storage.head(bucket: bucket, key: key)).etag)
            }
            let failures = try await storage.delete(bucket: bucket, keys: Self.awkwardKeys + ["never existed"])
            #expect(failures.isEmpty)
            #expect(try await storage.listAll(bucket: bucket, prefix: "").map(\.key).allSatisfy { $0.hasPrefix("copies/") })
        }
    }

    @Test(arguments: servers)
    func emptyObjectsFoldersMetadataRangesAndCopies(server: S3TestServer) async throws {
        let scratch = try Scratch()
        try await server.withBucket { storage, bucket in
            let empty = try await storage.upload(from: try scratch.text("empty", ""), bucket: bucket, key: "empty.bin", options: PutOptions())
            #expect(empty.checksums["md5"] == "d41d8cd98f00b204e9800998ecf8427e")
            #expect(try await storage.head(bucket: bucket, key: "empty.bin").size == 0)
            let got = try await storage.download(bucket: bucket, key: "empty.bin", to: scratch.url("empty-out"))
            #expect(got.bytes == 0)
            #expect(try Data(contentsOf: scratch.url("empty-out")).isEmpty)
            var emptyRead: [UInt8] = []
            for try await chunk in try await storage.read(bucket: bucket, key: "empty.bin", range: nil) { emptyRead += chunk }
            #expect(emptyRead.isEmpty)

            if server.keepsFolderMarkers {
                _ = try await storage.upload(from: try scratch.text("marker", ""), bucket: bucket, key: "folder/", options: PutOptions())
                #expect(try await storage.head(bucket: bucket, key: "folder/").contentType == "application/x-directory")
            }
            _ = try await storage.upload(from: try scratch.text("inner", "i"), bucket: bucket, key: "folder/inner.txt", options: PutOptions())
            let top = try await storage.listPage(bucket: bucket, prefix: "", delimiter: "/", continuationToken: nil, maxKeys: 1000)
            #expect(top.commonPrefixes == ["folder/"])
            let inside = try await storage.listPage(bucket: bucket, prefix: "folder/", delimiter: "/", continuationToken: nil, maxKeys: 1000)
            #expect(inside.objects.map(\.key) == (server.keepsFolderMarkers ? ["folder/", "folder/inner.txt"] : ["folder/inner.txt"]))

            let source = try scratch.text("doc", "{\"ok\": true}")
            _ = try await storage.upload(from: source, bucket: bucket, key: "doc.json", options: PutOptions(contentType: "application/json", metadata: ["Owner": "team"]))
            let info = try await storage.head(bucket: bucket, key: "doc.json")
            #expect(info.contentType == "application/json")
            #expect(info.size == 12)
            #expect(info.lastModified.map { abs($0.timeIntervalSinceNow) < 600 } == true)
            if server.keepsMetadata { #expect(info.metadata == ["owner": "team"]) }
            #expect(try await storage.head(bucket: bucket, key: "empty.bin").contentType == "application/octet-stream")

            let copy = try await storage.copy(fromBucket: bucket, fromKey: "doc.json", toBucket: bucket, toKey: "copy of/doc+1.json")
            #expect(copy.bytes == 12)
            let copied = try await storage.head(bucket: bucket, key: "copy of/doc+1.json")
            #expect(copied.contentType == "application/json")
            if server.keepsMetadata { #expect(copied.metadata == ["owner": "team"]) }

            var bytes: [UInt8] = []
            for try await chunk in try await storage.read(bucket: bucket, key: "copy of/doc+1.json", range: 1..<5) { bytes += chunk }
            #expect(String(decoding: bytes, as: UTF8.self) == "\"ok\"")
            bytes = []
            for try await chunk in try await storage.read(bucket: bucket, key: "doc.json", range: nil) { bytes += chunk }
            #expect(String(decoding: bytes, as: UTF8.self) == "{\"ok\": true}")
        }
    }

    @Test(arguments: servers)
    func aMultipartObjectOf64MiBRoundTripsInPartsAndRanges(server: S3TestServer) async throws {
        let scratch = try Scratch()
        let source = try scratch.file("big.bin", bytes: 64 << 20)
        try await server.withBucket(configure: { $0.multipartThreshold = 8 << 20; $0.partSize = 5 << 20 }) { storage, bucket in
            let metrics = TransferMetrics()
            let put = try await TransferMetrics.$current.withValue(metrics) {
                try await storage.upload(from: source, bucket: bucket, key: "big/object.bin", options: PutOptions())
            }
            #expect(put.bytes == 64 << 20)
            #expect(metrics.requests == 1 + 13 + 1)  // create, 13 parts of 5 MiB, complete
            #expect(metrics.retries == 0)
            #expect(storage.abortedUploads.withLock { $0.isEmpty })
            #expect(try await storage.listMultipartUploads(bucket: bucket).isEmpty)
            let info = try await storage.head(bucket: bucket, key: "big/object.bin")
            #expect(info.size == 64 << 20)

            let destination = scratch.url("big-out.bin")
            let downloadMetrics = TransferMetrics()
            let got = try await TransferMetrics.$current.withValue(downloadMetrics) {
                try await storage.download(bucket: bucket, key: "big/object.bin", to: destination, known: info)
            }
            #expect(got.bytes == 64 << 20)
            #expect(downloadMetrics.requests == 13)  // ranged GETs, no HEAD (size and ETag known)
            #expect(try Scratch.sha256(destination) == Scratch.sha256(source))
            #expect(try scratch.contents() == ["big-out.bin", "big.bin"])

            // The same object in one GET (threshold above its size) verifies the same bytes.
            let single = try server.storage { $0.multipartThreshold = 128 << 20 }
            _ = try await single.download(bucket: bucket, key: "big/object.bin", to: scratch.url("single.bin"))
            #expect(try Scratch.sha256(scratch.url("single.bin")) == Scratch.sha256(source))
            try await single.shutdown()
        }
    }

    /// Copies beyond the CopyObject limit (5 GiB; lowered here) go in
    /// UploadPartCopy parts and keep type, metadata and bytes.
    @Test(arguments: servers)
    func largeCopiesGoInServerSideParts(server: S3TestServer) async throws {
        let scratch = try Scratch()
        let source = try scratch.file("copy.bin", bytes: 12 << 20 + 7, seed: 9)
        try await server.withBucket(configure: { $0.multipartCopyThreshold = 8 << 20; $0.copyPartSize = 5 << 20; $0.partSize = 5 << 20 }) { storage, bucket in
            _ = try await storage.upload(from: source, bucket: bucket, key: "from/copy.bin", options: PutOptions(contentType: "application/x-test", metadata: ["k": "v"]))
            guard server.supportsUploadPartCopy else {
                do {
                    _ = try await storage.copy(fromBucket: bucket, fromKey: "from/copy.bin", toBucket: bucket, toKey: "copy (1).bin")
                    Issue.record("\(server.name) is marked as not supporting UploadPartCopy, but the copy succeeded")
                } catch let error as StorageError {
                    #expect(error.code == .notSupported, "\(error)")
                }
                #expect(storage.abortedUploads.withLock { $0.map(\.succeeded) } == [true])
                #expect(try await storage.listMultipartUploads(bucket: bucket).isEmpty)
                return
            }
            let metrics = TransferMetrics()
            let copy = try await TransferMetrics.$current.withValue(metrics) {
                try await storage.copy(fromBucket: bucket, fromKey: "from/copy.bin", toBucket: bucket, toKey: "copy (1).bin")
            }
            #expect(copy.bytes == 12 << 20 + 7)
            #expect(metrics.requests == 1 + 1 + 3 + 1)  // HEAD, create, 3 UploadPartCopy, complete
            let info = try await storage.head(bucket: bucket, key: "copy (1).bin")
            #expect(info.size == 12 << 20 + 7)
            #expect(info.contentType == "application/x-test")
            if server.keepsMetadata { #expect(info.metadata == ["k": "v"]) }
            _ = try await storage.download(bucket: bucket, key: "copy (1).bin", to: scratch.url("copied.bin"))
            #expect(try Scratch.sha256(scratch.url("copied.bin")) == Scratch.sha256(source))
            #expect(try await storage.listMultipartUploads(bucket: bucket).isEmpty)
        }
    }

    @Test(arguments: servers)
    func aMidSizedObjectStreamsFromDiskInOnePut(server: S3TestServer) async throws {
        let scratch = try Scratch()
        let source = try scratch.file("mid.bin", bytes: 12 << 20 + 12345, seed: 7)
        try await server.withBucket { storage, bucket in
            let metrics = TransferMetrics()
            let put = try await TransferMetrics.$current.withValue(metrics) {
                try await storage.upload(from: source, bucket: bucket, key: "mid.bin", options: PutOptions())
            }
            #expect(metrics.requests == 1)
            #expect(put.checksums["md5"] == (try Scratch.md5(source)))
            #expect(try await storage.head(bucket: bucket, key: "mid.bin").etag == put.checksums["md5"])
            let got = try await storage.download(bucket: bucket, key: "mid.bin", to: scratch.url("mid-out.bin"))
            #expect(S3TestServer.sameContent(got, put), "\(got.checksums) vs \(put.checksums)")
        }
    }

    @Test(arguments: servers)
    func listingsOf2500ObjectsPageThroughAndRollUp(server: S3TestServer) async throws {
        let scratch = try Scratch()
        let source = try scratch.text("one", "1")
        try await server.withBucket { storage, bucket in
            let keys = (0..<2500).map { String(format: "many/%@/%04d.txt", $0 < 2000 ? "a" : "b", $0) }
            _ = try await concurrently(count: 25, limit: 25) { chunk in
                for key in keys[(chunk * 100)..<((chunk + 1) * 100)] {
                    _ = try await storage.upload(from: source, bucket: bucket, key: key, options: PutOptions())
                }
            }
            var pages: [Int] = []
            var token: String?
            var listed: [String] = []
            repeat {
                let page = try await storage.listPage(bucket: bucket, prefix: "many/", delimiter: nil, continuationToken: token, maxKeys: 1000)
                listed += page.objects.map(\.key)
                pages.append(page.objects.count)
                token = page.isTruncated ? page.nextContinuationToken : nil
            } while token != nil
            #expect(pages == [1000, 1000, 500])
            #expect(listed == keys)
            #expect(try await storage.listAll(bucket: bucket, prefix: "many/b/").count == 500)
            let rolled = try await storage.listPage(bucket: bucket, prefix: "many/", delimiter: "/", continuationToken: nil, maxKeys: 1000)
            #expect(rolled.commonPrefixes == ["many/a/", "many/b/"])
            #expect(rolled.objects.isEmpty)
            #expect(rolled.isTruncated == false)
            let metrics = TransferMetrics()
            let failures = try await TransferMetrics.$current.withValue(metrics) { try await storage.delete(bucket: bucket, keys: keys) }
            #expect(failures.isEmpty)
            #expect(metrics.requests == 3)  // DeleteObjects in batches of 1000
            #expect(try await storage.listAll(bucket: bucket, prefix: "many/").isEmpty)
        }
    }

    @Test(arguments: servers)
    func aWrongSecretFailsClearlyAfterOneRequest(server: S3TestServer) async throws {
        let wrongSecret = "definitely-not-the-secret-\(UUID().uuidString)"
        let storage = try server.storage(secret: wrongSecret) { $0.maxAttempts = 5 }
        let metrics = TransferMetrics()
        do {
            _ = try await TransferMetrics.$current.withValue(metrics) { try await storage.listBuckets() }
            Issue.record("a wrong secret was accepted: signature checking is off on \(server.name)")
        } catch let error as StorageError {
            #expect(error.code == .signatureMismatch, "\(error)")
            #expect(error.description.contains("SignatureDoesNotMatch"))
            #expect(error.hint == "check the secret key and the region (us-east-1)")
            #expect(!error.description.contains(wrongSecret))
            #expect(!error.description.contains(server.secretKey))
            #expect(!"\(error)".contains("Signature="))
        }
        #expect(metrics.requests == 1)
        #expect(metrics.retries == 0)
        try await storage.shutdown()
    }

    @Test(arguments: servers)
    func aMissingBucketIsNamed(server: S3TestServer) async throws {
        let storage = try server.storage()
        let scratch = try Scratch()
        let missing = "bf-missing-\(UUID().uuidString.lowercased().prefix(8))"
        func expectNoSuchBucket(_ what: String, _ operation: () async throws -> Void) async {
            do {
                try await operation()
                Issue.record("\(what) in a missing bucket succeeded")
            } catch let error as StorageError {
                #expect(error.code == .noSuchBucket, "\(what): \(error)")
                #expect(error.message.contains(missing), "\(what): \(error)")
                #expect(error.hint?.contains("create-bucket") == true, "\(what): \(error)")
            } catch {
                Issue.record("\(what): \(error)")
            }
        }
        await expectNoSuchBucket("listing") { _ = try await storage.listPage(bucket: missing, prefix: "", delimiter: nil, continuationToken: nil, maxKeys: 10) }
        await expectNoSuchBucket("head") { _ = try await storage.head(bucket: missing, key: "k") }
        await expectNoSuchBucket("upload") { _ = try await storage.upload(from: try scratch.text("x", "x"), bucket: missing, key: "k", options: PutOptions()) }
        await expectNoSuchBucket("download") { _ = try await storage.download(bucket: missing, key: "k", to: scratch.url("out")) }
        await expectNoSuchBucket("delete-bucket") { try await storage.deleteBucket(missing) }
        #expect(try scratch.contents() == ["x"])
        try await storage.shutdown()
    }

    @Test(arguments: servers)
    func aMissingKeyFailsAndLeavesNothingBehind(server: S3TestServer) async throws {
        let scratch = try Scratch()
        try await server.withBucket { storage, bucket in
            do {
                _ = try await storage.download(bucket: bucket, key: "no such/key.txt", to: scratch.url("nope.txt"))
                Issue.record("downloaded a missing key")
            } catch let error as StorageError {
                #expect(error.code == .noSuchKey)
                #expect(error.message == "\(bucket)/no such/key.txt does not exist (NoSuchKey)")
            }
            #expect(try await storage.headIfExists(bucket: bucket, key: "no such/key.txt") == nil)
            // Known metadata that no longer matches (the object changed since
            // it was listed): the GET fails and nothing is written.
            _ = try await storage.upload(from: try scratch.text("v1", "version one"), bucket: bucket, key: "changing.txt", options: PutOptions())
            var stale = try await storage.head(bucket: bucket, key: "changing.txt")
            stale.etag = "0123456789abcdef0123456789abcdef"
            await #expect(throws: StorageError.self) {
                _ = try await storage.download(bucket: bucket, key: "changing.txt", to: scratch.url("changing.txt"), known: stale)
            }
            #expect(try scratch.contents() == ["v1"])
        }
    }

    @Test(arguments: servers)
    func cancellingAMultipartUploadAbortsIt(server: S3TestServer) async throws {
        let scratch = try Scratch()
        let source = try scratch.file("cancel.bin", bytes: 40 << 20)
        try await server.withBucket(configure: { $0.multipartThreshold = 5 << 20; $0.partSize = 5 << 20; $0.partConcurrency = 1 }) { storage, bucket in
            let metrics = TransferMetrics()
            let task = Task {
                try await TransferMetrics.$current.withValue(metrics) {
                    try await storage.upload(from: source, bucket: bucket, key: "cancelled.bin", options: PutOptions())
                }
            }
            // Cancel once the upload exists and parts are on their way.
            for _ in 0..<5000 where metrics.requests < 3 { try await Task.sleep(for: .milliseconds(1)) }
            task.cancel()
            let outcome = await task.result
            #expect(throws: CancellationError.self) { try outcome.get() }
            let aborted = storage.abortedUploads.withLock { $0 }
            #expect(aborted.count == 1)
            #expect(aborted.first?.succeeded == true)
            #expect(aborted.first?.key == "cancelled.bin")
            do {
                let uploads = try await storage.listMultipartUploads(bucket: bucket)
                #expect(uploads.isEmpty)
            }
            #expect(try await storage.headIfExists(bucket: bucket, key: "cancelled.bin") == nil)
        }
    }

    @Test(arguments: servers)
    func aFailedMultipartUploadAbortsIt(server: S3TestServer) async throws {
        let scratch = try Scratch()
        let source = try scratch.file("fail.bin", bytes: 12 << 20)
        try await server.withBucket(configure: { $0.multipartThreshold = 5 << 20; $0.partSize = 5 << 20; $0.partConcurrency = 1 }) { storage, bucket in
            let metrics = TransferMetrics()
            let task = Task {
                try await TransferMetrics.$current.withValue(metrics) {
                    try await storage.upload(from: source, bucket: bucket, key: "failed.bin", options: PutOptions())
                }
            }
            // Truncate the file under the upload: reading a later part fails.
            for _ in 0..<5000 where metrics.requests < 1 { try await Task.sleep(for: .milliseconds(1)) }
            truncate(source.path, 3 << 20)
            do {
                _ = try await task.value
                Issue.record("an upload whose file shrank succeeded")
            } catch let error as StorageError {
                #expect(error.code == .io, "\(error)")
            }
            #expect(storage.abortedUploads.withLock { $0.map(\.succeeded) } == [true])
            #expect(try await storage.listMultipartUploads(bucket: bucket).isEmpty)
        }
    }

    @Test(arguments: servers)
    func aCancelledDownloadLeavesNoFile(server: S3TestServer) async throws {
        let scratch = try Scratch()
        let source = try scratch.file("src.bin", bytes: 40 << 20)
        try await server.withBucket(configure: { $0.multipartThreshold = 5 << 20; $0.partSize = 5 << 20; $0.partConcurrency = 1 }) { storage, bucket in
            _ = try await storage.upload(from: source, bucket: bucket, key: "src.bin", options: PutOptions())
            let info = try await storage.head(bucket: bucket, key: "src.bin")
            let destination = scratch.url("dst.bin")
            let metrics = TransferMetrics()
            let task = Task {
                try await TransferMetrics.$current.withValue(metrics) {
                    try await storage.download(bucket: bucket, key: "src.bin", to: destination, known: info)
                }
            }
            for _ in 0..<5000 where metrics.requests < 2 { try await Task.sleep(for: .milliseconds(1)) }
            task.cancel()
            switch await task.result {
            case .success:
                // Finished before the cancellation arrived: then it is whole.
                #expect(try Scratch.sha256(destination) == Scratch.sha256(source))
                #expect(try scratch.contents() == ["dst.bin", "src.bin"])
            case .failure(let error):
                #expect(error is CancellationError, "\(error)")
                #expect(try scratch.contents() == ["src.bin"])
            }
        }
    }

    @Test(arguments: servers)
    func readsStreamWithBackpressure(server: S3TestServer) async throws {
        let scratch = try Scratch()
        let source = try scratch.file("stream.bin", bytes: 3 << 20, seed: 3)
        try await server.withBucket { storage, bucket in
            _ = try await storage.upload(from: source, bucket: bucket, key: "stream.bin", options: PutOptions())
            var collected = Data()
            for try await chunk in try await storage.read(bucket: bucket, key: "stream.bin", range: 1000..<(2 << 20)) { collected.append(contentsOf: chunk) }
            let original = try Data(contentsOf: source)
            #expect(collected == original[1000..<(2 << 20)])
            do {
                _ = try await storage.read(bucket: bucket, key: "absent", range: nil)
                Issue.record("read a missing key")
            } catch let error as StorageError {
                #expect(error.code == .noSuchKey)
            }
        }
    }

    /// moto's signature check reads only the Authorization header (a
    /// presigned GET fails inside moto with KeyError 'HTTP_AUTHORIZATION'),
    /// so presigned URLs are checked on the servers that verify them.
    @Test(.enabled(if: servers.contains { $0.name != "moto" }, "no server that checks presigned URLs is configured"),
          arguments: servers.filter { $0.name != "moto" })
    func presignedURLsWork(server: S3TestServer) async throws {
        let scratch = try Scratch()
        try await server.withBucket { storage, bucket in
            _ = try await storage.upload(from: try scratch.text("p", "presigned"), bucket: bucket, key: "p q+r.txt", options: PutOptions())
            let url = storage.presignedURL(bucket: bucket, key: "p q+r.txt", expires: 300)
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 1 << 20)
            #expect(response.status.code == 200)
            #expect(String(buffer: body) == "presigned")
            let tampered = url.replacingOccurrences(of: "p%20q", with: "p%20z")
            let refused = try await HTTPClient.shared.execute(HTTPClientRequest(url: tampered), timeout: .seconds(30))
            _ = try await refused.body.collect(upTo: 1 << 20)
            #expect(refused.status.code == 403)
        }
    }

    /// Through a proxy that answers every third request with 503 SlowDown
    /// and kills every seventh connection mid-response:
    /// every transfer still completes, byte for byte, and the retries are counted.
    @Test(.enabled(if: S3TestServer.faulty != nil && S3TestServer.rclone != nil, "no fault proxy (scripts/s3-test-servers starts one)"))
    func retriedTransfersRestartCleanly() async throws {
        let server = try #require(S3TestServer.faulty)
        let scratch = try Scratch()
        let big = try scratch.file("big.bin", bytes: 23 << 20, seed: 5)  // multipart up, ranged down
        let mid = try scratch.file("mid.bin", bytes: 9 << 20, seed: 8)  // one PUT streamed from disk
        let small = try scratch.file("small.bin", bytes: 100_000, seed: 6)  // one PUT from memory
        // The bucket is made and removed directly on rclone: a CreateBucket or
        // DeleteBucket whose answer the proxy cut comes back, retried, as
        // BucketAlreadyExists / NoSuchBucket.
        let rclone = try #require(S3TestServer.rclone)
        try await rclone.withBucket { _, bucket in
            let storage = try server.storage { $0.multipartThreshold = 16 << 20; $0.partSize = 5 << 20; $0.maxAttempts = 10 }
            let metrics = TransferMetrics()
            let sources = [("big", big), ("mid-0", mid), ("mid-1", mid), ("mid-2", mid)] + (0..<6).map { ("small-\($0)", small) }
            try await TransferMetrics.$current.withValue(metrics) {
                for (key, source) in sources { _ = try await storage.upload(from: source, bucket: bucket, key: key, options: PutOptions()) }
                for (key, _) in sources { _ = try await storage.download(bucket: bucket, key: key, to: scratch.url("out-\(key)")) }
                #expect(try await storage.listAll(bucket: bucket, prefix: "").count == sources.count)
            }
            #expect(metrics.retries >= 10)  // one request in three is refused
            #expect(metrics.requests > metrics.retries)
            for (key, source) in sources {
                #expect(try Scratch.sha256(scratch.url("out-\(key)")) == Scratch.sha256(source), "\(key)")
            }
            #expect(storage.abortedUploads.withLock { $0.isEmpty })
            try await storage.shutdown()
        }
    }
}
