import Foundation
import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Storage

/// When and how long to wait before sending a failed request again, shared
/// by every HTTP provider.
///
/// Exponential backoff with full jitter: the delay after failed attempt `n`
/// is uniformly random in `0 ..< min(cap, base × 2^(n-1))`, so transfers
/// that failed together do not come back together. 10 attempts by default,
/// like rclone and s5cmd (`--low-level-retries 10`, `--retry-count 10`).
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts per request, counting the first.
    public var maxAttempts: Int
    /// Seconds: the first delay's upper bound.
    public var base: Double
    /// Seconds: no delay is ever longer.
    public var cap: Double

    public static let defaultMaxAttempts = 10

    public init(maxAttempts: Int = RetryPolicy.defaultMaxAttempts, base: Double = 0.1, cap: Double = 20) {
        self.maxAttempts = max(1, maxAttempts)
        self.base = max(0, base)
        self.cap = max(0, cap)
    }

    /// The upper bound of the delay after failed attempt number `attempt` (1-based).
    public func ceiling(afterAttempt attempt: Int) -> Double {
        min(cap, base * Double(1 << min(max(attempt - 1, 0), 30)))
    }

    /// The delay in seconds after failed attempt `attempt`; `unit` is a
    /// uniform random number in `0..<1` (injected so tests can pin it). A
    /// server's `Retry-After` (seconds) replaces the jitter, still capped.
    public func delay(afterAttempt attempt: Int, retryAfter: Double? = nil, unit: Double = Double.random(in: 0..<1)) -> Double {
        if let retryAfter, retryAfter.isFinite { return min(max(retryAfter, 0), cap) }
        return ceiling(afterAttempt: attempt) * min(max(unit, 0), 1)
    }

    /// Sleeps for ``delay(afterAttempt:retryAfter:unit:)`` and counts the
    /// retry in ``TransferMetrics`` (the step's report).
    public func pause(afterAttempt attempt: Int, retryAfter: Double? = nil) async throws {
        TransferMetrics.current?.recordRetry()
        let seconds = delay(afterAttempt: attempt, retryAfter: retryAfter)
        try await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
    }

    /// HTTP statuses that mean "busy or broken right now": 5xx, 429
    /// (throttled), 408 (request timeout). Never another 4xx.
    public static func isRetryableStatus(_ status: UInt) -> Bool {
        status >= 500 || status == 429 || status == 408
    }

    /// Whether sending the same request again may succeed: a retryable
    /// ``StorageError``, request timeouts, refused or reset connections, a
    /// connection closed mid-body, the whole-response deadline; never a
    /// cancellation, never another client error.
    public static func isRetryable(_ error: any Error) -> Bool {
        switch error {
        case let error as StorageError: return error.isRetryable
        case is CancellationError: return false
        case is ResponseDeadlineExceeded: return true
        case let error as HTTPClientError:
            return [.remoteConnectionClosed, .readTimeout, .connectTimeout, .deadlineExceeded, .getConnectionFromPoolTimeout,
                    .writeTimeout, .tlsHandshakeTimeout, .requestStreamCancelled].contains(error)
        case let error as HTTPParserError:
            // The connection closed in the middle of a response.
            return error == .invalidEOFState
        case let error as NIOSSLError:
            if case .uncleanShutdown = error { return true }
            return false
        case is IOError, is ChannelError, is NIOConnectionError: return true
        default: return false
        }
    }

    /// Errors of the HTTP stack (connection, TLS, timeouts, deadline).
    public static func isTransportError(_ error: any Error) -> Bool {
        error is HTTPClientError || error is HTTPParserError || error is NIOSSLError || error is IOError || error is ChannelError
            || error is NIOConnectionError || error is ResponseDeadlineExceeded
    }
}
