public import Foundation
import Synchronization

/// The temporary files of bucketflow's writes: recognizable by name,
/// locked by their writer, and swept when their writer is gone.
///
/// A write streams into `.bucketflow-tmp-<pid>-<random>` beside its final
/// name and renames it into place once complete. The file is created with
/// `O_CREAT | O_EXCL | O_NOFOLLOW` and its writer holds `flock(LOCK_EX)` on
/// the open descriptor for as long as it writes. A process that dies (even
/// by SIGKILL) drops that lock with its descriptors, so a later
/// ``sweep(directory:recursive:olderThan:)`` can tell a dead writer's
/// leftover (the lock can be taken) from a write in progress (it cannot).
public enum TemporaryFiles {
    /// The name prefix of every temporary file.
    public static let prefix = ".bucketflow-tmp-"

    /// How long a file whose lock state cannot be known (a file system
    /// without `flock`) must have been left unmodified before a sweep removes it.
    public static let defaultAge: Duration = .seconds(24 * 3600)

    /// An empty temporary file younger than this is never swept: its writer
    /// may have created it and not yet taken the lock.
    static let creationGrace: Int64 = 60

    /// A file named without a process id (`.bucketflow-tmp-<random>`, by an
    /// older build or a writer that does not lock) is swept only once
    /// unmodified this long: a live writer keeps touching its file.
    public static let unlockedWriterAge: Duration = .seconds(600)

    /// Whether a temporary file's name has the `<pid>-<random>` form of
    /// ``makeName()``, whose writers always hold the lock.
    static func isLockingWriterName(_ name: some Sequence<UInt8>) -> Bool {
        let rest = Array(name.dropFirst(prefix.utf8.count))
        guard let dash = rest.firstIndex(of: UInt8(ascii: "-")), dash > 0 else { return false }
        return rest[..<dash].allSatisfy { (0x30...0x39).contains($0) } && dash + 1 < rest.count
    }

    /// Whether the process named in a `<pid>-<random>` name no longer
    /// exists here (`kill(pid, 0)` fails with ESRCH): its empty file needs no
    /// creation grace (a killed run's file created just before the kill).
    /// A writer in another pid namespace sharing the folder is still safe:
    /// the lock is checked next, and ``create(in:mode:)`` re-checks that its
    /// file was not unlinked between its `openat` and its `flock`.
    static func writerIsGone(_ name: some Sequence<UInt8>) -> Bool {
        guard isLockingWriterName(name) else { return false }
        let rest = Array(name.dropFirst(prefix.utf8.count))
        guard let dash = rest.firstIndex(of: UInt8(ascii: "-")),
              let pid = Int32(String(decoding: rest[..<dash], as: UTF8.self)), pid > 0 else { return false }
        return kill(pid, 0) != 0 && errno == ESRCH
    }

    /// Whether a file name (bytes) is a temporary file's.
    public static func isTemporaryName(_ name: some Sequence<UInt8>) -> Bool {
        name.starts(with: prefix.utf8)
    }

    /// A fresh name: the prefix, the process id and 64 random bits.
    public static func makeName() -> String {
        prefix + "\(getpid())-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
    }

    /// An open, locked temporary file.
    public struct Created: Sendable {
        /// The open descriptor (read-write); the caller closes it, which
        /// releases the lock.
        public var fd: Int32
        /// The file's name in its directory.
        public var name: String
    }

    /// Creates and locks a temporary file in the directory open as `directory`.
    ///
    /// - Throws: The `errno` of the failed `openat` (ENOENT when the
    ///   directory was removed meanwhile).
    static func create(in directory: Int32, mode: mode_t = 0o666) -> Result<Created, CreateFailure> {
        for _ in 0..<8 {
            let name = makeName()
            let fd = openat(directory, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
            if fd < 0 {
                if errno == EEXIST { continue }
                return .failure(CreateFailure(errno))
            }
            // Blocks only while a sweeper holds the lock to remove a file it
            // judged abandoned, which cannot be this one unless it was
            // unlinked between the openat and here: then try another name.
            while flock(fd, LOCK_EX) != 0 && errno == EINTR {}
            var st = stat()
            if fstat(fd, &st) == 0 && st.st_nlink == 0 {
                close(fd)
                continue
            }
            return .success(Created(fd: fd, name: name))
        }
        return .failure(CreateFailure(EEXIST))
    }

    /// An `errno` value.
    struct CreateFailure: Error {
        var code: Int32
        init(_ code: Int32) { self.code = code }
    }

    /// Creates and locks a temporary file in `directory` (a path; links in
    /// it are followed, the new file itself is never a link).
    ///
    /// For writers outside the local provider (S3 downloads): write to
    /// `fd`, then `renameat`/`rename` the file into place and close `fd`.
    public static func create(inDirectory directory: String, mode: mode_t = 0o666) throws(StorageError) -> (fd: Int32, path: String) {
        guard let handle = Beneath.openTrusted(directory) else {
            throw LocalStorage.ioError("cannot open the folder", directory)
        }
        switch create(in: handle.fd, mode: mode) {
        case .success(let created):
            return (created.fd, (directory.hasSuffix("/") ? directory : directory + "/") + created.name)
        case .failure(let error):
            throw LocalStorage.ioError("cannot create a temporary file in", directory, error.code)
        }
    }

    // MARK: Sweeping

    /// Removes leftover temporary files of writers that are gone.
    ///
    /// A regular file named `.bucketflow-tmp-*` is removed when its lock can
    /// be taken (`flock(LOCK_EX | LOCK_NB)` succeeds: no live process is
    /// writing it). The lock is authoritative: a file locked by a live
    /// process is never removed, whatever its age. Only where the file
    /// system does not support `flock` does age decide: such a file is
    /// removed once unmodified for `olderThan`. An empty file younger than a
    /// minute is left alone (its writer may be about to lock it). A file
    /// whose name carries no process id (written by a writer that does not
    /// lock, e.g. an older build) is removed once unlocked and unmodified for
    /// ``unlockedWriterAge`` (or `olderThan`, if shorter).
    ///
    /// Symbolic links are never followed: a link named like a temporary file
    /// is left alone, and `recursive` does not descend into linked folders.
    ///
    /// A recursive sweep of a large tree belongs on a blocking thread
    /// (``BlockingIO``); pass its ``CancellationFlag`` as `cancellation` and
    /// the sweep stops (throwing `CancellationError`) at the next directory.
    ///
    /// - Returns: The paths removed.
    @discardableResult
    public static func sweep(directory: URL, recursive: Bool = false, olderThan: Duration = defaultAge, cancellation: CancellationFlag? = nil) throws -> [URL] {
        let path = LocalStorage.trimmingTrailingSlashes(directory.standardizedFileURL.path)
        guard let handle = Beneath.openTrusted(path) else {
            if errno == ENOENT { return [] }
            throw LocalStorage.ioError("cannot open the folder", path)
        }
        return try sweep(handle, path: path, recursive: recursive, olderThan: olderThan, depth: 0, cancellation: cancellation).map { URL(fileURLWithPath: $0) }
    }

    static func sweep(_ directory: Descriptor, path: String, recursive: Bool, olderThan: Duration = defaultAge, depth: Int = 0, cancellation: CancellationFlag? = nil) throws -> [String] {
        try cancellation?.check()
        guard let entries = Beneath.entries(of: directory.fd) else { return [] }
        var removed: [String] = []
        for entry in entries {
            let name = String(decoding: entry.name, as: UTF8.self)
            if isTemporaryName(entry.name) {
                if removeIfAbandoned(in: directory.fd, name, olderThan: olderThan) { removed.append(path + "/" + name) }
            } else if recursive, depth < 256, Int32(entry.type) == Int32(DT_DIR) || Int32(entry.type) == Int32(DT_UNKNOWN),
                      case .directory(let child) = Beneath.openDirectory(directory.fd, name) {
                removed += try sweep(child, path: path + "/" + name, recursive: true, olderThan: olderThan, depth: depth + 1, cancellation: cancellation)
            }
        }
        return removed
    }

    /// Whether a temporary file is abandoned; removes it if so.
    ///
    /// - Parameter anyUnlocked: Remove an unlocked file whatever its name
    ///   (deleting a bucket: the old behaviour for every leftover).
    static func removeIfAbandoned(in directory: Int32, _ name: String, olderThan: Duration = defaultAge, anyUnlocked: Bool = false) -> Bool {
        guard isTemporaryName(name.utf8) else { return false }
        let (kind, st) = Beneath.kind(directory, name)
        guard kind == .regular else { return false }
        let fd = openat(directory, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var opened = stat()
        guard fstat(fd, &opened) == 0, opened.st_ino == st.st_ino, opened.st_dev == st.st_dev,
              (opened.st_mode & S_IFMT) == S_IFREG else { return false }
        let age = Int64(time(nil)) - Int64(opened.st_mtim.tv_sec)
        if opened.st_size == 0 && age < creationGrace && !writerIsGone(name.utf8) { return false }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EWOULDBLOCK || code == EINTR { return false }  // a live writer holds it
            // flock unsupported here: fall back to age.
            guard age >= olderThan.components.seconds else { return false }
        } else if !anyUnlocked && !isLockingWriterName(name.utf8) {
            // Its writer never locks: only age tells a dead one.
            guard age >= min(olderThan, unlockedWriterAge).components.seconds else { return false }
        }
        // Holding the lock: a writer that opened this name just now sees it unlinked and picks another.
        return unlinkat(directory, name, 0) == 0
    }

    /// Directories (path, device, inode) this process has swept already.
    private static let swept = Mutex<Set<String>>([])

    /// Sweeps an open directory once per process (later calls are free).
    static func sweepOnce(_ directory: Descriptor, path: String) {
        var st = stat()
        guard fstat(directory.fd, &st) == 0 else { return }
        let id = "\(st.st_dev):\(st.st_ino):\(path)"
        let first = swept.withLock { $0.insert(id).inserted }
        if first { _ = try? sweep(directory, path: path, recursive: false) }
    }
}
