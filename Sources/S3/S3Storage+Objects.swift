public import Foundation
import AsyncHTTPClient
import Crypto
import NIOCore
import NIOHTTP1
public import Storage
import AsyncHTTPClient
import NIOHTTP1
import NIOCore
import SigV4

extension S3Storage {
    public func head(bucket: String, key: String) async throws -> ObjectInfo {
        let call = Call(method: .HEAD, bucket: bucket, key: key)
        let response = try await withRetries(subject: call.subject) { () -> HTTPClientResponse in
            let response = try await self.sendOnce(call)
            switch response.status.code {
            case 200: return response
            // HEAD answers have no body: map by status.
            case 404:
                // Tell a missing bucket from a missing key.
                if try await !self.bucketExists(bucket) {
                    throw StorageError(.noSuchBucket, "bucket \(bucket) does not exist (NoSuchBucket)", hint: "create it first with a create-bucket step, or check the bucket name and endpoint")
                }
                throw StorageError(.noSuchKey, "\(bucket)/\(key) does not exist (NoSuchKey)")
            case let status:
                throw S3Errors.map(code: Self.codeForStatus(status), status: status, message: nil, subject: call.subject, region: self.configuration.region, headers: response.headers)
            }
        }
        return Self.info(key: key, headers: response.headers)
    }

    static func info(key: String, headers: HTTPHeaders) -> ObjectInfo {
        var metadata: [String: String] = [:]
        for (name, value) in headers where name.lowercased().hasPrefix("x-amz-meta-") {
            metadata[String(name.lowercased().dropFirst("x-amz-meta-".count))] = value
        }
        let etag = headers.first(name: "ETag").map(unquote)
        var checksums: [String: String] = [:]
        if let etag, etag.count == 32, etag.allSatisfy(\.isHexDigit) { checksums["md5"] = etag.lowercased() }
        if let sha = metadata["sha256"] { checksums["sha256"] = sha }
        let size = headers.first(name: "Content-Length").flatMap { Int64($0) } ?? 0
        return ObjectInfo(key: key, size: size, lastModified: headers.first(name: "Last-Modified").flatMap(S3Dates.parse), etag: etag,
                          contentType: headers.first(name: "Content-Type"), metadata: metadata, checksums: checksums)
    }

    public func read(bucket: String, key: String, range: Range<Int64>?) async throws -> ObjectByteStream {
        var call = Call(method: .GET, bucket: bucket, key: key)
        if let range { call.headers.append(("Range", "bytes=\(range.lowerBound)-\(range.upperBound - 1)")) }
        let response = try await send(call, accept: [200, 206])
        return ObjectByteStream { continuation in
            let task = Task {
                do {
                    for try await buffer in response.body { continuation.yield(Array(buffer.readableBytesView)) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    public func download(bucket: String, key: String, to destination: URL) async throws -> TransferResult {
        try await download(bucket: bucket, key: key, to: destination, known: try await head(bucket: bucket, key: key))
    }

    /// Downloads with size and ETag from a listing: one request per small object.
    public func download(bucket: String, key: String, to destination: URL, known info: ObjectInfo) async throws -> TransferResult {
        let temporary = destination.deletingLastPathComponent().appendingPathComponent(".bucketflow-tmp-\(UInt64.random(in: 0...UInt64.max))")
        let fd = open(temporary.path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StorageError(.io, "cannot write \(temporary.path): \(String(cString: strerror(errno)))") }
        var renamed = false
        defer {
            close(fd)
            if !renamed { unlink(temporary.path) }
        }
        var checksums: [String: String] = [:]
        var ranged = info.size > configuration.multipartThreshold
        if ranged {
            do {
                try await rangedDownload(bucket: bucket, key: key, info: info, fd: fd)
            } catch is RangeNotHonoured {
                ranged = false
            }
        }
        if !ranged {
            let md5 = try await singleDownload(bucket: bucket, key: key, info: info, fd: fd)
            checksums["md5"] = md5
            if let expected = Unquoted.md5(info.etag), expected != md5 {
                throw StorageError(.checksumMismatch, "\(bucket)/\(key): the downloaded bytes do not match the ETag", hint: "the object changed during the download, or the transfer was corrupted; retry")
            }
        }
        var st = stat()
        guard fstat(fd, &st) == 0, Int64(st.st_size) == info.size else {
            throw StorageError(.checksumMismatch, "\(bucket)/\(key): downloaded \(st.st_size) bytes, expected \(info.size)")
        }
        guard fsync(fd) == 0, rename(temporary.path, destination.path) == 0 else {
            throw StorageError(.io, "cannot move the download into place at \(destination.path): \(String(cString: strerror(errno)))")
        }
        renamed = true
        return TransferResult(key: key, bytes: info.size, checksums: checksums, etag: info.etag)
    }

    /// One GET, streamed into `fd` while hashing; a retry starts over.
    private func singleDownload(bucket: String, key: String, info: ObjectInfo, fd: Int32) async throws -> String {
        var request = Call(method: .GET, bucket: bucket, key: key)
        if let etag = info.etag { request.headers.append(("If-Match", "\"\(etag)\"")) }
        let call = request
        return try await withRetries(subject: call.subject) {
            let response = try await self.sendOnce(call)
            guard response.status.code == 200 else { throw await self.error(from: response, call: call) }
            guard ftruncate(fd, 0) == 0 else { throw StorageError(.io, "cannot write the download: \(String(cString: strerror(errno)))") }
            var md5 = Insecure.MD5()
            var offset: Int64 = 0
            for try await buffer in response.body {
                try Task.checkCancellation()
                try buffer.withUnsafeReadableBytes { bytes in
                    md5.update(bufferPointer: bytes)
                    try Self.writeAll(fd, bytes, at: offset)
                }
                offset += Int64(buffer.readableBytes)
            }
            return md5.finalize().map { String(format: "%02x", $0) }.joined()
        }
    }

    /// Concurrent ranged GETs, each written at its offset; the ETag pins the
    /// version so all ranges come from the same object.
    private func rangedDownload(bucket: String, key: String, info: ObjectInfo, fd: Int32) async throws {
        guard ftruncate(fd, off_t(info.size)) == 0 else { throw StorageError(.io, "cannot size the download: \(String(cString: strerror(errno)))") }
        let partSize = max(configuration.partSize, (info.size + 9_999) / 10_000)
        let ranges = stride(from: Int64(0), to: info.size, by: Int(partSize)).map { $0..<min($0 + partSize, info.size) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            func add() {
                let range = ranges[next]
                next += 1
                group.addTask {
                    var request = Call(method: .GET, bucket: bucket, key: key)
                    request.headers.append(("Range", "bytes=\(range.lowerBound)-\(range.upperBound - 1)"))
                    if let etag = info.etag { request.headers.append(("If-Match", "\"\(etag)\"")) }
                    let call = request
                    try await self.withRetries(subject: call.subject) {
                        let response = try await self.sendOnce(call)
                        guard response.status.code == 206 || response.status.code == 200 else { throw await self.error(from: response, call: call) }
                        // Some servers answer a range with 200; accept it only if it is the range.
                        if let length = response.headers.first(name: "Content-Length").flatMap(Int64.init), length != Int64(range.count) {
                            throw RangeNotHonoured()
                        }
                        var offset = range.lowerBound
                        for try await buffer in response.body {
                            try Task.checkCancellation()
                            try buffer.withUnsafeReadableBytes { try Self.writeAll(fd, $0, at: offset) }
                            offset += Int64(buffer.readableBytes)
                        }
                        guard offset == range.upperBound else {
                            throw StorageError(.transient, "\(bucket)/\(key): range \(range) ended early", isRetryable: true)
                        }
                    }
                }
            }
            for _ in 0..<min(configuration.partConcurrency, ranges.count) { add() }
            while try await group.next() != nil {
                if next < ranges.count { add() }
            }
        }
    }

    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64) throws {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw StorageError(.io, "cannot write the download: \(String(cString: strerror(errno)))")
            }
            done += n
        }
    }

    public func copy(fromBucket: String, fromKey: String, toBucket: String, toKey: String) async throws -> TransferResult {
        let source = "/\(awsURIEncode(fromBucket, encodeSlash: true))/\(awsURIEncode(fromKey, encodeSlash: false))"
        let info = try await head(bucket: fromBucket, key: fromKey)
        if info.size > 5 << 30 {
            return try await multipartCopy(source: source, info: info, toBucket: toBucket, toKey: toKey)
        }
        let call = Call(method: .PUT, bucket: toBucket, key: toKey, headers: [("x-amz-copy-source", source)])
        let (_, data) = try await sendCollecting(call)
        // CopyObject can fail after a 200: the error is in the body.
        let xml = XMLElement.parse(data)
        if xml?.name == "Error" {
            throw S3Errors.map(code: xml?.string("Code") ?? "InternalError", status: 200, message: xml?.string("Message"), subject: call.subject, region: configuration.region, headers: [:])
        }
        return TransferResult(key: toKey, bytes: info.size, checksums: [:], etag: xml?.string("ETag").map(Self.unquote))
    }

    public func delete(bucket: String, keys: [String]) async throws -> [DeleteFailure] {
        var failures: [DeleteFailure] = []
        for start in stride(from: 0, to: keys.count, by: 1000) {
            let batch = keys[start..<min(start + 1000, keys.count)]
            let body = "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>" + batch.map { "<Object><Key>\(xmlEscape($0))</Key></Object>" }.joined() + "</Delete>"
            let (_, data) = try await sendCollecting(Call(method: .POST, bucket: bucket, query: [("delete", "")], body: .bytes(Array(body.utf8))))
            for error in XMLElement.parse(data)?.all("Error") ?? [] {
                failures.append(DeleteFailure(key: error.string("Key") ?? "", code: error.string("Code") ?? "Error", message: error.string("Message") ?? ""))
            }
        }
        return failures
    }
}

/// The server sent more than the requested range: download in one piece.
struct RangeNotHonoured: Error {}

enum Unquoted {
    /// The MD5 an ETag stands for, when it is a single-part ETag.
    static func md5(_ etag: String?) -> String? {
        guard let etag, etag.count == 32, etag.allSatisfy(\.isHexDigit) else { return nil }
        return etag.lowercased()
    }
}
