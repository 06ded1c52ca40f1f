public import Foundation
import Synchronization

/// A destination directory that files are written below without ever
/// following a symbolic link inside it.
///
/// The directory's own path is resolved once (it may itself be, or lie
/// under, a link: `realpath`); below it, every component of a relative path
/// is opened with `O_NOFOLLOW`, missing folders are created with `mkdirat`,
/// and the final name is written through a locked `.bucketflow-tmp-*` file
/// renamed into place with `renameat`. So a key `a/b/c` is never written
/// through `a -> /etc`: a link met on the way is refused with
/// ``StorageError/Code/unsafePath``.
///
/// Typical use by a download of many keys into one folder:
///
/// ```swift
/// let destination = try BeneathDirectory(path: folder.path, create: true)
/// for key in keys {
///     try BeneathDirectory.validateRelativeKeyPath(relative)   // per object: UnsafeKey
///     // Either: let an existing writer fill a checked path ...
///     let url = try destination.prepare(relativePath: relative)
///     _ = try await storage.download(bucket: b, key: key, to: url)
///     // ... or write the bytes yourself, race-free:
///     let temporary = try destination.temporaryFile(for: relative)
///     // write to temporary.fd ...
///     try destination.commit(temporary)
/// }
/// ```
///
/// ``prepare(relativePath:)`` checks and creates the folders at call time;
/// a link swapped in by another process between that and the writer's own
/// `open` is not seen. ``temporaryFile(for:)`` and ``commit(_:)`` work on
/// descriptors from the walk and leave no such window.
public struct BeneathDirectory: Sendable {
    /// The directory, as `realpath` gives it.
    public let path: String
    private let handle: Descriptor

    /// Opens `path` (following links in `path` itself), creating it and its
    /// parents first when `create` is set.
    public init(path: String, create: Bool = false) throws(StorageError) {
        let trimmed = LocalStorage.trimmingTrailingSlashes(path)
        if create { try LocalStorage.makePath(trimmed) }
        guard let resolved = realpath(trimmed, nil) else {
            throw LocalStorage.ioError("cannot open the folder", trimmed)
        }
        defer { free(resolved) }
        self.path = String(cString: resolved)
        guard let handle = Beneath.openTrusted(self.path) else {
            throw LocalStorage.ioError("cannot open the folder", self.path)
        }
        self.handle = handle
    }

    /// Refuses a relative path that could leave the folder or name nothing:
    /// empty, absolute, with an empty (`//`), `.` or `..` segment, or with a NUL.
    /// A trailing `/` is allowed (it names a folder).
    public static func validateRelativeKeyPath(_ relativePath: String) throws(StorageError) {
        func refuse(_ reason: String) -> StorageError {
            StorageError(
                .unsafePath, "unsafe path \"\(relativePath.replacingOccurrences(of: "\0", with: "\\0"))\": \(reason)",
                hint: "keys written to local files must be relative paths of plain names")
        }
        var bytes = Array(relativePath.utf8)
        if bytes.isEmpty { throw refuse("it is empty") }
        if bytes.contains(0) { throw refuse("it contains a NUL character") }
        if bytes[0] == UInt8(ascii: "/") { throw refuse("it starts with '/'") }
        if bytes.last == UInt8(ascii: "/") { bytes.removeLast() }
        for segment in bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            if segment.isEmpty { throw refuse("it has an empty segment ('//')") }
            if segment.elementsEqual([0x2e]) || segment.elementsEqual([0x2e, 0x2e]) {
                throw refuse("it has a '\(String(decoding: segment, as: UTF8.self))' segment")
            }
        }
    }

    /// The descriptor of the folder that will hold `relativePath`, after
    /// creating the missing folders on the way without following links.
    private func parent(of relativePath: String) throws(StorageError) -> (Descriptor, String) {
        try Self.validateRelativeKeyPath(relativePath)
        let segments = Beneath.segments(relativePath)
        let folders = segments.dropLast()
        do {
            let chain = try Beneath.walk(from: handle, folders, create: true)
            return (chain[chain.count - 1], segments[segments.count - 1])
        } catch {
            throw describe(error, folders: Array(folders), relativePath: relativePath)
        }
    }

    private func describe(_ stop: Beneath.Stop, folders: [String], relativePath: String) -> StorageError {
        func shown(_ index: Int) -> String { path + "/" + folders[...index].joined(separator: "/") }
        switch stop {
        case .symlink(let index):
            return Beneath.symlinkRefused(shown(index), root: path, what: "download destination")
        case .notDirectory(let index):
            return StorageError(.io, "cannot write \(path)/\(relativePath): \(shown(index)) is not a folder", hint: "move that file away or pick another destination")
        case .missing(let index):
            return LocalStorage.ioError("cannot create the folder", shown(index), ENOENT)
        case .failed(let index, let code):
            return LocalStorage.ioError("cannot create the folder", shown(index), code)
        }
    }

    /// Checks the final name is not a link or folder.
    private func checkTarget(_ parent: Descriptor, _ name: String, relativePath: String) throws(StorageError) {
        switch Beneath.kind(parent.fd, name).0 {
        case .symlink:
            throw Beneath.symlinkRefused(path + "/" + relativePath, root: path, what: "download destination")
        case .directory:
            throw StorageError(.io, "cannot write \(path)/\(relativePath): it is a folder", hint: "name the file to write, or remove the folder")
        case .other:
            throw StorageError(.io, "cannot write \(path)/\(relativePath): it exists and is not a regular file", hint: "move it away first")
        case .missing, .regular:
            return
        }
    }

    /// Creates the folders of `relativePath` below this directory without
    /// following links, checks the final name is not a link, folder or
    /// device, and returns the file URL to write. Sweeps the folder's
    /// abandoned temporary files once per process.
    public func prepare(relativePath: String) throws(StorageError) -> URL {
        let (parent, name) = try parent(of: relativePath)
        try checkTarget(parent, name, relativePath: relativePath)
        let folder = LocalStorage.parentPath(path + "/" + relativePath)
        TemporaryFiles.sweepOnce(parent, path: folder)
        return URL(fileURLWithPath: path + "/" + Beneath.segments(relativePath).joined(separator: "/"))
    }

    /// A locked temporary file in the folder of `relativePath` (created as
    /// needed without following links); write to ``Temporary/fd`` and pass
    /// it to ``commit(_:)``, or drop it (``Temporary/discard()``).
    public func temporaryFile(for relativePath: String) throws(StorageError) -> Temporary {
        let (parent, name) = try parent(of: relativePath)
        try checkTarget(parent, name, relativePath: relativePath)
        TemporaryFiles.sweepOnce(parent, path: LocalStorage.parentPath(path + "/" + relativePath))
        switch TemporaryFiles.create(in: parent.fd, mode: 0o666) {
        case .success(let created):
            return Temporary(directory: parent, name: created.name, finalName: name, fd: created.fd, shownPath: path + "/" + relativePath)
        case .failure(let error):
            throw LocalStorage.ioError("cannot create a temporary file for", path + "/" + relativePath, error.code)
        }
    }

    /// Flushes the temporary file (under ``Durability/Policy/powerLoss``)
    /// and renames it over its final name
    /// (`renameat` in the folder the walk opened: no link is followed).
    public func commit(_ temporary: Temporary) throws(StorageError) {
        try temporary.commit()
    }

    /// A temporary file being written below a ``BeneathDirectory``.
    public final class Temporary: Sendable {
        /// Open read-write and locked until committed or discarded.
        public let fd: Int32
        /// The temporary file's name in its folder.
        public let name: String
        /// The path the file will have once committed.
        public let finalPath: String
        let directory: Descriptor
        let finalName: String
        private let state = Mutex<Bool>(true)

        init(directory: Descriptor, name: String, finalName: String, fd: Int32, shownPath: String) {
            self.directory = directory
            self.name = name
            self.finalName = finalName
            self.fd = fd
            self.finalPath = shownPath
        }

        func commit() throws(StorageError) {
            try state.withLock { (isOpen: inout Bool) throws(StorageError) in
                guard isOpen else { throw StorageError(.io, "\(finalPath): the temporary file was already committed or discarded") }
                isOpen = false
                defer { close(fd) }
                guard Durability.flush(fd) else {
                    let error = LocalStorage.ioError("cannot flush", finalPath)
                    unlinkat(directory.fd, name, 0)
                    throw error
                }
                if Beneath.kind(directory.fd, finalName).0 == .symlink {
                    unlinkat(directory.fd, name, 0)
                    throw Beneath.symlinkRefused(finalPath, root: LocalStorage.parentPath(finalPath), what: "download destination")
                }
                guard renameat(directory.fd, name, directory.fd, finalName) == 0 else {
                    let error = LocalStorage.ioError("cannot rename into place", finalPath)
                    unlinkat(directory.fd, name, 0)
                    throw error
                }
            }
        }

        /// Removes the temporary file (no-op once committed).
        public func discard() {
            state.withLock { isOpen in
                guard isOpen else { return }
                isOpen = false
                unlinkat(directory.fd, name, 0)
                close(fd)
            }
        }

        deinit { discard() }
    }
}
