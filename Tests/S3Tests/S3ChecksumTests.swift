import Foundation
import Checksums
import Crypto
import NIOCore
import NIOHTTP1
import Testing
@testable import S3
import Storage

/// The `checksum` setting and download verification, against scripted
/// servers: one that checks CRCs (and echoes them, as AWS does), one that
/// ignores them (as moto, rclone and nanio do), and ones that lie (a CRC for
/// other bytes). Every upload must be checked by the server (Content-MD5, or
/// an echoed CRC) and every download here, in every mode.
@Suite(.serialized, .timeLimit(.minutes(1))) struct S3ChecksumTests {
    static let content = Array("0123456789".utf8)
    static let md5 = ContentHasher.hex(Insecure.MD5.hash(data: content))
    static let crc32c = Data(content.withUnsafeBytes { CRC32C(value: CRC32C.checksum($0)).bytes }).base64EncodedString()
    static let crc32cHex = content.withUnsafeBytes { ContentHasher.hex(CRC32C(value: CRC32C.checksum($0)).bytes) }

    func storage(_ server: ScriptedHTTPServer, mode: S3ChecksumMode = .auto, configure: (inout S3Configuration) -> Void = { _ in }) throws -> S3Storage {
        var configuration = S3Configuration(endpoint: server.endpoint, accessKeyId: "AKIDEXAMPLE", secretAccessKey: "checksum-secret")
        configuration.maxAttempts = 2
        configuration.retryBaseDelay = 0.001
        configuration.checksum = mode
        configure(&configuration)
        return try S3Storage(configuration: configuration)
    }

    /// A PUT answer that echoes the request's `x-amz-checksum-*` headers (a
    /// service that checks them) or not.
    static func putReply(echo: Bool) -> ScriptedHTTPServer.Reply {
        .every { _, seen in
            if seen.method == .POST, seen.uri.contains("delete") {
                return .respond(status: .ok, headers: [], body: Array("<DeleteResult></DeleteResult>".utf8))
            }
            var headers = [("ETag", "\"\(md5)\"")]
            if echo { headers += seen.headers.filter { $0.0.lowercased().hasPrefix("x-amz-checksum-") } }
            return .respond(status: .ok, headers: headers, body: [])
        }
    }

    func upload(_ storage: S3Storage, _ scratch: Scratch, key: String = "k") async throws -> TransferResult {
        try await storage.upload(from: try scratch.text("in", "0123456789"), bucket: "b", key: key, options: PutOptions())
    }

    /// `auto` on a service that ignores CRCs: every PUT keeps Content-MD5
    /// (which the service checks) and carries the CRC (stored for downloads).
    @Test func autoKeepsContentMD5WhileTheServiceDoesNotEchoTheCRC() async throws {
        let server = try await ScriptedHTTPServer([Self.putReply(echo: false)])
        let storage = try storage(server)
        let scratch = try Scratch()
        let put = try await upload(storage, scratch)
        _ = try await upload(storage, scratch, key: "k2")
        let puts = server.seen.filter { $0.method == .PUT }
        #expect(puts.count == 2)
        for seen in puts {
            #expect(seen.header("Content-MD5") == Data(Insecure.MD5.hash(data: Self.content)).base64EncodedString())
            #expect(seen.header("x-amz-checksum-crc32c") == Self.crc32c)
        }
        #expect(put.checksums == ["md5": Self.md5, "crc32c": Self.crc32cHex])
        try await storage.shutdown()
        try await server.close()
    }

    /// `auto` on a service that echoes the CRC: the first PUT sends both,
    /// later ones only the CRC (no MD5 computed).
    @Test func autoDropsContentMD5OnceTheServiceEchoesTheCRC() async throws {
        let server = try await ScriptedHTTPServer([Self.putReply(echo: true)])
        let storage = try storage(server)
        let scratch = try Scratch()
        _ = try await upload(storage, scratch)
        let second = try await upload(storage, scratch, key: "k2")
        let puts = server.seen.filter { $0.method == .PUT }
        #expect(puts.map { $0.header("Content-MD5") != nil } == [true, false])
        #expect(puts.allSatisfy { $0.header("x-amz-checksum-crc32c") == Self.crc32c })
        #expect(second.checksums == ["crc32c": Self.crc32cHex])
        try await storage.shutdown()
        try await server.close()
    }

    /// `md5`: Content-MD5 only, even on a service that checks CRCs.
    @Test func md5ModeSendsOnlyContentMD5() async throws {
        let server = try await ScriptedHTTPServer([Self.putReply(echo: true)])
        let storage = try storage(server, mode: .md5)
        let scratch = try Scratch()
        _ = try await upload(storage, scratch)
        _ = try await upload(storage, scratch, key: "k2")
        let puts = server.seen.filter { $0.method == .PUT }
        #expect(puts.allSatisfy { $0.header("Content-MD5") != nil && !$0.headers.contains { $0.0.lowercased().hasPrefix("x-amz-checksum") } })
        try await storage.shutdown()
        try await server.close()
    }

    /// `crc32c`/`crc64nvme` on a service that does not echo the CRC: nothing
    /// checked the bytes, so the upload fails with advice and the object is
    /// removed.
    @Test(arguments: [S3ChecksumMode.crc32c, .crc64nvme])
    func anExplicitCRCTheServiceDoesNotConfirmFails(mode: S3ChecksumMode) async throws {
        let server = try await ScriptedHTTPServer([Self.putReply(echo: false)])
        let storage = try storage(server, mode: mode)
        let scratch = try Scratch()
        do {
            _ = try await upload(storage, scratch)
            Issue.record("an unconfirmed upload was accepted")
        } catch let error as StorageError {
            #expect(error.code == .invalidConfiguration)
            #expect(error.message.contains("x-amz-checksum-\(mode.rawValue)"), "\(error)")
            #expect(error.hint?.contains("checksum: md5") == true)
        }
        let seen = server.seen
        #expect(seen.first?.header("Content-MD5") == nil)
        #expect(seen.first?.header("x-amz-checksum-\(mode.rawValue)") != nil)
        #expect(seen.contains { $0.method == .POST && $0.uri.contains("delete") && String(decoding: $0.body, as: UTF8.self).contains("<Key>k</Key>") })
        try await storage.shutdown()
        try await server.close()
    }

    /// `crc64nvme` on a service that checks it: the CRC-64 of the bytes, no MD5.
    @Test func crc64nvmeModeSendsTheCRC64() async throws {
        let server = try await ScriptedHTTPServer([Self.putReply(echo: true)])
        let storage = try storage(server, mode: .crc64nvme)
        let scratch = try Scratch()
        let put = try await upload(storage, scratch)
        let expected = Self.content.withUnsafeBytes { CRC64NVME(value: CRC64NVME.checksum($0)).bytes }
        #expect(server.seen.first?.header("x-amz-checksum-crc64nvme") == Data(expected).base64EncodedString())
        #expect(server.seen.first?.header("Content-MD5") == nil)
        #expect(put.checksums == ["crc64nvme": ContentHasher.hex(expected)])
        try await storage.shutdown()
        try await server.close()
    }

    /// A multipart upload with a CRC: CreateMultipartUpload declares a
    /// FULL_OBJECT CRC-32C, each part sends its own, and Complete lists them
    /// and sends the whole file's CRC, combined from the parts'.
    @Test func aMultipartUploadWithCRCsSendsThePartsAndTheWholeObjectsCRC() async throws {
        let part = 5 << 20
        let body = (0..<(2 * part + 777)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
        let server = try await ScriptedHTTPServer([.every { index, seen in
            if seen.method == .POST, seen.uri.contains("uploads") {
                return .respond(status: .ok, headers: [], body: Array("<InitiateMultipartUploadResult><UploadId>u1</UploadId></InitiateMultipartUploadResult>".utf8))
            }
            if seen.method == .PUT {
                return .respond(status: .ok, headers: [("ETag", "\"part\(index)\"")] + seen.headers.filter { $0.0.lowercased().hasPrefix("x-amz-checksum-") }, body: [])
            }
            return .respond(status: .ok, headers: [], body: Array("<CompleteMultipartUploadResult><ETag>\"x-3\"</ETag></CompleteMultipartUploadResult>".utf8))
        }])
        let storage = try storage(server, mode: .crc32c) { $0.multipartThreshold = 5 << 20; $0.partSize = 5 << 20; $0.partConcurrency = 2 }
        let scratch = try Scratch()
        let source = scratch.url("big")
        try Data(body).write(to: source)
        let put = try await storage.upload(from: source, bucket: "b", key: "big", options: PutOptions())
        let seen = server.seen
        let create = try #require(seen.first)
        #expect(create.header("x-amz-checksum-algorithm") == "CRC32C")
        #expect(create.header("x-amz-checksum-type") == "FULL_OBJECT")
        let parts = seen.filter { $0.method == .PUT }
        #expect(parts.count == 3)
        for seenPart in parts {
            #expect(seenPart.header("Content-MD5") == nil)
            let crc = seenPart.body.withUnsafeBytes { CRC32C(value: CRC32C.checksum($0)).bytes }
            #expect(seenPart.header("x-amz-checksum-crc32c") == Data(crc).base64EncodedString())
        }
        let complete = try #require(seen.last)
        let whole = body.withUnsafeBytes { CRC32C(value: CRC32C.checksum($0)).bytes }
        #expect(complete.header("x-amz-checksum-crc32c") == Data(whole).base64EncodedString())
        #expect(complete.header("x-amz-checksum-type") == "FULL_OBJECT")
        let xml = String(decoding: complete.body, as: UTF8.self)
        #expect(xml.components(separatedBy: "<ChecksumCRC32C>").count == 4, "\(xml)")
        #expect(put.checksums == ["crc32c": ContentHasher.hex(whole)])
        try await storage.shutdown()
        try await server.close()
    }

    /// A download that offers a CRC and the ETag's MD5 is checked with the
    /// CRC alone (hashed once, cheaply).
    @Test func aDownloadPrefersTheServicesCRCOverTheETag() async throws {
        let server = try await ScriptedHTTPServer([.respond(status: .ok, headers: [("ETag", "\"\(Self.md5)\""), ("x-amz-checksum-crc32c", Self.crc32c)], body: Self.content)])
        let storage = try storage(server)
        let scratch = try Scratch()
        let got = try await storage.download(bucket: "b", key: "k", to: scratch.url("out"), known: ObjectInfo(key: "k", size: 10, etag: Self.md5))
        #expect(got.checksums == ["crc32c": Self.crc32cHex])
        #expect(server.seen.first?.header("x-amz-checksum-mode") == "ENABLED")
        try await storage.shutdown()
        try await server.close()
    }

    /// A server that lies: its CRC (and ETag) are those of the real
    /// content, its bytes are not. In every mode the download fails and
    /// nothing reaches the destination.
    @Test(arguments: S3ChecksumMode.allCases)
    func aServerClaimingACRCForOtherBytesIsCaught(mode: S3ChecksumMode) async throws {
        let corrupt = Array("0123456780".utf8)
        let server = try await ScriptedHTTPServer([.every { _, _ in
            .respond(status: .ok, headers: [("ETag", "\"\(Self.md5)\""), ("x-amz-checksum-crc32c", Self.crc32c)], body: corrupt)
        }])
        let storage = try storage(server, mode: mode)
        let scratch = try Scratch()
        do {
            _ = try await storage.download(bucket: "b", key: "k", to: scratch.url("out"), known: ObjectInfo(key: "k", size: 10, etag: Self.md5))
            Issue.record("bytes that do not match the CRC were accepted")
        } catch let error as StorageError {
            #expect(error.code == .checksumMismatch)
            #expect(error.message.contains("crc32c"), "\(error)")
        }
        #expect(try scratch.contents().isEmpty)
        try await storage.shutdown()
        try await server.close()
    }

    /// Ranged downloads check a full-object CRC (from HEAD) by combining the
    /// ranges' CRCs; one corrupt byte in one range fails the download.
    @Test(arguments: [false, true])
    func rangesAreCheckedAgainstTheFullObjectCRC(corruptOne: Bool) async throws {
        let part = 5 << 20
        let size = 2 * part + 1000
        let body = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 12) }
        let crc = body.withUnsafeBytes { CRC32C(value: CRC32C.checksum($0)).bytes }
        let server = try await ScriptedHTTPServer([.every { _, seen in
            let range = seen.header("Range")!.dropFirst("bytes=".count).split(separator: "-").map { Int($0)! }
            var bytes = Array(body[range[0]...range[1]])
            if corruptOne, range[0] == part { bytes[100] ^= 1 }
            return .respond(status: .partialContent, headers: [("ETag", "\"e\""), ("Content-Range", "bytes \(range[0])-\(range[1])/\(size)")], body: bytes)
        }])
        let storage = try storage(server) { $0.multipartThreshold = 8 << 20; $0.partSize = 5 << 20; $0.maxAttempts = 1 }
        let scratch = try Scratch()
        let info = ObjectInfo(key: "k", size: Int64(size), etag: "e", checksums: ["crc32c": ContentHasher.hex(crc)])
        do {
            let got = try await storage.download(bucket: "b", key: "k", to: scratch.url("out"), known: info)
            #expect(!corruptOne, "a corrupt range was accepted")
            #expect(got.checksums == ["crc32c": ContentHasher.hex(crc)])
            #expect(try Data(contentsOf: scratch.url("out")) == Data(body))
        } catch let error as StorageError {
            #expect(corruptOne, "\(error)")
            #expect(error.code == .checksumMismatch)
            #expect(try scratch.contents().isEmpty)
        }
        #expect(server.seen.count == 3)
        try await storage.shutdown()
        try await server.close()
    }
}
