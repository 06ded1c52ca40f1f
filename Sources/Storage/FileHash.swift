import Foundation

/// SHA-256 of local files that honours cancellation where the hashing runs.
///
/// The hash runs on a Dispatch thread (``BlockingIO``), where
/// `Task.checkCancellation()` sees no task; the calling task's cancellation
/// handler raises a ``CancellationFlag`` instead, which the loop checks
/// before every 1 MiB chunk. So SIGINT or a step timeout stops the hash of a
/// large file within one chunk.
public enum FileHash {
    /// The lower-case hex SHA-256 of the file at `path` (a final symbolic
    /// link is not followed), computed off the cooperative pool.
    ///
    /// - Throws: `CancellationError` when the calling task is cancelled.
    public static func sha256(ofFileAt path: String) async throws -> String {
        try await BlockingIO.run { flag in try LocalStorage.sha256(of: path, cancellation: flag) }
    }

    /// The same, synchronously, for code already on a blocking thread:
    /// checks `cancellation` before every chunk and reports the bytes hashed
    /// so far to `progress` after each one.
    public static func sha256(ofFileAt path: String, cancellation: CancellationFlag?, progress: ((Int64) -> Void)? = nil) throws -> String {
        try LocalStorage.sha256(of: path, cancellation: cancellation, progress: progress)
    }
}
