import Foundation
import AsyncHTTPClient
import NIOCore
import NIOPosix
import Testing
@testable import HTTPTransport
import Storage

/// The shared HTTP layer without a server: retry policy and
/// classification, redaction, error text, listing checks, deadlines and
/// download files.
struct RetryPolicyTests {
    @Test func defaultsAreTenAttemptsCappedExponentialFullJitter() {
        let policy = RetryPolicy()
        #expect(policy.maxAttempts == 10)
        #expect(policy.ceiling(afterAttempt: 1) == 0.1)
        #expect(policy.ceiling(afterAttempt: 2) == 0.2)
        #expect(policy.ceiling(afterAttempt: 4) == 0.8)
        #expect(policy.ceiling(afterAttempt: 9) == 20)
        #expect(policy.ceiling(afterAttempt: 10_000) == 20)
        #expect(policy.delay(afterAttempt: 3, unit: 0) == 0)
        #expect(policy.delay(afterAttempt: 3, unit: 0.5) == 0.2)
        #expect(policy.delay(afterAttempt: 30, unit: 0.999) < 20)
        #expect(policy.delay(afterAttempt: 1, retryAfter: 3) == 3)
        #expect(policy.delay(afterAttempt: 1, retryAfter: 1e9) == 20, "Retry-After is capped too")
        for attempt in 1...40 {
            let delay = policy.delay(afterAttempt: attempt)
            #expect(delay >= 0 && delay <= policy.ceiling(afterAttempt: attempt))
        }
        let custom = RetryPolicy(maxAttempts: 0, base: 1, cap: 2)
        #expect(custom.maxAttempts == 1)
        #expect(custom.ceiling(afterAttempt: 5) == 2)
    }

    @Test func busyAndBrokenAreRetryableOtherClientErrorsAreNot() {
        for status: UInt in [500, 502, 503, 504, 429, 408] { #expect(RetryPolicy.isRetryableStatus(status)) }
        for status: UInt in [400, 401, 403, 404, 409, 412, 416] { #expect(!RetryPolicy.isRetryableStatus(status)) }
        #expect(RetryPolicy.isRetryable(HTTPClientError.remoteConnectionClosed))
        #expect(RetryPolicy.isRetryable(HTTPClientError.readTimeout))
        #expect(RetryPolicy.isRetryable(HTTPClientError.connectTimeout))
        #expect(RetryPolicy.isRetryable(IOError(errnoCode: ECONNRESET, reason: "read")))
        #expect(RetryPolicy.isRetryable(IOError(errnoCode: ECONNREFUSED, reason: "connect")))
        #expect(RetryPolicy.isRetryable(ChannelError.ioOnClosedChannel))
        #expect(RetryPolicy.isRetryable(ResponseDeadlineExceeded(seconds: 1)))
        #expect(!RetryPolicy.isRetryable(StorageError(.accessDenied, "x")))
        #expect(RetryPolicy.isRetryable(StorageError(.transient, "x", isRetryable: true)))
        #expect(!RetryPolicy.isRetryable(CancellationError()))
        #expect(!RetryPolicy.isRetryable(HTTPClientError.cancelled))
        #expect(!RetryPolicy.isRetryable(HTTPClientError.invalidURL))
    }

    @Test func transportErrorTextIsShortAndBalanced() {
        let refused = TransportErrorText.describe(IOError(errnoCode: ECONNREFUSED, reason: "connect"))
        #expect(refused == "connection refused (errno 111)")
        let deadline = TransportErrorText.describe(ResponseDeadlineExceeded(seconds: 2))
        #expect(deadline.contains("whole-response deadline"))
        for text in [refused, deadline, TransportErrorText.describe(HTTPClientError.readTimeout)] {
            #expect(text.filter { $0 == "(" }.count == text.filter { $0 == ")" }.count, "\(text)")
        }
    }

    /// The retry loop counts retries for the report and gives up after maxAttempts.
    @Test func retryingCountsRetriesAndStopsAtTheBudget() async throws {
        let transport = try HTTPTransport(scheme: "http", timeouts: HTTPTimeouts(), retryPolicy: RetryPolicy(maxAttempts: 4, base: 0.001, cap: 0.002), label: "test")
        let metrics = TransferMetrics()
        let calls = Counter()
        await #expect(throws: StorageError.self) {
            try await TransferMetrics.$current.withValue(metrics) {
                try await transport.retrying(operation: "Op", { _ in
                    calls.increment()
                    throw IOError(errnoCode: ECONNRESET, reason: "read")
                }, describe: { error, attempts in
                    transport.transportError(error, operation: "Op", subject: "b/k", peer: "http://x", attempts: attempts, hint: "h")
                })
            }
        }
        #expect(calls.value == 4)
        #expect(metrics.retries == 3)
        // A 4xx-like error is not retried.
        let once = Counter()
        await #expect(throws: StorageError.self) {
            try await transport.retrying(operation: "Op", { _ in
                once.increment()
                throw StorageError(.accessDenied, "no")
            }, describe: { error, _ in error })
        }
        #expect(once.value == 1)
        try await transport.shutdown()
    }

    @Test func theDeadlineCutsALongBodyAndLetsAShortOneFinish() async throws {
        let started = ContinuousClock.now
        await #expect(throws: ResponseDeadlineExceeded.self) {
            try await withResponseDeadline(seconds: 0.2) {
                try await Task.sleep(for: .seconds(600))
                return 1
            }
        }
        // Far from the 600 s a deadline that does not cut would take, and
        // from a loaded machine's slowest pass (~35 s seen while the suite's
        // other tests held both cooperative threads).
        #expect(ContinuousClock.now - started < .seconds(300))
        let value = try await withResponseDeadline(seconds: 5) { 42 }
        #expect(value == 42)
        let deadlines = HTTPTimeouts()
        #expect(deadlines.responseDeadline(forBytes: 0) == 600)
        #expect(deadlines.responseDeadline(forBytes: 64 * 1024 * 100) == 700)
    }
}

final class Counter: Sendable {
    private let count = Mutex(0)
    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}

import Synchronization

struct RedactorTests {
    static let signature = "fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024"
    static let authorization = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=\(signature)"

    @Test func signaturesCredentialsAndSecretsNeverSurvive() {
        let redactor = Redactor(secrets: ["wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "tok"])
        let texts = [
            "Authorization: \(Self.authorization)",
            "<Message>The header was \(Self.authorization)</Message>",
            "{\"Authorization\": \"\(Self.authorization)\"}",
            "https://b.s3/k?X-Amz-Credential=AKID%2F2015&X-Amz-Signature=\(Self.signature)&X-Amz-Expires=60",
            "secret wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY echoed",
            "Signature=\(Self.signature)",
            "signature=\(Self.signature), credential=AKID/x",
        ]
        for text in texts {
            let out = redactor.redact(text)
            #expect(!out.contains(Self.signature), "\(out)")
            #expect(!out.contains("wJalrXUtnFEMI"), "\(out)")
            #expect(!out.contains("AKIDEXAMPLE/2015"), "\(out)")
            #expect(out.contains(Redactor.mask), "\(out)")
        }
        // Short secrets (under 4 characters) are not masked: they would
        // mangle every message; ordinary text passes unchanged.
        #expect(redactor.redact("the token is fine") == "the token is fine")
        #expect(redactor.redact("NoSuchKey: a/b (HTTP 404)") == "NoSuchKey: a/b (HTTP 404)")
        #expect(redactor.redact("x-amz-signed=1") == "x-amz-signed=1")
    }

    @Test func transportRedactsStorageErrorsAndLearnsNewSecrets() throws {
        let transport = try HTTPTransport(scheme: "http", timeouts: HTTPTimeouts(), retryPolicy: RetryPolicy(), secrets: ["s3cr3t-key"], label: "test")
        transport.addSecrets(["live-token-123"])
        let error = transport.redact(StorageError(.accessDenied, "echo s3cr3t-key and live-token-123 and Signature=abc", hint: "Credential=AKID/1"))
        let storage = try #require(error as? StorageError)
        #expect(!storage.description.contains("s3cr3t-key"))
        #expect(!storage.description.contains("live-token-123"))
        #expect(!storage.description.contains("Signature=abc"))
        #expect(!storage.description.contains("AKID/1"))
    }

    @Test func anUnreadableCABundleIsRefusedForHTTPSOnly() throws {
        #expect(throws: StorageError.self) {
            _ = try HTTPTransport(scheme: "https", timeouts: HTTPTimeouts(), retryPolicy: RetryPolicy(), caBundle: "/nonexistent/ca.pem", label: "t")
        }
        let plain = try HTTPTransport(scheme: "http", timeouts: HTTPTimeouts(), retryPolicy: RetryPolicy(), caBundle: "/nonexistent/ca.pem", label: "t")
        try plain.client.syncShutdown()
    }
}

struct ListingCursorTests {
    let limits = ListingLimits(maxKeys: 10, maxPages: 5)

    func advance(_ previous: String?, next: String?, names: [String], limits: ListingLimits? = nil) throws -> String? {
        try ListingCursor.advance(previous: ListingCursor.decode(previous), next: next, truncated: next != nil, names: names,
                                  limits: limits ?? self.limits, subject: "bucket b", settingHint: "max-list-keys")
    }

    @Test func anAdvancingListingPassesAndTheTokenRoundTrips() throws {
        let first = try #require(try advance(nil, next: "server-token-1", names: ["a", "b"]))
        #expect(first.hasPrefix("bf1."))
        let cursor = try #require(ListingCursor.decode(first))
        #expect(cursor.token == "server-token-1")
        #expect(cursor.pages == 1 && cursor.keys == 2 && cursor.last == "b")
        let second = try #require(try advance(first, next: "server-token-2", names: ["c", "d/"]))
        #expect(try advance(second, next: nil, names: ["e"]) == nil)
        // A raw token (not a cursor) is taken as the server's own.
        #expect(ListingCursor.decode("plain")?.token == "plain")
    }

    @Test func aRepeatedTokenIsAnError() throws {
        let first = try #require(try advance(nil, next: "same", names: ["a"]))
        do {
            _ = try advance(first, next: "same", names: ["b"])
            Issue.record("a repeated token was accepted")
        } catch let error as StorageError {
            #expect(error.message.contains("the server returned the same continuation token twice; stopping the listing"))
        }
    }

    @Test func aListingThatGoesBackOrStandsStillIsAnError() throws {
        let first = try #require(try advance(nil, next: "t1", names: ["a", "m"]))
        #expect(throws: StorageError.self) { _ = try advance(first, next: "t2", names: ["a", "m"]) }
        #expect(throws: StorageError.self) { _ = try advance(first, next: "t2", names: ["b"]) }
        // UTF-8 byte order, as S3 and B2 list: "é" (0xC3) sorts after "z".
        _ = try advance(first, next: "t2", names: ["é"])
    }

    @Test func limitsOnKeysAndPagesStopAnEndlessListing() throws {
        var token: String? = nil
        var error: StorageError?
        var pages = 0
        do {
            for page in 0..<1000 {
                token = try advance(token, next: "t\(page)", names: ["k\(String(format: "%05d", page))"])
                pages += 1
            }
        } catch let caught as StorageError { error = caught }
        #expect(pages == 4)
        #expect(error?.message.contains("passed 5 pages") == true)
        #expect(error?.hint?.contains("max-list-keys") == true)
        token = nil
        error = nil
        do {
            for page in 0..<1000 {
                token = try advance(token, next: "t\(page)", names: (0..<4).map { "k\(String(format: "%05d", page))-\($0)" })
            }
        } catch let caught as StorageError { error = caught }
        #expect(error?.message.contains("passed 10 keys") == true)
        // Truncated without a token: an error, not a silently short listing.
        #expect(throws: StorageError.self) {
            _ = try ListingCursor.advance(previous: nil, next: nil, truncated: true, names: ["a"], limits: limits, subject: "b", settingHint: "x")
        }
    }
}

struct DownloadFileTests {
    @Test func aTemporaryFileIsLockedNamedAndRemovedUnlessCommitted() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bf-dl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let destination = directory.appendingPathComponent("out.bin")
        do {
            let file = try DownloadFile(destination: destination)
            let name = URL(fileURLWithPath: file.path).lastPathComponent
            #expect(name.hasPrefix(TemporaryFiles.prefix + "\(getpid())-"))
            // Locked by its writer: another descriptor cannot take the lock.
            let other = open(file.path, O_RDONLY)
            #expect(flock(other, LOCK_EX | LOCK_NB) != 0)
            close(other)
            // Writes stop at the limit.
            let written = try file.write(ByteBuffer(bytes: Array(repeating: 7, count: 100)), at: 0, limit: 60)
            #expect(written == 60)
            #expect(file.size == 60)
            #expect(try file.write(ByteBuffer(bytes: [1]), at: 60, limit: 60) == 0)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == [])
        let file = try DownloadFile(destination: destination)
        try file.write(ByteBuffer(bytes: [1, 2, 3]), at: 0, limit: 3)
        try file.commit()
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["out.bin"])
        #expect(try Data(contentsOf: destination) == Data([1, 2, 3]))
    }
}
