import Foundation
import Synchronization
import Testing
@testable import S3
import Storage

/// The `checksum` setting against the real servers. None of them checks
/// `x-amz-checksum-*` (moto, rclone and nanio accept a wrong one): `auto`
/// must notice (no echo) and keep Content-MD5, which they do check; an
/// explicit CRC mode must refuse to leave unchecked bytes behind.
@Suite(.serialized, .enabled(if: S3TestServer.configured, S3TestServer.skipMessage))
struct S3ChecksumConformanceTests {
    static let servers = S3TestServer.all

    @Test(arguments: servers)
    func autoKeepsContentMD5AndDownloadsCheckTheCheapestChecksum(server: S3TestServer) async throws {
        let scratch = try Scratch()
        let small = try scratch.file("small.bin", bytes: 70_000, seed: 3)
        let mid = try scratch.file("mid.bin", bytes: 9 << 20, seed: 4)  // streamed from disk
        try await server.withBucket { storage, bucket in
            for source in [small, mid] {
                let key = source.lastPathComponent
                let put = try await storage.upload(from: source, bucket: bucket, key: key, options: PutOptions())
                #expect(put.checksums["md5"] == (try Scratch.md5(source)))
                #expect(put.checksums["crc32c"] != nil)
                #expect(storage.checksumVerified.withLock { $0 } == false, "the server does not echo CRCs")
                let info = try await storage.head(bucket: bucket, key: key)
                #expect(info.etag == put.checksums["md5"], "skip-unchanged still compares the ETag's MD5")
                let got = try await storage.download(bucket: bucket, key: key, to: scratch.url("out-\(key)"), known: info)
                #expect(S3TestServer.sameContent(got, put), "\(got.checksums) vs \(put.checksums)")
                // rclone returns the stored CRC: the download checks it, not the MD5.
                #expect(Array(got.checksums.keys) == [server.storesChecksums ? "crc32c" : "md5"])
                #expect(try Scratch.sha256(scratch.url("out-\(key)")) == Scratch.sha256(source))
            }
        }
    }

    @Test(arguments: servers)
    func md5ModeRoundTrips(server: S3TestServer) async throws {
        let scratch = try Scratch()
        let source = try scratch.file("a.bin", bytes: 70_000, seed: 5)
        try await server.withBucket(configure: { $0.checksum = .md5 }) { storage, bucket in
            let put = try await storage.upload(from: source, bucket: bucket, key: "a", options: PutOptions())
            #expect(put.checksums == ["md5": try Scratch.md5(source)])
            let got = try await storage.download(bucket: bucket, key: "a", to: scratch.url("out"))
            #expect(got.checksums == ["md5": try Scratch.md5(source)])
        }
    }

    /// `crc32c` on a server that does not check it: the upload fails with
    /// advice, and the unchecked object is gone.
    @Test(arguments: servers)
    func anExplicitCRCModeRefusesAServerThatDoesNotCheckIt(server: S3TestServer) async throws {
        let scratch = try Scratch()
        let source = try scratch.file("a.bin", bytes: 1000, seed: 6)
        try await server.withBucket(configure: { $0.checksum = .crc32c }) { storage, bucket in
            do {
                _ = try await storage.upload(from: source, bucket: bucket, key: "a", options: PutOptions())
                Issue.record("an upload nothing checked was accepted")
            } catch let error as StorageError {
                #expect(error.code == .invalidConfiguration, "\(error)")
                #expect(error.hint?.contains("checksum: md5") == true)
            }
            #expect(try await storage.headIfExists(bucket: bucket, key: "a") == nil)
        }
    }
}
