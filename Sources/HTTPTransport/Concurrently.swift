/// Runs `body` for every index in `0..<count` with at most `limit` running
/// at once, adding a task only when one finishes (so a 10,000-part object
/// never has 10,000 tasks). The first error cancels the others and is
/// thrown; results come back in index order.
public func concurrently<T: Sendable>(count: Int, limit: Int, _ body: @escaping @Sendable (Int) async throws -> T) async throws -> [T] {
    guard count > 0 else { return [] }
    var results = [T?](repeating: nil, count: count)
    try await withThrowingTaskGroup(of: (Int, T).self) { group in
        var next = 0
        func add() {
            let index = next
            next += 1
            group.addTask { (index, try await body(index)) }
        }
        for _ in 0..<min(max(1, limit), count) { add() }
        while let (index, value) = try await group.next() {
            results[index] = value
            if next < count {
                try Task.checkCancellation()
                add()
            }
        }
    }
    return results.map { $0! }
}
