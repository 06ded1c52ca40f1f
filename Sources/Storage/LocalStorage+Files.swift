import Foundation
import Crypto
import Synchronization
internal import CXattr

/// Names, paths and the streaming copy behind every write of the local provider.
extension LocalStorage {
    // MARK: Names

    /// Bucket names as S3 allows them, so a workflow that runs locally also
    /// runs against S3.
    static func validateBucket(_ bucket: String) throws(StorageError) {
        let bytes = Array(bucket.utf8)
        func isAlphanumeric(_ byte: UInt8) -> Bool { (0x61...0x7a).contains(byte) || (0x30...0x39).contains(byte) }
        let reason: String?
        if bytes.count < 3 || bytes.count > 63 {
            reason = "it has \(bytes.count) characters"
        } else if !bytes.allSatisfy({ isAlphanumeric($0) || $0 == 0x2d || $0 == 0x2e }) {
            reason = "only lowercase letters, digits, '-' and '.' are allowed"
        } else if !isAlphanumeric(bytes[0]) || !isAlphanumeric(bytes[bytes.count - 1]) {
            reason = "it must start and end with a letter or digit"
        } else if bucket.contains("..") {
            reason = "it contains '..'"
        } else {
            reason = nil
        }
        if let reason {
            throw StorageError(
                .invalidBucketName, "invalid bucket name \"\(bucket)\": \(reason)",
                hint: "use 3 to 63 lowercase letters, digits, '-' and '.', starting and ending with a letter or digit")
        }
    }

    /// Keys that map to a path inside the bucket directory and nowhere else.
    static func validateKey(_ key: String) throws(StorageError) {
        func invalid(_ reason: String, hint: String? = nil) -> StorageError {
            StorageError(.invalidKey, "invalid key \"\(key.replacingOccurrences(of: "\0", with: "\\0"))\": \(reason)", hint: hint)
        }
        // Bytes, not Characters: a combining mark after '/' must not hide a segment.
        let bytes = Array(key.utf8)
        if bytes.isEmpty { throw invalid("it is empty", hint: "name an object, e.g. folder/file.csv") }
        if bytes[0] == slash { throw invalid("it starts with '/'", hint: "write keys relative to the bucket, e.g. folder/file.csv") }
        if bytes.contains(0) { throw invalid("it contains a NUL character") }
        if bytes.count > 1024 { throw invalid("it is longer than 1024 bytes") }
        var segments = bytes.split(separator: slash, omittingEmptySubsequences: false)
        if isFolderKey(key) { segments.removeLast() }  // a folder marker
        let temporary = Array(temporaryPrefix.utf8)
        for segment in segments {
            if segment.isEmpty {
                throw invalid("it has an empty segment ('//')", hint: "the local provider stores each segment as a folder name")
            }
            if segment.elementsEqual([0x2e]) || segment.elementsEqual([0x2e, 0x2e]) {
                throw invalid("it has a '\(String(decoding: segment, as: UTF8.self))' segment", hint: "the local provider stores each segment as a folder name, and '.' and '..' are not names")
            }
            if segment.starts(with: temporary) {
                throw invalid("'\(temporaryPrefix)' is reserved for the local provider's temporary files")
            }
            if segment.count > 255 {
                throw invalid("a segment is longer than 255 bytes", hint: "the local provider stores each segment as a file name")
            }
        }
    }

    static let slash = UInt8(ascii: "/")

    /// The directory part of an absolute path, split at the last '/' byte
    /// (Foundation's path functions split at Characters, and "/\u{301}" is one).
    static func parentPath(_ path: String) -> String {
        var bytes = Array(path.utf8)
        while bytes.count > 1 && bytes.last == slash { bytes.removeLast() }
        guard let index = bytes.lastIndex(of: slash) else { return "." }
        return index == 0 ? "/" : String(decoding: bytes[..<index], as: UTF8.self)
    }

    /// Whether `key` is a folder marker (`dir/`), judged on its last byte.
    static func isFolderKey(_ key: String) -> Bool { key.utf8.last == slash }

    // MARK: Paths

    func bucketPath(_ bucket: String) -> String {
        rootPath == "/" ? "/" + bucket : rootPath + "/" + bucket
    }

    /// A key's path segments; a folder marker `dir/` is the directory `dir`.
    static func segments(of key: String) -> [String] {
        var bytes = Substring(key).utf8[...]
        if isFolderKey(key) { bytes = bytes.dropLast() }
        return bytes.split(separator: slash, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    }

    /// A bucket directory opened without following a link.
    struct OpenBucket: Sendable {
        var name: String
        /// For messages: `ROOT/bucket`.
        var path: String
        var handle: Descriptor
        var root: Descriptor
    }

    /// The root directory (links in the root's own path are followed), or
    /// nil when it does not exist.
    func openRoot() throws(StorageError) -> Descriptor? {
        if let root = Beneath.openTrusted(rootPath) { return root }
        if errno == ENOENT { return nil }
        throw Self.ioError("cannot open the storage root", rootPath)
    }

    /// The bucket's directory, after checking the name and that it exists
    /// as a directory (not a link) in the root.
    func existingBucket(_ bucket: String) throws(StorageError) -> OpenBucket {
        try Self.validateBucket(bucket)
        let path = bucketPath(bucket)
        let missing = StorageError(.noSuchBucket, "bucket \"\(bucket)\" does not exist in \(rootPath)", hint: "create it first with a create-bucket step")
        guard let root = try openRoot() else { throw missing }
        switch Beneath.openDirectory(root.fd, bucket) {
        case .directory(let handle): return OpenBucket(name: bucket, path: path, handle: handle, root: root)
        case .missing, .notDirectory: throw missing
        case .symlink: throw Beneath.symlinkRefused(path, root: rootPath)
        case .failed(let code): throw Self.ioError("cannot open bucket", path, code)
        }
    }

    /// What is stored under a key: a regular file, or (for `dir/`) an empty directory.
    enum Found {
        case file(stat)
        case folder(stat)

        var status: stat {
            switch self {
            case .file(let st), .folder(let st): st
            }
        }
    }

    /// Where a key's object is: its folder's descriptor and its name there.
    struct Located {
        /// The bucket's descriptor, then one per folder of the key.
        var chain: [Descriptor]
        var name: String
        var found: Found
        /// For messages.
        var path: String
        var parent: Descriptor { chain[chain.count - 1] }
    }

    /// The object at `key`, or nil when there is none. A non-empty directory
    /// is not itself an object, as in S3 where only a marker makes a folder.
    ///
    /// - Throws: `.unsafePath` when a folder of the key or the object itself
    ///   is a symbolic link.
    func locate(_ key: String, in bucket: OpenBucket) throws(StorageError) -> Located? {
        let segments = Self.segments(of: key)
        let chain: [Descriptor]
        do {
            chain = try Beneath.walk(from: bucket.handle, segments.dropLast(), create: false)
        } catch {
            switch error {
            case .missing, .notDirectory: return nil
            case .symlink(let index):
                throw Beneath.symlinkRefused(bucket.path + "/" + segments[...index].joined(separator: "/"), root: rootPath)
            case .failed(let index, let code):
                throw Self.ioError("cannot open the folder", bucket.path + "/" + segments[...index].joined(separator: "/"), code)
            }
        }
        let name = segments[segments.count - 1]
        let path = bucket.path + "/" + segments.joined(separator: "/")
        let (kind, st) = Beneath.kind(chain[chain.count - 1].fd, name)
        switch kind {
        case .symlink:
            throw Beneath.symlinkRefused(path, root: rootPath)
        case .regular where !Self.isFolderKey(key):
            return Located(chain: chain, name: name, found: .file(st), path: path)
        case .directory where Self.isFolderKey(key):
            guard case .directory(let folder) = Beneath.openDirectory(chain[chain.count - 1].fd, name), Beneath.isEmpty(folder.fd) else { return nil }
            return Located(chain: chain, name: name, found: .folder(st), path: path)
        default:
            return nil
        }
    }

    /// Opens a located file for reading (never through a link).
    func openFile(_ located: Located) throws(StorageError) -> (Descriptor, stat)? {
        let fd = openat(located.parent.fd, located.name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            if errno == ELOOP { throw Beneath.symlinkRefused(located.path, root: rootPath) }
            throw Self.ioError("cannot read", located.path)
        }
        let file = Descriptor(fd)
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw Self.ioError("cannot read", located.path) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        return (file, st)
    }

    static func openDevNull() -> Descriptor? {
        let fd = open("/dev/null", O_RDONLY | O_CLOEXEC)
        return fd >= 0 ? Descriptor(fd) : nil
    }

    /// Opens (creating as needed, with `mkdirat`) the folders `segments`
    /// below the bucket, never following a link.
    ///
    /// - Throws: `.invalidKey` when an object's file is where a folder must
    ///   go, `.unsafePath` when a link is.
    func makeFolders(_ segments: ArraySlice<String>, in bucket: OpenBucket, key: String) throws(StorageError) -> [Descriptor] {
        do {
            return try Beneath.walk(from: bucket.handle, segments, create: true)
        } catch {
            func shown(_ index: Int) -> String { bucket.path + "/" + segments.prefix(index + 1).joined(separator: "/") }
            switch error {
            case .notDirectory(let index):
                throw StorageError(
                    .invalidKey, "cannot store \"\(key)\": \(shown(index)) is an object, so it cannot also be a folder",
                    hint: "on the local provider a name is either an object or a folder; delete the object or pick another key")
            case .symlink(let index):
                throw Beneath.symlinkRefused(shown(index), root: rootPath)
            case .missing(let index):
                throw Self.ioError("cannot create the folder", shown(index), ENOENT)
            case .failed(let index, let code):
                throw Self.ioError("cannot create the folder", shown(index), code)
            }
        }
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// A directory entry's name as bytes.
    static func entryName(_ entry: UnsafeMutablePointer<dirent>) -> [UInt8] {
        withUnsafePointer(to: &entry.pointee.d_name) { pointer in
            pointer.withMemoryRebound(to: UInt8.self, capacity: 256) { bytes in
                Array(UnsafeBufferPointer(start: bytes, count: strlen(UnsafeRawPointer(bytes).assumingMemoryBound(to: CChar.self))))
            }
        }
    }

    /// Removes folders left empty by a delete, up to the bucket, so the
    /// tree shows what S3 would list. A folder created as a marker stays, as
    /// its marker object would in S3. `chain` holds the bucket's descriptor
    /// and one per name in `names`.
    static func pruneEmptyParents(_ chain: [Descriptor], names: [String]) {
        var index = names.count
        while index > 0 {
            if Attributes.get(fd: chain[index].fd, Attributes.folder) != nil { return }
            // Only an empty directory goes; a link swapped in meanwhile fails with ENOTDIR.
            guard unlinkat(chain[index - 1].fd, names[index - 1], AT_REMOVEDIR) == 0 else { return }
            index -= 1
        }
    }

    // MARK: Errors

    static func ioError(_ what: String, _ path: String, _ code: Int32 = errno) -> StorageError {
        StorageError(.io, "\(what) \(path): \(String(cString: strerror(code)))")
    }

    // MARK: Streaming copy

    /// How a streamed write ends: where it goes, what it carries, what it must match.
    struct WritePlan {
        /// The final path (for messages); the file is written in the folder
        /// ``openDirectory`` returns.
        var destination: String
        /// Extended attributes set on the temporary file before the rename.
        var attributes: [(String, String)] = []
        /// Whether to cache a known SHA-256 (stamped with size and mtime).
        var cacheChecksum = false
        /// Whether to compute the SHA-256 of the bytes while copying them
        /// (through user space); otherwise the kernel copies them
        /// (`copy_file_range`) and no byte is hashed.
        var hash = false
        /// The SHA-256 the bytes must have (a download of an object with a
        /// cached checksum); implies ``hash``.
        var expectedSHA256: String?
        /// The source's cached SHA-256 and the status it is valid for: the
        /// copy carries it (no hashing) when the source is unchanged after
        /// the copy.
        var carried: (digest: String, status: stat)?
        /// Names the object in a checksum mismatch error.
        var objectName = ""
        /// Thrown when the source is missing (it is an object that vanished).
        var missingSource: StorageError?
        /// Opens (creating as needed) the destination's folder and returns it
        /// with the final name there; called again if the folder vanished (a
        /// concurrent delete pruned it) before the temporary file was created.
        var openDirectory: () throws(StorageError) -> (Descriptor, String) = { () throws(StorageError) in
            throw StorageError(.io, "no destination")
        }
    }

    /// The destination's folder, the final name there, and a locked
    /// temporary file in the folder; the folder is opened again when a
    /// concurrent delete removed it before the file could be created.
    static func createTemporary(_ plan: WritePlan) throws(StorageError) -> (Descriptor, String, TemporaryFiles.Created) {
        var attempt = 0
        while true {
            attempt += 1
            let (directory, finalName) = try plan.openDirectory()
            switch TemporaryFiles.create(in: directory.fd) {
            case .success(let file):
                return (directory, finalName, file)
            case .failure(let error):
                if error.code == ENOENT && attempt < 4 { continue }
                throw ioError("cannot create a temporary file in", parentPath(plan.destination), error.code)
            }
        }
    }

    /// Copies `source` into a locked temporary file (``TemporaryFiles``)
    /// next to the destination, then (under ``Durability/Policy/powerLoss``)
    /// fsyncs it and renames it into place with `renameat`. Any error or
    /// cancellation removes the temporary file and leaves the destination
    /// untouched; a crash leaves it for
    /// ``TemporaryFiles/sweep(directory:recursive:olderThan:)``.
    ///
    /// The bytes are copied by the kernel (`copy_file_range`, falling back
    /// to `read`/`write` where it cannot) unless the plan needs their
    /// SHA-256 (``WritePlan/hash``, ``WritePlan/expectedSHA256``): then they
    /// stream through one chunk of memory and are hashed as they go.
    ///
    /// - Returns: The bytes written and, when known, their SHA-256
    ///   (lower-case hex): computed, or carried from the source's stamp.
    func streamCopy(from source: Descriptor, sourcePath: String, plan: WritePlan, cancellation: CancellationFlag) throws -> (Int64, String?) {
        let input = source.fd
        var sourceStatus = stat()
        if fstat(input, &sourceStatus) == 0, (sourceStatus.st_mode & S_IFMT) == S_IFDIR {
            throw Self.ioError("cannot read", sourcePath, EISDIR)
        }
        let (directory, finalName, created) = try Self.createTemporary(plan)
        let output = created.fd
        let temporary = created.name
        let shownTemporary = Self.parentPath(plan.destination) + "/" + temporary
        var outputOpen = true
        var renamed = false
        defer {
            if !renamed { unlinkat(directory.fd, temporary, 0) }
            if outputOpen { close(output) }
        }

        let total: Int64
        var digest: String?
        if plan.hash || plan.expectedSHA256 != nil {
            var hasher = SHA256()
            total = try Self.userSpaceCopy(input, output, sourcePath: sourcePath, shownTemporary: shownTemporary, cancellation: cancellation, progress: progressHook) { chunk in
                hasher.update(bufferPointer: chunk)
            }
            digest = Self.hex(hasher.finalize())
        } else {
            // Only a regular file goes to the kernel: from a pipe or device a
            // copy_file_range may wait for data where cancellation cannot reach it.
            let regular = (sourceStatus.st_mode & S_IFMT) == S_IFREG
            total = try Self.kernelCopy(input, output, sourcePath: sourcePath, shownTemporary: shownTemporary, allowed: kernelCopy && regular, cancellation: cancellation, progress: progressHook)
        }
        try cancellation.check()
        if let expected = plan.expectedSHA256, let digest, expected != digest {
            throw StorageError(
                .checksumMismatch, "\(plan.objectName): the bytes read have SHA-256 \(digest), but the object's stored SHA-256 is \(expected)",
                hint: "the object changed while it was read, or the disk is failing; retry the transfer")
        }
        if digest == nil, let carried = plan.carried {
            // The source's stamp holds for these bytes only if the source did not change meanwhile.
            var now = stat()
            if fstat(input, &now) == 0, now.st_size == carried.status.st_size, Int64(now.st_size) == total,
               Self.mtimeNanoseconds(now) == Self.mtimeNanoseconds(carried.status) {
                digest = carried.digest
            }
        }
        for (name, value) in plan.attributes { Attributes.set(fd: output, name, value) }
        if plan.cacheChecksum, let digest {
            var written = stat()
            if fstat(output, &written) == 0 { Attributes.set(fd: output, Attributes.sha256, Self.checksumStamp(digest, written)) }
        }
        guard Durability.flush(output, policy: durability) else { throw Self.ioError("cannot flush", shownTemporary) }
        if Beneath.kind(directory.fd, finalName).0 == .symlink {
            throw Beneath.symlinkRefused(plan.destination, root: Self.parentPath(plan.destination))
        }
        guard renameat(directory.fd, temporary, directory.fd, finalName) == 0 else {
            if errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST {
                throw StorageError(.io, "cannot write \(plan.destination): a folder of that name is in the way")
            }
            throw Self.ioError("cannot rename into place", plan.destination)
        }
        renamed = true
        // Closing releases the writer's lock, after the rename.
        outputOpen = false
        guard close(output) == 0 else { throw Self.ioError("cannot write", plan.destination) }
        return (total, digest)
    }

    /// Bytes per `copy_file_range` call: large enough that a 1 GiB file
    /// takes few calls, small enough to check cancellation and report
    /// progress often.
    static let kernelChunkSize = 8 << 20

    /// Copies `input` to `output` from their current offsets to the end of
    /// `input` with `copy_file_range` (no byte enters user space); where the
    /// kernel cannot (another file system on an old kernel, a device, a
    /// file system without support: EXDEV, ENOSYS, EINVAL, EOPNOTSUPP…) or
    /// `allowed` is false, the rest goes through ``userSpaceCopy``.
    ///
    /// - Returns: The bytes copied.
    static func kernelCopy(
        _ input: Int32, _ output: Int32, sourcePath: String, shownTemporary: String, allowed: Bool = true,
        cancellation: CancellationFlag, progress: (@Sendable (Int64) -> Void)?
    ) throws -> Int64 {
        var total: Int64 = 0
        if allowed {
            while true {
                try cancellation.check()
                let n = bucketflow_copy_file_range(input, output, kernelChunkSize)
                if n > 0 {
                    total += Int64(n)
                    progress?(total)
                    continue
                }
                if n == 0 { return total }
                switch errno {
                case EINTR: continue
                case EXDEV, ENOSYS, EINVAL, EOPNOTSUPP, ENOTSUP, EBADF, EPERM, ETXTBSY, EOVERFLOW: break
                case EIO, ENOSPC, EDQUOT, EFBIG: throw ioError("cannot write", shownTemporary)
                default: break  // anything else: let read/write say what is wrong
                }
                break
            }
        }
        return try userSpaceCopy(input, output, sourcePath: sourcePath, shownTemporary: shownTemporary, already: total, cancellation: cancellation, progress: progress) { _ in }
    }

    /// Copies `input` to `output` from their current offsets through one
    /// chunk of memory, handing each chunk to `each` (a hasher) first.
    ///
    /// - Returns: `already` plus the bytes copied.
    static func userSpaceCopy(
        _ input: Int32, _ output: Int32, sourcePath: String, shownTemporary: String, already: Int64 = 0,
        cancellation: CancellationFlag, progress: (@Sendable (Int64) -> Void)?, _ each: (UnsafeRawBufferPointer) -> Void
    ) throws -> Int64 {
        var total = already
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            try cancellation.check()
            let count = Foundation.read(input, buffer.baseAddress, chunkSize)
            if count < 0 {
                if errno == EINTR { continue }
                throw ioError("cannot read", sourcePath)
            }
            if count == 0 { return total }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            each(chunk)
            var written = 0
            while written < count {
                let n = Foundation.write(output, chunk.baseAddress! + written, count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ioError("cannot write", shownTemporary)
                }
                written += n
            }
            total += Int64(count)
            progress?(total)
        }
    }

    // MARK: Checksums

    static let emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// The cached-checksum attribute value: `HEX SIZE MTIME-NS`. A cached
    /// value is only trusted while the file's size and mtime still match.
    static func checksumStamp(_ digest: String, _ st: stat) -> String {
        "\(digest) \(st.st_size) \(mtimeNanoseconds(st))"
    }

    static func mtimeNanoseconds(_ st: stat) -> Int64 {
        Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
    }

    /// The cached SHA-256 of an open file if its stamp matches the file as it is now.
    static func cachedSHA256(fd: Int32, _ st: stat) -> String? {
        guard let value = Attributes.get(fd: fd, Attributes.sha256) else { return nil }
        return validStamp(value, st)
    }

    /// The cached SHA-256 of `path` (not followed if a link) if its stamp matches.
    static func cachedSHA256(_ path: String, _ st: stat) -> String? {
        guard let value = Attributes.get(path, Attributes.sha256) else { return nil }
        return validStamp(value, st)
    }

    static func validStamp(_ value: String, _ st: stat) -> String? {
        let parts = value.split(separator: " ")
        guard parts.count == 3, parts[1] == "\(st.st_size)", parts[2] == "\(mtimeNanoseconds(st))",
              parts[0].utf8.count == 64, parts[0].allSatisfy(\.isHexDigit) else { return nil }
        return String(parts[0])
    }

    /// The SHA-256 of a file (opened without following a final link).
    static func sha256(of path: String, cancellation: CancellationFlag? = nil, progress: ((Int64) -> Void)? = nil) throws -> String {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw ioError("cannot read", path) }
        defer { close(fd) }
        return try sha256(fd: fd, path: path, cancellation: cancellation, progress: progress)
    }

    /// The SHA-256 of an open file from its current offset, checking
    /// `cancellation` before every chunk and reporting the bytes hashed so
    /// far to `progress` after each one.
    static func sha256(fd: Int32, path: String, cancellation: CancellationFlag? = nil, progress: ((Int64) -> Void)? = nil) throws -> String {
        var hasher = SHA256()
        var total: Int64 = 0
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            try cancellation?.check()
            let count = Foundation.read(fd, buffer.baseAddress, chunkSize)
            if count < 0 { if errno == EINTR { continue }; throw ioError("cannot read", path) }
            if count == 0 { break }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            total += Int64(count)
            progress?(total)
        }
        return hex(hasher.finalize())
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xf)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func date(_ st: stat) -> Date {
        Date(timeIntervalSince1970: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9)
    }
}

/// An open object file read chunk by chunk on demand: the stream asks for
/// the next chunk only when its consumer wants one, so a slow consumer never
/// makes the file pile up in memory.
final class ChunkReader: Sendable {
    private struct State {
        var fd: Int32
        var offset: Int64
        let end: Int64
    }

    private let state: Mutex<State>
    private let path: String
    private let chunkSize: Int

    init(fd: Int32, path: String, range: Range<Int64>?, chunkSize: Int) {
        state = Mutex(State(fd: fd, offset: max(0, range?.lowerBound ?? 0), end: range?.upperBound ?? .max))
        self.path = path
        self.chunkSize = chunkSize
    }

    /// The next chunk, or nil at the end (the file is closed then).
    func next() throws(StorageError) -> [UInt8]? {
        try state.withLock { (state: inout State) throws(StorageError) -> [UInt8]? in
            while state.fd >= 0 && state.offset < state.end {
                let want = Int(min(Int64(chunkSize), state.end - state.offset))
                let fd = state.fd, offset = state.offset
                var failure: Int32 = 0
                let chunk = [UInt8](unsafeUninitializedCapacity: want) { buffer, count in
                    let n = pread(fd, buffer.baseAddress, want, off_t(offset))
                    if n < 0 { failure = errno }
                    count = max(0, n)
                }
                if failure == EINTR { continue }
                if failure != 0 {
                    Foundation.close(state.fd)
                    state.fd = -1
                    throw LocalStorage.ioError("cannot read", path, failure)
                }
                if chunk.isEmpty { break }
                state.offset += Int64(chunk.count)
                return chunk
            }
            if state.fd >= 0 {
                Foundation.close(state.fd)
                state.fd = -1
            }
            return nil
        }
    }

    /// Closes the file early (cancellation, error, or a consumer that stopped).
    func close() {
        state.withLock { state in
            if state.fd >= 0 { Foundation.close(state.fd); state.fd = -1 }
        }
    }

    deinit { close() }
}
