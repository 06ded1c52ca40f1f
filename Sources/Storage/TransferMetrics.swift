import Synchronization

/// Counters a provider bumps while it works for one step, read by the
/// executor into the run report.
///
/// The executor binds one instance per step attempt with
/// `TransferMetrics.$current.withValue(...)`; providers call
/// `TransferMetrics.current?.recordRetry()` and never need to know about steps.
public final class TransferMetrics: Sendable {
    @TaskLocal public static var current: TransferMetrics?

    private struct Counts {
        var retries = 0
        var requests = 0
    }
    private let counts = Mutex(Counts())

    public init() {}

    /// A request was sent (successful or not).
    public func recordRequest() { counts.withLock { $0.requests += 1 } }
    /// A request was retried after a retryable failure.
    public func recordRetry() { counts.withLock { $0.retries += 1 } }

    public var retries: Int { counts.withLock { $0.retries } }
    public var requests: Int { counts.withLock { $0.requests } }
}

/// Where a provider reports bytes as they stream (for live progress).
///
/// The executor binds one callback per object transfer with
/// `ByteProgress.$current.withValue(...)`; providers call
/// `ByteProgress.current?(count)` with each chunk's size from their async
/// streaming loops. Task-locals do not reach Dispatch threads: blocking loops
/// must capture `ByteProgress.current` before leaving the task.
public enum ByteProgress {
    @TaskLocal public static var current: (@Sendable (Int64) -> Void)?
}
