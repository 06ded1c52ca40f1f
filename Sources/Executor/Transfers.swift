import Foundation
import Storage

/// Runs one closure per item with at most `limit` in flight, each also
/// holding a slot of the run's shared transfer budget; collects results in
/// input order. Cancellation stops new items and cancels running ones.
enum Transfers {
    static func forEach<Item: Sendable, Output: Sendable>(
        _ items: [Item], context: StepContext, limit: Int,
        _ body: @escaping @Sendable (Item) async throws -> Output
    ) async throws -> [Result<Output, any Error>] {
        var results = [Result<Output, any Error>?](repeating: nil, count: items.count)
        try await withThrowingTaskGroup(of: (Int, Result<Output, any Error>).self) { group in
            var next = 0
            func addNext() {
                let index = next
                let item = items[index]
                next += 1
                group.addTask {
                    do {
                        let output = try await context.withTransferSlot { try await body(item) }
                        return (index, .success(output))
                    } catch {
                        if Task.isCancelled || error is CancellationError { throw CancellationError() }
                        return (index, .failure(error))
                    }
                }
            }
            while next < items.count && next < max(1, limit) { addNext() }
            while let (index, result) = try await group.next() {
                results[index] = result
                if next < items.count { addNext() }
            }
        }
        return results.map { $0! }
    }
}
