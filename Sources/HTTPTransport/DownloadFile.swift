public import Foundation
public import NIOCore
public import Storage
import Synchronization

/// A download's temporary file: created by ``TemporaryFiles`` beside the
/// destination (`.bucketflow-tmp-<pid>-<random>`, locked while written, so a
/// later sweep can tell a dead writer's leftover from a live one), renamed
/// over the destination only when complete and verified; removed otherwise.
public final class DownloadFile: Sendable {
    public let fd: Int32
    public let path: String
    public let destination: String
    private let state = Mutex<Bool>(false)  // true once renamed or removed

    public init(destination: URL) throws(StorageError) {
        let directory = destination.deletingLastPathComponent().path
        let (fd, path) = try TemporaryFiles.create(inDirectory: directory.isEmpty ? "." : directory, mode: 0o644)
        self.fd = fd
        self.path = path
        self.destination = destination.path
    }

    /// Empties the file (a download that starts over) or sizes it.
    public func truncate(to size: Int64 = 0) throws(StorageError) {
        guard ftruncate(fd, off_t(size)) == 0 else { throw FileIO.error("cannot write", path) }
    }

    public var size: Int64 {
        var st = stat()
        return fstat(fd, &st) == 0 ? Int64(st.st_size) : -1
    }

    /// Writes `buffer` at `offset`, but never at or beyond `limit`: returns
    /// how many bytes were written, fewer than the buffer's when it reached
    /// past `limit` (the caller then fails the download: the server sent
    /// more than it announced, and the disk must not fill up with it).
    @discardableResult
    public func write(_ buffer: ByteBuffer, at offset: Int64, limit: Int64) throws(StorageError) -> Int {
        let room = max(0, limit - offset)
        let count = Int(min(Int64(buffer.readableBytes), room))
        guard count > 0 else { return 0 }
        try buffer.withUnsafeReadableBytes { bytes throws(StorageError) in
            try FileIO.write(fd, UnsafeRawBufferPointer(rebasing: bytes[0..<count]), at: offset, path: path)
        }
        return count
    }

    /// Flushes (when the ``Durability`` policy asks for it: `--fsync`) and
    /// renames into place.
    public func commit() throws(StorageError) {
        guard Durability.flush(fd) else { throw FileIO.error("cannot flush", path) }
        guard rename(path, destination) == 0 else { throw FileIO.error("cannot move the download into place at", destination) }
        state.withLock { $0 = true }
    }

    /// Removes the temporary file unless it was committed.
    public func discard() {
        let done = state.withLock { done in
            defer { done = true }
            return done
        }
        if !done { unlink(path) }
    }

    deinit {
        discard()
        close(fd)
    }
}

/// The size a download must have, and the error when a body disagrees.
public enum BodySize {
    /// The server sent more than `announced` bytes (listing, HEAD or range).
    public static func tooLong(_ subject: String, announced: Int64) -> StorageError {
        StorageError(.checksumMismatch, "\(subject): the server sent more than the \(announced) bytes it announced; stopped writing at \(announced) bytes",
                     hint: "the object changed during the download or the server is misbehaving; nothing was written to the destination")
    }

    /// The body ended after `received` of `announced` bytes (retryable: a
    /// connection cut short looks the same).
    public static func tooShort(_ subject: String, received: Int64, announced: Int64) -> StorageError {
        StorageError(.transient, "\(subject): the response ended after \(received) of the \(announced) bytes announced", isRetryable: true)
    }
}
