// Copied from Sources/S3 (internal there); keep the two in step.
import Foundation
import NIOCore
import Storage

/// A byte range of an open file as an async sequence of buffers: a
/// streaming request body of known length. Each chunk is read on a Dispatch
/// thread (never the cooperative pool) and only one chunk per request is in
/// memory. A new iterator starts again at `offset`, so a retried request
/// sends exactly the same bytes.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let file: SharedFile
    let offset: Int64
    let length: Int64
    var chunkSize = 1 << 20

    func makeAsyncIterator() -> Iterator {
        Iterator(file: file, position: offset, end: offset + length, chunkSize: chunkSize)
    }

    struct Iterator: AsyncIteratorProtocol {
        let file: SharedFile
        var position: Int64
        let end: Int64
        let chunkSize: Int

        mutating func next() async throws -> ByteBuffer? {
            guard position < end else { return nil }
            let want = Int(Swift.min(Int64(chunkSize), end - position))
            let (file, start) = (self.file, position)
            let buffer = try await BlockingIO.run { flag in try FileIO.read(file, offset: start, length: want, cancellation: flag) }
            position += Int64(want)
            return buffer
        }
    }
}
