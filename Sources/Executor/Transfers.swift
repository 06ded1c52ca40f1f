import Foundation
import Storage
import Synchronization
import Workflow

/// Runs one closure per object with at most `limit` in flight, each also
/// holding a slot of the run's shared transfer budget, and records every
/// object's outcome in the step's journal the moment it is known.
///
/// Cancellation stops new items; items in flight are recorded as cancelled
/// and `CancellationError` is thrown once they have all ended.
enum Transfers {
    /// What one item came to when its body returned.
    enum ItemResult: Sendable {
        case transferred(TransferResult)
        case unchanged
    }

    /// How an item is named in the report.
    struct Ref: Sendable {
        var operation: ObjectOperation
        var source: String?
        var target: String?
        var bytes: Int64
    }

    /// - Returns: Per item, in input order, its result, or nil when it
    ///   failed or was refused (the journal has the reason).
    ///
    /// - Parameter reconcile: For an item cancelled in flight, asks the
    ///   destination whether the transfer landed anyway (a server can commit
    ///   an upload whose response the client never read). When it returns a
    ///   result, the item is recorded as transferred: the report says what is
    ///   on the server. It runs outside the cancellation, for at most 10 s.
    static func forEach<Item: Sendable>(
        _ items: [Item], context: StepContext, limit: Int,
        ref: @escaping @Sendable (Item) -> Ref,
        reconcile: (@Sendable (Item) async -> TransferResult?)? = nil,
        _ body: @escaping @Sendable (Item) async throws -> ItemResult
    ) async throws -> [ItemResult?] {
        let journal = context.journal
        var results = [ItemResult?](repeating: nil, count: items.count)
        var cancelled = false
        await withTaskGroup(of: (Int, ItemResult?, Bool).self) { group in
            var next = 0
            func addNext() {
                let index = next
                let item = items[index]
                next += 1
                group.addTask {
                    let name = ref(item)
                    let step = context.step.id
                    let started = Mutex<Date?>(nil)
                    // Bytes this object has streamed so far, for live progress.
                    let streamed = Mutex<Int64>(0)
                    defer { if !context.dryRun { RunProgress.shared.settled(step: step, bytes: streamed.withLock { $0 }) } }
                    func times() -> (String?, String?) {
                        (started.withLock { $0 }.map(Timestamps.rfc3339), Timestamps.rfc3339(Date()))
                    }
                    do {
                        try Task.checkCancellation()
                        let report: @Sendable (Int64) -> Void = { bytes in
                            streamed.withLock { $0 += bytes }
                            RunProgress.shared.moved(step: step, bytes: bytes)
                        }
                        let output = try await context.withTransferSlot {
                            started.withLock { $0 = Date() }
                            return try await withByteProgress(report) { try await body(item) }
                        }
                        let (from, to) = times()
                        switch output {
                        case .transferred(let transfer):
                            journal.record(ObjectRecord(operation: name.operation, outcome: .transferred, source: name.source, target: name.target, bytes: transfer.bytes, checksums: transfer.checksums, startedAt: from, finishedAt: to))
                        case .unchanged:
                            journal.record(ObjectRecord(operation: name.operation, outcome: .unchanged, source: name.source, target: name.target, bytes: name.bytes, startedAt: from, finishedAt: to))
                        }
                        return (index, output, false)
                    } catch {
                        let (from, to) = times()
                        if Task.isCancelled || error is CancellationError {
                            if let reconcile, started.withLock({ $0 }) != nil,
                               let landed = await Task.detached(operation: { try? await withTimeout(10) { await settle(item, reconcile) } }).value.flatMap({ $0 }) {
                                let (from, to) = times()
                                journal.record(ObjectRecord(operation: name.operation, outcome: .transferred, source: name.source, target: name.target, bytes: landed.bytes, checksums: landed.checksums, startedAt: from, finishedAt: to))
                                return (index, .transferred(landed), true)
                            }
                            journal.record(ObjectRecord(operation: name.operation, outcome: .cancelled, source: name.source, target: name.target, bytes: name.bytes, startedAt: from, finishedAt: from == nil ? nil : to))
                            return (index, nil, true)
                        }
                        let detail = Executor.stepError(error)
                        journal.record(ObjectRecord(operation: name.operation, outcome: detail.code == .unsafeKey ? .refused : .failed, source: name.source, target: name.target, bytes: name.bytes, error: ErrorInfo(detail), startedAt: from, finishedAt: to))
                        return (index, nil, false)
                    }
                }
            }
            while next < items.count && next < max(1, limit) { addNext() }
            while let (index, result, wasCancelled) = await group.next() {
                results[index] = result
                if wasCancelled { cancelled = true }
                if next < items.count && !Task.isCancelled { addNext() }
            }
        }
        if cancelled || Task.isCancelled { throw CancellationError() }
        return results
    }

    /// Runs `body` with ``ByteProgress/current`` bound to `report`, through
    /// the unspecialized `withValue`: the optimizer's specialization of
    /// `TaskLocal<(@Sendable (Int64) -> Void)?>.withValue` passes a bad type
    /// to `swift_task_localValuePush` and crashed every transfer of release
    /// builds (Swift 6.3.1), inlined or not.
    @inline(never) @_optimize(none)
    static func withByteProgress(_ report: @escaping @Sendable (Int64) -> Void, _ body: @Sendable () async throws -> ItemResult) async throws -> ItemResult {
        let bound: (@Sendable (Int64) -> Void)? = report
        return try await ByteProgress.$current.withValue(bound) { try await body() }
    }

    /// A server may still be committing a request whose body was fully sent
    /// when the client gave up on it (a throttled server drains its socket
    /// buffers after the client closed): ask a few times over about 1.5 s.
    static func settle<Item: Sendable>(_ item: Item, _ reconcile: @Sendable (Item) async -> TransferResult?) async -> TransferResult? {
        for delay in [0, 100, 200, 400, 800] {
            if delay > 0 { try? await Task.sleep(for: .milliseconds(delay)) }
            if let landed = await reconcile(item) { return landed }
        }
        return nil
    }

    /// The step's error when some objects failed or were refused: the count,
    /// the first few names, and where to find all of them.
    static func failure(_ verb: String, total: Int, journal: StepJournal) -> StepError? {
        let failures = journal.failures
        guard let first = failures.first, let firstError = first.error else { return nil }
        let shown = failures.prefix(3).map { "\($0.name): \($0.error?.message ?? "")" }
        var message = "\(failures.count) of \(total) \(verb)\(total == 1 ? "" : "s") failed: " + shown.joined(separator: "; ")
        if failures.count > shown.count { message += "; and \(failures.count - shown.count) more (the report lists every one)" }
        // The first failure's code stands for the step (every object keeps its own).
        return StepError(code: firstError.code, message: message)
    }
}
