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
/// Writes go to a locked `.bucketflow-tmp-*` file (``TemporaryFiles``) in the
/// destination directory and are renamed into place once complete and
/// flushed, so readers never see half an object; leftovers of a killed
/// writer are swept the next time a process writes into that directory.
///
/// Nothing below the root is reached through a symbolic link (the root
/// itself may be one): every path is walked one component at a time with
/// `O_NOFOLLOW` from a descriptor of the root (``Beneath``), a link met on
/// the way is refused with `.unsafePath`, and listings skip links. See
/// docs/local-storage.md. Content type, user metadata and a SHA-256 (stamped with the
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

    static let temporaryPrefix = TemporaryFiles.prefix
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
    /// Whether written files are fsynced before their rename: nil follows
    /// the process-wide ``Durability/policy``.
    public var durability: Durability.Policy?
    /// Whether bytes may be copied by the kernel (`copy_file_range`); tests
    /// turn it off to exercise the `read`/`write` fallback.
    var kernelCopy = true

    public init(root: URL) {
        self.root = root.standardizedFileURL
        rootPath = Self.trimmingTrailingSlashes(self.root.path)
    }

    public var displayName: String { "local:\(rootPath)" }

    // MARK: Buckets

    /// The bucket directories of the root; links and other entries are skipped.
    public func listBuckets() async throws -> [BucketInfo] {
        TransferMetrics.current?.recordRequest()
        let rootPath = rootPath
        return try await BlockingIO.run { _ in
            guard let root = try self.openRoot() else { return [] }
            guard let entries = Beneath.entries(of: root.fd) else { throw Self.ioError("cannot list buckets in", rootPath) }
            var buckets: [BucketInfo] = []
            for entry in entries {
                let name = String(decoding: entry.name, as: UTF8.self)
                // Only directories a bucket name can address; never a link.
                guard (try? Self.validateBucket(name)) != nil else { continue }
                let (kind, st) = Beneath.kind(root.fd, name)
                guard kind == .directory else { continue }
                let attributes = try? FileManager.default.attributesOfItem(atPath: rootPath + "/" + name)
                buckets.append(BucketInfo(name: name, createdAt: attributes?[.creationDate] as? Date ?? Self.date(st)))
            }
            return buckets.sorted { $0.name < $1.name }
        }
    }

    /// Whether `ROOT/bucket` is a directory.
    ///
    /// - Throws: `.unsafePath` when it is a symbolic link.
    public func bucketExists(_ bucket: String) async throws -> Bool {
        TransferMetrics.current?.recordRequest()
        try Self.validateBucket(bucket)
        guard let root = try openRoot() else { return false }
        switch Beneath.openDirectory(root.fd, bucket) {
        case .directory: return true
        case .missing, .notDirectory: return false
        case .symlink: throw Beneath.symlinkRefused(bucketPath(bucket), root: rootPath)
        case .failed(let code): throw Self.ioError("cannot open bucket", bucketPath(bucket), code)
        }
    }

    /// Creates `ROOT/bucket`, and the root itself when it is missing.
    public func createBucket(_ bucket: String) async throws {
        TransferMetrics.current?.recordRequest()
        try Self.validateBucket(bucket)
        let path = bucketPath(bucket)
        try Self.makePath(rootPath)
        guard let root = try openRoot() else { throw Self.ioError("cannot open the storage root", rootPath, ENOENT) }
        guard mkdirat(root.fd, bucket, 0o777) == 0 else {
            if errno == EEXIST {
                switch Beneath.kind(root.fd, bucket).0 {
                case .directory:
                    throw StorageError(.bucketAlreadyExists, "bucket \"\(bucket)\" already exists in \(rootPath)")
                case .symlink:
                    throw Beneath.symlinkRefused(path, root: rootPath)
                default:
                    throw StorageError(.io, "cannot create bucket \"\(bucket)\": \(path) exists and is not a directory", hint: "move that file out of the storage root")
                }
            }
            throw Self.ioError("cannot create bucket directory", path)
        }
    }

    /// Deletes an empty bucket; leftover temporary files of interrupted
    /// writes do not count as content and are removed with it (a temporary
    /// file a live writer still holds does count: a write is in progress).
    public func deleteBucket(_ bucket: String) async throws {
        TransferMetrics.current?.recordRequest()
        let opened = try existingBucket(bucket)
        let notEmpty = StorageError(.bucketNotEmpty, "bucket \"\(bucket)\" is not empty", hint: "use force: true to empty it first")
        try await BlockingIO.run { _ in
            guard let entries = Beneath.entries(of: opened.handle.fd) else { throw Self.ioError("cannot list", opened.path) }
            for entry in entries {
                let name = String(decoding: entry.name, as: UTF8.self)
                guard TemporaryFiles.isTemporaryName(entry.name), TemporaryFiles.removeIfAbandoned(in: opened.handle.fd, name, anyUnlocked: true) else { throw notEmpty }
            }
            guard unlinkat(opened.root.fd, bucket, AT_REMOVEDIR) == 0 else {
                if errno == ENOTEMPTY || errno == EEXIST { throw notEmpty }
                if errno == ENOTDIR { throw Beneath.symlinkRefused(opened.path, root: self.rootPath) }
                throw Self.ioError("cannot delete bucket directory", opened.path)
            }
        }
    }

    // MARK: Objects

    /// Metadata of an object; computes and caches the SHA-256 of a file up
    /// to ``checksumOnHeadLimit`` bytes when no valid cached value exists.
    public func head(bucket: String, key: String) async throws -> ObjectInfo {
        TransferMetrics.current?.recordRequest()
        let opened = try existingBucket(bucket)
        try Self.validateKey(key)
        return try await BlockingIO.run { flag in
            guard let located = try self.locate(key, in: opened) else { throw Self.noSuchKey(bucket, key) }
            guard case .file = located.found else {
                return Self.objectInfo(key: key, fd: nil, status: located.found.status, isFolder: true)
            }
            guard case let (file, st)? = try self.openFile(located) else { throw Self.noSuchKey(bucket, key) }
            var info = Self.objectInfo(key: key, fd: file.fd, status: st, isFolder: false)
            if info.checksums["sha256"] == nil, Int64(st.st_size) <= Self.checksumOnHeadLimit,
               let digest = try? Self.sha256(fd: file.fd, path: located.path, cancellation: flag) {
                var now = stat()
                // Cache only if the file did not change while it was hashed.
                if fstat(file.fd, &now) == 0, now.st_size == st.st_size, Self.mtimeNanoseconds(now) == Self.mtimeNanoseconds(st) {
                    Attributes.set(fd: file.fd, Attributes.sha256, Self.checksumStamp(digest, st))
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
        let opened = try existingBucket(bucket)
        try Self.validateKey(key)
        guard let located = try locate(key, in: opened) else { throw Self.noSuchKey(bucket, key) }
        if case .folder = located.found { return ObjectByteStream { $0.finish() } }
        let fd = openat(located.parent.fd, located.name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw Self.noSuchKey(bucket, key) }
            if errno == ELOOP { throw Beneath.symlinkRefused(located.path, root: rootPath) }
            throw Self.ioError("cannot read", located.path)
        }
        let reader = ChunkReader(fd: fd, path: located.path, range: range, chunkSize: Self.readChunkSize)
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
    /// are hashed and must match it or the download fails with
    /// `.checksumMismatch`. Otherwise the kernel copies them unhashed.
    ///
    /// `destination` is outside the storage root and followed as given;
    /// callers writing below a folder they do not control check it with
    /// ``BeneathDirectory`` first.
    public func download(bucket: String, key: String, to destination: URL) async throws -> TransferResult {
        TransferMetrics.current?.recordRequest()
        let opened = try existingBucket(bucket)
        try Self.validateKey(key)
        let target = Self.trimmingTrailingSlashes(destination.standardizedFileURL.path)
        return try await BlockingIO.run { flag in
            guard let located = try self.locate(key, in: opened) else { throw Self.noSuchKey(bucket, key) }
            var plan = WritePlan(destination: target)
            plan.objectName = "\(bucket)/\(key)"
            plan.missingSource = Self.noSuchKey(bucket, key)
            let source: Descriptor
            switch located.found {
            case .folder:
                guard let null = Self.openDevNull() else { throw Self.ioError("cannot open", "/dev/null") }
                source = null
            case .file:
                guard case let (file, st)? = try self.openFile(located) else { throw Self.noSuchKey(bucket, key) }
                source = file
                plan.expectedSHA256 = Self.cachedSHA256(fd: file.fd, st)
            }
            if Self.isDirectory(target) {
                let name = key.split(separator: "/").last.map(String.init) ?? "object"
                throw StorageError(.io, "cannot download \(bucket)/\(key) to \(target): it is a folder", hint: "name the file to write, e.g. \(target)/\(name)")
            }
            let parent = Self.parentPath(target)
            let name = String(decoding: target.utf8.split(separator: Self.slash).last ?? [], as: UTF8.self)
            plan.openDirectory = { () throws(StorageError) -> (Descriptor, String) in
                try Self.makePath(parent)
                guard let directory = Beneath.openTrusted(parent) else { throw Self.ioError("cannot open the folder", parent) }
                // Leftovers of a killed earlier run into the same folder go first (once per folder per process).
                TemporaryFiles.sweepOnce(directory, path: parent)
                return (directory, name)
            }
            let (bytes, digest) = try self.streamCopy(from: source, sourcePath: located.path, plan: plan, cancellation: flag)
            return Self.result(key, bytes, digest)
        }
    }

    /// Stores `source` as `key`, copying it through a temporary file in
    /// the key's folder. A key ending in `/` stores a folder marker (an empty
    /// directory), which needs an empty source.
    ///
    /// The kernel copies the bytes and nothing is hashed, unless the caller
    /// records a checksum with the object (`metadata["sha256"]`, as
    /// `skip-unchanged` does): then the bytes are hashed as they are copied
    /// and the SHA-256 is cached in the stamp, so later unchanged-checks need
    /// not read the object again. A content type equal to the one guessed
    /// from the key is not stored (reads guess it again).
    public func upload(from source: URL, bucket: String, key: String, options: PutOptions) async throws -> TransferResult {
        TransferMetrics.current?.recordRequest()
        let opened = try existingBucket(bucket)
        try Self.validateKey(key)
        var attributes: [(String, String)] = []
        if let type = options.contentType, type != ContentTypes.guess(key) { attributes.append((Attributes.contentType, type)) }
        let hash = options.metadata["sha256"] != nil
        for (name, value) in options.metadata.sorted(by: { $0.key < $1.key }) {
            attributes.append((Attributes.metadataPrefix + name.lowercased(), value))
        }
        let sourcePath = source.standardizedFileURL.path
        return try await BlockingIO.run { [attributes] flag in
            // The source is the caller's file, outside the root: links in its path are the caller's choice.
            let fd = open(sourcePath, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw Self.ioError("cannot read", sourcePath) }
            return try self.store(
                Descriptor(fd), sourcePath: sourcePath, bucket: opened, key: key, attributes: attributes, missingSource: nil, hash: hash, cancellation: flag)
        }
    }

    /// Copies within this root: a kernel copy (not a link, so the two
    /// objects stay independent) that keeps content type and metadata, and
    /// the source's cached SHA-256 when the source did not change meanwhile.
    public func copy(fromBucket: String, fromKey: String, toBucket: String, toKey: String) async throws -> TransferResult {
        TransferMetrics.current?.recordRequest()
        let sourceBucket = try existingBucket(fromBucket)
        try Self.validateKey(fromKey)
        let targetBucket = try existingBucket(toBucket)
        try Self.validateKey(toKey)
        return try await BlockingIO.run { flag in
            guard let located = try self.locate(fromKey, in: sourceBucket) else { throw Self.noSuchKey(fromBucket, fromKey) }
            var attributes: [(String, String)] = []
            var carried: (String, stat)?
            let source: Descriptor
            if case .folder = located.found {
                guard let null = Self.openDevNull() else { throw Self.ioError("cannot open", "/dev/null") }
                source = null
            } else {
                guard case let (file, st)? = try self.openFile(located) else { throw Self.noSuchKey(fromBucket, fromKey) }
                source = file
                attributes = Attributes.portable(fd: file.fd)
                carried = Self.cachedSHA256(fd: file.fd, st).map { ($0, st) }
                // The type the source reports is the type the copy keeps, as in S3.
                if !attributes.contains(where: { $0.0 == Attributes.contentType }), ContentTypes.guess(fromKey) != ContentTypes.guess(toKey) {
                    attributes.append((Attributes.contentType, ContentTypes.guess(fromKey)))
                }
            }
            return try self.store(
                source, sourcePath: located.path, bucket: targetBucket, key: toKey, attributes: attributes,
                missingSource: Self.noSuchKey(fromBucket, fromKey), carried: carried, cancellation: flag)
        }
    }

    /// Deletes files (and empty folder markers), then the folders left
    /// empty. A missing key is not an error; deleting the marker of a
    /// folder that still holds objects keeps the objects, as in S3. A key
    /// whose path meets a symbolic link is refused (`UnsafePath`), and
    /// nothing outside the root is touched.
    public func delete(bucket: String, keys: [String]) async throws -> [DeleteFailure] {
        TransferMetrics.current?.recordRequest()
        let opened = try existingBucket(bucket)
        return try await BlockingIO.run { flag in
            var failures: [DeleteFailure] = []
            // Longer keys first, so a folder's contents go before its marker.
            for key in keys.sorted(by: { $0.utf8.count > $1.utf8.count }) {
                try flag.check()
                do throws(StorageError) {
                    try Self.validateKey(key)
                    try self.deleteOne(key, in: opened)
                } catch {
                    failures.append(DeleteFailure(key: key, code: error.code.rawValue, message: error.description))
                }
            }
            return failures
        }
    }

    /// Deletes one key; a missing one is not an error.
    func deleteOne(_ key: String, in bucket: OpenBucket) throws(StorageError) {
        let segments = Self.segments(of: key)
        let chain: [Descriptor]
        do {
            chain = try Beneath.walk(from: bucket.handle, segments.dropLast(), create: false)
        } catch {
            switch error {
            case .missing, .notDirectory: return  // nothing stored under this key
            case .symlink(let index):
                throw Beneath.symlinkRefused(bucket.path + "/" + segments[...index].joined(separator: "/"), root: rootPath)
            case .failed(let index, let code):
                throw Self.ioError("cannot delete", bucket.path + "/" + segments[...index].joined(separator: "/"), code)
            }
        }
        let parent = chain[chain.count - 1]
        let name = segments[segments.count - 1]
        let path = bucket.path + "/" + segments.joined(separator: "/")
        switch Beneath.kind(parent.fd, name).0 {
        case .symlink:
            throw Beneath.symlinkRefused(path, root: rootPath)
        case .directory where Self.isFolderKey(key):
            if unlinkat(parent.fd, name, AT_REMOVEDIR) != 0 {
                switch errno {
                case ENOENT, ENOTDIR: return
                case ENOTEMPTY, EEXIST:
                    if case .directory(let folder) = Beneath.openDirectory(parent.fd, name) {
                        Attributes.remove(fd: folder.fd, Attributes.folder)
                    }
                    return
                default: throw Self.ioError("cannot delete", path)
                }
            }
        case .regular where !Self.isFolderKey(key):
            if unlinkat(parent.fd, name, 0) != 0 {
                if errno == ENOENT { return }
                throw Self.ioError("cannot delete", path)
            }
        default:
            return  // nothing stored under this key
        }
        Self.pruneEmptyParents(chain, names: Array(segments.dropLast()))
    }

    // MARK: Helpers

    /// Writes the open `source` as `key` (a file, or a folder marker for `dir/`).
    func store(
        _ source: Descriptor, sourcePath: String, bucket: OpenBucket, key: String, attributes: [(String, String)],
        missingSource: StorageError?, hash: Bool = false, carried: (String, stat)? = nil, cancellation: CancellationFlag
    ) throws -> TransferResult {
        let segments = Self.segments(of: key)
        let destination = bucket.path + "/" + segments.joined(separator: "/")
        if Self.isFolderKey(key) {
            var st = stat()
            guard fstat(source.fd, &st) == 0 else { throw Self.ioError("cannot read", sourcePath) }
            guard st.st_size == 0 || (st.st_mode & S_IFMT) == S_IFCHR else {
                throw StorageError(
                    .invalidKey, "cannot store \(st.st_size) bytes as \(bucket.name)/\(key): a key ending in '/' is a folder on the local provider, and a folder holds no bytes",
                    hint: "drop the trailing '/' to store a file")
            }
            let chain = try makeFolders(segments[...], in: bucket, key: key)
            Attributes.set(fd: chain[chain.count - 1].fd, Attributes.folder, "1")
            return TransferResult(key: key, bytes: 0, checksums: ["sha256": Self.emptySHA256], etag: Self.emptySHA256)
        }
        let name = segments[segments.count - 1]
        var plan = WritePlan(destination: destination)
        plan.attributes = attributes
        plan.cacheChecksum = true
        plan.hash = hash
        plan.carried = carried.map { (digest: $0.0, status: $0.1) }
        plan.missingSource = missingSource
        // Walked again if a concurrent delete prunes the folder before the temporary file exists.
        plan.openDirectory = { () throws(StorageError) -> (Descriptor, String) in
            let chain = try self.makeFolders(segments.dropLast(), in: bucket, key: key)
            let parent = chain[chain.count - 1]
            switch Beneath.kind(parent.fd, name).0 {
            case .directory:
                throw StorageError(
                    .invalidKey, "cannot store \(bucket.name)/\(key): the folder \(key)/ exists, and on the local provider a name is either an object or a folder",
                    hint: "delete the folder's objects first or pick another key")
            case .symlink:
                throw Beneath.symlinkRefused(destination, root: self.rootPath)
            default:
                break
            }
            TemporaryFiles.sweepOnce(parent, path: Self.parentPath(destination))
            return (parent, name)
        }
        let (bytes, digest) = try streamCopy(from: source, sourcePath: sourcePath, plan: plan, cancellation: cancellation)
        return Self.result(key, bytes, digest)
    }

    /// A transfer's result, with its SHA-256 when one is known.
    static func result(_ key: String, _ bytes: Int64, _ digest: String?) -> TransferResult {
        TransferResult(key: key, bytes: bytes, checksums: digest.map { ["sha256": $0] } ?? [:], etag: digest)
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
