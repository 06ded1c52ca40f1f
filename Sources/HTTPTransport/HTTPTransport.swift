import Foundation
public import AsyncHTTPClient
import Logging
public import NIOCore
import NIOSSL
public import Storage
import Synchronization

/// Timeouts of one HTTP provider's requests.
public struct HTTPTimeouts: Sendable, Equatable {
    /// Seconds to establish a connection (TCP and TLS).
    public var connect: Double = 10
    /// Seconds a connection may stay silent while a response is read (idle timeout).
    public var read: Double = 60
    /// Seconds one request may take to send its body and receive the response head.
    public var request: Double = 300
    /// The whole-response deadline, on top of the idle timeout: seconds one
    /// request may take from sending to the last byte of its response, plus
    /// one second per ``minimumBytesPerSecond`` bytes of body expected. A
    /// server that trickles a byte every few seconds never trips the idle
    /// timeout, but trips this.
    public var response: Double = 600
    /// The slowest transfer rate the whole-response deadline allows for on
    /// top of ``response`` (bytes per second).
    public var minimumBytesPerSecond: Double = 64 * 1024

    public init() {}

    /// The whole-response deadline (seconds) of a request moving `bytes` bytes.
    public func responseDeadline(forBytes bytes: Int64) -> Double {
        response + Double(max(0, bytes)) / max(1, minimumBytesPerSecond)
    }

    public static func timeAmount(_ seconds: Double) -> TimeAmount {
        guard seconds.isFinite else { return .hours(24 * 365) }
        return .milliseconds(Int64(min(max(0.001, seconds), 1e9) * 1000))
    }
}

/// The one HTTP layer every HTTP provider (S3, B2) sends through: a pooled
/// `HTTPClient` with connect, idle and per-request timeouts, a
/// whole-response deadline, the retry policy, and the redaction of server
/// messages. Providers build requests and interpret answers; how bytes
/// travel, when to retry and what may be shown is decided here.
public final class HTTPTransport: Sendable {
    public let client: HTTPClient
    public let timeouts: HTTPTimeouts
    public let retryPolicy: RetryPolicy
    let logger: Logger
    private let redactor: Mutex<Redactor>
    private let isShutDown = Atomic<Bool>(false)

    /// - Parameters:
    ///   - scheme: `http` or `https` of the endpoint.
    ///   - caBundle: For https: a PEM file of CA certificates added to the
    ///     system trust roots (S3 passes `AWS_CA_BUNDLE`, as AWS tools do).
    ///     Never read for http, so a bundle meant for elsewhere cannot break
    ///     a loopback server.
    ///   - caBundleVariable: The variable `caBundle` came from, for messages.
    ///   - secrets: Values to mask in every server message (secret keys,
    ///     session tokens); more can be added later (``addSecrets(_:)``).
    /// - Throws: `.invalidConfiguration` for an unreadable CA bundle.
    public init(scheme: String, timeouts: HTTPTimeouts, retryPolicy: RetryPolicy, caBundle: String? = nil, caBundleVariable: String = "AWS_CA_BUNDLE",
                secrets: [String] = [], label: String) throws(StorageError) {
        var http = HTTPClient.Configuration()
        http.timeout = .init(connect: HTTPTimeouts.timeAmount(timeouts.connect), read: HTTPTimeouts.timeAmount(timeouts.read))
        // Many transfers times parts in flight share one host: keep their
        // connections instead of re-dialling.
        http.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        // A refused connection fails the request at once; the retry policy
        // (with its backoff and metrics) decides what happens next, instead
        // of the pool re-dialling silently until the connect timeout.
        http.connectionPool.retryConnectionEstablishment = false
        http.decompression = .disabled
        http.redirectConfiguration = .disallow
        if scheme.lowercased() == "https" {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = .fullVerification
            if let bundle = caBundle, !bundle.isEmpty {
                guard FileManager.default.isReadableFile(atPath: bundle) else {
                    throw StorageError(.invalidConfiguration, "\(caBundleVariable) names \(bundle), which is not a readable file", hint: "point it at a PEM file of CA certificates, or unset it")
                }
                tls.additionalTrustRoots = [.file(bundle)]
            }
            http.tlsConfiguration = tls
        }
        self.client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: http)
        self.timeouts = timeouts
        self.retryPolicy = retryPolicy
        self.logger = Logger(label: label)
        self.redactor = Mutex(Redactor(secrets: secrets))
    }

    /// Sends `request` once (counted in ``TransferMetrics``), with the
    /// per-request timeout up to the response head.
    public func send(_ request: HTTPClientRequest) async throws -> HTTPClientResponse {
        TransferMetrics.current?.recordRequest()
        return try await client.execute(request, timeout: HTTPTimeouts.timeAmount(timeouts.request), logger: logger)
    }

    /// Runs one attempt of a request (send and consume the response) under
    /// the whole-response deadline for `bytes` bytes of body.
    public func withDeadline<T: Sendable>(bytes: Int64, _ body: @Sendable () async throws -> T) async throws -> T {
        try await withResponseDeadline(seconds: timeouts.responseDeadline(forBytes: bytes), body)
    }

    /// Runs `attempt` (given its 1-based number) until it succeeds, fails
    /// with an error ``RetryPolicy/isRetryable(_:)`` refuses, or runs out of
    /// attempts; then throws the last error as `describe(error, attempts)`
    /// makes it, redacted. Each retry waits with backoff and is counted.
    public func retrying<T: Sendable>(
        operation: String,
        _ attempt: (Int) async throws -> T,
        describe: (any Error, Int) -> any Error
    ) async throws -> T {
        var number = 1
        while true {
            do {
                return try await attempt(number)
            } catch {
                if Task.isCancelled || error is CancellationError { throw CancellationError() }
                guard number < retryPolicy.maxAttempts, RetryPolicy.isRetryable(error) else {
                    throw redact(describe(error, number))
                }
                logger.debug("retrying \(operation) after \(redact(String(describing: error)))", metadata: ["attempt": "\(number)"])
                try await retryPolicy.pause(afterAttempt: number)
                number += 1
            }
        }
    }

    // MARK: Redaction

    /// Adds values to mask (a token obtained later, e.g. B2's auth token).
    public func addSecrets(_ values: [String]) {
        redactor.withLock { $0 = $0.adding(values) }
    }

    /// `text` without signatures, credentials or configured secrets.
    public func redact(_ text: String) -> String {
        redactor.withLock { $0 }.redact(text)
    }

    /// A ``StorageError``'s message and hint redacted; other errors pass.
    public func redact(_ error: any Error) -> any Error {
        guard var error = error as? StorageError else { return error }
        let redactor = self.redactor.withLock { $0 }
        error.message = redactor.redact(error.message)
        error.hint = error.hint.map(redactor.redact)
        return error
    }

    /// "operation on subject failed talking to base: connection refused (errno 111)".
    public func transportError(_ error: any Error, operation: String, subject: String, peer: String, attempts: Int, hint: String) -> StorageError {
        let retryable = RetryPolicy.isRetryable(error)
        let after = attempts > 1 ? " (after \(attempts) attempts)" : ""
        return StorageError(retryable ? .transient : .other,
                            redact("\(operation) on \(subject) failed talking to \(peer): \(TransportErrorText.describe(error))\(after)"),
                            hint: hint, isRetryable: retryable)
    }

    /// Shuts the HTTP client down; later calls do nothing.
    public func shutdown() async throws {
        guard !isShutDown.exchange(true, ordering: .acquiringAndReleasing) else { return }
        try await client.shutdown()
    }

    deinit {
        // A provider dropped without shutdown() (an error path) still closes
        // its connections; the callback form never blocks the caller.
        if !isShutDown.exchange(true, ordering: .acquiringAndReleasing) {
            client.shutdown { _ in }
        }
    }
}

/// A request's response did not complete within the whole-response deadline.
public struct ResponseDeadlineExceeded: Error, Sendable, CustomStringConvertible {
    public var seconds: Double
    public var description: String {
        "the response did not complete within \(Int(seconds.rounded(.up))) s (whole-response deadline; the server may be trickling bytes)"
    }
}

/// Runs `body`, cancelling it and throwing ``ResponseDeadlineExceeded``
/// when it takes longer than `seconds`.
public func withResponseDeadline<T: Sendable>(seconds: Double, _ body: @Sendable () async throws -> T) async throws -> T {
    guard seconds.isFinite, seconds > 0, seconds < 1e9 else { return try await body() }
    return try await withoutActuallyEscaping(body) { body in
        // The group waits for both children before it returns, so `body`
        // never outlives this call.
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw CancellationError() }
            guard let value = first else { throw ResponseDeadlineExceeded(seconds: seconds) }
            return value
        }
    }
}
