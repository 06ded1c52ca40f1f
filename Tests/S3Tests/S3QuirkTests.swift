import Foundation
import Crypto
import NIOHTTP1
import Synchronization
import Testing
@testable import S3
import Storage

/// Broken connections and server quirks on cue, from a scripted loopback
/// HTTP server: retried transfers must restart cleanly, corrupt bytes must
/// never reach the destination.
@Suite(.serialized) struct S3QuirkTests {
    static let content = Array("0123456789".utf8)
    static let md5 = Insecure.MD5.hash(data: content).map { String(format: "%02x", $0) }.joined()

    func storage(_ server: ScriptedHTTPServer, configure: (inout S3Configuration) -> Void = { _ in }) throws -> S3Storage {
        var configuration = S3Configuration(endpoint: server.endpoint, accessKeyId: "AKIDEXAMPLE", secretAccessKey: "quirk-secret")
        configuration.maxAttempts = 3
        configure(&configuration)
        return try S3Storage(configuration: configuration)
    }

    var known: ObjectInfo { ObjectInfo(key: "k", size: 10, etag: Self.md5) }
    var etag: (String, String) { ("ETag", "\"\(Self.md5)\"") }

    @Test func aDownloadCutOffHalfwayStartsOverFromAnEmptyFile() async throws {
        let server = try await ScriptedHTTPServer([
            .cut(headers: [etag], body: Array(Self.content[0..<5]), missing: 5),
            .respond(status: .ok, headers: [etag], body: Self.content),
        ])
        let storage = try storage(server)
        let scratch = try Scratch()
        let metrics = TransferMetrics()
        let result = try await TransferMetrics.$current.withValue(metrics) {
            try await storage.download(bucket: "b", key: "k", to: scratch.url("out"), known: known)
        }
        #expect(try Data(contentsOf: scratch.url("out")) == Data(Self.content))
        #expect(result.checksums == ["md5": Self.md5])
        #expect(metrics.requests == 2)
        #expect(metrics.retries == 1)
        #expect(server.seen.allSatisfy { $0.headers.contains { $0.0.lowercased() == "if-match" && $0.1 == "\"\(Self.md5)\"" } })
        #expect(try scratch.contents() == ["out"])
        try await storage.shutdown()
        try await server.close()
    }

    /// Three 5 MiB ranges, the second cut off once: it restarts at its own
    /// offset, and the multipart ETag is checked from the ranges' MD5s.
    @Test func aRangeCutOffHalfwayRestartsAtItsOffset() async throws {
        let part = 5 << 20
        let size = 2 * part + 1000
        let body = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 12) }
        let ranges = [0..<part, part..<(2 * part), (2 * part)..<size]
        let digests = ranges.map { Array(Insecure.MD5.hash(data: body[$0])) }
        let etag = S3Storage.multipartETag(partDigests: digests)
        func partReply(_ range: Range<Int>) -> ScriptedHTTPServer.Reply {
            .respond(status: .partialContent, headers: [("ETag", "\"\(etag)\""), ("Content-Range", "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(size)")], body: Array(body[range]))
        }
        let server = try await ScriptedHTTPServer([
            partReply(ranges[0]),
            .cut(status: .partialContent, headers: [("ETag", "\"\(etag)\""), ("Content-Range", "bytes \(part)-\(2 * part - 1)/\(size)")],
                 body: Array(body[ranges[1]].prefix(1 << 20)), missing: part - (1 << 20)),
            partReply(ranges[1]),
            partReply(ranges[2]),
        ])
        let storage = try storage(server) { $0.multipartThreshold = 8 << 20; $0.partSize = 5 << 20; $0.partConcurrency = 1 }
        let scratch = try Scratch()
        let metrics = TransferMetrics()
        let result = try await TransferMetrics.$current.withValue(metrics) {
            try await storage.download(bucket: "b", key: "k", to: scratch.url("out"), known: ObjectInfo(key: "k", size: Int64(size), etag: etag))
        }
        #expect(result.bytes == Int64(size))
        #expect(try Data(contentsOf: scratch.url("out")) == Data(body))
        #expect(metrics.retries == 1)
        let asked = server.seen.map { $0.headers.first { $0.0.lowercased() == "range" }?.1 }
        #expect(asked == ["bytes=0-5242879", "bytes=5242880-10485759", "bytes=5242880-10485759", "bytes=10485760-10486759"])
        try await storage.shutdown()
        try await server.close()
    }

    @Test func corruptBytesAreRetriedAndNeverReachTheDestination() async throws {
        let corrupt = Array("0123456780".utf8)
        let server = try await ScriptedHTTPServer(Array(repeating: .respond(status: .ok, headers: [etag], body: corrupt), count: 3))
        let storage = try storage(server)
        let scratch = try Scratch()
        let metrics = TransferMetrics()
        do {
            _ = try await TransferMetrics.$current.withValue(metrics) {
                try await storage.download(bucket: "b", key: "k", to: scratch.url("out"), known: known)
            }
            Issue.record("corrupt bytes were accepted")
        } catch let error as StorageError {
            #expect(error.code == .checksumMismatch)
            #expect(error.message.contains("do not match the ETag's MD5"))
        }
        #expect(metrics.requests == 3)
        #expect(try scratch.contents().isEmpty)  // no destination, no temporary file
        try await storage.shutdown()
        try await server.close()
    }

    @Test func aServerThatIgnoresRangesGetsOneWholeGet() async throws {
        let server = try await ScriptedHTTPServer([
            .respond(status: .ok, headers: [etag], body: Self.content),  // the range was ignored
            .respond(status: .ok, headers: [etag], body: Self.content),
        ])
        let storage = try storage(server) { $0.multipartThreshold = 4 }
        let scratch = try Scratch()
        let result = try await storage.download(bucket: "b", key: "k", to: scratch.url("out"), known: known)
        #expect(try Data(contentsOf: scratch.url("out")) == Data(Self.content))
        #expect(result.checksums == ["md5": Self.md5])
        let seen = server.seen
        #expect(seen.count == 2)
        #expect(seen.first?.headers.contains { $0.0.lowercased() == "range" && $0.1 == "bytes=0-9" } == true)
        #expect(seen.last?.headers.contains { $0.0.lowercased() == "range" } == false)
        try await storage.shutdown()
        try await server.close()
    }

    @Test func anObjectThatChangedSinceItWasListedIsRefused() async throws {
        let server = try await ScriptedHTTPServer([
            .respond(status: .ok, headers: [("ETag", "\"ffffffffffffffffffffffffffffffff\"")], body: Self.content),  // If-Match ignored
        ])
        let storage = try storage(server)
        let scratch = try Scratch()
        do {
            _ = try await storage.download(bucket: "b", key: "k", to: scratch.url("out"), known: known)
            Issue.record("another version was accepted")
        } catch let error as StorageError {
            #expect(error.message == "b/k changed after it was listed (ETag ffffffffffffffffffffffffffffffff, expected \(Self.md5))")
        }
        #expect(server.seen.count == 1)  // not retried
        #expect(try scratch.contents().isEmpty)
        try await storage.shutdown()
        try await server.close()
    }

    @Test func aReadCutOffHalfwayResumesAtTheNextByte() async throws {
        let server = try await ScriptedHTTPServer([
            .cut(headers: [etag], body: Array(Self.content[0..<4]), missing: 6),
            .respond(status: .partialContent, headers: [etag, ("Content-Range", "bytes 4-9/10")], body: Array(Self.content[4...])),
        ])
        let storage = try storage(server)
        var bytes: [UInt8] = []
        for try await chunk in try await storage.read(bucket: "b", key: "k", range: nil) { bytes += chunk }
        #expect(bytes == Self.content)
        let second = try #require(server.seen.last)
        #expect(second.headers.contains { $0.0.lowercased() == "range" && $0.1 == "bytes=4-9" })
        #expect(second.headers.contains { $0.0.lowercased() == "if-match" && $0.1 == "\"\(Self.md5)\"" })
        try await storage.shutdown()
        try await server.close()
    }

    @Test func slowDownIsRetriedAndOtherClientErrorsAreNot() async throws {
        let slowDown = Array("<?xml version=\"1.0\"?><Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>".utf8)
        let denied = Array("<Error><Code>AccessDenied</Code><Message>Access Denied</Message><BucketName>b</BucketName></Error>".utf8)
        let server = try await ScriptedHTTPServer([
            .respond(status: .serviceUnavailable, headers: [], body: slowDown),
            .respond(status: .ok, headers: [etag], body: []),
            .respond(status: .forbidden, headers: [], body: denied),
        ])
        let storage = try storage(server)
        let scratch = try Scratch()
        let source = try scratch.text("in", "0123456789")
        let metrics = TransferMetrics()
        let put = try await TransferMetrics.$current.withValue(metrics) {
            try await storage.upload(from: source, bucket: "b", key: "k", options: PutOptions())
        }
        #expect(put.checksums["md5"] == Self.md5)
        #expect(metrics.requests == 2)
        #expect(metrics.retries == 1)
        let md5Headers = server.seen.map { $0.headers.first { $0.0.lowercased() == "content-md5" }?.1 }
        #expect(md5Headers[0] == md5Headers[1] && md5Headers[0] != nil)
        do {
            _ = try await TransferMetrics.$current.withValue(metrics) {
                try await storage.upload(from: source, bucket: "b", key: "k", options: PutOptions())
            }
            Issue.record("AccessDenied was not reported")
        } catch let error as StorageError {
            #expect(error.code == .accessDenied)
            #expect(error.hint == "check the key's permissions for bucket b")
        }
        #expect(metrics.requests == 3)  // AccessDenied was not retried
        try await storage.shutdown()
        try await server.close()
    }
}
