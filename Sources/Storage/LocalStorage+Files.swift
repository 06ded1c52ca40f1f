import Foundation
import Crypto
import Synchronization

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

    /// The path of `key` in `bucketPath`; a folder marker `dir/` is the directory `dir`.
    static func path(of key: String, in bucketPath: String) -> String {
        bucketPath + "/" + (isFolderKey(key) ? String(decoding: key.utf8.dropLast(), as: UTF8.self) : key)
    }

    /// The bucket's directory, after checking the name and that it exists.
    func existingBucket(_ bucket: String) throws(StorageError) -> String {
        try Self.validateBucket(bucket)
        let path = bucketPath(bucket)
        guard Self.isDirectory(path) else {
            throw StorageError(.noSuchBucket, "bucket \"\(bucket)\" does not exist in \(rootPath)", hint: "create it first with a create-bucket step")
        }
        return path
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

    /// The object at `key`, or nil when there is none. A non-empty directory
    /// is not itself an object, as in S3 where only a marker makes a folder.
    static func find(_ key: String, in bucketPath: String) -> Found? {
        let path = path(of: key, in: bucketPath)
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        if isFolderKey(key) {
            guard (st.st_mode & S_IFMT) == S_IFDIR, isEmptyDirectory(path) else { return nil }
            return .folder(st)
        }
        return (st.st_mode & S_IFMT) == S_IFREG ? .file(st) : nil
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Whether a directory has no entries at all (a temporary file of a
    /// write in progress counts: the folder is about to hold an object).
    static func isEmptyDirectory(_ path: String) -> Bool {
        guard let directory = opendir(path) else { return false }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = entryName(entry)
            if name != [0x2e] && name != [0x2e, 0x2e] { return false }
        }
        return true
    }

    /// A directory entry's name as bytes.
    static func entryName(_ entry: UnsafeMutablePointer<dirent>) -> [UInt8] {
        withUnsafePointer(to: &entry.pointee.d_name) { pointer in
            pointer.withMemoryRebound(to: UInt8.self, capacity: 256) { bytes in
                Array(UnsafeBufferPointer(start: bytes, count: strlen(UnsafeRawPointer(bytes).assumingMemoryBound(to: CChar.self))))
            }
        }
    }

    /// Creates the directories of `directory` below `base` (which exists).
    ///
    /// - Throws: `.invalidKey` when an object's file is where a folder must go.
    static func makeDirectories(_ directory: String, below base: String, key: String) throws(StorageError) {
        guard directory.utf8.count > base.utf8.count + 1, directory.utf8.starts(with: (base + "/").utf8) else { return }
        let relative = directory.utf8.dropFirst(base.utf8.count + 1).split(separator: slash)
        var path = base
        for segment in relative {
            path += "/" + String(decoding: segment, as: UTF8.self)
            if mkdir(path, 0o777) == 0 || errno == EEXIST && isDirectory(path) { continue }
            if errno == EEXIST || errno == ENOTDIR {
                throw StorageError(
                    .invalidKey, "cannot store \"\(key)\": \(path) is an object, so it cannot also be a folder",
                    hint: "on the local provider a name is either an object or a folder; delete the object or pick another key")
            }
            throw ioError("cannot create the folder", path)
        }
    }

    /// Removes directories left empty by a delete, up to the bucket, so the
    /// tree shows what S3 would list. A folder created as a marker stays, as
    /// its marker object would in S3.
    static func pruneEmptyParents(of path: String, in bucketPath: String) {
        var directory = Self.parentPath(path)
        let inside = Array((bucketPath + "/").utf8)
        while directory.utf8.count > inside.count, directory.utf8.starts(with: inside) {
            if Attributes.get(directory, Attributes.folder) != nil { return }
            guard rmdir(directory) == 0 else { return }
            directory = Self.parentPath(directory)
        }
    }

    // MARK: Errors

    static func ioError(_ what: String, _ path: String, _ code: Int32 = errno) -> StorageError {
        StorageError(.io, "\(what) \(path): \(String(cString: strerror(code)))")
    }

    // MARK: Streaming copy

    /// How a streamed write ends: where it goes, what it carries, what it must match.
    struct WritePlan {
        /// The final path; the temporary file is created next to it.
        var destination: String
        /// Extended attributes set on the temporary file before the rename.
        var attributes: [(String, String)] = []
        /// Whether to cache the SHA-256 (stamped with size and mtime).
        var cacheChecksum = false
        /// The SHA-256 the bytes must have (a download of an object with a
        /// cached checksum).
        var expectedSHA256: String?
        /// Names the object in a checksum mismatch error.
        var objectName = ""
        /// Thrown when the source is missing (it is an object that vanished).
        var missingSource: StorageError?
        /// Recreates the destination's folder if it vanished (a concurrent
        /// delete pruned it) before the temporary file was created.
        var recreateDirectory: (() throws(StorageError) -> Void)?
    }

    /// Streams `source` into a temporary file next to the destination,
    /// hashing as it goes, then fsyncs and renames it into place. Any error
    /// or cancellation removes the temporary file and leaves the destination
    /// untouched. Memory stays at one chunk whatever the file size.
    ///
    /// - Returns: The bytes written and their SHA-256 (lower-case hex).
    func streamCopy(from source: String, plan: WritePlan, cancellation: CancellationFlag) throws -> (Int64, String) {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else {
            if errno == ENOENT, let missing = plan.missingSource { throw missing }
            throw Self.ioError("cannot read", source)
        }
        defer { close(input) }
        var sourceStatus = stat()
        if fstat(input, &sourceStatus) == 0, (sourceStatus.st_mode & S_IFMT) == S_IFDIR {
            throw Self.ioError("cannot read", source, EISDIR)
        }
        let directory = Self.parentPath(plan.destination)
        let temporary = directory + "/" + Self.temporaryPrefix + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        var output = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        for _ in 0..<3 where output < 0 && errno == ENOENT {
            guard let recreate = plan.recreateDirectory else { break }
            try recreate()
            output = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        }
        guard output >= 0 else { throw Self.ioError("cannot create a temporary file in", directory) }
        var outputOpen = true
        var renamed = false
        defer {
            if outputOpen { close(output) }
            if !renamed { unlink(temporary) }
        }

        var hasher = SHA256()
        var total: Int64 = 0
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            try cancellation.check()
            let count = Foundation.read(input, buffer.baseAddress, Self.chunkSize)
            if count < 0 {
                if errno == EINTR { continue }
                throw Self.ioError("cannot read", source)
            }
            if count == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            hasher.update(bufferPointer: chunk)
            var written = 0
            while written < count {
                let n = Foundation.write(output, chunk.baseAddress! + written, count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw Self.ioError("cannot write", temporary)
                }
                written += n
            }
            total += Int64(count)
            progressHook?(total)
        }
        try cancellation.check()
        let digest = Self.hex(hasher.finalize())
        if let expected = plan.expectedSHA256, expected != digest {
            throw StorageError(
                .checksumMismatch, "\(plan.objectName): the bytes read have SHA-256 \(digest), but the object's stored SHA-256 is \(expected)",
                hint: "the object changed while it was read, or the disk is failing; retry the transfer")
        }
        for (name, value) in plan.attributes { Attributes.set(fd: output, name, value) }
        if plan.cacheChecksum {
            var written = stat()
            if fstat(output, &written) == 0 { Attributes.set(fd: output, Attributes.sha256, Self.checksumStamp(digest, written)) }
        }
        guard fsync(output) == 0 else { throw Self.ioError("cannot flush", temporary) }
        outputOpen = false
        guard close(output) == 0 else { throw Self.ioError("cannot write", temporary) }
        guard rename(temporary, plan.destination) == 0 else {
            if errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST {
                throw StorageError(.io, "cannot write \(plan.destination): a folder of that name is in the way")
            }
            throw Self.ioError("cannot rename into place", plan.destination)
        }
        renamed = true
        return (total, digest)
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

    /// The cached SHA-256 of `path` if its stamp matches the file as it is now.
    static func cachedSHA256(_ path: String, _ st: stat) -> String? {
        guard let value = Attributes.get(path, Attributes.sha256) else { return nil }
        let parts = value.split(separator: " ")
        guard parts.count == 3, parts[1] == "\(st.st_size)", parts[2] == "\(mtimeNanoseconds(st))",
              parts[0].utf8.count == 64, parts[0].allSatisfy(\.isHexDigit) else { return nil }
        return String(parts[0])
    }

    static func sha256(of path: String, cancellation: CancellationFlag? = nil) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ioError("cannot read", path) }
        defer { close(fd) }
        var hasher = SHA256()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            try cancellation?.check()
            let count = Foundation.read(fd, buffer.baseAddress, chunkSize)
            if count < 0 { if errno == EINTR { continue }; throw ioError("cannot read", path) }
            if count == 0 { break }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
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
