import Foundation
public import NIOCore
public import Storage
import Synchronization

/// An open file shared by the tasks of one transfer (parts read or written
/// at their offsets with pread/pwrite, which need no shared position).
/// Closed when the last task lets go of it.
public final class SharedFile: Sendable {
    public let fd: Int32
    public let path: String

    public init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    /// Opens `path` for reading.
    public static func openForReading(_ path: String) throws(StorageError) -> SharedFile {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw StorageError(.io, "cannot upload \(path): the file does not exist") }
            throw FileIO.error("cannot read", path)
        }
        return SharedFile(fd: fd, path: path)
    }

    deinit { close(fd) }
}

/// Blocking file helpers; callers run them off the cooperative pool
/// (``BlockingIO``) when they may block for long.
public enum FileIO {
    public static func error(_ what: String, _ path: String) -> StorageError {
        StorageError(.io, "\(what) \(path): \(String(cString: strerror(errno)))")
    }

    /// Size of an open file.
    public static func size(_ file: SharedFile) throws(StorageError) -> Int64 {
        var st = stat()
        guard fstat(file.fd, &st) == 0 else { throw error("cannot read", file.path) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw StorageError(.io, "cannot upload \(file.path): it is not a regular file") }
        return Int64(st.st_size)
    }

    /// Reads exactly `length` bytes at `offset` into one new buffer: the
    /// bytes are read once, then hashed and sent from this same memory.
    public static func read(_ file: SharedFile, offset: Int64, length: Int, cancellation: CancellationFlag? = nil) throws -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: length)
        try read(file, offset: offset, length: length, into: &buffer, cancellation: cancellation)
        return buffer
    }

    /// Appends exactly `length` bytes at `offset` to `buffer`.
    public static func read(_ file: SharedFile, offset: Int64, length: Int, into buffer: inout ByteBuffer, cancellation: CancellationFlag? = nil) throws {
        var done = 0
        while done < length {
            try cancellation?.check()
            let want = min(length - done, 8 << 20)
            let n = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: want) { pointer in
                pread(file.fd, pointer.baseAddress, want, off_t(offset) + off_t(done))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw error("cannot read", file.path)
            }
            if n == 0 { throw StorageError(.io, "\(file.path) became shorter while it was being uploaded", hint: "do not change files while they upload") }
            done += n
        }
    }

    /// Feeds `length` bytes at `offset` to `consume`, 1 MiB at a time.
    public static func scan(_ file: SharedFile, offset: Int64, length: Int64, cancellation: CancellationFlag?, _ consume: (UnsafeRawBufferPointer) -> Void) throws {
        let chunk = 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
        defer { buffer.deallocate() }
        var position = offset
        let end = offset + length
        while position < end {
            try cancellation?.check()
            let n = pread(file.fd, buffer.baseAddress, Int(min(Int64(chunk), end - position)), off_t(position))
            if n < 0 {
                if errno == EINTR { continue }
                throw error("cannot read", file.path)
            }
            if n == 0 { throw StorageError(.io, "\(file.path) became shorter while it was being read", hint: "do not change files while they transfer") }
            consume(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            position += Int64(n)
        }
    }

    /// Writes all of `bytes` at `offset`.
    public static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64, path: String) throws(StorageError) {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw error("cannot write", path)
            }
            done += n
        }
    }
}
