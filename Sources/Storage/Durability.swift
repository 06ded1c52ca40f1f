import Foundation
import Synchronization

/// When bucketflow flushes a file it wrote to stable storage (`fsync`)
/// before renaming it into place: the process-wide policy of the local
/// provider, ``BeneathDirectory`` and other writers of temporary files.
///
/// Every write goes to a temporary file renamed over its final name only once
/// complete, whatever the policy, so a killed process (SIGKILL, OOM, a crash)
/// never leaves a partial file under a final name: the kernel keeps the
/// written pages and the rename after the process is gone. Only a power loss
/// or kernel crash can lose what was not yet written back; `fsync` before the
/// rename narrows that to "the old file or the new one, never a torn one".
///
/// The default is ``Policy/processCrash`` (no `fsync`, as `cp`, rclone and
/// s5cmd do); `bucketflow run --fsync` selects ``Policy/powerLoss``. See
/// docs/local-storage.md.
public enum Durability {
    public enum Policy: Sendable, Equatable {
        /// Survive a killed process: temporary file + rename, no `fsync`.
        case processCrash
        /// Also survive a power loss: `fsync` every file before its rename.
        case powerLoss
    }

    private static let syncing = Atomic<Bool>(false)
    private static let flushCount = Atomic<Int>(0)

    /// The process-wide policy (default ``Policy/processCrash``).
    public static var policy: Policy {
        get { syncing.load(ordering: .relaxed) ? .powerLoss : .processCrash }
        set { syncing.store(newValue == .powerLoss, ordering: .relaxed) }
    }

    /// How many files ``flush(_:policy:)`` has `fsync`ed in this process
    /// (tests check the policy through it).
    public static var flushes: Int { flushCount.load(ordering: .relaxed) }

    /// Flushes `fd` when the policy (`policy`, else the process-wide one)
    /// asks for it.
    ///
    /// - Returns: false when `fsync` failed (`errno` says why).
    public static func flush(_ fd: Int32, policy: Policy? = nil) -> Bool {
        guard (policy ?? self.policy) == .powerLoss else { return true }
        flushCount.add(1, ordering: .relaxed)
        return fsync(fd) == 0
    }
}
