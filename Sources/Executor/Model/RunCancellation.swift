import Synchronization

/// Cancels a run from outside (a signal handler, a test, a timeout).
///
/// Cancelling the task that calls ``Executor/run(cancellation:)`` has the
/// same effect. The run stops starting steps, cancels the attempts in flight
/// (they record their in-flight objects as cancelled), then still runs the
/// cleanup steps whose `if:` asks for `cancelled()`, in fresh tasks that the
/// cancellation does not reach.
public final class RunCancellation: Sendable {
    private struct State {
        var cancelled = false
        var cancellers: [Int: @Sendable () -> Void] = [:]
        var next = 0
    }
    private let state = Mutex(State())

    public init() {}

    public var isCancelled: Bool { state.withLock { $0.cancelled } }

    public func cancel() {
        let cancellers = state.withLock { state -> [@Sendable () -> Void] in
            guard !state.cancelled else { return [] }
            state.cancelled = true
            return Array(state.cancellers.values)
        }
        for cancel in cancellers { cancel() }
    }

    /// Runs `work` in a task of its own. With `cancellable`, ``cancel()``
    /// cancels it (also when the run was cancelled before it started);
    /// without, nothing does (cleanup steps).
    func run<T: Sendable>(cancellable: Bool, _ work: @escaping @Sendable () async -> T) async -> T {
        let task = Task { await work() }
        guard cancellable else { return await task.value }
        let token = state.withLock { state -> Int? in
            if state.cancelled { return nil }
            state.next += 1
            state.cancellers[state.next] = { task.cancel() }
            return state.next
        }
        guard let token else {
            task.cancel()
            return await task.value
        }
        let value = await task.value
        state.withLock { _ = $0.cancellers.removeValue(forKey: token) }
        return value
    }
}
