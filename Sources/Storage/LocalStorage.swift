public import Foundation

/// The `local` provider: a directory whose sub-directories are buckets and
/// whose files are objects (`ROOT/bucket/a/b.csv` is key `a/b.csv`).
///
/// It behaves like S3 so a workflow tried on disk runs unchanged against a
/// real service: bucket and key names follow S3's rules, listings come in
/// UTF-8 byte order with the same pagination and delimiter roll-up, a key
/// ending in `/` is a folder marker (an empty directory here), and folders
/// left empty by deletes disappear as they would in S3's flat namespace.
///
/// Writes go to a `.bucketflow-tmp-*` file in the destination directory and
/// are renamed into place once complete and flushed, so readers never see half
/// an object. Content type, user metadata and a SHA-256 (stamped with the
/// file's size and mtime, so a stale value is never trusted) live in
/// `user.bucketflow.*` extended attributes where the file system has them.
///
/// All file-system work runs through ``BlockingIO`` and streams in chunks, so
/// memory stays flat whatever the object size.
public struct LocalStorage: ObjectStorage {
    /// The directory holding the buckets.
    public let root: URL
    /// `root` as an absolute path without a trailing slash.
    let rootPath: String

    static let temporaryPrefix = ".bucketflow-tmp-"
    /// Chunk size of writes (upload, download, copy).
    static let chunkSize = 1 << 20
    /// Chunk size of ``read(bucket:key:range:)`` streams.
    static let readChunkSize = 256 << 10
    /// `head` computes and caches a missing SHA-256 for files up to this size,
    /// so unchanged-checks work for files put there by hand; larger ones are
    /// left to the transfer that reads them anyway.
    static let checksumOnHeadLimit: Int64 = 16 << 20

    /// Called with the bytes written so far after each chunk of a streamed
    /// write; tests use it to hold a transfer in mid-flight.
    var progressHook: (@Sendable (Int64) -> Void)?

    public init(root: URL) {
        self.root = root.standardizedFileURL
        rootPath = Self.trimmingTrailingSlashes(self.root.path)
    }

    public var displayName: String { "local:\(rootPath)" }

    // MARK: Buckets

    public func listBuckets() async throws -> [BucketInfo] {
        TransferMetrics.current?.recordRequest()
        let rootPath = rootPath
        return try await BlockingIO.run { _ in
            guard let directory = opendir(rootPath) else {
                if errno == ENOENT { return [] }
                throw Self.ioError("cannot list buckets in", rootPath)
            }
            defer { closedir(directory) }
            var buckets: [BucketInfo] = []
            while let entry = readdir(directory) {
                let name = String(decoding: Self.entryName(entry), as: UTF8.self)
                // Only directories a bucket name can address.
                guard (try? Self.validateBucket(name)) != nil else { continue }
                let path = rootPath + "/" + name
                var st = stat()
                guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else { continue }
                let attributes = try? FileManager.default.attributesOfItem(atPath: path)
                buckets.append(BucketInfo(name: name, createdAt: attributes?[.creationDate] as? Date ?? Self.date(st)))
            }
            return buckets.sorted { $0.name < $1.name }
        }
    }

    public func bucketExists(_ bucket: String) async throws -> Bool {
        TransferMetrics.current?.recordRequest()
        try Self.validateBucket(bucket)
        return Self.isDirectory(bucketPath(bucket))
    }

    /// Creates `ROOT/bucket`, and the root itself when it is missing.
    public func createBucket(_ bucket: String) async throws {
        TransferMetrics.current?.recordRequest()
        try Self.validateBucket(bucket)
        let path = bucketPath(bucket)
        try Self.makePath(rootPath)
        guard mkdir(path, 0o777) == 0 else {
            if errno == EEXIST {
                if Self.isDirectory(path) {
                    throw StorageError(.bucketAlreadyExists, "bucket \"\(bucket)\" already exists in \(rootPath)")
                }
                throw StorageError(.io, "cannot create bucket \"\(bucket)\": \(path) exists and is not a directory", hint: "move that file out of the storage root")
            }
            throw Self.ioError("cannot create bucket directory", path)
        }
    }

    /// Deletes an empty bucket; leftover temporary files of interrupted
    /// writes do not count as content and are removed with it.
    public func deleteBucket(_ bucket: String) async throws {
        TransferMetrics.current?.recordRequest()
        let path = try existingBucket(bucket)
        let notEmpty = StorageError(.bucketNotEmpty, "bucket \"\(bucket)\" is not empty", hint: "use force: true to empty it first")
        try await BlockingIO.run { _ in
            guard let directory = opendir(path) else { throw Self.ioError("cannot list", path) }
            var temporaries: [String] = []
            var hasObjects = false
            while let entry = readdir(directory) {
                let name = Self.entryName(entry)
                if name == [0x2e] || name == [0x2e, 0x2e] { continue }
                if name.starts(with: Self.temporaryPrefix.utf8) {
                    temporaries.append(String(decoding: name, as: UTF8.self))
                } else {
                    hasObjects = true
                }
            }
            closedir(directory)
            if hasObjects { throw notEmpty }
            for name in temporaries { unlink(path + "/" + name) }
            guard rmdir(path) == 0 else {
                if errno == ENOTEMPTY || errno == EEXIST { throw notEmpty }
                throw Self.ioError("cannot delete bucket directory", path)
            }
        }
    }

    // MARK: Objects

    /// Metadata of an object; computes and caches the SHA-256 of a file up
    /// to ``checksumOnHeadLimit`` bytes when no valid cached value exists.
    public func head(bucket: String, key: String) async throws -> ObjectInfo {
        TransferMetrics.current?.recordRequest()
        let bucketPath = try existingBucket(bucket)
        try Self.validateKey(key)
        return try await BlockingIO.run { flag in
            let path = Self.path(of: key, in: bucketPath)
            guard let found = Self.find(key, in: bucketPath),
                  var info = Self.objectInfo(key: key, path: path, status: found.status, isFolder: { if case .folder = found { true } else { false } }())
            else { throw Self.noSuchKey(bucket, key) }
            if case .file(let st) = found, info.checksums["sha256"] == nil, Int64(st.st_size) <= Self.checksumOnHeadLimit,
               let digest = try? Self.sha256(of: path, cancellation: flag) {
                var now = stat()
                // Cache only if the file did not change while it was hashed.
                if stat(path, &now) == 0, now.st_size == st.st_size, Self.mtimeNanoseconds(now) == Self.mtimeNanoseconds(st) {
                    Attributes.set(path, Attributes.sha256, Self.checksumStamp(digest, st))
                    info.checksums["sha256"] = digest
                    info.etag = digest
                }
            }
            return info
        }
    }

    /// Streams the object in chunks of ``readChunkSize`` bytes, reading the
    /// file only as the consumer asks for more. The file is closed at the
    /// end, on an error, on cancellation, or when the stream is dropped.
    public func read(bucket: String, key: String, range: Range<Int64>?) async throws -> ObjectByteStream {
        TransferMetrics.current?.recordRequest()
        let bucketPath = try existingBucket(bucket)
        try Self.validateKey(key)
        guard let found = Self.find(key, in: bucketPath) else { throw Self.noSuchKey(bucket, key) }
        if case .folder = found { return ObjectByteStream { $0.finish() } }
        let path = Self.path(of: key, in: bucketPath)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw Self.noSuchKey(bucket, key) }
            throw Self.ioError("cannot read", path)
        }
        let reader = ChunkReader(fd: fd, path: path, range: range, chunkSize: Self.readChunkSize)
        return ObjectByteStream(unfolding: {
            do {
                try Task.checkCancellation()
                return try await BlockingIO.run { _ in try reader.next() }
            } catch {
                reader.close()
                throw error
            }
        })
    }

    /// Copies the object to `destination` (creating its folder) through a
    /// temporary file there; when the object has a cached SHA-256, the bytes
    /// must match it or the download fails with `.checksumMismatch`.
    public func download(bucket: String, key: String, to destination: URL) async throws -> TransferResult {
        TransferMetrics.current?.recordRequest()
        let bucketPath = try existingBucket(bucket)
        try Self.validateKey(key)
        let target = Self.trimmingTrailingSlashes(destination.standardizedFileURL.path)
        return try await BlockingIO.run { flag in
            guard let found = Self.find(key, in: bucketPath) else { throw Self.noSuchKey(bucket, key) }
            var plan = WritePlan(destination: target)
            plan.objectName = "\(bucket)/\(key)"
            plan.missingSource = Self.noSuchKey(bucket, key)
            let source: String
            switch found {
            case .folder:
                source = "/dev/null"
            case .file(let st):
                source = Self.path(of: key, in: bucketPath)
                plan.expectedSHA256 = Self.cachedSHA256(source, st)
            }
            if Self.isDirectory(target) {
                let name = key.split(separator: "/").last.map(String.init) ?? "object"
                throw StorageError(.io, "cannot download \(bucket)/\(key) to \(target): it is a folder", hint: "name the file to write, e.g. \(target)/\(name)")
            }
            let parent = Self.parentPath(target)
            try Self.makePath(parent)
            plan.recreateDirectory = { () throws(StorageError) in try Self.makePath(parent) }
            let (bytes, digest) = try self.streamCopy(from: source, plan: plan, cancellation: flag)
            return TransferResult(key: key, bytes: bytes, checksums: ["sha256": digest], etag: digest)
        }
    }

    /// Stores `source` as `key`, streaming it through a temporary file in
    /// the key's folder. A key ending in `/` stores a folder marker (an empty
    /// directory), which needs an empty source.
    public func upload(from source: URL, bucket: String, key: String, options: PutOptions) async throws -> TransferResult {
        TransferMetrics.current?.recordRequest()
        let bucketPath = try existingBucket(bucket)
        try Self.validateKey(key)
        var attributes = [(Attributes.contentType, options.contentType ?? ContentTypes.guess(key))]
        for (name, value) in options.metadata.sorted(by: { $0.key < $1.key }) {
            attributes.append((Attributes.metadataPrefix + name.lowercased(), value))
        }
        let sourcePath = source.standardizedFileURL.path
        return try await BlockingIO.run { [attributes] flag in
            try self.store(sourcePath, bucket: bucket, bucketPath: bucketPath, key: key, attributes: attributes, missingSource: nil, cancellation: flag)
        }
    }

    /// Copies within this root: a streamed copy (not a link, so the two
    /// objects stay independent) that keeps content type and metadata.
    public func copy(fromBucket: String, fromKey: String, toBucket: String, toKey: String) async throws -> TransferResult {
        TransferMetrics.current?.recordRequest()
        let sourceBucket = try existingBucket(fromBucket)
        try Self.validateKey(fromKey)
        let targetBucket = try existingBucket(toBucket)
        try Self.validateKey(toKey)
        return try await BlockingIO.run { flag in
            guard let found = Self.find(fromKey, in: sourceBucket) else { throw Self.noSuchKey(fromBucket, fromKey) }
            var source = Self.path(of: fromKey, in: sourceBucket)
            var attributes: [(String, String)] = []
            if case .folder = found {
                source = "/dev/null"
            } else {
                attributes = Attributes.portable(source)
                // The type the source reports is the type the copy keeps, as in S3.
                if !attributes.contains(where: { $0.0 == Attributes.contentType }) {
                    attributes.append((Attributes.contentType, ContentTypes.guess(fromKey)))
                }
            }
            return try self.store(
                source, bucket: toBucket, bucketPath: targetBucket, key: toKey, attributes: attributes,
                missingSource: Self.noSuchKey(fromBucket, fromKey), cancellation: flag)
        }
    }

    /// Deletes files (and empty folder markers), then the folders left
    /// empty. A missing key is not an error; deleting the marker of a
    /// folder that still holds objects keeps the objects, as in S3.
    public func delete(bucket: String, keys: [String]) async throws -> [DeleteFailure] {
        TransferMetrics.current?.recordRequest()
        let bucketPath = try existingBucket(bucket)
        return try await BlockingIO.run { flag in
            var failures: [DeleteFailure] = []
            // Longer keys first, so a folder's contents go before its marker.
            for key in keys.sorted(by: { $0.utf8.count > $1.utf8.count }) {
                try flag.check()
                do throws(StorageError) {
                    try Self.validateKey(key)
                } catch {
                    failures.append(DeleteFailure(key: key, code: error.code.rawValue, message: error.description))
                    continue
                }
                let path = Self.path(of: key, in: bucketPath)
                let removed = Self.isFolderKey(key) ? rmdir(path) : unlink(path)
                if removed != 0 {
                    switch errno {
                    case ENOENT, ENOTDIR, EISDIR:
                        continue  // nothing stored under this key
                    case ENOTEMPTY where Self.isFolderKey(key), EEXIST where Self.isFolderKey(key):
                        Attributes.remove(path, Attributes.folder)
                        continue
                    default:
                        let error = Self.ioError("cannot delete", path)
                        failures.append(DeleteFailure(key: key, code: error.code.rawValue, message: error.message))
                        continue
                    }
                }
                Self.pruneEmptyParents(of: path, in: bucketPath)
            }
            return failures
        }
    }

    // MARK: Helpers

    /// Writes `source` as `key` (a file, or a folder marker for `dir/`).
    func store(
        _ source: String, bucket: String, bucketPath: String, key: String, attributes: [(String, String)],
        missingSource: StorageError?, cancellation: CancellationFlag
    ) throws -> TransferResult {
        let destination = Self.path(of: key, in: bucketPath)
        if Self.isFolderKey(key) {
            var st = stat()
            guard stat(source, &st) == 0 else {
                if errno == ENOENT, let missingSource { throw missingSource }
                throw Self.ioError("cannot read", source)
            }
            guard st.st_size == 0 || (st.st_mode & S_IFMT) == S_IFCHR else {
                throw StorageError(
                    .invalidKey, "cannot store \(st.st_size) bytes as \(bucket)/\(key): a key ending in '/' is a folder on the local provider, and a folder holds no bytes",
                    hint: "drop the trailing '/' to store a file")
            }
            try Self.makeDirectories(destination, below: bucketPath, key: key)
            Attributes.set(destination, Attributes.folder, "1")
            return TransferResult(key: key, bytes: 0, checksums: ["sha256": Self.emptySHA256], etag: Self.emptySHA256)
        }
        if Self.isDirectory(destination) {
            throw StorageError(
                .invalidKey, "cannot store \(bucket)/\(key): the folder \(key)/ exists, and on the local provider a name is either an object or a folder",
                hint: "delete the folder's objects first or pick another key")
        }
        let parent = Self.parentPath(destination)
        try Self.makeDirectories(parent, below: bucketPath, key: key)
        var plan = WritePlan(destination: destination)
        plan.attributes = attributes
        plan.cacheChecksum = true
        plan.missingSource = missingSource
        // A concurrent delete may prune the folder between its creation and the temporary file's.
        plan.recreateDirectory = { () throws(StorageError) in try Self.makeDirectories(parent, below: bucketPath, key: key) }
        let (bytes, digest) = try streamCopy(from: source, plan: plan, cancellation: cancellation)
        return TransferResult(key: key, bytes: bytes, checksums: ["sha256": digest], etag: digest)
    }

    static func trimmingTrailingSlashes(_ path: String) -> String {
        var bytes = Array(path.utf8)
        while bytes.count > 1 && bytes.last == slash { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func noSuchKey(_ bucket: String, _ key: String) -> StorageError {
        StorageError(.noSuchKey, "\(bucket)/\(key) does not exist")
    }

    /// `mkdir -p` for directories outside any bucket (the root, download folders).
    static func makePath(_ path: String) throws(StorageError) {
        if path.isEmpty || isDirectory(path) { return }
        let parent = Self.parentPath(path)
        if parent != path { try makePath(parent) }
        if mkdir(path, 0o777) != 0 && !(errno == EEXIST && isDirectory(path)) {
            throw ioError("cannot create the folder", path)
        }
    }
}
