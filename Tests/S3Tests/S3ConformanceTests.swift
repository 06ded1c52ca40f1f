import Foundation
import Synchronization
import Testing
@testable import S3
import Storage

/// One suite, run against every real S3 server that scripts/s3-test-servers
/// started (moto with signature checking, `rclone serve s3`).
@Suite(.serialized) struct S3ConformanceTests {
    static let servers = S3TestServer.all
    static let awkwardKeys = [
        "with space.txt", "plus+sign", "amp&ersand", "eq=uals", "bang!", "quote'", "paren(s)", "star*", "comma,", "semi;colon",
        "colon:", "at@", "dollar$", "percent%25", "brackets[]", "tilde~", "ünïcödé/日本語.txt", "deep/a/b/c/d/e/f/g/h.txt",
    ]

    @Test(arguments: servers)
    func bucketsCanBeCreatedListedAndDeleted(server: S3TestServer) async throws {
        let storage = try server.storage()
        let bucket = "bf-life-\(UUID().uuidString.lowercased().prefix(12))"
        #expect(try await storage.bucketExists(bucket) == false)
        try await storage.createBucket(bucket)
        #expect(try await storage.bucketExists(bucket))
        #expect(try await storage.listBuckets().map(\.name).contains(bucket))
        try await storage.deleteBucket(bucket)
        #expect(try await storage.bucketExists(bucket) == false)
        try await storage.shutdown()
    }

    @Test(arguments: servers)
    func awkwardKeysRoundTrip(server: S3TestServer) async throws {
        let scratch = try Scratch()
        try await server.withBucket { storage, bucket in
            for (index, key) in Self.awkwardKeys.enumerated() {
                let source = try scratch.text("src\(index)", "content of \(key)")
                let put = try await storage.upload(from: source, bucket: bucket, key: key, options: PutOptions())
                #expect(put.checksums["md5"]?.count == 32)
                let info = try await storage.head(bucket: bucket, key: key)
                #expect(info.size == Int64("content of \(key)".utf8.count), "\(key)")
                let destination = scratch.url("dst\(index)")
                _ = try await storage.download(bucket: bucket, key: key, to: destination)
                #expect(try String(contentsOf: destination, encoding: .utf8) == "content of \(key)", "\(key)")
            }
            let listed = try await storage.listAll(bucket: bucket, prefix: "").map(\.key)
            #expect(Set(listed) == Set(Self.awkwardKeys))
            let deep = try await storage.listPage(bucket: bucket, prefix: "deep/a/", delimiter: "/", continuationToken: nil, maxKeys: 1000)
            #expect(deep.commonPrefixes == ["deep/a/b/"])
            let failures = try await storage.delete(bucket: bucket, keys: Self.awkwardKeys)
            #expect(failures.isEmpty)
            #expect(try await storage.listAll(bucket: bucket, prefix: "").isEmpty)
        }
    }

    @Test(arguments: servers)
    func emptyObjectsFoldersMetadataAndCopies(server: S3TestServer) async throws {
        let scratch = try Scratch()
        try await server.withBucket { storage, bucket in
            _ = try await storage.upload(from: try scratch.text("empty", ""), bucket: bucket, key: "empty.bin", options: PutOptions())
            #expect(try await storage.head(bucket: bucket, key: "empty.bin").size == 0)
            _ = try await storage.download(bucket: bucket, key: "empty.bin", to: scratch.url("empty-out"))
            #expect(try Data(contentsOf: scratch.url("empty-out")).isEmpty)
            _ = try await storage.upload(from: try scratch.text("marker", ""), bucket: bucket, key: "folder/", options: PutOptions())
            if server.name != "rclone" {  // rclone's local backend keeps no empty "folder/" objects
                let top = try await storage.listPage(bucket: bucket, prefix: "", delimiter: "/", continuationToken: nil, maxKeys: 1000)
                #expect(top.commonPrefixes == ["folder/"])
            }
            let source = try scratch.text("doc", "{\"ok\": true}")
            _ = try await storage.upload(from: source, bucket: bucket, key: "doc.json", options: PutOptions(contentType: "application/json", metadata: ["owner": "team"]))
            let info = try await storage.head(bucket: bucket, key: "doc.json")
            #expect(info.contentType == "application/json")
            if server.name != "rclone" {  // rclone's local backend keeps no user metadata (PEERS.md)
                #expect(info.metadata["owner"] == "team")
            }
            let copy = try await storage.copy(fromBucket: bucket, fromKey: "doc.json", toBucket: bucket, toKey: "copy of/doc+1.json")
            #expect(copy.bytes == 12)
            var bytes: [UInt8] = []
            for try await chunk in try await storage.read(bucket: bucket, key: "copy of/doc+1.json", range: 1..<5) { bytes += chunk }
            #expect(String(decoding: bytes, as: UTF8.self) == "\"ok\"")
        }
    }

    @Test(arguments: servers)
    func multipartObjectOf64MiBRoundTrips(server: S3TestServer) async throws {
        let scratch = try Scratch()
        let source = try scratch.file("big.bin", bytes: 64 << 20)
        try await server.withBucket(configure: { $0.multipartThreshold = 8 << 20; $0.partSize = 5 << 20 }) { storage, bucket in
            let metrics = TransferMetrics()
            let put = try await TransferMetrics.$current.withValue(metrics) {
                try await storage.upload(from: source, bucket: bucket, key: "big/object.bin", options: PutOptions())
            }
            #expect(put.bytes == 64 << 20)
            #expect(metrics.requests >= 15)  // create + 13 parts + complete
            if server.name == "moto" { #expect(try await storage.listMultipartUploads(bucket: bucket).isEmpty) }
            let destination = scratch.url("big-out.bin")
            let got = try await storage.download(bucket: bucket, key: "big/object.bin", to: destination)
            #expect(got.bytes == 64 << 20)
            #expect(try FileDigestForTests.sha256(destination) == FileDigestForTests.sha256(source))
        }
    }

    @Test(arguments: servers)
    func listingsOf2500ObjectsPageThrough(server: S3TestServer) async throws {
        let scratch = try Scratch()
        let source = try scratch.text("one", "1")
        try await server.withBucket { storage, bucket in
            let keys = (0..<2500).map { String(format: "many/%04d.txt", $0) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for chunk in stride(from: 0, to: keys.count, by: 125) {
                    group.addTask {
                        for key in keys[chunk..<min(chunk + 125, keys.count)] {
                            _ = try await storage.upload(from: source, bucket: bucket, key: key, options: PutOptions())
                        }
                    }
                }
                try await group.waitForAll()
            }
            var pages = 0
            var token: String?
            var listed: [String] = []
            repeat {
                let page = try await storage.listPage(bucket: bucket, prefix: "many/", delimiter: nil, continuationToken: token, maxKeys: 1000)
                listed += page.objects.map(\.key)
                token = page.isTruncated ? page.nextContinuationToken : nil
                pages += 1
            } while token != nil
            #expect(pages == 3)
            #expect(listed == keys)
            let failures = try await storage.delete(bucket: bucket, keys: keys)
            #expect(failures.isEmpty)
            #expect(try await storage.listAll(bucket: bucket, prefix: "many/").isEmpty)
        }
    }

    @Test(arguments: servers)
    func aWrongSecretFailsClearlyWithoutARetryStorm(server: S3TestServer) async throws {
        let wrongSecret = "definitely-not-the-secret-\(UUID().uuidString)"
        let storage = try server.storage(secret: wrongSecret)
        let metrics = TransferMetrics()
        do {
            _ = try await TransferMetrics.$current.withValue(metrics) { try await storage.listBuckets() }
            Issue.record("a wrong secret was accepted: signature checking is off on \(server.name)")
        } catch let error as StorageError {
            #expect(error.code == .signatureMismatch || error.code == .accessDenied || error.code == .invalidCredentials, "\(error)")
            #expect(!error.description.contains(wrongSecret))
            if error.code == .signatureMismatch { #expect(error.hint == "check the secret key and the region (us-east-1)") }
        }
        #expect(metrics.requests == 1)
        #expect(metrics.retries == 0)
        try await storage.shutdown()
    }

    @Test(arguments: servers)
    func aMissingBucketIsNamed(server: S3TestServer) async throws {
        let storage = try server.storage()
        let scratch = try Scratch()
        await #expect(throws: StorageError.self) {
            _ = try await storage.upload(from: try scratch.text("x", "x"), bucket: "bf-missing-bucket-\(UUID().uuidString.lowercased().prefix(8))", key: "k", options: PutOptions())
        }
        do {
            _ = try await storage.listPage(bucket: "bf-missing-bucket-zz", prefix: "", delimiter: nil, continuationToken: nil, maxKeys: 10)
            Issue.record("listing a missing bucket succeeded")
        } catch let error as StorageError {
            #expect(error.code == .noSuchBucket, "\(error)")
            #expect(error.message.contains("bf-missing-bucket-zz"))
        }
        await #expect(throws: StorageError.self) { _ = try await storage.head(bucket: "bf-missing-bucket-zz", key: "k") }
        try await storage.shutdown()
    }

    @Test(arguments: servers)
    func missingKeysAndFailedDownloadsLeaveNothingBehind(server: S3TestServer) async throws {
        let scratch = try Scratch()
        try await server.withBucket { storage, bucket in
            do {
                _ = try await storage.download(bucket: bucket, key: "nope.txt", to: scratch.url("nope.txt"))
                Issue.record("downloaded a missing key")
            } catch let error as StorageError {
                #expect(error.code == .noSuchKey)
                #expect(error.message == "\(bucket)/nope.txt does not exist (NoSuchKey)")
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.directory.path).isEmpty)
        }
    }

    @Test(arguments: servers)
    func cancellingAMultipartUploadAbortsIt(server: S3TestServer) async throws {
        let scratch = try Scratch()
        let source = try scratch.file("cancel.bin", bytes: 48 << 20)
        try await server.withBucket(configure: { $0.multipartThreshold = 5 << 20; $0.partSize = 5 << 20; $0.partConcurrency = 1 }) { storage, bucket in
            let metrics = TransferMetrics()
            let task = Task {
                try await TransferMetrics.$current.withValue(metrics) {
                    try await storage.upload(from: source, bucket: bucket, key: "cancelled.bin", options: PutOptions())
                }
            }
            // Cancel once the upload was created and a part is on its way.
            for _ in 0..<2000 where metrics.requests < 2 { try await Task.sleep(for: .milliseconds(2)) }
            task.cancel()
            _ = try? await task.value
            let aborted = storage.abortedUploads.withLock { $0 }
            #expect(aborted.count == 1)
            #expect(aborted.first?.succeeded == true)
            if server.name == "moto" {  // rclone cannot list multipart uploads
                #expect(try await storage.listMultipartUploads(bucket: bucket).isEmpty)
            }
            #expect(try await storage.headIfExists(bucket: bucket, key: "cancelled.bin") == nil)
        }
    }

    /// moto's signature checking handles the Authorization header only (a
    /// presigned GET fails inside moto with KeyError 'HTTP_AUTHORIZATION'),
    /// so presigned URLs are checked on rclone, which verifies them.
    @Test(arguments: servers.filter { $0.name != "moto" })
    func presignedURLsWork(server: S3TestServer) async throws {
        let scratch = try Scratch()
        try await server.withBucket { storage, bucket in
            _ = try await storage.upload(from: try scratch.text("p", "presigned"), bucket: bucket, key: "p q.txt", options: PutOptions())
            let url = URL(string: storage.presignedURL(bucket: bucket, key: "p q.txt", expires: 300))!
            let (data, response) = try await URLSessionLike.get(url)
            #expect(response == 200)
            #expect(String(decoding: data, as: UTF8.self) == "presigned")
        }
    }
}

import Crypto

enum FileDigestForTests {
    static func sha256(_ url: URL) throws -> String {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        var hasher = SHA256()
        while let data = try handle.read(upToCount: 1 << 20), !data.isEmpty { hasher.update(data: data) }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}

/// A plain GET through the system's curl-free path: a tiny HTTP/1.0 client
/// over a socket is overkill, so use async-http-client directly.
import AsyncHTTPClient
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

enum URLSessionLike {
    static func get(_ url: URL) async throws -> (Data, UInt) {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url.absoluteString), timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        return (Data(buffer: body), response.status.code)
    }
}
