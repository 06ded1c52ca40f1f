import Foundation
import Testing
import NIOCore
import HTTPTransport
import Storage

/// Part buffers paid for from a shared budget: reused within an upload,
/// handed back when others wait, released when the upload ends or fails.
struct PartBuffersTests {
    /// Uploads `parts` parts through `buffers`, `concurrency` at a time,
    /// each "sent" by yielding.
    static func upload(_ buffers: PartBuffers, parts: Int, concurrency: Int) async throws {
        _ = try await concurrently(count: parts, limit: concurrency) { _ in
            try await buffers.reserve()
            var buffer = buffers.take()
            buffer.writeRepeatingByte(1, count: buffers.capacity)
            await Task.yield()
            await buffers.give(consume buffer)
        }
    }

    @Test func anUploadReusesItsBuffersAndReleasesThemAtTheEnd() async throws {
        let budget = MemoryBudget(capacity: 100)
        let buffers = PartBuffers(capacity: 10, parts: 30, budget: budget)
        try await Self.upload(buffers, parts: 30, concurrency: 3)
        #expect(budget.highWater <= 30)
        #expect(budget.held == 0)
    }

    @Test func manyUploadsOnATinyBudgetAllFinishWithinIt() async throws {
        let budget = MemoryBudget(capacity: 25)
        try await withResponseDeadline(seconds: 120) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<40 {
                    group.addTask {
                        try await Self.upload(PartBuffers(capacity: 10, parts: 12, budget: budget), parts: 12, concurrency: 4)
                    }
                }
                try await group.waitForAll()
            }
        }
        #expect(budget.highWater <= 20)  // two 10-byte parts fit in 25
        #expect(budget.held == 0)
    }

    @Test func aPartLargerThanTheBudgetStillGoes() async throws {
        let budget = MemoryBudget(capacity: 8)
        try await Self.upload(PartBuffers(capacity: 10, parts: 5, budget: budget), parts: 5, concurrency: 4)
        #expect(budget.highWater == 8)
        #expect(budget.held == 0)
    }

    @Test func partsThatFailedAreReleasedWithTheirUpload() async throws {
        let budget = MemoryBudget(capacity: 100)
        struct Failed: Error {}
        do {
            let buffers = PartBuffers(capacity: 10, parts: 8, budget: budget)
            await #expect(throws: Failed.self) {
                _ = try await concurrently(count: 8, limit: 4) { index in
                    try await buffers.reserve()
                    let buffer = buffers.take()
                    if index == 2 { throw Failed() }
                    await buffers.give(consume buffer)
                }
            }
        }
        #expect(budget.held == 0)
    }
}
