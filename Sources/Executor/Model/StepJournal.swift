import Synchronization

/// Every object one step attempt touched, recorded the moment its outcome is
/// known: a cancelled or failed step's report still lists what completed.
///
/// Transfers run concurrently, so the journal is a lock-protected list; it is
/// the only place object outcomes live (counts are derived from it).
final class StepJournal: Sendable {
    private let state = Mutex<(records: [ObjectRecord], counts: ObjectCounts)>(([], ObjectCounts()))

    func record(_ record: ObjectRecord) {
        state.withLock { state in
            state.records.append(record)
            state.counts.add(record)
        }
    }

    var records: [ObjectRecord] { state.withLock { $0.records } }
    var counts: ObjectCounts { state.withLock { $0.counts } }

    /// The failed and refused records, in the order they happened.
    var failures: [ObjectRecord] { records.filter { $0.outcome == .failed || $0.outcome == .refused } }
}
