import Foundation
public import NIOCore
import Storage

/// A byte range of an open file as an async sequence of buffers: a
/// streaming request body of known length. Each chunk is read on a Dispatch
/// thread (never the cooperative pool) and only one chunk per request is in
/// memory. A new iterator starts again at `offset`, so a retried request
/// sends exactly the same bytes.
public struct FileChunks: AsyncSequence, Sendable {
    public typealias Element = ByteBuffer
    public let file: SharedFile
    public let offset: Int64
    public let length: Int64
    public var chunkSize = 1 << 20

    public init(file: SharedFile, offset: Int64, length: Int64, chunkSize: Int = 1 << 20) {
        self.file = file
        self.offset = offset
        self.length = length
        self.chunkSize = chunkSize
    }

    public func makeAsyncIterator() -> Iterator {
        Iterator(file: file, position: offset, end: offset + length, chunkSize: chunkSize)
    }

    public struct Iterator: AsyncIteratorProtocol {
        let file: SharedFile
        var position: Int64
        let end: Int64
        let chunkSize: Int

        public mutating func next() async throws -> ByteBuffer? {
            guard position < end else { return nil }
            let want = Int(Swift.min(Int64(chunkSize), end - position))
            let (file, start) = (self.file, position)
            let buffer = try await BlockingIO.run { flag in try FileIO.read(file, offset: start, length: want, cancellation: flag) }
            position += Int64(want)
            return buffer
        }
    }
}
