public import Foundation
import AsyncHTTPClient
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import SigV4
public import Storage
import HTTPTransport
import Synchronization

extension S3Storage {
    /// HEAD: metadata, content type, ETag, size, last-modified. A 404 has
    /// no body to tell a missing key from a missing bucket, so the bucket is
    /// checked (once per bucket and instance) before answering.
    public func head(bucket: String, key: String) async throws -> ObjectInfo {
        let call = Call(method: .HEAD, bucket: bucket, key: key, headers: [("x-amz-checksum-mode", "ENABLED")], operation: "HeadObject")
        let headers = try await perform(call, accept: [200, 404]) { response -> HTTPHeaders? in
            response.status.code == 200 ? response.headers : nil
        }
        guard let headers else {
            let bucketKnown = knownBuckets.withLock { $0.contains(bucket) }
            if !bucketKnown, try await !bucketExists(bucket) {
                throw S3Errors.map(code: "NoSuchBucket", status: 404, message: nil, bucket: bucket, key: nil, region: configuration.region, headers: [:])
            }
            throw S3Errors.map(code: "NoSuchKey", status: 404, message: nil, bucket: bucket, key: key, region: configuration.region, headers: [:])
        }
        knownBuckets.withLock { _ = $0.insert(bucket) }
        return Self.info(key: key, headers: headers, size: headers.first(name: "Content-Length").flatMap { Int64($0) } ?? 0)
    }

    /// Object metadata from response headers.
    static func info(key: String, headers: HTTPHeaders, size: Int64) -> ObjectInfo {
        var metadata: [String: String] = [:]
        for (name, value) in headers {
            let lower = name.lowercased()
            if lower.hasPrefix("x-amz-meta-") { metadata[String(lower.dropFirst("x-amz-meta-".count))] = value }
        }
        let etag = headers.first(name: "ETag").map(S3ListParser.unquote)
        var checksums: [String: String] = [:]
        if let md5 = etagMD5(etag, headers: headers) { checksums["md5"] = md5 }
        if let (algorithm, value) = ContentHasher.fullObjectChecksum(in: headers) { checksums[algorithm.rawValue] = value }
        return ObjectInfo(key: key, size: size, lastModified: headers.first(name: "Last-Modified").flatMap(S3Dates.parse), etag: etag,
                          contentType: headers.first(name: "Content-Type"), metadata: metadata, checksums: checksums)
    }

    /// The MD5 an ETag stands for: a single-part upload not encrypted with
    /// KMS or a customer key (whose ETags are not the content's MD5).
    static func etagMD5(_ etag: String?, headers: HTTPHeaders) -> String? {
        if let encryption = headers.first(name: "x-amz-server-side-encryption"), encryption.lowercased().hasPrefix("aws:kms") { return nil }
        if headers.contains(name: "x-amz-server-side-encryption-customer-algorithm") { return nil }
        return S3ListParser.plainMD5(etag)
    }

    /// Streams the object (or a byte range) with backpressure: bytes are
    /// pulled from the connection only as fast as the consumer reads. A
    /// connection that breaks midway is resumed from the next byte (pinned
    /// to the same ETag), up to `maxAttempts`.
    public func read(bucket: String, key: String, range: Range<Int64>?) async throws -> ObjectByteStream {
        if let range, range.isEmpty { return ObjectByteStream { $0.finish() } }
        let reader = RangeReader(storage: self, bucket: bucket, key: key, start: range?.lowerBound ?? 0, end: range?.upperBound)
        try await reader.open()
        return ObjectByteStream(unfolding: { try await reader.next() })
    }

    public func delete(bucket: String, keys: [String]) async throws -> [DeleteFailure] {
        var failures: [DeleteFailure] = []
        // XML 1.0 cannot carry most control characters: such keys go one by one.
        let (plain, awkward) = keys.reduce(into: ([String](), [String]())) { parts, key in
            if key.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\t" && $0 != "\n" && $0 != "\r" }) { parts.1.append(key) } else { parts.0.append(key) }
        }
        for start in stride(from: 0, to: plain.count, by: 1000) {
            try Task.checkCancellation()
            let batch = plain[start..<min(start + 1000, plain.count)]
            var body = "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>"
            for key in batch { body += "<Object><Key>\(xmlEscape(key))</Key></Object>" }
            body += "</Delete>"
            let (_, data) = try await performCollecting(Call(method: .POST, bucket: bucket, query: [("delete", "")], body: .xml(body), operation: "DeleteObjects"))
            guard let root = S3XMLElement.parse(data), root.name == "DeleteResult" else {
                throw StorageError(.other, "the service sent an unreadable DeleteObjects answer for bucket \(bucket)")
            }
            for error in root.all("Error") {
                failures.append(DeleteFailure(key: error.string("Key") ?? "", code: error.string("Code") ?? "Error", message: error.string("Message") ?? ""))
            }
        }
        for key in awkward {
            do {
                _ = try await performCollecting(Call(method: .DELETE, bucket: bucket, key: key, operation: "DeleteObject"), accept: [200, 204, 404])
            } catch let error as StorageError {
                failures.append(DeleteFailure(key: key, code: error.code.rawValue, message: error.message))
            }
        }
        return failures
    }

    /// Server-side copy: CopyObject up to 5 GiB (metadata and content type
    /// carried over), UploadPartCopy in parts beyond.
    public func copy(fromBucket: String, fromKey: String, toBucket: String, toKey: String) async throws -> TransferResult {
        let source = "/\(awsURIEncode(fromBucket, encodeSlash: true))/\(awsURIEncode(fromKey, encodeSlash: false))"
        let info = try await head(bucket: fromBucket, key: fromKey)
        if info.size > configuration.multipartCopyThreshold {
            return try await multipartCopy(source: source, info: info, toBucket: toBucket, toKey: toKey)
        }
        let call = Call(method: .PUT, bucket: toBucket, key: toKey, headers: [("x-amz-copy-source", source)], operation: "CopyObject")
        let data = try await perform(call) { response in
            let data = Data(buffer: try await response.body.collect(upTo: 1 << 20))
            // CopyObject can fail after a 200: the error is in the body.
            if let error = S3ErrorResponse.parse(data) {
                throw S3Errors.map(code: error.code, status: 200, message: error.message, bucket: toBucket, key: toKey, region: self.configuration.region, headers: response.headers)
            }
            return data
        }
        let etag = S3XMLElement.parse(data)?.string("ETag").map(S3ListParser.unquote)
        var checksums: [String: String] = [:]
        if let md5 = info.checksums["md5"], etag == nil || S3ListParser.plainMD5(etag) == md5 { checksums["md5"] = md5 }
        return TransferResult(key: toKey, bytes: info.size, checksums: checksums, etag: etag ?? info.etag)
    }
}

/// The state behind ``S3Storage/read(bucket:key:range:)``'s stream.
///
/// `@unchecked Sendable` is safe here: `AsyncThrowingStream(unfolding:)`
/// calls `next()` one call at a time (a stream has one consumer), and
/// `open()` finishes before the stream exists, so the mutable fields are
/// never touched concurrently.
final class RangeReader: @unchecked Sendable {
    let storage: S3Storage
    let bucket: String
    let key: String
    var position: Int64
    var end: Int64?
    var etag: String?
    var iterator: HTTPClientResponse.Body.AsyncIterator?
    var attempts = 0

    init(storage: S3Storage, bucket: String, key: String, start: Int64, end: Int64?) {
        self.storage = storage
        self.bucket = bucket
        self.key = key
        self.position = start
        self.end = end
    }

    /// Sends the GET for the bytes from `position`.
    func open() async throws {
        var call = S3Storage.Call(method: .GET, bucket: bucket, key: key, operation: "GetObject")
        if position > 0 || end != nil {
            call.headers.append(("Range", "bytes=\(position)-\(end.map { String($0 - 1) } ?? "")"))
        }
        if let etag { call.headers.append(("If-Match", "\"\(etag)\"")) }
        let start = position
        let (iterator, etag, length) = try await storage.perform(call, accept: [200, 206]) { response in
            if response.status.code == 200 && start > 0 && response.headers.first(name: "Content-Range")?.hasPrefix("bytes \(start)-") != true {
                throw StorageError(.notSupported, "the service ignored the byte range asked for \(self.bucket)/\(self.key)")
            }
            return (UnsafeTransfer(response.body.makeAsyncIterator()), response.headers.first(name: "ETag").map(S3ListParser.unquote),
                    response.headers.first(name: "Content-Length").flatMap { Int64($0) })
        }
        self.iterator = iterator.value
        if self.etag == nil { self.etag = etag }
        // Knowing where the bytes end tells a cut connection from the end.
        if end == nil, let length { end = start + length }
    }

    func next() async throws -> [UInt8]? {
        while true {
            if let end, position >= end { return nil }
            do {
                guard let buffer = try await iterator?.next() else {
                    if let end, position < end {
                        throw StorageError(.transient, "\(bucket)/\(key): the connection ended at byte \(position) of \(end)", isRetryable: true)
                    }
                    return nil
                }
                position += Int64(buffer.readableBytes)
                attempts = 0
                return Array(buffer.readableBytesView)
            } catch {
                attempts += 1
                if Task.isCancelled { throw CancellationError() }
                guard RetryPolicy.isRetryable(error), attempts < storage.retryPolicy.maxAttempts else {
                    throw storage.transport.redact(storage.describe(error, call: S3Storage.Call(method: .GET, bucket: bucket, key: key, operation: "GetObject"), attempts: attempts))
                }
                try await storage.retryPolicy.pause(afterAttempt: attempts)
                iterator = nil
                try await open()
            }
        }
    }
}

/// Carries a value that is not `Sendable` out of the closure that made it,
/// to the one task that uses it next.
///
/// `@unchecked Sendable`: used only to hand a response body iterator from
/// the retry loop to its single consumer; it is never shared.
struct UnsafeTransfer<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
