import Foundation
import NIOCore
import Storage

/// A byte range of a file as an async sequence of buffers, for streaming
/// request bodies: each chunk is read on a Dispatch thread (never the
/// cooperative pool) and only a chunk at a time is in memory. Iterating
/// again starts over from the beginning, so a retried request resends
/// exactly the same bytes.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let url: URL
    let offset: Int64
    let length: Int64
    var chunkSize = 1 << 20

    func makeAsyncIterator() -> Iterator {
        Iterator(url: url, position: offset, end: offset + length, chunkSize: chunkSize)
    }

    struct Iterator: AsyncIteratorProtocol {
        let url: URL
        var position: Int64
        let end: Int64
        let chunkSize: Int
        var descriptor: FileDescriptor?

        mutating func next() async throws -> ByteBuffer? {
            guard position < end else {
                descriptor?.close()
                descriptor = nil
                return nil
            }
            if descriptor == nil {
                let fd = open(url.path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw StorageError(.io, "cannot read \(url.path): \(String(cString: strerror(errno)))") }
                descriptor = FileDescriptor(fd)
            }
            let fd = descriptor!.fd
            let want = Int(Swift.min(Int64(chunkSize), end - position))
            let start = position
            let path = url.path
            let buffer = try await BlockingIO.run { _ -> ByteBuffer in
                var buffer = ByteBufferAllocator().buffer(capacity: want)
                var done = 0
                while done < want {
                    let n = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: want - done) { pointer in
                        Swift.max(0, pread(fd, pointer.baseAddress, want - done, off_t(start) + off_t(done)))
                    }
                    if n == 0 { throw StorageError(.io, "\(path) changed size while it was being uploaded") }
                    done += n
                }
                return buffer
            }
            position += Int64(want)
            return buffer
        }
    }
}

/// Closes a descriptor when the last reference goes.
final class FileDescriptor: Sendable {
    let fd: Int32
    init(_ fd: Int32) { self.fd = fd }
    func close() {}
    deinit { Foundation.close(fd) }
}
