import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Storage

/// When and how long to wait before sending a failed request again.
///
/// Exponential backoff with full jitter (the delay is uniformly random
/// between zero and `min(cap, base × 2^(attempt-1))`), so many transfers that
/// failed together do not come back together.
struct S3RetryPolicy: Sendable {
    /// Attempts per request, counting the first.
    var maxAttempts: Int
    var base: Double = 0.1
    var cap: Double = 5

    /// The upper bound of the delay after failed attempt number `attempt` (1-based).
    func ceiling(afterAttempt attempt: Int) -> Double {
        min(cap, base * Double(1 << min(max(attempt - 1, 0), 20)))
    }

    /// The delay in seconds after failed attempt `attempt`; `unit` is a
    /// uniform random number in `0..<1` (injected so tests can pin it).
    func delay(afterAttempt attempt: Int, unit: Double = Double.random(in: 0..<1)) -> Double {
        ceiling(afterAttempt: attempt) * min(max(unit, 0), 1)
    }

    /// Whether sending the same request again may succeed: 5xx, throttling,
    /// request timeouts and broken connections; never another 4xx, never a
    /// cancellation.
    static func isRetryable(_ error: any Error) -> Bool {
        switch error {
        case let error as StorageError: return error.isRetryable
        case is CancellationError: return false
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

    /// Errors of the HTTP stack (connection, TLS, timeouts).
    static func isTransportError(_ error: any Error) -> Bool {
        error is HTTPClientError || error is HTTPParserError || error is NIOSSLError || error is IOError || error is ChannelError || error is NIOConnectionError
    }

    /// S3 error codes that mean "busy or broken right now, try again".
    static let retryableCodes: Set<String> = [
        "SlowDown", "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled", "RequestThrottledException",
        "TooManyRequests", "TooManyRequestsException", "RequestLimitExceeded", "BandwidthLimitExceeded", "ProvisionedThroughputExceededException",
        "RequestTimeout", "RequestTimeoutException", "InternalError", "ServiceUnavailable", "InternalFailure", "OperationAborted",
        "BadDigest", "IncompleteBody",
    ]
}
