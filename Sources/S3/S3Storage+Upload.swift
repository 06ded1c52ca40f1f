public import Foundation
import Crypto
import NIOHTTP1
public import Storage
import Synchronization
import AsyncHTTPClient
import NIOHTTP1
import NIOCore
import SigV4

extension S3Storage {
    /// PUT streamed from disk. Content-MD5 (which the server verifies) is
    /// computed in a read-ahead pass over the file; the body itself is sent
    /// unsigned (`UNSIGNED-PAYLOAD`), so each byte is hashed exactly once.
    public func upload(from source: URL, bucket: String, key: String, options: PutOptions) async throws -> TransferResult {
        var st = stat()
        guard stat(source.path, &st) == 0 else {
            throw StorageError(.io, "cannot read \(source.path): \(String(cString: strerror(errno)))")
        }
        let size = Int64(st.st_size)
        var headers: [(name: String, value: String)] = [("Content-Type", options.contentType ?? ContentTypes.guess(key))]
        for (name, value) in options.metadata.sorted(by: { $0.key < $1.key }) {
            headers.append(("x-amz-meta-\(name.lowercased())", value))
        }
        if size > configuration.multipartThreshold {
            return try await multipartUpload(source: source, size: size, bucket: bucket, key: key, headers: headers)
        }
        let md5 = try await Self.md5(of: source, offset: 0, length: size)
        var call = Call(method: .PUT, bucket: bucket, key: key, headers: headers, body: .file(source, offset: 0, length: size))
        call.headers.append(("Content-MD5", Data(md5).base64EncodedString()))
        let response = try await send(call)
        let hex = md5.map { String(format: "%02x", $0) }.joined()
        return TransferResult(key: key, bytes: size, checksums: ["md5": hex], etag: response.headers.first(name: "ETag").map(Self.unquote))
    }

    /// MD5 of a byte range of a file, read on a Dispatch thread.
    static func md5(of url: URL, offset: Int64, length: Int64) async throws -> [UInt8] {
        try await BlockingIO.run { flag in
            let fd = open(url.path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw StorageError(.io, "cannot read \(url.path): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            var hasher = Insecure.MD5()
            let size = 1 << 20
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
            defer { buffer.deallocate() }
            var position = offset
            let end = offset + length
            while position < end {
                try flag.check()
                let n = pread(fd, buffer.baseAddress, Int(min(Int64(size), end - position)), off_t(position))
                if n < 0 { if errno == EINTR { continue }; throw StorageError(.io, "cannot read \(url.path): \(String(cString: strerror(errno)))") }
                if n == 0 { throw StorageError(.io, "\(url.path) changed size while it was being uploaded") }
                hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                position += Int64(n)
            }
            return Array(hasher.finalize())
        }
    }

    func partSize(for size: Int64) -> Int64 {
        // At most 10,000 parts, each at least 5 MiB (S3's minimum).
        max(5 << 20, configuration.partSize, (size + 9_999) / 10_000)
    }

    /// Create, upload parts concurrently (each with its own Content-MD5),
    /// complete; on any failure or cancellation the upload is aborted so no
    /// parts are left behind (and billed).
    func multipartUpload(source: URL, size: Int64, bucket: String, key: String, headers: [(name: String, value: String)]) async throws -> TransferResult {
        let uploadID = try await createMultipartUpload(bucket: bucket, key: key, headers: headers)
        let partSize = partSize(for: size)
        let ranges = stride(from: Int64(0), to: size, by: Int(partSize)).map { $0..<min($0 + partSize, size) }
        do {
            var etags = [String](repeating: "", count: ranges.count)
            try await withThrowingTaskGroup(of: (Int, String).self) { group in
                var next = 0
                func add() {
                    let index = next
                    let range = ranges[index]
                    next += 1
                    group.addTask {
                        let md5 = try await Self.md5(of: source, offset: range.lowerBound, length: Int64(range.count))
                        let call = Call(method: .PUT, bucket: bucket, key: key,
                                        query: [("partNumber", String(index + 1)), ("uploadId", uploadID)],
                                        headers: [("Content-MD5", Data(md5).base64EncodedString())],
                                        body: .file(source, offset: range.lowerBound, length: Int64(range.count)))
                        let response = try await self.send(call)
                        guard let etag = response.headers.first(name: "ETag") else {
                            throw StorageError(.other, "the service sent no ETag for part \(index + 1) of \(bucket)/\(key)")
                        }
                        return (index, etag)
                    }
                }
                for _ in 0..<min(configuration.partConcurrency, ranges.count) { add() }
                while let (index, etag) = try await group.next() {
                    etags[index] = etag
                    if next < ranges.count { add() }
                }
            }
            let body = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">" + etags.enumerated().map {
                "<Part><PartNumber>\($0.offset + 1)</PartNumber><ETag>\(xmlEscape($0.element))</ETag></Part>"
            }.joined() + "</CompleteMultipartUpload>"
            let call = Call(method: .POST, bucket: bucket, key: key, query: [("uploadId", uploadID)], body: .bytes(Array(body.utf8)))
            let (_, data) = try await sendCollecting(call)
            let xml = XMLElement.parse(data)
            if xml?.name == "Error" {
                throw S3Errors.map(code: xml?.string("Code") ?? "InternalError", status: 200, message: xml?.string("Message"), subject: call.subject, region: configuration.region, headers: [:])
            }
            return TransferResult(key: key, bytes: size, checksums: [:], etag: xml?.string("ETag").map(Self.unquote))
        } catch {
            await abortMultipartUpload(bucket: bucket, key: key, uploadID: uploadID)
            throw error
        }
    }

    func createMultipartUpload(bucket: String, key: String, headers: [(name: String, value: String)]) async throws -> String {
        let (_, data) = try await sendCollecting(Call(method: .POST, bucket: bucket, key: key, query: [("uploads", "")], headers: headers))
        guard let id = XMLElement.parse(data)?.string("UploadId") else {
            throw StorageError(.other, "the service did not start a multipart upload for \(bucket)/\(key)")
        }
        return id
    }

    /// Aborts even when the calling task was cancelled (a detached task is not).
    func abortMultipartUpload(bucket: String, key: String, uploadID: String) async {
        let call = Call(method: .DELETE, bucket: bucket, key: key, query: [("uploadId", uploadID)])
        let aborted = await Task.detached {
            (try? await self.send(call, accept: [200, 204, 404])) != nil
        }.value
        abortedUploads.withLock { $0.append(AbortRecord(uploadID: uploadID, succeeded: aborted)) }
    }

    /// Server-side copy of objects above 5 GiB with UploadPartCopy.
    func multipartCopy(source: String, info: ObjectInfo, toBucket: String, toKey: String) async throws -> TransferResult {
        var headers: [(name: String, value: String)] = []
        if let type = info.contentType { headers.append(("Content-Type", type)) }
        let uploadID = try await createMultipartUpload(bucket: toBucket, key: toKey, headers: headers)
        let partSize = max(partSize(for: info.size), 512 << 20)
        let ranges = stride(from: Int64(0), to: info.size, by: Int(partSize)).map { $0..<min($0 + partSize, info.size) }
        do {
            var etags: [String] = []
            for (index, range) in ranges.enumerated() {
                let call = Call(method: .PUT, bucket: toBucket, key: toKey, query: [("partNumber", String(index + 1)), ("uploadId", uploadID)],
                                headers: [("x-amz-copy-source", source), ("x-amz-copy-source-range", "bytes=\(range.lowerBound)-\(range.upperBound - 1)")])
                let (_, data) = try await sendCollecting(call)
                guard let etag = XMLElement.parse(data)?.string("ETag") else { throw StorageError(.other, "UploadPartCopy returned no ETag for part \(index + 1)") }
                etags.append(etag)
            }
            let body = "<CompleteMultipartUpload>" + etags.enumerated().map { "<Part><PartNumber>\($0.offset + 1)</PartNumber><ETag>\(xmlEscape($0.element))</ETag></Part>" }.joined() + "</CompleteMultipartUpload>"
            let (_, data) = try await sendCollecting(Call(method: .POST, bucket: toBucket, key: toKey, query: [("uploadId", uploadID)], body: .bytes(Array(body.utf8))))
            return TransferResult(key: toKey, bytes: info.size, etag: XMLElement.parse(data)?.string("ETag").map(Self.unquote))
        } catch {
            await abortMultipartUpload(bucket: toBucket, key: toKey, uploadID: uploadID)
            throw error
        }
    }
}
