public import Foundation
import AsyncHTTPClient
import Crypto
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
public import Storage
import HTTPTransport
import Synchronization

extension S3Storage {
    /// HEAD, then ``download(bucket:key:to:known:)``.
    public func download(bucket: String, key: String, to destination: URL) async throws -> TransferResult {
        try await download(bucket: bucket, key: key, to: destination, known: try await head(bucket: bucket, key: key))
    }

    /// Downloads an object whose size and ETag are known (from a listing or
    /// a HEAD). The announced size is a hard limit: a body longer than it
    /// is cut there and fails (the disk never fills with a hostile
    /// server's bytes), a shorter one fails even without Content-Length.
    /// One GET up to `multipartThreshold`, else concurrent ranged
    /// GETs written at their offsets. Bytes land in a `.bucketflow-tmp-*`
    /// file beside `destination`, renamed over it only once complete and
    /// verified, with the cheapest check the server makes possible: a
    /// full-object `x-amz-checksum-crc32c`/`crc64nvme` (ranges' CRCs are
    /// combined), else the ETag when it is a plain MD5 (single GET) or the
    /// part MD5s when the parts line up with ours (ranges), else a SHA the
    /// server sent; and always the size. Every GET
    /// carries `If-Match` with the known ETag, so all bytes come from one
    /// version of the object.
    public func download(bucket: String, key: String, to destination: URL, known info: ObjectInfo) async throws -> TransferResult {
        let file = try DownloadFile(destination: destination)
        defer { file.discard() }
        var result: TransferResult?
        let ranged = info.size > configuration.multipartThreshold
        if ranged {
            do {
                result = try await rangedDownload(bucket: bucket, key: key, info: info, into: file)
            } catch is RangeNotHonoured {
                logger.debug("the service ignores byte ranges; downloading \(bucket)/\(key) in one GET")
            }
        }
        if result == nil {
            result = try await singleDownload(bucket: bucket, key: key, info: info, into: file, fresh: !ranged)
        }
        try Task.checkCancellation()
        // fsync and rename block for milliseconds on a real disk: on a
        // blocking thread, so the cooperative pool keeps other transfers moving.
        try await BlockingIO.run { _ in try file.commit() }
        return result!
    }

    /// The response's ETag, checked against the one the caller knew: a
    /// server that ignores If-Match must not hand us another version.
    static func checkVersion(_ headers: HTTPHeaders, known info: ObjectInfo, bucket: String, key: String) throws(StorageError) -> String? {
        let etag = headers.first(name: "ETag").map(S3ListParser.unquote)
        if let etag, let known = info.etag, !known.isEmpty, etag.lowercased() != known.lowercased() {
            throw StorageError(.other, "\(bucket)/\(key) changed after it was listed (ETag \(etag), expected \(known))", hint: "run the step again")
        }
        return etag ?? info.etag
    }

    /// Whether a ranged GET's answer holds exactly `start..<end`. Some
    /// servers answer 200 with the right Content-Range (accepted); a 200
    /// without one is the whole object (the range was ignored).
    static func checkRange(_ response: HTTPClientResponse, start: Int64, end: Int64, bucket: String, key: String) throws {
        let contentRange = response.headers.first(name: "Content-Range")
        guard let contentRange else {
            if response.status.code == 200 { throw RangeNotHonoured() }
            throw StorageError(.other, "\(bucket)/\(key): the service answered a byte range without Content-Range")
        }
        guard contentRange.hasPrefix("bytes \(start)-\(end - 1)/") else {
            throw StorageError(.other, "\(bucket)/\(key): asked for bytes \(start)-\(end - 1), got \(contentRange)", hint: "the object changed during the download; retry")
        }
    }

    /// One GET streamed to the file while one digest runs over it; a retry
    /// empties the file and starts again (a `fresh` file needs no emptying
    /// on the first attempt: one syscall fewer per small object).
    private func singleDownload(bucket: String, key: String, info: ObjectInfo, into file: DownloadFile, fresh: Bool) async throws -> TransferResult {
        var call = Call(method: .GET, bucket: bucket, key: key, headers: [("x-amz-checksum-mode", "ENABLED")], operation: "GetObject", responseBytes: info.size)
        if let etag = info.etag, !etag.isEmpty { call.headers.append(("If-Match", "\"\(etag)\"")) }
        let subject = "\(bucket)/\(key)"
        let mayHoldBytes = Atomic<Bool>(!fresh)
        return try await perform(call) { response in
            if mayHoldBytes.exchange(true, ordering: .relaxed) { try file.truncate() }
            let etag = try Self.checkVersion(response.headers, known: info, bucket: bucket, key: key)
            // Hash once, with the cheapest digest there is something to
            // compare with: a full-object CRC the server sent, else the
            // ETag's MD5, else another full-object checksum (SHA-1, SHA-256).
            let (algorithm, want) = Self.downloadVerifier(response.headers, etag: etag)
            var hasher = ContentHasher(algorithm)
            let expectedLength = response.headers.first(name: "Content-Length").flatMap { Int64($0) }
            if let expectedLength, expectedLength > info.size {
                throw BodySize.tooLong(subject, announced: info.size)
            }
            var offset: Int64 = 0
            for try await buffer in response.body {
                let written = try file.write(buffer, at: offset, limit: info.size)
                buffer.withUnsafeReadableBytes { bytes in hasher.update(UnsafeRawBufferPointer(rebasing: bytes[0..<written])) }
                offset += Int64(written)
                ByteProgress.current?(Int64(written))
                if written < buffer.readableBytes { throw BodySize.tooLong(subject, announced: info.size) }
            }
            if let expectedLength, offset != expectedLength {
                throw StorageError(.transient, "\(bucket)/\(key): the connection ended after \(offset) of \(expectedLength) bytes", isRetryable: true)
            }
            if offset != info.size {
                throw BodySize.tooShort(subject, received: offset, announced: info.size)
            }
            let digest = hasher.finalizeHex()
            if let want, want != digest {
                throw StorageError(.checksumMismatch, "\(bucket)/\(key): the downloaded bytes do not match the \(hasher.algorithm == .md5 ? "ETag's MD5" : "service's \(hasher.algorithm.rawValue)") (got \(digest), expected \(want))",
                                   hint: "the transfer was corrupted; it was retried and the destination left untouched", isRetryable: true)
            }
            return TransferResult(key: key, bytes: offset, checksums: [hasher.algorithm.rawValue: digest], etag: etag)
        }
    }

    /// Concurrent ranged GETs, each written at its offset and restarted at
    /// that offset when retried. When the object's ETag is a multipart one
    /// with as many parts as our ranges (an object this tool uploaded with
    /// the same part size), each range's MD5 is computed while it streams
    /// and the ETag is checked exactly.
    private func rangedDownload(bucket: String, key: String, info: ObjectInfo, into file: DownloadFile) async throws -> TransferResult {
        try file.truncate(to: info.size)
        let partSize = partSize(for: info.size)
        let count = Int((info.size + partSize - 1) / partSize)
        let etagParts = info.etag.flatMap(Self.multipartETagCount)
        // A full-object CRC (from HEAD) is checked from each range's CRC,
        // combined without a second pass; else the multipart ETag from the
        // ranges' MD5s when they line up with its parts.
        let fullCRC: (ContentHasher.Algorithm, String)? = Self.fullObjectChecksum(info).flatMap { checksum in
            checksum.0 == .crc32c || checksum.0 == .crc64nvme ? checksum : nil
        }
        let hashParts = fullCRC == nil && etagParts == count
        let rangeAlgorithm: ContentHasher.Algorithm? = fullCRC?.0 ?? (hashParts ? .md5 : nil)
        let digests = try await concurrently(count: count, limit: configuration.partConcurrency) { index -> [UInt8] in
            let start = Int64(index) * partSize
            let end = min(start + partSize, info.size)
            var call = Call(method: .GET, bucket: bucket, key: key, headers: [("Range", "bytes=\(start)-\(end - 1)")], operation: "GetObject", responseBytes: end - start)
            if let etag = info.etag, !etag.isEmpty { call.headers.append(("If-Match", "\"\(etag)\"")) }
            return try await self.perform(call, accept: [200, 206]) { response in
                try Self.checkRange(response, start: start, end: end, bucket: bucket, key: key)
                _ = try Self.checkVersion(response.headers, known: info, bucket: bucket, key: key)
                var hasher = rangeAlgorithm.map(ContentHasher.init)
                var offset = start
                for try await buffer in response.body {
                    let written = try file.write(buffer, at: offset, limit: end)
                    buffer.withUnsafeReadableBytes { bytes in hasher?.update(UnsafeRawBufferPointer(rebasing: bytes[0..<written])) }
                    offset += Int64(written)
                    ByteProgress.current?(Int64(written))
                    guard written == buffer.readableBytes else {
                        throw StorageError(.checksumMismatch, "\(bucket)/\(key): the service sent more than the range \(start)-\(end - 1) asked for; stopped writing at its end",
                                           hint: "the object changed during the download or the server is misbehaving")
                    }
                }
                guard offset == end else {
                    throw StorageError(.transient, "\(bucket)/\(key): range \(start)-\(end - 1) ended after \(offset - start) bytes", isRetryable: true)
                }
                return hasher?.finalize() ?? []
            }
        }
        guard file.size == info.size else {
            throw StorageError(.checksumMismatch, "\(bucket)/\(key): downloaded \(file.size) bytes, expected \(info.size)", hint: "retry")
        }
        if let (algorithm, expected) = fullCRC {
            let ranges = digests.enumerated().map { index, bytes in (bytes: bytes, length: min(partSize, info.size - Int64(index) * partSize)) }
            let digest = ContentHasher.hex(Self.combinedCRC(ranges, algorithm: algorithm))
            guard digest == expected else {
                throw StorageError(.checksumMismatch, "\(bucket)/\(key): the downloaded bytes do not match the service's \(algorithm.rawValue) (got \(digest), expected \(expected))",
                                   hint: "the transfer was corrupted or the object changed; retry")
            }
            return TransferResult(key: key, bytes: info.size, checksums: [algorithm.rawValue: digest], etag: info.etag)
        } else if hashParts, let etag = info.etag {
            let combined = Self.multipartETag(partDigests: digests)
            guard combined == etag.lowercased() else {
                throw StorageError(.checksumMismatch, "\(bucket)/\(key): the downloaded parts do not match the ETag (got \(combined), expected \(etag))",
                                   hint: "the transfer was corrupted or the object changed; retry")
            }
        } else if let (algorithm, expected) = Self.fullObjectChecksum(info) {
            // A full-object checksum from HEAD: one more pass over the file
            // (from the page cache), since ranges arrive out of order.
            let shared = SharedFile(fd: dup(file.fd), path: file.path)
            let digest = try await BlockingIO.run { flag -> String in
                var inner = ContentHasher(algorithm)
                try FileIO.scan(shared, offset: 0, length: info.size, cancellation: flag) { inner.update($0) }
                return inner.finalizeHex()
            }
            guard digest == expected else {
                throw StorageError(.checksumMismatch, "\(bucket)/\(key): the downloaded bytes do not match the service's \(algorithm.rawValue)", hint: "retry")
            }
            return TransferResult(key: key, bytes: info.size, checksums: [algorithm.rawValue: digest], etag: info.etag)
        }
        return TransferResult(key: key, bytes: info.size, checksums: [:], etag: info.etag)
    }

    /// What a single GET's bytes are checked against: a full-object CRC,
    /// else the ETag's MD5, else a SHA the server sent. When the server
    /// offers none, only the size is checked and a CRC-32C (cheap) is
    /// computed for the record.
    static func downloadVerifier(_ headers: HTTPHeaders, etag: String?) -> (ContentHasher.Algorithm, String?) {
        let full = ContentHasher.fullObjectChecksum(in: headers)
        if let full, [.crc32c, .crc64nvme, .crc32].contains(full.0) { return (full.0, full.1) }
        if let md5 = etagMD5(etag, headers: headers) { return (.md5, md5) }
        if let full { return (full.0, full.1) }
        return (.crc32c, nil)
    }

    /// A non-MD5 full-object checksum known for the object (from HEAD),
    /// cheapest first.
    static func fullObjectChecksum(_ info: ObjectInfo) -> (ContentHasher.Algorithm, String)? {
        for algorithm in ContentHasher.preference {
            if let value = info.checksums[algorithm.rawValue] { return (algorithm, value) }
        }
        return nil
    }

    /// `N` of an ETag `hex-N`.
    static func multipartETagCount(_ etag: String) -> Int? {
        guard let dash = etag.lastIndex(of: "-"), S3ListParser.plainMD5(String(etag[..<dash])) != nil else { return nil }
        return Int(etag[etag.index(after: dash)...])
    }

    /// S3's multipart ETag: MD5 of the parts' binary MD5s, then `-N`.
    static func multipartETag(partDigests: [[UInt8]]) -> String {
        var md5 = Insecure.MD5()
        for digest in partDigests { md5.update(data: digest) }
        return ContentHasher.hex(md5.finalize()) + "-\(partDigests.count)"
    }
}

/// The service sent a whole object for a byte range: download it in one piece.
struct RangeNotHonoured: Error {}
