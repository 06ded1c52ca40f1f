import Foundation
import Testing
import Storage

/// The run-wide byte budget: clamping, first come first served, cancellation,
/// and progress with many holders on a tiny budget.
struct MemoryBudgetTests {
    /// Waits (yielding, no sleeps) until `condition` holds; a generous cap
    /// only guards against a hang.
    static func eventually(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw TimedOut() }
            await Task.yield()
        }
    }
    struct TimedOut: Error {}

    @Test func aRequestLargerThanTheBudgetIsClampedAndProceedsAlone() async throws {
        let budget = MemoryBudget(capacity: 10)
        let held = try await budget.acquire(100)
        #expect(held == 10)
        #expect(budget.held == 10)
        budget.release(held)
        #expect(budget.held == 0)
        #expect(try await budget.acquire(0) == 0)
    }

    @Test func waitersAreServedInOrderAndSmallOnesDoNotOvertake() async throws {
        let budget = MemoryBudget(capacity: 10)
        let all = try await budget.acquire(10)
        let big = Task { try await budget.acquire(8) }
        try await Self.eventually { budget.waiting == 1 }
        let small = Task { try await budget.acquire(2) }
        try await Self.eventually { budget.waiting == 2 }
        budget.release(2)
        // 2 bytes are free and the small request would fit, but the big one came first.
        #expect(budget.waiting == 2)
        #expect(budget.held == 8)
        budget.release(all - 2)
        #expect(budget.waiting == 0)
        #expect(budget.held == 10)
        #expect(try await big.value == 8)
        #expect(try await small.value == 2)
        budget.release(10)
        #expect(budget.held == 0)
        #expect(budget.highWater == 10)
    }

    @Test func aCancelledWaiterHoldsNothingAndLetsThoseBehindItGo() async throws {
        let budget = MemoryBudget(capacity: 10)
        let six = try await budget.acquire(6)
        let big = Task { try await budget.acquire(8) }
        try await Self.eventually { budget.waiting == 1 }
        let small = Task { try await budget.acquire(2) }
        try await Self.eventually { budget.waiting == 2 }
        big.cancel()
        await #expect(throws: CancellationError.self) { try await big.value }
        #expect(try await small.value == 2)
        #expect(budget.waiting == 0)
        #expect(budget.held == 8)
        budget.release(six)
        budget.release(2)
        #expect(budget.held == 0)
    }

    @Test func aCancelledTaskAcquiresNothing() async throws {
        let budget = MemoryBudget(capacity: 10)
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await budget.acquire(1)
        }
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(budget.held == 0)
    }

    /// 50 transfers of 20 parts each, 4 parts of each in flight, on a
    /// budget of 3 parts: every part holds its bytes only while it runs,
    /// so everything finishes and the budget is never exceeded.
    @Test func manyTransfersOfManyPartsOnATinyBudgetAllFinish() async throws {
        let budget = MemoryBudget(capacity: 3 * 5)
        let finished = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<50 {
                group.addTask {
                    try await withThrowingTaskGroup(of: Void.self) { parts in
                        for _ in 0..<20 {
                            parts.addTask {
                                let held = try await budget.acquire(5)
                                await Task.yield()
                                budget.release(held)
                            }
                        }
                        try await parts.waitForAll()
                    }
                    return 1
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(finished == 50)
        #expect(budget.held == 0)
        #expect(budget.highWater <= 15)
    }

    @Test func partsShrinkToFitTheConcurrencyButNotBelowTheMinimum() {
        let budget = MemoryBudget(capacity: 32 << 20)
        #expect(budget.partSize(preferred: 16 << 20, concurrency: 4, minimum: 5 << 20) == 8 << 20)
        #expect(budget.partSize(preferred: 16 << 20, concurrency: 1, minimum: 5 << 20) == 16 << 20)
        #expect(budget.partSize(preferred: 16 << 20, concurrency: 16, minimum: 5 << 20) == 5 << 20)
    }
}
