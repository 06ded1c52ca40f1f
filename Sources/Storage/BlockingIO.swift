import Dispatch
import Synchronization

/// Runs blocking file-system work on a Dispatch thread instead of Swift's
/// cooperative pool (which has one thread per core: a few large copies
/// there would starve timers, cancellation and every other step).
///
/// The work receives a ``CancellationFlag`` to poll between chunks; it is
/// raised when the calling task is cancelled.
public enum BlockingIO {
    public static func run<T: Sendable>(_ work: @escaping @Sendable (CancellationFlag) throws -> T) async throws -> T {
        let flag = CancellationFlag()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                DispatchQueue.global().async {
                    continuation.resume(with: Result { try work(flag) })
                }
            }
        } onCancel: {
            flag.cancel()
        }
    }
}

/// Raised when the task that started blocking work is cancelled.
public final class CancellationFlag: Sendable {
    private let state = Atomic<Bool>(false)

    public init() {}

    public func cancel() { state.store(true, ordering: .relaxed) }

    public var isCancelled: Bool { state.load(ordering: .relaxed) }

    /// Throws `CancellationError` once cancelled.
    public func check() throws {
        if isCancelled { throw CancellationError() }
    }
}
