import NIOCore
import Synchronization

/// Part-sized buffers reused across the parts of one multipart upload, so
/// a large upload holds about `count` buffers instead of allocating one per
/// part (fresh multi-MiB allocations per part, some still referenced by the
/// HTTP client for a moment after their request ended, pushed peak memory
/// to twice the parts in flight).
final class PartBuffers: Sendable {
    private struct State {
        var free: [ByteBuffer] = []
        var allocated = 0
    }
    private let state = Mutex(State())
    let capacity: Int
    let count: Int

    init(capacity: Int, count: Int) {
        self.capacity = capacity
        self.count = max(1, count)
    }

    /// Waits (briefly) until ``take()`` can hand out a buffer without
    /// allocating beyond `count`: the HTTP client lets go of a finished
    /// part's buffer a moment after its request ends.
    func waitUntilAvailable() async {
        for _ in 0..<200 {
            let ready = state.withLock { state in
                state.allocated < count || state.free.indices.contains { state.free[$0].modifyIfUniquelyOwned({ _ in true }) != nil }
            }
            if ready { return }
            try? await Task.sleep(for: .milliseconds(1))
        }
    }

    /// An empty buffer of at least `capacity` bytes that nothing else
    /// references, so filling it never copies: a free one, else a new one.
    func take() -> ByteBuffer {
        var buffer = state.withLock { state -> ByteBuffer in
            for index in state.free.indices where state.free[index].modifyIfUniquelyOwned({ _ in true }) != nil {
                return state.free.remove(at: index)
            }
            state.allocated += 1
            return ByteBufferAllocator().buffer(capacity: capacity)
        }
        buffer.clear()
        return buffer
    }

    /// Hands a buffer back once its part is uploaded.
    func give(_ buffer: ByteBuffer) {
        state.withLock { $0.free.append(buffer) }
    }
}
