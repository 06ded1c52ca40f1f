public import NIOCore
public import Storage
import Synchronization

/// The part buffers of one multipart upload, paid for from the run's
/// ``MemoryBudget``.
///
/// Each part first waits for a buffer (``reserve()``): one this upload
/// already holds and no part is using, else room in the budget for a new
/// one. A finished part gives its buffer back (``give(_:)``): it is kept for
/// the next part (no fresh multi-MiB allocation per part) unless another
/// transfer is waiting for the budget or no part is left to need it, in
/// which case its bytes go back to the budget. So an upload never holds a
/// buffer while someone else waits for the bytes, and it needs no more
/// budget to finish the parts it already holds: progress is guaranteed
/// however many transfers share a small budget.
///
/// A buffer goes back (or is reused) only once nothing else references it:
/// the HTTP client lets go of a finished part's buffer a moment after its
/// request ends, and the budget counts bytes actually held.
public final class PartBuffers: Sendable {
    private struct State {
        /// Buffers held, idle and uniquely ours.
        var free: [ByteBuffer] = []
        /// Free buffers claimed by ``reserve()`` for the next ``take()``.
        var claimed: [ByteBuffer] = []
        /// Budget acquired by ``reserve()`` for new buffers not yet taken.
        var unallocated = 0
        /// Parts not reserved yet.
        var partsLeft: Int
        /// Bytes held from the budget, in every state.
        var held: Int64 = 0
    }
    private let state: Mutex<State>
    public let capacity: Int
    public let budget: MemoryBudget
    /// Bytes one buffer holds from the budget (a part larger than the
    /// whole budget holds all of it).
    private let cost: Int64

    /// - Parameters:
    ///   - capacity: Bytes of each buffer (the part size).
    ///   - parts: How many parts the upload has.
    ///   - budget: Where the bytes come from.
    public init(capacity: Int, parts: Int, budget: MemoryBudget) {
        self.capacity = capacity
        self.budget = budget
        self.cost = min(Int64(capacity), budget.capacity)
        self.state = Mutex(State(partsLeft: parts))
    }

    /// How many parts of this upload to run at once: `wanted`, but no more
    /// than the whole budget holds (at least one), so an upload never
    /// waits for budget that only its own parts hold.
    public func concurrency(_ wanted: Int) -> Int {
        max(1, min(wanted, Int(budget.capacity / max(1, cost))))
    }

    /// Waits until ``take()`` can hand out a buffer: claims an idle one, or
    /// acquires a buffer's bytes from the budget.
    ///
    /// - Throws: `CancellationError` when cancelled while waiting.
    public func reserve() async throws {
        let reused = state.withLock { state -> Bool in
            state.partsLeft -= 1
            guard let buffer = state.free.popLast() else { return false }
            state.claimed.append(buffer)
            return true
        }
        if reused { return }
        let bytes = try await budget.acquire(cost)
        state.withLock { state in
            state.held += bytes
            state.unallocated += 1
        }
    }

    /// The buffer ``reserve()`` made ready, empty and uniquely referenced,
    /// so filling it never copies.
    public func take() -> ByteBuffer {
        var buffer = state.withLock { state -> ByteBuffer? in
            if let buffer = state.claimed.popLast() { return buffer }
            state.unallocated -= 1
            return nil
        } ?? ByteBufferAllocator().buffer(capacity: capacity)
        buffer.clear()
        return buffer
    }

    /// Hands a buffer back once its part is sent: kept for the next part, or
    /// its bytes returned to the budget when someone waits for them or no
    /// part is left. Waits (briefly) until the HTTP client has let go of it.
    public func give(_ buffer: consuming ByteBuffer) async {
        var buffer = buffer
        for _ in 0..<200 {
            if buffer.modifyIfUniquelyOwned({ _ in true }) != nil { break }
            do { try await Task.sleep(for: .milliseconds(1)) } catch { break }
        }
        let release = state.withLock { state -> Int64 in
            if state.partsLeft > state.free.count && budget.waiting == 0 {
                state.free.append(buffer)
                return 0
            }
            let bytes = min(state.held, cost)
            state.held -= bytes
            return bytes
        }
        budget.release(release)
    }

    deinit {
        // Parts that failed never gave their buffers back.
        budget.release(state.withLock { $0.held })
    }
}
