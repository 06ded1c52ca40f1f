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

/// An upload URL and its token (`b2_get_upload_url` / `b2_get_upload_part_url`).
struct UploadTarget: Decodable, Sendable {
    var uploadUrl: String
    var authorizationToken: String
}

struct CancelledLargeFile: Decodable, Sendable { var fileId: String }

/// Idle part-upload URLs of one large file.
final class TargetPool: Sendable {
    let targets = Mutex<[UploadTarget]>([])
}

extension B2Storage {
    /// A request body.
    enum Body: Sendable {
        /// Bytes already in memory (a retry resends them).
        case bytes(ByteBuffer)
        /// `length` bytes of an open file from `offset`, streamed; a retry
        /// re-reads them from `offset`.
        case file(SharedFile, offset: Int64, length: Int64)
    }

    /// Bodies up to this size are read into memory once, hashed, and sent
    /// from that same buffer.
    static let inlineUploadLimit: Int64 = 8 << 20

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        digest.map { String(format: "%02x", $0) }.joined()
    }

    // MARK: - Upload

    /// Uploads `source`: one `b2_upload_file` up to the large-file
    /// threshold, else a large file in parts. The SHA-1 is computed before
    /// sending (B2 wants it in a header) and B2 verifies it.
    public func upload(from source: URL, bucket: String, key: String, options: PutOptions) async throws -> TransferResult {
        guard key.utf8.count <= 1024, !key.isEmpty else {
            throw StorageError(.invalidKey, "B2 file names must be 1 to 1024 bytes of UTF-8; \"\(key.prefix(80))\" is \(key.utf8.count)")
        }
        if key.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
            throw StorageError(.invalidKey, "B2 file names cannot contain control characters: \(bucket)/\(key.debugDescription)")
        }
        let id = try await bucketID(bucket, key: key)
        let session = try await auth.session()
        await cancelAbandonedLargeFiles()
        let file = try SharedFile.openForReading(source.path)
        let size = try FileIO.size(file)
        let contentType = options.contentType ?? ContentTypes.guess(key)
        var fileInfo: [String: String] = [:]
        for (name, value) in options.metadata {
            fileInfo[name.lowercased()] = value
        }
        guard fileInfo.count <= 9 else {
            throw StorageError(.invalidConfiguration, "B2 stores at most 10 metadata entries per file (one is the SHA-1 of large files); \(bucket)/\(key) has \(fileInfo.count)", hint: "store fewer metadata entries")
        }
        let threshold = configuration.largeFileThreshold ?? session.recommendedPartSize
        // A large file needs at least two parts.
        if size > threshold && size > partSize(for: size, session: session) {
            return try await uploadLarge(file: file, size: size, bucketID: id, bucket: bucket, key: key, contentType: contentType, fileInfo: fileInfo, session: session)
        }
        // The body read into memory (or the chunk streaming), from the run's budget.
        let held = try await configuration.memoryBudget.acquire(size <= Self.inlineUploadLimit ? size : 1 << 20)
        defer { configuration.memoryBudget.release(held) }
        let sha1: String
        let body: Body
        if size <= Self.inlineUploadLimit {
            let buffer = try await BlockingIO.run { flag in try FileIO.read(file, offset: 0, length: Int(size), cancellation: flag) }
            sha1 = buffer.withUnsafeReadableBytes { Self.hex(Insecure.SHA1.hash(data: $0)) }
            body = .bytes(buffer)
        } else {
            sha1 = try await Self.sha1(of: file, size: size)
            body = .file(file, offset: 0, length: size)
        }
        let uploaded = try await uploadSmall(body: body, size: size, sha1: sha1, bucket: bucket, key: key, contentType: contentType, fileInfo: fileInfo)
        return TransferResult(key: key, bytes: size, checksums: ["sha1": sha1], etag: uploaded.fileId)
    }

    static func sha1(of file: SharedFile, size: Int64) async throws -> String {
        try await BlockingIO.run { flag in
            var hasher = Insecure.SHA1()
            try FileIO.scan(file, offset: 0, length: size, cancellation: flag) { hasher.update(bufferPointer: $0) }
            return hex(hasher.finalize())
        }
    }

    /// Sends `body` to an upload URL of `pool`, fetching a URL when the
    /// pool is empty; a URL that fails is dropped (B2: "get a new upload
    /// URL" on 401, 408, 429, 5xx and broken connections), one that
    /// worked goes back. Returns the decoded answer.
    func sendToUploadURL<T: Decodable & Sendable>(
        operation: String, subject: Subject, body: Body, size: Int64, headers: [(String, String)],
        take: @Sendable () -> UploadTarget?, give: @Sendable (UploadTarget) -> Void,
        fetch: @Sendable () async throws -> UploadTarget
    ) async throws -> T {
        var attempt = 1
        while true {
            try Task.checkCancellation()
            let target: UploadTarget
            if let pooled = take() { target = pooled } else { target = try await fetch() }
            do {
                var request = HTTPClientRequest(url: target.uploadUrl)
                request.method = .POST
                request.headers.add(name: "Authorization", value: target.authorizationToken)
                for (name, value) in headers { request.headers.add(name: name, value: value) }
                switch body {
                case .bytes(let buffer): request.body = .bytes(buffer)
                case .file(let file, let offset, let length): request.body = .stream(FileChunks(file: file, offset: offset, length: length), length: .known(length))
                }
                let (response, data) = try await transport.withDeadline(bytes: size) { [request] in
                    let response = try await self.transport.send(request)
                    return (response, Data(buffer: try await response.body.collect(upTo: 4 << 20)))
                }
                guard response.status.code == 200 else {
                    throw B2Failure.parse(status: response.status.code, body: data, headers: response.headers)
                }
                give(target)
                do {
                    return try JSONDecoder().decode(T.self, from: data)
                } catch {
                    throw StorageError(.other, "B2 sent an unreadable \(operation) answer for \(subject.text)")
                }
            } catch let failure as B2Failure {
                // The URL is not given back: a new one is fetched next time.
                let newURLHelps = failure.needsReauthorization || failure.isRetryable || (failure.status == 400 && failure.code == "auth_token_limit")
                guard newURLHelps, attempt < retryPolicy.maxAttempts else {
                    throw sanitize(failure.storageError(operation: operation, subject: subject.text), attempts: attempt)
                }
                if failure.needsReauthorization || failure.code == "auth_token_limit" {
                    attempt += 1  // a fresh URL right away, no backoff
                } else {
                    try await backoff(attempt: &attempt, retryAfter: failure.retryAfter, operation: operation, error: failure)
                }
            } catch {
                if Task.isCancelled || error is CancellationError { throw CancellationError() }
                guard RetryPolicy.isRetryable(error), attempt < retryPolicy.maxAttempts else {
                    throw describe(error, operation: operation, subject: subject, attempts: attempt)
                }
                try await backoff(attempt: &attempt, retryAfter: nil, operation: operation, error: error)
            }
        }
    }

    /// `b2_upload_file` through the bucket's pool of upload URLs.
    func uploadSmall(body: Body, size: Int64, sha1: String, bucket: String, key: String, contentType: String, fileInfo: [String: String]) async throws -> B2File {
        let id = try await bucketID(bucket, key: key)
        var headers: [(String, String)] = [
            ("X-Bz-File-Name", Self.encodeName(key)),
            ("Content-Type", contentType),
            ("X-Bz-Content-Sha1", sha1),
        ]
        for (name, value) in fileInfo.sorted(by: { $0.key < $1.key }) {
            headers.append(("X-Bz-Info-\(name)", Self.encodeName(value)))
        }
        return try await sendToUploadURL(
            operation: "b2_upload_file", subject: Subject(bucket: bucket, key: key), body: body, size: size, headers: headers,
            take: { self.uploadURLs.withLock { $0[id]?.popLast() } },
            give: { target in self.uploadURLs.withLock { $0[id, default: []].append(target) } },
            fetch: {
                try await self.api("b2_get_upload_url", UploadTarget.self, subject: Subject(bucket: bucket)) { _ in ["bucketId": .string(id)] }
            })
    }

    /// The part size for a large file of `size` bytes: the configured size
    /// (or B2's recommendation), smaller when the memory budget holds fewer
    /// than `partConcurrency` of it, at least B2's minimum, and large enough
    /// for at most 10,000 parts.
    func partSize(for size: Int64, session: B2Session) -> Int64 {
        max(configuration.memoryBudget.partSize(preferred: configuration.partSize ?? session.recommendedPartSize, concurrency: configuration.partConcurrency,
                                                minimum: session.absoluteMinimumPartSize),
            (size + 9_999) / 10_000)
    }

    func startLargeFile(bucketID: String, bucket: String, key: String, contentType: String, fileInfo: [String: String]) async throws -> String {
        struct Started: Decodable, Sendable { var fileId: String }
        // Noted before the request: killed while it is in flight, B2 may
        // have started a large file whose id this process never saw.
        let pending = notePendingLargeFile(bucket: bucket, key: key)
        defer { if let pending { configuration.journal?.remove(pending) } }
        let fileID = try await api("b2_start_large_file", Started.self, subject: Subject(bucket: bucket, key: key)) { _ in
            ["bucketId": .string(bucketID), "fileName": .string(key), "contentType": .string(contentType),
             "fileInfo": .object(fileInfo.mapValues { .string($0) })]
        }.fileId
        // Noted before any part is sent: a run killed from here on leaves
        // an entry for the next run to cancel.
        noteLargeFile(bucket: bucket, key: key, fileID: fileID)
        return fileID
    }

    func finishLargeFile(fileID: String, partSHA1s: [String], bucket: String, key: String) async throws -> B2File {
        let finished = try await api("b2_finish_large_file", B2File.self, subject: Subject(bucket: bucket, key: key)) { _ in
            ["fileId": .string(fileID), "partSha1Array": .array(partSHA1s.map { .string($0) })]
        }
        forgetLargeFile(fileID)
        return finished
    }

    // MARK: The upload journal

    /// The journal's name for this account's service.
    var journalEndpoint: String { configuration.authorizationURL.absoluteString }

    func noteLargeFile(bucket: String, key: String, fileID: String) {
        guard let journal = configuration.journal else { return }
        do {
            try journal.record(UploadJournal.Entry(provider: "b2", endpoint: journalEndpoint, bucket: bucket, key: key, uploadID: fileID))
        } catch {
            logger.warning("could not note large file \(fileID) in \(journal.directory.path): \(error)")
        }
    }

    func notePendingLargeFile(bucket: String, key: String) -> UploadJournal.Entry? {
        guard let journal = configuration.journal else { return nil }
        let entry = UploadJournal.Entry.pending(provider: "b2", endpoint: journalEndpoint, bucket: bucket, key: key)
        do {
            try journal.record(entry)
            return entry
        } catch {
            logger.warning("could not note a large file of \(bucket)/\(key) in \(journal.directory.path): \(error)")
            return nil
        }
    }

    /// The unfinished large files named exactly `key` started since
    /// `since` (a minute of clock skew allowed), first page only (100).
    func unfinishedLargeFiles(bucket: String, key: String, since: Date) async throws -> [String] {
        struct Unfinished: Decodable, Sendable { var fileId: String; var fileName: String; var uploadTimestamp: Int64? }
        struct Page: Decodable, Sendable { var files: [Unfinished] }
        let bucketID = try await bucketID(bucket, key: key)
        let page = try await api("b2_list_unfinished_large_files", Page.self, subject: Subject(bucket: bucket, key: key)) { _ in
            ["bucketId": .string(bucketID), "namePrefix": .string(key), "maxFileCount": .int(100)]
        }
        let earliest = Int64((since.timeIntervalSince1970 - 60) * 1000)
        return page.files.filter { $0.fileName == key && ($0.uploadTimestamp ?? Int64.max) >= earliest }.map(\.fileId)
    }

    func forgetLargeFile(_ fileID: String) {
        configuration.journal?.remove(provider: "b2", endpoint: journalEndpoint, uploadID: fileID)
    }

    /// Sweeps of a journal at an authorization URL, at most one per process each.
    private static let journalSweeps = Mutex<[String: Task<Int, Never>]>([:])

    /// Cancels (`b2_cancel_large_file`) the large files the journal holds
    /// for this service whose process is gone (a run killed mid-upload),
    /// and removes their entries. Once per process for each journal and
    /// service; later calls wait for the first sweep. A cancel that fails
    /// keeps its entry for the next run.
    ///
    /// - Returns: How many large files were cancelled (or found gone).
    @discardableResult
    public func cancelAbandonedLargeFiles() async -> Int {
        guard let journal = configuration.journal else { return 0 }
        let id = journal.directory.standardizedFileURL.path + "\n" + journalEndpoint
        let task = Self.journalSweeps.withLock { sweeps in
            if let running = sweeps[id] { return running }
            let task = Task.detached { () -> Int in
                var count = 0
                for entry in journal.abandoned(provider: "b2", endpoint: self.journalEndpoint) where entry.isPending {
                    // The id never came back: cancel the large files of exactly
                    // that key started since, except those live processes noted.
                    let alive = journal.entries().map(\.entry).filter { UploadJournal.isAlive(pid: $0.pid, startedAt: $0.processStart) }
                    if alive.contains(where: { $0.isPending && $0.bucket == entry.bucket && $0.key == entry.key }) { continue }
                    guard let found = try? await self.unfinishedLargeFiles(bucket: entry.bucket, key: entry.key, since: entry.startedAt) else { continue }
                    let live = Set(alive.map(\.uploadID))
                    var all = true
                    for fileID in found where !live.contains(fileID) {
                        do {
                            _ = try await self.api("b2_cancel_large_file", CancelledLargeFile.self, subject: Subject(key: entry.key)) { _ in ["fileId": .string(fileID)] }
                            count += 1
                        } catch {
                            all = false
                        }
                    }
                    if all { journal.remove(entry) }
                }
                for entry in journal.abandoned(provider: "b2", endpoint: self.journalEndpoint) where !entry.isPending {
                    var gone = false
                    do {
                        _ = try await self.api("b2_cancel_large_file", CancelledLargeFile.self, subject: Subject(key: entry.key)) { _ in ["fileId": .string(entry.uploadID)] }
                        gone = true
                    } catch let error as StorageError where error.code == .noSuchKey || error.code == .noSuchBucket {
                        gone = true  // finished or cancelled meanwhile
                    } catch {
                        self.logger.warning("could not cancel the large file \(entry.key) (\(entry.uploadID)) left by process \(entry.pid): \(self.scrub(String(describing: error)))")
                    }
                    if gone {
                        journal.remove(provider: "b2", endpoint: self.journalEndpoint, uploadID: entry.uploadID)
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

    /// Runs `body`; on any error or cancellation cancels the large file on
    /// B2 (from an unstructured task, so a cancelled caller still gets the
    /// cancel through) and rethrows.
    func withLargeFileCancelledOnFailure<T: Sendable>(fileID: String, key: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            let succeeded = await Task {
                do {
                    _ = try await self.api("b2_cancel_large_file", CancelledLargeFile.self, subject: Subject(key: key)) { _ in ["fileId": .string(fileID)] }
                    self.forgetLargeFile(fileID)
                    return true
                } catch {
                    self.logger.warning("could not cancel the unfinished large file \(key) (\(fileID)): \(self.scrub(String(describing: error)))")
                    return false
                }
            }.value
            cancelledLargeFiles.withLock { $0.append(CancelRecord(key: key, fileID: fileID, succeeded: succeeded)) }
            if Task.isCancelled { throw CancellationError() }
            throw error
        }
    }

    /// One pass for the whole file's SHA-1 (stored as `large_file_sha1`,
    /// since B2 keeps no SHA-1 of its own for large files), then
    /// `b2_start_large_file`, parts read once each into memory, hashed and
    /// sent `partConcurrency` at a time over their own part URLs, and
    /// `b2_finish_large_file`.
    func uploadLarge(file: SharedFile, size: Int64, bucketID: String, bucket: String, key: String, contentType: String, fileInfo: [String: String], session: B2Session) async throws -> TransferResult {
        let wholeSHA1 = try await Self.sha1(of: file, size: size)
        var info = fileInfo
        info["large_file_sha1"] = wholeSHA1
        let partSize = partSize(for: size, session: session)
        let count = Int((size + partSize - 1) / partSize)
        let fileID = try await startLargeFile(bucketID: bucketID, bucket: bucket, key: key, contentType: contentType, fileInfo: info)
        let finished = try await withLargeFileCancelledOnFailure(fileID: fileID, key: key) {
            let pool = TargetPool()
            struct Part: Decodable, Sendable { var contentSha1: String }
            let subject = Subject(bucket: bucket, key: key)
            let buffers = PartBuffers(capacity: Int(partSize), parts: count, budget: self.configuration.memoryBudget)
            let sha1s = try await concurrently(count: count, limit: buffers.concurrency(self.configuration.partConcurrency)) { index -> String in
                let start = Int64(index) * partSize
                let length = Int(min(partSize, size - start))
                try await buffers.reserve()
                let buffer = try await BlockingIO.run { flag in
                    var buffer = buffers.take()
                    try FileIO.read(file, offset: start, length: length, into: &buffer, cancellation: flag)
                    return buffer
                }
                let sha1 = buffer.withUnsafeReadableBytes { Self.hex(Insecure.SHA1.hash(data: $0)) }
                let part: Part = try await self.sendToUploadURL(
                    operation: "b2_upload_part", subject: subject, body: .bytes(buffer), size: Int64(length),
                    headers: [("X-Bz-Part-Number", String(index + 1)), ("X-Bz-Content-Sha1", sha1)],
                    take: { pool.targets.withLock { $0.popLast() } },
                    give: { target in pool.targets.withLock { $0.append(target) } },
                    fetch: {
                        try await self.api("b2_get_upload_part_url", UploadTarget.self, subject: subject) { _ in ["fileId": .string(fileID)] }
                    })
                await buffers.give(consume buffer)
                guard part.contentSha1.lowercased() == sha1 else {
                    throw StorageError(.checksumMismatch, "B2 stored part \(index + 1) of \(bucket)/\(key) with SHA-1 \(part.contentSha1), expected \(sha1)", hint: "retry the upload")
                }
                return sha1
            }
            return try await self.finishLargeFile(fileID: fileID, partSHA1s: sha1s, bucket: bucket, key: key)
        }
        return TransferResult(key: key, bytes: size, checksums: ["sha1": wholeSHA1], etag: finished.fileId ?? fileID)
    }

    // MARK: - Download

    /// Sends a download GET (by name, or by file id when pinned to one
    /// version) and returns the response once its status is 200/206.
    /// Authorizes again once on an expired token; retries 408/429/5xx and
    /// broken connections.
    func openDownload(bucket: String, key: String, fileID: String?, range: (Int64, Int64?)?, method: HTTPMethod = .GET) async throws -> HTTPClientResponse {
        _ = try await bucketID(bucket, key: key)
        var session = try await auth.session()
        var attempt = 1
        var reauthorized = false
        let operation = fileID == nil ? "b2_download_file_by_name" : "b2_download_file_by_id"
        let subject = Subject(bucket: bucket, key: key)
        while true {
            try Task.checkCancellation()
            do {
                let url = fileID.map { "\(session.downloadURL)/b2api/v4/b2_download_file_by_id?fileId=\(Self.encodeName($0))" }
                    ?? "\(session.downloadURL)/file/\(Self.encodeName(bucket))/\(Self.encodeName(key))"
                var request = HTTPClientRequest(url: url)
                request.method = method
                request.headers.add(name: "Authorization", value: session.token)
                if let range {
                    let (start, end) = range
                    request.headers.add(name: "Range", value: "bytes=\(start)-\(end.map { String($0 - 1) } ?? "")")
                }
                let response = try await transport.send(request)
                guard response.status.code == 200 || response.status.code == 206 else {
                    let data = Data(buffer: (try? await response.body.collect(upTo: 1 << 20)) ?? ByteBuffer())
                    throw B2Failure.parse(status: response.status.code, body: data, headers: response.headers)
                }
                return response
            } catch let failure as B2Failure {
                if failure.needsReauthorization && !reauthorized {
                    reauthorized = true
                    session = try await auth.refresh(replacing: session.generation)
                    continue
                }
                guard failure.isRetryable, attempt < retryPolicy.maxAttempts else {
                    throw sanitize(failure.storageError(operation: operation, subject: subject.text), attempts: attempt)
                }
                try await backoff(attempt: &attempt, retryAfter: failure.retryAfter, operation: operation, error: failure)
            } catch {
                if Task.isCancelled || error is CancellationError { throw CancellationError() }
                guard RetryPolicy.isRetryable(error), attempt < retryPolicy.maxAttempts else {
                    throw describe(error, operation: operation, subject: subject, attempts: attempt)
                }
                try await backoff(attempt: &attempt, retryAfter: nil, operation: operation, error: error)
            }
        }
    }

    /// The SHA-1 B2 holds for a download response.
    static func expectedSHA1(_ headers: HTTPHeaders) -> String? {
        B2File.sha1(contentSha1: headers.first(name: "X-Bz-Content-Sha1"), largeFileSHA1: headers.first(name: "X-Bz-Info-large_file_sha1"))
    }

    public func download(bucket: String, key: String, to destination: URL) async throws -> TransferResult {
        try await download(bucket: bucket, key: key, to: destination, fileID: nil, announced: nil)
    }

    /// One GET by name; the size the listing or HEAD announced is a hard
    /// limit for the body (see ``download(bucket:key:to:fileID:announced:)``).
    public func download(bucket: String, key: String, to destination: URL, known: ObjectInfo) async throws -> TransferResult {
        try await download(bucket: bucket, key: key, to: destination, fileID: nil, announced: known.size)
    }

    /// One GET streamed into a temporary file beside `destination` while
    /// SHA-1 runs over it; checked against B2's SHA-1 (`X-Bz-Content-Sha1`,
    /// or `large_file_sha1`) and the size announced (by the listing or HEAD
    /// when known, else the response's Content-Length), then renamed into
    /// place. Bytes past the announced size are never written: the download
    /// fails there. A short body fails even without Content-Length. A
    /// broken or corrupted transfer starts over; each attempt runs under
    /// the whole-response deadline; on any error or cancellation the
    /// temporary file is removed.
    func download(bucket: String, key: String, to destination: URL, fileID: String?, announced: Int64?) async throws -> TransferResult {
        let file = try DownloadFile(destination: destination)
        defer { file.discard() }
        let subject = "\(bucket)/\(key)"
        var attempt = 1
        while true {
            do {
                let (digest, size, etag) = try await transport.withDeadline(bytes: announced ?? 0) {
                    let response = try await self.openDownload(bucket: bucket, key: key, fileID: fileID, range: nil)
                    try file.truncate()
                    let expected = Self.expectedSHA1(response.headers)
                    let expectedLength = response.headers.first(name: "Content-Length").flatMap { Int64($0) }
                    guard let size = announced ?? expectedLength else {
                        throw StorageError(.other, "\(subject): B2 announced no size for the download (no Content-Length)", hint: "the server is misbehaving")
                    }
                    if let expectedLength, expectedLength > size { throw BodySize.tooLong(subject, announced: size) }
                    var hasher = Insecure.SHA1()
                    var offset: Int64 = 0
                    for try await buffer in response.body {
                        let written = try file.write(buffer, at: offset, limit: size)
                        buffer.withUnsafeReadableBytes { bytes in hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: bytes[0..<written])) }
                        offset += Int64(written)
                        ByteProgress.current?(Int64(written))
                        if written < buffer.readableBytes { throw BodySize.tooLong(subject, announced: size) }
                    }
                    if offset != size { throw BodySize.tooShort(subject, received: offset, announced: size) }
                    let digest = Self.hex(hasher.finalize())
                    if let expected, expected != digest {
                        throw StorageError(.checksumMismatch, "\(subject): the downloaded bytes do not match B2's SHA-1 (got \(digest), expected \(expected))",
                                           hint: "the transfer was corrupted; it was retried and the destination left untouched", isRetryable: true)
                    }
                    return (digest, offset, response.headers.first(name: "X-Bz-File-Id") ?? fileID)
                }
                try Task.checkCancellation()
                // The rename (and fsync under --fsync) on a blocking thread, off the cooperative pool.
                try await BlockingIO.run { _ in try file.commit() }
                return TransferResult(key: key, bytes: size, checksums: ["sha1": digest], etag: etag)
            } catch {
                if Task.isCancelled || error is CancellationError { throw CancellationError() }
                guard RetryPolicy.isRetryable(error), attempt < retryPolicy.maxAttempts else {
                    throw describe(error, operation: "download", subject: Subject(bucket: bucket, key: key), attempts: attempt)
                }
                try await backoff(attempt: &attempt, retryAfter: nil, operation: "download", error: error)
            }
        }
    }

    // MARK: - Read

    /// Streams the file (or a byte range) with backpressure. A connection
    /// that breaks midway is resumed from the next byte, pinned to the
    /// file version the first response came from.
    public func read(bucket: String, key: String, range: Range<Int64>?) async throws -> ObjectByteStream {
        if let range, range.isEmpty { return ObjectByteStream { $0.finish() } }
        let reader = B2RangeReader(storage: self, bucket: bucket, key: key, start: range?.lowerBound ?? 0, end: range?.upperBound)
        try await reader.open()
        return ObjectByteStream(unfolding: { try await reader.next() })
    }
}

/// The state behind ``B2Storage/read(bucket:key:range:)``'s stream.
///
/// `@unchecked Sendable`: `AsyncThrowingStream(unfolding:)` calls `next()`
/// one call at a time and `open()` finishes before the stream exists, so
/// the mutable fields are never touched concurrently.
final class B2RangeReader: @unchecked Sendable {
    let storage: B2Storage
    let bucket: String
    let key: String
    var position: Int64
    var end: Int64?
    var fileID: String?
    var iterator: HTTPClientResponse.Body.AsyncIterator?
    var attempts = 0

    init(storage: B2Storage, bucket: String, key: String, start: Int64, end: Int64?) {
        self.storage = storage
        self.bucket = bucket
        self.key = key
        self.position = start
        self.end = end
    }

    func open() async throws {
        let start = position
        let range: (Int64, Int64?)? = (position > 0 || end != nil) ? (position, end) : nil
        let response = try await storage.openDownload(bucket: bucket, key: key, fileID: fileID, range: range)
        if range != nil {
            guard response.status.code == 206, response.headers.first(name: "Content-Range")?.hasPrefix("bytes \(start)-") == true else {
                throw StorageError(.other, "\(bucket)/\(key): B2 did not answer the byte range from \(start)", hint: "retry")
            }
        }
        if fileID == nil { fileID = response.headers.first(name: "X-Bz-File-Id") }
        // A range past the end of the file ends at the file's end.
        if let total = response.headers.first(name: "Content-Range").flatMap({ $0.split(separator: "/").last }).flatMap({ Int64($0) }) {
            end = min(end ?? total, total)
        }
        if end == nil, let length = response.headers.first(name: "Content-Length").flatMap({ Int64($0) }) { end = start + length }
        iterator = response.body.makeAsyncIterator()
    }

    func next() async throws -> [UInt8]? {
        while true {
            if let end, position >= end { return nil }
            do {
                guard var buffer = try await iterator?.next() else {
                    if let end, position < end {
                        throw StorageError(.transient, "\(bucket)/\(key): the connection ended at byte \(position) of \(end)", isRetryable: true)
                    }
                    return nil
                }
                if let end, position + Int64(buffer.readableBytes) > end {
                    buffer = buffer.getSlice(at: buffer.readerIndex, length: Int(end - position)) ?? buffer
                }
                position += Int64(buffer.readableBytes)
                attempts = 0
                return Array(buffer.readableBytesView)
            } catch {
                attempts += 1
                if Task.isCancelled { throw CancellationError() }
                guard RetryPolicy.isRetryable(error), attempts < storage.retryPolicy.maxAttempts else {
                    throw storage.describe(error, operation: "read", subject: B2Storage.Subject(bucket: bucket, key: key), attempts: attempts)
                }
                try await storage.retryPolicy.pause(afterAttempt: attempts)
                iterator = nil
                try await open()
            }
        }
    }
}
