import Workflow
/// A step ran longer than its `timeout:`.
struct TimeoutError: Error, Sendable {
    var seconds: Double
}

/// Runs `body`, cancelling it and throwing ``TimeoutError`` after `seconds`.
func withTimeout<T: Sendable>(_ seconds: Double?, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    // A limit that no Duration can hold (validation caps literal timeouts)
    // is no limit, never a trap.
    guard let seconds, let limit = Units.duration(seconds: seconds) else { return try await body() }
    return try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw TimeoutError(seconds: seconds)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}
