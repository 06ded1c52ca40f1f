import Foundation
import Crypto
import NIOCore
import NIOHTTP1
import Synchronization
import Testing
@testable import S3
import Storage
import HTTPTransport

/// A server that misbehaves on purpose (issue 8, item 3): endless and
/// repeating listings, bodies longer or shorter than announced, a trickle,
/// and an error body that echoes the request's Authorization header. Each
/// must end in a clear error, bounded memory and time, nothing written past
/// the announced size, no temporary file left, and no signature or secret
/// in any message.
/// A time limit on each: the bugs these guard against loop forever.
@Suite(.serialized, .timeLimit(.minutes(1))) struct S3HostileServerTests {
    static let secret = "hostile-secret-0123456789abcdef"

    func storage(_ server: ScriptedHTTPServer, configure: (inout S3Configuration) -> Void = { _ in }) throws -> S3Storage {
        var configuration = S3Configuration(endpoint: server.endpoint, accessKeyId: "AKIDHOSTILE", secretAccessKey: Self.secret)
        configuration.maxAttempts = 2
        configuration.retryBaseDelay = 0.001
        configuration.retryMaxDelay = 0.01
        configure(&configuration)
        return try S3Storage(configuration: configuration)
    }

    static func listing(keys: [String], token: String?) -> ScriptedHTTPServer.Reply {
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult><Name>b</Name><IsTruncated>\(token != nil)</IsTruncated>"
        if let token { xml += "<NextContinuationToken>\(token)</NextContinuationToken>" }
        for key in keys { xml += "<Contents><Key>\(key)</Key><Size>1</Size><ETag>\"x\"</ETag></Contents>" }
        xml += "</ListBucketResult>"
        return .respond(status: .ok, headers: [("Content-Type", "application/xml")], body: Array(xml.utf8))
    }

    /// Every page has new keys and a new token, forever: the listing stops
    /// at the configured cap instead of growing without bound.
    @Test func anEndlessListingStopsAtTheKeyCap() async throws {
        let server = try await ScriptedHTTPServer([.every { index, _ in
            Self.listing(keys: (0..<10).map { String(format: "key-%08d-%02d", index, $0) }, token: "token-\(index)")
        }])
        let storage = try storage(server) { $0.listingLimits = ListingLimits(maxKeys: 500, maxPages: 10_000) }
        do {
            let all = try await storage.listAll(bucket: "b", prefix: "")
            Issue.record("an endless listing returned \(all.count) keys")
        } catch let error as StorageError {
            #expect(error.message.contains("passed 500 keys; stopping the listing"), "\(error)")
            #expect(error.hint?.contains("max-list-keys") == true)
        }
        #expect(server.seen.count <= 51)
        try await storage.shutdown()
        try await server.close()
    }

    /// Empty pages with fresh tokens forever: the page cap ends it.
    @Test func anEndlessListingOfEmptyPagesStopsAtThePageCap() async throws {
        let server = try await ScriptedHTTPServer([.every { index, _ in Self.listing(keys: [], token: "t\(index)") }])
        let storage = try storage(server) { $0.listingLimits = ListingLimits(maxKeys: 1000, maxPages: 20) }
        await #expect(throws: StorageError.self) { _ = try await storage.listAll(bucket: "b", prefix: "") }
        #expect(server.seen.count == 20)
        try await storage.shutdown()
        try await server.close()
    }

    @Test func aRepeatedContinuationTokenIsAnError() async throws {
        let server = try await ScriptedHTTPServer([.every { index, _ in
            Self.listing(keys: [String(format: "k%06d", index)], token: "same-token")
        }])
        let storage = try storage(server)
        do {
            _ = try await storage.listAll(bucket: "b", prefix: "")
            Issue.record("a repeated token was followed")
        } catch let error as StorageError {
            #expect(error.message.contains("the server returned the same continuation token twice; stopping the listing"), "\(error)")
        }
        #expect(server.seen.count == 2)
        #expect(server.seen[1].uri.contains("continuation-token=same-token"))
        try await storage.shutdown()
        try await server.close()
    }

    /// Tokens that change but pages that repeat the same keys (a cycle).
    @Test func aListingThatDoesNotAdvanceIsAnError() async throws {
        let server = try await ScriptedHTTPServer([.every { index, _ in Self.listing(keys: ["a", "b"], token: "t\(index)") }])
        let storage = try storage(server)
        do {
            _ = try await storage.listAll(bucket: "b", prefix: "")
            Issue.record("a non-advancing listing was followed")
        } catch let error as StorageError {
            #expect(error.message.contains("did not advance"), "\(error)")
        }
        #expect(server.seen.count == 2)
        try await storage.shutdown()
        try await server.close()
    }

    /// The listing said 1000 bytes; the server answers 5 MiB. With a
    /// Content-Length saying so, the download fails before writing; without
    /// one (chunked), writing stops at byte 1000 and the download fails.
    /// Either way the destination does not exist and no temp file remains.
    @Test(arguments: [true, false])
    func aBodyLongerThanAnnouncedStopsAtTheAnnouncedSize(withContentLength: Bool) async throws {
        let big = [UInt8](repeating: 0x41, count: 5 << 20)
        let reply: ScriptedHTTPServer.Reply = withContentLength
            ? .respond(status: .ok, headers: [], body: big)
            : .chunked(headers: [], body: big)
        let server = try await ScriptedHTTPServer([reply, reply, reply])
        let storage = try storage(server)
        let scratch = try Scratch()
        do {
            _ = try await storage.download(bucket: "b", key: "k", to: scratch.url("out"), known: ObjectInfo(key: "k", size: 1000))
            Issue.record("a body longer than announced was accepted")
        } catch let error as StorageError {
            #expect(error.message.contains("more than the 1000 bytes it announced"), "\(error)")
            #expect(!error.isRetryable)
        }
        #expect(server.seen.count == 1, "a body longer than announced is not retried")
        #expect(try scratch.contents() == [])
        try await storage.shutdown()
        try await server.close()
    }

    /// 500 of the 1000 announced bytes, chunked (no Content-Length), then a
    /// clean end: a failure, never a short file.
    @Test func aShorterBodyWithoutContentLengthFails() async throws {
        let half = [UInt8](repeating: 0x42, count: 500)
        let server = try await ScriptedHTTPServer([.every { _, _ in .chunked(headers: [], body: half) }])
        let storage = try storage(server) { $0.maxAttempts = 3 }
        let scratch = try Scratch()
        let metrics = TransferMetrics()
        do {
            _ = try await TransferMetrics.$current.withValue(metrics) {
                try await storage.download(bucket: "b", key: "k", to: scratch.url("out"), known: ObjectInfo(key: "k", size: 1000))
            }
            Issue.record("a short body was accepted")
        } catch let error as StorageError {
            #expect(error.message.contains("ended after 500 of the 1000 bytes announced"), "\(error)")
            #expect(error.message.contains("after 3 attempts"), "\(error)")
        }
        #expect(metrics.retries == 2)
        #expect(try scratch.contents() == [])
        try await storage.shutdown()
        try await server.close()
    }

    /// One byte every 100 ms never trips the 5 s idle timeout; the
    /// whole-response deadline (1 s here) ends it.
    @Test func aTricklingBodyHitsTheWholeResponseDeadline() async throws {
        let body = [UInt8](repeating: 0x43, count: 2000)
        let server = try await ScriptedHTTPServer([.every { _, _ in .trickle(headers: [], body: body, interval: .milliseconds(100)) }])
        let storage = try storage(server) {
            $0.readTimeout = 5
            $0.responseTimeout = 1
            $0.minimumBytesPerSecond = 1e12
            $0.maxAttempts = 2
        }
        let scratch = try Scratch()
        let started = ContinuousClock.now
        do {
            _ = try await storage.download(bucket: "b", key: "k", to: scratch.url("out"), known: ObjectInfo(key: "k", size: 2000))
            Issue.record("a trickle completed")
        } catch let error as StorageError {
            #expect(error.message.contains("whole-response deadline"), "\(error)")
            #expect(error.message.contains("after 2 attempts"), "\(error)")
        }
        #expect(ContinuousClock.now - started < .seconds(15))
        #expect(try scratch.contents() == [])
        try await storage.shutdown()
        try await server.close()
    }

    /// A server that puts the request's Authorization header, a presigned
    /// URL and the secret key into its error message: none of it reaches
    /// the error the user sees.
    @Test func anEchoedAuthorizationHeaderIsRedacted() async throws {
        let server = try await ScriptedHTTPServer([.every { _, seen in
            let authorization = seen.headers.first { $0.0.lowercased() == "authorization" }?.1 ?? "none"
            let xml = "<Error><Code>AccessDenied</Code><Message>secret \(S3HostileServerTests.secret); url https://x/?X-Amz-Signature=0123abcd&amp;a=b; you sent Authorization: \(authorization)</Message></Error>"
            return .respond(status: .forbidden, headers: [], body: Array(xml.utf8))
        }])
        let storage = try storage(server)
        do {
            _ = try await storage.listPage(bucket: "b", prefix: "", delimiter: nil, continuationToken: nil, maxKeys: 10)
            Issue.record("a 403 was accepted")
        } catch let error as StorageError {
            let sent = try #require(server.seen.last?.headers.first { $0.0.lowercased() == "authorization" }?.1)
            let signature = try #require(sent.components(separatedBy: "Signature=").last)
            #expect(signature.count == 64)
            let text = "\(error) \(error.message) \(error.hint ?? "")"
            #expect(!text.contains(signature), "\(text)")
            #expect(!text.contains(Self.secret), "\(text)")
            #expect(!text.contains("0123abcd"), "\(text)")
            #expect(!text.contains("Credential=AKIDHOSTILE"), "\(text)")
            // The message itself is shown (so the test would see a leak),
            // with the three secrets masked.
            #expect(error.message.contains("secret [redacted]; url https://x/?X-Amz-Signature=[redacted]&a=b; you sent Authorization: [redacted]"), "\(error.message)")
        }
        try await storage.shutdown()
        try await server.close()
    }
}
