import Synchronization

/// The bytes of transfer buffers one run may hold at once, shared by every
/// transfer of the run, across storages and providers: S3 multipart part
/// buffers and single-PUT bodies read into memory, B2 large-file parts and
/// small uploads read into memory.
///
/// A transfer asks for the bytes of one buffer (``acquire(_:)``) before it
/// fills it and gives them back (``release(_:)``) once the buffer is gone,
/// never asking for more while it waits. So every holder can finish without
/// more budget, and a run never deadlocks however many transfers and parts
/// share a small budget: a transfer holding some parts while waiting for
/// more still completes the parts it holds, which releases their bytes.
///
/// - Waiters are served first come, first served: a large request is never
///   overtaken forever by small ones.
/// - A request larger than the whole budget is clamped to it, so it still
///   proceeds, alone.
/// - A waiter whose task is cancelled stops waiting (`CancellationError`)
///   and holds nothing.
///
/// What it does not bound: the process's own baseline (runtime, HTTP client,
/// event loops), and the few kilobytes each connection buffers while a body
/// streams between disk and network.
public final class MemoryBudget: Sendable {
    /// The most bytes held at once.
    public let capacity: Int64

    /// S3's smallest part: a smaller budget could not hold one part.
    public static let minimumCapacity: Int64 = 5 << 20
    /// The largest budget `--memory-budget` accepts (1 TiB): more than any
    /// machine lends one run, and far from overflowing a byte count.
    public static let maximumCapacity: Int64 = 1 << 40
    /// The budget of a run that sets none (`--memory-budget`).
    public static let defaultCapacity: Int64 = 20 << 20
    /// The budget of transfers made outside a run (tests, tools): one per
    /// process, ``defaultCapacity`` bytes.
    public static let process = MemoryBudget(capacity: defaultCapacity)

    private struct Waiter {
        var id: UInt64
        var bytes: Int64
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var available: Int64
        /// FIFO; `head` indexes the first live waiter (amortized O(1) removal).
        var waiters: [Waiter] = []
        var head = 0
        var nextID: UInt64 = 0
        var highWater: Int64 = 0

        var queued: Int { waiters.count - head }

        mutating func compact() {
            if head > 64 && head * 2 > waiters.count {
                waiters.removeFirst(head)
                head = 0
            }
        }

        /// Grants the waiters at the head that now fit, in order.
        mutating func grantable(capacity: Int64) -> [CheckedContinuation<Void, any Error>] {
            var granted: [CheckedContinuation<Void, any Error>] = []
            while head < waiters.count, waiters[head].bytes <= available {
                available -= waiters[head].bytes
                granted.append(waiters[head].continuation)
                head += 1
            }
            highWater = max(highWater, capacity - available)
            compact()
            return granted
        }
    }

    private let state: Mutex<State>

    /// - Parameter capacity: Bytes; at least 1.
    public init(capacity: Int64) {
        self.capacity = max(1, capacity)
        self.state = Mutex(State(available: max(1, capacity)))
    }

    /// Waits until `bytes` (clamped to ``capacity``) are free and every
    /// earlier waiter is served, then holds them.
    ///
    /// - Returns: The bytes held, to hand back to ``release(_:)``.
    /// - Throws: `CancellationError` when the task is (or gets) cancelled
    ///   before the bytes are granted; nothing is held then.
    public func acquire(_ bytes: Int64) async throws -> Int64 {
        let bytes = min(max(0, bytes), capacity)
        try Task.checkCancellation()
        if bytes == 0 { return 0 }
        let immediate = state.withLock { state -> Bool in
            guard state.queued == 0, state.available >= bytes else { return false }
            state.available -= bytes
            state.highWater = max(state.highWater, capacity - state.available)
            return true
        }
        if immediate { return bytes }
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome = state.withLock { state -> Bool? in
                    // The cancellation handler ran before we queued: give up.
                    if Task.isCancelled { return nil }
                    if state.queued == 0, state.available >= bytes {
                        state.available -= bytes
                        state.highWater = max(state.highWater, capacity - state.available)
                        return true
                    }
                    state.waiters.append(Waiter(id: id, bytes: bytes, continuation: continuation))
                    return false
                }
                switch outcome {
                case nil: continuation.resume(throwing: CancellationError())
                case true?: continuation.resume()
                case false?: break
                }
            }
        } onCancel: {
            let (removed, granted) = state.withLock { state -> (CheckedContinuation<Void, any Error>?, [CheckedContinuation<Void, any Error>]) in
                guard let index = state.waiters[state.head...].firstIndex(where: { $0.id == id }) else { return (nil, []) }
                let waiter = state.waiters.remove(at: index)
                // A large waiter leaving the head may let smaller ones behind it go.
                return (waiter.continuation, state.grantable(capacity: capacity))
            }
            removed?.resume(throwing: CancellationError())
            for continuation in granted { continuation.resume() }
        }
        return bytes
    }

    /// Gives back bytes ``acquire(_:)`` returned and wakes the waiters that
    /// now fit, in order.
    public func release(_ bytes: Int64) {
        guard bytes > 0 else { return }
        let granted = state.withLock { state in
            state.available = min(capacity, state.available + bytes)
            return state.grantable(capacity: capacity)
        }
        for continuation in granted { continuation.resume() }
    }

    /// Bytes held right now.
    public var held: Int64 { state.withLock { capacity - $0.available } }

    /// The most bytes held at once since the budget was made.
    public var highWater: Int64 { state.withLock { $0.highWater } }

    /// Requests waiting right now.
    public var waiting: Int { state.withLock { $0.queued } }

    /// The part size a transfer should use so that `concurrency` parts fit
    /// in the budget: `preferred`, made smaller when the budget holds fewer
    /// than `concurrency` of it, never below `minimum`.
    public func partSize(preferred: Int64, concurrency: Int, minimum: Int64) -> Int64 {
        max(minimum, min(preferred, capacity / Int64(max(1, concurrency))))
    }
}
