public import Foundation
import AsyncHTTPClient
import Crypto
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import SigV4
import Checksums
public import Storage
import HTTPTransport
import Synchronization

extension S3Storage {
    /// Bodies up to this size are read into memory once, hashed, and sent
    /// from that same buffer.
    static let inlineUploadLimit: Int64 = 8 << 20

    /// Uploads `source`, streaming from disk, with a Content-MD5 or a CRC
    /// (``S3ChecksumMode``) the server verifies on every body.
    ///
    /// Both are headers, so the digests must exist before the first byte
    /// is sent. To hash each byte exactly once and read it as few
    /// times as possible:
    /// - up to 8 MiB (and each part of a multipart upload): read once into
    ///   one buffer, hash it, send that buffer (a retry resends it; memory is
    ///   the body, or `partConcurrency × partSize` for a large object);
    /// - between 8 MiB and `multipartThreshold`: one hashing pass, then the
    ///   body streams from disk in 1 MiB chunks (the second read comes from
    ///   the page cache), so memory stays at one chunk.
    /// The signature covers `UNSIGNED-PAYLOAD`, so no SHA-256 pass is needed.
    public func upload(from source: URL, bucket: String, key: String, options: PutOptions) async throws -> TransferResult {
        await abortAbandonedUploads()
        let file = try SharedFile.openForReading(source.path)
        let size = try FileIO.size(file)
        var headers: [(name: String, value: String)] = [("Content-Type", options.contentType ?? Self.contentType(forKey: key))]
        for (name, value) in options.metadata.sorted(by: { $0.key < $1.key }) {
            headers.append(("x-amz-meta-\(name.lowercased())", value))
        }
        if size > configuration.multipartThreshold {
            return try await multipartUpload(file: file, size: size, bucket: bucket, key: key, headers: headers)
        }
        // The body read into memory (or the chunk streaming), from the run's budget.
        let held = try await configuration.memoryBudget.acquire(size <= Self.inlineUploadLimit ? size : 1 << 20)
        defer { configuration.memoryBudget.release(held) }
        let (withMD5, crc) = uploadIntegrity()
        let digest: UploadDigest
        var call = Call(method: .PUT, bucket: bucket, key: key, headers: headers, operation: "PutObject")
        if size <= Self.inlineUploadLimit {
            // Read and hashed on a blocking thread, off the cooperative pool.
            let (buffer, computed) = try await BlockingIO.run { flag in
                let buffer = try FileIO.read(file, offset: 0, length: Int(size), cancellation: flag)
                return (buffer, buffer.withUnsafeReadableBytes { UploadDigest.of($0, md5: withMD5, crc: crc) })
            }
            digest = computed
            call.body = .bytes(buffer, contentMD5: digest.contentMD5.map(ContentMD5.given) ?? .omitted)
        } else {
            digest = try await BlockingIO.run { flag in
                var running = UploadDigest.Running(md5: withMD5, crc: crc)
                try FileIO.scan(file, offset: 0, length: size, cancellation: flag) { running.update($0) }
                return running.finalize()
            }
            call.body = .file(file, offset: 0, length: size, contentMD5: digest.contentMD5)
        }
        if let header = digest.checksumHeader { call.headers.append(header) }
        let (etag, confirmed) = try await perform(call) { response in
            _ = try await response.body.collect(upTo: 1 << 20)
            self.learnChecksumVerification(sent: digest, response: response.headers)
            return (response.headers.first(name: "ETag").map(S3ListParser.unquote), digest.isConfirmed(by: response.headers))
        }
        if !confirmed {
            // Nothing checked these bytes: never leave them behind.
            _ = try? await delete(bucket: bucket, keys: [key])
            throw unconfirmedChecksum(digest, subject: "\(bucket)/\(key)")
        }
        knownBuckets.withLock { _ = $0.insert(bucket) }
        return TransferResult(key: key, bytes: size, checksums: digest.checksums, etag: etag)
    }

    /// Folder markers keep S3's conventional type; files guess by extension.
    static func contentType(forKey key: String) -> String {
        key.hasSuffix("/") ? "application/x-directory" : ContentTypes.guess(key)
    }

    /// The part (and download range) size for an object of `size` bytes:
    /// the configured size, smaller when the memory budget holds fewer than
    /// `partConcurrency` of it, at least S3's 5 MiB minimum, and large
    /// enough for at most 10,000 parts.
    func partSize(for size: Int64) -> Int64 {
        max(configuration.memoryBudget.partSize(preferred: configuration.partSize, concurrency: configuration.partConcurrency, minimum: 5 << 20),
            (size + 9_999) / 10_000)
    }

    /// CreateMultipartUpload, concurrent UploadPart (each read once into
    /// memory, with its own Content-MD5), CompleteMultipartUpload. On any
    /// failure or cancellation the upload is aborted, so no parts are left
    /// behind to be billed.
    func multipartUpload(file: SharedFile, size: Int64, bucket: String, key: String, headers: [(name: String, value: String)]) async throws -> TransferResult {
        // Parts carry Content-MD5, or only a CRC when the service checks
        // CRCs: then the upload declares a full-object CRC, each part sends
        // its own, and Complete sends the whole object's (combined from the
        // parts') for the service to check the assembly.
        let (withMD5, crc) = uploadIntegrity()
        let partCRC = withMD5 ? nil : crc
        var createHeaders = headers
        if let partCRC {
            createHeaders += [("x-amz-checksum-algorithm", partCRC.rawValue.uppercased()), ("x-amz-checksum-type", "FULL_OBJECT")]
        }
        let uploadID = try await createMultipartUpload(bucket: bucket, key: key, headers: createHeaders)
        do {
            let partSize = partSize(for: size)
            let count = Int((size + partSize - 1) / partSize)
            let buffers = PartBuffers(capacity: Int(partSize), parts: count, budget: configuration.memoryBudget)
            let parts = try await concurrently(count: count, limit: buffers.concurrency(configuration.partConcurrency)) { index -> (etag: String, digest: UploadDigest, length: Int) in
                let offset = Int64(index) * partSize
                let length = Int(min(partSize, size - offset))
                try await buffers.reserve()
                let buffer = try await BlockingIO.run { flag in
                    var buffer = buffers.take()
                    try FileIO.read(file, offset: offset, length: length, into: &buffer, cancellation: flag)
                    return buffer
                }
                // Hashed on a blocking thread, off the cooperative pool.
                let digest = try await BlockingIO.run { _ in buffer.withUnsafeReadableBytes { UploadDigest.of($0, md5: withMD5, crc: partCRC) } }
                let etag = try await self.uploadPart(bucket: bucket, key: key, uploadID: uploadID, number: index + 1, buffer: buffer, digest: digest)
                await buffers.give(consume buffer)
                guard let etag else {
                    throw StorageError(.other, "the service sent no ETag for part \(index + 1) of \(bucket)/\(key)")
                }
                return (etag, digest, length)
            }
            let partMD5s = parts.compactMap(\.digest.md5)
            let whole = partCRC.map { algorithm in UploadDigest(md5: nil, crc: (algorithm, Self.combinedCRC(parts.map { (bytes: $0.digest.crc?.bytes ?? [], length: Int64($0.length)) }, algorithm: algorithm))) }
            let started = Date()
            let etag: String?
            do {
                etag = try await completeMultipartUpload(bucket: bucket, key: key, uploadID: uploadID, etags: parts.map(\.etag),
                                                         checksums: partCRC == nil ? nil : parts.map { $0.digest.checksumHeader?.value ?? "" }, whole: whole)
                forgetUpload(uploadID)
            } catch let error as CompletedMeanwhile {
                forgetUpload(uploadID)
                // The answer to an earlier attempt was lost (a connection
                // cut after the server completed): the object must be there,
                // with our parts' ETag or at least our size, written now.
                let expected = partMD5s.count == count ? Self.multipartETag(partDigests: partMD5s) : "-"
                let info = try await head(bucket: bucket, key: key)
                let etagMatches = info.etag.map { $0.lowercased() == expected || $0.lowercased() == String(expected.prefix(while: { $0 != "-" })) } ?? false
                let fresh = info.lastModified.map { $0 >= started.addingTimeInterval(-300) } ?? false
                guard info.size == size, etagMatches || fresh else { throw error.original }
                etag = info.etag
            }
            // A server that reports the standard multipart ETag lets us
            // check it assembled exactly the parts we sent.
            if let etag, Self.multipartETagCount(etag) != nil, partMD5s.count == count {
                let expected = Self.multipartETag(partDigests: partMD5s)
                guard etag.lowercased() == expected else {
                    // Never leave an object with the wrong bytes behind.
                    _ = try? await delete(bucket: bucket, keys: [key])
                    throw StorageError(.checksumMismatch, "\(bucket)/\(key): the service assembled an object whose ETag \(etag) is not the parts' \(expected); it was deleted", hint: "upload again")
                }
            }
            knownBuckets.withLock { _ = $0.insert(bucket) }
            return TransferResult(key: key, bytes: size, checksums: whole?.checksums ?? [:], etag: etag)
        } catch {
            await abortMultipartUpload(bucket: bucket, key: key, uploadID: uploadID)
            throw error
        }
    }

    /// UploadPart from memory; the request (and its hold on `buffer`) is
    /// gone when this returns, so the buffer can be reused without a copy.
    private func uploadPart(bucket: String, key: String, uploadID: String, number: Int, buffer: ByteBuffer, digest: UploadDigest) async throws -> String? {
        var call = Call(method: .PUT, bucket: bucket, key: key, query: [("partNumber", String(number)), ("uploadId", uploadID)],
                        body: .bytes(buffer, contentMD5: digest.contentMD5.map(ContentMD5.given) ?? .omitted), operation: "UploadPart")
        if let header = digest.checksumHeader { call.headers.append(header) }
        let etag = try await perform(call) { response in
            _ = try await response.body.collect(upTo: 1 << 20)
            return (response.headers.first(name: "ETag"), digest.isConfirmed(by: response.headers))
        }
        guard etag.1 else { throw unconfirmedChecksum(digest, subject: "\(bucket)/\(key) part \(number)") }
        ByteProgress.current?(Int64(buffer.readableBytes))
        return etag.0
    }

    /// The whole object's CRC (big-endian bytes) from its parts' CRCs and lengths.
    static func combinedCRC(_ parts: [(bytes: [UInt8], length: Int64)], algorithm: ContentHasher.Algorithm) -> [UInt8] {
        func value(_ bytes: [UInt8]) -> UInt64 { bytes.reduce(0) { $0 << 8 | UInt64($1) } }
        if algorithm == .crc64nvme {
            var whole = CRC64NVME()
            for part in parts { whole = whole.combined(with: value(part.bytes), length: part.length) }
            return whole.bytes
        }
        var whole = CRC32C()
        for part in parts { whole = whole.combined(with: UInt32(truncatingIfNeeded: value(part.bytes)), length: part.length) }
        return whole.bytes
    }

    /// Starts a multipart upload. It runs to its end even if the calling
    /// task is cancelled meanwhile, so an upload the server created is
    /// never lost track of; the caller then aborts it.
    func createMultipartUpload(bucket: String, key: String, headers: [(name: String, value: String)]) async throws -> String {
        let metrics = TransferMetrics.current
        let call = Call(method: .POST, bucket: bucket, key: key, query: [("uploads", "")], headers: headers, operation: "CreateMultipartUpload")
        // Noted before the request: killed while it is in flight, the
        // service may have started an upload whose id this process never saw.
        let pending = notePendingUpload(bucket: bucket, key: key)
        defer { if let pending { configuration.journal?.remove(pending) } }
        let uploadID = try await Task.detached {
            try await TransferMetrics.$current.withValue(metrics) {
                let (_, data) = try await self.performCollecting(call)
                guard let id = S3XMLElement.parse(data)?.string("UploadId"), !id.isEmpty else {
                    throw StorageError(.other, "the service did not start a multipart upload for \(bucket)/\(key)")
                }
                // Noted before any part is sent, so a run killed from here on
                // leaves an entry for the next run to abort.
                self.noteUpload(bucket: bucket, key: key, uploadID: id)
                return id
            }
        }.value
        if Task.isCancelled {
            await abortMultipartUpload(bucket: bucket, key: key, uploadID: uploadID)
            throw CancellationError()
        }
        return uploadID
    }

    /// CompleteMultipartUpload; its failures can come in a 200 answer.
    /// With `checksums` (the parts' base64 CRCs) and `whole`, the service
    /// checks each part's and the whole object's CRC (`FULL_OBJECT`).
    func completeMultipartUpload(bucket: String, key: String, uploadID: String, etags: [String], checksums: [String]? = nil, whole: UploadDigest? = nil) async throws -> String? {
        let element = whole?.crc.map { "Checksum" + $0.algorithm.rawValue.uppercased() }
        var body = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        for (index, etag) in etags.enumerated() {
            body += "<Part><PartNumber>\(index + 1)</PartNumber><ETag>\(xmlEscape(etag))</ETag>"
            if let element, let checksum = checksums?[index] { body += "<\(element)>\(checksum)</\(element)>" }
            body += "</Part>"
        }
        body += "</CompleteMultipartUpload>"
        var headers: [(name: String, value: String)] = []
        if let header = whole?.checksumHeader { headers = [header, ("x-amz-checksum-type", "FULL_OBJECT")] }
        let call = Call(method: .POST, bucket: bucket, key: key, query: [("uploadId", uploadID)], headers: headers, body: .xml(body), operation: "CompleteMultipartUpload")
        let attempts = Atomic<Int>(0)
        let data: Data
        do {
            data = try await withRetries(call) {
                attempts.add(1, ordering: .relaxed)
                return try await self.transport.withDeadline(bytes: call.bodyBytes) {
                    let response = try await self.sendOnce(call)
                    guard response.status.code == 200 else { throw await self.error(from: response, call: call) }
                    let data = Data(buffer: try await response.body.collect(upTo: 1 << 20))
                    if let error = S3ErrorResponse.parse(data) {
                        throw S3Errors.map(code: error.code, status: 200, message: error.message, bucket: bucket, key: key, region: self.configuration.region, headers: response.headers)
                    }
                    return data
                }
            }
        } catch let error as StorageError where (error.message.contains("NoSuchUpload") || error.code == .noSuchKey) && attempts.load(ordering: .relaxed) > 1 {
            // (rclone answers an upload it already completed with NoSuchKey.)
            throw CompletedMeanwhile(original: error)
        }
        return S3XMLElement.parse(data)?.string("ETag").map(S3ListParser.unquote)
    }

    /// A retried CompleteMultipartUpload found the upload gone: an earlier
    /// attempt may have completed it and lost its answer.
    struct CompletedMeanwhile: Error {
        var original: StorageError
    }

    /// AbortMultipartUpload, in a task of its own so that it runs even when
    /// the caller was cancelled. Failures are recorded, not thrown: the
    /// original error is what the user needs to see.
    func abortMultipartUpload(bucket: String, key: String, uploadID: String) async {
        let metrics = TransferMetrics.current
        let call = Call(method: .DELETE, bucket: bucket, key: key, query: [("uploadId", uploadID)], operation: "AbortMultipartUpload")
        let succeeded = await Task.detached {
            await TransferMetrics.$current.withValue(metrics) {
                (try? await self.performCollecting(call, accept: [200, 204, 404])) != nil
            }
        }.value
        if succeeded { forgetUpload(uploadID) }
        if !succeeded {
            logger.warning("could not abort multipart upload of \(bucket)/\(key); it may linger until a lifecycle rule removes it")
        }
        abortedUploads.withLock { $0.append(AbortRecord(key: key, uploadID: uploadID, succeeded: succeeded)) }
    }

    // MARK: The upload journal

    /// The journal's name for this service.
    var journalEndpoint: String { configuration.endpoint.absoluteString }

    /// Notes a started upload in the journal (if any). A journal that
    /// cannot be written is logged, not fatal: the upload itself is fine.
    func noteUpload(bucket: String, key: String, uploadID: String) {
        guard let journal = configuration.journal else { return }
        do {
            try journal.record(UploadJournal.Entry(provider: "s3", endpoint: journalEndpoint, bucket: bucket, key: key, uploadID: uploadID))
        } catch {
            logger.warning("could not note multipart upload \(uploadID) in \(journal.directory.path): \(error)")
        }
    }

    /// Notes an upload about to be requested (no id yet).
    func notePendingUpload(bucket: String, key: String) -> UploadJournal.Entry? {
        guard let journal = configuration.journal else { return nil }
        let entry = UploadJournal.Entry.pending(provider: "s3", endpoint: journalEndpoint, bucket: bucket, key: key)
        do {
            try journal.record(entry)
            return entry
        } catch {
            logger.warning("could not note a multipart upload of \(bucket)/\(key) in \(journal.directory.path): \(error)")
            return nil
        }
    }

    /// Removes a completed or aborted upload from the journal.
    func forgetUpload(_ uploadID: String) {
        configuration.journal?.remove(provider: "s3", endpoint: journalEndpoint, uploadID: uploadID)
    }

    /// Sweeps of a journal at an endpoint, at most one per process each.
    private static let journalSweeps = Mutex<[String: Task<Int, Never>]>([:])

    /// Aborts the multipart uploads the journal holds for this endpoint
    /// whose process is gone (a run killed mid-upload), and removes their
    /// entries. Runs once per process for each journal and endpoint; later
    /// calls wait for that first sweep and return its count.
    ///
    /// An abort that fails keeps its entry for the next run; an upload the
    /// service no longer knows (404: completed or aborted meanwhile) is removed.
    ///
    /// - Returns: How many uploads were aborted (or found gone).
    @discardableResult
    public func abortAbandonedUploads() async -> Int {
        guard let journal = configuration.journal else { return 0 }
        let id = journal.directory.standardizedFileURL.path + "\n" + journalEndpoint
        let task = Self.journalSweeps.withLock { sweeps in
            if let running = sweeps[id] { return running }
            let task = Task.detached { () -> Int in
                var count = 0
                for entry in journal.abandoned(provider: "s3", endpoint: self.journalEndpoint) where entry.isPending {
                    // The id never came back: abort the uploads of exactly that
                    // key, except those a live process has noted as its own.
                    let alive = journal.entries().map(\.entry).filter { UploadJournal.isAlive(pid: $0.pid, startedAt: $0.processStart) }
                    // A live run starting an upload of the same key right now: its id is not known yet; leave the entry for later.
                    if alive.contains(where: { $0.isPending && $0.bucket == entry.bucket && $0.key == entry.key }) { continue }
                    guard let uploads = try? await self.listMultipartUploads(bucket: entry.bucket, prefix: entry.key) else { continue }
                    let live = Set(alive.map(\.uploadID))
                    var all = true
                    for upload in uploads where upload.key == entry.key && !live.contains(upload.uploadID) {
                        let call = Call(method: .DELETE, bucket: entry.bucket, key: entry.key, query: [("uploadId", upload.uploadID)], operation: "AbortMultipartUpload")
                        if (try? await self.performCollecting(call, accept: [200, 204, 404])) != nil {
                            self.logger.info("aborted multipart upload \(upload.uploadID) of \(entry.bucket)/\(entry.key), possibly left by process \(entry.pid)")
                            count += 1
                        } else {
                            all = false
                        }
                    }
                    if all { journal.remove(entry) }
                }
                for entry in journal.abandoned(provider: "s3", endpoint: self.journalEndpoint) where !entry.isPending {
                    let call = Call(method: .DELETE, bucket: entry.bucket, key: entry.key, query: [("uploadId", entry.uploadID)], operation: "AbortMultipartUpload")
                    if (try? await self.performCollecting(call, accept: [200, 204, 404])) != nil {
                        self.logger.info("aborted multipart upload \(entry.uploadID) of \(entry.bucket)/\(entry.key), left by process \(entry.pid)")
                        journal.remove(provider: "s3", endpoint: self.journalEndpoint, uploadID: entry.uploadID)
                        count += 1
                    }
                }
                return count
            }
            sweeps[id] = task
            return task
        }
        return await task.value
    }

    /// Server-side copy of an object above 5 GiB with concurrent UploadPartCopy.
    func multipartCopy(source: String, info: ObjectInfo, toBucket: String, toKey: String) async throws -> TransferResult {
        var headers: [(name: String, value: String)] = [("Content-Type", info.contentType ?? Self.contentType(forKey: toKey))]
        for (name, value) in info.metadata.sorted(by: { $0.key < $1.key }) { headers.append(("x-amz-meta-\(name)", value)) }
        let uploadID = try await createMultipartUpload(bucket: toBucket, key: toKey, headers: headers)
        do {
            let partSize = max(partSize(for: info.size), configuration.copyPartSize)
            let count = Int((info.size + partSize - 1) / partSize)
            let etags = try await concurrently(count: count, limit: configuration.partConcurrency) { index -> String in
                let start = Int64(index) * partSize
                let end = min(start + partSize, info.size)
                var copyHeaders: [(name: String, value: String)] = [("x-amz-copy-source", source), ("x-amz-copy-source-range", "bytes=\(start)-\(end - 1)")]
                if let etag = info.etag { copyHeaders.append(("x-amz-copy-source-if-match", "\"\(etag)\"")) }
                let call = Call(method: .PUT, bucket: toBucket, key: toKey, query: [("partNumber", String(index + 1)), ("uploadId", uploadID)],
                                headers: copyHeaders, operation: "UploadPartCopy")
                let (_, data) = try await self.performCollecting(call)
                guard let root = S3XMLElement.parse(data), root.name == "CopyPartResult", let etag = root.string("ETag") else {
                    throw StorageError(.notSupported, "the service did not copy part \(index + 1) of \(toBucket)/\(toKey) (no CopyPartResult): it seems not to support UploadPartCopy",
                                       hint: "objects over 5 GiB cannot be copied server-side on this service; download and upload instead")
                }
                return etag
            }
            let etag = try await completeMultipartUpload(bucket: toBucket, key: toKey, uploadID: uploadID, etags: etags)
            forgetUpload(uploadID)
            return TransferResult(key: toKey, bytes: info.size, etag: etag)
        } catch {
            await abortMultipartUpload(bucket: toBucket, key: toKey, uploadID: uploadID)
            throw error
        }
    }
}
