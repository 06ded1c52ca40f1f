public import Foundation
import Crypto

/// The `local` provider: a directory whose sub-directories are buckets and
/// whose files are objects (`ROOT/bucket/a/b.csv` is key `a/b.csv`).
///
/// Writes go to a `.bucketflow-tmp-*` file in the destination directory and
/// are renamed into place once complete, so readers never see half an object.
/// Content type, user metadata and a SHA-256 (stamped with size and mtime, so
/// a stale value is never trusted) live in `user.bucketflow.*` extended
/// attributes where the file system supports them.
public struct LocalStorage: ObjectStorage {
    public let root: URL
    static let temporaryPrefix = ".bucketflow-tmp-"
    static let chunkSize = 1 << 20

    public init(root: URL) {
        self.root = root.standardizedFileURL
    }

    public var displayName: String { "local:\(root.path)" }

    // MARK: Buckets

    public func listBuckets() async throws -> [BucketInfo] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.sorted().compactMap { name in
            guard !name.hasPrefix("."), isDirectory(root.appendingPathComponent(name)) else { return nil }
            let attributes = try? FileManager.default.attributesOfItem(atPath: root.appendingPathComponent(name).path)
            return BucketInfo(name: name, createdAt: attributes?[.creationDate] as? Date ?? attributes?[.modificationDate] as? Date)
        }
    }

    public func bucketExists(_ bucket: String) async throws -> Bool {
        try Self.validateBucket(bucket)
        return isDirectory(bucketURL(bucket))
    }

    public func createBucket(_ bucket: String) async throws {
        try Self.validateBucket(bucket)
        let url = bucketURL(bucket)
        if isDirectory(url) {
            throw StorageError(.bucketAlreadyExists, "bucket \"\(bucket)\" already exists in \(root.path)")
        }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        guard mkdir(url.path, 0o755) == 0 else {
            if errno == EEXIST { throw StorageError(.bucketAlreadyExists, "bucket \"\(bucket)\" already exists in \(root.path)") }
            throw Self.ioError("cannot create bucket directory", url.path)
        }
    }

    public func deleteBucket(_ bucket: String) async throws {
        let url = try existingBucket(bucket)
        let contents = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        if contents.contains(where: { !$0.hasPrefix(Self.temporaryPrefix) }) {
            throw StorageError(.bucketNotEmpty, "bucket \"\(bucket)\" is not empty", hint: "use force: true to empty it first")
        }
        for name in contents { unlink(url.appendingPathComponent(name).path) }
        guard rmdir(url.path) == 0 else { throw Self.ioError("cannot delete bucket directory", url.path) }
    }

    // MARK: Listing

    public func listPage(bucket: String, prefix: String, delimiter: String?, continuationToken: String?, maxKeys: Int) async throws -> ListPage {
        try await BlockingIO.run { _ in
            try self.listPageNow(bucket: bucket, prefix: prefix, delimiter: delimiter, continuationToken: continuationToken, maxKeys: maxKeys)
        }
    }

    private func listPageNow(bucket: String, prefix: String, delimiter: String?, continuationToken: String?, maxKeys: Int) throws -> ListPage {
        let bucketDirectory = try existingBucket(bucket)
        // Walk only the directory the prefix points into.
        let directoryPart = prefix.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let start = directoryPart.isEmpty ? bucketDirectory : bucketDirectory.appendingPathComponent(directoryPart)
        var keys: [String] = []
        walk(start, keyPrefix: directoryPart.isEmpty ? "" : directoryPart + "/", into: &keys)
        keys = keys.filter { $0.hasPrefix(prefix) }
        keys.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }

        var objects: [ObjectInfo] = []
        var prefixes: [String] = []
        var lastEmitted: String?
        let limit = max(1, maxKeys)
        var truncated = false
        for key in keys {
            if let token = continuationToken, !token.utf8.lexicographicallyPrecedes(key.utf8) || token == key { continue }
            if let delimiter, !delimiter.isEmpty, let range = key.dropFirst(prefix.count).range(of: delimiter) {
                let common = String(key[..<range.upperBound])
                if prefixes.last == common { continue }
                if let token = continuationToken, common.utf8.lexicographicallyPrecedes(token.utf8) || common == token { continue }
                if objects.count + prefixes.count >= limit { truncated = true; break }
                prefixes.append(common)
                lastEmitted = common
                continue
            }
            if objects.count + prefixes.count >= limit { truncated = true; break }
            if let info = info(bucketDirectory, key: key) {
                objects.append(info)
                lastEmitted = key
            }
        }
        // A rolled-up prefix must be skipped as a whole by the next page.
        var token = lastEmitted
        if let last = lastEmitted, prefixes.last == last { token = last + "\u{10FFFF}" }
        return ListPage(objects: objects, commonPrefixes: prefixes, isTruncated: truncated, nextContinuationToken: truncated ? token : nil)
    }

    /// Collects keys under `directory`: files, and empty directories as `dir/`.
    private func walk(_ directory: URL, keyPrefix: String, into keys: inout [String]) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return }
        if names.isEmpty, !keyPrefix.isEmpty { keys.append(keyPrefix) }
        for name in names where !name.hasPrefix(Self.temporaryPrefix) {
            let url = directory.appendingPathComponent(name)
            var info = stat()
            guard lstat(url.path, &info) == 0 else { continue }
            if (info.st_mode & S_IFMT) == S_IFDIR {
                walk(url, keyPrefix: keyPrefix + name + "/", into: &keys)
            } else if (info.st_mode & S_IFMT) == S_IFREG {
                keys.append(keyPrefix + name)
            }
        }
    }

    // MARK: Objects

    public func head(bucket: String, key: String) async throws -> ObjectInfo {
        let bucketDirectory = try existingBucket(bucket)
        try Self.validateKey(key)
        let found = try await BlockingIO.run { _ in self.info(bucketDirectory, key: key, computeChecksumUpTo: 16 << 20) }
        guard let info = found else {
            throw StorageError(.noSuchKey, "\(bucket)/\(key) does not exist")
        }
        return info
    }

    /// Metadata of an object; computes and caches the SHA-256 of files up to
    /// `computeChecksumUpTo` bytes when no valid cached value exists.
    func info(_ bucketDirectory: URL, key: String, computeChecksumUpTo limit: Int64 = 0) -> ObjectInfo? {
        let url = bucketDirectory.appendingPathComponent(key)
        var st = stat()
        guard stat(url.path, &st) == 0 else { return nil }
        let mtime = Date(timeIntervalSince1970: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9)
        if key.hasSuffix("/") {
            guard (st.st_mode & S_IFMT) == S_IFDIR else { return nil }
            return ObjectInfo(key: key, size: 0, lastModified: mtime, contentType: "application/x-directory")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        let size = Int64(st.st_size)
        var checksums: [String: String] = [:]
        let stamp = Self.stamp(st)
        if let cached = XAttr.get(url.path, "user.bucketflow.sha256") {
            let parts = cached.split(separator: " ")
            if parts.count == 2, parts[1] == stamp { checksums["sha256"] = String(parts[0]) }
        }
        if checksums["sha256"] == nil, size <= limit, let digest = try? Self.sha256(of: url) {
            checksums["sha256"] = digest
            XAttr.set(url.path, "user.bucketflow.sha256", "\(digest) \(stamp)")
        }
        var metadata: [String: String] = [:]
        for name in XAttr.list(url.path) where name.hasPrefix("user.bucketflow.meta.") {
            metadata[String(name.dropFirst("user.bucketflow.meta.".count))] = XAttr.get(url.path, name)
        }
        return ObjectInfo(
            key: key, size: size, lastModified: mtime, etag: checksums["sha256"],
            contentType: XAttr.get(url.path, "user.bucketflow.content-type") ?? ContentTypes.guess(key),
            metadata: metadata, checksums: checksums)
    }

    public func read(bucket: String, key: String, range: Range<Int64>?) async throws -> ObjectByteStream {
        let url = try objectURL(bucket, key)
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT || errno == EISDIR { throw StorageError(.noSuchKey, "\(bucket)/\(key) does not exist") }
            throw Self.ioError("cannot read", url.path)
        }
        let descriptor = FileDescriptor(fd)
        return ObjectByteStream { continuation in
            let task = Task {
                defer { descriptor.close() }
                var offset = range?.lowerBound ?? 0
                let end = range?.upperBound ?? Int64.max
                do {
                    while offset < end {
                        try Task.checkCancellation()
                        let want = Int(min(Int64(256 << 10), end - offset))
                        var chunk = [UInt8](repeating: 0, count: want)
                        let count = chunk.withUnsafeMutableBytes { pread(descriptor.fd, $0.baseAddress, want, off_t(offset)) }
                        if count < 0 {
                            if errno == EINTR { continue }
                            throw Self.ioError("cannot read", url.path)
                        }
                        if count == 0 { break }
                        chunk.removeLast(want - count)
                        offset += Int64(count)
                        continuation.yield(chunk)
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    public func download(bucket: String, key: String, to destination: URL) async throws -> TransferResult {
        let source = try objectURL(bucket, key)
        let expected = try await head(bucket: bucket, key: key)
        TransferMetrics.current?.recordRequest()
        let (bytes, digest) = try await BlockingIO.run { flag in
            try Self.copyFile(from: source, to: destination, cancellation: flag, verify: { digest in
                if let cached = expected.checksums["sha256"], cached != digest {
                    throw StorageError(.checksumMismatch, "\(bucket)/\(key): the bytes read do not match the stored SHA-256", hint: "the object changed while it was read, or the disk is failing; retry")
                }
            })
        }
        return TransferResult(key: key, bytes: bytes, checksums: ["sha256": digest], etag: digest)
    }

    public func upload(from source: URL, bucket: String, key: String, options: PutOptions) async throws -> TransferResult {
        let bucketDirectory = try existingBucket(bucket)
        try Self.validateKey(key)
        TransferMetrics.current?.recordRequest()
        let destination = bucketDirectory.appendingPathComponent(key)
        if key.hasSuffix("/") {
            // A folder marker: a directory, remembered as explicit.
            try FileManager.default.createDirectory(at: destination, withIntermediateDirectories: true)
            XAttr.set(destination.path, "user.bucketflow.folder", "1")
            return TransferResult(key: key, bytes: 0, checksums: ["sha256": Self.emptySHA256])
        }
        try makeParents(of: destination, in: bucketDirectory)
        let (bytes, digest) = try await BlockingIO.run { flag in
            try Self.copyFile(from: source, to: destination, cancellation: flag, verify: { _ in })
        }
        var st = stat()
        if stat(destination.path, &st) == 0 {
            XAttr.set(destination.path, "user.bucketflow.sha256", "\(digest) \(Self.stamp(st))")
        }
        XAttr.set(destination.path, "user.bucketflow.content-type", options.contentType ?? ContentTypes.guess(key))
        for (name, value) in options.metadata {
            XAttr.set(destination.path, "user.bucketflow.meta.\(name.lowercased())", value)
        }
        return TransferResult(key: key, bytes: bytes, checksums: ["sha256": digest], etag: digest)
    }

    public func copy(fromBucket: String, fromKey: String, toBucket: String, toKey: String) async throws -> TransferResult {
        let source = try objectURL(fromBucket, fromKey)
        let info = try await head(bucket: fromBucket, key: fromKey)
        var options = PutOptions(contentType: info.contentType, metadata: info.metadata)
        if fromKey.hasSuffix("/") { options.contentType = nil }
        return try await upload(from: source, bucket: toBucket, key: toKey, options: options)
    }

    public func delete(bucket: String, keys: [String]) async throws -> [DeleteFailure] {
        let bucketDirectory = try existingBucket(bucket)
        var failures: [DeleteFailure] = []
        TransferMetrics.current?.recordRequest()
        // Deeper keys first, so folder markers go after their contents.
        for key in keys.sorted(by: { $0.count > $1.count }) {
            try Task.checkCancellation()
            do { try Self.validateKey(key) } catch let error as StorageError {
                failures.append(DeleteFailure(key: key, code: error.code.rawValue, message: error.message))
                continue
            }
            let url = bucketDirectory.appendingPathComponent(key)
            let result = key.hasSuffix("/") ? rmdir(url.path) : unlink(url.path)
            if result != 0 && errno != ENOENT {
                if key.hasSuffix("/") && errno == ENOTEMPTY {
                    // The marker goes; the objects under it stay, as in S3.
                    XAttr.remove(url.path, "user.bucketflow.folder")
                    continue
                }
                failures.append(DeleteFailure(key: key, code: StorageError.Code.io.rawValue, message: String(cString: strerror(errno))))
                continue
            }
            pruneEmptyParents(of: url, in: bucketDirectory)
        }
        return failures
    }

    // MARK: Helpers

    func bucketURL(_ bucket: String) -> URL { root.appendingPathComponent(bucket) }

    func existingBucket(_ bucket: String) throws -> URL {
        try Self.validateBucket(bucket)
        let url = bucketURL(bucket)
        guard isDirectory(url) else {
            throw StorageError(.noSuchBucket, "bucket \"\(bucket)\" does not exist in \(root.path)", hint: "create it first with a create-bucket step")
        }
        return url
    }

    func objectURL(_ bucket: String, _ key: String) throws -> URL {
        let directory = try existingBucket(bucket)
        try Self.validateKey(key)
        let url = directory.appendingPathComponent(key)
        var st = stat()
        guard stat(url.path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw StorageError(.noSuchKey, "\(bucket)/\(key) does not exist")
        }
        return url
    }

    func isDirectory(_ url: URL) -> Bool {
        var st = stat()
        return stat(url.path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    func makeParents(of file: URL, in bucketDirectory: URL) throws {
        let parent = file.deletingLastPathComponent()
        guard parent.path != bucketDirectory.path else { return }
        do {
            try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        } catch {
            throw StorageError(.invalidKey, "cannot create the folder for \(file.path): a file of that name is in the way", hint: "keys cannot use an existing object's name as a folder")
        }
    }

    /// Removes directories left empty by a delete, up to the bucket, except
    /// folders created explicitly (create-folder), which S3 would keep too.
    func pruneEmptyParents(of url: URL, in bucketDirectory: URL) {
        var directory = url.deletingLastPathComponent().standardizedFileURL
        let stop = bucketDirectory.standardizedFileURL.path
        while directory.path.count > stop.count, directory.path.hasPrefix(stop) {
            if XAttr.get(directory.path, "user.bucketflow.folder") != nil { return }
            guard rmdir(directory.path) == 0 else { return }
            directory = directory.deletingLastPathComponent()
        }
    }

    static let emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    static func stamp(_ st: stat) -> String { "\(st.st_size)@\(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec)" }

    static func ioError(_ what: String, _ path: String) -> StorageError {
        StorageError(.io, "\(what) \(path): \(String(cString: strerror(errno)))")
    }

    /// Bucket names as S3 allows them, so a workflow that runs locally also
    /// runs against S3.
    static func validateBucket(_ bucket: String) throws {
        let allowed = bucket.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2d || $0 == 0x2e }
        guard (3...63).contains(bucket.utf8.count), allowed, let first = bucket.first, let last = bucket.last,
              first.isLetter || first.isNumber, last.isLetter || last.isNumber, !bucket.contains("..") else {
            throw StorageError(.invalidBucketName, "invalid bucket name \"\(bucket)\"", hint: "use 3 to 63 lowercase letters, digits, '-' and '.', starting and ending with a letter or digit")
        }
    }

    static func validateKey(_ key: String) throws {
        let segments = key.split(separator: "/", omittingEmptySubsequences: false)
        let body = key.hasSuffix("/") ? segments.dropLast() : segments[...]
        guard !key.isEmpty, !key.hasPrefix("/"), !key.contains("\0"), !body.isEmpty,
              !body.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." || $0.hasPrefix(temporaryPrefix) }),
              key.utf8.count <= 1024 else {
            throw StorageError(.invalidKey, "invalid key \"\(key)\" for the local provider", hint: "keys may not be empty, start with '/', or contain empty, '.' or '..' segments")
        }
    }

    /// Streams `source` into a temporary file next to `destination`, hashing
    /// as it goes, then fsyncs and renames. Any error or cancellation removes
    /// the temporary file and leaves `destination` untouched.
    static func copyFile(from source: URL, to destination: URL, cancellation: CancellationFlag, verify: (String) throws -> Void) throws -> (Int64, String) {
        let input = open(source.path, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else {
            if errno == ENOENT { throw StorageError(.noSuchKey, "\(source.path) does not exist") }
            throw ioError("cannot read", source.path)
        }
        defer { close(input) }
        let directory = destination.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent("\(temporaryPrefix)\(UInt64.random(in: 0...UInt64.max))")
        let output = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw ioError("cannot write", temporary.path) }
        var renamed = false
        defer {
            if !renamed { unlink(temporary.path) }
        }
        var hasher = SHA256()
        var total: Int64 = 0
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        do {
            defer { close(output) }
            while true {
                try cancellation.check()
                let count = Foundation.read(input, buffer.baseAddress, chunkSize)
                if count < 0 {
                    if errno == EINTR { continue }
                    throw ioError("cannot read", source.path)
                }
                if count == 0 { break }
                let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
                hasher.update(bufferPointer: chunk)
                var written = 0
                while written < count {
                    let n = Foundation.write(output, chunk.baseAddress! + written, count - written)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw ioError("cannot write", temporary.path)
                    }
                    written += n
                }
                total += Int64(count)
            }
            guard fsync(output) == 0 else { throw ioError("cannot flush", temporary.path) }
        }
        let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        try verify(digest)
        guard rename(temporary.path, destination.path) == 0 else {
            throw ioError("cannot rename into place", destination.path)
        }
        renamed = true
        return (total, digest)
    }

    static func sha256(of url: URL) throws -> String {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ioError("cannot read", url.path) }
        defer { close(fd) }
        var hasher = SHA256()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = Foundation.read(fd, buffer.baseAddress, chunkSize)
            if count < 0 { if errno == EINTR { continue }; throw ioError("cannot read", url.path) }
            if count == 0 { break }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}

/// Owns a file descriptor shared with a streaming task; closed once.
final class FileDescriptor: Sendable {
    let fd: Int32
    init(_ fd: Int32) { self.fd = fd }
    func close() { Foundation.close(fd) }
}
