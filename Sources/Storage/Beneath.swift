import Foundation

/// An open file descriptor, closed when the last reference goes away.
final class Descriptor: Sendable {
    let fd: Int32

    init(_ fd: Int32) { self.fd = fd }

    deinit { close(fd) }
}

/// Path resolution below a directory that never follows a symbolic link.
///
/// Every component is opened with `openat(parent, name, O_NOFOLLOW |
/// O_DIRECTORY)` from a descriptor of the directory above it, so a link
/// planted anywhere below the starting directory (even one swapped in while
/// the walk runs) is met as a link and refused, never traversed. Final
/// files are opened with `O_NOFOLLOW` and examined with
/// `fstatat(AT_SYMLINK_NOFOLLOW)`; renames and deletes use `renameat` and
/// `unlinkat` relative to the directory descriptor the walk produced.
///
/// `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)` would do the same walk
/// in one call, but Glibc has no wrapper for it and Swift cannot call the
/// variadic `syscall`; the per-component walk works on every kernel.
enum Beneath {
    /// What a directory entry is, without following it.
    enum Kind: Equatable {
        case missing
        case directory
        case regular
        case symlink
        case other
    }

    static func kind(_ directory: Int32, _ name: String) -> (Kind, stat) {
        var st = stat()
        guard fstatat(directory, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return (.missing, st) }
        switch st.st_mode & S_IFMT {
        case S_IFDIR: return (.directory, st)
        case S_IFREG: return (.regular, st)
        case S_IFLNK: return (.symlink, st)
        default: return (.other, st)
        }
    }

    /// The refusal for a link met at `shown` inside `root`.
    static func symlinkRefused(_ shown: String, root: String, what: String = "local storage root") -> StorageError {
        StorageError(
            .unsafePath,
            "\(shown) is a symbolic link, and symbolic links are not followed inside a \(what) (\(root))",
            hint: "replace the link with the real folder or file, or set the root to the linked location: the root itself may be a link")
    }

    /// How opening a directory below another ended.
    enum Opened {
        case directory(Descriptor)
        case missing
        case notDirectory
        case symlink
        case failed(Int32)
    }

    /// Opens `name` in `directory` as a directory without following a link.
    static func openDirectory(_ directory: Int32, _ name: String) -> Opened {
        let fd = openat(directory, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if fd >= 0 { return .directory(Descriptor(fd)) }
        let code = errno
        switch code {
        case ENOENT:
            return .missing
        case ELOOP, ENOTDIR:
            // Linux reports a link under O_NOFOLLOW as ELOOP (or ENOTDIR with O_DIRECTORY).
            switch kind(directory, name).0 {
            case .symlink: return .symlink
            case .missing: return .missing
            default: return .notDirectory
            }
        default:
            return .failed(code)
        }
    }

    /// The failure of a walk, naming the component where it stopped.
    enum Stop: Error {
        /// A component does not exist (and `create` was false).
        case missing(index: Int)
        /// A component exists and is not a directory (nor a link).
        case notDirectory(index: Int)
        /// A component is a symbolic link.
        case symlink(index: Int)
        case failed(index: Int, errno: Int32)
    }

    /// Opens each of `components` below `start` in turn, creating missing
    /// ones with `mkdirat` when `create` is set.
    ///
    /// - Returns: The descriptors of `start` and of every component, in order.
    static func walk(from start: Descriptor, _ components: some Sequence<String>, create: Bool) throws(Stop) -> [Descriptor] {
        var chain = [start]
        for (index, name) in components.enumerated() {
            var attempts = 0
            while true {
                attempts += 1
                switch openDirectory(chain[chain.count - 1].fd, name) {
                case .directory(let descriptor):
                    chain.append(descriptor)
                case .missing:
                    guard create else { throw .missing(index: index) }
                    if mkdirat(chain[chain.count - 1].fd, name, 0o777) != 0 && errno != EEXIST {
                        throw .failed(index: index, errno: errno)
                    }
                    if attempts < 5 { continue }
                    throw .missing(index: index)
                case .notDirectory:
                    throw .notDirectory(index: index)
                case .symlink:
                    throw .symlink(index: index)
                case .failed(let code):
                    throw .failed(index: index, errno: code)
                }
                break
            }
        }
        return chain
    }

    /// Opens a directory given by an absolute or relative path, following
    /// links in it (the path of a root is trusted; what lies below is not).
    static func openTrusted(_ path: String) -> Descriptor? {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        return fd >= 0 ? Descriptor(fd) : nil
    }

    /// Splits a relative path at '/' bytes into its non-empty segments.
    static func segments(_ path: some StringProtocol) -> [String] {
        path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The names in an open directory (without `.` and `..`), read from a
    /// duplicate of its descriptor so `directory` stays usable.
    static func entries(of directory: Int32) -> [(name: [UInt8], type: UInt8)]? {
        let copy = dup(directory)
        guard copy >= 0 else { return nil }
        guard let stream = fdopendir(copy) else {
            close(copy)
            return nil
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var names: [(name: [UInt8], type: UInt8)] = []
        while let entry = readdir(stream) {
            let name = LocalStorage.entryName(entry)
            if name == [0x2e] || name == [0x2e, 0x2e] { continue }
            names.append((name, entry.pointee.d_type))
        }
        return names
    }

    /// Whether an open directory has no entries.
    static func isEmpty(_ directory: Int32) -> Bool {
        entries(of: directory)?.isEmpty ?? false
    }
}
